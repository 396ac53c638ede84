/**
 * A core enterprise's payment record, computed from the ledger's projections alone.
 *
 * What is counted: the buyer's confirmed debts as they are paid, i.e. every receivable it owes that
 * it accepted and that was not split further (a split part is the part of the confirmed debt that is
 * paid; its parent is counted through its parts, so nothing counts twice). Each is exactly one of:
 * - paid on time: settled (outstanding 0) by a final payment whose UTC day is on or before the due
 *   date's UTC day (the due day itself is on time);
 * - paid late: settled by a final payment on a later day; days late = UTC calendar days from the due
 *   day to that payment's day (median and nearest-rank 95th percentile over the late ones);
 * - credited in full: settled by credit notes with no payment at all;
 * - defaulted: marked defaulted by its holder (whatever was paid before);
 * - outstanding past due: still owed after its due day, as of the ledger time;
 * - outstanding not yet due.
 * Amounts are fen: face values for the counts' totals, outstanding for what is still owed.
 */
const DAY = 86_400;

export interface LeafRow {
  debtor: string;
  status: string;
  faceValue: bigint;
  outstanding: bigint;
  dueDate: number;
  /** Time of the last payment (null: never paid). */
  lastPaidAt: number | null;
}

export interface PaymentRecord {
  buyer: string;
  asOf: number;
  confirmed: { count: number; faceValue: bigint };
  paidOnTime: { count: number; faceValue: bigint };
  paidLate: { count: number; faceValue: bigint; daysLateMedian: number | null; daysLateP95: number | null; daysLateMax: number | null };
  creditedInFull: { count: number; faceValue: bigint };
  defaulted: { count: number; faceValue: bigint; outstanding: bigint };
  outstandingPastDue: { count: number; outstanding: bigint };
  outstandingNotYetDue: { count: number; outstanding: bigint };
}

const dayOf = (seconds: number) => Math.floor(seconds / DAY);

/** Median of sorted values (mean of the middle two for an even count). */
export function median(sorted: readonly number[]): number | null {
  if (!sorted.length) return null;
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Nearest-rank percentile of sorted values: the smallest value with at least p % at or below it. */
export function percentile(sorted: readonly number[], p: number): number | null {
  if (!sorted.length) return null;
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)];
}

export function emptyRecord(buyer: string, asOf: number): PaymentRecord {
  return {
    buyer,
    asOf,
    confirmed: { count: 0, faceValue: 0n },
    paidOnTime: { count: 0, faceValue: 0n },
    paidLate: { count: 0, faceValue: 0n, daysLateMedian: null, daysLateP95: null, daysLateMax: null },
    creditedInFull: { count: 0, faceValue: 0n },
    defaulted: { count: 0, faceValue: 0n, outstanding: 0n },
    outstandingPastDue: { count: 0, outstanding: 0n },
    outstandingNotYetDue: { count: 0, outstanding: 0n },
  };
}

/** The record of `buyer` from its leaves (see the file comment), as of unix time `asOf`. */
export function paymentRecord(buyer: string, leaves: Iterable<LeafRow>, asOf: number): PaymentRecord {
  const r = emptyRecord(buyer, asOf);
  const late: number[] = [];
  for (const l of leaves) {
    r.confirmed.count += 1;
    r.confirmed.faceValue += l.faceValue;
    if (l.status === "defaulted") {
      r.defaulted.count += 1;
      r.defaulted.faceValue += l.faceValue;
      r.defaulted.outstanding += l.outstanding;
    } else if (l.status === "paid") {
      if (l.lastPaidAt === null) {
        r.creditedInFull.count += 1;
        r.creditedInFull.faceValue += l.faceValue;
      } else {
        const days = dayOf(l.lastPaidAt) - dayOf(l.dueDate);
        if (days <= 0) {
          r.paidOnTime.count += 1;
          r.paidOnTime.faceValue += l.faceValue;
        } else {
          r.paidLate.count += 1;
          r.paidLate.faceValue += l.faceValue;
          late.push(days);
        }
      }
    } else if (dayOf(asOf) > dayOf(l.dueDate)) {
      r.outstandingPastDue.count += 1;
      r.outstandingPastDue.outstanding += l.outstanding;
    } else {
      r.outstandingNotYetDue.count += 1;
      r.outstandingNotYetDue.outstanding += l.outstanding;
    }
  }
  late.sort((a, b) => a - b);
  r.paidLate.daysLateMedian = median(late);
  r.paidLate.daysLateP95 = percentile(late, 95);
  r.paidLate.daysLateMax = late.length ? late[late.length - 1] : null;
  return r;
}
