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
import { BadRequestException, ForbiddenException, Inject, Injectable, Logger } from "@nestjs/common";
import { InjectRepository } from "@nestjs/typeorm";
import { stringify } from "csv-stringify/sync";
import type { Response } from "express";
import type { Repository, SelectQueryBuilder } from "typeorm";
import type { AuthUser } from "../auth/auth.decorators";
import { APP_CONFIG, type AppConfig } from "../config/env";
import { compiledRaw } from "../database/compiled-select";
import { IndexerService } from "../indexer/indexer.service";
import { LedgerClock } from "../indexer/ledger-time";
import { PaymentRecordDto } from "../payment-records/payment-record.dto";
import { PaymentRecordsService } from "../payment-records/payment-records.service";
import { LedgerEventEntity } from "../read-model/entities/ledger-event.entity";
import { FinancingEntity, ReceivableEntity } from "../read-model/entities/projections.entity";
import type { AuditEventFilterDto, ExportAuditEventsQueryDto, ListAuditEventsQueryDto } from "./dto/audit-query.dto";
import { LedgerEventDto, type LedgerEventPageDto, type RawLedgerEventRow } from "./dto/ledger-event.dto";
import { ReceivableDisputeEntity } from "../receivables/entities/receivable-dispute.entity";
import { PAYMENT_RECORD_COLUMNS, paymentRecordRow, REVIEW_COLUMNS, registrationReviewRows, termReviewRows } from "./review-datasets";
import {
  checksum,
  decodeCursor,
  encodeCursor,
  isoFromSeconds,
  receivableIdParam,
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

/** Filters of the event feed; the other datasets refuse them. */
const EVENT_FILTERS = ["receivableId", "member", "type", "txHash", "from", "to", "fromBlock", "toBlock"] as const;

/** One page of an export: the CSV rows and the same rows as the JSON export writes them. */
interface ExportPage {
  csv: Array<Record<string, string | number | null>>;
  json: unknown[];
}

const DISPUTE_COLUMNS = ["receivableId", "receivableStatus", "debtor", "reasonCode", "text", "createdAt", "nonce", "deadline", "signature", "digest"] as const;

function disputeRow(d: ReceivableDisputeEntity, receivableStatus: string): Record<(typeof DISPUTE_COLUMNS)[number], string> {
  return {
    receivableId: d.receivableId,
    receivableStatus,
    debtor: d.debtor,
    reasonCode: d.reasonCode,
    text: d.text,
    createdAt: new Date(d.createdAt).toISOString(),
    nonce: d.nonce,
    deadline: String(d.deadline),
    signature: d.signature,
    digest: d.typedDataHash,
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
    @InjectRepository(LedgerEventEntity) private readonly ledgerEvents: Repository<LedgerEventEntity>,
    @InjectRepository(ReceivableEntity) private readonly receivables: Repository<ReceivableEntity>,
    @InjectRepository(FinancingEntity) private readonly financings: Repository<FinancingEntity>,
    @InjectRepository(ReceivableDisputeEntity) private readonly disputes: Repository<ReceivableDisputeEntity>,
    private readonly clock: LedgerClock,
    private readonly indexer: IndexerService,
    private readonly paymentRecords: PaymentRecordsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async events(user: AuthUser, q: ListAuditEventsQueryDto): Promise<LedgerEventPageDto> {
    const limit = q.limit ?? 100;
    const conds = this.conditions(user, q);
    const fingerprint = queryFingerprint({ ...this.filterShape(q), caller: readsEverything(user) ? "*" : user.address });
    if (q.cursor) {
      const [b, t, l] = decodeCursor(q.cursor, fingerprint, ["number", "number", "number"]) as number[];
      conds.push(after({ b, t, l }));
    }
    // The statement's shape is its conditions' text (values are parameters) and the page size.
    const raw = await compiledRaw<RawLedgerEventRow>(
      this.ledgerEvents,
      `audit.events:${limit}:${conds.map(([sql]) => sql).join(" AND ")}`,
      Object.assign({}, ...conds.map(([, p]) => p)) as Record<string, unknown>,
      (p) => {
        const qb = this.ledgerEvents.createQueryBuilder("e");
        for (const [sql] of conds) qb.andWhere(sql, p);
        return inChainOrder(qb).limit(limit + 1);
      },
    );
    // Rows to JSON without an entity in between (LedgerEventDto.fromRaw).
    const page = raw.slice(0, limit).map(LedgerEventDto.fromRaw);
    const last = page[page.length - 1];
    return {
      items: page,
      nextCursor: raw.length > limit ? encodeCursor(fingerprint, [last.blockNumber, last.txIndex, last.logIndex]) : null,
    };
  }

  /**
   * Streams a dataset to `res` as CSV or JSON (only callers who read everything): the events matching
   * the filters, the buyers' payment records, or the voucher-rule reviews (review-datasets.ts).
   */
  async export(q: ExportAuditEventsQueryDto, res: Response, user: AuthUser): Promise<void> {
    const format = q.format ?? "csv";
    const dataset = q.dataset ?? "events";
    if (dataset !== "events") {
      const used = EVENT_FILTERS.filter((k) => q[k] !== undefined);
      if (used.length) {
        throw new BadRequestException(`${used.join(", ")} filter only dataset=events; dataset=${dataset} exports every row`);
      }
    }
    const checkpoint = (await this.indexer.checkpoint()).blockNumber;
    const stamp = new Date().toISOString().replace(/[:.]/g, "-");
    res.status(200);
    res.setHeader("Content-Type", format === "csv" ? "text/csv; charset=utf-8" : "application/json; charset=utf-8");
    res.setHeader("Content-Disposition", `attachment; filename="ledger-${dataset}-${stamp}.${format}"`);
    res.setHeader("X-Ledger-Checkpoint", String(checkpoint));
    res.setHeader("Cache-Control", "no-store");

    let closed = false;
    res.on("close", () => (closed = true));
    const write = async (chunk: string): Promise<void> => {
      if (!res.write(chunk) && !closed) await drainOrClose(res);
    };
    const pages =
      dataset === "events"
        ? this.eventPages(q, user, checkpoint)
        : dataset === "payment-records"
          ? this.paymentRecordPages()
          : dataset === "disputes"
            ? this.disputePages()
            : this.reviewPages();
    const columns: readonly string[] =
      dataset === "events"
        ? EXPORT_COLUMNS
        : dataset === "payment-records"
          ? PAYMENT_RECORD_COLUMNS
          : dataset === "disputes"
            ? DISPUTE_COLUMNS
            : REVIEW_COLUMNS;

    try {
      await write(format === "csv" ? stringify([[...columns]]) : "[");
      let count = 0;
      for await (const page of pages) {
        if (closed) break;
        if (!page.csv.length) continue;
        const chunk =
          format === "csv"
            ? stringify(page.csv, { columns: [...columns], cast: { number: String } })
            : page.json.map((row, i) => (count + i === 0 ? "\n" : ",\n") + JSON.stringify(row)).join("");
        count += page.csv.length;
        await write(chunk);
      }
      if (format === "json") await write(count ? "\n]\n" : "]\n");
      res.end();
    } catch (err) {
      // Headers are gone: the only honest signal left is to cut the stream short.
      this.logger.error(`audit export failed: ${(err as Error).message}`);
      res.destroy(err as Error);
    }
  }

  /** The export's events in chain order up to the checkpoint, a page at a time. */
  private async *eventPages(q: ExportAuditEventsQueryDto, user: AuthUser, checkpoint: number): AsyncGenerator<ExportPage> {
    let position: Position | null = null;
    for (;;) {
      const qb = this.filtered(user, q).andWhere("e.block_number <= :checkpoint", { checkpoint });
      if (position) qb.andWhere(...after(position));
      const rows = await inChainOrder(qb).limit(this.exportPageSize).getMany();
      yield { csv: rows.map(exportRow), json: rows.map((e) => ({ ...exportRow(e), args: e.args })) };
      if (rows.length < this.exportPageSize) return;
      const last = rows[rows.length - 1];
      position = { b: last.blockNumber, t: last.txIndex, l: last.logIndex };
    }
  }

  private async *paymentRecordPages(): AsyncGenerator<ExportPage> {
    let afterBuyer: string | null = null;
    const size = Math.min(this.exportPageSize, 500);
    for (;;) {
      const buyers = await this.paymentRecords.buyersAfter(afterBuyer, size);
      const records = (await this.paymentRecords.records(buyers)).map(PaymentRecordDto.from);
      yield { csv: records.map(paymentRecordRow), json: records };
      if (buyers.length < size) return;
      afterBuyer = buyers[buyers.length - 1];
    }
  }

  /** The debtors' disputes in receivable id order, each with its receivable's status (open while issued). */
  private async *disputePages(): AsyncGenerator<ExportPage> {
    const size = this.exportPageSize;
    let afterId = "";
    for (;;) {
      const rows = await this.disputes
        .createQueryBuilder("d")
        .leftJoin(ReceivableEntity, "r", "r.id = d.receivable_id")
        .select("d")
        .addSelect("r.status", "receivable_status")
        .where("d.receivable_id > :afterId", { afterId })
        .orderBy("d.receivable_id", "ASC")
        .limit(size)
        .getRawAndEntities();
      const out = rows.entities.map((d, i) => disputeRow(d, String((rows.raw[i] as { receivable_status: string | null }).receivable_status ?? "")));
      yield { csv: out, json: out };
      if (rows.entities.length < size) return;
      afterId = rows.entities[rows.entities.length - 1].receivableId;
    }
  }

  private async *reviewPages(): AsyncGenerator<ExportPage> {
    const size = this.exportPageSize;
    let afterId: string | null = null;
    for (;;) {
      const rows = await termReviewRows(this.receivables, afterId, size);
      yield { csv: rows, json: rows };
      if (rows.length < size) break;
      afterId = rows[rows.length - 1].receivableId;
    }
    const now = await this.clock.now();
    afterId = null;
    for (;;) {
      const rows = await registrationReviewRows(this.financings, now, this.config.REGISTRATION_GRACE_DAYS, afterId, size);
      yield { csv: rows, json: rows };
      if (rows.length < size) return;
      afterId = rows[rows.length - 1].receivableId;
    }
  }

  /** Events matching `q` that `user` may read, unordered. */
  private filtered(user: AuthUser, q: AuditEventFilterDto): SelectQueryBuilder<LedgerEventEntity> {
    const qb = this.ledgerEvents.createQueryBuilder("e");
    for (const [sql, params] of this.conditions(user, q)) qb.andWhere(sql, params);
    return qb;
  }

  /** The filters' conditions on `e` (ledger_events), each with its parameters. */
  private conditions(user: AuthUser, q: AuditEventFilterDto): Condition[] {
    const conds: Condition[] = [];
    const partyOf = (param: string) =>
      `EXISTS (SELECT 1 FROM ledger_event_parties p_${param} WHERE p_${param}.tx_hash = e.tx_hash ` +
      `AND p_${param}.log_index = e.log_index AND p_${param}.address = :${param})`;
    if (!readsEverything(user)) conds.push([partyOf("me"), { me: user.address }]);
    if (q.member) {
      const member = checksum(q.member);
      if (!readsEverything(user) && member !== user.address) {
        throw new ForbiddenException(
          `only auditors and compliance officers may read another member's events; ${user.address} may filter on its own address only`,
        );
      }
      conds.push([partyOf("member"), { member }]);
    }
    if (q.receivableId) conds.push(["e.receivable_id = :rid", { rid: receivableIdParam(q.receivableId, "receivableId") }]);
    if (q.type?.length) conds.push(["e.event_name IN (:...types)", { types: q.type }]);
    // Hashes are stored as the indexer reads them from the node: lower case (the key's first column).
    if (q.txHash) conds.push(["e.tx_hash = :txHash", { txHash: q.txHash.toLowerCase() }]);
    // A time range becomes a block range: block times strictly increase along the chain (a
    // consensus rule), so "time >= t" is exactly "block >= the first block at or after t". The
    // bounds come from ix_ledger_events_time in one probe each, and the page is then a range scan of
    // ix_ledger_events_order in chain order, instead of every event of the range sorted.
    const firstBlockAt = (param: string) =>
      `(SELECT t_${param}.block_number FROM ledger_events t_${param} WHERE t_${param}.timestamp >= :${param} ` +
      `ORDER BY t_${param}.timestamp ASC LIMIT 1)`;
    if (q.from) conds.push([`e.block_number >= ${firstBlockAt("fromTime")}`, { fromTime: secondsBound(q.from) }]);
    if (q.to) conds.push([`e.block_number < COALESCE(${firstBlockAt("toTime")}, :noBlock)`, { toTime: secondsBound(q.to), noBlock: Number.MAX_SAFE_INTEGER }]);
    if (q.fromBlock !== undefined) conds.push(["e.block_number >= :fromBlock", { fromBlock: q.fromBlock }]);
    if (q.toBlock !== undefined) conds.push(["e.block_number <= :toBlock", { toBlock: q.toBlock }]);
    return conds;
  }

  private filterShape(q: AuditEventFilterDto): Record<string, unknown> {
    return {
      receivableId: q.receivableId ? receivableIdParam(q.receivableId, "receivableId") : null,
      member: q.member ? checksum(q.member) : null,
      type: q.type ? [...q.type].sort() : null,
      txHash: q.txHash ? q.txHash.toLowerCase() : null,
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

type Condition = [string, Record<string, unknown>];

/** Rows strictly after `p` in chain order. */
function after(p: Position): Condition {
  // A row comparison: ix_ledger_events_order seeks straight to the position.
  return ["(e.block_number, e.tx_index, e.log_index) > (:cb, :ct, :cl)", { cb: p.b, ct: p.t, cl: p.l }];
}
