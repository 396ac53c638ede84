import { Global, Module } from "@nestjs/common";
import { ActsController } from "./acts.controller";
import { ActsService } from "./acts.service";
import { IdempotencyInterceptor } from "./idempotency.interceptor";

/** Signed acts and idempotency, shared by the receivables and financing features. */
@Global()
@Module({
  controllers: [ActsController],
  providers: [ActsService, IdempotencyInterceptor],
  exports: [ActsService, IdempotencyInterceptor],
})
export class ActsModule {}
