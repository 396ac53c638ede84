/**
 * Entry point: validate configuration, build the app, listen. A bad configuration prints every
 * problem and exits with status 78 (EX_CONFIG) before anything starts.
 */
import "reflect-metadata";
import { existsSync } from "node:fs";
import { ConfigError, loadConfig } from "./config/env";
import { closeOnSignals, createApp, tuneHttpServer } from "./app.factory";

async function main(): Promise<void> {
  // A .env file in the working directory fills in variables the environment does not set.
  if (existsSync(".env")) process.loadEnvFile(".env");
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(78);
    }
    throw err;
  }
  const app = await createApp(config);
  closeOnSignals(app, config);
  await app.listen(config.PORT, config.HOST);
  tuneHttpServer(app, config);
  console.log(`SCF ledger service listening on http://${config.HOST}:${config.PORT} (OpenAPI at /docs)`);
}

main().catch((err: unknown) => {
  console.error(`Service failed to start: ${(err as Error).message ?? err}`);
  process.exit(1);
});
