import { Module } from "@nestjs/common";
import { DiscoveryModule } from "@nestjs/core";
import { TypeOrmModule } from "@nestjs/typeorm";
import { IndexerModule } from "../indexer/indexer.module";
import { OutboxModule } from "../outbox/outbox.module";
import { ActPipeline } from "./act-pipeline.service";
import { ActsController } from "./acts.controller";
import { ActsService } from "./acts.service";
import { ACTS_ENTITIES } from "./entities/act.entity";
import { IdempotencyKeys } from "./idempotency-keys";
import { IdempotencyInterceptor } from "./idempotency.interceptor";
import { ActAnswerInterceptor } from "./signed-act.decorator";

/** Signed acts (the pipeline every feature's acts run through) and idempotency, imported by the receivables, financing and settlement features. */
@Module({
  imports: [DiscoveryModule, TypeOrmModule.forFeature(ACTS_ENTITIES), OutboxModule, IndexerModule],
  controllers: [ActsController],
  providers: [ActsService, ActPipeline, IdempotencyKeys, IdempotencyInterceptor, ActAnswerInterceptor],
  exports: [ActsService, ActPipeline, IdempotencyKeys, IdempotencyInterceptor, ActAnswerInterceptor, TypeOrmModule],
})
export class ActsModule {}
