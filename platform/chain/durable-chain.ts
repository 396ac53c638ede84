/**
 * A durable embedded chain for `npm start`: Hardhat's in-process network (EDR) served over HTTP
 * JSON-RPC, with every mined block journaled to disk before any client can learn of it, and the
 * journal replayed into a fresh network at boot.
 *
 * Files under `<dataDir>/chain/`, one part of this folder each:
 * - `genesis.json`   the pinned network config (genesis.ts): only a pinned genesis replays to
 *                    identical block hashes;
 * - `journal.ndjson` one line per mined block with its raw signed transactions (journal.ts),
 *                    streamed at boot and replayed, the hash chain checked (replay.ts);
 * - `LOCK`           the pid of the process serving this data directory (lock.ts).
 *
 * Requests pass one queue that refuses what the journal cannot replay (method-policy.ts), keeps
 * block time on the wall clock and journals each new block before answering (durable-provider.ts);
 * rpc-server.ts serves it over HTTP. Hardhat's internals are reached only from hardhat-network.ts.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { loadGenesis, pinGenesis } from "./genesis";
import { createNetwork } from "./hardhat-network";
import { JournalWriter, journalEntries, type JournalPosition } from "./journal";
import { acquireLock } from "./lock";
import { durableProvider } from "./durable-provider";
import { REPLAY_PROGRESS_MS, replay } from "./replay";
import type { RpcBlock } from "./rpc";
import { serveJsonRpc } from "./rpc-server";

export type { GenesisConfig } from "./genesis";
export { journalEntries, readJournal, rawTransaction, type JournalEntry } from "./journal";
export { refusalReason } from "./method-policy";

/**
 * Whether a chain log line is one its operator must see even when the chain's log is otherwise quiet:
 * a warning (a torn journal line cut off, a version change), a halt, or a replay's progress (a long
 * replay would otherwise look like a hung start).
 */
export function alwaysShown(line: string): boolean {
  return /WARNING|FATAL|replaying the journal/.test(line);
}

export interface DurableChainOptions {
  dataDir: string;
  /** Default 127.0.0.1. */
  host?: string;
  /** 0 picks a free port (see `url`). */
  port: number;
  log?: (line: string) => void;
  /** Blocks between two hash checks of the replay (default REPLAY_CHECK_EVERY); the last block is always checked. */
  replayCheckEvery?: number;
  /** Time between two progress lines of a replay (default REPLAY_PROGRESS_MS, 10 s). */
  replayProgressMs?: number;
}

export interface DurableChain {
  url: string;
  chainId: bigint;
  blocksReplayed: number;
  stop(): Promise<void>;
}

/** Starts the chain on `opts.dataDir` (replaying its journal) and serves it on `host:port`. */
export async function startDurableChain(opts: DurableChainOptions): Promise<DurableChain> {
  const log = opts.log ?? ((line: string) => console.log(line));
  const host = opts.host ?? "127.0.0.1";
  const chainDir = path.join(opts.dataDir, "chain");
  fs.mkdirSync(chainDir, { recursive: true });
  const releaseLock = acquireLock(chainDir, log);
  let journal: JournalWriter | undefined;
  try {
    const journalFile = path.join(chainDir, "journal.ndjson");
    const { genesis, firstStart } = loadGenesis(chainDir, journalFile, log);

    const network = await createNetwork(genesis);
    const rpc = (method: string, params: unknown[] = []) => network.request({ method, params });

    const genesisBlock = (await rpc("eth_getBlockByNumber", ["0x0", false])) as RpcBlock;
    pinGenesis(chainDir, journalFile, genesis, firstStart, genesisBlock.hash, log);

    const position: JournalPosition = { size: 0, offset: 0 };
    const journalBytes = fs.existsSync(journalFile) ? fs.statSync(journalFile).size : 0;
    if (journalBytes > 0) {
      log(
        `durable chain: replaying the journal (${(journalBytes / 1024 / 1024).toFixed(1)} MiB) into a fresh network; ` +
          `the chain serves once it is done (progress every ${Math.round((opts.replayProgressMs ?? REPLAY_PROGRESS_MS) / 1000)} s)`,
      );
    }
    const replayed = await replay(rpc, journalEntries(journalFile, log, undefined, position), log, {
      checkEvery: opts.replayCheckEvery,
      position,
      progressEveryMs: opts.replayProgressMs,
    });
    if (replayed.blocks > 0) log(`durable chain: memory after the replay: ${memoryLine()}`);
    const lastTs = replayed.lastTs ?? Number(genesisBlock.timestamp);
    // The network's clock offset is where the last replayed block (or the pinned genesis) left it,
    // typically behind the wall clock by the downtime. Move it to the wall clock so reads of the
    // pending block (eth_call, eth_estimateGas) see the present; it cannot move back if the chain
    // ran ahead of the wall clock (bursts of more than one block per second).
    const pending = (await rpc("eth_getBlockByNumber", ["pending", false])) as RpcBlock;
    const behind = Math.floor(Date.now() / 1000) - Number(pending.timestamp);
    if (behind > 0) await rpc("evm_increaseTime", [behind]);

    journal = new JournalWriter(journalFile, replayed.blocks, lastTs);
    const provider = durableProvider(network, journal, log);
    const server = await serveJsonRpc(provider, host, opts.port);
    log(`durable chain: serving chain ${genesis.chainId} at block ${journal.lastBlock} on ${server.url}`);

    const openJournal = journal;
    let stopping: Promise<void> | undefined;
    return {
      url: server.url,
      chainId: BigInt(genesis.chainId),
      blocksReplayed: replayed.blocks,
      stop() {
        stopping ??= (async () => {
          await provider.stop();
          await server.close();
          openJournal.close();
          releaseLock();
        })();
        return stopping;
      },
    };
  } catch (e) {
    journal?.close();
    releaseLock();
    throw e;
  }
}

/** "rss 412 MiB (V8 heap 61 / 80 MiB, external 3 MiB)": the process's memory, ours (V8) apart from the rest (EDR's native chain). */
function memoryLine(): string {
  const m = process.memoryUsage();
  const mb = (b: number) => Math.round(b / 2 ** 20);
  return `rss ${mb(m.rss)} MiB (V8 heap ${mb(m.heapUsed)} / ${mb(m.heapTotal)} MiB, external ${mb(m.external)} MiB)`;
}
