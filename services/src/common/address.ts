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
  // Only strings of an address's length are remembered: the DTO validator passes any string a
  // client sends, and a bounded count of megabyte-long keys would still be a lot of memory.
  if (value.length !== 42) return checksumUncached(value);
  const known = memo.get(value);
  if (known !== undefined) return known;
  const out = checksumUncached(value);
  if (memo.size >= MAX_ENTRIES) memo.clear();
  memo.set(value, out);
  return out;
}

function checksumUncached(value: string): string | null {
  try {
    return getAddress(value);
  } catch {
    return null;
  }
}

/** `getAddress(value)`: the checksummed address; throws ethers' own error on anything else. */
export function checksum(value: string): string {
  return checksumOrNull(value) ?? getAddress(value);
}
