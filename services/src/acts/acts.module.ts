import { Module } from "@nestjs/common";
import { TypeOrmModule } from "@nestjs/typeorm";
import { IndexerModule } from "../indexer/indexer.module";
import { OutboxModule } from "../outbox/outbox.module";
import { ActsController } from "./acts.controller";
import { ActsService } from "./acts.service";
import { ACTS_ENTITIES } from "./entities/act.entity";
import { IdempotencyKeys } from "./idempotency-keys";
import { IdempotencyInterceptor } from "./idempotency.interceptor";

/** Signed acts and idempotency, imported by the receivables, financing and settlement features. */
@Module({
  imports: [TypeOrmModule.forFeature(ACTS_ENTITIES), OutboxModule, IndexerModule],
  controllers: [ActsController],
  providers: [ActsService, IdempotencyKeys, IdempotencyInterceptor],
  exports: [ActsService, IdempotencyKeys, IdempotencyInterceptor, TypeOrmModule],
})
export class ActsModule {}
