/**
 * The act protocol the API speaks (the same as the CLI's): POST the body without a signature and
 * the service answers the EIP-712 typed data after its early checks; the page says in words what
 * the typed data commits to, the user signs it, and the page POSTs the same body with nonce,
 * deadline and signature (with an Idempotency-Key and ?wait=true) and shows the confirmed act.
 */
import type { TFunction } from "i18next";
import { request } from "./api";
import { day, short, yuan } from "./money";
// Terms the service proposed in the typed data go back in the signed body exactly as signed (shared with the CLI).
import { proposedFields } from "../../shared/client";

export interface TypedData {
  domain: Record<string, unknown>;
  types: Record<string, Array<{ name: string; type: string }>>;
  primaryType: string;
  message: Record<string, unknown>;
}

export interface Unsigned {
  status: "unsigned";
  kind: string;
  typedData: TypedData;
  digest: string;
  permitTypedData?: TypedData;
}

export interface Act {
  id: string;
  kind: string;
  status: "pending" | "confirmed" | "failed";
  signer: string;
  receivableId: string | null;
  lineId: number | null;
  txHash: string | null;
  blockNumber: number | null;
  failureReason: string | null;
  result: Record<string, unknown> | null;
}

const rid = (v: unknown) => "0x" + BigInt(String(v)).toString(16).padStart(64, "0");

/** What the typed data commits the signer to, as a sentence in the user's language. */
export function describe(td: TypedData, t: TFunction, locale: string): string {
  const m = td.message as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  const y = (v: unknown) => yuan(String(v), locale);
  const d = (v: unknown) => day(String(v), locale);
  const id = m.receivableId !== undefined ? short(rid(m.receivableId), 14) : "";
  switch (td.primaryType) {
    case "Tokenise":
      return t("say.tokenise", { amount: y(m.invoice.faceValue), debtor: m.invoice.debtor, due: d(m.invoice.dueDate) });
    case "TokeniseBatch": {
      const total = (m.invoices as Array<{ faceValue: string }>).reduce((s, i) => s + BigInt(i.faceValue), 0n);
      return t("say.tokeniseBatch", { count: m.invoices.length, amount: y(total) });
    }
    case "Accept":
      return t("say.accept", { amount: y(m.faceValue), seller: m.seller, due: d(m.dueDate), id });
    case "Cancel":
      return t("say.cancel", { id });
    case "DisputeInvoice":
      return t("say.dispute", { id, reason: t(`reasons.${String(m.reasonCode)}`), text: m.text ? ` “${String(m.text)}”` : "" });
    case "Split":
      return t("say.split", { id, parts: (m.amounts as string[]).map(y).join(" + ") });
    case "TransferReceivable":
      return t("say.transfer", { id, to: m.to });
    case "Pay":
      return t("say.pay", { id, amount: y(m.amount) });
    case "OpenCreditLine":
    case "UpdateCreditLine":
      return t(td.primaryType === "OpenCreditLine" ? "say.openLine" : "say.updateLine", {
        line: m.lineId ?? "",
        debtor: m.debtor && !/^0x0+$/.test(m.debtor) ? m.debtor : t("any"),
        limit: y(m.terms.limit),
        advance: (Number(m.terms.maxAdvanceBps) / 100).toFixed(2),
        discount: (Number(m.terms.discountBps) / 100).toFixed(2),
        expiry: d(m.terms.expiry),
      });
    case "CloseCreditLine":
      return t("say.closeLine", { line: m.lineId });
    case "RequestFinancing":
      return t("say.request", { id, line: m.terms.lineId, minPaid: y(m.terms.minPaid), maxDiscount: y(m.terms.maxDiscount), until: d(m.terms.expiresAt) });
    case "WithdrawFinancingRequest":
      return t("say.withdraw", { id });
    case "ApproveFinancing":
    case "ApproveSignedRequest":
      return t("say.approve", { id, line: m.approval.lineId, advance: y(m.approval.advance), paid: y(m.approval.paid) });
    case "Permit":
      return t("say.permit", { spender: m.spender, value: y(m.value), until: d(m.deadline) });
    case "RejectFinancing":
      return t("say.reject", { id, line: m.lineId });
    default:
      return `${td.primaryType} ${JSON.stringify(m)}`;
  }
}

/** The unsigned step: what the user will be asked to sign. */
export const draft = (path: string, body: Record<string, unknown>) => send<Unsigned>(path, body);

/** JSON, or multipart when the body carries a file (a tokenised invoice's document). */
function send<T>(path: string, body: Record<string, unknown>, idempotencyKey?: string): Promise<T> {
  if (!Object.values(body).some((v) => v instanceof Blob)) return request<T>("POST", path, { json: body, idempotencyKey });
  const form = new FormData();
  for (const [k, v] of Object.entries(body)) {
    if (v instanceof File) form.append(k, v, v.name);
    else if (v !== undefined) form.append(k, String(v));
  }
  return request<T>("POST", path, { form, idempotencyKey });
}

/** The signed step: posts the signature (and any permit signature) and waits for the ledger. */
export async function submit(
  path: string,
  body: Record<string, unknown>,
  u: Unsigned,
  sign: (td: TypedData) => Promise<string>,
  signer: string,
): Promise<Act> {
  const td = u.typedData;
  const signature = await sign(td);
  const extra: Record<string, string> = {};
  if (u.permitTypedData) extra.permitSignature = await sign(u.permitTypedData);
  // A permit (EIP-2612) names no nonce of ours: the token keeps it.
  const signed =
    td.primaryType === "Permit"
      ? { ...body, deadline: String(td.message.deadline), signature }
      : { ...proposedFields(td.primaryType, td.message), ...body, ...extra, nonce: String(td.message.nonce), deadline: String(td.message.deadline), signature };
  const key = `console-${u.kind}-${String(td.message.nonce)}-${signer}`.slice(0, 200);
  const sep = path.includes("?") ? "&" : "?";
  const act = await send<Act>(`${path}${sep}wait=true`, signed, key);
  if (act.status === "failed") throw new Error(`The act failed on the ledger: ${act.failureReason ?? ""}`);
  return act;
}
