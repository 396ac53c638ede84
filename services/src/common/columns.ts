/**
 * Column conventions shared by every entity, chosen so the same schema behaves identically on
 * SQLite and PostgreSQL:
 * - amounts (uint64 fen) are 20-digit zero-padded decimal strings, so ordering and range filters
 *   compare correctly as text on both engines, and JavaScript never sees them as numbers;
 * - unix times and block numbers are `bigint` columns read back as JavaScript numbers (safe:
 *   both stay far below 2^53);
 * - addresses are EIP-55 checksummed strings, ids of receivables 0x-prefixed 32-byte hex.
 */
import type { ValueTransformer } from "typeorm";

export const AMOUNT_DIGITS = 20;

export function padAmount(value: bigint): string {
  if (value < 0n) throw new RangeError("amount must not be negative");
  const s = value.toString();
  if (s.length > AMOUNT_DIGITS) throw new RangeError("amount exceeds 20 digits");
  return s.padStart(AMOUNT_DIGITS, "0");
}

export const amountTransformer: ValueTransformer = {
  to: (v: bigint | null | undefined) => (v === null || v === undefined ? v : padAmount(BigInt(v))),
  from: (v: string | null) => (v === null || v === undefined ? v : BigInt(v)),
};

export const numberTransformer: ValueTransformer = {
  to: (v: number | null | undefined) => v,
  from: (v: string | number | null) => (v === null || v === undefined ? v : Number(v)),
};
