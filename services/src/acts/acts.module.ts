import { Global, Module } from "@nestjs/common";
import { ActsController } from "./acts.controller";
import { ActsService } from "./acts.service";
import { IdempotencyKeys } from "./idempotency-keys";
import { IdempotencyInterceptor } from "./idempotency.interceptor";

/** Signed acts and idempotency, shared by the receivables and financing features. */
@Global()
@Module({
  controllers: [ActsController],
  providers: [ActsService, IdempotencyKeys, IdempotencyInterceptor],
  exports: [ActsService, IdempotencyKeys, IdempotencyInterceptor],
})
export class ActsModule {}
