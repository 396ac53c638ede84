import { Global, Module } from "@nestjs/common";
import { TypeOrmModule } from "@nestjs/typeorm";
import { KeyNonceEntity, OutboxEntity } from "./entities/outbox.entity";
import { TxSenderService } from "./tx-sender.service";

@Global()
@Module({
  imports: [TypeOrmModule.forFeature([OutboxEntity, KeyNonceEntity])],
  providers: [TxSenderService],
  exports: [TxSenderService],
})
export class OutboxModule {}
