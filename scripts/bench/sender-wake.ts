/**
 * How often the transaction sender reads the outbox, idle and while work is pending, and the
 * latency of one enqueued transaction to its receipt (issue 15: "the sender polling the outbox").
 *   npm run bench -- --only sender-wake --txs 200
 * Always on PostgreSQL: the outbox table's seq_scan + idx_scan (pg_stat_user_tables) over a window
 * count the statements that read it. The service runs in this process on a hardhat node over
 * JSON-RPC, with the indexer off so only the sender (and waitFor) read the outbox. Rows are enqueued
 * the way every feature does it: in a DbWriter transaction, through TxSenderService.enqueue.
 */
import { id as keccakId, Wallet } from "ethers";
import type { DataSource } from "typeorm";
import { DbWriter } from "../../services/src/database/db-writer";
import { TxSenderService, type EnqueueRequest } from "../../services/src/outbox/tx-sender.service";
import { cleanupEnv, prepareEnv, startService } from "../../test/support/app";
import { startChain } from "../../test/support/chain";
import { dataSourceOf } from "../../test/support/index-check";
import { commandLine, intFlag, nowSeconds } from "./common";

async function outboxScans(ds: DataSource): Promise<number> {
  const [row] = (await ds.query(
    "SELECT coalesce(seq_scan, 0) + coalesce(idx_scan, 0) AS n FROM pg_stat_user_tables WHERE relname = 'outbox'",
  )) as Array<{ n: string }>;
  return Number(row.n);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function benchSenderWake(flags: Map<string, string>): Promise<void> {
  process.env.TEST_DATABASE = "postgres";
  const txs = intFlag(flags, "txs", 200);
  const windowMs = intFlag(flags, "window-ms", 10_000);
  const chain = await startChain();
  // The production default poll (the test harness polls every 20 ms).
  const env = await prepareEnv(chain, { INDEXER_ENABLED: "false", LOG_LEVEL: "error", SENDER_POLL_MS: "100" });
  const svc = await startService(env);
  try {
    const ds = dataSourceOf(svc.app);
    const sender = svc.app.get(TxSenderService);
    const db = svc.app.get(DbWriter);
    const expiry = (await chain.provider.getBlock("latest"))!.timestamp + 365 * 86_400;
    const call = (): EnqueueRequest => {
      const account = Wallet.createRandom().address;
      return {
        signer: "operator",
        to: env.ledger.record.contracts.ParticipantRegistry,
        data: env.ledger.registry.interface.encodeFunctionData("register", [account, 1, expiry, "0x434e", keccakId(`entity ${account}`)]),
        kind: "registry.register",
      };
    };
    const enqueue = () => db.write((m) => sender.enqueue(m, call()));

    // Idle: nothing queued.
    await sleep(2_000);
    let before = await outboxScans(ds);
    await sleep(windowMs);
    const idle = ((await outboxScans(ds)) - before) / (windowMs / 1000);

    // One at a time: enqueue, wait for the receipt.
    const latencies: number[] = [];
    for (let i = 0; i < 20; i++) {
      const t = nowSeconds();
      const row = await enqueue();
      await sender.waitFor(row.id, 60_000);
      latencies.push((nowSeconds() - t) * 1000);
    }
    latencies.sort((a, b) => a - b);

    // Under load: `txs` rows, 10 in flight at a time, each waited for as ?wait=true does.
    await sleep(1_500);
    before = await outboxScans(ds);
    const t0 = nowSeconds();
    let next = 0;
    await Promise.all(
      Array.from({ length: 10 }, async () => {
        while (next < txs) {
          next += 1;
          const row = await enqueue();
          await sender.waitFor(row.id, 60_000);
        }
      }),
    );
    const loadSeconds = nowSeconds() - t0;
    await sleep(1_500); // statistics reach pg_stat_user_tables within a second
    const load = ((await outboxScans(ds)) - before) / loadSeconds;

    console.log(commandLine("sender-wake", { txs }));
    console.log(`outbox reads/s idle:            ${idle.toFixed(1)}`);
    console.log(`outbox reads/s under load:      ${load.toFixed(1)}  (${txs} txs in ${loadSeconds.toFixed(2)} s, ${(txs / loadSeconds).toFixed(0)} tx/s)`);
    console.log(`enqueue -> mined, one at a time: median ${latencies[10].toFixed(1)} ms, max ${latencies[19].toFixed(1)} ms`);
  } finally {
    await svc.close();
    await cleanupEnv(env);
    await chain.stop();
  }
}
