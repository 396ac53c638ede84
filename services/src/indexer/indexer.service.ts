/**
 * Follows the chain and projects the ledger's events into the database.
 *
 * Each pass takes the next range of blocks up to (head - CONFIRMATIONS), fetches the four
 * contracts' logs with eth_getLogs and the headers (with senders) of the blocks that have logs (on
 * a chain dense with ledger events, of every block of the range, requested with the logs, so that
 * the node never waits for the JavaScript thread to finish a write before it can serve them),
 * checks that every log belongs to the header fetched for its block, and then, in ONE database
 * transaction, appends the events, applies them to the projections and moves the checkpoint. A
 * crash therefore leaves either the whole range or none of it: restart resumes with no gap and no
 * duplicate. While catching up, the next ranges are fetched while one is written (a pipeline of
 * up to PIPELINE_RANGES ranges), and the ranges already fetched when a write starts go into that
 * same transaction (up to TX_EVENTS events), each range's first block checked against the
 * previous one's last: fewer, larger commits, as SQLite's commit (WAL append and checkpoint) was a
 * third of the write time.
 * A catch-up far behind (INDEXER_DEFER_INDEXES_BLOCKS) drops the feed's and the receivables' query
 * indexes first and builds them before catchUp() returns; after a crash the next catchUp() (or a
 * rollback) builds what is missing (deferred-indexes.ts).
 * Reorgs are detected by comparing the checkpoint's hash (and the first new block's parent hash)
 * with the chain. The indexer then walks its recent block hashes back to the common ancestor,
 * deletes everything above it and rebuilds the projections from the remaining event feed. Only a
 * block the node says it does not have counts as evidence of a reorg: a transport error is just
 * an error, retried on the next pass, never a reason to roll back.
 * Every event gets the participant whose act it is (`actor`), also for relayed signed acts where
 * the transaction's sender is the relayer: from the event's own arguments, or, for a financier's
 * act on a line (or a repayment) whose event does not name the party, from the projections as
 * they stand just before the event.
 */
import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from "@nestjs/common";
import { InjectRepository } from "@nestjs/typeorm";
import { Mutex } from "async-mutex";
import { LessThan, MoreThan, type EntityManager, type Repository } from "typeorm";
import { ChainService } from "../chain/chain.service";
import { DbWriter } from "../database/db-writer";
import { compiledRaw } from "../database/compiled-select";
import { entitiesOf } from "../database/raw-rows";
import { describeError } from "../chain/errors";
import { APP_CONFIG, type AppConfig } from "../config/env";
import { IndexedBlockEntity, IndexerStateEntity } from "./entities/indexer-state.entity";
import { LedgerEventEntity, LedgerEventPartyEntity } from "../read-model/entities/ledger-event.entity";
import { PaymentEntity } from "../read-model/entities/projections.entity";
import { LedgerLogDecoder, ReorgDetected, appendAndProject, indexerStartBlock, readLogs, readRpcBlock, type RpcBlock } from "./ledger-log";
import { PROJECTION_TABLES, project } from "../read-model/projector";
import { dropDeferrableIndexes, restoreDeferrableIndexes } from "./deferred-indexes";

export { ReorgDetected } from "./ledger-log";

const STATE_ID = "ledger";

/**
 * The indexer's checkpoint row (`id`, the one row the indexer keeps), or null: read on every pass of
 * the indexer and by every caller waiting for a block to be indexed, dozens of times a second while
 * acts are in flight. A compiled statement (SQL built once, compiled-select.ts) hydrated with the
 * driver's conversions (raw-rows.ts): TypeORM's findOneBy built the same SELECT each time, ~1 ms of CPU.
 */
