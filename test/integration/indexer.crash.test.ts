/**
 * A long catch-up writes without the feed's and the receivables' query indexes and builds them at
 * its end. The service process is killed (SIGKILL) in the middle of such a catch-up, with its
 * indexes dropped and part of the chain indexed; a service started again on the same database must
 * build them and end with an index equal to a fresh one of the chain.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { expect } from "chai";
import { DataSource } from "typeorm";
import { createApp } from "../../services/src/app.factory";
import { dataSourceOptions } from "../../services/src/database/data-source";
import { IndexerService } from "../../services/src/indexer/indexer.service";
import { IndexerStateEntity } from "../../services/src/indexer/entities/indexer-state.entity";
import { deferrableIndexes, presentIndexes } from "../../services/src/indexer/deferred-indexes";
import { indexerStartBlock } from "../../services/src/indexer/ledger-log";
import { PROJECT_ROOT } from "../../platform/project-root";
import { freePort, startChain, type TestChain } from "../support/chain";
import { cleanupEnv, prepareEnv, type TestEnv } from "../support/app";
import { LedgerDriver, runFullLifecycle } from "../support/ledger-driver";
import { dataSourceOf, expectEventFeedMatchesChain, expectIndexEqualsChain } from "../support/index-check";
import { serviceArgs } from "../support/process";

describe("Indexer killed during a catch-up with its query indexes dropped", function () {
  this.timeout(600_000);
  let chain: TestChain;
  let env: TestEnv;
  let child: ChildProcess | null = null;
  let probe: DataSource | null = null;

  before(async function () {
    chain = await startChain();
  });
  after(async function () {
    if (child && child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    await probe?.destroy().catch(() => undefined);
    if (env) await cleanupEnv(env);
    await chain?.stop();
  });

  it("restarted on the same database, builds the indexes and ends equal to the chain", async function () {
    // One block per range and many blocks: a catch-up of several seconds, deferring its indexes.
    env = await prepareEnv(chain, {
      INDEXER_ENABLED: "false",
      SENDER_ENABLED: "false",
      INDEXER_BATCH_BLOCKS: "1",
      INDEXER_DEFER_INDEXES_BLOCKS: "1",
      INDEXER_POLL_MS: "20",
      LOG_LEVEL: "error",
    });
    const d = await LedgerDriver.onboard(env);
    await runFullLifecycle(d);
    // 2,000 empty blocks, one evm_mine each (hardhat_mine's reserved blocks do not chain: a block's
    // parentHash is not the hash the node reports for the block before it, which the indexer
    // rightly refuses).
    for (let i = 0; i < 2_000; i++) await chain.provider.send("evm_mine", []);
    const late = await d.tokenise(d.p.supplier2, d.p.buyer); // events after them, for the restarted run
    await d.accept(d.p.buyer, late);
    const head = await d.head();
    const start = indexerStartBlock(env.ledger.record.blockNumber);

    probe = new DataSource(dataSourceOptions(env.config.database));
    await probe.initialize();
    const checkpoint = async () => (await probe!.getRepository(IndexerStateEntity).findOneBy({ id: "ledger" }))?.blockNumber ?? start;

    // The service as its own process, indexing in its loop; killed once it has indexed part of the
    // chain with its indexes dropped.
    const port = await freePort();
    let out = "";
    child = spawn(process.execPath, serviceArgs(), {
      cwd: PROJECT_ROOT,
      env: { ...process.env, ...env.env, INDEXER_ENABLED: "true", PORT: String(port), HOST: "127.0.0.1", TS_NODE_TRANSPILE_ONLY: "true" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    child.stdout!.on("data", (b: Buffer) => (out += b.toString()));
    child.stderr!.on("data", (b: Buffer) => (out += b.toString()));
    const deadline = Date.now() + 120_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`the service exited with ${child.exitCode}:\n${out}`);
      if (Date.now() > deadline) throw new Error(`the indexer never ran with its indexes dropped:\n${out}`);
      const cp = await checkpoint().catch(() => start); // before the service's migrations: no table yet
      // Past the lifecycle's blocks (so its rows are written without the indexes), not at the head.
      if (cp > start + 80 && cp < head - 300 && (await presentIndexes(probe.manager).catch(() => new Set([""]))).size === 0) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    const exited = new Promise((r) => child!.once("exit", r));
    child.kill("SIGKILL");
    await exited;

    // What the kill left: part of the chain, no query index.
    const leftAt = await checkpoint();
    expect(leftAt, "the kill came mid-catch-up").to.be.lessThan(head);
    expect((await presentIndexes(probe.manager)).size, "indexes present after the kill").to.equal(0);
    await expectEventFeedMatchesChain(probe, env, leftAt);
    await probe.destroy();
    probe = null;

    // Started again on the same database: it catches up (deferring again or not) and builds them.
    const app = await createApp(env.config);
    await app.init();
    try {
      const ds = dataSourceOf(app);
      expect(await app.get(IndexerService).catchUp()).to.equal(head);
      expect([...(await presentIndexes(ds.manager))].sort()).to.deep.equal(deferrableIndexes(ds.manager).map((x) => x.name).sort());
      await expectIndexEqualsChain(ds, env, head);
    } finally {
      await app.close();
    }
  });
});
