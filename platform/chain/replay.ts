/**
 * Replays the journal into a fresh network: each block's transactions after
 * `evm_setNextBlockTimestamp` with its original time. A block's hash covers its parent's hash, so
 * one matching hash proves every block below it: the mined hash is compared with the journal's
 * every `checkEvery` blocks and at the last block, not at every block. When a comparison fails (or
 * a block cannot be replayed), the blocks since the last matching one are bisected, asking the
 * network for their hashes, so the error names the first block that differs. Any difference (an
 * altered journal, another genesis or toolchain) stops the start.
 *
 * A replay takes the time the EVM took (minutes for a large ledger), so while it runs a progress line
 * is logged every `progressEveryMs`: blocks replayed, the share of the journal read, the rate, and an
 * estimate of the time left from the bytes still to read (a block's line grows with its transactions,
 * so bytes follow the work better than block counts).
 */
import type { JournalEntry, JournalPosition } from "./journal";
import { nativeMemoryGuard } from "./native-memory";
import { quantity, type Rpc, type RpcBlock } from "./rpc";

/** Blocks between two hash checks of a replay (the last block is always checked). */
export const REPLAY_CHECK_EVERY = 1000;

/** Time between two progress lines of a replay. */
export const REPLAY_PROGRESS_MS = 10_000;

export interface ReplayOptions {
  /** Blocks between two hash checks (default REPLAY_CHECK_EVERY); the last block is always checked. */
  checkEvery?: number;
  /** The journal stream's position (journalEntries' `position`): enables the progress lines. */
  position?: JournalPosition;
  /** Time between two progress lines (default REPLAY_PROGRESS_MS). */
  progressEveryMs?: number;
}

export interface ReplayResult {
  /** Blocks replayed (the journal's last block number). */
  blocks: number;
  /** Time of the last replayed block, or undefined if the journal was empty. */
  lastTs: number | undefined;
}

/** What the journal says of a block, kept for the blocks since the last check. */
interface Expected {
  n: number;
  hash: string;
  ts: number;
  txCount: number;
}

export async function replay(
  rpc: Rpc,
  entries: Iterable<JournalEntry>,
  log: (l: string) => void,
  opts: ReplayOptions = {},
): Promise<ReplayResult> {
  const checkEvery = opts.checkEvery ?? REPLAY_CHECK_EVERY;
  const progressEveryMs = opts.progressEveryMs ?? REPLAY_PROGRESS_MS;
  const started = process.hrtime.bigint();
  const startedMs = Date.now();
  let nextProgressMs = startedMs + progressEveryMs;
  let txCount = 0;
  let blocks = 0;
  let lastTs: number | undefined;
  // The blocks replayed since the last hash that matched (the genesis was checked by genesis.ts).
  let unchecked: Expected[] = [];
  // The traces EDR keeps per replayed transaction are freed only by a collection (native-memory.ts).
  const memory = nativeMemoryGuard();
  let automine = true;
  const setAutomine = async (on: boolean) => {
    if (automine !== on) await rpc("evm_setAutomine", [on]);
    automine = on;
  };
  try {
    for (const e of entries) {
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
        // A block that cannot be replayed may follow one that already differs: name the first.
        await firstDivergence(rpc, unchecked);
        throw new Error(`durable chain: replay failed at block ${e.n} (journal line ${e.n}): ${(err as Error).message}`);
      }
      unchecked.push({ n: e.n, hash: e.hash, ts: e.ts, txCount: e.txs.length });
      blocks = e.n;
      lastTs = e.ts;
      memory.check();
      if (opts.position && Date.now() >= nextProgressMs) {
        log(progressLine(blocks, opts.position, Date.now() - startedMs));
        nextProgressMs = Date.now() + progressEveryMs;
      }
      if (unchecked.length >= checkEvery) {
        await checkHead(rpc, unchecked);
        unchecked = [];
      }
    }
    if (unchecked.length > 0) await checkHead(rpc, unchecked);
  } finally {
    await setAutomine(true);
  }
  if (blocks > 0) {
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    log(
      `durable chain: replayed ${blocks} blocks (${txCount} transactions) in ${seconds.toFixed(2)} s ` +
        `(${Math.round(blocks / Math.max(seconds, 1e-6))} blocks/s, ${memory.collections} garbage collections)`,
    );
  }
  return { blocks, lastTs };
}

/**
 * "durable chain: replaying the journal: block 12,000, 25 % of 48.0 MiB read, 400 blocks/s, about
 * 1 min left". The time left assumes the rest of the journal replays at the rate of the part read.
 */
export function progressLine(blocks: number, position: JournalPosition, elapsedMs: number): string {
  const share = position.size > 0 ? position.offset / position.size : 1;
  const rate = blocks / Math.max(elapsedMs / 1000, 1e-3);
  const leftSec = share > 0 ? ((elapsedMs / 1000) * (1 - share)) / share : Number.POSITIVE_INFINITY;
  const mib = (position.size / 1024 / 1024).toFixed(1);
  return (
    `durable chain: replaying the journal: block ${blocks.toLocaleString("en-US")}, ` +
    `${Math.floor(share * 100)} % of ${mib} MiB read, ${Math.round(rate).toLocaleString("en-US")} blocks/s, ` +
    (leftSec < 1 ? "nearly done" : `about ${aboutDuration(leftSec)} left`)
  );
}

function aboutDuration(sec: number): string {
  if (!Number.isFinite(sec)) return "an unknown time";
  if (sec < 90) return `${Math.round(sec)} s`;
  if (sec < 90 * 60) return `${Math.round(sec / 60)} min`;
  return `${(sec / 3600).toFixed(1)} h`;
}

/** Checks that the network's head is the last of `unchecked`, hash included; else names the first differing block. */
async function checkHead(rpc: Rpc, unchecked: Expected[]): Promise<void> {
  const last = unchecked[unchecked.length - 1];
  const head = (await rpc("eth_getBlockByNumber", ["latest", false])) as RpcBlock;
  if (Number(head.number) === last.n && head.hash === last.hash) return;
  await firstDivergence(rpc, unchecked);
  // Every earlier block matched, so the last one differs (or the chain is not at its height).
  throw divergence(last, head);
}

/**
 * If some of `unchecked` (consecutive blocks after one known to match) differ from the network's
 * blocks, throws naming the first. The hash chain makes the match monotone: a block that matches
 * proves all below it, so bisection finds the first difference in log2(n) requests.
 */
async function firstDivergence(rpc: Rpc, unchecked: Expected[]): Promise<void> {
  const block = async (n: number) => (await rpc("eth_getBlockByNumber", [quantity(n), false])) as RpcBlock | null;
  const matches = async (i: number) => (await block(unchecked[i].n))?.hash === unchecked[i].hash;
  let lo = 0; // the first index that may differ
  let hi = unchecked.length; // known to differ at hi (or none differs if hi === length)
  if (hi === 0 || (await matches(hi - 1))) return;
  hi--;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (await matches(mid)) lo = mid + 1;
    else hi = mid;
  }
  throw divergence(unchecked[hi], await block(unchecked[hi].n));
}

function divergence(e: Expected, mined: RpcBlock | null): Error {
  const got =
    mined === null
      ? "no such block"
      : `block ${Number(mined.number)} with hash ${mined.hash} and ${mined.transactions.length} tx`;
  return new Error(
    `durable chain: replay diverged at block ${e.n} (journal line ${e.n}): the journal says hash ${e.hash} ` +
      `(${e.txCount} tx, time ${e.ts}) but replaying it gave ${got}. The journal was altered or ` +
      `the genesis / toolchain changed; refusing to start.`,
  );
}
