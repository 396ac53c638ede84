/**
 * Leaving the ledger, as members and auditors would: a platform started as `npm start` does, the
 * demo run on it, the whole ledger exported by an auditor with `scf ledger export`, then
 * `scf ledger replay` into a fresh data directory and `npm start` on that directory (another
 * chain: its own durable embedded one). Every projection row the import carries must be the same
 * on both platforms, row for row; the balances on both chains too. An export with one amount
 * changed is refused naming the file and the row, before anything is deployed. A member-scoped
 * export holds only that member's records.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { JsonRpcProvider, Wallet } from "ethers";
import { readExitFile, verifyExitDir } from "../../shared/ledger-export-format";
import { SettlementToken__factory } from "../../typechain-types";
import { bearer, signIn } from "../support/auth";
import { freePort } from "../support/chain";
import { freshUscc } from "../support/entity-ids";
import { npmScriptArgs } from "../support/process";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const Database = require("better-sqlite3") as new (path: string, opts?: { readonly?: boolean }) => {
  prepare(sql: string): { all(...params: unknown[]): unknown[] };
  close(): void;
};

const ROOT = join(__dirname, "..", "..");
const SCF = join(ROOT, "cli", "bin", "scf.js");

interface Platform {
  child: ChildProcess;
  url: string;
  chainUrl: string;
  dir: string;
  out(): string;
}

async function start(dir: string): Promise<Platform> {
  const [port, chainPort] = [await freePort(), await freePort()];
  const url = `http://127.0.0.1:${port}`;
  const env = { ...process.env, DATA_DIR: dir, PORT: String(port), CHAIN_PORT: String(chainPort), LOG_LEVEL: "warn", RPC_URL: "", DATABASE_URL: "" };
  const child = spawn(process.execPath, npmScriptArgs("start"), { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (out += d.toString()));
  const until = Date.now() + 120_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the platform exited with ${child.exitCode}:\n${out}`);
    if (await fetch(`${url}/health`).then((r) => r.status === 200, () => false)) break;
    if (Date.now() > until) {
      child.kill("SIGKILL");
      throw new Error(`the platform did not become healthy:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return { child, url, chainUrl: `http://127.0.0.1:${chainPort}`, dir, out: () => out };
}

async function stop(p: Platform | null): Promise<void> {
  if (!p || p.child.exitCode !== null || p.child.signalCode !== null) return;
  const exited = new Promise((r) => p.child.once("exit", r));
  p.child.kill("SIGTERM");
  await exited;
}

function run(cmd: string[], env: Record<string, string> = {}): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, cmd, { cwd: ROOT, env: { ...process.env, NO_COLOR: "1", ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr!.on("data", (d: Buffer) => (out += d.toString()));
    child.on("exit", (code) => resolve({ code, out }));
  });
}

/** The projection rows of a platform's database, as the import carries them. */
function projection(dir: string) {
  const db = new Database(join(dir, "ledger.sqlite"), { readonly: true });
  try {
    return {
      members: db.prepare("SELECT address, roles, status, kyc_expiry, jurisdiction, entity_id_hash FROM members ORDER BY address").all(),
      receivables: db
        .prepare(
          "SELECT id, seller, debtor, holder, face_value, outstanding, due_date, status, financed, parent_id, " +
            "CASE WHEN parent_id IS NULL THEN document_hash END AS document_hash FROM receivables ORDER BY id",
        )
        .all(),
      creditLines: db.prepare("SELECT id, financier, debtor, supplier, limit_amount, utilised, max_advance_bps, discount_bps, expiry, open FROM credit_lines ORDER BY id").all(),
      financings: db
        .prepare("SELECT receivable_id, line_id, supplier, financier, status, CASE WHEN status IN ('active', 'written_off') THEN principal ELSE '0' END AS principal FROM financings ORDER BY receivable_id")
        .all(),
      payments: db.prepare("SELECT tx_hash, log_index, receivable_id, debtor, holder, amount, outstanding_after, block_number, timestamp FROM payments ORDER BY block_number, tx_hash, log_index").all(),
    };
  } finally {
    db.close();
  }
}

