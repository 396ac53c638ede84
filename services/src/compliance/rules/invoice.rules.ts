/**
 * Rules an invoice must meet before it is tokenised. Amounts are fen (bigint) throughout; times are
 * compared in whole seconds as the contract does. The contract enforces amount, term, self-dealing
 * and fingerprint uniqueness on-chain as well; duplicate and concentration checks read the indexed
 * projection, so they see the ledger as of the last indexed block.
 *
 * Concentration: the seller's outstanding on non-final receivables (issued, accepted, financed) owed
 * by this debtor, plus this invoice, as a share of all the seller's outstanding plus this invoice.
 * Above CONCENTRATION_LIMIT_BPS it fails, except while the seller's total (with this invoice) is
 * below CONCENTRATION_FLOOR_FEN: a supplier's first invoices are always 100 % one buyer, and a
 * share of a small book measures nothing, so the rule passes and records that it was not applied.
 */
import { checksumOrNull } from "../../common/address";
import { receivableIdHex } from "../../../../shared/ids";
import { receivableIdOf } from "../../../../shared/fingerprint";
import { voucherTerm } from "../voucher-term";
import { fail, pass, review, type Rule, type Verdict } from "./rule";

export interface InvoiceInput {
  subjectId: string;
  seller: string;
  debtor: string;
  faceValue: bigint;
  issueDate: Date;
  dueDate: Date;
  fingerprint: string;
  now?: Date;
}

export interface OpenExposure {
  /** Outstanding of every non-final receivable the seller issued. */
  sellerTotal: bigint;
  /** The part of it owed by the debtor. */
  debtorTotal: bigint;
  /** How many receivables the totals cover. */
  receivables: number;
}

/** What the invoice rules read from the ledger's projection; a unit test can fake it. */
export interface InvoiceFacts {
  /** Status of the receivable with this id (`receivableIdOf(fingerprint)`), or null. */
  tokenisedStatus(receivableId: string): Promise<string | null>;
  openExposure(seller: string, debtor: string): Promise<OpenExposure>;
}

export interface InvoicePolicy {
  concentrationLimitBps: number;
  concentrationFloor: bigint;
}

export interface InvoiceContext {
  invoice: InvoiceInput;
  now: Date;
  policy: InvoicePolicy;
  facts: InvoiceFacts;
}

/** The contract stores face values in 64 bits. */
export const MAX_FACE_VALUE = 2n ** 64n - 1n;
/** The contract's MAX_TERM. */
export const MAX_TERM_SECONDS = 365 * 86_400;
/** An issue date up to a day ahead is clock and time-zone slack (a date typed in UTC+8), not a forward-dated invoice. */
export const ISSUE_DATE_SLACK_SECONDS = 86_400;
/** ¥1,000,000.00: below this total outstanding the concentration limit is not applied (see the file comment). */
export const CONCENTRATION_FLOOR_FEN = 100_000_000n;

const sec = (d: Date) => Math.floor(d.getTime() / 1000);
const iso = (d: Date) => (Number.isNaN(d.getTime()) ? "an invalid date" : d.toISOString());
const validDate = (d: Date) => d instanceof Date && !Number.isNaN(d.getTime());
const address = (a: string) => checksumOrNull(a) ?? a;
/** Basis points as a percentage with two decimals, from an exact ratio. */
const percent = (num: bigint, den: bigint) => (den === 0n ? "0.00" : (Number((num * 1_000_000n) / den) / 10_000).toFixed(2));

function datesValid(inv: InvoiceInput): Verdict | null {
  if (!validDate(inv.issueDate) || !validDate(inv.dueDate)) {
    return fail("The issue date and the due date must both be valid dates.", {
      issueDate: iso(inv.issueDate),
      dueDate: iso(inv.dueDate),
    });
  }
  return null;
}

