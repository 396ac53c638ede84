/**
 * Builds the HTTP application the same way for `npm start` and for the tests: validation,
 * body size limit, OpenAPI at /docs, JSON logs, graceful shutdown.
 */
import { ValidationPipe, type INestApplication } from "@nestjs/common";
import { NestFactory } from "@nestjs/core";
import type { NestExpressApplication } from "@nestjs/platform-express";
import { DocumentBuilder, SwaggerModule } from "@nestjs/swagger";
import { Logger } from "nestjs-pino";
import { AppModule } from "./app.module";
import type { AppConfig } from "./config/env";

export async function createApp(config: AppConfig): Promise<INestApplication> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config), {
    bufferLogs: true,
    bodyParser: false,
  });
  app.useLogger(app.get(Logger));
  app.useBodyParser("json", { limit: config.BODY_LIMIT });
  app.useBodyParser("urlencoded", { limit: config.BODY_LIMIT, extended: false });
  app.set("trust proxy", false);
  app.disable("x-powered-by");
  app.useGlobalPipes(
    new ValidationPipe({
      whitelist: true,
      forbidNonWhitelisted: true,
      transform: true,
      stopAtFirstError: false,
    }),
  );
  app.enableShutdownHooks();
  const doc = new DocumentBuilder()
    .setTitle("SCF Ledger API")
    .setDescription(
      "Supply-chain finance ledger: onboarding, compliance, participant-signed acts relayed to the chain, and audit. " +
        "Amounts are decimal strings in fen (the settlement token's smallest unit); dates are ISO 8601.",
    )
    .setVersion("0.1.0")
    .addBearerAuth()
    .build();
  SwaggerModule.setup("docs", app, () => SwaggerModule.createDocument(app, doc));
  return app;
}
