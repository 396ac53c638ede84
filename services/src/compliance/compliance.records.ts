/**
 * Everything the compliance rules read from and write to the database, behind names that say what
 * they do, so the service can be tested with a fake. Reads and writes take the caller's
 * EntityManager: a check run inside the caller's transaction sees and stores what that transaction
 * sees. Amounts are summed in JavaScript as bigints: the 20-digit text columns exceed SQL's signed
 * 64-bit integers, and summing them as floating point would lose fen.
 */
import { Injectable } from "@nestjs/common";
import { InjectRepository } from "@nestjs/typeorm";
import type { EntityManager, Repository } from "typeorm";
import { CreditLineEntity, ReceivableEntity, type ReceivableStatus } from "../read-model/entities/projections.entity";
import { insertRows } from "../database/bulk";
import { inList } from "../database/raw-rows";
import { ComplianceCheckEntity, ComplianceRunEntity } from "./entities/compliance-check.entity";
import type { LineFacts, ReceivableFacts } from "./rules/financing.rules";

/**
 * A check row as it is stored: `details` is the JSON text of the column (what simple-json writes for
 * the parsed value), so a run's ~1,800 rows are serialised once, not serialised, parsed and
 * serialised again.
 */
export type StoredCheck = Omit<ComplianceCheckEntity, "details"> & { details: string | null };

/** A seller's open book: outstanding in total and per debtor (lower-case address keys). */
export interface SellerBook {
  total: bigint;
  byDebtor: Map<string, bigint>;
  receivables: number;
}

/** 10^10: the weight of the high half of a 20-digit amount (openBook on SQLite). */
const AMOUNT_HALF = 10_000_000_000n;

/** Receivables that still carry an outstanding claim. */
export const NON_FINAL_STATUSES: readonly ReceivableStatus[] = ["issued", "accepted", "financed"];

@Injectable()
export class ComplianceRecords {
  constructor(
    @InjectRepository(ComplianceCheckEntity) private readonly complianceChecks: Repository<ComplianceCheckEntity>,
  ) {}

