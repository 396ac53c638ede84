/**
 * The payment term of a receivable under the 2025 supply-chain-finance voucher rules ("in principle
 * six months, at most one year"; the year is the contract's MAX_TERM, enforced on-chain).
 *
 * The term runs from the receivable's tokenisation (the block time of the transaction that put the
 * invoice on the ledger; a split part keeps its root's) to its due date. Not from the invoice's issue
 * date: that date is the supplier's own statement, known only for invoices relayed by the service,
 * while the tokenisation time is on the ledger for every receivable, is when the voucher comes into
 * existence, and is the instant the contract measures MAX_TERM from, so both limits share one clock.
 * A term counted from tokenisation is never shorter than one counted from acceptance.
 *
 * Six months are calendar months in UTC, compared by day: a receivable is flagged when its due date's
 * UTC day is after the day six calendar months after its tokenisation day (31 August + 6 months is
 * the last day of February). Due on that day exactly is within the term; the day after is not.
 */
const DAY_MS = 86_400_000;

/** The UTC day of `ms`, as milliseconds at 00:00 UTC. */
function utcDay(ms: number): number {
  return Math.floor(ms / DAY_MS) * DAY_MS;
}

/** 00:00 UTC of the day `months` calendar months after the UTC day of `ms`, clamped to the month's end. */
export function addCalendarMonthsUtc(ms: number, months: number): number {
  const d = new Date(ms);
  const y = d.getUTCFullYear();
  const m = d.getUTCMonth() + months;
  const lastDay = new Date(Date.UTC(y, m + 1, 0)).getUTCDate();
  return Date.UTC(y, m, Math.min(d.getUTCDate(), lastDay));
}

export const TERM_REVIEW_MONTHS = 6;

export interface VoucherTerm {
  /** Whole UTC days from the tokenisation day to the due day. */
  termDays: number;
  /** The last due day within six calendar months of tokenisation (YYYY-MM-DD). */
  sixMonthsDay: string;
  /** Due after that day: flagged for compliance review. */
  overSixMonths: boolean;
}

/** Whole UTC days from the day of `startSeconds` to the day of `dueSeconds` (the `termDays` of `voucherTerm`). */
export function termDays(startSeconds: number, dueSeconds: number): number {
  return Math.round((utcDay(dueSeconds * 1000) - utcDay(startSeconds * 1000)) / DAY_MS);
}

/** The term of a receivable tokenised at `startSeconds` and due at `dueSeconds` (unix seconds). */
export function voucherTerm(startSeconds: number, dueSeconds: number): VoucherTerm {
  const start = utcDay(startSeconds * 1000);
  const due = utcDay(dueSeconds * 1000);
  const limit = addCalendarMonthsUtc(start, TERM_REVIEW_MONTHS);
  return {
    termDays: termDays(startSeconds, dueSeconds),
    sixMonthsDay: new Date(limit).toISOString().slice(0, 10),
    overSixMonths: due > limit,
  };
}
