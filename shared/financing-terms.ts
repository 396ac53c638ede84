/**
 * The arithmetic of a financing's terms, shared by the service, the CLI, the demo, the benchmarks
 * and the tests so that each computes exactly what Financing.sol checks:
 * - an approval names the line, the advance (the line's advance rate times the outstanding amount,
 *   rounded down, as the contract recomputes it) and the payout (advance less the line's annual
 *   discount for the days left to the due date, at a given time);
 * - a request names the least payout and the most discount its supplier accepts, and when it lapses;
 * - the movable-property financing registration number (中登 registry) goes on-chain as a hash.
 */
import { keccak256, toUtf8Bytes } from "ethers";

export const BPS = 10_000n;
export const YEAR_SECONDS = 365n * 86_400n;
const UINT64_MAX = 2n ** 64n - 1n;

/** What a financier approves (IFinancing.Approval). */
export interface ApprovalTerms {
  lineId: bigint;
  advance: bigint;
  paid: bigint;
  registrationHash: string;
}

/** What a holder requests (IFinancing.RequestTerms). */
export interface RequestTerms {
  lineId: bigint;
  minPaid: bigint;
  maxDiscount: bigint;
  expiresAt: bigint;
}

/** The line's advance and payout for `outstanding` due at `dueDate`, at unix time `at`. */
export function quoteFinancing(
  line: { maxAdvanceBps: bigint; discountBps: bigint },
  outstanding: bigint,
  dueDate: bigint,
  at: bigint,
): { advance: bigint; paid: bigint; discount: bigint } {
  const advance = (outstanding * line.maxAdvanceBps) / BPS;
  const term = dueDate > at ? dueDate - at : 0n;
  const discount = (advance * line.discountBps * term) / (BPS * YEAR_SECONDS);
  return { advance, paid: advance - discount, discount };
}

/**
 * Request terms that hold the supplier to what the line quotes at `at`: the payout can only grow
 * and the discount only shrink as the due date nears, so an unchanged line meets them at any later
 * approval; a repriced line does not.
 */
export function requestTermsFromQuote(lineId: bigint, quote: { paid: bigint; discount: bigint }, expiresAt: bigint): RequestTerms {
  return { lineId, minPaid: quote.paid, maxDiscount: quote.discount, expiresAt };
}

/** Terms that accept whatever the line gives (tests and tools that do not exercise the terms). */
export function anyTerms(lineId: bigint, expiresAt: bigint): RequestTerms {
  return { lineId, minPaid: 0n, maxDiscount: UINT64_MAX, expiresAt };
}

/**
 * The on-chain form of a registration number: keccak256 of its UTF-8 bytes after trimming and
 * upper-casing (the registry's numbers are ASCII letters and digits), so the same number typed
 * twice hashes the same.
 */
export function registrationHash(registrationNumber: string): string {
  return keccak256(toUtf8Bytes(normaliseRegistrationNumber(registrationNumber)));
}

export function normaliseRegistrationNumber(raw: string): string {
  return raw.trim().toUpperCase();
}

/** The chain reads an approval quote needs (TypeChain's Financing and Receivables satisfy it). */
export interface FinancingReads {
  financing: {
    financing(id: bigint): Promise<{ lineId: bigint }>;
    creditLine(lineId: bigint): Promise<{ maxAdvanceBps: bigint; discountBps: bigint }>;
  };
  receivables: { receivable(id: bigint): Promise<{ outstanding: bigint; dueDate: bigint }> };
}

/**
 * The approval of receivable `id` on its requested line (or `lineId`) at the line's current terms,
 * quoted at unix time `at`.
 */
export async function approvalAtLineTerms(
  c: FinancingReads,
  id: bigint,
  registration: string,
  at: bigint,
  lineId?: bigint,
): Promise<ApprovalTerms> {
  const line = lineId ?? (await c.financing.financing(id)).lineId;
  const [terms, r] = await Promise.all([c.financing.creditLine(line), c.receivables.receivable(id)]);
  const q = quoteFinancing(terms, r.outstanding, r.dueDate, at);
  return { lineId: line, advance: q.advance, paid: q.paid, registrationHash: registration };
}
