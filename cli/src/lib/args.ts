/**
 * Values given on the command line that several command groups take (receivable ids, addresses,
 * amounts), checked before anything is sent: a malformed one is a usage error (exit 2) whose
 * message names the option, never a refusal from the service.
 */
import { parseReceivableId, receivableIdHex } from "../../../shared/ids";
import { amountArg } from "../../../shared/money";
import { usage } from "./errors";

/** A receivable id as 0x + 64 lower-case hex (accepts decimal too). */
export function receivableId(raw: string): string {
  const s = String(raw).trim();
  try {
    return receivableIdHex(parseReceivableId(s, { shortHex: true }));
  } catch {
    throw usage(`receivable id "${s}" must be 0x followed by up to 64 hex digits, or a decimal number`);
  }
}

/** An address, checksummed; mixed case must carry a valid EIP-55 checksum (else it is a typo). */
export async function checkedAddress(raw: string, what: string): Promise<string> {
  const { getAddress } = await import("ethers");
  const s = String(raw).trim();
  const hex = s.slice(2);
  if (!/^0x[0-9a-fA-F]{40}$/.test(s)) throw usage(`${what} "${s}" is not an address (0x + 40 hex digits)`);
  if (hex !== hex.toLowerCase() && hex !== hex.toUpperCase() && getAddress(s.toLowerCase()) !== s) {
    throw usage(`${what} "${s}" has a wrong EIP-55 checksum: probably a typo`);
  }
  return getAddress(s.toLowerCase());
}

/** An amount option in fen: yuan unless `fen` (--fen) is set. */
export function amount(text: string, fen: boolean, what: string): bigint {
  try {
    return amountArg(text, fen, what);
  } catch (e) {
    throw usage((e as Error).message);
  }
}
