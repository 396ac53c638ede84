import { expect } from "chai";
import request from "supertest";
import { IndexerService } from "../../services/src/indexer/indexer.service";
import { IndexerStateEntity } from "../../services/src/indexer/entities/indexer-state.entity";
import { DbWriter } from "../../services/src/database/db-writer";
import { LedgerEventEntity } from "../../services/src/read-model/entities/ledger-event.entity";
import { ReceivableEntity } from "../../services/src/read-model/entities/projections.entity";
import { createApp } from "../../services/src/app.factory";
import { startChain, type TestChain } from "../support/chain";
import { cleanupEnv, prepareEnv, startService, usePostgres, type RunningService, type TestEnv } from "../support/app";
import { LedgerDriver, runFullLifecycle, DAY } from "../support/ledger-driver";
import {
  dataSourceOf,
  dumpIndex,
  eventFeed,
  expectEventFeedMatchesChain,
  expectIndexEqualsChain,
  expectProjectionsMatchChain,
  expectStoredHashesOnChain,
} from "../support/index-check";
import { dropDeferrableIndexes, presentIndexes, deferrableIndexes } from "../../services/src/indexer/deferred-indexes";
import { fetched, gateBlockReads, gateLogReads, readerOf, recordCheckpoints, until } from "../support/indexer-probe";
import { receivableIdHex } from "../../shared/ids";
import { ROLE_BITS } from "../../shared/roles";

const MANUAL = { INDEXER_ENABLED: "false", SENDER_ENABLED: "false" };