  /** Status of each id already tokenised (ids not on the ledger are absent), in one query per 500 ids. */
  async tokenisedStatuses(m: EntityManager, receivableIds: readonly string[]): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    const ids = [...new Set(receivableIds)];
    for (let i = 0; i < ids.length; i += 500) {
      // A plain statement: it runs on both posts of every tokenisation.
      const chunk = ids.slice(i, i + 500);
      const rows = (await m.query(`SELECT id, status FROM receivables WHERE id IN ${inList(m, chunk)}`, chunk)) as Array<{ id: string; status: string }>;
      for (const r of rows) out.set(r.id, r.status);
    }
    return out;
  }

  /**
   * A seller's outstanding on non-final receivables, per debtor (keys lower case), in one query with
   * one row per debtor. PostgreSQL sums exactly in `numeric`. SQLite has no exact type above 2^63,
   * so it sums the 20-digit amounts (columns.ts) in two halves of 10 digits, each half's sum exact in
   * a 64-bit integer for up to 9 × 10^8 receivables, and they are joined here as bigints. Reading
   * every open receivable instead grew with the seller's book on both posts of every tokenisation
   * (10,800 rows per 200-invoice act once 27 acts were open). A row whose amount is not 20 digits
   * (none is written so) sends the seller's book to the row-by-row sum.
   */
  async openBook(m: EntityManager, seller: string): Promise<SellerBook> {
    const qb = m
      .createQueryBuilder(ReceivableEntity, "r")
      .select("r.debtor", "debtor")
      .where("r.seller = :seller", { seller })
      .andWhere("r.status IN (:...statuses)", { statuses: [...NON_FINAL_STATUSES] });
    const byDebtor = new Map<string, bigint>();
    let total = 0n;
    let receivables = 0;
    const add = (debtor: string, amount: bigint, n: number) => {
      const d = debtor.toLowerCase();
      byDebtor.set(d, (byDebtor.get(d) ?? 0n) + amount);
      total += amount;
      receivables += n;
    };
    if (m.connection.options.type === "postgres") {
      const rows = await qb
        .addSelect("SUM(CAST(r.outstanding AS numeric))::text", "total")
        .addSelect("COUNT(*)", "n")
        .groupBy("r.debtor")
        .getRawMany<{ debtor: string; total: string; n: string | number }>();
      for (const r of rows) add(r.debtor, BigInt(r.total), Number(r.n));
    } else {
      const halves = await qb
        .clone()
        // As text: the driver would hand a 64-bit sum above 2^53 over as an inexact number.
        .addSelect("CAST(SUM(CAST(substr(r.outstanding, 1, 10) AS INTEGER)) AS TEXT)", "high")
        .addSelect("CAST(SUM(CAST(substr(r.outstanding, 11, 10) AS INTEGER)) AS TEXT)", "low")
        .addSelect("COUNT(*)", "n")
        .addSelect("SUM(length(r.outstanding) <> 20)", "irregular")
        .groupBy("r.debtor")
        .getRawMany<{ debtor: string; high: string; low: string; n: number; irregular: number }>();
      if (halves.every((r) => Number(r.irregular) === 0)) {
        for (const r of halves) add(r.debtor, BigInt(r.high) * AMOUNT_HALF + BigInt(r.low), Number(r.n));
      } else {
        const rows = await qb.addSelect("r.outstanding", "outstanding").getRawMany<{ debtor: string; outstanding: string }>();
        for (const r of rows) add(r.debtor, BigInt(r.outstanding), 1);
      }
    }
    return { total, byDebtor, receivables };
  }

  async receivable(m: EntityManager, id: string): Promise<ReceivableFacts | null> {
    const r = await m.findOneBy(ReceivableEntity, { id });
    if (!r) return null;
    return {
      status: r.status,
      holder: r.holder,
      debtor: r.debtor,
      seller: r.seller,
      outstanding: r.outstanding,
      dueDate: r.dueDate,
      financed: r.financed,
    };
  }

  async creditLine(m: EntityManager, id: number): Promise<LineFacts | null> {
    if (!Number.isSafeInteger(id) || id <= 0) return null;
    const l = await m.findOneBy(CreditLineEntity, { id });
    if (!l) return null;
    return {
      financier: l.financier,
      debtor: l.debtor,
      supplier: l.supplier,
      limit: l.limit,
      utilised: l.utilised,
      maxAdvanceBps: l.maxAdvanceBps,
      expiry: l.expiry,
      open: l.open,
    };
  }

  async storeRun(m: EntityManager, rows: StoredCheck[]): Promise<void> {
    // Plain multi-row INSERTs (bulk.ts, chunked under the bound-parameter limits): a batch's runs
    // are ~1,800 rows, and the query builder spent more CPU naming their parameters than the
    // database spent storing them. `details` is written as the JSON text it already is. One run
    // row per run (a run's checks are consecutive): the index a subject's checks are listed by.
    const runs: ComplianceRunEntity[] = [];
    for (const r of rows) {
      const last = runs[runs.length - 1];
      if (!last || last.runId !== r.runId || last.subjectType !== r.subjectType || last.subjectId !== r.subjectId) {
        runs.push({ runId: r.runId, subjectType: r.subjectType, subjectId: r.subjectId, createdAt: r.createdAt });
      }
    }
    await insertRows(m, ComplianceRunEntity, runs);
    await insertRows(m, ComplianceCheckEntity, rows, ["details"]);
  }

  /**
   * The checks of a subject's latest run (the newest run, the later run id on a tie of times), in
   * the order they were made (their ids are time-ordered); onboarding shows an application's
   * screening this way.
   */
  async latestRunChecks(subjectType: string, subjectId: string): Promise<ComplianceCheckEntity[]> {
    const last = await this.complianceChecks.manager.findOne(ComplianceRunEntity, {
      where: { subjectType, subjectId },
      order: { createdAt: "DESC", runId: "DESC" },
    });
    if (!last) return [];
    return this.complianceChecks.find({ where: { runId: last.runId, subjectType, subjectId }, order: { id: "ASC" } });
  }

  /** A subject's checks, newest run first, each run's rules in evaluation order. */
  checksFor(subjectType: string, subjectId: string): Promise<ComplianceCheckEntity[]> {
    return this.complianceChecks
      .createQueryBuilder("c")
      .innerJoin(ComplianceRunEntity, "r", "r.runId = c.runId AND r.subjectType = c.subjectType AND r.subjectId = c.subjectId")
      .where("r.subjectType = :subjectType AND r.subjectId = :subjectId", { subjectType, subjectId })
      .orderBy("c.createdAt", "DESC")
      .addOrderBy("c.runId", "DESC")
      .addOrderBy("c.id", "ASC")
      .getMany();
  }
}
