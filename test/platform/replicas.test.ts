/**
 * The production topology of docs/DEPLOYMENT.md section 5, run for real: a fresh PostgreSQL
 * database migrated once, Redis for the shared rate limits, Hardhat's node mining every 200 ms (a
 * QBFT-like block period, a real mempool), two API replicas (SENDER_ENABLED=false,
 * INDEXER_ENABLED=false) and one worker (sender + indexer), each the compiled service in its own OS
 * process, and a round-robin load balancer in front of the two replicas.
 *
 * Registered suppliers sign in through the balancer and tokenise 1,000 invoices: 18 batches of 50
 * and 100 single acts (118 acts, so 118 relayer transactions, about 60 through each replica; the
 * batches carry the volume, the single acts make many small outbox rows). When half of the acts
 * are accepted the worker is killed with SIGKILL and started again while the suppliers keep
 * submitting. Then: every accepted act is final (recorded, or refused with a reason), none twice;
 * the relayer's nonces on chain are 0..n-1, each once, each transaction belonging to exactly one
 * outbox row; the projection holds exactly the tokenised receivables; /audit/verify is clean.
 *
 * Also across replicas: one signed act posted to both replicas at once, with and without an
 * Idempotency-Key, is one act.
 */
import { createHash } from "node:crypto";
import { expect } from "chai";
import { Wallet } from "ethers";
import { DataSource } from "typeorm";
import { ActEntity } from "../../services/src/acts/entities/act.entity";
import { dataSourceOptions, openDatabase } from "../../services/src/database/data-source";
import { IndexerStateEntity } from "../../services/src/indexer/entities/indexer-state.entity";
import { OutboxEntity } from "../../services/src/outbox/entities/outbox.entity";
import { invoiceFingerprint, receivableIdOf } from "../../shared/fingerprint";
import { receivableIdHex } from "../../shared/ids";
import { ApiClient, followAct, login, signTypedData, signedBody, type Act, type UnsignedAct } from "../../shared/client";
import { ROLE_BITS } from "../../shared/roles";
import { benchTaxId, registerMembers } from "../../scripts/bench/common";
import { cleanupEnv, prepareEnv, type TestEnv } from "../support/app";
import { startBalancer, type Balancer } from "../support/balancer";
import { startChain, type TestChain } from "../support/chain";
import { spawnCompiledService, type ServiceProcess } from "../support/process";

const REDIS_URL = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";
const SUPPLIERS = 8;
const BATCHES = 18;
const BATCH_SIZE = 50;
const SINGLES = 100;
const DAY_MS = 86_400_000;

type Body = Record<string, unknown>;

