/**
 * The exit export against a real `hardhat node` and database (SQLite, or PostgreSQL with
 * TEST_DATABASE=postgres), on the read-side scenario ledger (every role, a three-level split tree,
 * transfers, two lines, a financing approved and partly repaid, one rejected, one pending, payments)
 * plus a payment held and claimed and a default written off: the auditor's export holds every
 * projection row, each file and row hash matches the manifest and the operator's EIP-191 signature
 * verifies with eth-sig-util; an altered row is named (file, row, id) and a manifest re-hashed to
 * match it fails the signature; a member's export holds only what it is party to; the refusals (a
 * member naming another 403, a non-member 403, anonymous 401, a malformed address 400); and the
 * replay of this richer ledger into a fresh embedded chain reproduces every record.
 */
import { spawn } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { recoverPersonalSignature } from "@metamask/eth-sig-util";
import { expect } from "chai";
import { encodeBytes32String, getAddress, hexlify } from "ethers";
import request from "supertest";
import { DataSource } from "typeorm";
import { getDataSourceToken } from "@nestjs/typeorm";
import { IndexerService } from "../../services/src/indexer/indexer.service";
import { canonicalJson, manifestFile, MANIFEST_FILE, SIGNATURE_FILE, readExitFile, verifyExitDir, type ExitManifest } from "../../shared/ledger-export-format";
import { bearer, signIn } from "../support/auth";
import { startChain, type TestChain } from "../support/chain";
import { TEST_PASSWORD, cleanupEnv, prepareEnv, startService, type RunningService, type TestEnv } from "../support/app";
import { writeKeystore } from "../../services/src/chain/keys";
import { YUAN, buildLedgerScenario, type CallerName, type LedgerScenario } from "../support/ledger-scenario";

const ROOT = join(__dirname, "..", "..");
const DAY = 86_400;

interface ExportBody {
  manifest: ExitManifest;
  signature: { signature: string; signer: string };
  files: Record<string, string>;
}

