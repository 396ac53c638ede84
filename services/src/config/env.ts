/**
 * Configuration: parsed and validated once at boot from the environment. A bad value fails fast
 * with every problem named at once, so an operator fixes their `.env` in one go.
 */
import { isAbsolute, resolve } from "node:path";
import { z } from "zod";

const bool = z
  .enum(["true", "false", "1", "0"])
  .transform((v) => v === "true" || v === "1");
const int = (min: number, max = Number.MAX_SAFE_INTEGER) => z.coerce.number().int().min(min).max(max);

/** Published in this repository (env.ts, .env.example): anyone can compute fingerprints with it. */
export const DEVELOPMENT_FINGERPRINT_SALT = "0x5343462d6c65646765722d646576656c6f706d656e742d73616c742d2d2d2d2d";
/** The keystore password .env.example shows. */
export const EXAMPLE_KEYSTORE_PASSWORD = "change-me-please";

const schema = z.object({
  NODE_ENV: z.enum(["development", "production", "test"]).default("development"),
  HOST: z.string().min(1).default("127.0.0.1"),
  PORT: int(0, 65535).default(3000),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),

  DATABASE_URL: z
    .string()
    .default("sqlite:data/ledger.sqlite")
    .refine((v) => /^(postgres|postgresql):\/\//.test(v) || v.startsWith("sqlite:") || v === ":memory:", {
      message: "must be a postgres:// URL, sqlite:PATH or :memory:",
    }),

  RPC_URL: z.string().url().default("http://127.0.0.1:8545"),
  CHAIN_ID: int(1).default(31337),
  CONFIRMATIONS: int(0, 1000).default(0),
  DEPLOYMENT_FILE: z.string().default("deployments/localhost.json"),

  KEYSTORE_DIR: z.string().default("data/keys"),
  KEYSTORE_PASSWORD: z.string().min(8, "must be at least 8 characters").optional(),
  OPERATOR_KEYSTORE: z.string().default("operator.json"),
  COMPLIANCE_KEYSTORE: z.string().default("compliance.json"),
  RELAYER_KEYSTORE: z.string().default("relayer.json"),
  // Relayed acts are spread over this many relayer keys (RELAYER_KEYSTORE, then relayer-1.json …),
  // each with its own nonces, chosen by the act's signer: one key's transactions are sent one nonce
  // after another, several keys' side by side.
  RELAYER_KEYS: int(1, 32).default(1),

  SIWE_DOMAIN: z.string().min(1).default("localhost:3000"),
  SIWE_URI: z.string().url().default("http://localhost:3000"),
  CHALLENGE_TTL_SECONDS: int(10, 3600).default(300),
  SESSION_TTL_SECONDS: int(60, 86400).default(900),

  INDEXER_ENABLED: bool.default("true"),
  INDEXER_POLL_MS: int(10, 60_000).default(250),
  INDEXER_BATCH_BLOCKS: int(1, 100_000).default(2_000),
  // A catch-up at least this many blocks behind, and behind by at least as many blocks as it has
  // already indexed, writes without the feed's and the receivables' query indexes and builds them
  // once at its end (services/src/indexer/deferred-indexes.ts). 0: never.
  INDEXER_DEFER_INDEXES_BLOCKS: int(0, 100_000_000).default(100),

  SENDER_ENABLED: bool.default("true"),
  // The sender is woken in-process when a transaction that added an outbox row commits; it polls
  // every SENDER_POLL_MS while rows are in flight, and only every SENDER_IDLE_POLL_MS when it found
  // nothing to do (the fallback for rows another process wrote).
  SENDER_POLL_MS: int(10, 60_000).default(100),
  SENDER_IDLE_POLL_MS: int(10, 600_000).default(1_000),
  // PostgreSQL only: a process without a sender (an API replica) NOTIFYs in the transaction that
  // adds an outbox row and the worker LISTENs, so it does not wait for its idle poll. Off: the
  // worker finds replicas' rows at SENDER_IDLE_POLL_MS (needed where LISTEN cannot work, e.g. the
  // worker connects through PgBouncer in transaction pooling).
  OUTBOX_NOTIFY: bool.default("true"),
  SENDER_MAX_ATTEMPTS: int(1, 100).default(8),

  // An Idempotency-Key is held by its request under a lease the request renews while it runs; a
  // lease its holder stopped renewing (the process died) lapses after this long and a retry takes
  // the key over. Answered keys are kept for IDEMPOTENCY_RETENTION_HOURS, then pruned.
  IDEMPOTENCY_LEASE_MS: int(1000, 3_600_000).default(30_000),
  IDEMPOTENCY_RETENTION_HOURS: int(1, 24 * 90).default(24),
  IDEMPOTENCY_PRUNE_INTERVAL_MS: int(1000).default(600_000),

  SANCTIONS_LIST_FILE: z.string().default("services/data/sanctions/un-consolidated-sample.xml"),
  SANCTIONS_MATCH_THRESHOLD: z.coerce.number().min(0.5).max(1).default(0.9),
  SANCTIONS_REVIEW_THRESHOLD: z.coerce.number().min(0.5).max(1).default(0.8),
  ALLOWED_JURISDICTIONS: z
    .string()
    .default("CN,HK,MO,SG")
    .transform((s) => s.split(",").map((x) => x.trim().toUpperCase()).filter(Boolean))
    .refine((a) => a.every((c) => /^[A-Z]{2}$/.test(c)), { message: "must be ISO 3166 alpha-2 codes" }),
  KYC_VALIDITY_DAYS: int(1, 3650).default(365),
  KYC_JOB_INTERVAL_MS: int(1000).default(60_000),
  KYC_WARNING_DAYS: int(0, 365).default(30),
  CONCENTRATION_LIMIT_BPS: int(1, 10_000).default(5_000),
  // Days after its approval by which a financing's movable-property registration number (中登) must be
  // known to the service; past it the financing is flagged for its financier and for auditors.
  REGISTRATION_GRACE_DAYS: int(0, 365).default(30),

  /** Secret mixed into every invoice fingerprint so invoice data cannot be guessed from it.
   * Keep it stable: changing it lets an invoice tokenised before the change be tokenised again. */
  FINGERPRINT_SALT: z
    .string()
    .regex(/^0x[0-9a-fA-F]{64}$/, "must be 32 bytes as 0x-prefixed hex")
    .default(DEVELOPMENT_FINGERPRINT_SALT),

  DOCUMENTS_DIR: z.string().default("data/documents"),
  MAX_UPLOAD_BYTES: int(1024).default(10 * 1024 * 1024),
  // Onboarding documents are open to non-members: all of one applicant's documents together, and
  // the whole documents folder, are capped (413 beyond either).
  UPLOAD_APPLICANT_MAX_BYTES: int(1024).default(50 * 1024 * 1024),
  DOCUMENTS_MAX_TOTAL_BYTES: int(1024 * 1024).default(20 * 1024 * 1024 * 1024),
  // Staged uploads and stored files no record references are removed at boot and at this
  // interval, once older than the grace (younger ones may belong to a request in flight).
  DOCUMENTS_SWEEP_INTERVAL_MS: int(1000).default(3_600_000),
  DOCUMENTS_ORPHAN_GRACE_MS: int(0).default(3_600_000),
  BODY_LIMIT: z.string().default("1mb"),
  // Longest wait for one JSON-RPC answer before the call fails (retryable) instead of hanging.
  RPC_TIMEOUT_MS: int(1000).default(60_000),
  // Idle keep-alive connections are kept this long. Longer than clients' and proxies' own idle
  // timeouts, so the client always closes first: a server closing an idle socket just as a client
  // reuses it makes that client's request fail with ECONNRESET.
  HTTP_KEEP_ALIVE_MS: int(1000).default(65_000),
  // On SIGTERM/SIGINT: stop accepting, give requests in flight this long, then stop the workers.
  SHUTDOWN_GRACE_MS: int(0).default(10_000),
  // How long the access guard may reuse a session and a member row it read (0: read both on every
  // request). Sign-outs here and indexed membership changes apply at once regardless; this bounds
  // only what another API replica did (auth/caller-cache.ts).
  CALLER_CACHE_MS: int(0).default(2_000),
  // PostgreSQL connections this process keeps at most (node-postgres pool). Statements beyond it
  // wait in the pool's queue in the service instead of in PostgreSQL's backends.
  DB_POOL_MAX: int(1, 1000).default(10),
  // Readiness (GET /health/ready): each check's own time limit, and when the indexer's lag (blocks
  // behind the confirmed head) or the oldest pending outbox transaction makes the replica unready.
  HEALTH_CHECK_TIMEOUT_MS: int(100, 60_000).default(2_000),
  HEALTH_MAX_INDEXER_LAG_BLOCKS: int(0).default(100),
  HEALTH_MAX_OUTBOX_AGE_MS: int(1000).default(300_000),
  // Proxies in front of the service whose X-Forwarded-For is believed (Express `trust proxy` hop
  // count): rate limits key on the client address they report. 0 (no proxy) ignores the header.
  TRUST_PROXY_HOPS: int(0, 10).default(0),
  // Rate-limit counters shared by every replica (redis:// or rediss://); unset keeps them in memory.
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\/\S+$/, "must be a redis:// or rediss:// URL")
    .optional(),
  THROTTLE_TTL_MS: int(1).default(60_000),
  THROTTLE_LIMIT: int(1).default(600),

  /** Test-money faucet (POST /settlement/faucet): compliance officers mint settlement tokens to verified
   * members with the issuer key. Never enable it in production. Needs ISSUER_KEYSTORE. */
  FAUCET_ENABLED: bool.default("false"),
  /** Keystore (in KEYSTORE_DIR) of the settlement token's issuer key; only the faucet uses it. */
  ISSUER_KEYSTORE: z.string().optional(),
});