const day = (offsetDays: number) => new Date(Date.now() + offsetDays * DAY_MS).toISOString().slice(0, 10);
const sha256 = (s: string) => "0x" + createHash("sha256").update(s).digest("hex");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("Two API replicas and one worker on PostgreSQL, the worker killed under load", function () {
  this.timeout(300_000);
  let chain: TestChain;
  let env: TestEnv;
  let db: DataSource;
  let worker: ServiceProcess | undefined;
  let replicas: ServiceProcess[] = [];
  let lb: Balancer | undefined;
  let suppliers: Wallet[];
  let buyer: Wallet;
  let auditor: Wallet;
  let seq = 0;

  const workerEnv = () => ({ ...env.env, SENDER_ENABLED: "true", INDEXER_ENABLED: "true" });

  before(async function () {
    chain = await startChain({ intervalMs: 200 });
    env = await prepareEnv(
      chain,
      {
        LOG_LEVEL: "error",
        KYC_JOB_INTERVAL_MS: "3600000",
        // Production's sender and indexer pacing (defaults), not the test helper's fast polls.
        SENDER_POLL_MS: "100",
        INDEXER_POLL_MS: "250",
        TRUST_PROXY_HOPS: "1",
        REDIS_URL,
      },
      { postgres: true, prefix: "scf_replicas" },
    );
    // The migrations run once, before any process starts (a deployment's migration step).
    const migrated = await openDatabase(env.config.database);
    await migrated.destroy();
    db = new DataSource(dataSourceOptions(env.config.database));
    await db.initialize();

    suppliers = Array.from({ length: SUPPLIERS }, () => new Wallet(Wallet.createRandom().privateKey));
    buyer = new Wallet(Wallet.createRandom().privateKey);
    auditor = new Wallet(Wallet.createRandom().privateKey);
    await registerMembers(env, [
      ...suppliers.map((w) => ({ address: w.address, roles: ROLE_BITS.supplier })),
      { address: buyer.address, roles: ROLE_BITS.buyer },
      { address: auditor.address, roles: ROLE_BITS.auditor },
    ]);

    const api = { ...env.env, SENDER_ENABLED: "false", INDEXER_ENABLED: "false" };
    [worker, ...replicas] = await Promise.all([
      spawnCompiledService(workerEnv(), undefined, "worker"),
      spawnCompiledService(api, undefined, "API replica 1"),
      spawnCompiledService(api, undefined, "API replica 2"),
    ]);
    lb = await startBalancer(replicas.map((r) => r.url));
  });

  after(async function () {
    await lb?.close();
    for (const p of [...replicas, worker]) await p?.kill("SIGKILL");
    await db?.destroy();
    if (env) await cleanupEnv(env);
    await chain?.stop();
  });

  /** Signs in through the balancer once the worker has indexed the member (sign-in refuses strangers). */
  async function session(key: Wallet): Promise<ApiClient> {
    const api = new ApiClient(lb!.url);
    for (let i = 0; ; i++) {
      try {
        api.token = (await login(api, key)).accessToken;
        return api;
      } catch (err) {
        if (i > 150) throw err;
        await sleep(200);
      }
    }
  }

  function invoiceFor(seller: Wallet): Body {
    seq += 1;
    return {
      debtor: buyer.address,
      invoiceNumber: `REPL-${String(seq).padStart(6, "0")}`,
      sellerTaxId: benchTaxId(seller.address),
      buyerTaxId: benchTaxId(buyer.address),
      issueDate: day(0),
      dueDate: day(90),
      amount: String(1_000_000 + seq),
      documentHash: sha256(`replicas invoice ${seq}`),
    };
  }

  const receivableId = (b: Body) =>
    receivableIdHex(receivableIdOf(invoiceFingerprint(env.config.FINGERPRINT_SALT, { sellerTaxId: b.sellerTaxId as string, invoiceNumber: b.invoiceNumber as string })));

  /** The typed data for `invoices` (one: POST /receivables, more: /receivables/batch), signed by `key`. */
  async function signAct(api: ApiClient, key: Wallet, invoices: Body[]): Promise<{ path: string; body: Body }> {
    const path = invoices.length === 1 ? "/receivables" : "/receivables/batch";
    const body: Body = invoices.length === 1 ? invoices[0] : { invoices };
    const unsigned = await api.expect<UnsignedAct>(200, "POST", path, { body });
    return { path, body: signedBody(body, unsigned.typedData, await signTypedData(key, unsigned.typedData)) };
  }

  it("records each of 1,000 tokenisations once, with contiguous relayer nonces, a matching projection and a clean verification", async function () {
    const t0 = Date.now();
    const clients = await Promise.all(suppliers.map((s) => session(s)));
    const audit = await session(auditor);

    // The acts, dealt round-robin to the suppliers; each supplier submits its own one after another.
    // Batches spread evenly among the single acts, so the kill lands with both kinds in flight.
    const total = BATCHES + SINGLES;
    const acts: { supplier: number; invoices: Body[] }[] = [];
    for (let i = 0; i < total; i++) {
      const supplier = i % SUPPLIERS;
      const n = (i * BATCHES) % total < BATCHES ? BATCH_SIZE : 1;
      acts.push({ supplier, invoices: Array.from({ length: n }, () => invoiceFor(suppliers[supplier])) });
    }
    expect(acts.reduce((m, a) => m + a.invoices.length, 0)).to.equal(BATCHES * BATCH_SIZE + SINGLES);

    const accepted: { act: Act; invoices: Body[]; supplier: number }[] = [];
    const refused: string[] = [];
    let restarted: Promise<void> | null = null;
    let killedAt = 0;
    await Promise.all(
      clients.map(async (api, s) => {
        for (const a of acts.filter((x) => x.supplier === s)) {
          const { path, body } = await signAct(api, suppliers[s], a.invoices);
          const res = await api.request<Act>("POST", path, { body });
          if (res.status !== 202) {
            refused.push(`${path}: ${res.status} ${JSON.stringify(res.body)}`);
            continue;
          }
          accepted.push({ act: res.body, invoices: a.invoices, supplier: s });
          if (!restarted && accepted.length >= acts.length / 2) {
            killedAt = accepted.length;
            const old = worker!;
            restarted = (async () => {
              await old.kill("SIGKILL");
              worker = await spawnCompiledService(workerEnv(), undefined, "worker (restarted)");
            })();
          }
        }
      }),
    );
    const submittedMs = Date.now() - t0;
    await restarted;
    expect(refused, "every signed act is accepted: the replicas do not need the worker to accept").to.deep.equal([]);
    expect(accepted).to.have.length(acts.length);
    expect(killedAt).to.be.greaterThan(0);
    expect(lb!.served.every((n) => n > 100), `requests per replica: ${lb!.served.join(", ")}`).to.equal(true);

    // Every accepted act reaches one final state.
    const finals = await Promise.all(accepted.map((a) => followAct(clients[a.supplier], a.act.id, 150_000)));
    const pending = finals.filter((f) => f.status === "pending");
    expect(pending.map((f) => f.id), "acts still pending").to.deep.equal([]);
    for (const f of finals.filter((x) => x.status === "failed")) expect(f.failureReason, `act ${f.id}`).to.be.a("string").and.not.equal("");
    const confirmed = finals.filter((f) => f.status === "confirmed");
    const doneMs = Date.now() - t0;

    // None twice: one act row and one outbox row per accepted act, each final.
    const actRows = await db.getRepository(ActEntity).find();
    expect(actRows.map((r) => r.id).sort()).to.deep.equal(accepted.map((a) => a.act.id).sort());
    const outbox = await db.getRepository(OutboxEntity).findBy({ fromAddress: env.keys.relayer.address });
    expect(outbox.map((r) => r.referenceId).sort()).to.deep.equal(accepted.map((a) => a.act.id).sort());
    expect(new Set(actRows.map((r) => r.outboxId)).size).to.equal(actRows.length);
    expect(outbox.filter((r) => r.status !== "mined" && r.status !== "failed").map((r) => `${r.id} ${r.status}`)).to.deep.equal([]);

    // The relayer's transactions on chain: nonces 0..n-1, each once, each the transaction of one outbox row.
    const head = await chain.provider.getBlockNumber();
    const relayed: { hash: string; nonce: number }[] = [];
    const relayer = env.keys.relayer.address.toLowerCase();
    for (let n = env.ledger.record.blockNumber; n <= head; n += 16) {
      const blocks = await Promise.all(
        Array.from({ length: Math.min(16, head - n + 1) }, (_, k) =>
          chain.provider.send("eth_getBlockByNumber", ["0x" + (n + k).toString(16), true]) as Promise<{ transactions: { from: string; hash: string; nonce: string }[] }>,
        ),
      );
      for (const b of blocks) for (const tx of b.transactions) if (tx.from.toLowerCase() === relayer) relayed.push({ hash: tx.hash, nonce: Number(tx.nonce) });
    }
    const nonces = relayed.map((r) => r.nonce).sort((a, b) => a - b);
    expect(nonces, "relayer nonces on chain").to.deep.equal(nonces.map((_, i) => i));
    expect(await chain.provider.getTransactionCount(env.keys.relayer.address, "latest")).to.equal(relayed.length);
    const byHash = new Map<string, number>();
    for (const r of outbox) if (r.txHash) byHash.set(r.txHash, (byHash.get(r.txHash) ?? 0) + 1);
    expect([...byHash].filter(([, c]) => c > 1), "a transaction hash held by two outbox rows").to.deep.equal([]);
    expect(relayed.filter((r) => byHash.get(r.hash) !== 1).map((r) => r.hash), "relayer transactions without their one outbox row").to.deep.equal([]);
    expect(relayed).to.have.length(outbox.filter((r) => r.status === "mined").length);

    // The projection: exactly the receivables of the confirmed acts.
    const wanted = confirmed.flatMap((f) => accepted.find((a) => a.act.id === f.id)!.invoices.map(receivableId)).sort();
    await waitIndexed(audit, head);
    const listed: string[] = [];
    for (let cursor: string | null = null; ; ) {
      const page: { items: { id: string }[]; nextCursor: string | null } = await audit.get("/receivables", { limit: 100, cursor: cursor ?? undefined });
      listed.push(...page.items.map((i) => i.id));
      if (!(cursor = page.nextCursor)) break;
    }
    expect(listed.sort()).to.deep.equal(wanted);
    expect(new Set(wanted).size).to.equal(wanted.length);

    const report = await audit.get<{ ok: boolean; differences: unknown[] }>("/audit/verify");
    expect(report.differences, JSON.stringify(report.differences)).to.deep.equal([]);
    expect(report.ok).to.equal(true);

    const failed = finals.length - confirmed.length;
    console.log(
      `      ${wanted.length} invoices in ${confirmed.length} confirmed acts (${failed} refused on chain) through replicas serving ${lb!.served.join(" / ")} requests; ` +
        `worker killed after ${killedAt} acceptances; all accepted in ${(submittedMs / 1000).toFixed(1)} s, all final in ${(doneMs / 1000).toFixed(1)} s; ${relayed.length} relayer transactions`,
    );
  });

  it("gives one act for one signed act posted to both replicas at once, with or without an Idempotency-Key", async function () {
    const key = suppliers[0];
    const api = await session(key);
    const direct = replicas.map((r) => new ApiClient(r.url, api.token));
    for (const idempotencyKey of [`both-${Date.now()}`, undefined]) {
      const { path, body } = await signAct(api, key, [invoiceFor(key)]);
      const answers = await Promise.all(direct.map((d) => d.request<Act>("POST", path, { body, idempotencyKey })));
      const ok = answers.filter((a) => a.status === 202);
      // The loser of the key's claim may be told the first request is still running (409, Retry-After).
      for (const a of answers) expect([202, 409], JSON.stringify(a.body)).to.include(a.status);
      expect(ok.length, JSON.stringify(answers.map((a) => a.body))).to.be.at.least(1);
      expect(new Set(ok.map((a) => a.body.id)).size, "both 202 answers name the same act").to.equal(1);
      const rows = await db.getRepository(ActEntity).findBy({ signer: key.address, nonce: String(body.nonce) });
      expect(rows.map((r) => r.id)).to.deep.equal([ok[0].body.id]);
      const final = await followAct(api, ok[0].body.id, 60_000);
      expect(final.status, final.failureReason ?? "").to.equal("confirmed");
    }
  });

  /** Until the worker's indexer has passed block `n` (the auditor's view of the projection is then complete). */
  async function waitIndexed(audit: ApiClient, n: number): Promise<void> {
    for (let i = 0; i < 600; i++) {
      const state = await db.getRepository(IndexerStateEntity).find();
      if (state.length && state[0].blockNumber >= n) return;
      await sleep(100);
    }
    throw new Error(`the indexer did not reach block ${n} (auditor ${audit.baseUrl})`);
  }
});
