/** The transactional outbox and the sender that works it off with the service's own keys. */
import { Module } from "@nestjs/common";
import { TypeOrmModule } from "@nestjs/typeorm";
import { OUTBOX_ENTITIES } from "./entities/outbox.entity";
import { TxSenderService } from "./tx-sender.service";

@Module({
  imports: [TypeOrmModule.forFeature(OUTBOX_ENTITIES)],
  providers: [TxSenderService],
  exports: [TxSenderService, TypeOrmModule],
})
export class OutboxModule {}
