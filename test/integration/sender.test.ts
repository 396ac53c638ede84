import { expect } from "chai";
import { Transaction, Wallet, id as keccakId } from "ethers";
import type { DataSource } from "typeorm";
import { createApp } from "../../services/src/app.factory";
import { ChainService } from "../../services/src/chain/chain.service";
import { isRetryable } from "../../services/src/chain/errors";
import { DbWriter } from "../../services/src/database/db-writer";
import { KeyNonceEntity, OutboxEntity } from "../../services/src/outbox/entities/outbox.entity";
import { TxSenderService, type EnqueueRequest } from "../../services/src/outbox/tx-sender.service";
import { OUTBOX_LISTENER_NAME } from "../../services/src/outbox/outbox-listener";
import { loadConfig } from "../../services/src/config/env";
import { PROJECT_ROOT } from "../../platform/project-root";
import { startChain, type TestChain } from "../support/chain";
import { cleanupEnv, prepareEnv, startService, usePostgres, type RunningService, type TestEnv } from "../support/app";
import { dataSourceOf } from "../support/index-check";

const MANUAL = { INDEXER_ENABLED: "false", SENDER_ENABLED: "false" };
const YEAR = 365 * 86_400;

/** Calls ChainService's provider through the sender, to make the node misbehave on purpose. */
type Send = (method: string, params: unknown[]) => Promise<unknown>;
function providerOf(sender: TxSenderService): { send: Send; estimateGas: (tx: unknown) => Promise<bigint> } {
  return (sender as unknown as { chain: { provider: { send: Send; estimateGas: (tx: unknown) => Promise<bigint> } } }).chain.provider;
}

function connectionRefused(): Error {
  return Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:8545"), { code: "ECONNREFUSED" });
}

