/**
 * EIP-55 checksummed addresses, remembered. ethers' `getAddress` hashes the address (keccak-256 in
 * JavaScript) on every call, and `isAddress` is `getAddress` in a try; the signed-act path asks for
 * the same few addresses (a batch's seller and debtors) hundreds of times per request: the invoice
 * rules, the compliance facts and the DTO validator each checksum every invoice's debtor. The answer
 * is a pure function of the input string, so it is kept in a bounded map.
 */
import { getAddress } from "ethers";

const MAX_ENTRIES = 10_000;
const memo = new Map<string, string | null>();

/** `getAddress(value)`, or null where getAddress throws (not an address, or a wrong mixed-case checksum). */
export function checksumOrNull(value: string): string | null {
  const known = memo.get(value);
  if (known !== undefined) return known;
  let out: string | null;
  try {
    out = getAddress(value);
  } catch {
    out = null;
  }
  if (memo.size >= MAX_ENTRIES) memo.clear();
  memo.set(value, out);
  return out;
}

/** `getAddress(value)`: the checksummed address; throws ethers' own error on anything else. */
export function checksum(value: string): string {
  return checksumOrNull(value) ?? getAddress(value);
}
