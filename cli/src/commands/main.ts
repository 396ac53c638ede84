/** The work behind each `scf` command. `o` holds the global and the command's own options. */
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { basename, dirname } from "node:path";
import { follow, signedAct, type Act } from "../lib/acts";
import { Api, chosenKey, keyPath, keysDir, listKeys, password, serviceUrl, writePrivate, type GlobalOptions } from "../lib/context";
import { CliError, EXIT, usage } from "../lib/errors";
import { amountArg, fenToYuan } from "../lib/money";
import { day, printJson, record, short, status, table, yuan } from "../lib/output";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Opts = GlobalOptions & Record<string, any>;

const api = (o: Opts) => new Api(serviceUrl(o), o);

/** A receivable id as 0x + 64 lower-case hex (accepts decimal too). */
export function receivableId(raw: string): string {
  const s = String(raw).trim();
  if (/^0x[0-9a-fA-F]{1,64}$/.test(s) || /^[0-9]{1,78}$/.test(s)) {
    const v = BigInt(s);
    if (v < 1n << 256n) return "0x" + v.toString(16).padStart(64, "0");
  }
  throw usage(`receivable id "${s}" must be 0x followed by up to 64 hex digits, or a decimal number`);
}

async function checkedAddress(raw: string, what: string): Promise<string> {
  const { getAddress } = await import("ethers");
  const s = String(raw).trim();
  const hex = s.slice(2);
  if (!/^0x[0-9a-fA-F]{40}$/.test(s)) throw usage(`${what} "${s}" is not an address (0x + 40 hex digits)`);
  if (hex !== hex.toLowerCase() && hex !== hex.toUpperCase() && getAddress(s.toLowerCase()) !== s) {
    throw usage(`${what} "${s}" has a wrong EIP-55 checksum: probably a typo`);
  }
  return getAddress(s.toLowerCase());
}

function amount(text: string, fen: boolean, what: string): bigint {
  try {
    return amountArg(text, fen, what);
  } catch (e) {
    throw usage((e as Error).message);
  }
}

/** Prints an act (json: the act; else one line) and returns 0. */
function done(o: Opts, act: Act, extra = ""): number {
  if (o.json) printJson(act);
  else process.stdout.write(`${act.kind} ${act.status}: act ${act.id}${act.txHash ? `, tx ${act.txHash}` : ""}${extra}\n`);
  return EXIT.OK;
}

// ---------------------------------------------------------------- keys

async function writeKey(o: Opts, name: string, privateKey: string): Promise<number> {
  const path = keyPath(o, name);
  if (existsSync(path) && !o.force) throw usage(`A key named ${name} already exists (${path}); use --force to overwrite it.`);
  const { Wallet, encryptKeystoreJson } = await import("ethers");
  const w = new Wallet(privateKey);
  const pw = await password(`New password for key ${name}: `, true);
  if (pw.length < 8) throw usage("Choose a password of at least 8 characters.");
  // SCF_SCRYPT_N lowers the scrypt cost for tests only; the default is ethers' (2^17).
  const n = process.env.SCF_SCRYPT_N ? Number(process.env.SCF_SCRYPT_N) : undefined;
  const json = n ? await encryptKeystoreJson({ address: w.address, privateKey: w.privateKey }, pw, { scrypt: { N: n } }) : await w.encrypt(pw);
  mkdirSync(keysDir(o), { recursive: true, mode: 0o700 });
  writePrivate(path, json);
  if (o.json) printJson({ name, address: w.address, file: path });
  else process.stdout.write(`Key ${name}: ${w.address} (encrypted in ${path})\n`);
  return EXIT.OK;
}

export async function keysNew(o: Opts, name: string): Promise<number> {
  const { Wallet } = await import("ethers");
  return writeKey(o, name, Wallet.createRandom().privateKey);
}

export async function keysImport(o: Opts, name: string): Promise<number> {
  let text: string;
  if (o.privateKeyFile) {
    if (!existsSync(o.privateKeyFile)) throw usage(`No such file: ${o.privateKeyFile}`);
    text = readFileSync(o.privateKeyFile, "utf8");
  } else {
    if (process.stdin.isTTY) throw usage("Give --private-key-file FILE, or pipe the private key on stdin (scf keys import NAME < key.txt).");
    text = readFileSync(0, "utf8");
  }
  const m = /^\s*(?:0x)?([0-9a-fA-F]{64})\s*$/.exec(text);
  if (!m) throw usage("The private key must be 64 hex digits (0x optional), alone in the file.");
  if (!o.privateKeyFile && !process.env.SCF_PASSWORD) {
    throw new CliError("The key came on stdin, so the password cannot be asked on the terminal: set SCF_PASSWORD, or use --private-key-file.", EXIT.AUTH);
  }
  return writeKey(o, name, "0x" + m[1]);
}

