/**
 * Test-only views into the indexer's catch-up pipeline: which ranges it has fetched ahead, a gate
 * on its eth_getLogs reads (to make one write group chosen ranges), and the checkpoint after each
 * database write. They reach private fields on purpose: the grouping is an internal schedule the
 * reorg tests must pin down to be deterministic.
 */
import type { DbWriter } from "../../services/src/database/db-writer";
import type { IndexerService } from "../../services/src/indexer/indexer.service";

/** The indexer's ranges requested ahead (private), to see which have been fetched. */
export function pipelineOf(indexer: IndexerService): Array<{ from: number; to: number; settled: unknown }> {
  return (indexer as unknown as { pipeline: Array<{ from: number; to: number; settled: unknown }> }).pipeline;
}

export async function until(what: string, cond: () => boolean | Promise<boolean>, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** The indexer's non-batching reader connection (private), to delay or observe its calls. */
export function readerOf(indexer: IndexerService): { send: (m: string, p: unknown[]) => Promise<unknown> } {
  return (indexer as unknown as { chain: { reader: { send: (m: string, p: unknown[]) => Promise<unknown> } } }).chain.reader;
}

/** Whether the range starting at `from` has been fetched (and is waiting in the pipeline). */
export function fetched(indexer: IndexerService, from: number): boolean {
  return pipelineOf(indexer).some((r) => r.from === from && r.settled !== null && !(r.settled instanceof Error));
}

/**
 * Runs `before(from)` ahead of each eth_getLogs the indexer sends (from: its first block), e.g. to
 * hold the first range until the ones after it have been fetched, so that one write groups them.
 */
export function gateLogReads(indexer: IndexerService, before: (from: number) => Promise<void>): () => void {
  const reader = readerOf(indexer);
  const send = reader.send.bind(reader);
  reader.send = async (method: string, params: unknown[]) => {
    if (method === "eth_getLogs") await before(Number((params[0] as { fromBlock: string }).fromBlock));
    return send(method, params);
  };
  return () => (reader.send = send);
}

/**
 * Runs `before(n)` ahead of each eth_getBlockByNumber of block `n` the indexer sends: on a chain dense
 * with ledger events it asks for a range's blocks together with its logs, so a test that switches
 * forks while a range's logs are held holds its blocks too, to read both from the same fork.
 */
export function gateBlockReads(indexer: IndexerService, before: (n: number) => Promise<void>): () => void {
  const reader = readerOf(indexer);
  const send = reader.send.bind(reader);
  reader.send = async (method: string, params: unknown[]) => {
    if (method === "eth_getBlockByNumber") await before(Number(params[0]));
    return send(method, params);
  };
  return () => (reader.send = send);
}

/** Records the checkpoint (number, hash) after every database write. */
export function recordCheckpoints(writer: DbWriter, indexer: IndexerService): { after: Array<{ blockNumber: number; blockHash: string }>; restore: () => void } {
  const write = writer.write.bind(writer);
  const after: Array<{ blockNumber: number; blockHash: string }> = [];
  writer.write = (async (fn: Parameters<DbWriter["write"]>[0]) => {
    const r = await write(fn);
    const cp = await indexer.checkpoint();
    after.push({ blockNumber: cp.blockNumber, blockHash: cp.blockHash });
    return r;
  }) as DbWriter["write"];
  return { after, restore: () => (writer.write = write) };
}
