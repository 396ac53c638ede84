/**
 * The service's root module. Feature modules own their routes and register their own tables
 * (collected by `autoLoadEntities`); the global pieces are infrastructure only: the configuration,
 * the database (migrations at boot, DbWriter) and the chain connection. Authentication installs the
 * global guard and throttling the global rate limit.
 */
import { randomUUID } from "node:crypto";
import { Module, type DynamicModule, type Type } from "@nestjs/common";
import { APP_GUARD } from "@nestjs/core";
import { ScheduleModule } from "@nestjs/schedule";
import { ThrottlerGuard, ThrottlerModule } from "@nestjs/throttler";
import { TypeOrmModule } from "@nestjs/typeorm";
import { LoggerModule } from "nestjs-pino";
import { ChainModule } from "./chain/chain.module";
import { signInAddressThrottler, throttledMessage, throttlerStorage } from "./auth/auth.throttle";
import { AppConfigModule } from "./config/config.module";
import type { AppConfig } from "./config/env";
import { dataSourceOptions } from "./database/data-source";
import { DatabaseModule } from "./database/database.module";
import { HealthModule } from "./health/health.module";
import { IndexerModule } from "./indexer/indexer.module";
import { OutboxModule } from "./outbox/outbox.module";
import { FEATURE_MODULES } from "./features";
import { SettlementModule } from "./settlement/settlement.module";

@Module({})
export class AppModule {
  static forRoot(config: AppConfig): DynamicModule {
    const imports: Array<Type | DynamicModule> = [
      AppConfigModule.forRoot(config),
      LoggerModule.forRoot({
        pinoHttp: {
          level: config.LOG_LEVEL,
          genReqId: (req, res) => {
            const given = req.headers["x-request-id"];
            const id = typeof given === "string" && /^[\w-]{1,64}$/.test(given) ? given : randomUUID();
            res.setHeader("x-request-id", id);
            return id;
          },
          redact: ["req.headers.authorization", "req.headers.cookie"],
          autoLogging: config.NODE_ENV !== "test",
        },
      }),
      // The entities come from the modules' forFeature lists, not from database/entities.ts.
      TypeOrmModule.forRoot({ ...dataSourceOptions(config.database), entities: [], autoLoadEntities: true, migrationsRun: true }),
      DatabaseModule,
      ThrottlerModule.forRoot({
        throttlers: [{ name: "default", ttl: config.THROTTLE_TTL_MS, limit: config.THROTTLE_LIMIT }, signInAddressThrottler(config)],
        storage: throttlerStorage(config),
        errorMessage: throttledMessage,
      }),
      ScheduleModule.forRoot(),
      ChainModule,
      OutboxModule,
      IndexerModule,
      HealthModule,
      ...FEATURE_MODULES,
      SettlementModule.forRoot(config),
    ];
    return {
      module: AppModule,
      imports,
      providers: [{ provide: APP_GUARD, useClass: ThrottlerGuard }],
    };
  }
}
