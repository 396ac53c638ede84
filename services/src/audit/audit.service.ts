/**
 * The ledger's event feed for auditors and members, and its export.
 *
 * Auditors and compliance officers read every event; a member reads the events it is party to,
 * that is, whose arguments name its address (the indexer's ledger_event_parties). Pages follow the
 * chain order (block, transaction index, log index) by keyset, never OFFSET. The export walks the
 * same keyset in pages and writes each page to the response as it goes, so memory stays flat
 * however long the ledger; it stops at the indexer checkpoint read when it started, which makes
 * the file a consistent cut of the ledger even while the indexer keeps appending.
 */
import { ForbiddenException, Injectable, Logger } from "@nestjs/common";
import { InjectDataSource } from "@nestjs/typeorm";
import { stringify } from "csv-stringify/sync";
import type { Response } from "express";
import { DataSource, type SelectQueryBuilder } from "typeorm";
import type { AuthUser } from "../auth/auth.decorators";
import { IndexerService } from "../indexer/indexer.service";
import { LedgerEventEntity } from "../indexer/entities/ledger-event.entity";
import type { AuditEventFilterDto, ExportAuditEventsQueryDto, ListAuditEventsQueryDto } from "./dto/audit-query.dto";
import { LedgerEventDto, type LedgerEventPageDto } from "./dto/ledger-event.dto";
import {
  checksum,
  decodeCursor,
  encodeCursor,
  isoFromSeconds,
  parseReceivableId,
  queryFingerprint,
  readsEverything,
  secondsBound,
} from "./read-scope";


/** Columns of the export, in order; the CSV header uses these names. */
export const EXPORT_COLUMNS = [
  "txHash",
  "logIndex",
  "blockNumber",
  "blockHash",
  "time",
  "signer",
  "actor",
  "contract",
  "event",
  "receivableId",
  "args",
] as const;

export type ExportRow = Record<(typeof EXPORT_COLUMNS)[number], string | number | null>;

/** One exported event; `args` is a JSON text (a CSV cell), embedded as an object in the JSON export. */
export function exportRow(e: LedgerEventEntity): ExportRow {
  return {
    txHash: e.txHash,
    logIndex: e.logIndex,
    blockNumber: e.blockNumber,
    blockHash: e.blockHash,
    time: isoFromSeconds(e.timestamp),
    signer: e.txFrom,
    actor: e.actor,
    contract: e.contract,
    event: e.eventName,
    receivableId: e.receivableId,
    args: JSON.stringify(e.args),
  };
}

interface Position {
  b: number;
  t: number;
  l: number;
}

