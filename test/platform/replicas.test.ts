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
 * Idempotency-Key, is one act; the same invoice signed twice (two nonces) and posted to both at
 * once is one 202 and one 409 DuplicateInvoice (the act claims in the database, issue 15).
 */
import { expect } from "chai";
import { ActEntity } from "../../services/src/acts/entities/act.entity";
import { IndexerStateEntity } from "../../services/src/indexer/entities/indexer-state.entity";
import { OutboxEntity } from "../../services/src/outbox/entities/outbox.entity";
import { ApiClient, followAct, type Act } from "../../shared/client";
import { startChain, type TestChain } from "../support/chain";
import { signTokenisation, startReplicaSet, tokenise, type ReplicaSet } from "../support/replicas";

const REDIS_URL = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";
const LOAD = { batches: 18, batchSize: 50, singles: 100 };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("Two API replicas and one worker on PostgreSQL, the worker killed under load", function () {
  this.timeout(300_000);
  let chain: TestChain;
  let set: ReplicaSet;

  before(async function () {
    chain = await startChain({ intervalMs: 200 });
    set = await startReplicaSet(chain, { replicas: 2, suppliers: 8, prefix: "scf_replicas", redisUrl: REDIS_URL });
  });

  after(async function () {
    await set?.destroy();
    await chain?.stop();
  });

  it("records each of 1,000 tokenisations once, with contiguous relayer nonces, a matching projection and a clean verification", async function () {
    const t0 = Date.now();
    const clients = await Promise.all(set.suppliers.map((s) => set.session(s)));
    const audit = await set.session(set.auditor);

    // When half the acts are accepted the worker is SIGKILLed and restarted; the suppliers go on.
    let restarted: Promise<void> | null = null;
    let killedAt = 0;
    const { accepted, refused } = await tokenise(set, clients, LOAD, (count, total) => {
      if (restarted || count < total / 2) return;
      killedAt = count;
      restarted = set.restartWorker();
    });
    const submittedMs = Date.now() - t0;
    await restarted;
    expect(refused, "every signed act is accepted: the replicas do not need the worker to accept").to.deep.equal([]);
    expect(accepted).to.have.length(LOAD.batches + LOAD.singles);
    expect(accepted.reduce((n, a) => n + a.invoices.length, 0)).to.equal(1_000);
    expect(killedAt).to.be.greaterThan(0);
    const lb = set.lb;
    expect(lb.served.every((n) => n > 100), `requests per replica: ${lb.served.join(", ")}`).to.equal(true);

    // Every accepted act reaches one final state.
    const finals = await Promise.all(accepted.map((a) => followAct(clients[a.supplier], a.act.id, 150_000)));
    const pending = finals.filter((f) => f.status === "pending");
    expect(pending.map((f) => f.id), "acts still pending").to.deep.equal([]);
    for (const f of finals.filter((x) => x.status === "failed")) expect(f.failureReason, `act ${f.id}`).to.be.a("string").and.not.equal("");
    const confirmed = finals.filter((f) => f.status === "confirmed");
    const doneMs = Date.now() - t0;

    // None twice: one act row and one outbox row per accepted act, each final.
    const actRows = await set.db.getRepository(ActEntity).find();
    expect(actRows.map((r) => r.id).sort()).to.deep.equal(accepted.map((a) => a.act.id).sort());
    const env = set.env;
    const outbox = await set.db.getRepository(OutboxEntity).findBy({ fromAddress: env.keys.relayer.address });
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
    const wanted = confirmed.flatMap((f) => accepted.find((a) => a.act.id === f.id)!.invoices.map(set.receivableId)).sort();
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
      `      ${wanted.length} invoices in ${confirmed.length} confirmed acts (${failed} refused on chain) through replicas serving ${lb.served.join(" / ")} requests; ` +
        `worker killed after ${killedAt} acceptances; all accepted in ${(submittedMs / 1000).toFixed(1)} s, all final in ${(doneMs / 1000).toFixed(1)} s; ${relayed.length} relayer transactions`,
    );
  });

  it("gives one act for one signed act posted to both replicas at once, with or without an Idempotency-Key", async function () {
    const key = set.suppliers[0];
    const api = await set.session(key);
    const direct = set.replicas.map((r) => new ApiClient(r.url, api.token));
    for (const idempotencyKey of [`both-${Date.now()}`, undefined]) {
      const { path, body } = await signTokenisation(api, key, [set.invoice(key)]);
      const answers = await Promise.all(direct.map((d) => d.request<Act>("POST", path, { body, idempotencyKey })));
      const ok = answers.filter((a) => a.status === 202);
      // The loser of the key's claim may be told the first request is still running (409, Retry-After).
      for (const a of answers) expect([202, 409], JSON.stringify(a.body)).to.include(a.status);
      expect(ok.length, JSON.stringify(answers.map((a) => a.body))).to.be.at.least(1);
      expect(new Set(ok.map((a) => a.body.id)).size, "both 202 answers name the same act").to.equal(1);
      const rows = await set.db.getRepository(ActEntity).findBy({ signer: key.address, nonce: String(body.nonce) });
      expect(rows.map((r) => r.id)).to.deep.equal([ok[0].body.id]);
      const final = await followAct(api, ok[0].body.id, 60_000);
      expect(final.status, final.failureReason ?? "").to.equal("confirmed");
    }
  });

  it("refuses the same invoice signed twice (two nonces) and posted to both replicas at once: one 202, one 409 DuplicateInvoice, one act", async function () {
    const key = set.suppliers[1];
    const api = await set.session(key);
    const direct = set.replicas.map((r) => new ApiClient(r.url, api.token));
    for (let round = 0; round < 4; round++) {
      const invoice = set.invoice(key);
      const signed = [await signTokenisation(api, key, [invoice]), await signTokenisation(api, key, [invoice])];
      const answers = await Promise.all(direct.map((d, i) => d.request<Act & { code?: string }>("POST", signed[i].path, { body: signed[i].body })));
      const what = `round ${round}: ${JSON.stringify(answers.map((a) => [a.status, a.body]))}`;
      expect(answers.map((a) => a.status).sort(), what).to.deep.equal([202, 409]);
      expect(answers.find((a) => a.status === 409)!.body.code, what).to.equal("DuplicateInvoice");
      const ok = answers.find((a) => a.status === 202)!;
      const rows = await set.db.getRepository(ActEntity).findBy({ receivableId: ok.body.receivableId! });
      expect(rows.map((r) => r.id), what).to.deep.equal([ok.body.id]);
      const final = await followAct(api, ok.body.id, 60_000);
      expect(final.status, final.failureReason ?? "").to.equal("confirmed");
    }
  });

  /** Until the worker's indexer has passed block `n` (the auditor's view of the projection is then complete). */
  async function waitIndexed(audit: ApiClient, n: number): Promise<void> {
    for (let i = 0; i < 600; i++) {
      const state = await set.db.getRepository(IndexerStateEntity).find();
      if (state.length && state[0].blockNumber >= n) return;
      await sleep(100);
    }
    throw new Error(`the indexer did not reach block ${n} (auditor ${audit.baseUrl})`);
  }
});
