/**
 * `npm run demo`: the whole supply-chain finance story against a running platform, through the
 * public HTTP API only, each participant signing its own acts with its own key.
 *
 *   npm start                      # in another terminal
 *   npm run demo                   # SCF_URL (default http://127.0.0.1:3000), keys from data/demo-keys
 *   npm run demo -- --keys DIR --url http://host:port
 *
 * Only the compliance officer's key is read from disk (DIR/officer.json, unlocked with
 * DIR/password.txt or DEMO_KEYS_PASSWORD); the core enterprise (buyer), the tier-1 and tier-2
 * suppliers, the bank and the auditor are fresh random keys on every run, and the invoice numbers
 * are unique, so the demo depends on no state but what it creates and can run again and again.
 *
 * Story: onboarding applications -> officer approves -> faucet funds buyer and bank -> permits ->
 * tier 1 tokenises two invoices -> buyer accepts -> split 60/40, the 40 % part passed to tier 2 ->
 * bank opens a credit line -> tier 1 requests financing of its 60 % part -> bank approves ->
 * double-financing attempts refused -> buyer repays every part (early: the contracts accept payment
 * before the due date) -> auditor reads history, lineage and /audit/verify.
 * Exit code 0 only when every step behaved as expected (refusals included).
 */
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import Table from "cli-table3";
import { Signature, Wallet, id, type HDNodeWallet } from "ethers";
import { ApiClient, ApiError, login, problemMessage, signedBody, signTypedData, type TypedData } from "../shared/client";
import { fenToYuan } from "../shared/money";

// ---------------------------------------------------------------- arguments

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  if (i >= 0) return process.argv[i + 1];
  const eq = process.argv.find((a) => a.startsWith(`--${name}=`));
  return eq?.slice(name.length + 3);
}
if (process.argv.includes("--help") || process.argv.includes("-h")) {
  process.stdout.write(
    "usage: npm run demo [-- --url URL] [--keys DIR]\n" +
      "  --url   the platform's API (default $SCF_URL or http://127.0.0.1:3000)\n" +
      "  --keys  directory with officer.json and password.txt (default $DEMO_KEYS_DIR or data/demo-keys)\n" +
      "  DEMO_KEYS_PASSWORD overrides password.txt\n",
  );
  process.exit(0);
}
const BASE = (arg("url") ?? process.env.SCF_URL ?? "http://127.0.0.1:3000").replace(/\/$/, "");
const KEYS_DIR = resolve(arg("keys") ?? process.env.DEMO_KEYS_DIR ?? join(process.env.DATA_DIR ?? "data", "demo-keys"));
/** The movable-property financing registration number the bank records with its approval (demo value). */
const REGISTRATION_NUMBER = "04412026120400000001";

// ---------------------------------------------------------------- output

interface StepRecord {
  n: number;
  actor: string;
  step: string;
  ok: boolean;
  detail: string;
  ms: number;
}
const steps: StepRecord[] = [];
const color = process.stdout.isTTY && !process.env.NO_COLOR;
const green = (s: string) => (color ? `\x1b[32m${s}\x1b[0m` : s);
const red = (s: string) => (color ? `\x1b[31m${s}\x1b[0m` : s);
const dim = (s: string) => (color ? `\x1b[2m${s}\x1b[0m` : s);

class StepFailed extends Error {}

/** Runs one step; its result text is the detail. A thrown error marks it ✗ and stops the story. */
async function step(actor: string, what: string, fn: () => Promise<string>): Promise<void> {
  const t = Date.now();
  const n = steps.length + 1;
  try {
    const detail = await fn();
    const rec = { n, actor, step: what, ok: true, detail, ms: Date.now() - t };
    steps.push(rec);
    process.stdout.write(`${green("✓")} ${String(n).padStart(2)} ${actor.padEnd(8)} ${what}${detail ? dim(` — ${detail}`) : ""} ${dim(`(${rec.ms} ms)`)}\n`);
  } catch (err) {
    const detail = (err as Error).message;
    steps.push({ n, actor, step: what, ok: false, detail, ms: Date.now() - t });
    process.stdout.write(`${red("✗")} ${String(n).padStart(2)} ${actor.padEnd(8)} ${what} — ${red(detail)}\n`);
    throw new StepFailed(detail);
  }
}

