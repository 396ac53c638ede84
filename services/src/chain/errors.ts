/**
 * Error classification for everything that talks to the chain (as ponder's internal/errors does):
 * retryable errors are transport trouble and are tried again with backoff; anything else is final
 * and recorded with a readable reason.
 * ethers wraps a node's JSON-RPC error it does not recognise as UNKNOWN_ERROR "could not coalesce
 * error" and keeps the node's own words only in a nested object, so every test here reads the
 * nested messages too: the node's text is what tells "already known" from a real refusal.
 */
import { isError } from "ethers";
import { LEDGER_INTERFACES as INTERFACES } from "./ledger-abi";

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

/** The node's own error message nested in an ethers error (JSON-RPC `error.message`), if any. */
export function rpcMessageOf(err: unknown): string | null {
  const e = err as {
    info?: { error?: { message?: unknown; data?: { message?: unknown } } };
    error?: { message?: unknown; data?: { message?: unknown } };
  };
  for (const m of [e?.info?.error?.message, e?.error?.message, e?.info?.error?.data?.message, e?.error?.data?.message]) {
    if (typeof m === "string" && m.length > 0) return m;
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

/**
 * True when the connection dropped before any answer (ECONNRESET, "socket hang up", EPIPE): the
 * narrow case of isRetryable where re-sending at once is safe and cannot double a long wait.
 */
export function isDroppedConnection(err: unknown): boolean {
  const texts = [String((err as Error)?.message ?? ""), String((err as { error?: Error })?.error?.message ?? "")];
  let cause = (err as { cause?: unknown })?.cause;
  for (let i = 0; cause && i < 4; i++, cause = (cause as { cause?: unknown }).cause) {
    texts.push(String((cause as Error).message ?? ""), String((cause as { code?: string }).code ?? ""));
  }
  return texts.some((t) => /econnreset|socket hang up|epipe|other side closed/i.test(t));
}

/**
 * True when the node refused a raw transaction because it has seen these bytes before (geth "already
 * known", Besu/Hardhat "Known transaction") or because the nonce is already spent ("nonce too
 * low"). Re-broadcasting our own stored transaction after a crash meets exactly these answers.
 */
export function isAlreadySubmitted(err: unknown): boolean {
  if (isError(err, "NONCE_EXPIRED")) return true;
  const texts = [rpcMessageOf(err), (err as { shortMessage?: string })?.shortMessage, (err as Error)?.message];
  return texts.some(
    (t) =>
      typeof t === "string" &&
      /already known|known transaction|nonce too low|already imported|nonce has already been used/i.test(t),
  );
}

/** A one-line description of an error for logs and failure reasons. */
export function describeError(err: unknown): string {
  const decoded = decodeRevertData(revertDataOf(err));
  if (decoded) return `reverted: ${decoded}`;
  const e = err as { shortMessage?: string; message?: string };
  const base = e?.shortMessage ?? e?.message ?? String(err);
  // "could not coalesce error" alone tells an operator nothing: add what the node said.
  const rpc = rpcMessageOf(err);
  return rpc && !base.includes(rpc) ? `${base}: ${rpc}` : base;
}
