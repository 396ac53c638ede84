/**
 * Error classification for everything that talks to the chain (as ponder's internal/errors does):
 * retryable errors are transport trouble and are tried again with backoff; anything else is final
 * and recorded with a readable reason.
 */
import { Interface, isError } from "ethers";
import {
  Financing__factory,
  ParticipantRegistry__factory,
  Receivables__factory,
  SettlementToken__factory,
} from "../../../typechain-types";

const INTERFACES = [
  new Interface(Receivables__factory.abi),
  new Interface(Financing__factory.abi),
  new Interface(ParticipantRegistry__factory.abi),
  new Interface(SettlementToken__factory.abi),
];

/** Decodes revert data into `ErrorName(arg, …)` using the ledger's ABIs, or null. */
export function decodeRevertData(data: string | null | undefined): string | null {
  if (!data || data === "0x") return null;
  for (const iface of INTERFACES) {
    try {
      const parsed = iface.parseError(data);
      if (parsed) return `${parsed.name}(${parsed.args.map((a) => String(a)).join(", ")})`;
    } catch {
      /* try the next ABI */
    }
  }
  return `unknown revert data ${data.slice(0, 10)}`;
}

/** Revert data carried by an ethers error, if any. */
export function revertDataOf(err: unknown): string | null {
  const e = err as { data?: unknown; info?: { error?: { data?: unknown } }; error?: { data?: unknown } };
  for (const d of [e?.data, e?.info?.error?.data, e?.error?.data]) {
    if (typeof d === "string" && d.startsWith("0x")) return d;
    if (d && typeof d === "object" && typeof (d as { data?: unknown }).data === "string") {
      return (d as { data: string }).data;
    }
  }
  return null;
}

export function isRevert(err: unknown): boolean {
  return isError(err, "CALL_EXCEPTION") || revertDataOf(err) !== null;
}

/** Transport failures and node hiccups worth another try. */
export function isRetryable(err: unknown): boolean {
  if (isRevert(err)) return false;
  if (isError(err, "NETWORK_ERROR") || isError(err, "TIMEOUT") || isError(err, "SERVER_ERROR")) return true;
  const msg = String((err as Error)?.message ?? err).toLowerCase();
  return /econnrefused|econnreset|socket hang up|etimedout|fetch failed|network|timeout|503|502/.test(msg);
}

/** A one-line description of an error for logs and failure reasons. */
export function describeError(err: unknown): string {
  const decoded = decodeRevertData(revertDataOf(err));
  if (decoded) return `reverted: ${decoded}`;
  const e = err as { shortMessage?: string; message?: string };
  return e?.shortMessage ?? e?.message ?? String(err);
}
