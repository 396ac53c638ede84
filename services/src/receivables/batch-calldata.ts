/**
 * Calldata of `tokeniseBatchBySig(address seller, Invoice[] invoices, (uint256 expiry, bytes
 * signature) attestation, (uint256 nonce, uint256 deadline, bytes signature) auth)`, written
 * directly in the ABI's layout: the same bytes as ethers' `Interface.encodeFunctionData` (a test
 * compares them for random batches: test/services/batch-calldata.test.ts), without its coders,
 * which for 200 invoices wrap each of ~1,000 values in a Typed result, check it and copy it through
 * several byte arrays (~15 ms of CPU per batch act on the bench machine, in the relayed post).
 *
 * Layout (32-byte words, offsets from the first argument): seller; offset of invoices; offset of
 * the attestation; offset of auth; then invoices (length, 5 words per invoice: the struct is
 * static), the attestation (expiry, offset 0x40, signature length, signature right-padded), auth
 * (nonce, deadline, offset 0x60, signature length, signature right-padded).
 */
import type { IReceivables } from "../../../typechain-types/contracts/receivables/Receivables";
import { IFACE } from "./receivable-lifecycle.service";

const SELECTOR = IFACE.getFunction("tokeniseBatchBySig")!.selector.slice(2);
const UINT256_MAX = (1n << 256n) - 1n;

function uint(v: bigint | number | string, what: string): string {
  const n = BigInt(v);
  if (n < 0n || n > UINT256_MAX) throw new RangeError(`${what} does not fit uint256`);
  return n.toString(16).padStart(64, "0");
}

function hexOf(v: string, bytes: number | null, what: string): string {
  if (!/^0x([0-9a-fA-F]{2})*$/.test(v) || (bytes !== null && v.length !== 2 + 2 * bytes)) throw new TypeError(`${what} is not ${bytes ?? "whole"}-byte hex`);
  return v.slice(2).toLowerCase();
}

/** `bytes` as ABI tail: length word, then the data right-padded to whole words. */
function dynamicBytes(v: string, what: string): string {
  const h = hexOf(v, null, what);
  const padded = Math.ceil(h.length / 64) * 64;
  return uint(h.length / 2, what) + h.padEnd(padded, "0");
}

export function encodeTokeniseBatchBySig(
  seller: string,
  invoices: IReceivables.InvoiceStruct[],
  attestation: { expiry: bigint; signature: string },
  auth: { nonce: bigint; deadline: bigint; signature: string },
): string {
  const parts: string[] = [];
  const invoicesAt = 4 * 32;
  const attestationAt = invoicesAt + 32 + invoices.length * 5 * 32;
  const attestationTail = dynamicBytes(attestation.signature, "attestation signature");
  const authAt = attestationAt + 2 * 32 + attestationTail.length / 2;
  parts.push(SELECTOR, hexOf(seller, 20, "seller").padStart(64, "0"), uint(invoicesAt, "offset"), uint(attestationAt, "offset"), uint(authAt, "offset"));
  parts.push(uint(invoices.length, "length"));
  for (const [i, inv] of invoices.entries()) {
    parts.push(
      hexOf(String(inv.debtor), 20, `invoice ${i} debtor`).padStart(64, "0"),
      uint(inv.faceValue as bigint, `invoice ${i} faceValue`),
      uint(inv.dueDate as bigint, `invoice ${i} dueDate`),
      hexOf(String(inv.documentHash), 32, `invoice ${i} documentHash`),
      hexOf(String(inv.fingerprint), 32, `invoice ${i} fingerprint`),
    );
  }
  parts.push(uint(attestation.expiry, "expiry"), uint(2 * 32, "offset"), attestationTail);
  parts.push(uint(auth.nonce, "nonce"), uint(auth.deadline, "deadline"), uint(3 * 32, "offset"), dynamicBytes(auth.signature, "signature"));
  return "0x" + parts.join("");
}