export const INVOICE_RULES: readonly Rule<InvoiceContext>[] = [
  {
    code: "INVOICE_AMOUNT_POSITIVE",
    subject: "invoice",
    description: "The face value is above zero and fits the ledger's 64-bit amount (fen).",
    evaluate: ({ invoice }) => {
      const details = { faceValue: invoice.faceValue.toString(), max: MAX_FACE_VALUE.toString() };
      if (invoice.faceValue <= 0n) return fail(`The face value must be above zero (got ${invoice.faceValue} fen).`, details);
      if (invoice.faceValue > MAX_FACE_VALUE) {
        return fail(`The face value ${invoice.faceValue} fen exceeds the ledger's maximum of ${MAX_FACE_VALUE} fen.`, details);
      }
      return pass(`Face value ${invoice.faceValue} fen.`, details);
    },
  },
  {
    code: "INVOICE_ISSUED_NOT_IN_FUTURE",
    subject: "invoice",
    description: "The issue date is not in the future (one day of slack for time zones).",
    evaluate: ({ invoice, now }) => {
      const bad = datesValid(invoice);
      if (bad) return bad;
      const details = { issueDate: iso(invoice.issueDate), now: iso(now) };
      return sec(invoice.issueDate) > sec(now) + ISSUE_DATE_SLACK_SECONDS
        ? fail(`The issue date ${iso(invoice.issueDate)} is in the future: tokenise an invoice once it is issued.`, details)
        : pass("The invoice has been issued.", details);
    },
  },
  {
    code: "INVOICE_DUE_AFTER_ISSUE",
    subject: "invoice",
    description: "The due date is after the issue date.",
    evaluate: ({ invoice }) => {
      const bad = datesValid(invoice);
      if (bad) return bad;
      const details = { issueDate: iso(invoice.issueDate), dueDate: iso(invoice.dueDate) };
      return sec(invoice.dueDate) > sec(invoice.issueDate)
        ? pass("The due date is after the issue date.", details)
        : fail(`The due date ${iso(invoice.dueDate)} must be after the issue date ${iso(invoice.issueDate)}.`, details);
    },
  },
  {
    code: "INVOICE_NOT_YET_DUE",
    subject: "invoice",
    description: "The invoice is not yet due (the ledger refuses to tokenise a receivable at or past its due date).",
    evaluate: ({ invoice, now }) => {
      const bad = datesValid(invoice);
      if (bad) return bad;
      const details = { dueDate: iso(invoice.dueDate), now: iso(now) };
      return sec(invoice.dueDate) > sec(now)
        ? pass("The invoice is not yet due.", details)
        : fail(`The invoice fell due on ${iso(invoice.dueDate)}; a due invoice is collected, not tokenised.`, details);
    },
  },
  {
    code: "INVOICE_TERM_MAX_ONE_YEAR",
    subject: "invoice",
    description: "The due date is at most 365 days after the issue date and at most 365 days from now (the contract's MAX_TERM).",
    evaluate: ({ invoice, now }) => {
      const bad = datesValid(invoice);
      if (bad) return bad;
      const term = sec(invoice.dueDate) - sec(invoice.issueDate);
      const ahead = sec(invoice.dueDate) - sec(now);
      const details = { termDays: Math.floor(term / 86_400), daysFromNow: Math.floor(ahead / 86_400), maxDays: MAX_TERM_SECONDS / 86_400 };
      if (term > MAX_TERM_SECONDS) {
        return fail(`The payment term is ${details.termDays} days; at most 365 days from the issue date is allowed.`, details);
      }
      if (ahead > MAX_TERM_SECONDS) {
        return fail(`The due date is ${details.daysFromNow} days away; the ledger accepts due dates at most 365 days ahead.`, details);
      }
      return pass(`Payment term ${details.termDays} days.`, details);
    },
  },
  {
    code: "INVOICE_TERM_SIX_MONTHS",
    subject: "invoice",
    description:
      "Review when the due date is more than six calendar months after tokenisation (now): the 2025 voucher rules' term is six months in principle, one year at most.",
    evaluate: ({ invoice, now }) => {
      const bad = datesValid(invoice);
      if (bad) return bad;
      const t = voucherTerm(sec(now), sec(invoice.dueDate));
      const details = { termDays: t.termDays, lastDueDayWithinSixMonths: t.sixMonthsDay, from: "tokenisation" };
      return t.overSixMonths
        ? review(
            `The receivable would run ${t.termDays} days from tokenisation, past six calendar months (due after ${t.sixMonthsDay}): ` +
              "the voucher rules allow over six months only by exception, so it is flagged for review.",
            details,
          )
        : pass(`Term ${t.termDays} days from tokenisation, within six calendar months.`, details);
    },
  },
  {
    code: "INVOICE_SELLER_NOT_BUYER",
    subject: "invoice",
    description: "The seller and the debtor are different parties.",
    evaluate: ({ invoice }) => {
      const details = { seller: address(invoice.seller), debtor: address(invoice.debtor) };
      return invoice.seller.trim().toLowerCase() === invoice.debtor.trim().toLowerCase()
        ? fail("The seller and the debtor are the same party: an invoice to oneself cannot be tokenised.", details)
        : pass("Seller and debtor are different parties.", details);
    },
  },
  {
    code: "INVOICE_DUPLICATE_FINGERPRINT",
    subject: "invoice",
    description: "No receivable with this fingerprint has ever been tokenised (a fingerprint is usable once, ever).",
    evaluate: async ({ invoice, facts }) => {
      const fp = invoice.fingerprint.trim().toLowerCase();
      if (!/^0x[0-9a-f]{64}$/.test(fp) || /^0x0{64}$/.test(fp)) {
        return fail("The fingerprint must be a non-zero 32-byte hex string (0x and 64 hex digits).", { fingerprint: invoice.fingerprint });
      }
      const id = receivableIdHex(receivableIdOf(fp));
      const status = await facts.tokenisedStatus(id);
      return status === null
        ? pass("No receivable with this fingerprint is on the ledger.", { fingerprint: fp, receivableId: id })
        : fail(
            `This invoice was already tokenised as receivable ${id} (status ${status}); the same invoice cannot be financed twice.`,
            { fingerprint: fp, receivableId: id, existingStatus: status },
          );
    },
  },
  {
    code: "DEBTOR_CONCENTRATION_LIMIT",
    subject: "invoice",
    description:
      "The seller's outstanding owed by this debtor, with this invoice, is at most CONCENTRATION_LIMIT_BPS of the seller's outstanding " +
      "(not applied below CONCENTRATION_FLOOR_FEN of total outstanding).",
    evaluate: async ({ invoice, policy, facts }) => {
      const face = invoice.faceValue > 0n ? invoice.faceValue : 0n;
      const seller = address(invoice.seller);
      const debtor = address(invoice.debtor);
      const open = await facts.openExposure(seller, debtor);
      const total = open.sellerTotal + face;
      const owed = open.debtorTotal + face;
      const limit = BigInt(policy.concentrationLimitBps);
      const details = {
        debtorOutstanding: owed.toString(),
        sellerOutstanding: total.toString(),
        sharePercent: percent(owed, total),
        limitBps: policy.concentrationLimitBps,
        floor: policy.concentrationFloor.toString(),
        openReceivables: open.receivables,
      };
      if (total < policy.concentrationFloor) {
        return pass(
          `Not applied: the seller's outstanding with this invoice (${total} fen) is below the ${policy.concentrationFloor} fen floor.`,
          { ...details, applied: false },
        );
      }
      // Above the limit the invoice is flagged for review, not refused: a tier-1 supplier of one core
      // enterprise is 100 % concentrated by nature, and the debt is no less real for it. The risk is
      // the financier's to price; compliance sees the flag.
      if (owed * 10_000n > limit * total) {
        return review(
          `This debtor would owe ${details.sharePercent}% of the seller's outstanding receivables, above the ${(
            policy.concentrationLimitBps / 100
          ).toFixed(2)}% concentration limit: flagged for review.`,
          { ...details, applied: true },
        );
      }
      return pass(`This debtor would owe ${details.sharePercent}% of the seller's outstanding receivables.`, { ...details, applied: true });
    },
  },
];