export type Env = z.infer<typeof schema>;

export interface AppConfig extends Env {
  /** Resolved database settings. */
  database: { kind: "postgres"; url: string; poolMax?: number } | { kind: "sqlite"; path: string };
  /** Absolute paths. */
  paths: { deployment: string; keystoreDir: string; documents: string; sanctions: string };
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

/** Parses `env` (usually `process.env`); throws ConfigError listing every invalid variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): AppConfig {
  const picked: Record<string, string> = {};
  for (const key of Object.keys(schema.shape)) {
    const v = env[key];
    if (v !== undefined && v !== "") picked[key] = v;
  }
  const parsed = schema.safeParse(picked);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`));
  }
  const e = parsed.data;
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(cwd, p));
  const database: AppConfig["database"] = /^postgres(ql)?:\/\//.test(e.DATABASE_URL)
    ? { kind: "postgres", url: e.DATABASE_URL, poolMax: e.DB_POOL_MAX }
    : { kind: "sqlite", path: e.DATABASE_URL === ":memory:" ? ":memory:" : abs(e.DATABASE_URL.slice("sqlite:".length)) };
  const problems: string[] = [];
  if (e.SANCTIONS_REVIEW_THRESHOLD > e.SANCTIONS_MATCH_THRESHOLD) {
    problems.push("SANCTIONS_REVIEW_THRESHOLD: must not exceed SANCTIONS_MATCH_THRESHOLD");
  }
  // Published secrets are conveniences for a laptop (`npm start`, NODE_ENV development) and the
  // tests; in production they would let anyone reverse invoice fingerprints or open the keystores.
  if (e.NODE_ENV === "production") {
    if (e.FINGERPRINT_SALT.toLowerCase() === DEVELOPMENT_FINGERPRINT_SALT) {
      problems.push("FINGERPRINT_SALT: the published development salt is refused in production; set a secret 32-byte value");
    }
    if (e.KEYSTORE_PASSWORD === EXAMPLE_KEYSTORE_PASSWORD) {
      problems.push("KEYSTORE_PASSWORD: the example password from .env.example is refused in production");
    }
  }
  if (problems.length) throw new ConfigError(problems);
  return {
    ...e,
    database,
    paths: {
      deployment: abs(e.DEPLOYMENT_FILE),
      keystoreDir: abs(e.KEYSTORE_DIR),
      documents: abs(e.DOCUMENTS_DIR),
      sanctions: abs(e.SANCTIONS_LIST_FILE),
    },
  };
}

export const APP_CONFIG = Symbol("APP_CONFIG");