// ---------------------------------------------------------------- HTTP

interface Reply {
  status: number;
  body: Record<string, unknown> & { message?: unknown };
}

const api = new ApiClient(BASE);

async function http(method: "GET" | "POST", path: string, opts: { token?: string; json?: unknown; form?: FormData; key?: string } = {}): Promise<Reply> {
  const r = await api.request<Reply["body"] | string | null>(method, path, { token: opts.token, body: opts.json, form: opts.form, idempotencyKey: opts.key });
  const body = r.body === null ? {} : typeof r.body === "string" ? { message: r.body } : r.body;
  return { status: r.status, body };
}

const messageOf = (r: Reply) => problemMessage(r.body, r.status);

function expectStatus(r: Reply, expected: number, what: string): Reply["body"] {
  if (r.status !== expected) throw new Error(`${what}: HTTP ${r.status} (expected ${expected}): ${messageOf(r)}`);
  return r.body;
}

// ---------------------------------------------------------------- participants

type Key = Wallet | HDNodeWallet;

interface Party {
  name: string;
  label: string;
  roles: string;
  wallet: Key;
  token: string;
  /** Unified social credit code it registers with, and that its invoices name. */
  taxId: string;
}

async function signIn(wallet: Key): Promise<string> {
  try {
    return (await login(api, wallet)).accessToken;
  } catch (e) {
    if (e instanceof ApiError) throw new Error(`sign-in: HTTP ${e.status}: ${problemMessage(e.body, e.status)}`);
    throw e;
  }
}

/** A signed act: typed data from the API, signed locally, posted back; waits until confirmed. */
async function act(p: Party, path: string, body: Record<string, unknown>): Promise<Record<string, unknown>> {
  const draft = expectStatus(await http("POST", path, { token: p.token, json: body }), 200, `${path} (typed data)`);
  const td = draft.typedData as TypedData;
  const signature = await signTypedData(p.wallet, td);
  const signed = signedBody(body, td, signature);
  const res = expectStatus(
    await http("POST", `${path}?wait=true`, { token: p.token, json: signed, key: `demo-${id(`${p.wallet.address} ${String(td.domain.verifyingContract)} ${String(td.message.nonce)}`).slice(2, 34)}` }),
    202,
    path,
  );
  if (res.status !== "confirmed") throw new Error(`${path}: the act is ${String(res.status)}: ${String(res.failureReason ?? "")}`);
  return res;
}

/** An act the ledger must refuse; returns the API's message. */
async function refused(p: Party, path: string, body: Record<string, unknown>): Promise<string> {
  const draft = await http("POST", path, { token: p.token, json: body });
  if (draft.status >= 400 && draft.status < 500) return `HTTP ${draft.status}: ${messageOf(draft)}`;
  if (draft.status !== 200) throw new Error(`${path}: expected a refusal, got HTTP ${draft.status}: ${messageOf(draft)}`);
  const td = draft.body.typedData as TypedData;
  const signature = await signTypedData(p.wallet, td);
  const res = await http("POST", `${path}?wait=true`, {
    token: p.token,
    json: signedBody(body, td, signature),
  });
  if (res.status >= 400 && res.status < 500) return `HTTP ${res.status}: ${messageOf(res)}`;
  if (res.status === 202 && res.body.status === "failed") return `failed on-chain: ${String(res.body.failureReason)}`;
  throw new Error(`${path}: expected a refusal, but it was accepted (HTTP ${res.status}, ${String(res.body.status)})`);
}

async function permit(p: Party, spender: "Receivables" | "Financing", value: bigint): Promise<string> {
  const draft = expectStatus(await http("POST", "/settlement/permits", { token: p.token, json: { spender, value: value.toString() } }), 200, "permit (typed data)");
  const td = draft.typedData as TypedData;
  const sig = Signature.from(await signTypedData(p.wallet, td));
  const res = expectStatus(
    await http("POST", "/settlement/permits?wait=true", {
      token: p.token,
      json: { spender, value: value.toString(), deadline: String(td.message.deadline), v: sig.v, r: sig.r, s: sig.s },
      key: `demo-permit-${p.wallet.address}-${spender}`,
    }),
    202,
    "permit",
  );
  if (res.status !== "confirmed") throw new Error(`permit ${String(res.status)}: ${String(res.failureReason ?? "")}`);
  return `tx ${String(res.txHash).slice(0, 12)}…`;
}

