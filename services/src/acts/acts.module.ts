import { Global, Module } from "@nestjs/common";
import { DiscoveryModule } from "@nestjs/core";
import { ActPipeline } from "./act-pipeline.service";
import { ActsController } from "./acts.controller";
import { ActsService } from "./acts.service";
import { IdempotencyKeys } from "./idempotency-keys";
import { IdempotencyInterceptor } from "./idempotency.interceptor";
import { ActAnswerInterceptor } from "./signed-act.decorator";

/** Signed acts and idempotency, shared by the receivables and financing features. */
@Global()
@Module({
  imports: [DiscoveryModule],
  controllers: [ActsController],
  providers: [ActsService, ActPipeline, IdempotencyKeys, IdempotencyInterceptor, ActAnswerInterceptor],
  exports: [ActsService, ActPipeline, IdempotencyKeys, IdempotencyInterceptor, ActAnswerInterceptor],
})
export class ActsModule {}
