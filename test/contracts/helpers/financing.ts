/**
 * Financing request terms and approvals for contract tests, computed with the same arithmetic the
 * service uses (shared/financing-terms.ts), read from the chain's current state.
 */
import { time } from "@nomicfoundation/hardhat-network-helpers";
import {
  anyTerms,
  quoteFinancing,
  registrationHash,
  type ApprovalTerms,
  type RequestTerms,
} from "../../../shared/financing-terms";
import type { Financing, Receivables } from "../../../typechain-types";
import { DAY } from "./fixture";

export const REGISTRATION_NUMBER = "04411234000567890123";
export const REGISTRATION = registrationHash(REGISTRATION_NUMBER);

/** Terms that accept whatever the line gives, lapsing in 30 days unless overridden. */
export async function requestTerms(lineId: bigint | number, overrides: Partial<RequestTerms> = {}): Promise<RequestTerms> {
  return { ...anyTerms(BigInt(lineId), BigInt(await time.latest()) + 30n * DAY), ...overrides };
}

/**
 * The approval of `id` on its requested line (or `lineId`) at the line's current terms, quoted at
 * unix time `at` (default: the next block, one second on).
 */
export async function approvalFor(
  c: { financing: Financing; receivables: Receivables },
  rawId: bigint | string,
  opts: { lineId?: bigint; at?: bigint; registrationHash?: string } = {},
): Promise<ApprovalTerms> {
  const id = BigInt(rawId);
  const lineId = opts.lineId ?? (await c.financing.financing(id)).lineId;
  const registration = opts.registrationHash ?? REGISTRATION;
  // Tests of refusals approve what was never requested or does not exist: nothing to quote.
  const [line, r] = await Promise.all([c.financing.creditLine(lineId), c.receivables.receivable(id)]).catch(() => [null, null]);
  if (!line || !r) return { lineId, advance: 0n, paid: 0n, registrationHash: registration };
  const at = opts.at ?? BigInt(await time.latest()) + 1n;
  const q = quoteFinancing(line, r.outstanding, r.dueDate, at);
  return { lineId, advance: q.advance, paid: q.paid, registrationHash: registration };
}

/** The line a receivable's financing was requested on (0 when never requested). */
export async function requestedLine(c: { financing: Financing }, id: bigint | string): Promise<bigint> {
  return (await c.financing.financing(id)).lineId;
}