export async function keysList(o: Opts): Promise<number> {
  const keys = listKeys(o);
  if (o.json) printJson(keys.map(({ name, address }) => ({ name, address })));
  else if (!keys.length) process.stdout.write(`No keys in ${keysDir(o)}. Create one with: scf keys new NAME\n`);
  else table(["name", "address"], keys.map((k) => [k.name, k.address]));
  return EXIT.OK;
}

// ---------------------------------------------------------------- session

export async function login(o: Opts): Promise<number> {
  const a = api(o);
  const s = await a.login();
  if (o.json) printJson({ address: s.address, expiresAt: s.expiresAt, url: a.url });
  else process.stdout.write(`Signed in to ${a.url} as ${s.address} until ${s.expiresAt}.\n`);
  return EXIT.OK;
}

export async function logout(o: Opts): Promise<number> {
  const a = api(o);
  await a.request("POST", "/auth/logout", { accept: [401] }).catch(() => undefined);
  await a.logout();
  status(o.json, `Signed out ${chosenKey(o).address} from ${a.url}.`);
  return EXIT.OK;
}

interface Me {
  address: string;
  roles: number;
  roleNames: string[];
  verifiedMember: boolean;
  complianceOfficer: boolean;
  access: string[];
}

export async function whoami(o: Opts): Promise<number> {
  const me = await api(o).get<Me>("/auth/me");
  if (o.json) printJson(me);
  else
    record([
      ["address", me.address],
      ["roles", me.roleNames.join(", ") || "none"],
      ["verified member", me.verifiedMember ? "yes" : "no"],
      ["compliance officer", me.complianceOfficer ? "yes" : "no"],
      ["access", me.access.join(", ") || "none (not a member yet: scf apply …)"],
    ]);
  return EXIT.OK;
}

// ---------------------------------------------------------------- onboarding

interface Application {
  id: string;
  applicant: string;
  legalName: string;
  entityIdType: string;
  entityId: string;
  jurisdiction: string;
  roles: string[];
  status: string;
  screeningResult: string;
  checks: Array<{ code: string; result: string; reason: string }>;
  decisionReason: string | null;
  txHash: string | null;
  createdAt: string;
}

function showApplication(o: Opts, a: Application): void {
  if (o.json) return printJson(a);
  record([
    ["application", a.id],
    ["applicant", a.applicant],
    ["legal name", a.legalName],
    ["entity id", `${a.entityIdType} ${a.entityId}`],
    ["jurisdiction", a.jurisdiction],
    ["roles", a.roles.join(", ")],
    ["status", a.status],
    ["screening", a.screeningResult],
    ["decision reason", a.decisionReason],
    ["tx", a.txHash],
  ]);
  const notable = a.checks.filter((c) => c.result !== "pass");
  if (notable.length) table(["check", "result", "reason"], notable.map((c) => [c.code, c.result, c.reason]));
}

export async function apply(o: Opts): Promise<number> {
  const id = String(o.entityId).trim().toUpperCase();
  const type = (o.entityIdType ?? (id.length === 20 ? "LEI" : "USCC")).toUpperCase();
  if (type !== "LEI" && type !== "USCC") throw usage("--entity-id-type must be USCC or LEI");
  const roles = String(o.roles).split(",").map((r) => r.trim().toLowerCase()).filter(Boolean);
  const bad = roles.filter((r) => !["supplier", "buyer", "financier", "auditor"].includes(r));
  if (!roles.length || bad.length) throw usage(`--roles must list supplier, buyer, financier or auditor (got ${bad.join(", ") || "nothing"})`);
  const form = new FormData();
  form.append("legalName", o.legalName);
  form.append("entityIdType", type);
  form.append("entityId", id);
  form.append("jurisdiction", String(o.jurisdiction).trim().toUpperCase());
  form.append("roles", roles.join(","));
  const docs: string[] = o.document ?? [];
  if (docs.length > 10) throw usage("At most 10 documents.");
  for (const f of docs) {
    if (!existsSync(f)) throw usage(`No such file: ${f}`);
    form.append("documents", new Blob([readFileSync(f)]), basename(f));
  }
  const res = await api(o).request<Application>("POST", "/onboarding/applications", { form });
  showApplication(o, res.body);
  if (o.json) return EXIT.OK;
  if (["submitted", "needs_review"].includes(res.body.status)) process.stdout.write(`\nA compliance officer decides next (scf approve ${res.body.id}).\n`);
  else if (res.body.status === "rejected") {
    process.stdout.write("\nThe application was rejected; fix what the checks name and apply again.\n");
    return EXIT.REFUSED;
  }
  return EXIT.OK;
}

