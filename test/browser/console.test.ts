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
 * role's main page is saved to test-output/screenshots/ (gitignored), or with UPDATE_SCREENSHOTS=1
 * to docs/screenshots/, the pictures the README shows. `npm run test:browser` builds the service
 * and the console first; the platform runs compiled, as `npm start` runs it.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { Wallet, getAddress } from "ethers";
import { chromium, type Browser, type Locator, type Page } from "playwright-core";
import { freePort } from "../support/chain";
import { freshUscc } from "../support/entity-ids";
import { startPlatform, type ServiceProcess } from "../support/process";

const ROOT = join(__dirname, "..", "..");
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
/** Run screenshots stay out of the git tree unless asked for: UPDATE_SCREENSHOTS=1 refreshes the README's. */
const SHOTS = process.env.UPDATE_SCREENSHOTS === "1" ? join(ROOT, "docs", "screenshots") : join(ROOT, "test-output", "screenshots");
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
  let platform: ServiceProcess | null = null;
  let browser: Browser | null = null;
  let url: string;
  let keys: string;
  let password: string;
  const roles = new Map<string, Role>();
  const addresses = {} as Record<Member | "officer", string>;
  const taxIds = {} as Record<Member, string>;

  before(async function () {
    if (!existsSync(CHROMIUM)) throw new Error(`No Chromium at ${CHROMIUM}: apt-get install -y chromium (or set CHROMIUM_PATH).`);
    if (!existsSync(join(ROOT, "console", "dist", "index.html"))) throw new Error("No console build: run `npm run build:console` (npm run test:browser does).");
    dir = mkdtempSync(join(tmpdir(), "scf-console-"));
    const [port, chainPort] = [await freePort(), await freePort()];
    url = `http://127.0.0.1:${port}`;
    platform = await startPlatform({ DATA_DIR: dir, PORT: String(port), CHAIN_PORT: String(chainPort), LOG_LEVEL: "warn", RPC_URL: "", DATABASE_URL: "" }, url);
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
    await platform?.kill("SIGTERM");
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
    // Code-split: the page loads a small entry; each role's page (and the charts) is a chunk of its own, fetched when opened.
    const entry = /<script[^>]+src="(\/assets\/index-[^"]+\.js)"/.exec(await fetch(`${url}/`, { headers: { accept: "text/html" } }).then((r) => r.text()))?.[1];
    expect(entry, "the entry script").to.be.a("string");
    expect((await (await fetch(`${url}${entry}`)).arrayBuffer()).byteLength).to.be.below(600_000);
    const chunks = readdirSync(join(ROOT, "console", "dist", "assets")).filter((f) => f.endsWith(".js"));
    for (const page of ["Supplier", "Buyer", "Financier", "Auditor", "Compliance", "Charts"]) expect(chunks.some((f) => f.startsWith(`${page}-`)), page).to.equal(true);
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

    // Test money from the officer's page: the buyer picked by its tax id, the bank by address.
    const faucet = officer.getByTestId("faucet-form");
    await pick(faucet, "faucetSearch", taxIds.buyer, addresses.buyer);
    expect(await faucet.locator("input[name=faucetTo]").inputValue()).to.equal(addresses.buyer);
    await faucet.locator("input[name=faucetAmount]").fill("5000000");
    await faucet.getByRole("button", { name: "Send test money" }).click();
    await expectText(faucet.getByTestId("faucet-result"), new RegExp(`Minted 5,000,000\\.00 → ${addresses.buyer.slice(0, 12)}`));
    await faucet.locator("input[name=faucetTo]").fill(addresses.bank);
    await faucet.locator("input[name=faucetAmount]").fill("10000000");
    await faucet.getByRole("button", { name: "Send test money" }).click();
    await expectText(faucet.getByTestId("faucet-result"), new RegExp(`Minted 10,000,000\\.00 → ${addresses.bank.slice(0, 12)}[\\s\\S]*Confirmed in block`));
    await officer.screenshot({ path: join(SHOTS, "compliance.png"), fullPage: true });
  });

  /** Finds a member in a picker by name or tax id and picks the one at `address` (legal name, tax id and address shown). */
  async function pick(scope: Locator, name: string, text: string, address: string) {
    const picker = scope.getByTestId(`picker-${name}`);
    await picker.locator(`input[name=${name}]`).fill(text);
    await picker.getByRole("button", { name: "Find", exact: true }).click();
    const hit = picker.getByTestId(`member-${address}`);
    await hit.waitFor({ timeout: 20_000 });
    const line = await picker.getByTestId("member-results").locator("li").filter({ has: scope.page().getByTestId(`member-${address}`) }).innerText();
    expect(line).to.include(address);
    expect(line).to.match(/tax id [0-9A-Z]{18}/);
    await hit.click();
  }

  const invoiceNumber = `CONSOLE-${Date.now().toString(36).toUpperCase()}-001`;
  const due = new Date(Date.now() + 60 * 86400_000).toISOString().slice(0, 10);

  async function fillInvoice(page: Page, viaPicker = false) {
    const form = page.getByTestId("tokenise-form");
    await form.locator("input[name=invoiceNumber]").fill(invoiceNumber);
    if (viaPicker) {
      // Not yet a counterparty, so found by the tax id on the invoice: picking fills the debtor and its tax id.
      await pick(form, "debtorSearch", taxIds.buyer.toLowerCase(), addresses.buyer);
      expect(await form.locator("input[name=debtor]").inputValue()).to.equal(addresses.buyer);
      expect(await form.locator("input[name=buyerTaxId]").inputValue()).to.equal(taxIds.buyer);
    } else {
      await form.locator("input[name=debtor]").fill(addresses.buyer);
      await form.locator("input[name=buyerTaxId]").fill(taxIds.buyer);
    }
    await form.locator("input[name=sellerTaxId]").fill(taxIds.tier1);
    await form.locator("input[name=dueDate]").fill(due);
    await form.locator("input[name=amount]").fill("1000000.00");
    await form.locator("input[name=document]").setInputFiles({ name: "invoice.pdf", mimeType: "application/pdf", buffer: pdf(invoiceNumber) });
    return form;
  }

  it("tokenises an invoice with its PDF, and shows the refusal of the same invoice again", async function () {
    const page = pageOf("tier1");
    const form = await fillInvoice(page, true);
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
    // tier2 is no counterparty yet: found by its tax id from the row's picker.
    await part.locator("details.pick summary").click();
    await pick(part, "toSearch", taxIds.tier2, addresses.tier2);
    expect(await part.locator("input[name=to]").inputValue()).to.equal(addresses.tier2);
    await act(part, "transfer", new RegExp(`You transfer receivable 0x[0-9a-f]+… to ${addresses.tier2}`));
    await refreshUntil(pageOf("tier2"), row(pageOf("tier2"), "receivable-", "400,000.00"));
  });

  it("the bank permits advances from its balance and opens a credit line on the buyer", async function () {
    const page = pageOf("bank");
    await expectText(page.getByTestId("balance").first(), /10,000,000\.00/, page);
    await page.fill("input[name=allowance]", "10000000");
    await act(page.locator("section").filter({ has: page.getByTestId("permit") }), "permit", /draw up to 10,000,000\.00 yuan/);
    const open = page.locator("section").filter({ has: page.getByTestId("open-line") });
    // By name the bank finds only its counterparties (none yet); by the buyer's tax id, the buyer.
    const picker = open.getByTestId("picker-lineDebtorSearch");
    await picker.locator("input[name=lineDebtorSearch]").fill("Console buyer");
    await picker.getByRole("button", { name: "Find", exact: true }).click();
    await expectText(picker.getByRole("alert"), /No member found for “Console buyer”/);
    await pick(open, "lineDebtorSearch", taxIds.buyer, addresses.buyer);
    expect(await page.locator("input[name=lineDebtor]").inputValue()).to.equal(addresses.buyer);
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
    // The request's compliance pre-flight, read by the financier it is addressed to.
    await expectText(request.locator('[data-testid^="checks-"]'), /FINANCING_RECEIVABLE_ACCEPTED: pass[\s\S]*FINANCING_LINE_HEADROOM: pass/);
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

  it("another seller's invoice may carry the same number: tier2 bills the buyer under it, picked by tax id", async function () {
    const form = pageOf("tier2").getByTestId("tokenise-form");
    await form.locator("input[name=invoiceNumber]").fill(invoiceNumber);
    await pick(form, "debtorSearch", taxIds.buyer, addresses.buyer);
    await form.locator("input[name=sellerTaxId]").fill(taxIds.tier2);
    await form.locator("input[name=dueDate]").fill(due);
    await form.locator("input[name=amount]").fill("1234.00");
    await form.locator("input[name=document]").setInputFiles({ name: "invoice-t2b.pdf", mimeType: "application/pdf", buffer: pdf(`${invoiceNumber}-tier2`) });
    await act(form, "tokenise", new RegExp(`You tokenise an invoice of 1,234\\.00 yuan that ${addresses.buyer} owes you`));
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
    const search = async (q: string, sellerTaxId = "") => {
      await page.fill("input[name=q]", q);
      await page.fill("input[name=sellerTaxId]", sellerTaxId);
      await page.getByRole("button", { name: "Search", exact: true }).click();
    };
    // Two sellers' invoices carry this number: without a seller's tax id, a list to pick from.
    await search(invoiceNumber.toLowerCase().replace(/-/g, " "));
    const choices = page.getByTestId("receivable-results");
    await expectText(choices, /1,000,000\.00[\s\S]*1,234\.00|1,234\.00[\s\S]*1,000,000\.00/);
    expect(await choices.locator("li").count()).to.equal(2);
    expect(await page.getByTestId("search-choices").innerText()).to.include("2 receivables carry this invoice number");
    // With the seller's tax id (any case), the one receivable opens at once.
    await search(invoiceNumber, taxIds.tier2.toLowerCase());
    await expectText(page.getByTestId("receivable-view").locator("dl"), /1,234\.00/);
    await search(invoiceNumber);
    await choices.locator("li").filter({ hasText: "1,000,000.00" }).getByRole("button").first().click();
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

    // A transaction hash: its events, asked of the server (GET /audit/events?txHash=).
    await page.getByRole("button", { name: "English" }).click();
    const txHash = (await view.getByTestId("history").locator("button").last().getAttribute("title"))!;
    expect(txHash).to.match(/^0x[0-9a-f]{64}$/);
    await search(txHash.toUpperCase().replace(/^0X/, "0x"));
    await expectText(page.getByTestId("history"), /block \d+/i);
    const titles = await page.getByTestId("history").locator("button").evaluateAll((bs) => bs.map((b) => (b as unknown as { title: string }).title));
    expect(titles.length).to.be.greaterThan(0);
    expect(new Set(titles)).to.deep.equal(new Set([txHash]));
    expect(await page.getByTestId("receivable-view").count()).to.equal(0);

    // A member by name, then by tax id: legal name, tax id and address shown; picking shows its receivables.
    await search("console TIER1");
    const members = page.getByTestId("member-results");
    await members.getByTestId(`member-${addresses.tier1}`).waitFor();
    expect(await members.innerText()).to.include("Console tier1 Co., Ltd.").and.to.include(taxIds.tier1).and.to.include(addresses.tier1);
    await members.getByTestId(`member-${addresses.tier1}`).click();
    await expectText(page.getByTestId("member-view"), /1,000,000\.00/);
    await search(taxIds.bank);
    await members.getByTestId(`member-${addresses.bank}`).waitFor();
    expect(await members.locator("li").count()).to.equal(1);

    // An invoice number the ledger does not know: the page says so.
    await page.fill("input[name=q]", `${invoiceNumber}-NONE`);
    const explorer = page.locator("section").filter({ has: page.locator("input[name=q]") });
    const shown = await refusal("auditor", explorer, () => page.getByRole("button", { name: "Search", exact: true }).click());
    expect(shown).to.include(`No receivable for invoice ${invoiceNumber}-NONE on the ledger`);

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
