/**
 * Boots the real service for a test: its own database (a temporary SQLite file, or a fresh
 * PostgreSQL database when TEST_DATABASE=postgres), its own keystores, a fresh deployment on the
 * shared test chain, and the Nest application listening on a loopback port.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { INestApplication } from "@nestjs/common";
import { Wallet } from "ethers";
import { DataSource } from "typeorm";
import { createApp, tuneHttpServer } from "../../services/src/app.factory";
import { loadConfig, type AppConfig } from "../../services/src/config/env";
import { relayerKeystoreFile, writeKeystore } from "../../services/src/chain/keys";
import { deployTo, type DeployedLedger, type TestChain } from "./chain";
import { PROJECT_ROOT } from "../../platform/project-root";

export const TEST_PASSWORD = "test-keystore-password";
export const PG_ADMIN_URL = process.env.TEST_PG_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

export function usePostgres(): boolean {
  return process.env.TEST_DATABASE === "postgres";
}

export interface TestDatabase {
  url: string;
  drop(): Promise<void>;
}

/**
 * A brand-new empty database for one test: PostgreSQL when `postgres` (default: TEST_DATABASE=postgres),
 * named `<prefix>_<time>_<random>`, else a SQLite file in `dir`.
 */
export async function createTestDatabase(dir: string, opts: { postgres?: boolean; prefix?: string } = {}): Promise<TestDatabase> {
  if (!(opts.postgres ?? usePostgres())) {
    return { url: `sqlite:${join(dir, "ledger.sqlite")}`, drop: async () => undefined };
  }
  const name = `${opts.prefix ?? "scf_test"}_${Date.now()}_${Math.floor(Math.random() * 1e6)}`;
  const admin = new DataSource({ type: "postgres", url: PG_ADMIN_URL });
  await admin.initialize();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.destroy();
  const url = PG_ADMIN_URL.replace(/\/[^/]*$/, `/${name}`);
  return {
    url,
    async drop() {
      const a = new DataSource({ type: "postgres", url: PG_ADMIN_URL });
      await a.initialize();
      await a.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await a.destroy();
    },
  };
}

export interface ServiceKeys {
  operator: Wallet;
  compliance: Wallet;
  relayer: Wallet;
  /** The relayer pool (RELAYER_KEYS): `relayer` first. */
  relayers: Wallet[];
}

export interface TestEnv {
  dir: string;
  chain: TestChain;
  ledger: DeployedLedger;
  keys: ServiceKeys;
  db: TestDatabase;
  /** Environment variables that start the service against this setup. */
  env: Record<string, string>;
  config: AppConfig;
}

/** Keys, deployment, database and configuration for one service under test. */
export async function prepareEnv(
  chain: TestChain,
  overrides: Record<string, string> = {},
  database: { postgres?: boolean; prefix?: string } = {},
): Promise<TestEnv> {
  const dir = mkdtempSync(join(tmpdir(), "scf-svc-"));
  const relayer = await chain.fundedWallet();
  const relayers = [relayer];
  for (let i = 1; i < Number(overrides.RELAYER_KEYS ?? 1); i++) relayers.push(await chain.fundedWallet());
  const keys: ServiceKeys = {
    operator: await chain.fundedWallet(),
    compliance: await chain.fundedWallet(),
    relayer,
    relayers,
  };
  for (const name of ["operator", "compliance", "relayer"] as const) writeKeystore(join(dir, "keys", `${name}.json`), keys[name], TEST_PASSWORD, true);
  relayers.forEach((w, i) => i > 0 && writeKeystore(join(dir, "keys", relayerKeystoreFile("relayer.json", i)), w, TEST_PASSWORD, true));
  const ledger = await deployTo(chain, { operator: keys.operator.address, compliance: keys.compliance.address });
  writeFileSync(join(dir, "deployment.json"), JSON.stringify(ledger.record, null, 2));
  const db = await createTestDatabase(dir, database);
  const env: Record<string, string> = {
    NODE_ENV: "test",
    LOG_LEVEL: "warn",
    PORT: "0",
    DATABASE_URL: db.url,
    RPC_URL: chain.url,
    CHAIN_ID: String(chain.chainId),
    CONFIRMATIONS: "0",
    DEPLOYMENT_FILE: join(dir, "deployment.json"),
    KEYSTORE_DIR: join(dir, "keys"),
    KEYSTORE_PASSWORD: TEST_PASSWORD,
    DOCUMENTS_DIR: join(dir, "documents"),
    SENDER_POLL_MS: "20",
    INDEXER_POLL_MS: "50",
    SIWE_DOMAIN: "localhost:3000",
    SIWE_URI: "http://localhost:3000",
    THROTTLE_LIMIT: "100000",
    ...overrides,
  };
  return { dir, chain, ledger, keys, db, env, config: loadConfig(env, PROJECT_ROOT) };
}

export interface RunningService {
  app: INestApplication;
  url: string;
  close(): Promise<void>;
}

/** Starts the service in this process and listens on a free loopback port. */
export async function startService(env: TestEnv): Promise<RunningService> {
  const app = await createApp(env.config);
  await app.listen(0, "127.0.0.1");
  tuneHttpServer(app, env.config);
  const addr = app.getHttpServer().address() as { port: number };
  return { app, url: `http://127.0.0.1:${addr.port}`, close: () => app.close() };
}

export async function cleanupEnv(env: TestEnv): Promise<void> {
  await env.db.drop();
  rmSync(env.dir, { recursive: true, force: true });
}