describe("leaving the ledger: scf ledger export, then scf ledger replay into a fresh platform", function () {
  this.timeout(600_000);
  let tmp: string;
  let a: Platform | null = null;
  let b: Platform | null = null;
  let exportDir: string;
  let exportMs = 0;
  let auditor: Wallet;
  let supplier: Wallet;
  let scfEnv: Record<string, string>;

  before(async function () {
    tmp = mkdtempSync(join(tmpdir(), "scf-exit-"));
    a = await start(join(tmp, "a"));
    const keys = join(a.dir, "demo-keys");
    const demo = await run([...npmScriptArgs("demo"), "--url", a.url, "--keys", keys]);
    expect(demo.code, demo.out).to.equal(0);

    // Two of the platform's demo keys onboarded as the demo onboards its members: an auditor, and
    // a supplier whose export is its own.
    const password = readFileSync(join(keys, "password.txt"), "utf8").trim();
    const officer = (await Wallet.fromEncryptedJson(readFileSync(join(keys, "officer.json"), "utf8"), password)) as Wallet;
    const officerToken = await signIn(a.url, officer);
    const onboard = async (name: string, roles: string) => {
      const wallet = (await Wallet.fromEncryptedJson(readFileSync(join(keys, `${name}.json`), "utf8"), password)) as Wallet;
      const token = await signIn(a!.url, wallet);
      const form = new FormData();
      form.append("legalName", `Exit Test ${name}`);
      form.append("entityIdType", "USCC");
      form.append("entityId", freshUscc());
      form.append("jurisdiction", "CN");
      form.append("roles", roles);
      form.append("documents", new Blob(["licence"], { type: "application/pdf" }), "licence.pdf");
      const app = await fetch(`${a!.url}/onboarding/applications`, { method: "POST", headers: bearer(token), body: form });
      const appBody = (await app.json()) as { id: string };
      expect(app.status, JSON.stringify(appBody)).to.equal(201);
      const approve = await fetch(`${a!.url}/onboarding/applications/${appBody.id}/approve?wait=true`, {
        method: "POST",
        headers: { ...bearer(officerToken), "content-type": "application/json" },
        body: "{}",
      });
      expect(approve.status, await approve.text()).to.equal(202);
      for (let i = 0; i < 100; i++) {
        const me = (await (await fetch(`${a!.url}/auth/me`, { headers: bearer(token) })).json()) as { verifiedMember: boolean };
        if (me.verifiedMember) return wallet;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`${name} is not a verified member after 10 s`);
    };
    auditor = await onboard("auditor", "auditor");
    supplier = await onboard("tier1", "supplier");
    scfEnv = { SCF_HOME: join(tmp, "scf-home"), SCF_PASSWORD: password, SCF_URL: a.url, SCF_KEYS_DIR: keys };
    exportDir = join(tmp, "export");
  });

  after(async function () {
    await stop(a);
    await stop(b);
    rmSync(tmp, { recursive: true, force: true });
  });

  it("exports the whole ledger as the auditor: every file checks out against the signed manifest", async function () {
    const t0 = Date.now();
    const res = await run([SCF, "ledger", "export", "--out", exportDir, "--key", "auditor"], scfEnv);
    expect(res.code, res.out).to.equal(0);
    exportMs = Date.now() - t0;
    expect(res.out).to.include("the whole ledger");
    const check = verifyExitDir(exportDir);
    expect(check.problems).to.deep.equal([]);
    const counts = Object.fromEntries(check.manifest!.files.map((f) => [f.name, f.rows]));
    const db = projection(a!.dir);
    expect(counts).to.include({
      "members.ndjson": db.members.length,
      "receivables.ndjson": db.receivables.length,
      "credit-lines.ndjson": db.creditLines.length,
      "financings.ndjson": db.financings.length,
      "payments.ndjson": db.payments.length,
    });
    expect(db.payments.length, "the demo repays").to.be.greaterThan(0);
    expect(db.receivables.some((r) => (r as { parent_id: string | null }).parent_id !== null), "the demo splits").to.equal(true);
  });

  it("a member-scoped export holds only that member's records", async function () {
    // A supplier or member party to some receivables but not all (the tier-2 supplier's one part).
    const everything = readExitFile(exportDir, "receivables.ndjson");
    const partyTo = (a: string) => everything.filter((r) => [r.seller, r.debtor, r.holder].includes(a)).length;
    const member = readExitFile(exportDir, "members.ndjson").find((m) => (m.roles & 4) === 0 && partyTo(m.address) > 0 && partyTo(m.address) < everything.length)!;
    expect(member, "a member party to some receivables only").to.not.equal(undefined);
    const dir = join(tmp, "member-export");
    const res = await run([SCF, "ledger", "export", "--out", dir, "--key", "auditor", "--member", member.address], scfEnv);
    expect(res.code, res.out).to.equal(0);
    expect(verifyExitDir(dir).manifest!.scope).to.deep.equal({ kind: "member", member: member.address });
    expect(readExitFile(dir, "members.ndjson").map((m) => m.address)).to.deep.equal([member.address]);
    const receivables = readExitFile(dir, "receivables.ndjson");
    expect(receivables.length).to.be.greaterThan(0);
    for (const r of receivables) expect([r.seller, r.debtor, r.holder], r.id).to.include(member.address);
    const ids = new Set(receivables.map((r) => r.id));
    for (const p of readExitFile(dir, "payments.ndjson")) expect(ids.has(p.receivableId), p.txHash).to.equal(true);
    for (const bal of readExitFile(dir, "balances.ndjson")) expect(bal.account).to.equal(member.address);
    expect(receivables.length).to.equal(partyTo(member.address));
    for (const e of readExitFile(dir, "events.ndjson")) expect(JSON.stringify(e).toLowerCase(), e.txHash).to.include(member.address.slice(2).toLowerCase());
  });

  it("gives a member its own records only: another member's export and a non-member are refused (403)", async function () {
    const dir = join(tmp, "own-export");
    const own = await run([SCF, "ledger", "export", "--out", dir, "--key", "tier1", "--json"], scfEnv);
    expect(own.code, own.out).to.equal(0);
    const m = verifyExitDir(dir).manifest!;
    expect(m.scope).to.deep.equal({ kind: "member", member: supplier.address });
    expect(m.files.find((f) => f.name === "members.ndjson")!.rows).to.equal(1);
    const other = await run([SCF, "ledger", "export", "--out", join(tmp, "other"), "--key", "tier1", "--member", auditor.address], scfEnv);
    expect(other.code, other.out).to.equal(1);
    expect(other.out).to.include("exports its own records only");
    expect(existsSync(join(tmp, "other"))).to.equal(false);
    const stranger = await run([SCF, "ledger", "export", "--out", join(tmp, "stranger"), "--key", "bank"], scfEnv);
    expect(stranger.code, stranger.out).to.equal(1);
    expect(existsSync(join(tmp, "stranger"))).to.equal(false);
  });

  it("refuses an export with one amount changed, naming the file and the row, and deploys nothing", async function () {
    const tampered = join(tmp, "tampered");
    cpSync(exportDir, tampered, { recursive: true });
    const file = join(tampered, "receivables.ndjson");
    const lines = readFileSync(file, "utf8").split("\n");
    const row = 2;
    const before = JSON.parse(lines[row - 1]) as { faceValue: string };
    lines[row - 1] = lines[row - 1].replace(`"faceValue":"${before.faceValue}"`, `"faceValue":"${BigInt(before.faceValue) + 100n}"`);
    expect(lines[row - 1]).to.not.include(`"faceValue":"${before.faceValue}"`);
    writeFileSync(file, lines.join("\n"));
    const target = join(tmp, "never");
    const res = await run([SCF, "ledger", "replay", "--from", tampered, "--data-dir", target], scfEnv);
    expect(res.code, res.out).to.not.equal(0);
    expect(res.out).to.match(new RegExp(`receivables\\.ndjson row ${row} \\(id 0x[0-9a-f]{64}\\): does not match its SHA-256 in the signed manifest`));
    expect(res.out).to.include("nothing was deployed");
    expect(existsSync(target), "no chain was started, no key made, nothing deployed").to.equal(false);
  });

  describe("replayed into a fresh platform on another chain", function () {
    let replay: { code: number | null; out: string };

    before(async function () {
      const dir = join(tmp, "b");
      const t0 = Date.now();
      replay = await run([SCF, "ledger", "replay", "--from", exportDir, "--data-dir", dir], scfEnv);
      expect(replay.code, replay.out).to.equal(0);
      const rows = verifyExitDir(exportDir).manifest!.files.map((f) => `${f.name.replace(".ndjson", "")} ${f.rows}`).join(", ");
      console.log(`      export ${exportMs} ms, replay ${Date.now() - t0} ms (the scf process, chain start included); ${rows}`);
      b = await start(dir);
      expect(b.out()).to.match(/contracts\s+reused/);
      // The indexer projects the import events: wait until every receivable is there.
      const want = projection(a!.dir);
      const caughtUp = () => {
        const now = projection(dir);
        return now.receivables.length >= want.receivables.length && now.payments.length >= want.payments.length;
      };
      for (let i = 0; i < 240 && !caughtUp(); i++) await new Promise((r) => setTimeout(r, 250));
    });

    it("reports every record kind: expected, reproduced, no mismatch", function () {
      const counts = (kind: string) => new RegExp(`${kind}\\s+(\\d+)\\s+(\\d+)\\s+0\\n`).exec(replay.out);
      const files: Record<string, string> = { members: "members.ndjson", balances: "balances.ndjson", receivables: "receivables.ndjson", creditLines: "credit-lines.ndjson", financings: "financings.ndjson", payments: "payments.ndjson" };
      for (const [kind, file] of Object.entries(files)) {
        const m = counts(kind);
        expect(m, `${kind} line in:\n${replay.out}`).to.not.equal(null);
        const n = readExitFile(exportDir, file as "members.ndjson").length;
        expect([Number(m![1]), Number(m![2])], kind).to.deep.equal([n, n]);
      }
      expect(replay.out).to.include("every record reproduced");
    });

    it("holds every member, receivable with its lineage, credit line and financing row as the original platform", function () {
      const before = projection(a!.dir);
      const after = projection(b!.dir);
      expect(after.members).to.deep.equal(before.members);
      expect(after.receivables).to.deep.equal(before.receivables);
      expect(after.creditLines).to.deep.equal(before.creditLines);
      expect(after.financings).to.deep.equal(before.financings);
    });

    it("holds every balance and the same total supply on the new chain", async function () {
      const recordA = JSON.parse(readFileSync(join(a!.dir, "deployment.json"), "utf8")) as { contracts: Record<string, string> };
      const recordB = JSON.parse(readFileSync(join(b!.dir, "deployment.json"), "utf8")) as { contracts: Record<string, string> };
      const pa = new JsonRpcProvider(a!.chainUrl, undefined, { cacheTimeout: -1 });
      const pb = new JsonRpcProvider(b!.chainUrl, undefined, { cacheTimeout: -1 });
      try {
        const ta = SettlementToken__factory.connect(recordA.contracts.SettlementToken, pa);
        const tb = SettlementToken__factory.connect(recordB.contracts.SettlementToken, pb);
        expect(await tb.totalSupply()).to.equal(await ta.totalSupply());
        const members = projection(a!.dir).members as Array<{ address: string }>;
        let funded = 0;
        for (const m of members) {
          const bal = await ta.balanceOf(m.address);
          if (bal > 0n) funded++;
          expect(await tb.balanceOf(m.address), m.address).to.equal(bal);
        }
        expect(funded).to.be.greaterThan(1);
      } finally {
        pa.destroy();
        pb.destroy();
      }
    });

    it("keeps every payment of the original platform in the export, each consistent with the replayed receivable", function () {
      const paid = projection(a!.dir).payments as Array<Record<string, string | number>>;
      const exported = readExitFile(exportDir, "payments.ndjson");
      expect(exported.map((p) => [p.txHash, p.logIndex, p.receivableId, p.amount, p.outstandingAfter])).to.deep.equal(
        paid.map((p) => [p.tx_hash, p.log_index, p.receivable_id, BigInt(p.amount).toString(), BigInt(p.outstanding_after).toString()]),
      );
      const replayed = new Map((projection(b!.dir).receivables as Array<{ id: string; outstanding: string }>).map((r) => [r.id, BigInt(r.outstanding).toString()]));
      const last = new Map(exported.map((p) => [p.receivableId, p.outstandingAfter]));
      for (const [id, outstanding] of last) expect(replayed.get(id), id).to.equal(outstanding);
    });

    it("holds every payment row of the original platform, in order: receivable, payer, holder, amount, outstanding after and time", function () {
      // tx_hash, log_index and block_number are the new chain's (the import transaction's); the
      // original ones are in each row's PaymentImported event, checked below.
      const reproducible = (rows: Array<Record<string, unknown>>) =>
        rows.map((p) => ({ receivable_id: p.receivable_id, debtor: p.debtor, holder: p.holder, amount: p.amount, outstanding_after: p.outstanding_after, timestamp: p.timestamp }));
      const before = projection(a!.dir).payments as Array<Record<string, unknown>>;
      const after = projection(b!.dir).payments as Array<Record<string, unknown>>;
      expect(before.length, "the demo repays").to.be.greaterThan(0);
      expect(reproducible(after)).to.deep.equal(reproducible(before));

      const db = new Database(join(b!.dir, "ledger.sqlite"), { readonly: true });
      try {
        const feed = db.prepare("SELECT tx_hash, log_index, args FROM ledger_events WHERE event_name = 'PaymentImported'").all() as Array<{ tx_hash: string; log_index: number; args: string }>;
        const origin = new Map(feed.map((e) => [`${e.tx_hash}:${e.log_index}`, JSON.parse(e.args) as Record<string, string>]));
        const originals = after.map((p) => {
          const args = origin.get(`${String(p.tx_hash)}:${String(p.log_index)}`)!;
          return [args.originalTxHash, Number(args.originalLogIndex), Number(args.originalBlock)];
        });
        expect(originals).to.deep.equal(before.map((p) => [p.tx_hash, p.log_index, Number(p.block_number)]));
      } finally {
        db.close();
      }
    });

    it("refuses a second replay into the same data directory", async function () {
      const res = await run([SCF, "ledger", "replay", "--from", exportDir, "--data-dir", b!.dir], scfEnv);
      expect(res.code).to.not.equal(0);
      expect(res.out).to.include("already holds a ledger");
    });
  });
});
