/**
 * `scf finance …`: financing a receivable against a financier's credit line. A supplier requests
 * on-chain (the financier then approves or rejects) or signs an offer kept off-chain that the
 * financier approves in one transaction; approving registers the movable-property financing
 * registration number (its hash on-chain), which financiers and auditors can look financings up by.
 */
import { done, signedAct, wait } from "../lib/acts";
import { receivableId } from "../lib/args";
import { api, pages, type Opts } from "../lib/context";
import { CliError, EXIT, usage } from "../lib/errors";
import { fenToYuan } from "../../../shared/money";
import { printJson, short, table, yuan } from "../lib/output";
import { receivableRef, registrationText } from "../lib/receivables";
import type { CreditLine, Financing, Receivable } from "../../../shared/api-types";
import { signPermit, type Balance } from "../lib/settlement";

function lineId(raw: string): number {
  if (!/^[1-9][0-9]{0,7}$/.test(String(raw))) throw usage(`credit line id "${raw}" must be a positive integer`);
  return Number(raw);
}

export async function financeRequest(o: Opts, id: string): Promise<number> {
  const a = api(o);
  return done(o, await signedAct(a, "/financings", { receivableId: await receivableRef(a, id), lineId: lineId(o.line) }, { wait: wait(o), json: o.json }));
}

export async function financeApprove(o: Opts, id: string): Promise<number> {
  const a = api(o);
  const rid = await receivableRef(a, id);
  // The advance moves from the financier's settlement tokens: make sure Financing may draw it.
  const bal = await a.request<Balance>("GET", "/settlement/balance", { accept: [403, 404] });
  if (bal.status === 200) {
    const [r, f] = await Promise.all([a.get<Receivable>(`/receivables/${rid}`), a.get<Financing>(`/financings/${rid}`)]);
    const line = await a.get<CreditLine>(`/credit-lines/${f.lineId}`);
    const advance = (BigInt(r.outstanding) * BigInt(line.maxAdvanceBps)) / 10_000n;
    if (BigInt(bal.body.balance) < advance) {
      throw new CliError(`Your settlement balance (${fenToYuan(bal.body.balance)} yuan) is below the advance of up to ${fenToYuan(advance)} yuan.`, EXIT.REFUSED);
    }
    if (BigInt(bal.body.allowances.Financing) < advance) await signPermit(a, "Financing", advance, o.json);
  }
  const body = { registrationNumber: String(o.registration) };
  return done(o, await signedAct(a, `/financings/${rid}/approve`, body, { wait: wait(o), json: o.json }));
}

export async function financeWithdraw(o: Opts, id: string): Promise<number> {
  return done(o, await signedAct(api(o), `/financings/${receivableId(id)}/withdraw`, {}, { wait: wait(o), json: o.json }));
}

export async function financeReject(o: Opts, id: string): Promise<number> {
  const code = String(o.reason);
  if (!/^[A-Z][A-Z0-9_]{0,30}$/.test(code)) throw usage("--reason must be 1 to 31 upper-case letters, digits or underscores, starting with a letter (e.g. CONCENTRATION_LIMIT)");
  const body: Record<string, unknown> = { reasonCode: code, ...(o.note ? { reason: o.note } : {}) };
  return done(o, await signedAct(api(o), `/financings/${receivableId(id)}/reject`, body, { wait: wait(o), json: o.json }));
}

export async function financeList(o: Opts): Promise<number> {
  return financings(o, { status: o.status });
}

async function financings(o: Opts, query: Record<string, string | undefined>): Promise<number> {
  const p = await pages<Financing>(api(o), "/financings", query, !!o.all);
  if (o.json) printJson(p);
  else
    table(
      ["receivable", "line", "status", "principal", "advance", "paid to supplier", "supplier", "financier", "registration", "reject reason"],
      p.items.map((f) => [short(f.receivableId, 12), f.lineId, f.status, yuan(f.principal), yuan(f.advance), yuan(f.paidToSupplier), short(f.supplier), short(f.financier), registrationText(f), f.rejectReasonText ?? ""]),
    );
  return EXIT.OK;
}

function registrationNumberArg(raw: unknown): string {
  const s = String(raw ?? "").trim();
  if (!/^[A-Za-z0-9][A-Za-z0-9-]{5,63}$/.test(s)) throw usage(`--registration "${s}" must be 6 to 64 letters, digits or dashes (the registry's number)`);
  return s;
}

/** Financings found by their movable-property registration number (financiers: own; auditors: all). */
export async function financeFind(o: Opts): Promise<number> {
  return financings(o, { registrationNumber: registrationNumberArg(o.registration) });
}