async function pages<T>(a: Api, path: string, query: Record<string, string | number | boolean | undefined>, all: boolean): Promise<{ items: T[]; nextCursor: string | null }> {
  const items: T[] = [];
  let cursor = query.cursor as string | undefined;
  for (;;) {
    const p = await a.get<{ items: T[]; nextCursor: string | null }>(path, { ...query, cursor });
    items.push(...p.items);
    if (!all || !p.nextCursor) return { items, nextCursor: p.nextCursor };
    cursor = p.nextCursor;
  }
}

export async function applications(o: Opts): Promise<number> {
  const p = await pages<Application>(api(o), "/onboarding/applications", { status: o.status }, !!o.all);
  if (o.json) printJson(p);
  else {
    table(["id", "applicant", "legal name", "roles", "status", "screening", "created"], p.items.map((a) => [a.id, a.applicant, a.legalName, a.roles.join(","), a.status, a.screeningResult, day(a.createdAt)]));
    if (p.nextCursor) process.stdout.write("More: add --all\n");
  }
  return EXIT.OK;
}

function uuid(id: string): string {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id)) throw usage(`application id "${id}" must be a UUID (see scf applications)`);
  return id;
}

export async function approve(o: Opts, id: string): Promise<number> {
  const body = o.kycDays !== undefined ? { kycValidityDays: Number(o.kycDays) } : {};
  const res = await api(o).post<Application>(`/onboarding/applications/${uuid(id)}/approve`, body, { query: { wait: o.wait ? "true" : undefined } });
  showApplication(o, res.body);
  if (res.body.status === "failed") return EXIT.ACT_FAILED;
  return EXIT.OK;
}

export async function reject(o: Opts, id: string): Promise<number> {
  const res = await api(o).post<Application>(`/onboarding/applications/${uuid(id)}/reject`, { reason: o.reason });
  showApplication(o, res.body);
  return EXIT.OK;
}

// ---------------------------------------------------------------- invoices

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

interface Receivable {
  id: string;
  seller: string;
  debtor: string;
  holder: string | null;
  faceValue: string;
  outstanding: string;
  dueDate: string;
  status: string;
  financed: boolean;
  parentId: string | null;
  documentHash: string | null;
  createdTx: string;
  createdAt: string | null;
  tokenisedAt: string | null;
  termDays: number | null;
  termOverSixMonths: boolean;
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

export async function invoicesShow(o: Opts, id: string): Promise<number> {
  const r = await api(o).get<Receivable & { financing: Record<string, unknown> | null; payments: Array<{ amount: string; time: string; holder: string; txHash: string }> }>(`/receivables/${receivableId(id)}`);
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
    ["financing", r.financing ? `line ${r.financing.lineId}, ${r.financing.status}, principal ${yuan(r.financing.principal as string)} yuan` : "none"],
    ["registration", r.financing ? registrationText(r.financing) : "—"],
  ]);
  if (r.payments.length) table(["paid", "to", "time", "tx"], r.payments.map((p) => [yuan(p.amount), short(p.holder), p.time, short(p.txHash)]));
  return EXIT.OK;
}

const wait = (o: Opts) => o.wait !== false;

export async function accept(o: Opts, id: string): Promise<number> {
  return done(o, await signedAct(api(o), `/receivables/${receivableId(id)}/accept`, {}, { wait: wait(o), json: o.json }));
}

export async function cancel(o: Opts, id: string): Promise<number> {
  return done(o, await signedAct(api(o), `/receivables/${receivableId(id)}/cancel`, {}, { wait: wait(o), json: o.json }));
}

export async function split(o: Opts, id: string): Promise<number> {
  const amounts = String(o.amounts).split(",").map((a, i) => amount(a, !!o.fen, `part ${i + 1}`).toString());
  if (amounts.length < 2 || amounts.length > 20) throw usage("--amounts needs 2 to 20 parts, comma-separated");
  const act = await signedAct(api(o), `/receivables/${receivableId(id)}/split`, { amounts }, { wait: wait(o), json: o.json });
  const children = (act.result?.childIds as string[] | undefined) ?? [];
  return done(o, act, children.length ? `\nparts: ${children.map((c, i) => `${c} (${fenToYuan(amounts[i])} yuan)`).join(", ")}` : "");
}

