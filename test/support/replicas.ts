/**
 * The production topology of docs/DEPLOYMENT.md section 5 for tests and benchmarks: a fresh
 * PostgreSQL database migrated once, API replicas (SENDER_ENABLED=false, INDEXER_ENABLED=false) and
 * one worker (sender + indexer), each the compiled service in its own OS process, a round-robin
 * balancer in front of the replicas, and registered suppliers, a buyer and an auditor; plus the
 * tokenisation load both drive through it.
 */
import { createHash } from "node:crypto";
import { Wallet } from "ethers";
import { DataSource } from "typeorm";
import { dataSourceOptions, openDatabase } from "../../services/src/database/data-source";
import { invoiceFingerprint, receivableIdOf } from "../../shared/fingerprint";
import { receivableIdHex } from "../../shared/ids";
import { ApiClient, login, signTypedData, signedBody, type Act, type UnsignedAct } from "../../shared/client";
import { ROLE_BITS } from "../../shared/roles";
import { benchTaxId, registerMembers } from "../../scripts/bench/common";
import { cleanupEnv, prepareEnv, type TestEnv } from "./app";
import { startBalancer, type Balancer } from "./balancer";
import type { TestChain } from "./chain";
import { spawnCompiledService, type ServiceProcess } from "./process";

export type Body = Record<string, unknown>;

const DAY_MS = 86_400_000;
const day = (offsetDays: number) => new Date(Date.now() + offsetDays * DAY_MS).toISOString().slice(0, 10);
const sha256 = (s: string) => "0x" + createHash("sha256").update(s).digest("hex");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface ReplicaSet {
  env: TestEnv;
  /** The shared database, for checks. */
  db: DataSource;
  worker: ServiceProcess;
  replicas: ServiceProcess[];
  lb: Balancer;
  suppliers: Wallet[];
  buyer: Wallet;
  auditor: Wallet;
  /** SIGKILLs the worker and starts it again on the same database and chain. */
  restartWorker(): Promise<void>;
  /** Signs `key` in through `url` (default: the balancer) once the worker has indexed it. */
  session(key: Wallet, url?: string): Promise<ApiClient>;
  /** A fresh valid invoice of `seller` to the buyer. */
  invoice(seller: Wallet): Body;
  /** The receivable id (token id) an invoice gets. */
  receivableId(invoice: Body): string;
  /** Stops the processes (not the database: `destroy`). */
  stop(): Promise<void>;
  /** Stops everything and drops the database. */
  destroy(): Promise<void>;
}

/**
 * Prepares a fresh ledger and database on `chain` (whose keys deploy it), runs the migrations once,
 * registers the members, and starts `replicas` API replicas and one worker with `env` on top.
 */
