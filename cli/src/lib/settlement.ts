/**
 * The settlement token as commands that move it see it: the caller's balance and the allowances of
 * the ledger contracts (checked before a repayment or a financing advance), and the EIP-2612 permit
 * that raises an allowance when it is short.
 */
import { signTypedData, type TypedData } from "../../../shared/client";
import { type Api } from "./context";
import { CliError, EXIT } from "./errors";
import { fenToYuan } from "../../../shared/money";
import { status } from "./output";
import type { SettlementOperation } from "../../../shared/api-types";

export interface Balance {
  address: string;
  balance: string;
  allowances: { Receivables: string; Financing: string };
}

/**
 * Grants `spender` an allowance of `value` fen with a signed EIP-2612 permit relayed by the
 * service (POST /settlement/permits, two steps). Returns the operation once final (or pending).
 */
export async function signPermit(a: Api, spender: "Receivables" | "Financing", value: bigint, json: boolean | undefined): Promise<SettlementOperation> {
  const w = await a.signer();
  const draft = await a.post<{ typedData: TypedData }>("/settlement/permits", { spender, value: value.toString() });
  const td = draft.body.typedData;
  status(json, `Signing an EIP-2612 permit: ${spender} may draw up to ${fenToYuan(value)} yuan of your settlement tokens (deadline ${new Date(Number(td.message.deadline) * 1000).toISOString()}).`);
  const signature = await signTypedData(w, td);
  const res = await a.post<SettlementOperation>(
    "/settlement/permits",
    { spender, value: value.toString(), deadline: String(td.message.deadline), signature },
    { query: { wait: "true" }, idempotencyKey: `scf-permit-${w.address}-${td.message.nonce}-${td.message.deadline}` },
  );
  if (res.body.status === "failed") throw new CliError(`The permit failed on-chain: ${res.body.failureReason ?? "no reason given"}.`, EXIT.ACT_FAILED, res.body);
  return res.body;
}