export async function transfer(o: Opts, id: string): Promise<number> {
  const to = await checkedAddress(o.to, "--to");
  return done(o, await signedAct(api(o), `/receivables/${receivableId(id)}/transfer`, { to }, { wait: wait(o), json: o.json }));
}

interface Balance {
  address: string;
  balance: string;
  allowances: { Receivables: string; Financing: string };
}

export async function repay(o: Opts, id: string): Promise<number> {
  const a = api(o);
  const rid = receivableId(id);
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
      const { signTyped } = await import("../lib/acts");
      status(o.json, `Also signing an EIP-2612 permit for ${fenToYuan(fen)} yuan to the Receivables contract (the allowance is short).`);
      return { permitSignature: await signTyped(w, u.permitTypedData) };
    },
  });
  return done(o, act);
}

// ---------------------------------------------------------------- financing

function lineId(raw: string): number {
  if (!/^[1-9][0-9]{0,7}$/.test(String(raw))) throw usage(`credit line id "${raw}" must be a positive integer`);
  return Number(raw);
}

export async function financeRequest(o: Opts, id: string): Promise<number> {
  return done(o, await signedAct(api(o), "/financings", { receivableId: receivableId(id), lineId: lineId(o.line) }, { wait: wait(o), json: o.json }));
}

export async function financeApprove(o: Opts, id: string): Promise<number> {
  const a = api(o);
  const rid = receivableId(id);
  // The advance moves from the financier's settlement tokens: make sure Financing may draw it.
  const bal = await a.request<Balance>("GET", "/settlement/balance", { accept: [403, 404] });
  if (bal.status === 200) {
    const [r, f] = await Promise.all([a.get<Receivable>(`/receivables/${rid}`), a.get<{ lineId: number }>(`/financings/${rid}`)]);
    const line = await a.get<{ maxAdvanceBps: number }>(`/credit-lines/${f.lineId}`);
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

/** The registration column: the number, "unknown", and the overdue flag. */
function registrationText(f: Record<string, unknown>): string {
  if (!f.registrationHash) return "—";
  const number = (f.registrationNumber as string | null) ?? "unknown to the service";
  return f.registrationOverdue ? `${number} — OVERDUE since ${day(f.registrationDueBy as string)}: give it with scf finance register` : number;
}

async function financings(o: Opts, query: Record<string, string | undefined>): Promise<number> {
  const p = await pages<Record<string, string | number | boolean | null>>(api(o), "/financings", query, !!o.all);
  if (o.json) printJson(p);
  else
    table(
      ["receivable", "line", "status", "principal", "advance", "paid to supplier", "supplier", "financier", "registration", "reject reason"],
      p.items.map((f) => [short(f.receivableId as string, 12), f.lineId as number, f.status as string, yuan(f.principal as string), yuan(f.advance as string), yuan(f.paidToSupplier as string), short(f.supplier as string), short(f.financier as string), registrationText(f), (f.rejectReasonText as string) ?? ""]),
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

// ---------------------------------------------------------------- payment records

interface PaymentRecord {
  buyer: string;
  asOf: string;
  confirmed: { count: number; faceValue: string };
  paidOnTime: { count: number; faceValue: string };
  paidLate: { count: number; faceValue: string; daysLateMedian: number | null; daysLateP95: number | null; daysLateMax: number | null };
  creditedInFull: { count: number; faceValue: string };
  defaulted: { count: number; faceValue: string; outstanding: string };
  outstandingPastDue: { count: number; outstanding: string };
  outstandingNotYetDue: { count: number; outstanding: string };
}

/** One buyer's payment record (an address), or every buyer the caller may read. */
export async function paymentRecord(o: Opts, buyer?: string): Promise<number> {
  const a = api(o);
  if (buyer) {
    const r = await a.get<PaymentRecord>(`/payment-records/${await checkedAddress(buyer, "buyer")}`);
    if (o.json) return (printJson(r), EXIT.OK);
    const late = r.paidLate;
    record([
      ["buyer", r.buyer],
      ["as of", r.asOf],
      ["confirmed", `${r.confirmed.count} (${yuan(r.confirmed.faceValue)} yuan)`],
      ["paid on time", `${r.paidOnTime.count} (${yuan(r.paidOnTime.faceValue)} yuan)`],
      ["paid late", `${late.count} (${yuan(late.faceValue)} yuan)${late.count ? `; days late: median ${late.daysLateMedian}, p95 ${late.daysLateP95}, max ${late.daysLateMax}` : ""}`],
      ["credited in full", `${r.creditedInFull.count} (${yuan(r.creditedInFull.faceValue)} yuan)`],
      ["defaulted", `${r.defaulted.count} (${yuan(r.defaulted.outstanding)} yuan unpaid)`],
      ["past due", `${r.outstandingPastDue.count} (${yuan(r.outstandingPastDue.outstanding)} yuan outstanding)`],
      ["not yet due", `${r.outstandingNotYetDue.count} (${yuan(r.outstandingNotYetDue.outstanding)} yuan outstanding)`],
    ]);
    return EXIT.OK;
  }
  const p = await pages<PaymentRecord>(a, "/payment-records", {}, !!o.all);
  if (o.json) printJson(p);
  else
    table(
      ["buyer", "confirmed", "on time", "late", "days late (median / p95)", "defaulted", "past due", "past due (yuan)"],
      p.items.map((r) => [
        r.buyer,
        r.confirmed.count,
        r.paidOnTime.count,
        r.paidLate.count,
        r.paidLate.count ? `${r.paidLate.daysLateMedian} / ${r.paidLate.daysLateP95}` : "—",
        r.defaulted.count,
        r.outstandingPastDue.count,
        yuan(r.outstandingPastDue.outstanding),
      ]),
    );
  return EXIT.OK;
}

export async function creditLinesOpen(o: Opts): Promise<number> {
  if (!o.debtor && !o.supplier) throw usage("Name the debtor (--debtor), the supplier (--supplier) or both.");
  const bps = (v: string, name: string, min: number) => {
    if (!/^\d{1,5}$/.test(String(v)) || Number(v) < min || Number(v) > 10_000) throw usage(`${name} must be a whole number of basis points, ${min} to 10000`);
    return Number(v);
  };
  const expiryText = String(o.expiry);
  const expiry = /^\d{4}-\d{2}-\d{2}$/.test(expiryText) ? `${expiryText}T00:00:00Z` : expiryText;
  if (Number.isNaN(Date.parse(expiry))) throw usage(`--expiry ${expiryText} is not an ISO 8601 date`);
  const body: Record<string, unknown> = {
    ...(o.debtor ? { debtor: await checkedAddress(o.debtor, "--debtor") } : {}),
    ...(o.supplier ? { supplier: await checkedAddress(o.supplier, "--supplier") } : {}),
    limit: amount(o.limit, !!o.fen, "--limit").toString(),
    maxAdvanceBps: bps(o.maxAdvanceBps, "--max-advance-bps", 1),
    discountBps: bps(o.discountBps, "--discount-bps", 0),
    expiry,
  };
  const act = await signedAct(api(o), "/credit-lines", body, { wait: wait(o), json: o.json });
  const id = act.lineId ?? act.result?.lineId;
  return done(o, act, id ? `\ncredit line ${id}` : "");
}

export async function creditLinesList(o: Opts): Promise<number> {
  const p = await pages<Record<string, string | number | boolean | null>>(api(o), "/credit-lines", { open: o.open ? "true" : undefined }, !!o.all);
  if (o.json) printJson(p);
  else
    table(
      ["id", "financier", "debtor", "supplier", "limit", "utilised", "available", "advance", "discount", "expiry", "open"],
      p.items.map((l) => [l.id as number, short(l.financier as string), short(l.debtor as string), short(l.supplier as string), yuan(l.limit as string), yuan(l.utilised as string), yuan(l.available as string), `${Number(l.maxAdvanceBps) / 100}%`, `${Number(l.discountBps) / 100}%`, day(l.expiry as string), l.open ? "yes" : "no"]),
    );
  return EXIT.OK;
}

// ---------------------------------------------------------------- audit

interface LedgerEvent {
  txHash: string;
  logIndex: number;
  blockNumber: number;
  time: string;
  event: string;
  args: Record<string, string | boolean>;
  txFrom: string;
  actor: string | null;
}

export async function auditHistory(o: Opts, id: string): Promise<number> {
  const events = await api(o).get<LedgerEvent[]>(`/receivables/${receivableId(id)}/history`);
  if (o.json) printJson(events);
  else
    table(
      ["block", "time", "event", "actor", "signer (tx from)", "amount", "tx"],
      events.map((e) => {
        const amt = e.args.amount ?? e.args.faceValue ?? e.args.advance;
        return [e.blockNumber, e.time.replace(".000Z", "Z"), e.event, short(e.actor), short(e.txFrom), typeof amt === "string" ? yuan(amt) : "", short(e.txHash)];
      }),
    );
  return EXIT.OK;
}

export interface LineageNode {
  id: string;
  faceValue: string;
  status: string;
  visible: boolean;
  outstanding: string | null;
  holder: string | null;
  dueDate: string;
  children: LineageNode[];
}

/** The split tree as text lines with ├── └── connectors; `mark` flags one node. */
export function renderTree(root: LineageNode, mark?: string): string[] {
  const label = (n: LineageNode) =>
    `${short(n.id, 12)}  ${yuan(n.faceValue)} yuan  ${n.status}` +
    (n.visible ? `  outstanding ${yuan(n.outstanding)}${n.holder ? `  holder ${short(n.holder)}` : ""}` : "  (not a party: details withheld)") +
    (mark && n.id === mark ? "  ◀" : "");
  const out = [label(root)];
  const walk = (n: LineageNode, prefix: string) => {
    n.children.forEach((ch, i) => {
      const last = i === n.children.length - 1;
      out.push(`${prefix}${last ? "└── " : "├── "}${label(ch)}`);
      walk(ch, prefix + (last ? "    " : "│   "));
    });
  };
  walk(root, "");
  return out;
}

export async function auditLineage(o: Opts, id: string): Promise<number> {
  const rid = receivableId(id);
  const tree = await api(o).get<LineageNode>(`/receivables/${rid}/lineage`);
  if (o.json) printJson(tree);
  else process.stdout.write(renderTree(tree, rid).join("\n") + "\n");
  return EXIT.OK;
}

export async function auditVerify(o: Opts): Promise<number> {
  const r = await api(o).get<{
    ok: boolean;
    checkpointBlock: number;
    logs: number;
    counts: Record<string, { expected: number; actual: number }>;
    differences: Array<{ table: string; key: string; field: string; expected: unknown; actual: unknown; source: string }>;
  }>("/audit/verify", { contracts: o.contracts ? "true" : undefined });
  if (o.json) printJson(r);
  else {
    table(["table", "from chain", "in database"], Object.entries(r.counts).map(([t, c]) => [t, c.expected, c.actual]));
    if (r.ok) process.stdout.write(`OK: the service's records match the chain up to block ${r.checkpointBlock} (${r.logs} logs read).\n`);
    else {
      process.stdout.write(`${r.differences.length} difference(s) between the service's records and the chain (block ${r.checkpointBlock}):\n`);
      table(["table", "key", "field", "chain", "database", "source"], r.differences.map((d) => [d.table, short(d.key, 20), d.field, String(d.expected), String(d.actual), d.source]));
    }
  }
  return r.ok ? EXIT.OK : EXIT.REFUSED;
}

export async function auditExport(o: Opts): Promise<number> {
  const format = String(o.format);
  if (format !== "csv" && format !== "json") throw usage("--format must be csv or json");
  const a = api(o);
  const dataset = String(o.dataset ?? "events");
  if (!["events", "payment-records", "reviews"].includes(dataset)) throw usage("--dataset must be events, payment-records or reviews");
  const res = await a.stream("/audit/export", {
    format,
    dataset,
    receivableId: o.receivable ? receivableId(o.receivable) : undefined,
    member: o.member,
    type: o.type,
    from: o.from,
    to: o.to,
  });
  const { Readable, Transform } = await import("node:stream");
  const { pipeline } = await import("node:stream/promises");
  const { createWriteStream } = await import("node:fs");
  let bytes = 0;
  let newlines = 0;
  let bar: import("cli-progress").SingleBar | null = null;
  if (o.out && !o.json && process.stderr.isTTY) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { SingleBar } = require("cli-progress") as typeof import("cli-progress");
    bar = new SingleBar({ stream: process.stderr, format: "Exporting: {rows} rows, {kb} KiB", hideCursor: true });
    bar.start(1, 0, { rows: 0, kb: 0 });
  }
  const counter = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      bytes += chunk.length;
      for (const b of chunk) if (b === 10) newlines++;
      bar?.update(0, { rows: Math.max(0, newlines - 1), kb: (bytes / 1024).toFixed(1) });
      cb(null, chunk);
    },
  });
  if (o.out) mkdirSync(dirname(o.out), { recursive: true });
  const sink = o.out ? createWriteStream(o.out) : process.stdout;
  try {
    await pipeline(Readable.fromWeb(res.body as import("node:stream/web").ReadableStream), counter, sink);
  } catch (e) {
    bar?.stop();
    throw new CliError(`The export was cut short (${(e as Error).message}); the file is incomplete. Run it again.`, EXIT.UNREACHABLE);
  }
  bar?.stop();
  // CSV: a header line then one line per event; JSON: "[", one line per event, "]".
  const rows = Math.max(0, newlines - (format === "csv" ? 1 : 2));
  const checkpoint = res.headers.get("x-ledger-checkpoint");
  if (o.out) {
    if (o.json) printJson({ file: o.out, format, dataset, rows, bytes, checkpointBlock: checkpoint ? Number(checkpoint) : null });
    else process.stdout.write(`Wrote ${rows} ${dataset === "events" ? "event(s)" : `${dataset} row(s)`}, ${bytes} bytes, to ${o.out} (ledger up to block ${checkpoint}).\n`);
  }
  return EXIT.OK;
}