// ---------------------------------------------------------------- data

const USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY";
const USCC_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];
/** A random unified social credit code (GB 32100-2015) with a correct check character. */
function randomUscc(): string {
  let body = "91";
  for (let i = 0; i < 15; i++) body += "0123456789ABCDEFGHJKLMNPQRTUWXY"[Math.floor(Math.random() * 31)];
  const sum = [...body].reduce((s, ch, i) => s + USCC_ALPHABET.indexOf(ch) * USCC_WEIGHTS[i], 0);
  const c = 31 - (sum % 31);
  return body + USCC_ALPHABET[c === 31 ? 0 : c];
}

/** Fen as yuan for people: 100000000 -> "1,000,000.00 yuan". */
const yuan = (fen: bigint) => `${fenToYuan(fen)} yuan`;

async function loadOfficer(): Promise<Key> {
  const file = join(KEYS_DIR, "officer.json");
  if (!existsSync(file)) {
    throw new Error(`No compliance officer key at ${file}. Start the platform with 'npm start' (it creates data/demo-keys), or pass --keys DIR.`);
  }
  const pwFile = join(KEYS_DIR, "password.txt");
  const password = process.env.DEMO_KEYS_PASSWORD ?? (existsSync(pwFile) ? readFileSync(pwFile, "utf8").trim() : undefined);
  if (!password) throw new Error(`No password for ${file}: set DEMO_KEYS_PASSWORD or put it in ${pwFile}.`);
  return Wallet.fromEncryptedJson(readFileSync(file, "utf8"), password);
}

// ---------------------------------------------------------------- the story

