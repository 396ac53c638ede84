/**
 * The export's non-event datasets, as flat rows (CSV cells; the JSON export nests the payment
 * record as the API shows it):
 * - payment-records: one row per buyer (payment-records/payment-record.ts);
 * - reviews: what the voucher rules flag for a person to look at: every receivable due more than six
 *   calendar months after tokenisation (TERM_OVER_SIX_MONTHS; split parents are left out, their parts
 *   carry the flag) and every financing whose registration number is overdue (REGISTRATION_OVERDUE).
 * Amounts are decimal strings in fen.
 */
import type { Repository } from "typeorm";
import { voucherTerm } from "../compliance/voucher-term";
import { DAY_SECONDS, OVERDUE_SQL } from "../financing/registration";
import { FinancingEntity, ReceivableEntity } from "../read-model/entities/projections.entity";
import type { PaymentRecordDto } from "../payment-records/payment-record.dto";
import { isoFromSeconds } from "./read-scope";

export const PAYMENT_RECORD_COLUMNS = [
  "buyer",
  "asOf",
  "confirmedCount",
  "confirmedFaceValue",
  "paidOnTimeCount",
  "paidOnTimeFaceValue",
  "paidLateCount",
  "paidLateFaceValue",
  "daysLateMedian",
  "daysLateP95",
  "daysLateMax",
  "creditedInFullCount",
  "creditedInFullFaceValue",
  "defaultedCount",
  "defaultedFaceValue",
  "defaultedOutstanding",
  "outstandingPastDueCount",
  "outstandingPastDue",
  "outstandingNotYetDueCount",
  "outstandingNotYetDue",
] as const;

export function paymentRecordRow(r: PaymentRecordDto): Record<(typeof PAYMENT_RECORD_COLUMNS)[number], string | number | null> {
  return {
    buyer: r.buyer,
    asOf: r.asOf,
    confirmedCount: r.confirmed.count,
    confirmedFaceValue: r.confirmed.faceValue,
    paidOnTimeCount: r.paidOnTime.count,
    paidOnTimeFaceValue: r.paidOnTime.faceValue,
    paidLateCount: r.paidLate.count,
    paidLateFaceValue: r.paidLate.faceValue,
    daysLateMedian: r.paidLate.daysLateMedian,
    daysLateP95: r.paidLate.daysLateP95,
    daysLateMax: r.paidLate.daysLateMax,
    creditedInFullCount: r.creditedInFull.count,
    creditedInFullFaceValue: r.creditedInFull.faceValue,
    defaultedCount: r.defaulted.count,
    defaultedFaceValue: r.defaulted.faceValue,
    defaultedOutstanding: r.defaulted.outstanding,
    outstandingPastDueCount: r.outstandingPastDue.count,
    outstandingPastDue: r.outstandingPastDue.outstanding,
    outstandingNotYetDueCount: r.outstandingNotYetDue.count,
    outstandingNotYetDue: r.outstandingNotYetDue.outstanding,
  };
}

export const REVIEW_COLUMNS = ["flag", "receivableId", "status", "party", "debtor", "amount", "dueDate", "detail"] as const;
export type ReviewRow = Record<(typeof REVIEW_COLUMNS)[number], string>;

/** Flagged receivables after `afterId` (id order), `limit` at most. */
export async function termReviewRows(receivables: Repository<ReceivableEntity>, afterId: string | null, limit: number): Promise<ReviewRow[]> {
  const qb = receivables
    .createQueryBuilder("r")
    .where("r.term_review = :yes", { yes: true })
    .andWhere("r.status NOT IN ('split', 'cancelled')");
  if (afterId) qb.andWhere("r.id > :afterId", { afterId });
  const rows = await qb.orderBy("r.id", "ASC").limit(limit).getMany();
  return rows.map((r) => {
    const t = r.tokenisedAt === null ? null : voucherTerm(r.tokenisedAt, r.dueDate);
    return {
      flag: "TERM_OVER_SIX_MONTHS",
      receivableId: r.id,
      status: r.status,
      party: r.seller,
      debtor: r.debtor,
      amount: r.outstanding.toString(),
      dueDate: isoFromSeconds(r.dueDate),
      detail: t ? `term ${t.termDays} days from tokenisation on ${isoFromSeconds(r.tokenisedAt!)}; six months end on ${t.sixMonthsDay}` : "",
    };
  });
}

/** Financings whose registration number is overdue, after `afterId` (receivable id order). */
export async function registrationReviewRows(
  financings: Repository<FinancingEntity>,
  now: number,
  graceDays: number,
  afterId: string | null,
  limit: number,
): Promise<ReviewRow[]> {
  const qb = financings
    .createQueryBuilder("f")
    .innerJoinAndMapOne("f.receivable", ReceivableEntity, "r", "r.id = f.receivable_id")
    .where(OVERDUE_SQL, { regCutoff: now - graceDays * DAY_SECONDS });
  if (afterId) qb.andWhere("f.receivable_id > :afterId", { afterId });
  const rows = (await qb.orderBy("f.receivable_id", "ASC").limit(limit).getMany()) as Array<FinancingEntity & { receivable: ReceivableEntity }>;
  return rows.map((f) => ({
    flag: "REGISTRATION_OVERDUE",
    receivableId: f.receivableId,
    status: f.status,
    party: f.financier ?? "",
    debtor: f.receivable.debtor,
    amount: f.principal.toString(),
    dueDate: isoFromSeconds(f.receivable.dueDate),
    detail:
      `approved ${isoFromSeconds(f.approvedAt!)} with registration hash ${f.registrationHash}; ` +
      `number unknown to the service since ${isoFromSeconds(f.approvedAt! + graceDays * DAY_SECONDS)}`,
  }));
}
