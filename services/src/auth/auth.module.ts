/**
 * Authentication and access: Sign-In with Ethereum sessions (AuthService, AuthController) and the
 * global guard that authenticates every non-public route and enforces `@RequireRoles`. The guard
 * is registered here with APP_GUARD, so importing this module is what turns access control on.
 */
import { Inject, Module, type MiddlewareConsumer, type NestModule } from "@nestjs/common";
import { APP_GUARD } from "@nestjs/core";
import { TypeOrmModule } from "@nestjs/typeorm";
import { APP_CONFIG, type AppConfig } from "../config/env";
import { IndexerModule } from "../indexer/indexer.module";
import { ReadModelModule } from "../read-model/read-model.module";
import { AuthController } from "./auth.controller";
import { AuthGuard } from "./auth.guard";
import { CallerCache } from "./caller-cache";
import { AuthService } from "./auth.service";
import { authThrottleLimits, authThrottleMiddleware } from "./auth.throttle";
import { ComplianceRoleReader } from "./compliance-role.reader";
import { AUTH_ENTITIES } from "./entities/auth.entity";

@Module({
  imports: [TypeOrmModule.forFeature(AUTH_ENTITIES), ReadModelModule, IndexerModule],
  controllers: [AuthController],
  providers: [AuthService, ComplianceRoleReader, CallerCache, { provide: APP_GUARD, useClass: AuthGuard }],
  exports: [AuthService, ComplianceRoleReader],
})
export class AuthModule implements NestModule {
  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(authThrottleMiddleware(authThrottleLimits(this.config))).forRoutes(AuthController);
  }
}