async function story(): Promise<void> {
  const runId = `${Date.now().toString(36)}${Math.floor(Math.random() * 36 ** 3).toString(36)}`.toUpperCase();
  process.stdout.write(`SCF ledger demo against ${BASE} (run ${runId})\n\n`);

  await step("platform", "is healthy", async () => {
    const h = expectStatus(await http("GET", "/health"), 200, "GET /health");
    const info = h.info as { chain?: { chainId?: string; head?: number } };
    return `chain ${info.chain?.chainId ?? "?"}, head block ${info.chain?.head ?? "?"}`;
  });

  let officer!: Party;
  await step("officer", "signs in with its keystore (SIWE)", async () => {
    const wallet = await loadOfficer();
    officer = { name: "officer", label: "Compliance officer", roles: "", wallet, token: await signIn(wallet), taxId: "" };
    const me = expectStatus(await http("GET", "/auth/me", { token: officer.token }), 200, "GET /auth/me");
    if (!me.complianceOfficer) throw new Error(`${wallet.address} does not hold COMPLIANCE_OFFICER on the registry`);
    return wallet.address;
  });

  const specs = [
    ["buyer", "Zhejiang Demo Motors Group Co., Ltd.", "buyer"],
    ["tier1", "Taizhou Demo Castings Co., Ltd.", "supplier"],
    ["tier2", "Wenling Demo Machining Co., Ltd.", "supplier"],
    ["bank", "Demo Commercial Bank Hangzhou Branch", "financier"],
    ["auditor", "Demo Audit Partners LLP", "auditor"],
  ] as const;
  const parties = {} as Record<(typeof specs)[number][0], Party>;
  for (const [name, label, roles] of specs) {
    const wallet = Wallet.createRandom();
    const p: Party = { name, label, roles, wallet, token: "", taxId: randomUscc() };
    parties[name] = p;
    let appId = "";
    await step(name, `applies for membership as ${roles} (${label})`, async () => {
      p.token = await signIn(wallet);
      const form = new FormData();
      form.append("legalName", `${label} ${runId}`);
      form.append("entityIdType", "USCC");
      form.append("entityId", p.taxId);
      form.append("jurisdiction", "CN");
      form.append("roles", roles);
      form.append("documents", new Blob([`Business licence of ${label} (demo ${runId})`], { type: "application/pdf" }), "licence.pdf");
      const app = expectStatus(await http("POST", "/onboarding/applications", { token: p.token, form }), 201, "application");
      appId = String(app.id);
      return `application ${appId.slice(0, 8)}… ${String(app.status)}`;
    });
    await step("officer", `approves ${name}`, async () => {
      const ok = expectStatus(await http("POST", `/onboarding/applications/${appId}/approve?wait=true`, { token: officer.token, json: {} }), 202, "approve");
      if (ok.status !== "approved") throw new Error(`application is ${String(ok.status)}`);
      // Membership is read from the indexed registry: wait until the service sees it.
      for (let i = 0; i < 100; i++) {
        const me = expectStatus(await http("GET", "/auth/me", { token: p.token }), 200, "GET /auth/me");
        if (me.verifiedMember) return `${wallet.address} registered as ${roles}`;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`${wallet.address} was approved but is not a verified member after 10 s`);
    });
  }
  const { buyer, tier1, tier2, bank, auditor } = parties;

  // --- settlement money
  const BUYER_FUNDS = 500_000_000n; // 5,000,000.00 yuan
  const BANK_FUNDS = 1_000_000_000n; // 10,000,000.00 yuan
  for (const [p, amount] of [[buyer, BUYER_FUNDS], [bank, BANK_FUNDS]] as const) {
    await step("officer", `faucet funds ${p.name} with ${yuan(amount)}`, async () => {
      const r = expectStatus(
        await http("POST", "/settlement/faucet?wait=true", { token: officer.token, json: { to: p.wallet.address, amount: amount.toString() }, key: `demo-faucet-${p.wallet.address}` }),
        202,
        "faucet",
      );
      if (r.status !== "confirmed") throw new Error(`mint ${String(r.status)}: ${String(r.failureReason ?? "")}`);
      const bal = expectStatus(await http("GET", "/settlement/balance", { token: p.token }), 200, "balance");
      if (BigInt(String(bal.balance)) !== amount) throw new Error(`balance is ${String(bal.balance)} fen, expected ${amount}`);
      return `balance ${yuan(amount)}`;
    });
  }

  // --- invoices
  const A = 100_000_000n; // 1,000,000.00 yuan
  const B = 25_000_000n; // 250,000.00 yuan
  const due = new Date(Date.now() + 60 * 86400_000).toISOString();
  const issueDate = new Date().toISOString().slice(0, 10);
  const invoice = (no: string, amount: bigint) => ({
    debtor: buyer.wallet.address,
    invoiceNumber: no,
    // An invoice names the parties' registered entity ids: the ledger's attester checks both.
    sellerTaxId: tier1.taxId,
    buyerTaxId: buyer.taxId,
    issueDate,
    dueDate: due,
    amount: amount.toString(),
    documentHash: "0x" + Buffer.from(`${no}`.padEnd(32, "*").slice(0, 32)).toString("hex"),
  });
  const invA = invoice(`DEMO-${runId}-001`, A);
  const invB = invoice(`DEMO-${runId}-002`, B);

  await step("buyer", `permits Receivables to draw up to ${yuan(A + B)} (EIP-2612)`, () => permit(buyer, "Receivables", A + B));
  await step("bank", `permits Financing to draw up to ${yuan(BANK_FUNDS)} (EIP-2612)`, () => permit(bank, "Financing", BANK_FUNDS));

  let idA = "";
  let idB = "";
  await step("tier1", `tokenises invoice ${invA.invoiceNumber} (${yuan(A)}, due ${due.slice(0, 10)})`, async () => {
    idA = String((await act(tier1, "/receivables", invA)).receivableId);
    return `receivable ${idA.slice(0, 14)}…`;
  });
  await step("tier1", `tokenises invoice ${invB.invoiceNumber} (${yuan(B)})`, async () => {
    idB = String((await act(tier1, "/receivables", invB)).receivableId);
    return `receivable ${idB.slice(0, 14)}…`;
  });
  await step("buyer", `accepts ${invA.invoiceNumber} (irrevocable)`, async () => {
    await act(buyer, `/receivables/${idA}/accept`, {});
    return "";
  });
  await step("buyer", `accepts ${invB.invoiceNumber}`, async () => {
    await act(buyer, `/receivables/${idB}/accept`, {});
    return "";
  });

  const KEEP = (A * 60n) / 100n;
  const PASS = A - KEEP;
  let keep = "";
  let pass = "";
  await step("tier1", `splits ${invA.invoiceNumber} into ${yuan(KEEP)} + ${yuan(PASS)}`, async () => {
    await act(tier1, `/receivables/${idA}/split`, { amounts: [KEEP.toString(), PASS.toString()] });
    const lineage = expectStatus(await http("GET", `/receivables/${idA}/lineage`, { token: tier1.token }), 200, "lineage");
    const children = lineage.children as Array<{ id: string; faceValue: string }>;
    if (children?.length !== 2) throw new Error(`lineage shows ${children?.length ?? 0} parts`);
    [keep, pass] = children.map((c) => c.id);
    return `parts ${keep.slice(0, 10)}…, ${pass.slice(0, 10)}…`;
  });
  await step("tier1", `passes the ${yuan(PASS)} part to tier2`, async () => {
    await act(tier1, `/receivables/${pass}/transfer`, { to: tier2.wallet.address });
    const r = expectStatus(await http("GET", `/receivables/${pass}`, { token: tier2.token }), 200, "tier2 reads its receivable");
    if (r.holder !== tier2.wallet.address) throw new Error(`holder is ${String(r.holder)}`);
    return `tier2 holds it`;
  });

  let lineId = 0;
  await step("bank", "opens a credit line on the buyer (limit 5,000,000.00 yuan, 90 % advance, 5 % discount)", async () => {
    const res = await act(bank, "/credit-lines", {
      debtor: buyer.wallet.address,
      limit: "500000000",
      maxAdvanceBps: 9000,
      discountBps: 500,
      expiry: new Date(Date.now() + 365 * 86400_000).toISOString(),
    });
    const result = (res.result ?? {}) as Record<string, unknown>;
    lineId = Number(result.lineId ?? res.lineId);
    if (!(lineId > 0)) throw new Error(`no line id in ${JSON.stringify(res)}`);
    return `line ${lineId}`;
  });
  const lineTerms = (discountBps: number) => ({
    limit: "500000000",
    maxAdvanceBps: 9000,
    discountBps,
    expiry: new Date(Date.now() + 365 * 86400_000).toISOString(),
  });
  await step("tier1", `requests financing of its ${yuan(KEEP)} part at the line's quote`, async () => {
    const res = await act(tier1, "/financings", { receivableId: keep, lineId });
    const f = expectStatus(await http("GET", `/financings/${keep}`, { token: tier1.token }), 200, "tier1 reads its request");
    return `on line ${lineId} (act ${String(res.id).slice(0, 8)}), at least ${yuan(BigInt(String(f.minPaid ?? 0)))} now`;
  });
  await step("bank", "raises the line's discount to 100 % under the pending request, then tries to approve (refused)", async () => {
    await act(bank, `/credit-lines/${lineId}/update`, lineTerms(10_000));
    const why = await refused(bank, `/financings/${keep}/approve`, { registrationNumber: REGISTRATION_NUMBER });
    await act(bank, `/credit-lines/${lineId}/update`, lineTerms(500));
    return `${why}; the line is back at 5 %`;
  });
  let advance = 0n;
  await step("bank", "approves the financing (assignment + payment, atomic)", async () => {
    const before = BigInt(String(expectStatus(await http("GET", "/settlement/balance", { token: tier1.token }), 200, "balance").balance));
    await act(bank, `/financings/${keep}/approve`, { registrationNumber: REGISTRATION_NUMBER });
    const after = BigInt(String(expectStatus(await http("GET", "/settlement/balance", { token: tier1.token }), 200, "balance").balance));
    advance = after - before;
    const r = expectStatus(await http("GET", `/receivables/${keep}`, { token: bank.token }), 200, "bank reads the receivable");
    if (r.holder !== bank.wallet.address) throw new Error(`holder is ${String(r.holder)}, not the bank`);
    if (advance <= 0n) throw new Error("tier1 received no advance");
    return `tier1 received ${yuan(advance)}; the bank holds the receivable`;
  });

  await step("tier1", `tries to finance ${invA.invoiceNumber} twice: tokenise it again (refused)`, async () => {
    // Typed another way (lower-case prefix, spaces for hyphens): still the same invoice. Only the prefix is
    // lower-cased: a lower-case l (the run id may hold an L) is refused as reading like the digit 1.
    const again = { ...invA, invoiceNumber: invA.invoiceNumber.replace("DEMO", "demo").replace(/-/g, " ") };
    return refused(tier1, "/receivables", again);
  });
  await step("tier1", "tries to finance its already financed part again (refused)", () => refused(tier1, "/financings", { receivableId: keep, lineId }));

  await step("buyer", `repays the financed part (${yuan(KEEP)}) before its due date: advance to the bank, reserve to tier1`, async () => {
    await act(buyer, `/receivables/${keep}/repay`, { amount: KEEP.toString() });
    const line = expectStatus(await http("GET", `/credit-lines/${lineId}`, { token: bank.token }), 200, "credit line");
    if (line.utilised !== "0") throw new Error(`line utilisation is ${String(line.utilised)}, expected 0`);
    return "credit line released";
  });
  await step("buyer", `repays tier2's part (${yuan(PASS)})`, async () => {
    await act(buyer, `/receivables/${pass}/repay`, { amount: PASS.toString() });
    const bal = expectStatus(await http("GET", "/settlement/balance", { token: tier2.token }), 200, "balance");
    if (BigInt(String(bal.balance)) !== PASS) throw new Error(`tier2 balance ${String(bal.balance)}, expected ${PASS}`);
    return `tier2 balance ${yuan(PASS)}`;
  });
  await step("buyer", `repays ${invB.invoiceNumber} (${yuan(B)})`, async () => {
    await act(buyer, `/receivables/${idB}/repay`, { amount: B.toString() });
    const r = expectStatus(await http("GET", `/receivables/${idB}`, { token: buyer.token }), 200, "receivable");
    return `status ${String(r.status)}`;
  });

  await step("auditor", "reads the financed part's history", async () => {
    const h = await http("GET", `/receivables/${keep}/history`, { token: auditor.token });
    const events = expectStatus(h, 200, "history") as unknown as Array<{ event?: string; eventName?: string; txHash?: string }>;
    const names = events.map((e) => e.event ?? e.eventName ?? "?");
    for (const n of ["ReceivableSplit", "FinancingApproved", "ReceivablePaid", "FinancingRepaid"]) {
      if (!names.includes(n)) throw new Error(`history lacks ${n} (has ${names.join(", ")})`);
    }
    return `${events.length} events: ${[...new Set(names)].join(", ")}`;
  });
  await step("auditor", "reads the split lineage", async () => {
    const t = expectStatus(await http("GET", `/receivables/${pass}/lineage`, { token: auditor.token }), 200, "lineage");
    if (t.id !== idA) throw new Error(`lineage root is ${String(t.id)}, expected ${idA}`);
    const kids = (t.children as Array<{ id: string; status: string; faceValue: string }>).map((c) => `${yuan(BigInt(c.faceValue))} ${c.status}`);
    return `root ${invA.invoiceNumber} -> ${kids.join(", ")}`;
  });
  await step("auditor", "verifies the database against the chain (/audit/verify)", async () => {
    const v = expectStatus(await http("GET", "/audit/verify", { token: auditor.token }), 200, "verify");
    const diffs = (v.differences as unknown[]) ?? [];
    if (v.ok !== true || diffs.length) throw new Error(`${diffs.length} differences: ${JSON.stringify(diffs).slice(0, 300)}`);
    return "no difference";
  });
}

async function main(): Promise<void> {
  const t0 = Date.now();
  let fatal: Error | null = null;
  try {
    await story();
  } catch (err) {
    if (!(err instanceof StepFailed)) fatal = err as Error;
  }
  if (fatal) process.stdout.write(`${red("✗")} ${fatal.message}\n`);
  const table = new Table({ head: ["#", "actor", "step", "result", "ms"], colWidths: [4, 10, 58, 8, 8], wordWrap: true, style: color ? { head: ["cyan"] } : { head: [], border: [] } });
  for (const s of steps) table.push([s.n, s.actor, s.step, s.ok ? green("✓ ok") : red("✗ FAIL"), s.ms]);
  process.stdout.write(`\n${table.toString()}\n`);
  const ok = !fatal && steps.length > 0 && steps.every((s) => s.ok);
  const secs = ((Date.now() - t0) / 1000).toFixed(1);
  process.stdout.write(ok ? green(`\nAll ${steps.length} steps behaved as expected in ${secs} s.\n`) : red(`\nThe demo failed after ${secs} s (${steps.filter((s) => !s.ok).length || 1} step(s) failed).\n`));
  process.exitCode = ok ? 0 : 1;
}

void main();