/** --from / --to of a pack: block numbers (digits only) or ISO 8601 times, both of the same kind. */
function packPeriod(o: Opts): Record<string, string> {
  const from = String(o.from ?? "");
  const to = String(o.to ?? "");
  const blocks = /^\d+$/.test(from) && /^\d+$/.test(to);
  if (!blocks && (/^\d+$/.test(from) || /^\d+$/.test(to))) {
    throw usage("--from and --to must both be block numbers or both be ISO 8601 times (e.g. 2026-11-01 or 2026-11-01T00:00:00Z)");
  }
  return blocks ? { fromBlock: from, toBlock: to } : { from, to };
}

export async function auditPack(o: Opts): Promise<number> {
  const { writeFileSync } = await import("node:fs");
  const { join } = await import("node:path");
  const fmt = await import("../../../services/src/audit/export-pack-format");
  const query = packPeriod(o);
  const a = api(o);
  const { manifest, signature } = await a.get<{ manifest: import("../../../services/src/audit/export-pack-format").PackManifest; signature: unknown }>(
    "/audit/pack",
    query,
  );
  const out = String(o.out);
  mkdirSync(out, { recursive: true });
  for (const f of manifest.files) {
    const res = await a.stream(`/audit/pack/files/${encodeURIComponent(f.name)}`, query);
    const bytes = Buffer.from(await res.arrayBuffer());
    writeFileSync(join(out, f.name), bytes);
    if (fmt.sha256Hex(bytes) !== f.sha256) {
      throw new CliError(`${f.name} does not match the manifest's SHA-256 as downloaded; the pack in ${out} is incomplete. Run it again.`, EXIT.UNREACHABLE);
    }
  }
  // Written last: a directory with a manifest is a whole pack.
  writeFileSync(join(out, fmt.SIGNATURE_FILE), JSON.stringify(signature, null, 2) + "\n");
  writeFileSync(join(out, fmt.MANIFEST_FILE), fmt.canonicalJson(manifest));
  if (o.json) printJson({ dir: out, manifest });
  else {
    table(["file", "rows", "sha256"], manifest.files.map((f) => [f.name, f.rows, f.sha256]));
    process.stdout.write(`Wrote the pack for blocks ${manifest.blocks.first}-${manifest.blocks.last} to ${out}, signed by ${manifest.ledger.operator}.\n`);
  }
  return EXIT.OK;
}