describe("Transaction sender (outbox, hardhat node over JSON-RPC, real database)", function () {
  let chain: TestChain;
  let env: TestEnv | null;
  let svc: RunningService | null;

  before(async function () {
    chain = await startChain();
  });
  after(async function () {
    await chain?.stop();
  });
  afterEach(async function () {
    await svc?.close();
    svc = null;
    if (env) await cleanupEnv(env);
    env = null;
  });

  async function start(overrides: Record<string, string> = {}, on: TestChain = chain): Promise<RunningService> {
    env = await prepareEnv(on, { ...MANUAL, ...overrides });
    svc = await startService(env);
    return svc;
  }

  async function kycExpiry(on: TestChain = chain): Promise<number> {
    return (await on.provider.getBlock("latest"))!.timestamp + YEAR;
  }

  function registerCall(account: string, expiry: number, roles = 1): EnqueueRequest {
    return {
      signer: "operator",
      to: env!.ledger.record.contracts.ParticipantRegistry,
      data: env!.ledger.registry.interface.encodeFunctionData("register", [account, roles, expiry, "0x434e", keccakId(`entity ${account}`)]),
      kind: "registry.register",
    };
  }

  function updateCall(account: string, roles: number): EnqueueRequest {
    return {
      signer: "operator",
      to: env!.ledger.record.contracts.ParticipantRegistry,
      data: env!.ledger.registry.interface.encodeFunctionData("update", [account, roles, "0x484b", keccakId(`entity v2 ${account}`)]),
      kind: "registry.update",
    };
  }

  function enqueue(s: RunningService, req: EnqueueRequest): Promise<OutboxEntity> {
    return s.app.get(DbWriter).write((m) => s.app.get(TxSenderService).enqueue(m, req));
  }

  async function row(ds: DataSource, id: string): Promise<OutboxEntity> {
    return ds.getRepository(OutboxEntity).findOneByOrFail({ id });
  }

  /** Transactions on the chain sent by `from` with exactly `data`. */
  async function transactionsWith(from: string, data: string, on: TestChain = chain): Promise<string[]> {
    const hashes: string[] = [];
    const head = await on.provider.getBlockNumber();
    for (let n = env!.ledger.record.blockNumber; n <= head; n++) {
      const b = (await on.provider.getBlock(n, true))!;
      for (const tx of b.prefetchedTransactions) if (tx.from === from && tx.data === data) hashes.push(tx.hash);
    }
    return hashes;
  }

  it("sends 30 concurrently enqueued transactions of one key with contiguous nonces from the key's chain nonce", async function () {
    const s = await start({ SENDER_ENABLED: "true" });
    const sender = s.app.get(TxSenderService);
    const ds = dataSourceOf(s.app);
    const operator = env!.keys.operator.address;
    const chainNonce = await chain.provider.getTransactionCount(operator, "latest");
    const expiry = await kycExpiry();
    const accounts = Array.from({ length: 30 }, () => Wallet.createRandom().address);

    // Each in its own database transaction, all at once.
    const rows = await Promise.all(accounts.map((a) => enqueue(s, registerCall(a, expiry))));
    const done = await Promise.all(rows.map((r) => sender.waitFor(r.id, 60_000)));

    expect(done.map((r) => r.status)).to.deep.equal(Array(30).fill("mined"));
    const nonces = done.map((r) => r.nonce!).sort((a, b) => a - b);
    expect(nonces).to.deep.equal(Array.from({ length: 30 }, (_, i) => chainNonce + i));
    const txCount = await chain.provider.getTransactionCount(operator, "latest");
    expect(txCount).to.equal(chainNonce + 30);
    expect((await ds.getRepository(KeyNonceEntity).findOneByOrFail({ address: operator })).nextNonce).to.equal(txCount);
    for (const r of done) {
      const tx = (await chain.provider.getTransaction(r.txHash!))!;
      expect([tx.from, tx.nonce, tx.blockNumber, tx.data]).to.deep.equal([operator, r.nonce, r.blockNumber, r.data]);
    }
    for (const a of accounts) expect(await env!.ledger.registry.isVerified(a, 1), a).to.equal(true);
  });

  // Polls so slow that only a wake can move a row within the test's time.
  const WOKEN_ONLY = { SENDER_ENABLED: "true", SENDER_POLL_MS: "60000", SENDER_IDLE_POLL_MS: "600000" };

  /** Resolves when the sender has no timer due soon, i.e. its boot pass found nothing and it sleeps. */
  async function asleep(sender: TxSenderService): Promise<void> {
    const state = sender as unknown as { ticking: Promise<void> | null; timer: NodeJS.Timeout | null };
    while (state.ticking || !state.timer) await new Promise((r) => setTimeout(r, 10));
  }

  it("is woken by the commit that enqueues a row: it confirms with the fallback poll ten minutes away", async function () {
    const s = await start(WOKEN_ONLY);
    const sender = s.app.get(TxSenderService);
    await asleep(sender);
    const started = Date.now();
    const queued = await enqueue(s, registerCall(Wallet.createRandom().address, await kycExpiry()));
    const done = await sender.waitFor(queued.id, 20_000);
    expect(done.status).to.equal("mined");
    expect(Date.now() - started).to.be.below(20_000);
  });

  if (usePostgres()) {
    it("is woken by a replica's enqueue in another application (NOTIFY at commit, LISTEN), also after its listening connection was terminated", async function () {
      const s = await start(WOKEN_ONLY);
      const sender = s.app.get(TxSenderService);
      const ds = dataSourceOf(s.app);
      const listener = async () =>
        (await ds.query("SELECT pid, state, query FROM pg_stat_activity WHERE application_name = $1 AND datname = current_database()", [
          OUTBOX_LISTENER_NAME,
        ])) as Array<{ pid: number; state: string; query: string }>;
      /** Until one connection other than `old` has LISTENed and its reconnect pass is over. */
      const listening = async (old: number | null) => {
        for (let i = 0; ; i++) {
          const rows = await listener();
          if (rows.length === 1 && rows[0].pid !== old && rows[0].state === "idle" && /^LISTEN/.test(rows[0].query)) break;
          if (i > 200) throw new Error(`the sender does not listen: ${JSON.stringify(rows)}`);
          await new Promise((r) => setTimeout(r, 50));
        }
        await new Promise((r) => setTimeout(r, 200));
        await asleep(sender);
        return (await listener())[0].pid;
      };
      // An API replica: the same database and chain, no sender, no indexer.
      const replica = await createApp(loadConfig({ ...env!.env, ...MANUAL }, PROJECT_ROOT));
      try {
        await replica.init();
        let pid = await listening(null);
        for (const round of ["listening", "listening again after pg_terminate_backend"]) {
          if (round !== "listening") {
            await ds.query("SELECT pg_terminate_backend($1)", [pid]);
            pid = await listening(pid);
          }
          const call = registerCall(Wallet.createRandom().address, await kycExpiry());
          const queued = await replica.get(DbWriter).write((m) => replica.get(TxSenderService).enqueue(m, call));
          const done = await sender.waitFor(queued.id, 20_000);
          expect(done.status, round).to.equal("mined");
        }
      } finally {
        await replica.close();
      }
    });
  }

  it("does not lose a wake that arrives while a pass is running: another pass follows", async function () {
    const s = await start(WOKEN_ONLY);
    const sender = s.app.get(TxSenderService);
    await asleep(sender);
    // The next pass reads the (empty) outbox, then stalls until the row below has committed and woken it.
    const internals = sender as unknown as { tickUnlocked: () => Promise<void> };
    const original = internals.tickUnlocked.bind(sender);
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let reading!: () => void;
    const read = new Promise<void>((r) => (reading = r));
    let passes = 0;
    internals.tickUnlocked = async () => {
      passes += 1;
      await original();
      if (passes === 1) {
        reading();
        await gate;
      }
    };
    sender.wake();
    await read;
    const queued = await enqueue(s, registerCall(Wallet.createRandom().address, await kycExpiry()));
    expect((await dataSourceOf(s.app).getRepository(OutboxEntity).findOneByOrFail({ id: queued.id })).status).to.equal("queued");
    release();
    const done = await sender.waitFor(queued.id, 20_000);
    expect(done.status).to.equal("mined");
    expect(passes).to.be.greaterThan(1);
  });

  it("keeps one key's queue FIFO: a request waiting out a node error holds back the request that depends on it", async function () {
    const s = await start();
    const sender = s.app.get(TxSenderService);
    const ds = dataSourceOf(s.app);
    const member = Wallet.createRandom().address;
    const first = await enqueue(s, registerCall(member, await kycExpiry()));
    const second = await enqueue(s, updateCall(member, 1 | 2)); // reverts unless `first` is mined

    const provider = providerOf(sender);
    const estimate = provider.estimateGas.bind(provider);
    let refused = 0;
    provider.estimateGas = async (tx: unknown) => {
      if (refused++ === 0) throw connectionRefused();
      return estimate(tx);
    };
    try {
      await sender.tick();
      const head = await row(ds, first.id);
      expect([head.status, head.attempts, head.nonce]).to.deep.equal(["queued", 1, null]);
      expect(head.lastError).to.contain("ECONNREFUSED");
      expect(head.nextAttemptAt).to.be.greaterThan(Date.now() - 1000);
      // However slow this machine, the head is still in its backoff for the next pass.
      await ds.query(`UPDATE outbox SET next_attempt_at = ${Date.now() + 60_000} WHERE id = '${first.id}'`);
      await sender.tick();
      expect((await row(ds, first.id)).status).to.equal("queued");
      const behind = await row(ds, second.id);
      expect([behind.status, behind.nonce, behind.attempts, behind.failureReason]).to.deep.equal(["queued", null, 0, null]);
    } finally {
      provider.estimateGas = estimate;
    }
    await ds.query(`UPDATE outbox SET next_attempt_at = 0 WHERE id = '${first.id}'`);

    const deadline = Date.now() + 20_000;
    while (!["mined", "failed"].includes((await row(ds, second.id)).status) && Date.now() < deadline) {
      await sender.tick();
      await new Promise((r) => setTimeout(r, 50));
    }
    const [a, b] = [await row(ds, first.id), await row(ds, second.id)];
    expect([a.status, b.status]).to.deep.equal(["mined", "mined"]);
    expect(b.nonce).to.equal(a.nonce! + 1);
    expect(Number((await env!.ledger.registry.member(member)).roles)).to.equal(3);
  });

  it("reads the rows of the keys with rows in flight only: one outbox statement for an idle pass", async function () {
    const s = await start();
    const sender = s.app.get(TxSenderService);
    const ds = dataSourceOf(s.app);
    await sender.tick(); // the first pass also looks for relayer keys that left the pool
    // Every statement of both drivers goes through the data source's logger.
    const seen: Array<{ sql: string; params: unknown[] }> = [];
    const logQuery = ds.logger.logQuery.bind(ds.logger);
    ds.logger.logQuery = (sql, params, runner) => {
      if (/\boutbox\b/i.test(sql)) seen.push({ sql, params: params ?? [] });
      logQuery(sql, params, runner);
    };
    try {
      await sender.tick();
      expect(seen.map((q) => q.sql), "an idle pass").to.have.length(1);

      seen.length = 0;
      const ok = await enqueue(s, registerCall(Wallet.createRandom().address, await kycExpiry()));
      await sender.tick();
      expect((await row(ds, ok.id)).status).to.be.oneOf(["sent", "mined"]);
      const signers = new Set(seen.flatMap((q) => q.params.filter((p) => ["operator", "compliance", "relayer", "issuer"].includes(p as string))));
      expect([...signers], "keys whose rows the pass read").to.deep.equal(["operator"]);
    } finally {
      ds.logger.logQuery = logQuery;
    }
  });

  it("fails a transaction that reverts in estimation with the decoded custom error and spends no nonce", async function () {
    const s = await start();
    const sender = s.app.get(TxSenderService);
    const ds = dataSourceOf(s.app);
    const operator = env!.keys.operator.address;
    const member = Wallet.createRandom().address;
    const expiry = await kycExpiry();
    const ok = await enqueue(s, registerCall(member, expiry));
    await sender.tick();
    await sender.tick();
    expect((await row(ds, ok.id)).status).to.equal("mined");
    const nonceBefore = (await ds.getRepository(KeyNonceEntity).findOneByOrFail({ address: operator })).nextNonce;
    const countBefore = await chain.provider.getTransactionCount(operator, "latest");

    const dup = await enqueue(s, registerCall(member, expiry));
    await sender.tick();
    const failed = await row(ds, dup.id);
    expect(failed.status).to.equal("failed");
    expect(failed.failureReason).to.equal(`reverted: RegistryMemberExists(${member})`);
    expect([failed.nonce, failed.txHash, failed.rawTx]).to.deep.equal([null, null, null]);
    expect((await ds.getRepository(KeyNonceEntity).findOneByOrFail({ address: operator })).nextNonce).to.equal(nonceBefore);
    expect(await chain.provider.getTransactionCount(operator, "latest")).to.equal(countBefore);

    // The next transaction takes the nonce the failed one did not use.
    const next = await enqueue(s, registerCall(Wallet.createRandom().address, expiry));
    await sender.tick();
    await sender.tick();
    const mined = await row(ds, next.id);
    expect([mined.status, mined.nonce]).to.deep.equal(["mined", nonceBefore]);
  });

  it("after a crash between broadcast and bookkeeping, rebroadcasts the same bytes and settles the row once", async function () {
    const s = await start();
    const sender = s.app.get(TxSenderService);
    const ds = dataSourceOf(s.app);
    const operator = env!.keys.operator.address;
    const queued = await enqueue(s, registerCall(Wallet.createRandom().address, await kycExpiry()));
    await sender.tick(); // signed and broadcast (automine: already in a block)
    const sent = await row(ds, queued.id);
    expect(sent.status).to.equal("sent");
    expect((await chain.provider.getTransaction(sent.txHash!))?.blockNumber).to.be.a("number");
    // The process died after the node took the transaction but before `sent` was recorded.
    await ds.query(`UPDATE outbox SET status = 'signed' WHERE id = '${queued.id}'`);
    await s.close();
    svc = null;

    const second = await createApp({ ...env!.config, SENDER_ENABLED: true });
    await second.init();
    svc = { app: second, url: "", close: () => second.close() };
    const done = await second.get(TxSenderService).waitFor(queued.id, 20_000);
    expect(done.status).to.equal("mined");
    expect([done.txHash, done.nonce, done.rawTx]).to.deep.equal([sent.txHash, sent.nonce, sent.rawTx]);
    expect(await transactionsWith(operator, sent.data)).to.deep.equal([sent.txHash]);
    expect(await chain.provider.getTransactionCount(operator, "latest")).to.equal(sent.nonce! + 1);
    const ds2 = dataSourceOf(second);
    expect((await ds2.getRepository(KeyNonceEntity).findOneByOrFail({ address: operator })).nextNonce).to.equal(sent.nonce! + 1);
  });

  it("after a crash between signing and broadcast, the new process broadcasts the stored transaction", async function () {
    const s = await start();
    const sender = s.app.get(TxSenderService);
    const ds = dataSourceOf(s.app);
    const operator = env!.keys.operator.address;
    const queued = await enqueue(s, registerCall(Wallet.createRandom().address, await kycExpiry()));
    const provider = providerOf(sender);
    const send = provider.send.bind(provider);
    provider.send = async (method: string, params: unknown[]) => {
      if (method === "eth_sendRawTransaction") throw connectionRefused(); // never reaches the node
      return send(method, params);
    };
    await sender.tick();
    provider.send = send;
    const signed = await row(ds, queued.id);
    expect(signed.status).to.equal("signed");
    expect(signed.lastError).to.contain("ECONNREFUSED");
    expect(await chain.provider.getTransaction(signed.txHash!)).to.equal(null);
    await s.close();
    svc = null;

    const second = await createApp({ ...env!.config, SENDER_ENABLED: true });
    await second.init();
    svc = { app: second, url: "", close: () => second.close() };
    const done = await second.get(TxSenderService).waitFor(queued.id, 20_000);
    expect(done.status).to.equal("mined");
    expect([done.txHash, done.nonce]).to.deep.equal([signed.txHash, signed.nonce]);
    expect(await transactionsWith(operator, signed.data)).to.deep.equal([signed.txHash]);
    expect(await chain.provider.getTransactionCount(operator, "latest")).to.equal(signed.nonce! + 1);
  });

  it("treats the node's 'Known transaction' answer to a rebroadcast as sent", async function () {
    const s = await start();
    const sender = s.app.get(TxSenderService);
    const ds = dataSourceOf(s.app);
    const queued = await enqueue(s, registerCall(Wallet.createRandom().address, await kycExpiry()));
    await chain.provider.send("evm_setAutomine", [false]); // the transaction waits in the mempool
    try {
      await sender.tick();
      expect((await row(ds, queued.id)).status).to.equal("sent");
      await ds.query(`UPDATE outbox SET status = 'signed' WHERE id = '${queued.id}'`);
      await sender.tick(); // the node still holds it: "Known transaction: 0x…"
      const again = await row(ds, queued.id);
      expect([again.status, again.attempts, again.lastError]).to.deep.equal(["sent", 0, null]);
      await chain.provider.send("evm_mine", []);
    } finally {
      await chain.provider.send("evm_setAutomine", [true]);
    }
    await sender.tick();
    const done = await row(ds, queued.id);
    expect(done.status).to.equal("mined");
    expect(await transactionsWith(env!.keys.operator.address, done.data)).to.deep.equal([done.txHash]);
  });

  it("runs the completion handler in the transaction that makes the row final", async function () {
    const s = await start();
    const sender = s.app.get(TxSenderService);
    const ds = dataSourceOf(s.app);
    const pg = ds.options.type === "postgres";
    await ds.query("CREATE TABLE test_markers (outbox_id varchar(36) PRIMARY KEY, status varchar(16) NOT NULL)");
    let calls = 0;
    sender.onCompletion("test-marker", async (r, m) => {
      calls++;
      await m.query(`INSERT INTO test_markers (outbox_id, status) VALUES (${pg ? "$1, $2" : "?, ?"})`, [r.id, r.status]);
      // The first call fails after writing its marker: the marker must vanish with the final state.
      if (calls === 1) throw new Error("handler failed once");
    });
    /** For every row: a marker exists exactly when the row is final, with its final status. */
    const expectMarkersIffFinal = async () => {
      const rows: Array<{ status: string; marker: string | null }> = await ds.query(
        "SELECT o.status AS status, t.status AS marker FROM outbox o LEFT JOIN test_markers t ON t.outbox_id = o.id WHERE o.reference_type = 'test-marker'",
      );
      for (const r of rows) expect(r.marker, `marker of a ${r.status} row`).to.equal(["mined", "failed"].includes(r.status) ? r.status : null);
      return rows;
    };

    const member = Wallet.createRandom().address;
    const expiry = await kycExpiry();
    const good = await enqueue(s, { ...registerCall(member, expiry), referenceType: "test-marker", referenceId: "good" });
    await sender.tick(); // signed and sent
    expect((await row(ds, good.id)).status).to.equal("sent");
    await expectMarkersIffFinal();

    await sender.tick(); // receipt found; the handler throws: nothing of that transaction stays
    const held = await row(ds, good.id);
    expect(held.status).to.equal("sent");
    expect(held.lastError).to.contain("handler failed once");
    expect(calls).to.equal(1);
    expect(await expectMarkersIffFinal()).to.deep.equal([{ status: "sent", marker: null }]);

    await sender.tick(); // settled again; the handler succeeds this time
    expect((await row(ds, good.id)).status).to.equal("mined");
    expect(calls).to.equal(2);
    expect(await expectMarkersIffFinal()).to.deep.equal([{ status: "mined", marker: "mined" }]);

    // A failure is final too, and its handler runs with it.
    const dup = await enqueue(s, { ...registerCall(member, expiry), referenceType: "test-marker", referenceId: "dup" });
    await sender.tick();
    expect((await row(ds, dup.id)).status).to.equal("failed");
    expect(calls).to.equal(3);
    const all = await expectMarkersIffFinal();
    expect(all.map((r) => r.status).sort()).to.deep.equal(["failed", "mined"]);
    await sender.tick(); // nothing runs twice
    expect(calls).to.equal(3);
  });

  it("keeps rows queued while the node is down: attempts, backoff and the error recorded, no nonce spent", async function () {
    const own = await startChain();
    // stop() of test/support/chain.ts must run once: a second call waits for an exit already seen.
    let stopped = false;
    const stopOwn = async () => {
      if (!stopped) await own.stop();
      stopped = true;
    };
    try {
      const s = await start({ SENDER_MAX_ATTEMPTS: "2" }, own);
      const sender = s.app.get(TxSenderService);
      const ds = dataSourceOf(s.app);
      const operator = env!.keys.operator.address;
      const expiry = await kycExpiry(own);
      const warmup = await enqueue(s, registerCall(Wallet.createRandom().address, expiry));
      await sender.tick();
      await sender.tick();
      expect((await row(ds, warmup.id)).status).to.equal("mined");
      const nonceBefore = (await ds.getRepository(KeyNonceEntity).findOneByOrFail({ address: operator })).nextNonce;
      const queued = [];
      for (let i = 0; i < 3; i++) queued.push(await enqueue(s, registerCall(Wallet.createRandom().address, expiry)));

      await stopOwn();
      const err = await providerOf(sender)
        .send("eth_blockNumber", [])
        .then(
          () => null,
          (e: unknown) => e,
        );
      expect(isRetryable(err), "a refused connection is retryable").to.equal(true);

      // Several passes, more than SENDER_MAX_ATTEMPTS, each after the backoff has run out.
      for (let i = 0; i < 4; i++) {
        await ds.query("UPDATE outbox SET next_attempt_at = 0");
        await sender.tick();
      }
      const rows = await Promise.all(queued.map((q) => row(ds, q.id)));
      expect(rows.map((r) => r.status)).to.deep.equal(["queued", "queued", "queued"]);
      expect(rows.map((r) => r.nonce)).to.deep.equal([null, null, null]);
      expect(rows[0].attempts).to.equal(4);
      expect(rows[0].lastError).to.contain("ECONNREFUSED");
      expect(rows[0].nextAttemptAt).to.be.greaterThan(Date.now());
      // FIFO: the rows behind the head were not tried out of turn.
      expect(rows.slice(1).map((r) => r.attempts)).to.deep.equal([0, 0]);
      expect((await ds.getRepository(KeyNonceEntity).findOneByOrFail({ address: operator })).nextNonce).to.equal(nonceBefore);
    } finally {
      await stopOwn();
    }
  });
  describe("a pool of relayer keys (RELAYER_KEYS)", function () {
    /** A relayed transaction any key can send: calldata to an account without code, tagged `tag`. */
    function relayCall(participant: string, tag: string): EnqueueRequest {
      return { signer: "relayer", relayFor: participant, to: Wallet.createRandom().address, data: keccakId(tag), kind: "test.relay" };
    }

    /** `perKey` participants for each key of the pool, so every key has work. */
    function participantsPerKey(s: RunningService, perKey: number): string[][] {
      const chainSvc = s.app.get(ChainService);
      const pool = chainSvc.wallets.relayers.map((w) => w.address);
      const out: string[][] = pool.map(() => []);
      while (out.some((ps) => ps.length < perKey)) {
        const p = Wallet.createRandom().address;
        const k = pool.indexOf(chainSvc.relayerFor(p).address);
        if (out[k].length < perKey) out[k].push(p);
      }
      return out;
    }

    /** Each key's nonces are contiguous from its chain nonce before the test, each row's bytes are on chain once. */
    async function expectSentOncePerKey(done: OutboxEntity[], startNonce: Map<string, number>): Promise<void> {
      const ds = dataSourceOf(svc!.app);
      for (const [address, first] of startNonce) {
        const mine = done.filter((r) => r.fromAddress === address);
        expect(mine.length, address).to.be.greaterThan(0);
        expect(mine.map((r) => r.nonce!).sort((a, b) => a - b)).to.deep.equal(Array.from({ length: mine.length }, (_, i) => first + i));
        expect(await chain.provider.getTransactionCount(address, "latest")).to.equal(first + mine.length);
        expect((await ds.getRepository(KeyNonceEntity).findOneByOrFail({ address })).nextNonce).to.equal(first + mine.length);
      }
      for (const r of done) {
        expect(await transactionsWith(r.fromAddress, r.data), r.id).to.deep.equal([r.txHash]);
        expect((await chain.provider.getTransaction(r.txHash!))!.from).to.equal(r.fromAddress);
      }
    }

    it("spreads relayed transactions over the keys by participant: one key per participant, contiguous nonces per key, each row sent once", async function () {
      const s = await start({ SENDER_ENABLED: "true", RELAYER_KEYS: "3" });
      const sender = s.app.get(TxSenderService);
      const pool = env!.keys.relayers.map((w) => w.address);
      expect(s.app.get(ChainService).wallets.relayers.map((w) => w.address)).to.deep.equal(pool);
      const startNonce = new Map(await Promise.all(pool.map(async (a) => [a, await chain.provider.getTransactionCount(a, "latest")] as const)));
      const groups = participantsPerKey(s, 3);
      // Each participant's acts twice, all enqueued at once in their own database transactions.
      const reqs = groups.flatMap((ps, k) => ps.flatMap((p, i) => [0, 1].map((n) => ({ k, p, req: relayCall(p, `pool ${k} ${i} ${n}`) }))));
      const rows = await Promise.all(reqs.map((x) => enqueue(s, x.req)));
      rows.forEach((r, i) => expect(r.fromAddress, `row ${i}`).to.equal(pool[reqs[i].k]));
      const done = await Promise.all(rows.map((r) => sender.waitFor(r.id, 60_000)));
      expect(done.map((r) => r.status)).to.deep.equal(Array(reqs.length).fill("mined"));
      await expectSentOncePerKey(done, startNonce);
      // A participant's two transactions went in the order they were accepted, behind one key.
      for (let i = 0; i < rows.length; i += 2) {
        const [a, b] = [done.find((r) => r.id === rows[i].id)!, done.find((r) => r.id === rows[i + 1].id)!];
        expect(a.fromAddress).to.equal(b.fromAddress);
        expect(a.nonce! < b.nonce! === a.seq < b.seq).to.equal(true);
      }
    });

    it("after a restart mid-pass (one key signed but not broadcast, another broadcast but not recorded), sends every row once with its stored nonce", async function () {
      const s = await start({ RELAYER_KEYS: "2" });
      const sender = s.app.get(TxSenderService);
      const ds = dataSourceOf(s.app);
      const pool = env!.keys.relayers.map((w) => w.address);
      const startNonce = new Map(await Promise.all(pool.map(async (a) => [a, await chain.provider.getTransactionCount(a, "latest")] as const)));
      const groups = participantsPerKey(s, 2);
      const rows = [];
      for (const [k, ps] of groups.entries()) for (const [i, p] of ps.entries()) rows.push(await enqueue(s, relayCall(p, `restart ${k} ${i}`)));
      // The pass: key 1's broadcasts never reach the node (the process dies right after signing them).
      const provider = providerOf(sender);
      const send = provider.send.bind(provider);
      provider.send = async (method: string, params: unknown[]) => {
        if (method === "eth_sendRawTransaction" && Transaction.from(params[0] as string).from === pool[1]) throw connectionRefused();
        return send(method, params);
      };
      // (Automine may take a JSON-RPC batch's second nonce before its first and refuse it: another pass.)
      for (let i = 0; i < 5 && (await row(ds, rows[1].id)).status !== "sent"; i++) {
        await ds.query("UPDATE outbox SET next_attempt_at = 0");
        await sender.tick();
      }
      provider.send = send;
      const before = await Promise.all(rows.map((r) => row(ds, r.id)));
      expect(before[0].status).to.be.oneOf(["sent", "mined"]);
      expect(before.slice(1).map((r) => r.status)).to.deep.equal(["sent", "signed", "signed"]);
      for (const r of before.slice(2)) expect(await chain.provider.getTransaction(r.txHash!)).to.equal(null);
      // … and key 0's second broadcast reached the node but not the database.
      await ds.query(`UPDATE outbox SET status = 'signed' WHERE id = '${rows[1].id}'`);
      await s.close();
      svc = null;

      const second = await createApp({ ...env!.config, SENDER_ENABLED: true });
      await second.init();
      svc = { app: second, url: "", close: () => second.close() };
      const done = await Promise.all(rows.map((r) => second.get(TxSenderService).waitFor(r.id, 20_000)));
      expect(done.map((r) => r.status)).to.deep.equal(["mined", "mined", "mined", "mined"]);
      expect(done.map((r) => [r.txHash, r.nonce])).to.deep.equal(before.map((r) => [r.txHash, r.nonce]));
      await expectSentOncePerKey(done, startNonce);
    });

    it("moves queued rows of a key taken out of the pool (RELAYER_KEYS lowered) to the first key, which sends them", async function () {
      const s = await start({ RELAYER_KEYS: "2" });
      const pool = env!.keys.relayers.map((w) => w.address);
      const [, second] = participantsPerKey(s, 1);
      const queued = await enqueue(s, relayCall(second[0], "lowered"));
      expect(queued.fromAddress).to.equal(pool[1]);
      await s.close();
      svc = null;

      const app = await createApp({ ...env!.config, RELAYER_KEYS: 1, SENDER_ENABLED: true });
      await app.init();
      svc = { app, url: "", close: () => app.close() };
      const done = await app.get(TxSenderService).waitFor(queued.id, 20_000);
      expect([done.status, done.fromAddress]).to.deep.equal(["mined", pool[0]]);
      expect((await chain.provider.getTransaction(done.txHash!))!.from).to.equal(pool[0]);
    });
  });
});