export async function readCheckpoint(repo: Repository<IndexerStateEntity>, id = STATE_ID): Promise<IndexerStateEntity | null> {
  const raw = await compiledRaw(repo, "indexer.checkpoint", { id }, (p) => repo.createQueryBuilder("s").where("s.id = :id", p).limit(1));
  return (entitiesOf(repo, raw, "s")[0] as IndexerStateEntity | null | undefined) ?? null;
}
const ZERO_HASH = "0x" + "0".repeat(64);
const KEEP_BLOCK_HASHES = 512;
/** Ranges requested ahead of the one being written, all in flight at once once a range's size is known
 * (the node serves them side by side; their answers wait in memory). */
const PIPELINE_RANGES = 8;
/** Ranges in flight at once before the size of any range is known (the first ranges after a start). */
const PIPELINE_FIRST_IN_FLIGHT = 3;
/** Events per write transaction when several fetched ranges are written together (and the most
 * that may wait, fetched, in the pipeline before more is requested). */
const TX_EVENTS = 10_000;

/** A block the node does not have is a fact about the chain; any other error is rethrown. */
function missingBlockAsNull(err: unknown): null {
  if (err instanceof ReorgDetected) return null;
  throw err;
}

interface FetchedRange {
  blocks: Map<number, RpcBlock>;
  events: LedgerEventEntity[];
}

/** A range requested ahead: its answer (or error) once settled. */
interface PendingRange {
  from: number;
  to: number;
  data: Promise<FetchedRange>;
  settled: FetchedRange | Error | null;
  /** Its logs have come back (its blocks may still be on their way). */
  logsRead: boolean;
}