export async function auditVerifyPack(o: Opts, dir: string): Promise<number> {
  const { verifyPackDir } = await import("../../../services/src/audit/export-pack-format");
  const check = verifyPackDir(dir, o.operator ? String(o.operator) : undefined);
  if (o.json) printJson({ ok: check.ok, signer: check.signer, problems: check.problems, files: check.manifest?.files ?? [] });
  else if (check.ok) {
    const m = check.manifest!;
    table(["file", "rows", "sha256"], m.files.map((f) => [f.name, f.rows, f.sha256]));
    process.stdout.write(
      `OK: every file matches the manifest, signed by the ledger's operator ${check.signer} (chain ${m.ledger.chainId}, blocks ${m.blocks.first}-${m.blocks.last}). ` +
        `Check that this is the operator of the ledger you expect (deployment record, or the registry's ONBOARDING_OPERATOR role).\n`,
    );
  } else process.stdout.write(`The pack in ${dir} does not check out:\n${check.problems.map((p) => `  ${p}\n`).join("")}`);
  return check.ok ? EXIT.OK : EXIT.REFUSED;
}

export async function actShow(o: Opts, id: string): Promise<number> {
  const a = api(o);
  const act = o.wait ? await follow(a, id) : await a.get<Act>(`/acts/${id}`);
  if (o.json) printJson(act);
  else
    record([
      ["act", act.id],
      ["kind", act.kind],
      ["status", act.status],
      ["signer", act.signer],
      ["receivable", act.receivableId],
      ["tx", act.txHash],
      ["block", act.blockNumber],
      ["failure", act.failureReason],
    ]);
  return act.status === "failed" ? EXIT.ACT_FAILED : EXIT.OK;
}

