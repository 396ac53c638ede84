/**
 * Replays the journal into a fresh network: each block's transactions after
 * `evm_setNextBlockTimestamp` with its original time, then checks the mined block's hash against
 * the journal's. Any difference (an altered journal, another genesis or toolchain) stops the start.
 */
import type { JournalEntry } from "./journal";
import { quantity, type Rpc, type RpcBlock } from "./rpc";

export async function replay(rpc: Rpc, entries: JournalEntry[], log: (l: string) => void): Promise<void> {
  if (entries.length === 0) return;
  const started = process.hrtime.bigint();
  let txCount = 0;
  let automine = true;
  const setAutomine = async (on: boolean) => {
    if (automine !== on) await rpc("evm_setAutomine", [on]);
    automine = on;
  };
  try {
    for (const e of entries) {
      const where = `block ${e.n} (journal line ${e.n})`;
      try {
        await rpc("evm_setNextBlockTimestamp", [quantity(e.ts)]);
        if (e.txs.length === 1) {
          // The common case (automine: one transaction per block), about twice as fast.
          await setAutomine(true);
          txCount++;
          try {
            await rpc("eth_sendRawTransaction", [e.txs[0]]);
          } catch (err) {
            // A transaction that reverts is mined all the same (and reported as an error).
            if (Number(await rpc("eth_blockNumber")) !== e.n) throw err;
          }
        } else {
          await setAutomine(false);
          for (const raw of e.txs) {
            await rpc("eth_sendRawTransaction", [raw]);
            txCount++;
          }
          await rpc("evm_mine", []);
        }
      } catch (err) {
        throw new Error(`durable chain: replay failed at ${where}: ${(err as Error).message}`);
      }
      const mined = (await rpc("eth_getBlockByNumber", ["latest", false])) as RpcBlock;
      if (Number(mined.number) !== e.n || mined.hash !== e.hash) {
        throw new Error(
          `durable chain: replay diverged at ${where}: the journal says hash ${e.hash} ` +
            `(${e.txs.length} tx, time ${e.ts}) but replaying it gave block ${Number(mined.number)} ` +
            `with hash ${mined.hash} and ${mined.transactions.length} tx. The journal was altered or ` +
            `the genesis / toolchain changed; refusing to start.`,
        );
      }
    }
  } finally {
    await setAutomine(true);
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  log(
    `durable chain: replayed ${entries.length} blocks (${txCount} transactions) in ${seconds.toFixed(2)} s ` +
      `(${Math.round(entries.length / Math.max(seconds, 1e-6))} blocks/s)`,
  );
}
