/**
 * The real `scf` binary (node cli/bin/scf.js, a child process) against a real service on a real
 * chain: keys, sign-in, onboarding through the CLI, a CSV import with good and bad rows, an import
 * killed with SIGKILL mid-run and resumed without duplicates, signed acts, JSON output, exit codes,
 * and the auditor's lineage tree.
 */
import { createHash } from "node:crypto";
import { execFile, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { Wallet, id as keccakId } from "ethers";
import { cleanupEnv, prepareEnv, startService, type RunningService, type TestEnv } from "../support/app";
import { freePort, startChain, type TestChain } from "../support/chain";
import { freshUscc } from "../support/entity-ids";
import { IndexerService } from "../../services/src/indexer/indexer.service";

const ROOT = join(__dirname, "..", "..");
const BIN = join(ROOT, "cli", "bin", "scf.js");

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

describe("scf CLI against a running service", function () {
  this.timeout(180_000);
  let chain: TestChain;
  let env: TestEnv;
  let svc: RunningService;
  let home: string;
  const addr: Record<string, string> = {};

  /** Runs the binary asynchronously (the service lives in this process: never block it). */
  function scf(args: string[], extraEnv: Record<string, string> = {}): Promise<Run> {
    return new Promise((resolve) => {
      execFile(
        process.execPath,
        [BIN, ...args],
        { env: cliEnv(extraEnv), maxBuffer: 16 * 1024 * 1024 },
        (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === "number" ? err.code : 1) : 0, stdout, stderr }),
      );
    });
  }

  function cliEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
    return {
      PATH: process.env.PATH,
      HOME: home,
      SCF_HOME: join(home, ".scf"),
      SCF_KEYS_DIR: join(home, "keys"),
      SCF_URL: svc.url,
      SCF_PASSWORD: "correct horse battery staple",
      SCF_SCRYPT_N: "1024",
      ...extra,
    };
  }

  async function json<T>(args: string[], extraEnv: Record<string, string> = {}): Promise<T> {
    const r = await scf([...args, "--json"], extraEnv);
    expect(r.code, `scf ${args.join(" ")}: ${r.stderr}${r.stdout}`).to.equal(0);
    return JSON.parse(r.stdout) as T;
  }

  function csv(name: string, rows: string[]): string {
    const file = join(home, name);
    writeFileSync(file, ["invoice_number,buyer_address,seller_tax_id,buyer_tax_id,issue_date,due_date,amount,currency,document_sha256", ...rows].join("\n") + "\n");
    return file;
  }

  const today = () => new Date().toISOString().slice(0, 10);
  const inDays = (d: number) => new Date(Date.now() + d * 86400_000).toISOString().slice(0, 10);
  // Invoices name the parties' registered entity ids, and each invoice has its own document.
  const taxIds: Record<string, string> = { supplier: freshUscc(), buyer: freshUscc(), bank: freshUscc(), auditor: freshUscc() };
  const documentOf = (n: string) => createHash("sha256").update(`invoice ${n}`).digest("hex");
  const invoiceRow = (n: string, yuan: string) =>
    `${n},${addr.buyer},${taxIds.supplier},${taxIds.buyer},${today()},${inDays(90)},${yuan},CNY,${documentOf(n)}`;

  before(async function () {
    chain = await startChain();
    env = await prepareEnv(chain);
    svc = await startService(env);
    home = mkdtempSync(join(tmpdir(), "scf-cli-"));
  });
  after(async function () {
    await svc?.close();
    if (env) await cleanupEnv(env);
    await chain?.stop();
    if (home) rmSync(home, { recursive: true, force: true });
  });

  it("creates and lists keys; imports a private key; signs in; whoami", async function () {
    for (const k of ["supplier", "buyer", "bank", "auditor"]) {
      const made = await json<{ name: string; address: string }>(["keys", "new", k]);
      expect(made.name).to.equal(k);
      addr[k] = made.address;
    }
    const officer = Wallet.createRandom();
    await (await env.ledger.registry.connect(chain.account(0)).grantRole(keccakId("COMPLIANCE_OFFICER"), officer.address)).wait();
    writeFileSync(join(home, "officer.key"), officer.privateKey + "\n", { mode: 0o600 });
    const imported = await json<{ address: string }>(["keys", "import", "officer", "--private-key-file", join(home, "officer.key")]);
    expect(imported.address).to.equal(officer.address);
    addr.officer = officer.address;

    const list = await json<Array<{ name: string; address: string }>>(["keys", "list"]);
    expect(list.map((k) => k.name)).to.deep.equal(["auditor", "bank", "buyer", "officer", "supplier"]);
    expect(list.find((k) => k.name === "buyer")!.address).to.equal(addr.buyer);
    const keyFile = readdirSync(join(home, "keys")).find((f) => f === "supplier.json")!;
    const keystore = JSON.parse(readFileSync(join(home, "keys", keyFile), "utf8")) as Record<string, unknown>;
    expect(keystore.Crypto ?? keystore.crypto, "an encrypted keystore").to.have.property("kdf");
    expect(JSON.stringify(keystore)).to.not.match(/privateKey/i);
    expect(statSync(join(home, "keys", keyFile)).mode & 0o777).to.equal(0o600);

    // Several keys and none chosen: a usage error naming them.
    const ambiguous = await scf(["whoami"]);
    expect(ambiguous.code).to.equal(2);
    expect(ambiguous.stderr).to.match(/--key NAME/);

    const wrong = await scf(["login", "--key", "officer"], { SCF_PASSWORD: "wrong password" });
    expect(wrong.code, wrong.stderr).to.equal(3);
    expect(wrong.stderr).to.match(/Wrong password/);

    const session = await json<{ address: string; expiresAt: string }>(["login", "--key", "officer"]);
    expect(session.address).to.equal(officer.address);
    const sessions = JSON.parse(readFileSync(join(home, ".scf", "sessions.json"), "utf8")) as Record<string, unknown>;
    expect(Object.keys(sessions)).to.deep.equal([`${svc.url}|${officer.address}`]);
    const me = await json<{ address: string; complianceOfficer: boolean }>(["whoami", "--key", "officer"]);
    expect(me).to.include({ address: officer.address, complianceOfficer: true });
  });

  it("onboards members with apply and approve", async function () {
    const names: Record<string, [string, string]> = {
      supplier: ["Taizhou Example Castings Co., Ltd.", "supplier"],
      buyer: ["Zhejiang Example Motors Group Co., Ltd.", "buyer"],
      bank: ["Example Commercial Bank Hangzhou Branch", "financier"],
      auditor: ["Example Audit Partners LLP", "auditor"],
    };
    writeFileSync(join(home, "licence.pdf"), "business licence");
    for (const [k, [legalName, roles]] of Object.entries(names)) {
      const app = await json<{ id: string; status: string; applicant: string }>([
        "apply", "--key", k, "--legal-name", legalName, "--entity-id", taxIds[k], "--jurisdiction", "CN", "--roles", roles, "--document", join(home, "licence.pdf"),
      ]);
      expect(app.status, k).to.equal("submitted");
      expect(app.applicant).to.equal(addr[k]);
      const ok = await json<{ status: string }>(["approve", app.id, "--key", "officer"]);
      expect(ok.status, k).to.equal("approved");
    }
    const apps = await json<{ items: Array<{ status: string }> }>(["applications", "--key", "officer", "--status", "approved", "--all"]);
    expect(apps.items).to.have.length(4);
  });

  it("imports a CSV: bad rows reported with line numbers and left out, good rows on the ledger", async function () {
    const file = csv("erp-export.csv", [
      invoiceRow("A-001", '"1,000.00"'),
      invoiceRow("A-002", "2500.5"),
      invoiceRow("A-003", "12.345"), // line 4: 3 decimals
      invoiceRow("A-004", "300"),
      `A-005,0x1234,${taxIds.supplier},${taxIds.buyer},${today()},${inDays(90)},10.00,CNY,${documentOf("A-005")}`, // line 6
      invoiceRow("A-006", "0.29"),
      invoiceRow("a 001", "1000.00"), // line 8: the same invoice as line 2 once normalised
    ]);
    const r = await scf(["invoices", "import", file, "--key", "supplier", "--batch-size", "2", "--json"]);
    expect(r.code, r.stderr).to.equal(1); // bad rows: the rest is imported, the exit says not everything was
    const out = JSON.parse(r.stdout);
    expect(out.rows).to.deep.equal({ total: 7, valid: 4, bad: 3 });
    expect(out.bad.map((b: { line: number }) => b.line)).to.deep.equal([4, 6, 8]);
    expect(out.bad[0].reasons.join()).to.match(/more than 2 decimals/);
    expect(out.bad[1].reasons.join()).to.match(/buyer_address "0x1234" is not an address/);
    expect(out.bad[2].reasons.join()).to.match(/same invoice as line 2/);
    expect(out.invoices).to.include({ submitted: 4, skipped: 0, refused: 0, confirmed: 4 });
    const amounts = (out.receivables as Array<{ amount: string }>).map((x) => x.amount).sort();
    expect(amounts).to.deep.equal(["100000", "250050", "29", "30000"]);

    const listed = await json<{ items: Array<{ id: string; faceValue: string; status: string }> }>(["invoices", "list", "--key", "supplier", "--all"]);
    expect(listed.items.map((x) => x.faceValue).sort()).to.deep.equal(amounts);
    expect(listed.items.every((x) => x.status === "issued")).to.equal(true);

    // The same file again: everything is done, nothing is sent.
    const again = JSON.parse((await scf(["invoices", "import", file, "--key", "supplier", "--json"])).stdout);
    expect(again.resumed).to.equal(true);
    expect(again.invoices).to.include({ submitted: 0, skipped: 4, confirmed: 4 });
  });

  it("resumes an import killed with SIGKILL mid-run: exact count, no duplicates, skipped batches reported", async function () {
    const rows = Array.from({ length: 10 }, (_, i) => invoiceRow(`K-${String(i + 1).padStart(3, "0")}`, `${i + 1}00.00`));
    const file = csv("big-export.csv", rows);
    const child = spawn(process.execPath, [BIN, "invoices", "import", file, "--key", "supplier", "--batch-size", "2", "--delay-ms", "700", "--json"], { env: cliEnv() });
    const exited = new Promise<number | null>((r) => child.on("exit", (code, signal) => r(signal ? -1 : code)));
    const importsDir = join(home, ".scf", "imports");
    let killed = false;
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      const f = existsSync(importsDir) ? readdirSync(importsDir).filter((x) => x.endsWith(".json")).map((x) => join(importsDir, x)) : [];
      for (const p of f) {
        let st: { file: string; batches: Array<{ status: string }> };
        try {
          st = JSON.parse(readFileSync(p, "utf8"));
        } catch {
          continue;
        }
        if (st.file === file && st.batches.some((b) => b.status === "confirmed")) {
          child.kill("SIGKILL");
          killed = true;
        }
      }
      if (killed) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(killed, "the import was killed after its first batch was confirmed").to.equal(true);
    expect(await exited).to.equal(-1);

    const r = await scf(["invoices", "import", file, "--key", "supplier", "--json"]);
    expect(r.code, r.stderr).to.equal(0);
    const out = JSON.parse(r.stdout);
    expect(out.resumed).to.equal(true);
    expect(out.batches.total).to.equal(5);
    expect(out.invoices.confirmed).to.equal(10);
    // At least the first batch was done before the kill and is reported as skipped, not re-sent.
    expect(out.batches.skipped).to.be.at.least(1);
    expect(out.invoices.skipped).to.equal(2 * out.batches.skipped);
    expect(out.invoices.skipped + out.invoices.resumedInFlight + out.invoices.submitted).to.equal(10);
    expect(out.invoices.refused).to.equal(0);

    const listed = await json<{ items: Array<{ id: string; faceValue: string }> }>(["invoices", "list", "--key", "supplier", "--all", "--limit", "3"]);
    const ids = listed.items.map((x) => x.id);
    expect(new Set(ids).size).to.equal(ids.length);
    expect(ids).to.have.length(4 + 10);
    const big = listed.items.filter((x) => BigInt(x.faceValue) >= 10000n && BigInt(x.faceValue) % 10000n === 0n && BigInt(x.faceValue) <= 1000000n && x.faceValue !== "100000" && x.faceValue !== "30000");
    expect(big.length).to.be.at.least(8);
  });

  it("re-posts a batch signed by an interrupted run exactly as signed (same act, never a second one)", async function () {
    const file = csv("inflight-export.csv", [invoiceRow("F-001", "1.00"), invoiceRow("F-002", "2.00"), invoiceRow("F-003", "3.00"), invoiceRow("F-004", "4.00")]);
    const first = JSON.parse((await scf(["invoices", "import", file, "--key", "supplier", "--batch-size", "2", "--no-wait", "--json"])).stdout);
    expect(first.invoices).to.include({ submitted: 4 });
    // As if the run died after saving the signatures: once before the answer arrived (same
    // Idempotency-Key), once before the post (a key the service never saw).
    const state = JSON.parse(readFileSync(first.stateFile, "utf8"));
    const acts = state.batches.map((b: { actId: string }) => b.actId);
    for (const b of state.batches) {
      b.status = "signed";
      delete b.actId;
    }
    state.batches[1].idempotencyKey += "-unseen";
    writeFileSync(first.stateFile, JSON.stringify(state));
    const r = await scf(["invoices", "import", file, "--key", "supplier", "--json"]);
    expect(r.code, r.stderr).to.equal(0);
    const out = JSON.parse(r.stdout);
    expect(out.invoices).to.include({ submitted: 0, resumedInFlight: 4, confirmed: 4, refused: 0 });
    const after = JSON.parse(readFileSync(first.stateFile, "utf8"));
    expect(after.batches.map((b: { actId: string }) => b.actId)).to.deep.equal(acts);
    const items = (await json<{ items: Array<{ id: string; faceValue: string }> }>(["invoices", "list", "--key", "supplier", "--all"])).items;
    expect(new Set(items.map((x) => x.id)).size).to.equal(items.length);
    expect(items.filter((x) => ["100", "200", "300", "400"].includes(x.faceValue)).map((x) => x.faceValue).sort()).to.deep.equal(["100", "200", "300", "400"]);
  });

  it("signs acts (accept, split, credit line, financing, repay with a permit), refuses with exit 1, and draws the lineage tree", async function () {
    const listed = await json<{ items: Array<{ id: string; faceValue: string }> }>(["invoices", "list", "--key", "buyer", "--all"]);
    const target = listed.items.find((x) => x.faceValue === "100000")!; // 1,000.00 yuan
    expect(target, "the 1,000.00 yuan invoice").to.not.equal(undefined);

    // Refusals: a supplier cannot accept (not a buyer); the buyer cannot split (not the holder).
    const refused = await scf(["accept", target.id, "--key", "supplier"]);
    expect(refused.code, refused.stderr).to.equal(1);
    expect(refused.stderr).to.match(/Refused \(HTTP 403\)/);
    const refusedJson = await scf(["split", target.id, "--amounts", "600,400", "--key", "buyer", "--json"]);
    expect(refusedJson.code).to.equal(1);
    expect(JSON.parse(refusedJson.stdout).error.exitCode).to.equal(1);

    const accepted = await json<{ status: string; kind: string }>(["accept", target.id, "--key", "buyer"]);
    expect(accepted).to.include({ status: "confirmed", kind: "accept" });
    const split = await json<{ status: string; result: { childIds: string[] } }>(["split", target.id, "--amounts", "600,400.00", "--key", "supplier"]);
    expect(split.status).to.equal("confirmed");
    const [first, second] = split.result.childIds;

    // Financing of the 600.00 part: the bank opens a line, the supplier asks, the bank approves.
    await (await env.ledger.token.connect(chain.account(0)).mint(addr.bank, 1_000_000n)).wait();
    const line = await json<{ status: string; lineId: number | null; result: { lineId?: number } }>([
      "credit-lines", "open", "--key", "bank", "--debtor", addr.buyer, "--limit", "5000", "--max-advance-bps", "9000", "--discount-bps", "500", "--expiry", inDays(200),
    ]);
    const lineId = String(line.lineId ?? line.result.lineId);
    expect(Number(lineId)).to.be.greaterThan(0);
    await json(["finance", "request", first, "--line", lineId, "--key", "supplier"]);
    // The supplier may take its request back and ask again.
    const withdrawn = await json<{ status: string; kind: string }>(["finance", "withdraw", first, "--key", "supplier"]);
    expect(withdrawn).to.include({ status: "confirmed", kind: "withdraw_financing" });
    await json(["finance", "request", first, "--line", lineId, "--key", "supplier"]);
    const before = await env.ledger.token.balanceOf(addr.supplier);
    const approved = await scf(["finance", "approve", first, "--key", "bank", "--registration", "04412026120400000042"]);
    expect(approved.code, approved.stderr).to.equal(0);
    expect(await env.ledger.receivables.ownerOf(BigInt(first))).to.equal(addr.bank);
    const advanced = (await env.ledger.token.balanceOf(addr.supplier)) - before;
    expect(advanced > 0n && advanced <= 54_000n, String(advanced)).to.equal(true);

    // Repay one part: the buyer holds settlement money but granted no allowance: the CLI signs a permit.
    await (await env.ledger.token.connect(chain.account(0)).mint(addr.buyer, 1_000_000n)).wait();
    expect(await env.ledger.token.allowance(addr.buyer, env.ledger.record.contracts.Receivables)).to.equal(0n);
    const paid = await scf(["repay", second, "--key", "buyer"]);
    expect(paid.code, paid.stderr + paid.stdout).to.equal(0);
    expect(paid.stderr).to.match(/permit/);
    expect((await env.ledger.token.balanceOf(addr.supplier)) - before - advanced).to.equal(40_000n);

    const tree = await scf(["audit", "lineage", second, "--key", "auditor"]);
    expect(tree.code, tree.stderr).to.equal(0);
    const lines = tree.stdout.trim().split("\n");
    expect(lines[0]).to.match(/1,000\.00 yuan {2}split/);
    expect(lines[1]).to.match(/^├── .*600\.00 yuan {2}financed/);
    expect(lines[2]).to.match(/^└── .*400\.00 yuan {2}paid.*◀$/);

    const history = await json<Array<{ event: string }>>(["audit", "history", target.id, "--key", "auditor"]);
    expect(history.map((e) => e.event)).to.include.members(["ReceivableTokenised", "ReceivableAccepted", "ReceivableSplit"]);
    const verify = await scf(["audit", "verify", "--key", "auditor"]);
    expect(verify.code, verify.stdout + verify.stderr).to.equal(0);
    expect(verify.stdout).to.match(/OK: the service's records match the chain/);
    const out = join(home, "export.csv");
    const exp = await json<{ rows: number; file: string }>(["audit", "export", "--format", "csv", "--out", out, "--key", "auditor"]);
    expect(exp.rows).to.equal(readFileSync(out, "utf8").trim().split("\n").length - 1);
    expect(exp.rows).to.be.greaterThan(10);
  });

  it("shows the voucher rules: payment records, registration search and register, the term, and the export's datasets", async function () {
    // After the test above: the bank financed a part under 04412026120400000042 through the service, the buyer paid the other part on time.
    const rec = await json<{ buyer: string; confirmed: { count: number }; paidOnTime: { count: number; faceValue: string }; paidLate: { count: number } }>([
      "payment-record", addr.buyer, "--key", "bank",
    ]);
    expect(rec.buyer).to.equal(addr.buyer);
    expect(rec.paidOnTime).to.deep.equal({ count: 1, faceValue: "40000" });
    expect(rec.paidLate.count).to.equal(0);
    expect(rec.confirmed.count).to.be.greaterThan(1);
    const shown = await scf(["payment-record", addr.buyer, "--key", "auditor"]);
    expect(shown.code, shown.stderr).to.equal(0);
    expect(shown.stdout).to.match(/paid on time\s+1 \(400\.00 yuan\)/);
    const all = await scf(["payment-record", "--key", "buyer"]);
    expect(all.code, all.stderr).to.equal(0);
    expect(all.stdout).to.include(addr.buyer);
    const refused = await scf(["payment-record", addr.buyer, "--key", "supplier"]);
    expect(refused.code).to.equal(1);
    expect(refused.stderr).to.match(/Refused \(HTTP 403\)/);
    expect((await scf(["payment-record", "0x12", "--key", "bank"])).code).to.equal(2);

    const found = await json<{ items: Array<{ receivableId: string; registrationNumber: string; registrationOverdue: boolean }> }>([
      "finance", "find", "--registration", "04412026120400000042", "--key", "bank",
    ]);
    expect(found.items).to.have.length(1);
    expect(found.items[0]).to.include({ registrationNumber: "04412026120400000042", registrationOverdue: false });
    const financed = found.items[0].receivableId;
    expect((await json<{ items: unknown[] }>(["finance", "unregistered", "--key", "auditor"])).items).to.deep.equal([]);
    const registered = await json<{ registrationNumber: string }>(["finance", "register", financed, "--registration", "04412026120400000042", "--key", "bank"]);
    expect(registered.registrationNumber).to.equal("04412026120400000042");
    const mismatch = await scf(["finance", "register", financed, "--registration", "04412026120400000043", "--key", "bank"]);
    expect(mismatch.code).to.equal(1);
    expect(mismatch.stderr).to.match(/HTTP 422/);
    expect((await scf(["finance", "find", "--registration", "x", "--key", "bank"])).code).to.equal(2);

    const show = await scf(["invoices", "show", financed, "--key", "auditor"]);
    expect(show.code, show.stderr).to.equal(0);
    expect(show.stdout).to.match(/term\s+\d+ days from tokenisation\n/);
    expect(show.stdout).to.match(/registration\s+04412026120400000042/);
    expect((await json<{ items: unknown[] }>(["invoices", "list", "--term-review", "--key", "auditor"])).items).to.deep.equal([]);

    const out = join(home, "records.csv");
    const exp = await json<{ rows: number; dataset: string }>(["audit", "export", "--dataset", "payment-records", "--out", out, "--key", "auditor"]);
    expect(exp).to.include({ dataset: "payment-records" });
    expect(readFileSync(out, "utf8")).to.include(addr.buyer);
    expect(exp.rows).to.be.at.least(1);
    expect((await scf(["audit", "export", "--dataset", "nope", "--key", "auditor"])).code).to.equal(2);
  });

  it("settlement held / claim: a payment held while the supplier is suspended is read while suspended, refused to claim, then claimed", async function () {
    const listed = await json<{ items: Array<{ id: string; faceValue: string; status: string }> }>(["invoices", "list", "--key", "buyer", "--all"]);
    const target = listed.items.find((x) => x.faceValue === "30000" && x.status === "issued")!; // 300.00 yuan
    expect(target, "the 300.00 yuan invoice").to.not.equal(undefined);
    await json(["accept", target.id, "--key", "buyer"]);

    // Nothing held yet: held says so; claim refuses with exit 1 and the reason, before signing anything.
    const none = await json<{ address: string; held: string }>(["settlement", "held", "--key", "supplier"]);
    expect(none).to.deep.equal({ address: addr.supplier, held: "0" });
    const nothing = await scf(["settlement", "claim", "--key", "supplier"]);
    expect(nothing.code, nothing.stderr).to.equal(1);
    expect(nothing.stderr).to.match(/Nothing is held for 0x[0-9a-fA-F]{40}: there is no payment to claim/);
    expect(nothing.stderr).to.not.match(/Signing/);
    const nothingJson = await scf(["settlement", "claim", "--key", "supplier", "--json"]);
    expect(nothingJson.code).to.equal(1);
    expect(JSON.parse(nothingJson.stdout).error.details.code).to.equal("ReceivableNothingHeld");

    // The supplier is suspended; the buyer pays on time: the payment is held for the supplier.
    const { IndexerService } = await import("../../services/src/indexer/indexer.service");
    await (await env.ledger.registry.connect(env.keys.compliance).suspend(addr.supplier, keccakId("review"))).wait();
    await svc.app.get(IndexerService).catchUp();
    const paid = await scf(["repay", target.id, "--key", "buyer"]);
    expect(paid.code, paid.stderr + paid.stdout).to.equal(0);
    expect(await env.ledger.receivables.heldFor(addr.supplier)).to.equal(30_000n);

    // Suspended, the supplier still reads what is held for it (table and JSON)...
    const heldText = await scf(["settlement", "held", "--key", "supplier"]);
    expect(heldText.code, heldText.stderr).to.equal(0);
    expect(heldText.stdout).to.match(/300\.00 yuan is held for/);
    const held = await json<{ held: string }>(["settlement", "held", "--key", "supplier"]);
    expect(held.held).to.equal("30000");
    // ...but cannot claim it: exit 1, the service's reason, nothing moves.
    const refused = await scf(["settlement", "claim", "--key", "supplier", "--json"]);
    expect(refused.code, refused.stderr).to.equal(1);
    expect(refused.stderr).to.match(/cannot receive the settlement token yet.*stays held/);
    expect(JSON.parse(refused.stdout).error.details.code).to.equal("ReceivableUnverifiedParty");
    expect(await env.ledger.receivables.heldFor(addr.supplier)).to.equal(30_000n);

    // Not signed in and unable to sign in: no key, or a wrong keystore password (exit 3).
    const noKey = await scf(["settlement", "claim"], { SCF_KEYS_DIR: join(home, "no-keys") });
    expect(noKey.code, noKey.stderr).to.equal(3);
    expect(noKey.stderr).to.match(/No key in/);
    await scf(["logout", "--key", "supplier"]);
    const wrong = await scf(["settlement", "held", "--key", "supplier"], { SCF_PASSWORD: "not the password" });
    expect(wrong.code, wrong.stderr).to.equal(3);
    expect(wrong.stderr).to.match(/Wrong password/);

    // Reinstated: the claim is signed, confirmed, and prints the amount; the money reaches the supplier.
    await (await env.ledger.registry.connect(env.keys.compliance).reinstate(addr.supplier)).wait();
    await svc.app.get(IndexerService).catchUp();
    const before = await env.ledger.token.balanceOf(addr.supplier);
    const claimed = await scf(["settlement", "claim", "--key", "supplier"]);
    expect(claimed.code, claimed.stderr + claimed.stdout).to.equal(0);
    expect(claimed.stderr).to.match(/Signing as 0x[0-9a-fA-F]{40}: ClaimHeld/);
    expect(claimed.stdout).to.match(/claim_held confirmed: act .*\nclaimed 300\.00 yuan/);
    expect((await env.ledger.token.balanceOf(addr.supplier)) - before).to.equal(30_000n);
    expect(await env.ledger.receivables.heldFor(addr.supplier)).to.equal(0n);
    const after = await json<{ held: string }>(["settlement", "held", "--key", "supplier"]);
    expect(after.held).to.equal("0");
  });

  it("settlement claim --json prints the confirmed act with the amount claimed", async function () {
    // Another payment held (the supplier suspended again), claimed with --json once reinstated.
    const listed = await json<{ items: Array<{ id: string; faceValue: string; status: string }> }>(["invoices", "list", "--key", "buyer", "--all"]);
    const target = listed.items.find((x) => x.faceValue === "29" && x.status === "issued")!; // 0.29 yuan
    expect(target, "the 0.29 yuan invoice").to.not.equal(undefined);
    await json(["accept", target.id, "--key", "buyer"]);
    const { IndexerService } = await import("../../services/src/indexer/indexer.service");
    await (await env.ledger.registry.connect(env.keys.compliance).suspend(addr.supplier, keccakId("review"))).wait();
    await svc.app.get(IndexerService).catchUp();
    await json(["repay", target.id, "--key", "buyer"]);
    await (await env.ledger.registry.connect(env.keys.compliance).reinstate(addr.supplier)).wait();
    await svc.app.get(IndexerService).catchUp();
    const act = await json<{ kind: string; status: string; result: { amount: string } }>(["settlement", "claim", "--key", "supplier"]);
    expect(act).to.include({ kind: "claim_held", status: "confirmed" });
    expect(act.result.amount).to.equal("29");
  });

  it("finance offer / offers / approve-offer / withdraw-offer: financing in one transaction, and a withdrawn offer never approved", async function () {
    const listed = await json<{ items: Array<{ id: string; faceValue: string; status: string }> }>(["invoices", "list", "--key", "buyer", "--all"]);
    const [a, b] = ["250050", "100000"].map((fv) => listed.items.find((x) => x.faceValue === fv && x.status === "issued")!);
    expect(a && b, "the 2,500.50 and a 1,000.00 yuan invoice").to.not.equal(undefined);
    await json(["accept", a.id, "--key", "buyer"]);
    await json(["accept", b.id, "--key", "buyer"]);
    const lines = await json<{ items: Array<{ id: number; financier: string }> }>(["credit-lines", "list", "--key", "bank", "--all"]);
    const lineId = String(lines.items.find((l) => l.financier === addr.bank)!.id);

    // The supplier's signed request waits off-chain in the bank's queue: no transaction yet.
    const offer = await json<{ id: string; status: string; financier: string }>(["finance", "offer", a.id, "--line", lineId, "--key", "supplier"]);
    expect(offer).to.include({ status: "open", financier: addr.bank });
    expect((await env.ledger.financing.financing(BigInt(a.id))).status).to.equal(0n);
    const queue = await json<Array<{ id: string }>>(["finance", "offers", "--key", "bank", "--status", "open"]);
    expect(queue.map((x) => x.id)).to.include(offer.id);

    // The bank approves: both signatures in one transaction; the receivable is the bank's.
    const before = await env.ledger.token.balanceOf(addr.supplier);
    const approved = await scf(["finance", "approve-offer", offer.id, "--registration", "04412026120400000077", "--key", "bank"]);
    expect(approved.code, approved.stderr + approved.stdout).to.equal(0);
    expect(approved.stderr).to.match(/ApproveSignedRequest/);
    expect(approved.stdout).to.match(/approve_offer confirmed: act .*\npaid the supplier [\d,]+\.\d\d yuan/);
    expect(await env.ledger.receivables.ownerOf(BigInt(a.id))).to.equal(addr.bank);
    expect((await env.ledger.token.balanceOf(addr.supplier)) > before).to.equal(true);

    // Another offer withdrawn by the supplier: the bank's approval is then refused (exit 1), nothing moves.
    const second = await json<{ id: string }>(["finance", "offer", b.id, "--line", lineId, "--key", "supplier"]);
    const withdrawn = await json<{ kind: string; status: string }>(["finance", "withdraw-offer", second.id, "--key", "supplier"]);
    expect(withdrawn).to.include({ kind: "withdraw_offer", status: "confirmed" });
    const refused = await scf(["finance", "approve-offer", second.id, "--registration", "04412026120400000078", "--key", "bank"]);
    expect(refused.code, refused.stderr).to.equal(1);
    expect(refused.stderr).to.match(/withdrawn by its supplier/);
    expect(await env.ledger.receivables.ownerOf(BigInt(b.id))).to.equal(addr.supplier);
    const usage = await scf(["finance", "approve-offer", "not-a-uuid", "--registration", "04412026120400000079", "--key", "bank"]);
    expect(usage.code).to.equal(2);
  });

  it("audit pack writes a signed export pack, verify-pack checks it and names an altered file", async function () {
    // Its own auditor, registered on-chain, so the test also runs alone (--grep "audit pack").
    const packer = await json<{ address: string }>(["keys", "new", "packer"]);
    const latest = await chain.provider.getBlock("latest");
    await (await env.ledger.registry.connect(env.keys.operator).register(packer.address, 8, latest!.timestamp + 86400 * 365, "0x434e", keccakId(`packer ${packer.address}`))).wait();
    await chain.provider.send("evm_mine", []);
    await svc.app.get(IndexerService).catchUp();
    const to = await chain.provider.getBlockNumber();
    const dir = join(home, "pack");
    const made = await scf(["audit", "pack", "--from", "0", "--to", String(to), "--out", dir, "--key", "packer"]);
    expect(made.code, made.stderr + made.stdout).to.equal(0);
    expect(made.stdout).to.match(new RegExp(`Wrote the pack for blocks 0-${to - 1} to .*, signed by ${env.keys.operator.address}`));
    expect(readdirSync(dir).sort()).to.deep.equal(
      ["acceptances.csv", "defaults.csv", "financings.csv", "manifest.json", "manifest.sig.json", "payments.csv", "splits.csv", "transfers.csv", "vouchers.csv"],
    );
    const ok = await scf(["audit", "verify-pack", dir]);
    expect(ok.code, ok.stdout).to.equal(0);
    expect(ok.stdout).to.match(/OK: every file matches the manifest, signed by the ledger's operator/);
    const otherOperator = await scf(["audit", "verify-pack", dir, "--operator", Wallet.createRandom().address]);
    expect(otherOperator.code).to.equal(1);
    expect(otherOperator.stdout).to.match(/not by the operator you named/);

    const vouchers = join(dir, "vouchers.csv");
    writeFileSync(vouchers, readFileSync(vouchers, "utf8").replace("faceValue", "faceValue2"));
    const bad = await scf(["audit", "verify-pack", dir, "--json"]);
    expect(bad.code).to.equal(1);
    const report = JSON.parse(bad.stdout) as { ok: boolean; problems: string[] };
    expect(report.ok).to.equal(false);
    expect(report.problems.some((p) => p.startsWith("vouchers.csv: SHA-256"))).to.equal(true);

    const mixed = await scf(["audit", "pack", "--from", "0", "--to", "2026-01-01", "--out", dir, "--key", "packer"]);
    expect(mixed.code).to.equal(2);
    const late = await scf(["audit", "pack", "--from", "0", "--to", String(to + 50), "--out", join(home, "late"), "--key", "packer"]);
    expect(late.code).to.equal(1);
    expect(late.stderr).to.match(/HTTP 409/);
  });

  it("invoices dispute: the buyer disputes an issued invoice by its number; the supplier sees it in show and list --disputed", async function () {
    const file = csv("dispute.csv", [invoiceRow("DSP-CLI-1", "321.00")]);
    expect((await scf(["invoices", "import", file, "--key", "supplier"])).code).to.equal(0);
    await svc.app.get(IndexerService).catchUp();
    const badReason = await scf(["invoices", "dispute", "DSP-CLI-1", "--reason", "because", "--key", "buyer"]);
    expect(badReason.code).to.equal(2);
    const d = await scf(["invoices", "dispute", "DSP-CLI-1", "--reason", "amount_wrong", "--text", "We ordered 300.00", "--key", "buyer"]);
    expect(d.code, d.stderr + d.stdout).to.equal(0);
    expect(d.stderr).to.match(/DisputeInvoice, receivable 0x[0-9a-f]{64}, reason amount_wrong, text "We ordered 300.00"/);
    expect(d.stdout).to.match(/^disputed 0x[0-9a-f]{64}: amount_wrong \(We ordered 300.00\); signed digest 0x[0-9a-f]{64}\n$/);
    const again = await scf(["invoices", "dispute", "DSP-CLI-1", "--reason", "other", "--key", "buyer"]);
    expect(again.code).to.equal(1);
    expect(again.stderr).to.match(/already disputed/);
    const show = await scf(["invoices", "show", "DSP-CLI-1", "--key", "supplier"]);
    expect(show.stdout).to.match(/dispute\s+amount_wrong \(We ordered 300.00\), open/);
    const listed = await json<{ items: Array<{ id: string; faceValue: string }> }>(["invoices", "list", "--disputed", "--key", "supplier", "--all"]);
    expect(listed.items.map((r) => r.faceValue)).to.deep.equal(["32100"]);
  });

  it("exits 4 when the service is unreachable and 2 on a usage error", async function () {
    const port = await freePort();
    const r = await scf(["invoices", "list", "--key", "supplier", "--url", `http://127.0.0.1:${port}`]);
    expect(r.code, r.stderr).to.equal(4);
    expect(r.stderr).to.match(/Cannot reach the SCF service/);
    const u = await scf(["split", "0x01", "--amounts", "1.234,5", "--key", "supplier"]);
    expect(u.code).to.equal(2);
    expect(u.stderr).to.match(/more than 2 decimals/);
    const unknown = await scf(["frobnicate"]);
    expect(unknown.code).to.equal(2);
  });

  it("participants finds a member by tax id and exits 1 when a lookup finds nobody; settlement faucet where the faucet is off exits 1 saying so", async function () {
    const found = await json<{ items: Array<{ address: string; entityId: string }> }>(["participants", "--tax-id", taxIds.buyer, "--key", "supplier"]);
    expect(found.items.map((m) => m.address)).to.deep.equal([addr.buyer]);
    expect(found.items[0].entityId).to.equal(taxIds.buyer);
    const nobody = await scf(["participants", "--tax-id", freshUscc(), "--key", "supplier"]);
    expect(nobody.code, nobody.stderr).to.equal(1);
    expect(nobody.stdout).to.match(/No member found/);
    const both = await scf(["participants", "--name", "acme", "--tax-id", taxIds.buyer, "--key", "supplier"]);
    expect(both.code).to.equal(2);
    expect(both.stderr).to.match(/one of --name, --tax-id or --address/);
    // This service runs without FAUCET_ENABLED: the route does not exist, and the CLI says why.
    const faucet = await scf(["settlement", "faucet", "--to", addr.buyer, "--amount", "100", "--key", "officer"]);
    expect(faucet.code, faucet.stderr).to.equal(1);
    expect(faucet.stderr).to.match(/no test-money faucet: it is enabled only on test platforms \(FAUCET_ENABLED=true/);
  });
});