/** Active financings whose registration number the service still does not know past the grace. */
export async function financeUnregistered(o: Opts): Promise<number> {
  return financings(o, { registrationOverdue: "true" });
}

/** Gives the registration number of a financing approved directly on-chain (its financier). */
export async function financeRegister(o: Opts, id: string): Promise<number> {
  const res = await api(o).post<Record<string, unknown>>(`/financings/${receivableId(id)}/registration`, { registrationNumber: registrationNumberArg(o.registration) });
  if (o.json) printJson(res.body);
  else process.stdout.write(`Registration ${res.body.registrationNumber} recorded for the financing of ${res.body.receivableId}.\n`);
  return EXIT.OK;
}

// ---------------------------------------------------------------- offers (financing in one transaction)

interface FinancingOffer {
  id: string;
  receivableId: string;
  lineId: number;
  supplier: string;
  financier: string;
  minPaid: string;
  maxDiscount: string;
  expiresAt: string;
  deadline: string;
  nonce: string;
  status: string;
  actId: string | null;
  lastFailure: string | null;
}

function offerId(raw: string): string {
  const s = String(raw).trim();
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(s)) throw usage(`offer id "${s}" must be a UUID (see scf finance offers)`);
  return s;
}

/** Signs a financing request kept off-chain as an offer for the line's financier (no transaction until approved). */
export async function financeOffer(o: Opts, id: string): Promise<number> {
  const body = { receivableId: receivableId(id), lineId: lineId(o.line), settle: "with-approval" };
  // The signed post answers 201 with the offer, not an act: nothing is relayed yet.
  const offer = (await signedAct(api(o), "/financings", body, { wait: false, json: o.json })) as unknown as FinancingOffer;
  if (o.json) printJson(offer);
  else
    process.stdout.write(
      `offer ${offer.id} ${offer.status}: receivable ${offer.receivableId}, line ${offer.lineId} of ${offer.financier}, ` +
        `at least ${yuan(offer.minPaid)} yuan now; lapses ${offer.expiresAt < offer.deadline ? offer.expiresAt : offer.deadline}\n` +
        `The financier approves it with: scf finance approve-offer ${offer.id} --registration NUMBER\n`,
    );
  return EXIT.OK;
}

export async function financeOffers(o: Opts): Promise<number> {
  const { items } = await api(o).get<{ items: FinancingOffer[] }>("/financing-offers", { status: o.status });
  if (o.json) printJson(items);
  else
    table(
      ["offer", "receivable", "line", "status", "min paid now", "max discount", "lapses", "supplier", "financier"],
      items.map((f) => [f.id, short(f.receivableId, 12), f.lineId, f.status, yuan(f.minPaid), yuan(f.maxDiscount), f.expiresAt < f.deadline ? f.expiresAt : f.deadline, short(f.supplier), short(f.financier)]),
    );
  return EXIT.OK;
}

/** The financier approves an offer: its signature and the supplier's go on-chain in one transaction. */
export async function financeApproveOffer(o: Opts, rawId: string): Promise<number> {
  const a = api(o);
  const id = offerId(rawId);
  // The advance moves from the financier's settlement tokens: the offer says what approving now
  // would advance (the financier is not party to the receivable before it approves).
  const offer = await a.get<FinancingOffer & { advanceNow?: string | null }>(`/financing-offers/${id}`);
  const bal = await a.request<Balance>("GET", "/settlement/balance", { accept: [403, 404] });
  if (bal.status === 200 && offer.advanceNow) {
    const advance = BigInt(offer.advanceNow);
    if (BigInt(bal.body.balance) < advance) {
      throw new CliError(`Your settlement balance (${fenToYuan(bal.body.balance)} yuan) is below the advance of ${fenToYuan(advance)} yuan.`, EXIT.REFUSED);
    }
    if (BigInt(bal.body.allowances.Financing) < advance) await signPermit(a, "Financing", advance, o.json);
  }
  const act = await signedAct(a, `/financing-offers/${id}/approve`, { registrationNumber: String(o.registration) }, { wait: wait(o), json: o.json });
  const paid = act.result?.paid as string | undefined;
  return done(o, act, paid !== undefined ? `\npaid the supplier ${yuan(paid)} yuan` : "");
}

/** The supplier withdraws its offer: the signed withdrawal consumes the offer's nonce on-chain. */
export async function financeWithdrawOffer(o: Opts, rawId: string): Promise<number> {
  return done(o, await signedAct(api(o), `/financing-offers/${offerId(rawId)}/withdraw`, {}, { wait: wait(o), json: o.json }));
}
