/**
 * Everything the compliance rules read from and write to the database, behind names that say what
 * they do, so the service can be tested with a fake. Reads and writes take the caller's
 * EntityManager: a check run inside the caller's transaction sees and stores what that transaction
 * sees. Amounts are summed in JavaScript as bigints: the 20-digit text columns exceed SQL's signed
 * 64-bit integers, and summing them as floating point would lose fen.
 */
import { Injectable } from "@nestjs/common";
import { InjectDataSource } from "@nestjs/typeorm";
import { DataSource, In, type EntityManager } from "typeorm";
import type { QueryDeepPartialEntity } from "typeorm/query-builder/QueryPartialEntity";
import { CreditLineEntity, ReceivableEntity, type ReceivableStatus } from "../indexer/entities/projections.entity";
import { ComplianceCheckEntity } from "./entities/compliance-check.entity";
import type { LineFacts, ReceivableFacts } from "./rules/financing.rules";
import type { OpenExposure } from "./rules/invoice.rules";

/** Receivables that still carry an outstanding claim. */
export const NON_FINAL_STATUSES: readonly ReceivableStatus[] = ["issued", "accepted", "financed"];

@Injectable()
export class ComplianceRecords {
  constructor(@InjectDataSource() private readonly ds: DataSource) {}

  async tokenisedStatus(m: EntityManager, receivableId: string): Promise<string | null> {
    const r = await m.findOne(ReceivableEntity, { where: { id: receivableId }, select: { id: true, status: true } });
    return r?.status ?? null;
  }

  async openExposure(m: EntityManager, seller: string, debtor: string): Promise<OpenExposure> {
    const rows = await m.find(ReceivableEntity, {
      where: { seller, status: In([...NON_FINAL_STATUSES]) },
      select: { id: true, debtor: true, outstanding: true },
    });
    let sellerTotal = 0n;
    let debtorTotal = 0n;
    const d = debtor.toLowerCase();
    for (const r of rows) {
      sellerTotal += r.outstanding;
      if (r.debtor.toLowerCase() === d) debtorTotal += r.outstanding;
    }
    return { sellerTotal, debtorTotal, receivables: rows.length };
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

  async storeRun(m: EntityManager, rows: ComplianceCheckEntity[]): Promise<void> {
    // The JSON `details` column defeats TypeORM's deep-partial typing; the rows are complete entities.
    if (rows.length) await m.insert(ComplianceCheckEntity, rows as QueryDeepPartialEntity<ComplianceCheckEntity>[]);
  }

  /** A subject's checks, newest run first, each run's rules in evaluation order. */
  checksFor(subjectType: string, subjectId: string): Promise<ComplianceCheckEntity[]> {
    return this.ds
      .getRepository(ComplianceCheckEntity)
      .createQueryBuilder("c")
      .where("c.subjectType = :subjectType AND c.subjectId = :subjectId", { subjectType, subjectId })
      .orderBy("c.createdAt", "DESC")
      .addOrderBy("c.runId", "DESC")
      .addOrderBy("c.id", "ASC")
      .getMany();
  }
}
