/**
 * Builds the HTTP application the same way for `npm start` and for the tests: security headers,
 * validation, body size limit, RFC 9457 problem documents for every error, OpenAPI at /docs, the web
 * console at /, JSON logs, graceful shutdown.
 */
import type { Server } from "node:http";
import type { INestApplication } from "@nestjs/common";
import { NestApplication, NestFactory } from "@nestjs/core";
import type { NestExpressApplication } from "@nestjs/platform-express";
import { DocumentBuilder, SwaggerModule } from "@nestjs/swagger";
import helmet from "helmet";
import { Logger } from "nestjs-pino";
import { AppModule } from "./app.module";
import { useNativeKeccak } from "./common/native-keccak";
import { PROBLEM_MODELS, problemResponse, withProblemSchemas } from "./common/problem-details";
import { ProblemFilter } from "./common/problem.filter";
import { ProblemValidationPipe } from "./common/validation.pipe";
import type { AppConfig } from "./config/env";
import { serveConsole } from "./console/console.serving";

/**
 * Makes `app.close()` stop the HTTP server first: no new connections, idle keep-alive sockets
 * closed at once, requests in flight given `graceMs` to finish (then cut), and only then the
 * workers and the database (Nest's shutdown hooks). Without this, Nest stops the workers first and
 * a request waiting on them (`?wait=true`) kept the process alive indefinitely.
 */
function drainOnClose(app: INestApplication, graceMs: number): void {
  // `app` is Nest's proxy, whose set trap drops assignments: define the property on its target,
  // and call Nest's own close from the prototype (the proxy would find this wrapper again).
  const nestClose = (NestApplication.prototype as unknown as INestApplication).close;
  let closing: Promise<void> | null = null;
  const close = () =>
    (closing ??= (async () => {
      const server = app.getHttpServer() as Server;
      if (server.listening) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(() => {
            server.closeAllConnections();
            resolve();
          }, graceMs);
          server.close(() => {
            clearTimeout(timer);
            resolve();
          });
          server.closeIdleConnections();
        });
      }
      await nestClose.call(app);
    })());
  Object.defineProperty(app, "close", { value: close, configurable: true, writable: true });
}

/** Keep-alive and header timeouts for the listening server (see HTTP_KEEP_ALIVE_MS). */
export function tuneHttpServer(app: INestApplication, config: AppConfig): void {
  const server = app.getHttpServer() as Server;
  server.keepAliveTimeout = config.HTTP_KEEP_ALIVE_MS;
  server.headersTimeout = config.HTTP_KEEP_ALIVE_MS + 5_000;
}

/**
 * Signals stop the application through the draining close above; a shutdown that has not finished
 * after the grace period plus 20 s exits anyway, saying so (every accepted request is durable in
 * the outbox and resumes at the next start).
 */
export function closeOnSignals(app: INestApplication, config: AppConfig, after?: () => Promise<void>): void {
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    const hard = setTimeout(() => {
      console.error(`Shutdown after ${signal} did not finish within ${config.SHUTDOWN_GRACE_MS + 20_000} ms; exiting anyway.`);
      process.exit(1);
    }, config.SHUTDOWN_GRACE_MS + 20_000);
    hard.unref();
    app
      .close()
      .then(() => after?.())
      .then(
        () => process.exit(0),
        (err: unknown) => {
          console.error(`Error while stopping: ${(err as Error).message ?? err}`);
          process.exit(1);
        },
      );
  };
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
}

export async function createApp(config: AppConfig): Promise<INestApplication> {
  // ethers' keccak256 on the native binding (the same function, checked at registration).
  useNativeKeccak();
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config), {
    bufferLogs: true,
    bodyParser: false,
  });
  app.useLogger(app.get(Logger));
  app.use(helmet());
  app.useBodyParser("json", { limit: config.BODY_LIMIT });
  app.useBodyParser("urlencoded", { limit: config.BODY_LIMIT, extended: false });
  // A hop count, not `true`: only the proxies the operator put in front may speak for the client.
  app.set("trust proxy", config.TRUST_PROXY_HOPS);
  app.disable("x-powered-by");
  // No ETag on API responses: Express would hash every JSON body (SHA-1 of a 100-event page on each
  // read) for a validator clients of this API do not use; the body is computed in full either way,
  // so a 304 would save bytes on the wire, never work here. The console's static assets keep theirs.
  app.set("etag", false);
  app.useGlobalPipes(new ProblemValidationPipe());
  // The web console at `/` (console/dist); API routes and their problem documents are unchanged.
  app.useGlobalFilters(serveConsole(app).around(new ProblemFilter()));
  drainOnClose(app, config.SHUTDOWN_GRACE_MS);
  const doc = new DocumentBuilder()
    .setTitle("SCF Ledger API")
    .setDescription(
      "Supply-chain finance ledger: onboarding, compliance, participant-signed acts relayed to the chain, and audit. " +
        "Amounts are decimal strings in fen (the settlement token's smallest unit); dates are ISO 8601.",
    )
    .setVersion("0.1.0")
    .addBearerAuth()
    // Every route can be throttled or fail unexpectedly; the rest is declared per operation.
    .addGlobalResponse(problemResponse(429), problemResponse(500))
    .build();
  SwaggerModule.setup("docs", app, () => withProblemSchemas(SwaggerModule.createDocument(app, doc, { extraModels: PROBLEM_MODELS })));
  return app;
}