export async function startReplicaSet(
  chain: TestChain,
  opts: { replicas: number; suppliers: number; env?: Record<string, string>; prefix: string; redisUrl?: string },
): Promise<ReplicaSet> {
  const env = await prepareEnv(
    chain,
    {
      LOG_LEVEL: "error",
      KYC_JOB_INTERVAL_MS: "3600000",
      // Production's sender and indexer pacing (defaults), not the test helper's fast polls.
      SENDER_POLL_MS: "100",
      INDEXER_POLL_MS: "250",
      TRUST_PROXY_HOPS: "1",
      ...(opts.redisUrl ? { REDIS_URL: opts.redisUrl } : {}),
      ...opts.env,
    },
    { postgres: true, prefix: opts.prefix },
  );
  // The migrations run once, before any process starts (a deployment's migration step).
  const migrated = await openDatabase(env.config.database);
  await migrated.destroy();
  const db = new DataSource(dataSourceOptions(env.config.database));
  await db.initialize();

  const fresh = () => new Wallet(Wallet.createRandom().privateKey);
  const suppliers = Array.from({ length: opts.suppliers }, fresh);
  const buyer = fresh();
  const auditor = fresh();
  await registerMembers(env, [
    ...suppliers.map((w) => ({ address: w.address, roles: ROLE_BITS.supplier })),
    { address: buyer.address, roles: ROLE_BITS.buyer },
    { address: auditor.address, roles: ROLE_BITS.auditor },
  ]);

  const workerEnv = { ...env.env, SENDER_ENABLED: "true", INDEXER_ENABLED: "true" };
  const apiEnv = { ...env.env, SENDER_ENABLED: "false", INDEXER_ENABLED: "false" };
  const [worker, ...replicas] = await Promise.all([
    spawnCompiledService(workerEnv, undefined, "worker"),
    ...Array.from({ length: opts.replicas }, (_, i) => spawnCompiledService(apiEnv, undefined, `API replica ${i + 1}`)),
  ]);
  const lb = await startBalancer(replicas.map((r) => r.url));
  let seq = 0;

  const set: ReplicaSet = {
    env,
    db,
    worker,
    replicas,
    lb,
    suppliers,
    buyer,
    auditor,
    async restartWorker() {
      await set.worker.kill("SIGKILL");
      set.worker = await spawnCompiledService(workerEnv, undefined, "worker (restarted)");
    },
    async session(key, url = lb.url) {
      const api = new ApiClient(url);
      for (let i = 0; ; i++) {
        try {
          api.token = (await login(api, key)).accessToken;
          return api;
        } catch (err) {
          if (i > 150) throw err;
          await sleep(200);
        }
      }
    },
    invoice(seller) {
      seq += 1;
      const tag = `${opts.prefix}-${seq}`;
      return {
        debtor: buyer.address,
        invoiceNumber: `R-${String(seq).padStart(6, "0")}`,
        sellerTaxId: benchTaxId(seller.address),
        buyerTaxId: benchTaxId(buyer.address),
        issueDate: day(0),
        dueDate: day(90),
        amount: String(1_000_000 + seq),
        documentHash: sha256(`invoice ${tag}`),
      };
    },
    receivableId(b) {
      const fp = invoiceFingerprint(env.config.FINGERPRINT_SALT, { sellerTaxId: b.sellerTaxId as string, invoiceNumber: b.invoiceNumber as string });
      return receivableIdHex(receivableIdOf(fp));
    },
    async stop() {
      await lb.close();
      for (const p of [...set.replicas, set.worker]) await p.kill("SIGKILL");
    },
    async destroy() {
      await set.stop();
      await db.destroy();
      await cleanupEnv(env);
    },
  };
  return set;
}

/** The typed data for `invoices` (one: POST /receivables, more: /receivables/batch), signed by `key`. */
export async function signTokenisation(api: ApiClient, key: Wallet, invoices: Body[]): Promise<{ path: string; body: Body }> {
  const path = invoices.length === 1 ? "/receivables" : "/receivables/batch";
  const body: Body = invoices.length === 1 ? invoices[0] : { invoices };
  const unsigned = await api.expect<UnsignedAct>(200, "POST", path, { body });
  return { path, body: signedBody(body, unsigned.typedData, await signTypedData(key, unsigned.typedData)) };
}

export interface Accepted {
  act: Act;
  invoices: Body[];
  supplier: number;
}

/**
 * Tokenises `batches` batches of `batchSize` and `singles` single invoices through `clients` (one
 * per supplier of `set`, each submitting its acts one after another; batches spread evenly among
 * the single acts). `onAccepted` sees the running count after each 202. Returns the accepted acts
 * and the answers that were not 202.
 */
export async function tokenise(
  set: ReplicaSet,
  clients: ApiClient[],
  load: { batches: number; batchSize: number; singles: number },
  onAccepted?: (count: number, total: number) => void,
): Promise<{ accepted: Accepted[]; refused: string[] }> {
  const total = load.batches + load.singles;
  const acts: { supplier: number; invoices: Body[] }[] = [];
  for (let i = 0; i < total; i++) {
    const supplier = i % clients.length;
    const n = (i * load.batches) % total < load.batches ? load.batchSize : 1;
    acts.push({ supplier, invoices: Array.from({ length: n }, () => set.invoice(set.suppliers[supplier])) });
  }
  const accepted: Accepted[] = [];
  const refused: string[] = [];
  await Promise.all(
    clients.map(async (api, s) => {
      for (const a of acts.filter((x) => x.supplier === s)) {
        const { path, body } = await signTokenisation(api, set.suppliers[s], a.invoices);
        const res = await api.request<Act>("POST", path, { body });
        if (res.status !== 202) {
          refused.push(`${path}: ${res.status} ${JSON.stringify(res.body)}`);
          continue;
        }
        accepted.push({ act: res.body, invoices: a.invoices, supplier: s });
        onAccepted?.(accepted.length, total);
      }
    }),
  );
  return { accepted, refused };
}
