/**
 * Signed acts from the terminal: POST the body without a signature (the service answers the
 * EIP-712 typed data, after its early checks), show in one line what will be signed, sign it with
 * the keystore, POST the same body with nonce, deadline and signature (with an Idempotency-Key so a
 * retry is safe), then follow the act until it is confirmed or failed (unless --no-wait).
 */
import type { Wallet } from "ethers";
import { followAct, signedBody, signTypedData, type Act, type TypedData, type UnsignedAct } from "../../../shared/client";
import { receivableIdHex } from "../../../shared/ids";
import { fenToYuan } from "../../../shared/money";
import { type Api, type Opts } from "./context";
import { CliError, EXIT } from "./errors";
import { printJson, status } from "./output";

/** One line saying what the typed data commits to. */
export function describeTyped(td: TypedData): string {
  const m = td.message;
  const parts = [`${td.primaryType}`];
  if (m.receivableId !== undefined) parts.push(`receivable ${receivableIdHex(String(m.receivableId))}`);
  if (Array.isArray(m.invoices)) {
    const total = (m.invoices as Array<{ faceValue: string }>).reduce((s, i) => s + BigInt(i.faceValue), 0n);
    parts.push(`${m.invoices.length} invoice(s), total ${fenToYuan(total)} yuan`);
  }
  const inv = m.invoice as { faceValue?: string; debtor?: string } | undefined;
  if (inv?.faceValue) parts.push(`amount ${fenToYuan(inv.faceValue)} yuan, debtor ${inv.debtor}`);
  if (m.amount !== undefined) parts.push(`amount ${fenToYuan(String(m.amount))} yuan`);
  if (Array.isArray(m.amounts)) parts.push(`parts ${(m.amounts as string[]).map((a) => fenToYuan(a)).join(" + ")} yuan`);
  if (m.to !== undefined) parts.push(`to ${m.to}`);
  const terms = (m.terms ?? m) as { limit?: unknown; maxAdvanceBps?: unknown; discountBps?: unknown };
  if (terms.limit !== undefined) parts.push(`limit ${fenToYuan(String(terms.limit))} yuan`);
  if (terms.maxAdvanceBps !== undefined) parts.push(`advance ${terms.maxAdvanceBps} bps, discount ${terms.discountBps} bps`);
  if (m.debtor !== undefined && m.financier !== undefined) parts.push(`debtor ${m.debtor}, supplier ${m.supplier}`);
  if (m.lineId !== undefined) parts.push(`line ${m.lineId}`);
  if (m.reasonCode !== undefined) parts.push(`reason ${String(m.reasonCode)}`);
  if (typeof m.text === "string" && m.text) parts.push(`text ${JSON.stringify(m.text)}`);
  parts.push(`nonce ${m.nonce}`, `deadline ${new Date(Number(m.deadline) * 1000).toISOString()}`);
  return parts.join(", ");
}

export interface ActOptions {
  wait: boolean;
  json?: boolean;
  /** Extra signed-body fields derived from the unsigned answer (e.g. a permit signature). */
  extra?: (u: UnsignedAct, w: Wallet) => Promise<Record<string, unknown>>;
}

/**
 * The two posts of any signed route: the unsigned body (typed data back), the line saying what is
 * signed, the signature, the signed body under an Idempotency-Key. Returns the signed post's answer.
 */
async function signAndPost<T>(api: Api, path: string, body: Record<string, unknown>, o: Omit<ActOptions, "wait">): Promise<T> {
  const w = await api.signer();
  const draft = await api.post<UnsignedAct>(path, body);
  if (draft.status !== 200 || draft.body.status !== "unsigned") {
    throw new CliError(`Unexpected answer to the unsigned ${path} (HTTP ${draft.status}).`, EXIT.UNREACHABLE);
  }
  const td = draft.body.typedData;
  status(o.json, `Signing as ${w.address}: ${describeTyped(td)}`);
  const signature = await signTypedData(w, td);
  const extra = o.extra ? await o.extra(draft.body, w) : {};
  // Terms the service proposed (a request's, an approval's) go back exactly as signed.
  const signed = signedBody({ ...body, ...extra }, td, signature);
  const key = `scf-${draft.body.kind}-${td.message.nonce}-${w.address}`;
  return (await api.post<T>(path, signed, { idempotencyKey: key })).body;
}

/**
 * A signed statement the service keeps rather than relays (a dispute): the same two posts; the
 * answer is the kept record (201), with nothing to wait for on the ledger.
 */
export function signedStatement<T>(api: Api, path: string, body: Record<string, unknown>, o: { json?: boolean }): Promise<T> {
  return signAndPost<T>(api, path, body, o);
}

/** The whole two-step act; returns the act (final when waiting). Exit 5 if it failed on-chain. */
export async function signedAct(api: Api, path: string, body: Record<string, unknown>, o: ActOptions): Promise<Act> {
  let act = await signAndPost<Act>(api, path, body, o);
  status(o.json, `Accepted: act ${act.id} (${act.status})`);
  if (o.wait && act.status === "pending") {
    status(o.json, "Waiting for confirmation on the ledger…");
    act = await followAct(api, act.id);
  }
  if (act.status === "failed") {
    throw new CliError(`The act failed on-chain: ${act.failureReason ?? "no reason given"} (act ${act.id}, tx ${act.txHash ?? "—"}).`, EXIT.ACT_FAILED, act);
  }
  if (o.wait && act.status === "pending") status(o.json, `Still pending after waiting; follow it with: scf act ${act.id}`);
  else if (act.status === "confirmed") status(o.json, `Confirmed in block ${act.blockNumber} (tx ${act.txHash}).`);
  return act;
}

/** Whether to follow an act until it is final: yes unless --no-wait. */
export const wait = (o: Opts) => o.wait !== false;

/** Prints an act (json: the act; else one line) and returns 0. */
export function done(o: Opts, act: Act, extra = ""): number {
  if (o.json) printJson(act);
  else process.stdout.write(`${act.kind} ${act.status}: act ${act.id}${act.txHash ? `, tx ${act.txHash}` : ""}${extra}\n`);
  return EXIT.OK;
}