describe("Ledger exit export (hardhat node, real database) and its replay", function () {
  this.timeout(600_000);
  let chain: TestChain;
  let env: TestEnv;
  let svc: RunningService;
  let s: LedgerScenario;
  let ds: DataSource;
  const tokens = {} as Record<CallerName, string>;
  const tmp = mkdtempSync(join(tmpdir(), "scf-exit-int-"));

  const send = async (p: Promise<{ wait(): Promise<unknown> }>) => (await p).wait();
  const exportAs = (who: CallerName, query: Record<string, string> = {}) => request(svc.url).get("/ledger/export").query(query).set(bearer(tokens[who]));

  /** Writes an answer as `scf ledger export` does. */
  function write(body: ExportBody, name: string): string {
    const dir = join(tmp, name);
    mkdirSync(dir, { recursive: true });
    for (const f of body.manifest.files) writeFileSync(join(dir, f.name), body.files[f.name]);
    writeFileSync(join(dir, SIGNATURE_FILE), JSON.stringify(body.signature));
    writeFileSync(join(dir, MANIFEST_FILE), canonicalJson(body.manifest));
    return dir;
  }

  /** `npm run ledger:replay` (what `scf ledger replay` runs) of the whole-ledger export, with `vars` set. */
  function replay(vars: Record<string, string>): Promise<{ code: number | null; out: string }> {
    return new Promise((resolve) => {
      const child = spawn(process.execPath, ["-r", "ts-node/register/transpile-only", "scripts/replay-ledger.ts", "--from", wholeDir, "--operator", env.keys.operator.address], {
        cwd: ROOT,
        env: { ...process.env, ...vars },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let out = "";
      child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
      child.stderr!.on("data", (d: Buffer) => (out += d.toString()));
      child.on("exit", (code) => resolve({ code, out }));
    });
  }

  before(async function () {
    chain = await startChain();
    env = await prepareEnv(chain);
    svc = await startService(env);
    s = await buildLedgerScenario(env);
    const { ledger } = env;
    const w = s.wallets;
    await send(ledger.registry.connect(w.compliance).suspend(w.supplierB.address, encodeBytes32String("REVIEW")));
    await send(ledger.receivables.connect(w.buyer).pay(BigInt(s.ids.bAccepted), 50_000n * YUAN));
    await send(ledger.registry.connect(w.compliance).reinstate(w.supplierB.address));
    await send(ledger.receivables.connect(w.supplierB).claim());
    const now = (await chain.provider.getBlock("latest"))!.timestamp;
    await chain.provider.send("evm_setNextBlockTimestamp", [now + 100 * DAY]);
    await send(ledger.receivables.connect(w.financier).markDefaulted(BigInt(s.ids.financed)));
    await send(ledger.financing.connect(w.financier).writeOff(BigInt(s.ids.financed)));
    await svc.app.get(IndexerService).catchUp();
    ds = svc.app.get<DataSource>(getDataSourceToken());
    for (const name of Object.keys(s.wallets) as CallerName[]) tokens[name] = await signIn(svc.url, s.wallets[name]);
  });
  after(async function () {
    rmSync(tmp, { recursive: true, force: true });
    await svc?.close();
    if (env) await cleanupEnv(env);
    await chain?.stop();
  });

  let whole: ExportBody;
  let wholeDir: string;

  it("gives the auditor every projection row, each row and file matching the manifest signed by the operator", async function () {
    const res = await exportAs("auditor");
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    whole = res.body as ExportBody;
    expect(whole.manifest.scope).to.deep.equal({ kind: "ledger" });
    const signer = recoverPersonalSignature({ data: hexlify(Buffer.from(canonicalJson(whole.manifest))), signature: whole.signature.signature });
    expect(getAddress(signer)).to.equal(env.keys.operator.address);
    wholeDir = write(whole, "whole");
    expect(verifyExitDir(wholeDir, env.keys.operator.address).problems).to.deep.equal([]);
    const count = async (table: string) => Number(((await ds.query(`SELECT COUNT(*) AS n FROM ${table}`)) as Array<{ n: string | number }>)[0].n);
    const rows = Object.fromEntries(whole.manifest.files.map((f) => [f.name, f.rows]));
    expect(rows).to.include({
      "members.ndjson": await count("members"),
      "receivables.ndjson": await count("receivables"),
      "credit-lines.ndjson": await count("credit_lines"),
      "financings.ndjson": await count("financings"),
      "payments.ndjson": await count("payments"),
      "events.ndjson": await count("ledger_events"),
    });
    const receivables = readExitFile(wholeDir, "receivables.ndjson");
    const seen = new Set<string>();
    for (const r of receivables) {
      if (r.parentId) expect(seen.has(r.parentId), `${r.id} after its parent`).to.equal(true);
      seen.add(r.id);
    }
    expect(receivables.map((r) => r.status)).to.include.members(["split", "defaulted", "cancelled"]);
    const supply = await env.ledger.token.totalSupply();
    expect(whole.manifest.ledger.totalSupply).to.equal(supply.toString());
    expect(readExitFile(wholeDir, "balances.ndjson").reduce((t, b) => t + BigInt(b.balance), 0n)).to.equal(supply);
  });

  it("names an altered row, and refuses a manifest re-hashed to match it (the operator's signature no longer holds)", async function () {
    const dir = join(tmp, "altered");
    cpSync(wholeDir, dir, { recursive: true });
    const file = join(dir, "payments.ndjson");
    const lines = readFileSync(file, "utf8").split("\n");
    const row = lines.length - 1; // the last row (the file ends with a newline)
    lines[row - 1] = lines[row - 1].replace(/"amount":"(\d+)"/, (_, a: string) => `"amount":"${BigInt(a) * 10n}"`);
    writeFileSync(file, lines.join("\n"));
    const named = verifyExitDir(dir);
    expect(named.ok).to.equal(false);
    expect(named.problems).to.have.length(1);
    expect(named.problems[0]).to.match(new RegExp(`^payments\\.ndjson row ${row} \\(txHash 0x[0-9a-f]{64}, logIndex \\d+\\): does not match its SHA-256 in the signed manifest`));

    const manifest = JSON.parse(readFileSync(join(dir, MANIFEST_FILE), "utf8")) as ExitManifest;
    const text = readFileSync(file, "utf8");
    manifest.files = manifest.files.map((f) => (f.name === "payments.ndjson" ? manifestFile("payments.ndjson", text) : f));
    writeFileSync(join(dir, MANIFEST_FILE), canonicalJson(manifest));
    const rehashed = verifyExitDir(dir);
    expect(rehashed.ok).to.equal(false);
    expect(rehashed.problems.join("\n")).to.match(/^manifest\.json: signed by 0x[0-9a-fA-F]{40}, not by the ledger's operator/m);
  });

  it("gives a member only what it is party to, and an auditor the same for ?member=", async function () {
    const me = s.wallets.supplierC.address;
    const own = await exportAs("supplierC");
    expect(own.status, JSON.stringify(own.body)).to.equal(200);
    const body = own.body as ExportBody;
    expect(body.manifest.scope).to.deep.equal({ kind: "member", member: me });
    const dir = write(body, "own");
    expect(verifyExitDir(dir).problems).to.deep.equal([]);
    expect(readExitFile(dir, "members.ndjson").map((m) => m.address)).to.deep.equal([me]);
    const mine = readExitFile(dir, "receivables.ndjson");
    const all = readExitFile(wholeDir, "receivables.ndjson");
    const expected = all.filter((r) => [r.seller, r.debtor, r.holder].includes(me)).map((r) => r.id);
    expect(mine.map((r) => r.id).sort()).to.deep.equal(expected.sort());
    expect(mine.length).to.be.greaterThan(0).and.lessThan(all.length);
    for (const e of readExitFile(dir, "events.ndjson")) expect(JSON.stringify(e.args).toLowerCase() + e.txFrom.toLowerCase()).to.include(me.slice(2).toLowerCase());
    const byAuditor = await exportAs("auditor", { member: me });
    expect(byAuditor.status).to.equal(200);
    expect((byAuditor.body as ExportBody).files).to.deep.equal(body.files);
  });

  it("refuses a member naming another (403), a non-member (403), anonymous (401) and a malformed address (400)", async function () {
    const other = await exportAs("supplierC", { member: s.wallets.supplierA.address });
    expect(other.status).to.equal(403);
    expect(other.body.detail ?? other.body.message).to.match(/own records only/);
    expect((await exportAs("stranger")).status).to.equal(403);
    expect((await request(svc.url).get("/ledger/export")).status).to.equal(401);
    const bad = await exportAs("auditor", { member: "0x1234" });
    expect(bad.status).to.equal(400);
    expect(bad.headers["content-type"]).to.match(/problem\+json/);
  });

  it("replays into a fresh embedded chain: every member, balance, receivable, credit line, financing and payment reproduced", async function () {
    const target = join(tmp, "replayed");
    const res = await replay({ DATA_DIR: target, RPC_URL: "", DATABASE_URL: "" });
    expect(res.code, res.out).to.equal(0);
    for (const [kind, file] of [["members", "members.ndjson"], ["receivables", "receivables.ndjson"], ["financings", "financings.ndjson"], ["creditLines", "credit-lines.ndjson"], ["balances", "balances.ndjson"], ["payments", "payments.ndjson"]] as const) {
      const n = readExitFile(wholeDir, file).length;
      expect(res.out, kind).to.match(new RegExp(`${kind}\\s+${n}\\s+${n}\\s+0\\n`));
    }
    expect(res.out).to.include("every record reproduced");
  });

  it("replays onto an external chain with the operator's keystores (RPC_URL, ADMIN_KEYSTORE, KEYSTORE_DIR, DEPLOYMENT_FILE), and not over an existing record", async function () {
    const admin = await chain.fundedWallet();
    writeKeystore(join(tmp, "admin.json"), admin, TEST_PASSWORD, true);
    const vars = {
      RPC_URL: chain.url,
      ADMIN_KEYSTORE: join(tmp, "admin.json"),
      KEYSTORE_DIR: env.env.KEYSTORE_DIR,
      KEYSTORE_PASSWORD: TEST_PASSWORD,
      DEPLOYMENT_FILE: join(tmp, "external", "deployment.json"),
      DATA_DIR: "",
      DATABASE_URL: "",
    };
    mkdirSync(join(tmp, "external"));
    const res = await replay(vars);
    expect(res.code, res.out).to.equal(0);
    expect(res.out).to.include("every record reproduced");
    const record = JSON.parse(readFileSync(vars.DEPLOYMENT_FILE, "utf8")) as { roles: Record<string, string>; contracts: Record<string, string> };
    expect(record.roles).to.include({ admin: admin.address, onboardingOperator: env.keys.operator.address, complianceOfficer: env.keys.compliance.address });
    expect(record.contracts.Receivables).to.not.equal(await env.ledger.receivables.getAddress());
    const again = await replay(vars);
    expect(again.code).to.equal(1);
    expect(again.out).to.include("exists: replay deploys a fresh ledger");
  });
});