// ---------------------------------------------------------------- settlement

interface SettlementOperation {
  id: string;
  kind: string;
  status: string;
  account: string;
  spender: string | null;
  value: string;
  txHash: string | null;
  failureReason: string | null;
}

/**
 * Grants `spender` an allowance of `value` fen with a signed EIP-2612 permit relayed by the
 * service (POST /settlement/permits, two steps). Returns the operation once final (or pending).
 */
export async function signPermit(a: Api, spender: "Receivables" | "Financing", value: bigint, json: boolean | undefined): Promise<SettlementOperation> {
  const w = await a.signer();
  const draft = await a.post<{ typedData: import("../lib/acts").TypedData }>("/settlement/permits", { spender, value: value.toString() });
  const td = draft.body.typedData;
  status(json, `Signing an EIP-2612 permit: ${spender} may draw up to ${fenToYuan(value)} yuan of your settlement tokens (deadline ${new Date(Number(td.message.deadline) * 1000).toISOString()}).`);
  const { signTyped } = await import("../lib/acts");
  const signature = await signTyped(w, td);
  const res = await a.post<SettlementOperation>(
    "/settlement/permits",
    { spender, value: value.toString(), deadline: String(td.message.deadline), signature },
    { query: { wait: "true" }, idempotencyKey: `scf-permit-${w.address}-${td.message.nonce}-${td.message.deadline}` },
  );
  if (res.body.status === "failed") throw new CliError(`The permit failed on-chain: ${res.body.failureReason ?? "no reason given"}.`, EXIT.ACT_FAILED, res.body);
  return res.body;
}