@Injectable()
export class AuditService {
  private readonly logger = new Logger(AuditService.name);
  /** Rows read per query while exporting; bounds the memory an export holds at once. */
  exportPageSize = 1_000;

  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly indexer: IndexerService,
  ) {}

  async events(user: AuthUser, q: ListAuditEventsQueryDto): Promise<LedgerEventPageDto> {
    const limit = q.limit ?? 100;
    const qb = this.filtered(user, q);
    const fingerprint = queryFingerprint({ ...this.filterShape(q), caller: readsEverything(user) ? "*" : user.address });
    if (q.cursor) {
      const [b, t, l] = decodeCursor(q.cursor, fingerprint, ["number", "number", "number"]) as number[];
      after(qb, { b, t, l });
    }
    const rows = await inChainOrder(qb).limit(limit + 1).getMany();
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return {
      items: page.map(LedgerEventDto.from),
      nextCursor: rows.length > limit ? encodeCursor(fingerprint, [last.blockNumber, last.txIndex, last.logIndex]) : null,
    };
  }

  /** Streams every matching event to `res` as CSV or JSON. Only callers who read everything. */
  async export(q: ExportAuditEventsQueryDto, res: Response, user: AuthUser): Promise<void> {
    const format = q.format ?? "csv";
    const checkpoint = (await this.indexer.checkpoint()).blockNumber;
    const stamp = new Date().toISOString().replace(/[:.]/g, "-");
    res.status(200);
    res.setHeader("Content-Type", format === "csv" ? "text/csv; charset=utf-8" : "application/json; charset=utf-8");
    res.setHeader("Content-Disposition", `attachment; filename="ledger-events-${stamp}.${format}"`);
    res.setHeader("X-Ledger-Checkpoint", String(checkpoint));
    res.setHeader("Cache-Control", "no-store");

    let closed = false;
    res.on("close", () => (closed = true));
    const write = async (chunk: string): Promise<void> => {
      if (!res.write(chunk) && !closed) await drainOrClose(res);
    };

    try {
      await write(format === "csv" ? stringify([[...EXPORT_COLUMNS]]) : "[");
      let position: Position | null = null;
      let count = 0;
      while (!closed) {
        const qb = this.filtered(user, q).andWhere("e.block_number <= :checkpoint", { checkpoint });
        if (position) after(qb, position);
        const rows = await inChainOrder(qb).limit(this.exportPageSize).getMany();
        if (rows.length) {
          const chunk =
            format === "csv"
              ? stringify(rows.map(exportRow), { columns: [...EXPORT_COLUMNS], cast: { number: String } })
              : rows
                  .map((e, i) => (count + i === 0 ? "\n" : ",\n") + JSON.stringify({ ...exportRow(e), args: e.args }))
                  .join("");
          count += rows.length;
          await write(chunk);
          const last = rows[rows.length - 1];
          position = { b: last.blockNumber, t: last.txIndex, l: last.logIndex };
        }
        if (rows.length < this.exportPageSize) break;
      }
      if (format === "json") await write(count ? "\n]\n" : "]\n");
      res.end();
    } catch (err) {
      // Headers are gone: the only honest signal left is to cut the stream short.
      this.logger.error(`audit export failed: ${(err as Error).message}`);
      res.destroy(err as Error);
    }
  }

  /** Events matching `q` that `user` may read, unordered. */
  private filtered(user: AuthUser, q: AuditEventFilterDto): SelectQueryBuilder<LedgerEventEntity> {
    const qb = this.ds.getRepository(LedgerEventEntity).createQueryBuilder("e");
    const partyOf = (param: string) =>
      `EXISTS (SELECT 1 FROM ledger_event_parties p_${param} WHERE p_${param}.tx_hash = e.tx_hash ` +
      `AND p_${param}.log_index = e.log_index AND p_${param}.address = :${param})`;
    if (!readsEverything(user)) qb.andWhere(partyOf("me"), { me: user.address });
    if (q.member) {
      const member = checksum(q.member);
      if (!readsEverything(user) && member !== user.address) {
        throw new ForbiddenException(
          `only auditors and compliance officers may read another member's events; ${user.address} may filter on its own address only`,
        );
      }
      qb.andWhere(partyOf("member"), { member });
    }
    if (q.receivableId) qb.andWhere("e.receivable_id = :rid", { rid: parseReceivableId(q.receivableId, "receivableId") });
    if (q.type?.length) qb.andWhere("e.event_name IN (:...types)", { types: q.type });
    // A time range becomes a block range: block times strictly increase along the chain (a
    // consensus rule), so "time >= t" is exactly "block >= the first block at or after t". The
    // bounds come from ix_ledger_events_time in one probe each, and the page is then a range scan of
    // ix_ledger_events_order in chain order, instead of every event of the range sorted.
    const firstBlockAt = (param: string) =>
      `(SELECT t_${param}.block_number FROM ledger_events t_${param} WHERE t_${param}.timestamp >= :${param} ` +
      `ORDER BY t_${param}.timestamp ASC LIMIT 1)`;
    if (q.from) qb.andWhere(`e.block_number >= ${firstBlockAt("fromTime")}`, { fromTime: secondsBound(q.from) });
    if (q.to) qb.andWhere(`e.block_number < COALESCE(${firstBlockAt("toTime")}, :noBlock)`, { toTime: secondsBound(q.to), noBlock: Number.MAX_SAFE_INTEGER });
    if (q.fromBlock !== undefined) qb.andWhere("e.block_number >= :fromBlock", { fromBlock: q.fromBlock });
    if (q.toBlock !== undefined) qb.andWhere("e.block_number <= :toBlock", { toBlock: q.toBlock });
    return qb;
  }

  private filterShape(q: AuditEventFilterDto): Record<string, unknown> {
    return {
      receivableId: q.receivableId ? parseReceivableId(q.receivableId, "receivableId") : null,
      member: q.member ? checksum(q.member) : null,
      type: q.type ? [...q.type].sort() : null,
      from: q.from ?? null,
      to: q.to ?? null,
      fromBlock: q.fromBlock ?? null,
      toBlock: q.toBlock ?? null,
    };
  }
}

/** Resolves when the client has taken the buffered data, or has gone away. */
function drainOrClose(res: Response): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off("drain", done);
      res.off("close", done);
      resolve();
    };
    res.on("drain", done);
    res.on("close", done);
  });
}

function inChainOrder(qb: SelectQueryBuilder<LedgerEventEntity>): SelectQueryBuilder<LedgerEventEntity> {
  return qb.orderBy("e.block_number", "ASC").addOrderBy("e.tx_index", "ASC").addOrderBy("e.log_index", "ASC");
}

/** Rows strictly after `p` in chain order. */
function after(qb: SelectQueryBuilder<LedgerEventEntity>, p: Position): void {
  // A row comparison: ix_ledger_events_order seeks straight to the position.
  qb.andWhere("(e.block_number, e.tx_index, e.log_index) > (:cb, :ct, :cl)", { cb: p.b, ct: p.t, cl: p.l });
}
