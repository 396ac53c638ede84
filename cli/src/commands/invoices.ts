/**
 * `scf invoices …` and the receivable acts (`accept`, `cancel`, `split`, `transfer`, `repay`): the
 * life of a receivable from tokenised invoice to payment. Reads list and show what the caller is
 * party to; each act is signed with the caller's key (EIP-712) and relayed by the service.
 */
import { signTypedData } from "../../../shared/client";
import { done, signedAct, signedStatement, wait } from "../lib/acts";
import { amount, checkedAddress } from "../lib/args";
import { api, pages, type Opts } from "../lib/context";
import { CliError, EXIT, usage } from "../lib/errors";
import { fenToYuan } from "../../../shared/money";
import { day, printJson, record, short, status, table, yuan } from "../lib/output";
import { receivableRef, registrationText } from "../lib/receivables";
import type { Receivable, ReceivableDetail, ReceivableDispute } from "../../../shared/api-types";
import { type Balance } from "../lib/settlement";

export async function invoicesImport(o: Opts, file: string): Promise<number> {
  const { importInvoices } = await import("./import");
  if (o.buyer) o.buyer = await checkedAddress(o.buyer, "--buyer");
  return importInvoices(api(o), file, {
    batchSize: o.batchSize,
    buyer: o.buyer,
    sellerTaxId: o.sellerTaxId,
    wait: o.wait !== false,
    json: o.json,
    dryRun: o.dryRun,
    delayMs: o.delayMs,
    state: o.state,
    uploadDocuments: o.uploadDocuments !== false,
  });
}

/** "184 days" and, over six calendar months from tokenisation, the review flag. */
function term(r: Receivable): string {
  if (r.termDays === null) return "—";
  return `${r.termDays} days from tokenisation${r.termOverSixMonths ? " — over six months: flagged for compliance review" : ""}`;
}

export async function invoicesList(o: Opts): Promise<number> {
  const fen = !!o.fen;
  const query = {
    status: o.status,
    role: o.role,
    party: o.party,
    dueFrom: o.dueAfter,
    dueTo: o.dueBefore,
    minAmount: o.minAmount ? amount(o.minAmount, fen, "--min-amount").toString() : undefined,
    maxAmount: o.maxAmount ? amount(o.maxAmount, fen, "--max-amount").toString() : undefined,
    termReview: o.termReview ? "true" : undefined,
    disputed: o.disputed ? "true" : undefined,
    sort: o.sort,
    limit: o.limit,
    cursor: o.cursor,
  };
  const p = await pages<Receivable>(api(o), "/receivables", query, !!o.all);
  if (o.json) printJson(p);
  else {
    table(
      ["id", "status", "face value", "outstanding", "due", "term", "debtor", "holder"],
      p.items.map((r) => [
        short(r.id, 12),
        r.status,
        yuan(r.faceValue),
        yuan(r.outstanding),
        day(r.dueDate),
        r.termDays === null ? "—" : `${r.termDays}d${r.termOverSixMonths ? " review" : ""}`,
        short(r.debtor),
        short(r.holder),
      ]),
    );
    const total = p.items.reduce((s, r) => s + BigInt(r.outstanding), 0n);
    process.stdout.write(`${p.items.length} receivable(s), outstanding ${fenToYuan(total)} yuan${p.nextCursor ? `; more: --all or --cursor ${p.nextCursor}` : ""}\n`);
  }
  return EXIT.OK;
}

export async function invoicesShow(o: Opts, ref: string): Promise<number> {
  const a = api(o);
  const id = await receivableRef(a, ref, o.sellerTaxId);
  const r = await a.get<ReceivableDetail>(`/receivables/${id}`);
  if (o.json) return (printJson(r), EXIT.OK);
  record([
    ["id", r.id],
    ["status", r.status],
    ["face value", `${yuan(r.faceValue)} yuan`],
    ["outstanding", `${yuan(r.outstanding)} yuan`],
    ["due", r.dueDate],
    ["seller", r.seller],
    ["debtor", r.debtor],
    ["holder", r.holder],
    ["parent", r.parentId],
    ["document", r.documentHash],
    ["created", `${r.createdAt ?? "—"} (tx ${r.createdTx})`],
    ["term", term(r)],
    ["financing", r.financing ? `line ${r.financing.lineId}, ${r.financing.status}, principal ${yuan(r.financing.principal)} yuan` : "none"],
    ["registration", r.financing ? registrationText(r.financing) : "—"],
    [
      "dispute",
      r.dispute
        ? `${r.dispute.reasonCode}${r.dispute.text ? ` (${r.dispute.text})` : ""}, ${r.dispute.open ? "open" : `closed: ${r.dispute.closedBy}`}, ${r.dispute.createdAt}`
        : "none",
    ],
  ]);
  if (r.payments.length) table(["paid", "to", "time", "tx"], r.payments.map((p) => [yuan(p.amount), short(p.holder), p.time, short(p.txHash)]));
  return EXIT.OK;
}