@Injectable()
export class IndexerService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(IndexerService.name);
  private readonly decoder: LedgerLogDecoder;
  /** Consecutive ranges after the checkpoint, requested ahead, oldest first. */
  private pipeline: PendingRange[] = [];
  /** At least half the blocks of the range whose logs came in last have ledger events: a range's
   * blocks are then requested together with its logs (fetchRange). */
  private denseRanges = false;
  /** Events in the range fetched last: with big ranges, fewer are requested ahead. */
  private lastRangeEvents: number | null = null;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<unknown> | null = null;
  private stopped = false;
  private lastHead = 0;
  /** The confirmed head the pipeline was last filled towards (from the last full check). */
  private pipelineTarget = 0;
  private readonly memberListeners: Array<(accounts: string[] | null) => void> = [];
  /** One indexing step at a time, whether from the loop or a caller of catchUp(). */
  private readonly stepLock = new Mutex();
  /** Deferred indexes may be missing: this process dropped them, or has not looked since it started
   * (a crash during a catch-up leaves them dropped). */
  private indexesMaybeMissing = true;

  constructor(
    @InjectRepository(IndexerStateEntity) private readonly indexerState: Repository<IndexerStateEntity>,
    @InjectRepository(IndexedBlockEntity) private readonly indexedBlocks: Repository<IndexedBlockEntity>,
    private readonly db: DbWriter,
    private readonly chain: ChainService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    this.decoder = new LedgerLogDecoder(chain.addresses);
  }

  onApplicationBootstrap(): void {
    if (this.config.INDEXER_ENABLED) this.schedule(0);
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.catchUp()
        .catch((err: unknown) => this.logger.error(`indexer pass failed: ${describeError(err)}`))
        .finally(() => {
          this.running = null;
          this.schedule(this.config.INDEXER_POLL_MS);
        });
    }, ms);
  }

  /**
   * `listener` hears of every committed membership change: the accounts of the registry events of
   * an indexed range, or null once a rollback has rebuilt every projection.
   */
  onMembersChanged(listener: (accounts: string[] | null) => void): void {
    this.memberListeners.push(listener);
  }

  private membersChanged(accounts: string[] | null): void {
    for (const l of this.memberListeners) l(accounts);
  }

  /**
   * Indexes until the confirmed head is reached. Returns the checkpoint block. Far behind (see
   * deferIndexes), the feed's and the receivables' query indexes are dropped first and built again
   * before this returns, or throws.
   */
  async catchUp(): Promise<number> {
    const deferred = await this.stepLock.runExclusive(() => this.deferIndexes());
    try {
      for (;;) {
        if (this.stopped) return (await this.checkpoint()).blockNumber;
        const progressed = await this.stepLock.runExclusive(() => this.stepUnlocked(true));
        if (!progressed) return (await this.checkpoint()).blockNumber;
      }
    } finally {
      if (deferred) await this.stepLock.runExclusive(() => this.restoreIndexes());
    }
  }

  /**
   * Drops the deferrable indexes when the catch-up ahead is long: at least INDEXER_DEFER_INDEXES_BLOCKS
   * blocks, and no fewer than the blocks already indexed (building an index sorts the whole table, so
   * it pays only when the rows to come are a good part of it). Otherwise builds any that are missing
   * (a crash during an earlier catch-up). True when they were dropped.
   */
  private async deferIndexes(): Promise<boolean> {
    const threshold = this.config.INDEXER_DEFER_INDEXES_BLOCKS;
    if (threshold > 0) {
      const cp = await this.checkpoint();
      const behind = (await this.chain.headNumber()) - this.config.CONFIRMATIONS - cp.blockNumber;
      const indexed = cp.blockNumber - indexerStartBlock(this.chain.deployment.blockNumber);
      if (behind >= threshold && behind >= indexed) {
        this.indexesMaybeMissing = true;
        const dropped = await this.db.write((m) => dropDeferrableIndexes(m));
        this.logger.log(`catching up ${behind} blocks: ${dropped} query indexes dropped until the head is reached`);
        return true;
      }
    }
    await this.restoreIndexes();
    return false;
  }

  /** Builds the deferrable indexes that are missing, if any may be. */
  private async restoreIndexes(): Promise<void> {
    if (!this.indexesMaybeMissing) return;
    const created = await this.db.write((m) => restoreDeferrableIndexes(m));
    this.indexesMaybeMissing = false;
    if (created) this.logger.log(`${created} query indexes built`);
  }

  /** The last indexed block and how far behind the confirmed head it is. */
  async status(): Promise<{ checkpoint: number; head: number; lag: number }> {
    const cp = await this.checkpoint();
    const head = await this.chain.headNumber().catch(() => this.lastHead);
    this.lastHead = head;
    return { checkpoint: cp.blockNumber, head, lag: Math.max(0, head - this.config.CONFIRMATIONS - cp.blockNumber) };
  }

  async checkpoint(): Promise<IndexerStateEntity> {
    const found = await readCheckpoint(this.indexerState);
    if (found) return found;
    // Start just below the deployment block: nothing of ours exists before it.
    const start = indexerStartBlock(this.chain.deployment.blockNumber);
    const block = await this.rpcBlock(start, false);
    const state = { id: STATE_ID, blockNumber: start, blockHash: block.hash, updatedAt: Date.now() };
    await this.db.write((m) => m.createQueryBuilder().insert().into(IndexerStateEntity).values(state).orIgnore().execute());
    return this.indexerState.findOneByOrFail({ id: STATE_ID });
  }

  /** Indexes one range. Returns false when there was nothing new. */
  step(): Promise<boolean> {
    return this.stepLock.runExclusive(() => this.stepUnlocked(false));
  }

  /**
   * Writes the next range and, with `grouped`, the ranges after it whose fetch has already
   * finished, while they hold no more than TX_EVENTS events together, in one transaction.
   */
  private async stepUnlocked(grouped: boolean): Promise<boolean> {
    const cp = await this.checkpoint();
    let target: number;
    const next = this.pipeline[0];
    if (grouped && next?.from === cp.blockNumber + 1 && !(next.settled instanceof Error) && this.pipelineTarget > cp.blockNumber) {
      // Catching up with the next range already requested: it is checked against the checkpoint's hash
      // (its first block's parent) before it is written, so asking the node for the head and for the
      // checkpoint's block again would only queue two calls behind the big eth_getLogs answers. A range
      // fetched before a reorg is consistent with the checkpoint and is written as if the reorg came
      // after; one fetched after it fails that check. The full check runs whenever the pipeline is
      // empty, and always before catchUp() returns.
      target = this.pipelineTarget;
    } else {
      const head = await this.chain.headNumber();
      this.lastHead = head;
      target = head - this.config.CONFIRMATIONS;
      const atCheckpoint = await this.rpcBlock(cp.blockNumber, false).catch(missingBlockAsNull);
      if (!atCheckpoint || atCheckpoint.hash !== cp.blockHash) {
        await this.rollBack(cp);
        return true;
      }
      if (target <= cp.blockNumber) return false;
      this.pipelineTarget = target;
    }
    // Reading the chain and writing the database overlap: while ranges are written, the next ones
    // are already being fetched (each is checked against the one before it when its turn comes).
    if (this.pipeline[0]?.from !== cp.blockNumber + 1) this.pipeline = [];
    this.fillPipeline(cp.blockNumber + 1, target);
    const ranges: Array<{ from: number; to: number; data: FetchedRange }> = [];
    try {
      const first = this.pipeline.shift()!;
      ranges.push({ from: first.from, to: first.to, data: await first.data });
      let events = ranges[0].data.events.length;
      for (const next of this.pipeline) {
        if (!grouped) break;
        // A range whose logs are in and only its blocks are on their way (a few milliseconds) is
        // waited for: otherwise, as the node answers about as fast as a range is written, nearly
        // every range found its successor unfinished and was committed alone (52 commits for 54
        // ranges). Never for a range whose logs are still awaited: that wait has no bound.
        if (next.settled === null && next.logsRead) await next.data.catch(() => undefined);
        const data = next.settled;
        if (!data || data instanceof Error || events + data.events.length > TX_EVENTS) break;
        ranges.push({ from: next.from, to: next.to, data });
        events += data.events.length;
      }
      this.pipeline.splice(0, ranges.length - 1);
      // After the ranges taken (not yet written, so the checkpoint still names the block before
      // them): from the checkpoint, a pipeline they emptied would request them again, and the next
      // step would drop that copy as not following its checkpoint. Every range read twice, one
      // 200-invoice batch's 290 kB of logs decoded twice, while the indexer follows the head.
      this.fillPipeline(ranges.at(-1)!.to + 1, target);
      await this.writeRanges(cp, ranges);
    } catch (err) {
      this.pipeline = [];
      if (err instanceof ReorgDetected) {
        const span = `${ranges[0]?.from ?? cp.blockNumber + 1}-${ranges.at(-1)?.to ?? "?"}`;
        this.logger.warn(`chain changed while reading blocks ${span}: ${err.message}; retrying`);
        return true;
      }
      throw err;
    }
    return true;
  }

  /**
   * Requests the ranges after the pipeline's last (from `from` if it is empty) up to `target`, while
   * fewer than PIPELINE_RANGES wait and the fetched ones hold fewer than TX_EVENTS events, all of them
   * in flight at once once a range's size is known (PIPELINE_FIRST_IN_FLIGHT before); only one in
   * flight once a range holds half a transaction's events, so wide ranges on a busy chain keep no more
   * in memory than one range written and one fetched.
   */
  private fillPipeline(from: number, target: number): void {
    const size = this.config.INDEXER_BATCH_BLOCKS;
    for (;;) {
      const last = this.pipeline.at(-1);
      const next = last ? last.to + 1 : from;
      const waiting = this.pipeline.reduce((n, r) => n + (r.settled && !(r.settled instanceof Error) ? r.settled.events.length : 0), 0);
      // Until a range's size is known (the first ranges after a start), 3 in flight, as many as before
      // all 8 were requested at once: 8 default ranges of 2,000 blocks of a busy chain would be 16,000
      // blocks' logs in memory at once. Ranges as big as a transaction (wide ranges, busy chain): one
      // ahead, as much as is written.
      const inFlight = this.pipeline.filter((r) => r.settled === null).length;
      const maxInFlight = this.lastRangeEvents === null ? PIPELINE_FIRST_IN_FLIGHT : 2 * this.lastRangeEvents >= TX_EVENTS ? 1 : PIPELINE_RANGES;
      if (next > target || this.pipeline.length >= PIPELINE_RANGES || inFlight >= maxInFlight || waiting >= TX_EVENTS) return;
      const to = Math.min(target, next + size - 1);
      const state = { logsRead: false };
      const range: PendingRange = Object.assign(state, { from: next, to, data: this.fetchRange(next, to, () => (state.logsRead = true)), settled: null });
      // An error surfaces when (if) the range is used.
      range.data.then(
        (d) => {
          range.settled = d;
          this.lastRangeEvents = d.events.length;
        },
        (err: unknown) => (range.settled = err instanceof Error ? err : new Error(String(err))),
      );
      this.pipeline.push(range);
    }
  }

  /** The range's logs, decoded, with the blocks they need; consistent with itself or ReorgDetected. */
  private async fetchRange(from: number, to: number, logsRead: () => void = () => undefined): Promise<FetchedRange> {
    // On a chain dense with ledger events, every block of the range is requested (with its senders)
    // together with the logs: asked for only once the logs had been read, the blocks waited for the
    // JavaScript thread, which a write (synchronous) holds for hundreds of milliseconds, while the node
    // idled. On a sparse chain the blocks without ledger events would cost their calldata for nothing.
    const early = this.denseRanges ? Array.from({ length: to - from + 1 }, (_, i) => this.rpcBlock(from + i, true)) : [];
    // Awaited below; a failure while the logs are awaited must not surface as an unhandled rejection.
    for (const b of early) b.catch(() => undefined);
    const logs = await readLogs(this.chain.reader, this.decoder.addresses, from, to);
    logsRead();
    const withLogs = new Set<number>(logs.map((l) => l.blockNumber));
    this.denseRanges = 2 * withLogs.size >= to - from + 1;
    const sorted = [...new Set([...withLogs, from, to])].sort((a, b) => a - b);
    const fetched = await Promise.all(sorted.map((n) => early[n - from] ?? this.rpcBlock(n, withLogs.has(n))));
    const blocks = new Map<number, RpcBlock>();
    sorted.forEach((n, i) => blocks.set(n, fetched[i]));
    for (const log of logs) {
      if (blocks.get(log.blockNumber)!.hash !== log.blockHash) {
        throw new ReorgDetected(`log of block ${log.blockNumber} is from another fork`);
      }
    }
    const events = logs.map((l) => this.decoder.decode(l, blocks.get(l.blockNumber)!)).filter((e) => e !== null);
    return { blocks, events };
  }

  /** Consecutive ranges, each following the one before (the first the checkpoint), in one transaction. */
  private async writeRanges(cp: IndexerStateEntity, ranges: Array<{ from: number; to: number; data: FetchedRange }>): Promise<void> {
    let parent = cp.blockHash;
    for (const { from, to, data } of ranges) {
      const parentHash = data.blocks.get(from)!.parentHash;
      // A zero parent hash names no block: Hardhat reports it for the blocks hardhat_mine reserves (no
      // chain has it above genesis). Such a block is taken on the checkpoint's word (the check of the
      // checkpoint's own hash still runs); any other parent must be the block written before it.
      if (parentHash !== parent && parentHash !== ZERO_HASH) {
        throw new ReorgDetected(`block ${from} no longer follows block ${from - 1}`);
      }
      parent = data.blocks.get(to)!.hash;
    }
    const to = ranges.at(-1)!.to;
    const events = ranges.flatMap((r) => r.data.events);
    await this.db.write(async (m) => {
      await appendAndProject(m, events);
      const keep = ranges.flatMap((r) =>
        [...r.data.blocks.values()].map((b) => ({
          number: Number(b.number),
          hash: b.hash,
          parentHash: b.parentHash,
          timestamp: Number(b.timestamp),
        })),
      );
      await m.createQueryBuilder().insert().into(IndexedBlockEntity).values(keep).orIgnore().execute();
      await m.delete(IndexedBlockEntity, { number: LessThan(to - KEEP_BLOCK_HASHES) });
      const res = await m
        .createQueryBuilder()
        .update(IndexerStateEntity)
        .set({ blockNumber: to, blockHash: parent, updatedAt: Date.now() })
        .where("id = :id AND block_number = :n", { id: STATE_ID, n: cp.blockNumber })
        .execute();
      if (!res.affected) throw new Error("checkpoint moved under us (another indexer is running?)");
    });
    const accounts = events.filter((e) => e.contract === "ParticipantRegistry" && typeof e.args.account === "string");
    if (accounts.length) this.membersChanged(accounts.map((e) => e.args.account as string));
    if (events.length) this.logger.debug(`indexed blocks ${ranges[0].from}-${to}: ${events.length} events`);
  }

  private rpcBlock(n: number, withTxs: boolean): Promise<RpcBlock> {
    return readRpcBlock(this.chain.reader, n, withTxs);
  }

  /** Finds the common ancestor, deletes everything above it and rebuilds the projections. */
  private async rollBack(cp: IndexerStateEntity): Promise<void> {
    this.pipeline = [];
    const recent = await this.indexedBlocks.find({
      where: { number: LessThan(cp.blockNumber + 1) },
      order: { number: "DESC" },
    });
    let ancestor: { number: number; hash: string } | null = null;
    for (const b of recent) {
      const onChain = await this.rpcBlock(b.number, false).catch(missingBlockAsNull);
      if (onChain && onChain.hash === b.hash) {
        ancestor = { number: b.number, hash: b.hash };
        break;
      }
    }
    if (!ancestor) {
      // Deeper than we remember: index again from just below the deployment.
      const start = indexerStartBlock(this.chain.deployment.blockNumber);
      ancestor = { number: start, hash: (await this.rpcBlock(start, false)).hash };
    }
    this.logger.warn(`reorg: checkpoint ${cp.blockNumber} replaced; rolling back to block ${ancestor.number}`);
    // The rebuild reads the feed in chain order: with its indexes, not by sorting it once per page.
    await this.restoreIndexes();
    await this.db.write(async (m) => {
      await m.delete(LedgerEventPartyEntity, { blockNumber: MoreThan(ancestor.number) });
      await m.delete(LedgerEventEntity, { blockNumber: MoreThan(ancestor.number) });
      await m.delete(IndexedBlockEntity, { number: MoreThan(ancestor.number) });
      await this.rebuildProjections(m);
      await m.update(
        IndexerStateEntity,
        { id: STATE_ID },
        { blockNumber: ancestor.number, blockHash: ancestor.hash, updatedAt: Date.now() },
      );
    });
    this.membersChanged(null);
  }

  /** Empties the projections and folds the whole event feed into them again. */
  async rebuildProjections(m: EntityManager): Promise<void> {
    for (const t of [PaymentEntity, ...PROJECTION_TABLES.filter((x) => x !== PaymentEntity)]) {
      await m.createQueryBuilder().delete().from(t).execute();
    }
    const page = 2_000;
    let after: { b: number; t: number; l: number } | null = null;
    for (;;) {
      const qb = m
        .createQueryBuilder(LedgerEventEntity, "e")
        .orderBy("e.block_number", "ASC")
        .addOrderBy("e.tx_index", "ASC")
        .addOrderBy("e.log_index", "ASC")
        .take(page);
      if (after) {
        qb.where(
          "(e.block_number > :b) OR (e.block_number = :b AND e.tx_index > :t) OR (e.block_number = :b AND e.tx_index = :t AND e.log_index > :l)",
          after,
        );
      }
      const rows = await qb.getMany();
      for (const e of rows) await project(e, m);
      if (rows.length < page) break;
      const last = rows[rows.length - 1];
      after = { b: last.blockNumber, t: last.txIndex, l: last.logIndex };
    }
  }
}
