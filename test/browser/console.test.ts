/**
 * The web console in a real browser: Debian's Chromium driven by playwright-core, against the real
 * platform started exactly as `npm start` does (a child process, a temporary DATA_DIR, free ports:
 * the embedded chain over JSON-RPC, SQLite, the demo's keystores). One browser context per role,
 * each signing in with its demo keystore file opened in the page. The demo's story is walked by
 * clicking: onboarding, tokenising with a PDF, acceptance, split and transfer, a credit line, a
 * financing request and its approval, repayment with a permit, and the auditor finding the
 * receivable by its invoice number, opening its lineage and verifying the ledger against the chain.
 * Refusals are checked as a user sees them. Any console error in any page fails the run (the
 * browser's own "Failed to load resource" line is allowed only inside an expected refusal). Each
 * role's main page is saved to docs/screenshots/.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { Wallet, getAddress } from "ethers";
import { chromium, type Browser, type Locator, type Page } from "playwright-core";
import { bearer, signIn } from "../support/auth";
import { freePort } from "../support/chain";
import { freshUscc } from "../support/entity-ids";
import { npmScriptArgs } from "../support/process";

const ROOT = join(__dirname, "..", "..");
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const SHOTS = join(ROOT, "docs", "screenshots");
const ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run"];
const ROLES = { buyer: "buyer", tier1: "supplier", tier2: "supplier", bank: "financier", auditor: "auditor" } as const;
type Member = keyof typeof ROLES;

/** A tiny but well-formed PDF whose text makes its hash unique. */
const pdf = (text: string) =>
  Buffer.from(
    `%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj 2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj ` +
      `3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 300 100]>>endobj\n% ${text}\ntrailer<</Root 1 0 R>>\n%%EOF\n`,
  );

interface Role {
  page: Page;
  errors: string[];
  /** Inside an expected refusal the browser's own network-error line is not a failure. */
  refusing: boolean;
}