describe("Indexer (hardhat node over JSON-RPC, real database)", function () {
  let chain: TestChain;
  let env: TestEnv;
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
  });

  async function start(overrides: Record<string, string> = {}): Promise<RunningService> {
    env = await prepareEnv(chain, { ...MANUAL, ...overrides });
    svc = await startService(env);
    return svc;
  }

  it("indexes a full lifecycle: every event once, in order, with block, time, sender and actor; projections equal the contracts", async function () {
    const s = await start();
    const d = await LedgerDriver.onboard(env);
    const life = await runFullLifecycle(d);
    const indexer = s.app.get(IndexerService);
    const head = await d.head();
    expect(await indexer.catchUp()).to.equal(head);
    const ds = dataSourceOf(s.app);

    const feed = await expectEventFeedMatchesChain(ds, env, head);
    await expectProjectionsMatchChain(ds, env, head);

    // Every kind of event the lifecycle produces is in the feed.
    const names = new Set(feed.map((e) => `${e.contract}.${e.eventName}`));
    for (const n of [
      "ParticipantRegistry.MemberRegistered",
      "ParticipantRegistry.MemberUpdated",
      "ParticipantRegistry.KycRenewed",
      "ParticipantRegistry.MemberSuspended",
      "ParticipantRegistry.MemberReinstated",
      "SettlementToken.Transfer",
      "SettlementToken.Approval",
      "Receivables.Transfer",
      "Receivables.ReceivableTokenised",
      "Receivables.ReceivableAccepted",
      "Receivables.ReceivableCancelled",
      "Receivables.CreditNoteApplied",
      "Receivables.ReceivableSplit",
      "Receivables.ReceivableAssigned",
      "Receivables.ReceivablePaid",
      "Receivables.ReceivableDefaulted",
      "Receivables.NonceInvalidated",
      "Financing.CreditLineOpened",
      "Financing.CreditLineUpdated",
      "Financing.CreditLineClosed",
      "Financing.FinancingRequested",
      "Financing.FinancingRejected",
      "Financing.FinancingApproved",
      "Financing.FinancingRepaid",
      "Financing.FinancingWrittenOff",
    ]) {
      expect(names, n).to.include(n);
    }

    // A relayed signed act: sent by the relayer, the act is the buyer's.
    const accepted = feed.filter((e) => e.txHash === life.acceptBySigTx);
    expect(accepted.map((e) => e.eventName)).to.deep.equal(["ReceivableAccepted"]);
    expect(accepted[0].txFrom).to.equal(d.p.relayer.address);
    expect(accepted[0].actor).to.equal(d.p.buyer.address);
    expect(accepted[0].receivableId).to.equal(receivableIdHex(life.financed));

    // Actors: never the zero address; a financier's acts on its line name the financier, a
    // repayment names the paying debtor; direct acts name their sender.
    for (const e of feed) expect(e.actor, `${e.eventName} actor`).to.not.equal("0x0000000000000000000000000000000000000000");
    const actorOf = (name: string) => [...new Set(feed.filter((e) => e.eventName === name).map((e) => e.actor))];
    for (const n of ["CreditLineOpened", "CreditLineUpdated", "CreditLineClosed", "FinancingRejected", "FinancingApproved", "FinancingWrittenOff"]) {
      expect(actorOf(n), n).to.deep.equal([d.p.financier.address]);
    }
    expect(actorOf("FinancingRepaid")).to.deep.equal([d.p.buyer.address]);
    expect(actorOf("ReceivablePaid")).to.deep.equal([d.p.buyer.address]);
    expect(actorOf("NonceInvalidated")).to.deep.equal([d.p.buyer.address]);
    expect(actorOf("FinancingRequested").sort()).to.deep.equal([d.p.supplier.address, d.p.supplier2.address].sort());
    for (const e of feed.filter((x) => x.eventName === "MemberRegistered")) {
      expect(e.txFrom).to.equal(env.keys.operator.address);
      expect(e.actor).to.equal(e.args.account);
    }

    // Split children carry their parent; the parent is split and burned.
    const repo = ds.getRepository(ReceivableEntity);
    for (const c of life.children) {
      expect((await repo.findOneByOrFail({ id: receivableIdHex(c) })).parentId).to.equal(receivableIdHex(life.splitParent));
    }
    const parent = await repo.findOneByOrFail({ id: receivableIdHex(life.splitParent) });
    expect([parent.status, parent.holder]).to.deep.equal(["split", null]);

    // The checkpoint is the head, with its hash.
    const cp = await ds.getRepository(IndexerStateEntity).findOneByOrFail({ id: "ledger" });
    expect(cp.blockNumber).to.equal(head);
    expect(cp.blockHash).to.equal((await chain.provider.getBlock(head))!.hash);
  });

  it("resumes after a restart from its checkpoint with no gap and no duplicate", async function () {
    // Small batches with the background loop on: the first app is stopped mid-stream.
    await start({ INDEXER_BATCH_BLOCKS: "3" });
    const d = await LedgerDriver.onboard(env);
    const r = await d.tokenise(d.p.supplier, d.p.buyer);
    await d.accept(d.p.buyer, r);
    const firstApp = svc!;
    await firstApp.app.get(IndexerService).step(); // part of the chain only
    await firstApp.app.get(IndexerService).step();
    const before = await dataSourceOf(firstApp.app).getRepository(IndexerStateEntity).findOneByOrFail({ id: "ledger" });
    expect(before.blockNumber).to.be.lessThan(await d.head());
    await firstApp.close();
    svc = null;

    // More events while the service is down.
    await runFullLifecycle(d);
    const head = await d.head();

    // A new application on the same database, this time with its indexing loop running.
    const second = await createApp({ ...env.config, INDEXER_ENABLED: true, INDEXER_POLL_MS: 20 });
    await second.init();
    svc = { app: second, url: "", close: () => second.close() };
    const ds = dataSourceOf(second);
    const deadline = Date.now() + 60_000;
    while ((await ds.getRepository(IndexerStateEntity).findOneByOrFail({ id: "ledger" })).blockNumber < head) {
      if (Date.now() > deadline) throw new Error("the restarted indexer did not reach the head");
      await new Promise((res) => setTimeout(res, 50));
    }
    await second.get(IndexerService).catchUp();

    await expectIndexEqualsChain(ds, env, head);
  });

  /** A service indexing one block per range, onboarded members, and the index caught up with the chain. */
  async function indexedInOneBlockRanges() {
    const s = await start({ INDEXER_BATCH_BLOCKS: "1" });
    const d = await LedgerDriver.onboard(env);
    const indexer = s.app.get(IndexerService);
    await indexer.catchUp();
    return { s, d, indexer, writer: s.app.get(DbWriter), ds: dataSourceOf(s.app), cp0: await indexer.checkpoint() };
  }

  /** A service indexing one block per range, and a full lifecycle on the chain that it has not indexed yet. */
  async function lifecycleInOneBlockRanges() {
    const s = await start({ INDEXER_BATCH_BLOCKS: "1" });
    const d = await LedgerDriver.onboard(env);
    await runFullLifecycle(d);
    const indexer = s.app.get(IndexerService);
    return { head: await d.head(), indexer, ds: dataSourceOf(s.app), from: (await indexer.checkpoint()).blockNumber, writer: s.app.get(DbWriter) };
  }

  it("catching up writes ranges already fetched in one transaction: fewer commits than ranges, the same index", async function () {
    // One block per range, so the lifecycle spans dozens of ranges fetched ahead of the writes.
    const { head, indexer, ds, from, writer } = await lifecycleInOneBlockRanges();
    // The first range is answered once the two after it have been, so at least its write finds
    // ranges already fetched whatever the machine's speed (a fast writer on a slow node otherwise
    // finds one range at a time).
    const ungate = gateLogReads(indexer, (n) =>
      n === from + 1 ? until("ranges from+2 and from+3 fetched", () => fetched(indexer, from + 2) && fetched(indexer, from + 3)) : Promise.resolve(),
    );
    const write = writer.write.bind(writer);
    let commits = 0;
    writer.write = ((fn: Parameters<DbWriter["write"]>[0]) => {
      commits++;
      return write(fn);
    }) as DbWriter["write"];
    try {
      expect(await indexer.catchUp()).to.equal(head);
    } finally {
      ungate();
      writer.write = write;
    }
    expect(commits, `${head - from} one-block ranges`).to.be.greaterThan(0).and.lessThan(head - from);
    await expectIndexEqualsChain(ds, env, head);
  });

  it("catching up, a range whose logs are in and only its blocks on their way joins the write being gathered instead of waiting for a commit of its own", async function () {
    const { head, indexer, ds, from, writer } = await lifecycleInOneBlockRanges();
    // Range from+1 is answered (its block) only once range from+2's logs are in, and range from+2's
    // block only after that: when the first write is gathered, from+2 is fetched but for its block.
    const reader = readerOf(indexer);
    const send = reader.send.bind(reader);
    let secondLogs = false;
    let firstBlock = false;
    reader.send = async (method: string, params: unknown[]) => {
      const block = method === "eth_getBlockByNumber" ? Number(params[0]) : null;
      if (block === from + 1) await until("range from+2's logs answered", () => secondLogs);
      if (block === from + 2) await until("block from+1 answered", () => firstBlock);
      const res = await send(method, params);
      if (method === "eth_getLogs" && Number((params[0] as { fromBlock: string }).fromBlock) === from + 2) secondLogs = true;
      if (block === from + 1) firstBlock = true;
      return res;
    };
    const rec = recordCheckpoints(writer, indexer);
    try {
      expect(await indexer.catchUp()).to.equal(head);
    } finally {
      reader.send = send;
      rec.restore();
    }
    const firstWrite = rec.after.find((c) => c.blockNumber > from);
    expect(firstWrite?.blockNumber, "the first write's last block").to.be.at.least(from + 2);
    await expectIndexEqualsChain(ds, env, head);
  });

  it("on a chain dense with ledger events, asks for a range's blocks (with their senders) together with its logs, not once the logs are read", async function () {
    const s = await start({ INDEXER_BATCH_BLOCKS: "1" });
    const d = await LedgerDriver.onboard(env);
    // A run of blocks that each hold ledger events, longer than the ranges requested ahead at once.
    for (let i = 0; i < 12; i++) await d.tokenise(d.p.supplier, d.p.buyer);
    const head = await d.head();
    const indexer = s.app.get(IndexerService);
    // The last range's logs are answered only once its block has been asked for: a block requested
    // after the logs had been read would never be, and catchUp() would fail on the wait's timeout.
    const reader = readerOf(indexer);
    const send = reader.send.bind(reader);
    let blockAsked = false;
    reader.send = async (method: string, params: unknown[]) => {
      if (method === "eth_getBlockByNumber" && Number(params[0]) === head && params[1] === true) blockAsked = true;
      if (method === "eth_getLogs" && Number((params[0] as { fromBlock: string }).fromBlock) === head) {
        await until(`block ${head} requested with its transactions`, () => blockAsked, 5_000);
      }
      return send(method, params);
    };
    try {
      expect(await indexer.catchUp()).to.equal(head);
    } finally {
      reader.send = send;
    }
    await expectIndexEqualsChain(dataSourceOf(s.app), env, head);
  });

  it("reads each range's logs once, while catching up and while following the head one block at a time", async function () {
    const { head, indexer, ds } = await lifecycleInOneBlockRanges();
    const reader = readerOf(indexer);
    const send = reader.send.bind(reader);
    const asked: number[] = [];
    reader.send = (method: string, params: unknown[]) => {
      if (method === "eth_getLogs") asked.push(Number((params[0] as { fromBlock: string }).fromBlock));
      return send(method, params);
    };
    try {
      expect(await indexer.catchUp()).to.equal(head);
      const d = await LedgerDriver.onboard(env); // more blocks, each indexed as the head reaches it
      for (let n = 0; n < 3; n++) {
        await chain.provider.send("evm_mine", []);
        expect(await indexer.catchUp()).to.equal(await d.head());
      }
    } finally {
      reader.send = send;
    }
    const twice = asked.filter((n, i) => asked.indexOf(n) !== i);
    expect(twice, `eth_getLogs from blocks ${asked.join(", ")}`).to.deep.equal([]);
    await expectIndexEqualsChain(ds, env, await chain.provider.getBlockNumber());
  });

  it("catching up with the next range already requested asks the node for the head and the checkpoint's block only when the pipeline runs dry: fewer head reads than writes, the same index", async function () {
    const { head, indexer, ds, from, writer } = await lifecycleInOneBlockRanges();
    // One write per range: each range's read waits until the one before it is committed, so every
    // step after the first finds its range requested (in flight) and none is grouped.
    const rec = recordCheckpoints(writer, indexer);
    const ungate = gateLogReads(indexer, (n) => until(`block ${n - 1} committed`, () => n === from + 1 || rec.after.some((c) => c.blockNumber >= n - 1)));
    const reader = readerOf(indexer);
    const send = reader.send.bind(reader);
    let headReads = 0;
    reader.send = (method: string, params: unknown[]) => {
      if (method === "eth_blockNumber") headReads++;
      return send(method, params);
    };
    try {
      expect(await indexer.catchUp()).to.equal(head);
    } finally {
      reader.send = send;
      ungate();
      rec.restore();
    }
    const writes = new Set(rec.after.map((c) => c.blockNumber).filter((n) => n > from)).size;
    expect(writes, "one write per range").to.equal(head - from);
    // Every step read the head before (a write and a final check each): head - from + 1 reads at least.
    expect(headReads, `${writes} writes`).to.be.greaterThan(0).and.lessThan(writes);
    await expectIndexEqualsChain(ds, env, head);
  });

  it("a reorg while the next range is already requested (no head or checkpoint check before its write): refused by its parent hash, rolled back, ends equal to a fresh index", async function () {
    const { d, indexer, writer, ds, cp0 } = await indexedInOneBlockRanges();

    const r0 = await d.tokenise(d.p.supplier, d.p.buyer); // cp0+1, on both forks
    const snapshot = (await chain.provider.send("evm_snapshot", [])) as string;
    await d.accept(d.p.buyer, r0); // cp0+2 on fork A
    await d.split(d.p.supplier, r0, [400_000_00n, 600_000_00n]); // cp0+3 on fork A
    const forkA = (await chain.provider.getBlock(cp0.blockNumber + 2))!.hash!;

    // cp0+1 and cp0+2 (fork A) are written in one step; cp0+3 is read only after that write, from
    // fork B, while its step skips the head and checkpoint calls.
    const rec = recordCheckpoints(writer, indexer);
    let switched = false;
    const ungate = gateLogReads(indexer, async (n) => {
      if (n === cp0.blockNumber + 1) await until("range cp0+2 fetched", () => fetched(indexer, cp0.blockNumber + 2));
      if (n === cp0.blockNumber + 3 && !switched) {
        await until("cp0+2 committed", () => rec.after.some((c) => c.blockNumber === cp0.blockNumber + 2));
        expect(await chain.provider.send("evm_revert", [snapshot])).to.equal(true);
        await d.openLine(d.p.financier, d.p.buyer, 7_000_000_00n); // cp0+2 on fork B
        await d.tokenise(d.p.supplier2, d.p.buyer); // cp0+3 on fork B
        await d.cancel(d.p.supplier, r0); // cp0+4
        switched = true;
      }
    });
    // cp0+3's block, asked for with its logs on this dense chain, is read from fork B as its logs are.
    const ungateBlocks = gateBlockReads(indexer, (n) => (n === cp0.blockNumber + 3 ? until("forks switched", () => switched) : Promise.resolve()));
    const logger = (indexer as unknown as { logger: { warn: (msg: string) => void } }).logger;
    const warn = logger.warn.bind(logger);
    const warnings: string[] = [];
    logger.warn = (msg: string) => {
      warnings.push(msg);
      warn(msg);
    };
    const head = cp0.blockNumber + 4;
    try {
      expect(await indexer.catchUp()).to.equal(head);
    } finally {
      ungateBlocks();
      ungate();
      rec.restore();
      logger.warn = warn;
    }
    expect(switched).to.equal(true);
    expect(rec.after.some((c) => c.blockHash === forkA), "fork A's cp0+2 was committed").to.equal(true);
    expect(warnings.some((w) => w.includes(`block ${cp0.blockNumber + 3} no longer follows block ${cp0.blockNumber + 2}`)), warnings.join("\n")).to.equal(true);
    expect(warnings.some((w) => w.includes(`rolling back to block ${cp0.blockNumber + 1}`)), warnings.join("\n")).to.equal(true);
    expect((await eventFeed(ds)).filter((e) => e.blockHash === forkA)).to.deep.equal([]);
    await expectStoredHashesOnChain(ds, env);
    await expectIndexEqualsChain(ds, env, head);
  });

  it("indexes a chain extended with hardhat_mine, whose reserved blocks report a zero parent hash, to its head", async function () {
    const s = await start({ INDEXER_BATCH_BLOCKS: "100" });
    const d = await LedgerDriver.onboard(env);
    const indexer = s.app.get(IndexerService);
    const ds = dataSourceOf(s.app);
    await indexer.catchUp();
    await chain.provider.send("hardhat_mine", ["0x3e8"]);
    const reserved = await chain.provider.send("eth_getBlockByNumber", ["0x" + ((await d.head()) - 500).toString(16), false]);
    expect(reserved.parentHash, "the node's quirk this test is about").to.equal("0x" + "0".repeat(64));
    await d.tokenise(d.p.supplier, d.p.buyer);
    const head = await d.head();
    // Without the exception the same range is refused for ever ("no longer follows"): stop at the first.
    const logger = (indexer as unknown as { logger: { warn: (msg: string) => void } }).logger;
    const warn = logger.warn.bind(logger);
    logger.warn = (msg: string) => {
      if (msg.includes("no longer follows")) throw new Error(msg);
      warn(msg);
    };
    try {
      expect(await indexer.catchUp()).to.equal(head);
    } finally {
      logger.warn = warn;
    }
    await expectIndexEqualsChain(ds, env, head);
  });

  it("rolls back a range whose projection fails: checkpoint, events and projections do not move; then recovers", async function () {
    const s = await start();
    const d = await LedgerDriver.onboard(env);
    const indexer = s.app.get(IndexerService);
    await indexer.catchUp();
    const ds = dataSourceOf(s.app);
    const before = await dumpIndex(ds);
    const blocksBefore = await ds.query("SELECT COUNT(*) AS n FROM indexed_blocks");

    await runFullLifecycle(d);
    // The payments projection refuses every insert, late in the range: the events and most
    // projections of the range have already been written in the same transaction.
    if (usePostgres()) {
      await ds.query(
        `CREATE FUNCTION test_refuse_payment() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'injected projection failure'; END $$ LANGUAGE plpgsql`,
      );
      await ds.query(`CREATE TRIGGER test_refuse_payment BEFORE INSERT ON payments FOR EACH ROW EXECUTE FUNCTION test_refuse_payment()`);
    } else {
      await ds.query(`CREATE TRIGGER test_refuse_payment BEFORE INSERT ON payments BEGIN SELECT RAISE(ABORT, 'injected projection failure'); END`);
    }
    let failure: unknown = null;
    try {
      await indexer.catchUp();
    } catch (err) {
      failure = err;
    }
    expect(String(failure)).to.contain("injected projection failure");
    expect(await dumpIndex(ds)).to.deep.equal(before);
    expect(await ds.query("SELECT COUNT(*) AS n FROM indexed_blocks")).to.deep.equal(blocksBefore);

    await ds.query(usePostgres() ? "DROP TRIGGER test_refuse_payment ON payments" : "DROP TRIGGER test_refuse_payment");
    if (usePostgres()) await ds.query("DROP FUNCTION test_refuse_payment()");
    const head = await d.head();
    expect(await indexer.catchUp()).to.equal(head);
    await expectEventFeedMatchesChain(ds, env, head);
    await expectProjectionsMatchChain(ds, env, head);
  });

  it("does not mistake a transport error for a reorg", async function () {
    const s = await start();
    const d = await LedgerDriver.onboard(env);
    const indexer = s.app.get(IndexerService);
    await indexer.catchUp();
    const ds = dataSourceOf(s.app);
    await d.tokenise(d.p.supplier, d.p.buyer);
    const before = await dumpIndex(ds);

    // The node drops the connection on the next block-header read (the checkpoint check).
    // (The indexer reads through the chain service's non-batching `reader` connection.)
    const provider = (indexer as unknown as { chain: { reader: { send: (m: string, p: unknown[]) => Promise<unknown> } } }).chain.reader;
    const send = provider.send.bind(provider);
    let dropped = 0;
    provider.send = async (method: string, params: unknown[]) => {
      if (method === "eth_getBlockByNumber" && dropped === 0) {
        dropped++;
        throw Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:8545"), { code: "ECONNREFUSED" });
      }
      return send(method, params);
    };
    let rebuilt = 0;
    const rebuild = indexer.rebuildProjections.bind(indexer);
    indexer.rebuildProjections = async (m) => {
      rebuilt++;
      return rebuild(m);
    };
    try {
      let failure: unknown = null;
      await indexer.step().catch((err: unknown) => (failure = err));
      expect(String(failure)).to.contain("ECONNREFUSED");
      expect(dropped).to.equal(1);
      expect(rebuilt, "projections rebuilt as if after a reorg").to.equal(0);
      expect(await dumpIndex(ds)).to.deep.equal(before);
      await indexer.catchUp();
      expect(rebuilt).to.equal(0);
      await expectEventFeedMatchesChain(ds, env, await d.head());
    } finally {
      provider.send = send;
    }
  });

  it("follows a reorg: the result equals a fresh index of the new chain and nothing of the abandoned fork remains", async function () {
    const s = await start({ INDEXER_BATCH_BLOCKS: "4" });
    const d = await LedgerDriver.onboard(env);
    const indexer = s.app.get(IndexerService);
    const r0 = await d.tokenise(d.p.supplier, d.p.buyer);
    await d.accept(d.p.buyer, r0);
    await indexer.catchUp();
    const ds = dataSourceOf(s.app);
    const snapshot = (await chain.provider.send("evm_snapshot", [])) as string;
    const forkBase = await d.head();

    // Fork A: a split, a credit line, a financing; indexed.
    const [a1] = await d.split(d.p.supplier, r0, [300_000_00n, 700_000_00n]);
    const lineA = await d.openLine(d.p.financier, d.p.buyer);
    await d.request(d.p.supplier, a1, lineA);
    await d.approve(d.p.financier, a1);
    await d.register((await chain.fundedWallet()).address, ROLE_BITS.supplier, (await d.now()) + 365 * DAY);
    await indexer.catchUp();
    const forkA = (await eventFeed(ds)).filter((e) => e.blockNumber > forkBase);
    expect(forkA.length).to.be.greaterThan(5);
    const headA = await d.head();

    // Back to the snapshot; fork B fills the same heights with different acts.
    expect(await chain.provider.send("evm_revert", [snapshot])).to.equal(true);
    expect(await d.head()).to.equal(forkBase);
    await d.pay(d.p.buyer, r0, 250_000_00n);
    const r1 = await d.tokenise(d.p.supplier2, d.p.buyer, 2_000_000_00n);
    await d.acceptBySig(d.p.buyer, r1);
    await d.transfer(d.p.supplier2, d.p.supplier, r1);
    await d.openLine(d.p.financier, d.p.buyer, 9_000_000_00n);
    for (let h = forkBase + 1; h <= Math.min(headA, await d.head()); h++) {
      expect((await chain.provider.getBlock(h))!.hash, `block ${h} replaced`).to.not.equal(forkA.find((e) => e.blockNumber === h)?.blockHash ?? "");
    }

    const head = await d.head();
    expect(await indexer.catchUp()).to.equal(head);
    const feed = await eventFeed(ds);
    const abandoned = new Set(forkA.map((e) => e.txHash));
    expect(feed.filter((e) => abandoned.has(e.txHash)), "events of the abandoned fork").to.deep.equal([]);
    expect(await ds.getRepository(ReceivableEntity).countBy({ parentId: receivableIdHex(r0) })).to.equal(0);
    await expectStoredHashesOnChain(ds, env);
    await expectIndexEqualsChain(ds, env, head);
  });

  it("a reorg inside a committed grouped write: rolls back to the fork point within the group, no further, and ends equal to the chain", async function () {
    // One block per range: a write that groups several ranges spans several blocks.
    const s = await start({ INDEXER_BATCH_BLOCKS: "1" });
    const d = await LedgerDriver.onboard(env);
    const indexer = s.app.get(IndexerService);
    const writer = s.app.get(DbWriter);
    const ds = dataSourceOf(s.app);
    await indexer.catchUp();
    const cp0 = (await indexer.checkpoint()).blockNumber;

    // Blocks cp0+1 and cp0+2 (forkBase) stay; the blocks after are replaced. The first write groups
    // the ranges cp0+1 … cp0+3: blocks of both sides of the fork point.
    const r0 = await d.tokenise(d.p.supplier, d.p.buyer);
    await d.accept(d.p.buyer, r0);
    const forkBase = await d.head();
    expect(forkBase).to.equal(cp0 + 2);
    const snapshot = (await chain.provider.send("evm_snapshot", [])) as string;
    const [a1] = await d.split(d.p.supplier, r0, [400_000_00n, 600_000_00n]);
    const lineA = await d.openLine(d.p.financier, d.p.buyer);
    await d.request(d.p.supplier, a1, lineA);
    await d.approve(d.p.financier, a1);
    const headA = await d.head();

    // The first range (cp0+1) is answered once the two after it have been: one write groups them (and
    // any range after them fetched by then).
    const ungate = gateLogReads(indexer, (from) =>
      from === cp0 + 1 ? until("ranges cp0+2 and cp0+3 fetched", () => fetched(indexer, cp0 + 2) && fetched(indexer, cp0 + 3)) : Promise.resolve(),
    );
    const rec = recordCheckpoints(writer, indexer);
    try {
      expect(await indexer.catchUp()).to.equal(headA);
    } finally {
      ungate();
      rec.restore();
    }
    // The premise: one transaction moved the checkpoint from cp0 to cp0+3 or beyond, over the fork point.
    const after = rec.after.map((c) => c.blockNumber);
    expect(after, "checkpoint after each write").to.not.include(forkBase).and.not.include(cp0 + 1);
    expect(after.find((n) => n > cp0), "checkpoint after the first write that moved it").to.be.at.least(cp0 + 3);
    const forkA = (await eventFeed(ds)).filter((e) => e.blockNumber > forkBase);
    expect(forkA.length).to.be.greaterThan(3);
    const kept = (await eventFeed(ds)).filter((e) => e.blockNumber <= forkBase);

    // Fork B: the same heights and more, with other acts.
    expect(await chain.provider.send("evm_revert", [snapshot])).to.equal(true);
    await d.pay(d.p.buyer, r0, 100_000_00n);
    const r1 = await d.tokenise(d.p.supplier2, d.p.buyer, 3_000_000_00n);
    await d.accept(d.p.buyer, r1);
    await d.openLine(d.p.financier, d.p.buyer, 7_000_000_00n);
    await d.transfer(d.p.supplier2, d.p.supplier, r1);
    const head = await d.head();
    expect(head).to.be.at.least(headA);

    // One step: the checkpoint's hash is gone from the chain; the rollback stops at the fork point,
    // inside the grouped write, keeping the group's blocks up to it.
    expect(await indexer.step()).to.equal(true);
    const cp = await indexer.checkpoint();
    expect(cp.blockNumber).to.equal(forkBase);
    expect(cp.blockHash).to.equal((await chain.provider.getBlock(forkBase))!.hash);
    expect(await eventFeed(ds)).to.deep.equal(kept);
    expect(await ds.getRepository(ReceivableEntity).countBy({ parentId: receivableIdHex(r0) }), "fork A's split children").to.equal(0);

    expect(await indexer.catchUp()).to.equal(head);
    const abandoned = new Set(forkA.map((e) => e.txHash));
    expect((await eventFeed(ds)).filter((e) => abandoned.has(e.txHash)), "events of the abandoned fork").to.deep.equal([]);
    await expectStoredHashesOnChain(ds, env);
    await expectIndexEqualsChain(ds, env, head);
  });

  it("a reorg between the fetches of ranges grouped into one write: the group is refused whole (its ranges do not chain) and the new fork indexed", async function () {
    const { d, indexer, writer, ds, cp0 } = await indexedInOneBlockRanges();

    // Block cp0+1 stays; cp0+2 and cp0+3 are replaced while the indexer fetches them.
    const r0 = await d.tokenise(d.p.supplier, d.p.buyer);
    const forkBase = await d.head();
    expect(forkBase).to.equal(cp0.blockNumber + 1);
    const snapshot = (await chain.provider.send("evm_snapshot", [])) as string;
    await d.accept(d.p.buyer, r0); // cp0+2 on fork A
    await d.split(d.p.supplier, r0, [400_000_00n, 600_000_00n]); // cp0+3 on fork A
    const forkAHashes = new Set([(await chain.provider.getBlock(forkBase + 1))!.hash, (await chain.provider.getBlock(forkBase + 2))!.hash]);

    // The range cp0+2 is read from fork A; the chain is switched to fork B before cp0+3 is read; the
    // range cp0+1 is answered last, so the three are written, or refused, together.
    let switched = false;
    const switchFork = async () => {
      expect(await chain.provider.send("evm_revert", [snapshot])).to.equal(true);
      await d.openLine(d.p.financier, d.p.buyer, 7_000_000_00n); // cp0+2 on fork B
      await d.tokenise(d.p.supplier2, d.p.buyer); // cp0+3 on fork B
      await d.cancel(d.p.supplier, r0); // cp0+4 (r0 was never accepted on fork B)
      switched = true;
    };
    let switching: Promise<void> | null = null;
    const ungate = gateLogReads(indexer, async (from) => {
      if (from === cp0.blockNumber + 3 && !switched) {
        await until("range cp0+2 fetched from fork A", () => fetched(indexer, cp0.blockNumber + 2));
        await (switching ??= switchFork());
      }
      if (from === cp0.blockNumber + 1 && !switched) {
        await until("ranges cp0+2 and cp0+3 fetched", () => fetched(indexer, cp0.blockNumber + 2) && fetched(indexer, cp0.blockNumber + 3));
      }
    });
    const logger = (indexer as unknown as { logger: { warn: (msg: string) => void } }).logger;
    const warn = logger.warn.bind(logger);
    const warnings: string[] = [];
    logger.warn = (msg: string) => {
      warnings.push(msg);
      warn(msg);
    };
    // cp0+3's block, asked for with its logs on this dense chain, is read from fork B as its logs are.
    const ungateBlocks = gateBlockReads(indexer, (n) => (n === cp0.blockNumber + 3 ? until("forks switched", () => switched) : Promise.resolve()));
    const rebuild = indexer.rebuildProjections.bind(indexer);
    let rebuilt = 0;
    indexer.rebuildProjections = async (m) => {
      rebuilt++;
      return rebuild(m);
    };
    const rec = recordCheckpoints(writer, indexer);
    const head = cp0.blockNumber + 4;
    try {
      expect(await indexer.catchUp()).to.equal(head);
    } finally {
      ungateBlocks();
      ungate();
      rec.restore();
      logger.warn = warn;
    }
    expect(switched).to.equal(true);
    expect(await d.head()).to.equal(head);
    // The group cp0+1 … cp0+3 was refused at cp0+3, whose parent is not fork A's cp0+2; nothing of it
    // was committed (no checkpoint ever on a block of fork A), so nothing had to be rolled back.
    expect(warnings.filter((w) => w.includes(`block ${cp0.blockNumber + 3} no longer follows block ${cp0.blockNumber + 2}`)), warnings.join("\n")).to.have.length(1);
    expect(rec.after.filter((c) => forkAHashes.has(c.blockHash)), "checkpoints on fork A").to.deep.equal([]);
    expect(rebuilt, "rollbacks").to.equal(0);
    expect((await eventFeed(ds)).filter((e) => forkAHashes.has(e.blockHash))).to.deep.equal([]);
    await expectStoredHashesOnChain(ds, env);
    await expectIndexEqualsChain(ds, env, head);
  });

  it("builds query indexes a crashed catch-up left dropped, with the migrations' definitions, even with nothing new to index", async function () {
    const s = await start();
    const indexer = s.app.get(IndexerService);
    const ds = dataSourceOf(s.app);
    await LedgerDriver.onboard(env);
    await indexer.catchUp();
    const definitions = await indexDefinitions(ds);
    const names = deferrableIndexes(ds.manager).map((x) => x.name);
    expect(names).to.include.members(["ix_ledger_events_order", "ix_ledger_event_parties_address", "ix_receivables_debtor"]);
    expect([...(await presentIndexes(ds.manager))].sort()).to.deep.equal([...names].sort());

    // What a catch-up that died with its indexes dropped leaves: a new process on that database.
    await s.app.get(DbWriter).write((m) => dropDeferrableIndexes(m));
    expect((await presentIndexes(ds.manager)).size).to.equal(0);
    await svc!.close();
    svc = await startService(env);
    const again = svc.app.get(IndexerService);
    const ds2 = dataSourceOf(svc.app);
    const head = await chain.provider.getBlockNumber();
    expect(await again.catchUp()).to.equal(head);
    expect(await indexDefinitions(ds2)).to.deep.equal(definitions);
  });

  it("follows a reorg to a shorter chain", async function () {
    const s = await start();
    const d = await LedgerDriver.onboard(env);
    const indexer = s.app.get(IndexerService);
    await indexer.catchUp();
    const ds = dataSourceOf(s.app);
    const snapshot = (await chain.provider.send("evm_snapshot", [])) as string;
    const r = await d.tokenise(d.p.supplier, d.p.buyer);
    await d.accept(d.p.buyer, r);
    await d.cancel(d.p.supplier, await d.tokenise(d.p.supplier, d.p.buyer));
    await indexer.catchUp();
    expect(await ds.getRepository(ReceivableEntity).count()).to.equal(2);

    await chain.provider.send("evm_revert", [snapshot]);
    await d.tokenise(d.p.supplier2, d.p.buyer); // one block: the new head is below the checkpoint
    const head = await d.head();
    expect(await indexer.catchUp()).to.equal(head);
    expect(await ds.getRepository(ReceivableEntity).count()).to.equal(1);
    await expectStoredHashesOnChain(ds, env);
    await expectIndexEqualsChain(ds, env, head);
  });

  it("a reorg that drops a second financier's request rolls the receivable's financier back to the first's (the list's ix_receivables_financier column)", async function () {
    const s = await start();
    const d = await LedgerDriver.onboard(env);
    const indexer = s.app.get(IndexerService);
    const ds = dataSourceOf(s.app);
    const financier2 = await chain.fundedWallet();
    await d.register(financier2.address, ROLE_BITS.financier | ROLE_BITS.supplier, (await d.now()) + 365 * DAY);
    const line1 = await d.openLine(d.p.financier, d.p.buyer);
    const line2 = await d.openLine(financier2, d.p.buyer);
    const r = await d.tokenise(d.p.supplier, d.p.buyer);
    await d.accept(d.p.buyer, r);
    await d.request(d.p.supplier, r, line1);
    await d.reject(d.p.financier, r);
    await indexer.catchUp();
    const financierOf = async () => (await ds.getRepository(ReceivableEntity).findOneByOrFail({ id: receivableIdHex(r) })).financier;
    expect(await financierOf(), "a rejected financing keeps its financier").to.equal(d.p.financier.address);
    const snapshot = (await chain.provider.send("evm_snapshot", [])) as string;

    // Fork A: the supplier asks the second financier instead; indexed.
    await d.request(d.p.supplier, r, line2);
    await d.tokenise(d.p.supplier2, d.p.buyer);
    await indexer.catchUp();
    expect(await financierOf()).to.equal(financier2.address);

    // Fork B: other acts at the same heights; the request to the second financier never happened.
    expect(await chain.provider.send("evm_revert", [snapshot])).to.equal(true);
    await d.tokenise(d.p.supplier2, d.p.buyer);
    await d.tokenise(d.p.supplier, d.p.buyer);
    await d.tokenise(d.p.supplier, d.p.buyer);
    const head = await d.head();
    expect(await indexer.catchUp()).to.equal(head);
    expect(await financierOf()).to.equal(d.p.financier.address);
    await expectStoredHashesOnChain(ds, env);
    await expectIndexEqualsChain(ds, env, head);
  });

  it("with CONFIRMATIONS=2 indexes nothing from the last two blocks and reports its lag on /health", async function () {
    const s = await start({ CONFIRMATIONS: "2" });
    const d = await LedgerDriver.onboard(env);
    const indexer = s.app.get(IndexerService);
    const ds = dataSourceOf(s.app);
    const r = await d.tokenise(d.p.supplier, d.p.buyer);
    const last = await d.accept(d.p.buyer, r); // the last two blocks: tokenise, accept
    const head = await d.head();
    expect(last.blockNumber).to.equal(head);

    const lagging = await request(s.url).get("/health").expect(200);
    expect(lagging.body.info.indexer.head).to.equal(head);
    expect(lagging.body.info.indexer.lag).to.equal(head - 2 - lagging.body.info.indexer.checkpoint);
    expect(lagging.body.info.indexer.lag).to.be.greaterThan(0);

    expect(await indexer.catchUp()).to.equal(head - 2);
    const max = await ds.getRepository(LedgerEventEntity).maximum("blockNumber");
    expect(Number(max)).to.be.at.most(head - 2);
    expect(await ds.getRepository(LedgerEventEntity).countBy({ eventName: "ReceivableTokenised" })).to.equal(0);
    expect(await ds.getRepository(ReceivableEntity).count()).to.equal(0);
    await expectEventFeedMatchesChain(ds, env, head - 2);
    await expectProjectionsMatchChain(ds, env, head - 2);
    const caughtUp = await request(s.url).get("/health").expect(200);
    expect(caughtUp.body.info.indexer).to.include({ checkpoint: head - 2, head, lag: 0 });

    // One more block confirms the tokenisation but not yet the acceptance.
    await chain.provider.send("evm_mine", []);
    expect(await indexer.catchUp()).to.equal(head - 1);
    expect((await ds.getRepository(ReceivableEntity).findOneByOrFail({ id: receivableIdHex(r) })).status).to.equal("issued");
    await chain.provider.send("evm_mine", []);
    expect(await indexer.catchUp()).to.equal(head);
    expect((await ds.getRepository(ReceivableEntity).findOneByOrFail({ id: receivableIdHex(r) })).status).to.equal("accepted");
    await expectProjectionsMatchChain(ds, env, head);
  });
});

/** The deferrable indexes as the database describes them (name → table and columns, in order). */
async function indexDefinitions(ds: import("typeorm").DataSource): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const d of deferrableIndexes(ds.manager)) {
    const rows = (usePostgres()
      ? await ds.query("SELECT indexdef AS def FROM pg_indexes WHERE schemaname = current_schema() AND indexname = $1", [d.name])
      : await ds.query(`SELECT group_concat(name, ',') AS def FROM (SELECT name FROM pragma_index_info(?) ORDER BY seqno)`, [d.name])) as Array<{ def: string | null }>;
    out[d.name] = `${d.table}: ${rows[0]?.def ?? "missing"}`;
  }
  return out;
}