export async function settlementBalance(o: Opts): Promise<number> {
  const b = await api(o).get<Balance>("/settlement/balance", { address: o.address });
  if (o.json) printJson(b);
  else
    record([
      ["address", b.address],
      ["balance", `${yuan(b.balance)} yuan`],
      ["allowance to Receivables (repayments)", `${yuan(b.allowances.Receivables)} yuan`],
      ["allowance to Financing (advances)", `${yuan(b.allowances.Financing)} yuan`],
    ]);
  return EXIT.OK;
}

export async function settlementPermit(o: Opts): Promise<number> {
  const spender = String(o.spender);
  if (spender !== "Receivables" && spender !== "Financing") throw usage("--spender must be Receivables (repayments) or Financing (financing advances)");
  const op = await signPermit(api(o), spender, amount(o.amount, !!o.fen, "--amount"), o.json);
  if (o.json) printJson(op);
  else process.stdout.write(`permit ${op.status}: ${spender} may draw ${yuan(op.value)} yuan${op.txHash ? ` (tx ${op.txHash})` : ""}\n`);
  return EXIT.OK;
}

interface Held {
  address: string;
  held: string;
}

/** What the ledger holds for the signed-in address (payments made while it could not receive them). */
export async function settlementHeld(o: Opts): Promise<number> {
  const h = await api(o).get<Held>("/settlement/held", { address: o.address ? await checkedAddress(o.address, "--address") : undefined });
  if (o.json) printJson(h);
  else if (BigInt(h.held) === 0n) process.stdout.write(`Nothing is held for ${h.address}.\n`);
  else
    process.stdout.write(
      `${yuan(h.held)} yuan is held for ${h.address}: payments made while it could not receive the settlement token. ` +
        `Claim it with: scf settlement claim (once it is an active member with valid KYC)\n`,
    );
  return EXIT.OK;
}

/** Signs the ClaimHeld act the service prepares, waits for it, prints the amount claimed. */
export async function settlementClaim(o: Opts): Promise<number> {
  const a = api(o);
  // Read first, to say what is claimed; the service and the contract check again.
  const h = await a.get<Held>("/settlement/held");
  if (BigInt(h.held) === 0n) {
    throw new CliError(`Nothing is held for ${h.address}: there is no payment to claim (scf settlement held shows it).`, EXIT.REFUSED, { code: "ReceivableNothingHeld", held: "0" });
  }
  status(o.json, `${yuan(h.held)} yuan is held for ${h.address}; claiming it.`);
  const act = await signedAct(a, "/settlement/claim", {}, { wait: wait(o), json: o.json });
  const claimed = act.result?.amount as string | undefined;
  return done(o, act, claimed !== undefined ? `\nclaimed ${yuan(claimed)} yuan` : "");
}

// ---------------------------------------------------------------- financing offers (one transaction)

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