describe("the web console in Chromium: the demo's story by clicking", function () {
  this.timeout(600_000);
  // Each step builds on the one before: stop at the first that fails.
  this.bail(true);
  let dir: string;
  let child: ChildProcess | null = null;
  let browser: Browser | null = null;
  let url: string;
  let keys: string;
  let password: string;
  let out = "";
  const roles = new Map<string, Role>();
  const addresses = {} as Record<Member | "officer", string>;
  const taxIds = {} as Record<Member, string>;

  before(async function () {
    if (!existsSync(CHROMIUM)) throw new Error(`No Chromium at ${CHROMIUM}: apt-get install -y chromium (or set CHROMIUM_PATH).`);
    if (!existsSync(join(ROOT, "console", "dist", "index.html"))) {
      const b = spawnSync(process.execPath, [join(ROOT, "node_modules", "vite", "bin", "vite.js"), "build", "--config", "console/vite.config.mts", "--logLevel", "warn"], { cwd: ROOT, encoding: "utf8" });
      if (b.status !== 0) throw new Error(`vite build failed:\n${b.stdout}${b.stderr}`);
    }
    dir = mkdtempSync(join(tmpdir(), "scf-console-"));
    const [port, chainPort] = [await freePort(), await freePort()];
    url = `http://127.0.0.1:${port}`;
    const env = { ...process.env, DATA_DIR: dir, PORT: String(port), CHAIN_PORT: String(chainPort), LOG_LEVEL: "warn", RPC_URL: "", DATABASE_URL: "" };
    child = spawn(process.execPath, npmScriptArgs("start"), { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
    child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr!.on("data", (d: Buffer) => (out += d.toString()));
    const until = Date.now() + 120_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`npm start exited with ${child.exitCode}:\n${out}`);
      if (await fetch(`${url}/health`).then((r) => r.status === 200, () => false)) break;
      if (Date.now() > until) throw new Error(`the platform did not become healthy:\n${out}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    keys = join(dir, "demo-keys");
    password = readFileSync(join(keys, "password.txt"), "utf8").trim();
    for (const k of ["officer", ...Object.keys(ROLES)] as Array<Member | "officer">) {
      addresses[k] = getAddress(`0x${(JSON.parse(readFileSync(join(keys, `${k}.json`), "utf8")) as { address: string }).address.replace(/^0x/, "")}`);
      if (k !== "officer") taxIds[k] = freshUscc();
    }
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS });
    mkdirSync(SHOTS, { recursive: true });
  });

  after(async function () {
    await browser?.close();
    if (child && child.exitCode === null) {
      const exited = new Promise((r) => child!.once("exit", r));
      child.kill("SIGTERM");
      await exited;
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  afterEach(async function () {
    if (this.currentTest?.state === "failed" && process.env.CONSOLE_TEST_SHOTS) {
      for (const [name, r] of roles) await r.page.screenshot({ path: join(process.env.CONSOLE_TEST_SHOTS, `failed-${name}.png`), fullPage: true }).catch(() => undefined);
    }
    for (const [name, r] of roles) expect(r.errors, `console errors in ${name}'s page`).to.deep.equal([]);
  });

  /** A browser context for one role, signed in with its demo keystore file opened in the page. */
  async function openAs(name: Member | "officer"): Promise<Page> {
    const context = await browser!.newContext({ locale: "en-US", viewport: { width: 1280, height: 900 }, acceptDownloads: true });
    const page = await context.newPage();
    const role: Role = { page, errors: [], refusing: false };
    roles.set(name, role);
    page.on("pageerror", (e) => role.errors.push(`pageerror: ${e.message}`));
    page.on("console", (m) => {
      if (m.type() !== "error") return;
      if (role.refusing && /^Failed to load resource: the server responded with a status of 4\d\d/.test(m.text())) return;
      role.errors.push(m.text());
    });
    await page.goto(url);
    await page.setInputFiles("input[name=keystore]", join(keys, `${name}.json`));
    await page.fill("input[name=password]", password);
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
    await page.getByText(`Signed in as ${addresses[name]}`).waitFor({ timeout: 60_000 });
    return page;
  }

  const pageOf = (name: string) => roles.get(name)!.page;

  /** Clicks an act's button inside `scope`, checks the sentence shown before signing, signs, waits for the ledger. */
  async function act(scope: Locator, testId: string, sentence: RegExp): Promise<string> {
    const page = scope.page();
    const notice = page.getByTestId("notice");
    const before = (await notice.count()) ? await notice.getAttribute("data-n") : "0";
    await scope.getByTestId(testId).click();
    const dialog = scope.getByRole("dialog");
    await dialog.waitFor();
    const said = await dialog.locator(".sentence").innerText();
    expect(said).to.match(sentence);
    await dialog.getByRole("button", { name: "Confirm and sign" }).click();
    // The confirmation shows above the page (the row may be gone once the lists refresh); each act numbers it anew.
    await page.locator(`[data-testid="notice"]:not([data-n="${before}"])`).waitFor({ timeout: 60_000 });
    expect(await notice.innerText()).to.include("Confirmed in block");
    return said;
  }

  /** Runs `fn` expecting the API to refuse; returns the refusal the page shows. */
  async function refusal(name: string, scope: Locator, fn: () => Promise<void>): Promise<string> {
    const r = roles.get(name)!;
    r.refusing = true;
    try {
      await fn();
      const alert = scope.getByRole("alert").first();
      await alert.waitFor({ timeout: 30_000 });
      return alert.innerText();
    } finally {
      r.refusing = false;
    }
  }

  async function refreshUntil(page: Page, locator: Locator, timeoutMs = 30_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (!(await locator.count())) {
      if (Date.now() > until) throw new Error(`not shown after ${timeoutMs} ms: ${locator.toString()}`);
      await page.getByRole("button", { name: "Refresh" }).first().click();
      await page.waitForTimeout(300);
    }
  }

  const row = (page: Page, prefix: string, text: string) => page.locator(`tr[data-testid^="${prefix}"]`).filter({ hasText: text });

  it("serves the console at / and unknown browser paths, while API clients keep their JSON 404", async function () {
    const home = await fetch(`${url}/`, { headers: { accept: "text/html" } });
    expect(home.status).to.equal(200);
    expect(await home.text()).to.include('<div id="root">');
    const deep = await fetch(`${url}/some/page`, { headers: { accept: "text/html,*/*;q=0.8" } });
    expect(deep.status).to.equal(200);
    const api = await fetch(`${url}/some/page`, { headers: { accept: "application/json" } });
    expect(api.status).to.equal(404);
    expect(api.headers.get("content-type")).to.match(/application\/problem\+json/);
    const csp = home.headers.get("content-security-policy") ?? "";
    expect(csp).to.include("script-src 'self'");
  });

  it("onboards every member: each applies in the page with its licence, the officer approves in the page", async function () {
    const officer = await openAs("officer");
    for (const name of Object.keys(ROLES) as Member[]) {
      const page = await openAs(name);
      await page.getByTestId("apply-form").waitFor();
      await page.fill("input[name=legalName]", `Console ${name} Co., Ltd.`);
      await page.fill("input[name=entityId]", taxIds[name]);
      await page.check(`input[name=role-${ROLES[name]}]`);
      await page.setInputFiles("input[name=kycDocument]", { name: "licence.pdf", mimeType: "application/pdf", buffer: pdf(`licence of ${name}`) });
      await page.getByRole("button", { name: "Apply for membership" }).click();
      await page.getByTestId("application-result").waitFor();

      await officer.getByRole("button", { name: "Refresh" }).click();
      const app = officer.locator(`[data-testid="application-${addresses[name]}" i]`);
      await app.getByTestId("approve-application").click();
      await app.locator(".status", { hasText: "approved" }).waitFor({ timeout: 60_000 });

      const tab = page.locator("nav").getByRole("button", { name: new RegExp(ROLES[name], "i") });
      for (let i = 0; i < 40 && !(await tab.count()); i++) {
        await page.getByTestId("check-membership").click();
        await page.waitForTimeout(250);
      }
      await tab.waitFor();
    }
    await officer.screenshot({ path: join(SHOTS, "compliance.png"), fullPage: true });

    // Test money: the faucet (an officer's API call; the console has no faucet page).
    const token = await signIn(url, await Wallet.fromEncryptedJson(readFileSync(join(keys, "officer.json"), "utf8"), password));
    for (const [name, fen] of [["buyer", "500000000"], ["bank", "1000000000"]] as const) {
      const res = await fetch(`${url}/settlement/faucet?wait=true`, { method: "POST", headers: { ...bearer(token), "content-type": "application/json" }, body: JSON.stringify({ to: addresses[name], amount: fen }) });
      expect(res.status, await res.clone().text()).to.equal(202);
    }
  });

  const invoiceNumber = `CONSOLE-${Date.now().toString(36).toUpperCase()}-001`;
  const due = new Date(Date.now() + 60 * 86400_000).toISOString().slice(0, 10);

  async function fillInvoice(page: Page) {
    const form = page.getByTestId("tokenise-form");
    await form.locator("input[name=invoiceNumber]").fill(invoiceNumber);
    await form.locator("input[name=debtor]").fill(addresses.buyer);
    await form.locator("input[name=sellerTaxId]").fill(taxIds.tier1);
    await form.locator("input[name=buyerTaxId]").fill(taxIds.buyer);
    await form.locator("input[name=dueDate]").fill(due);
    await form.locator("input[name=amount]").fill("1000000.00");
    await form.locator("input[name=document]").setInputFiles({ name: "invoice.pdf", mimeType: "application/pdf", buffer: pdf(invoiceNumber) });
    return form;
  }

  it("tokenises an invoice with its PDF, and shows the refusal of the same invoice again", async function () {
    const page = pageOf("tier1");
    const form = await fillInvoice(page);
    const said = await act(form, "tokenise", /You tokenise an invoice of 1,000,000\.00 yuan that 0x[0-9a-fA-F]{40} owes you, due/);
    expect(said).to.include(addresses.buyer);

    await page.reload();
    await openAgain("tier1");
    const again = await fillInvoice(pageOf("tier1"));
    const shown = await refusal("tier1", again, () => again.getByTestId("tokenise").click());
    expect(shown).to.match(/duplicate/i);
  });

  it("a CSV of invoices is checked row by row before signing, then sent in signed batches with a progress bar", async function () {
    const page = pageOf("tier1");
    const csv = page.locator("section").filter({ has: page.locator("input[name=csv]") });
    await csv.locator("input[name=csvSellerTaxId]").fill(taxIds.tier1);
    // A document hash per row, unique on the ledger (the run's clock keeps reruns apart).
    const hash = (n: number) => "0x" + n.toString(16).padStart(64, "0");
    const line = (n: number, amount: string) => `${invoiceNumber}-CSV-${n},${addresses.buyer},${taxIds.buyer},${new Date().toISOString().slice(0, 10)},${due},${amount},${hash(n + Date.now())}`;
    const header = "invoiceNumber,debtor,buyerTaxId,issueDate,dueDate,amount,documentHash";
    const file = (rows: string[]) => ({ name: "invoices.csv", mimeType: "text/csv", buffer: Buffer.from([header, ...rows].join("\n") + "\n") });

    await csv.locator("input[name=csv]").setInputFiles(file([line(1, "1500.50"), line(2, "12.345")]));
    await expectText(csv.getByTestId("csv-report"), /1 valid rows, 1 with errors[\s\S]*line 3: "12\.345" is not an amount/);
    expect(await csv.getByRole("button", { name: "Sign and send in batches" }).isDisabled(), "nothing is sent while a row is wrong").to.equal(true);

    await csv.locator("input[name=csv]").setInputFiles(file([line(3, "1500.50"), line(4, "\"2,000.00\"")]));
    await expectText(csv.getByTestId("csv-report"), /2 valid rows, 0 with errors/);
    await csv.getByRole("button", { name: "Sign and send in batches" }).click();
    await expectText(csv.getByTestId("csv-report"), /2 \/ 2/);
    expect(await csv.locator("progress").getAttribute("value")).to.equal("2");
    await refreshUntil(page, row(page, "receivable-", "2,000.00"));
  });

  /** A reload forgets the key (it lives only in the page): sign in again in the same context. */
  async function openAgain(name: Member) {
    const page = pageOf(name);
    await page.setInputFiles("input[name=keystore]", join(keys, `${name}.json`));
    await page.fill("input[name=password]", password);
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
    await page.getByText(`Signed in as ${addresses[name]}`).waitFor({ timeout: 60_000 });
  }

  it("the buyer sees the invoice with its document, accepts it, and it shows in what the buyer owes", async function () {
    const page = pageOf("buyer");
    const awaiting = row(page, "awaiting-", "1,000,000.00");
    await refreshUntil(page, awaiting);
    await awaiting.getByRole("button", { name: "Open invoice.pdf" }).waitFor();
    await act(awaiting, "accept", /You confirm that you owe 1,000,000\.00 yuan to 0x[0-9a-fA-F]{40} due .* This is irrevocable\./);
    await refreshUntil(page, row(page, "owed-", "1,000,000.00"));
  });

  it("the supplier splits it 600,000 + 400,000 and passes the 400,000 part to its own supplier", async function () {
    const page = pageOf("tier1");
    const accepted = row(page, "receivable-", "accepted").filter({ hasText: "1,000,000.00" });
    await refreshUntil(page, accepted);
    await accepted.locator("input[name=parts]").fill("600000+400000");
    await act(accepted, "split", /You split receivable 0x[0-9a-f]+… into 600,000\.00 \+ 400,000\.00 yuan\./);
    const part = row(page, "receivable-", "400,000.00");
    await refreshUntil(page, part);
    await part.locator("input[name=to]").fill(addresses.tier2);
    await act(part, "transfer", new RegExp(`You transfer receivable 0x[0-9a-f]+… to ${addresses.tier2}`));
    await refreshUntil(pageOf("tier2"), row(pageOf("tier2"), "receivable-", "400,000.00"));
  });

  it("the bank permits advances from its balance and opens a credit line on the buyer", async function () {
    const page = pageOf("bank");
    await expectText(page.getByTestId("balance").first(), /10,000,000\.00/, page);
    await page.fill("input[name=allowance]", "10000000");
    await act(page.locator("section").filter({ has: page.getByTestId("permit") }), "permit", /draw up to 10,000,000\.00 yuan/);
    await page.fill("input[name=lineDebtor]", addresses.buyer);
    await page.fill("input[name=new-limit]", "5000000");
    await act(page.locator("section").filter({ has: page.getByTestId("open-line") }), "open-line", /You open a credit line on 0x[0-9a-fA-F]{40}: limit 5,000,000\.00 yuan, advance up to 90\.00 %, discount 5\.00 %/);
    await refreshUntil(page, page.locator('tr[data-testid^="line-"]'));
  });

  it("the supplier requests financing of its 600,000 part on the line, seeing the net advance before signing", async function () {
    const lineId = (await pageOf("bank").locator('tr[data-testid^="line-"]').first().getAttribute("data-testid"))!.slice("line-".length);
    const page = pageOf("tier1");
    const part = row(page, "receivable-", "600,000.00");
    await refreshUntil(page, part.getByTestId("request-financing"));
    await part.locator("input[name=lineId]").fill(lineId);
    await act(part, "request-financing", /You ask for financing of receivable 0x[0-9a-f]+… on line \d+: at least [\d,]+\.\d\d yuan paid to you now, total discount at most [\d,]+\.\d\d yuan/);
  });

  it("the bank approves the request; the receivable is the bank's and the line is utilised", async function () {
    const page = pageOf("bank");
    const request = page.locator('tr[data-testid^="request-"]').first();
    await refreshUntil(page, request);
    // 600,000.00 at the line's 90 % on a 5,000,000.00 limit: 10.80 %, not flagged.
    await expectText(request.locator('[data-testid^="concentration-"]'), /line at 10\.80 % of its limit if approved$/);
    await page.screenshot({ path: join(SHOTS, "financier.png"), fullPage: true });
    await request.locator("input[name=registrationNumber]").fill("04412026120400000001");
    await act(request, "approve", /You finance receivable 0x[0-9a-f]+… on line \d+: advance [\d,]+\.\d\d yuan, of which [\d,]+\.\d\d yuan is paid to the supplier now\./);
    await expectUtilised(page, (v) => v !== "0.00");
  });

  it("an invoice on a member without the buyer role is refused, and the page says why", async function () {
    // tier2 bills the auditor, who is a member but not a buyer: refused before anything is signed.
    const page = pageOf("tier2");
    const form = page.getByTestId("tokenise-form");
    await form.locator("input[name=invoiceNumber]").fill(`${invoiceNumber}-T2`);
    await form.locator("input[name=debtor]").fill(addresses.auditor);
    await form.locator("input[name=sellerTaxId]").fill(taxIds.tier2);
    await form.locator("input[name=buyerTaxId]").fill(taxIds.auditor);
    await form.locator("input[name=dueDate]").fill(due);
    await form.locator("input[name=amount]").fill("1000.00");
    await form.locator("input[name=document]").setInputFiles({ name: "invoice-t2.pdf", mimeType: "application/pdf", buffer: pdf(`${invoiceNumber}-T2`) });
    const shown = await refusal("tier2", form, () => form.getByTestId("tokenise").click());
    expect(shown).to.include(`${addresses.auditor} is not a verified buyer on the ledger`);
    expect(await form.getByRole("dialog").count(), "nothing offered for signing").to.equal(0);
  });

  it("the buyer repays the financed part with a permit signed in the page; the line is released", async function () {
    const page = pageOf("buyer");
    const owed = row(page, "owed-", "600,000.00");
    await refreshUntil(page, owed);
    await act(owed, "repay", /You pay 600,000\.00 yuan on receivable 0x[0-9a-f]+…/);
    await page.screenshot({ path: join(SHOTS, "buyer.png"), fullPage: true });
    await expectUtilised(pageOf("bank"), (v) => v === "0.00");
  });

  it("the auditor finds the receivable by its invoice number, opens its lineage and verifies the ledger against the chain", async function () {
    const page = await openAs("auditor");
    await page.fill("input[name=q]", invoiceNumber);
    await page.fill("input[name=sellerTaxId]", taxIds.tier1);
    await page.getByRole("button", { name: "Search", exact: true }).click();
    const view = page.getByTestId("receivable-view");
    await view.waitFor();
    const lineage = view.getByTestId("lineage");
    await lineage.waitFor();
    expect(await lineage.locator("li").count()).to.equal(3);
    expect(await lineage.innerText()).to.include("600,000.00").and.to.include("400,000.00");
    await expectText(view.getByTestId("history"), /ReceivableTokenised/);
    // Open the financed part from the tree: its history shows the financing and the repayment.
    await lineage.locator("li li").filter({ hasText: "600,000.00" }).getByRole("button").click();
    await expectText(view.getByTestId("history"), /FinancingApproved[\s\S]*ReceivablePaid|ReceivablePaid[\s\S]*FinancingApproved/);
    await page.getByTestId("verify").click();
    await expectText(page.getByTestId("verify-result"), /The database matches the chain: no difference\./);
    await page.screenshot({ path: join(SHOTS, "auditor.png"), fullPage: true });
    // 简体中文 at the flick of a switch.
    await page.getByRole("button", { name: "中文" }).click();
    await page.getByText("账本浏览器").waitFor();
    await page.screenshot({ path: join(SHOTS, "auditor-zh.png"), fullPage: true });

    // An invoice number the ledger does not know: the page says so.
    await page.getByRole("button", { name: "English" }).click();
    await page.fill("input[name=q]", `${invoiceNumber}-NONE`);
    const explorer = page.locator("section").filter({ has: page.locator("input[name=q]") });
    const shown = await refusal("auditor", explorer, () => page.getByRole("button", { name: "Search", exact: true }).click());
    expect(shown).to.include(`No receivable for invoice ${invoiceNumber}-NONE of seller ${taxIds.tier1}`);

    const supplier = pageOf("tier1");
    await supplier.getByRole("button", { name: "Refresh" }).first().click();
    await supplier.screenshot({ path: join(SHOTS, "supplier.png"), fullPage: true });
  });

  /** Refreshes the bank's lines until the first line's utilisation satisfies `ok`. */
  async function expectUtilised(page: Page, ok: (yuan: string) => boolean) {
    const cell = page.locator('tr[data-testid^="line-"]').first().getByTestId("utilised");
    const until = Date.now() + 30_000;
    for (;;) {
      await page.getByRole("button", { name: "Refresh" }).first().click();
      await page.waitForTimeout(300);
      const v = (await cell.innerText()).trim();
      if (ok(v)) return;
      if (Date.now() > until) throw new Error(`utilisation stayed ${v}`);
    }
  }

  /** Waits until `l` shows `re` (clicking the page's Refresh meanwhile when `refresh` is given). */
  it("a browser wallet (EIP-1193) signs in and signs an act: the buyer repays tier2's part through window.ethereum", async function () {
    // A stand-in for MetaMask: the page sees only window.ethereum; personal_sign and
    // eth_signTypedData_v4 are answered by the buyer's key in this process, as a wallet would.
    const wallet = await Wallet.fromEncryptedJson(readFileSync(join(keys, "buyer.json"), "utf8"), password);
    const context = await browser!.newContext({ locale: "en-US", viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const role: Role = { page, errors: [], refusing: false };
    roles.set("buyer-wallet", role);
    page.on("pageerror", (e) => role.errors.push(`pageerror: ${e.message}`));
    page.on("console", (m) => void (m.type() === "error" && role.errors.push(m.text())));
    const seen: string[] = [];
    await page.exposeFunction("__wallet", async (method: string, params: unknown[]) => {
      seen.push(method);
      if (method === "eth_requestAccounts") return [wallet.address];
      if (method === "personal_sign") return wallet.signMessage(Buffer.from(String(params[0]).slice(2), "hex"));
      if (method === "eth_signTypedData_v4") {
        expect(params[0]).to.equal(wallet.address);
        const td = JSON.parse(String(params[1])) as { domain: Record<string, unknown>; types: Record<string, Array<{ name: string; type: string }>>; message: Record<string, unknown> };
        expect(td.types).to.have.property("EIP712Domain");
        const types = { ...td.types };
        delete types.EIP712Domain;
        return wallet.signTypedData(td.domain, types, td.message);
      }
      throw new Error(`unsupported ${method}`);
    });
    await page.addInitScript({ content: "window.ethereum = { request: ({ method, params }) => window.__wallet(method, params || []) };" });
    await page.goto(url);
    await page.getByRole("button", { name: "Sign in with a browser wallet" }).click();
    await page.getByText(`Signed in as ${addresses.buyer}`).waitFor({ timeout: 30_000 });
    const owed = row(page, "owed-", "400,000.00");
    await refreshUntil(page, owed);
    await act(owed, "repay", /You pay 400,000\.00 yuan on receivable 0x[0-9a-f]+…/);
    expect(seen).to.include.members(["eth_requestAccounts", "personal_sign", "eth_signTypedData_v4"]);
    const tier2 = pageOf("tier2");
    await refreshUntil(tier2, row(tier2, "receivable-", "paid"));
  });

  it("GET /receivables/by-invoice finds by seller tax id and number (normalised), and refuses what it should", async function () {
    const as = async (name: Member) => signIn(url, await Wallet.fromEncryptedJson(readFileSync(join(keys, `${name}.json`), "utf8"), password));
    const lookup = (token: string, q: Record<string, string>) => fetch(`${url}/receivables/by-invoice?${new URLSearchParams(q)}`, { headers: bearer(token) });
    const auditor = await as("auditor");
    const found = await lookup(auditor, { sellerTaxId: taxIds.tier1.toLowerCase(), invoiceNumber: invoiceNumber.toLowerCase().replace(/-/g, " ") });
    expect(found.status).to.equal(200);
    const r = (await found.json()) as { faceValue: string; seller: string; status: string };
    expect(r).to.include({ faceValue: "100000000", seller: addresses.tier1, status: "split" });

    const missing = await lookup(auditor, { sellerTaxId: taxIds.tier2, invoiceNumber });
    expect(missing.status).to.equal(404);
    expect(((await missing.json()) as { detail: string }).detail).to.include("No receivable for invoice");
    const bad = await lookup(auditor, { invoiceNumber });
    expect(bad.status).to.equal(400);
    expect(((await bad.json()) as { detail: string }).detail).to.include("sellerTaxId");
    // tier2 holds a part of it, not the invoice itself: the same scope as GET /receivables/:id.
    const notParty = await lookup(await as("tier2"), { sellerTaxId: taxIds.tier1, invoiceNumber });
    expect(notParty.status).to.equal(403);
  });

  it("the buyer disputes a second invoice with a reason, reading the sentence before signing; the supplier's page shows the dispute", async function () {
    const page = pageOf("buyer");
    const awaiting = row(page, "awaiting-", "1,500.50");
    await refreshUntil(page, awaiting);
    await awaiting.locator("select[name=disputeReason]").selectOption("amount_wrong");
    await awaiting.locator("input[name=disputeText]").fill("We ordered 1,200.00");
    const notice = page.getByTestId("notice");
    const before = (await notice.count()) ? await notice.getAttribute("data-n") : "0";
    await awaiting.getByTestId("dispute").click();
    const dialog = awaiting.getByRole("dialog");
    await dialog.waitFor();
    expect(await dialog.locator(".sentence").innerText()).to.match(
      /You state that you do not confirm receivable 0x[0-9a-f]+…: amount wrong “We ordered 1,200\.00”\. The seller sees this; it moves nothing on the ledger\./,
    );
    await dialog.getByRole("button", { name: "Confirm and sign" }).click();
    await page.locator(`[data-testid="notice"]:not([data-n="${before}"])`).waitFor({ timeout: 60_000 });
    expect(await notice.innerText()).to.include("Signed and recorded");
    await expectText(awaiting.locator(".disputed"), /Disputed: amount wrong “We ordered 1,200\.00”/, page);

    const supplier = pageOf("tier1");
    const mine = row(supplier, "receivable-", "1,500.50");
    await refreshUntil(supplier, mine);
    await expectText(mine.locator(".disputed"), /Disputed: amount wrong “We ordered 1,200\.00”/, supplier);
  });

  async function expectText(l: Locator, re: RegExp, refresh?: Page) {
    const until = Date.now() + 20_000;
    for (;;) {
      const text = (await l.count()) ? await l.innerText() : "";
      if (re.test(text)) return;
      if (Date.now() > until) expect(text).to.match(re);
      if (refresh) await refresh.getByRole("button", { name: "Refresh" }).first().click();
      await new Promise((r) => setTimeout(r, 300));
    }
  }
});