export async function accept(o: Opts, id: string): Promise<number> {
  const a = api(o);
  return done(o, await signedAct(a, `/receivables/${await receivableRef(a, id)}/accept`, {}, { wait: wait(o), json: o.json }));
}

/** Dispute reasons the service takes (POST /receivables/:id/dispute). */
const DISPUTE_REASONS = ["not_delivered", "amount_wrong", "duplicate", "not_ordered", "other"];

/** `scf invoices dispute <ref> --reason CODE [--text …]`: the debtor signs that it does not confirm an issued invoice. */
export async function invoicesDispute(o: Opts & { reason?: string; text?: string; sellerTaxId?: string }, ref: string): Promise<number> {
  if (!o.reason || !DISPUTE_REASONS.includes(o.reason)) throw usage(`--reason must be one of ${DISPUTE_REASONS.join(", ")}.`);
  const a = api(o);
  const body: Record<string, unknown> = { reasonCode: o.reason };
  if (o.text !== undefined) body.text = o.text;
  const d = await signedStatement<ReceivableDispute>(a, `/receivables/${await receivableRef(a, ref, o.sellerTaxId)}/dispute`, body, { json: o.json });
  if (o.json) printJson(d);
  else process.stdout.write(`disputed ${d.receivableId}: ${d.reasonCode}${d.text ? ` (${d.text})` : ""}; signed digest ${d.digest}\n`);
  return EXIT.OK;
}

export async function cancel(o: Opts, id: string): Promise<number> {
  const a = api(o);
  return done(o, await signedAct(a, `/receivables/${await receivableRef(a, id)}/cancel`, {}, { wait: wait(o), json: o.json }));
}

export async function split(o: Opts, id: string): Promise<number> {
  const amounts = String(o.amounts).split(",").map((a, i) => amount(a, !!o.fen, `part ${i + 1}`).toString());
  if (amounts.length < 2 || amounts.length > 20) throw usage("--amounts needs 2 to 20 parts, comma-separated");
  const a = api(o);
  const act = await signedAct(a, `/receivables/${await receivableRef(a, id)}/split`, { amounts }, { wait: wait(o), json: o.json });
  const children = (act.result?.childIds as string[] | undefined) ?? [];
  return done(o, act, children.length ? `\nparts: ${children.map((c, i) => `${c} (${fenToYuan(amounts[i])} yuan)`).join(", ")}` : "");
}

export async function transfer(o: Opts, id: string): Promise<number> {
  const to = await checkedAddress(o.to, "--to");
  const a = api(o);
  return done(o, await signedAct(a, `/receivables/${await receivableRef(a, id)}/transfer`, { to }, { wait: wait(o), json: o.json }));
}

export async function repay(o: Opts, id: string): Promise<number> {
  const a = api(o);
  const rid = await receivableRef(a, id);
  let fen: bigint;
  if (o.amount) fen = amount(o.amount, !!o.fen, "--amount");
  else {
    const r = await a.get<Receivable>(`/receivables/${rid}`);
    fen = BigInt(r.outstanding);
    if (fen === 0n) throw new CliError(`Receivable ${rid} has nothing outstanding (status ${r.status}).`, EXIT.REFUSED);
  }
  // The settlement balance endpoint is optional: without it a permit is always attached.
  let needPermit = true;
  const bal = await a.request<Balance>("GET", "/settlement/balance", { accept: [403, 404] });
  if (bal.status === 200) {
    if (BigInt(bal.body.balance) < fen) {
      throw new CliError(`Your settlement balance is ${fenToYuan(bal.body.balance)} yuan, less than the ${fenToYuan(fen)} yuan to pay.`, EXIT.REFUSED);
    }
    needPermit = BigInt(bal.body.allowances.Receivables) < fen;
  }
  const act = await signedAct(a, `/receivables/${rid}/repay`, { amount: fen.toString() }, {
    wait: wait(o),
    json: o.json,
    extra: async (u, w) => {
      if (!needPermit || !u.permitTypedData) return {};
      status(o.json, `Also signing an EIP-2612 permit for ${fenToYuan(fen)} yuan to the Receivables contract (the allowance is short).`);
      return { permitSignature: await signTypedData(w, u.permitTypedData) };
    },
  });
  return done(o, act);
}
