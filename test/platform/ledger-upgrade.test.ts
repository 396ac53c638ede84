/**
 * Upgrading a real ledger version 1 data directory (test/fixtures/ledger-v1: what v1's `npm start`
 * and demo left behind) to version 2, as an operator does it: `npm run ledger:upgrade` as a child
 * process on a copy, then `npm start` on the same directory.
 *
 * Before upgrading, the test adds one v1 story of its own through v1's contracts (a supplier, a buyer
 * and an auditor registered with the v1 operator key, an invoice tokenised and accepted): the demo's
 * participants' keys were random and are gone, and a new act on an imported receivable needs a key.
 *
 * What must hold: every member, receivable (with lineage), credit line, financing and balance as v1
 * had them (v1's own projections in its database, and v1's contracts, are the reference); a v1
 * document and a v1 invoice presented again are refused with 409; a new act on an imported
 * receivable works; /audit/verify finds no difference; the v1 token refuses transfers; a second run
 * changes nothing; a run killed with SIGKILL and run again ends in the same state.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { Contract, HDNodeWallet, JsonRpcProvider, Mnemonic, Wallet, id as keccakText, keccak256, parseEther, toUtf8Bytes } from "ethers";
import { LEDGER_VERSION } from "../../services/src/chain/deployment";
import { DEVELOPMENT_FINGERPRINT_SALT } from "../../services/src/config/env";
import { entityIdHash } from "../../services/src/onboarding/onboarding.service";
import { invoiceFingerprint, receivableIdOf } from "../../shared/fingerprint";
import { startDurableChain } from "../../platform/chain/durable-chain";
import { V1_TOKEN_ABI } from "../../scripts/lib/ledger-v1";
import { v1Fingerprint } from "../../scripts/lib/v1-invoices";
import { Receivables__factory, SettlementToken__factory } from "../../typechain-types";
import { signTypedData } from "../../shared/client";
import { bearer, signIn } from "../support/auth";
import { HARDHAT_MNEMONIC, freePort } from "../support/chain";
import { freshUscc } from "../support/entity-ids";
import { npmScriptArgs } from "../support/process";

/** better-sqlite3 (no type declarations installed): the little of it read here. */
interface SqliteDb {
  prepare(sql: string): { all(): unknown[]; get(): unknown };
  close(): void;
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const Database = require("better-sqlite3") as new (path: string, options?: { readonly?: boolean }) => SqliteDb;

const ROOT = join(__dirname, "..", "..");
const FIXTURE = join(ROOT, "test", "fixtures", "ledger-v1", "data");
const UPGRADE = npmScriptArgs("ledger:upgrade");
const START = npmScriptArgs("start");
const ZERO = "0x0000000000000000000000000000000000000000";
const DAY = 86_400;

/** The slice of v1's ABI this test writes with (v1's register, tokenise and accept). */
const V1_WRITE_ABI = [
  "function register(address account, uint8 roles, uint48 kycExpiry, bytes2 jurisdiction, bytes32 entityIdHash)",
  "function tokenise(tuple(address debtor, uint256 faceValue, uint256 dueDate, bytes32 documentHash, bytes32 fingerprint) invoice) returns (uint256)",
  "function accept(uint256 id)",
  "function transferFrom(address from, address to, uint256 tokenId)",
];

interface Ours {
  supplier: Wallet;
  buyer: Wallet;
  auditor: Wallet;
  supplierTaxId: string;
  buyerTaxId: string;
  invoiceNumber: string;
  issueDate: string;
  amount: bigint;
  documentHash: string;
  id: string;
}

function run(cmd: string[], env: Record<string, string>, onLine?: (line: string, child: ChildProcess) => void): Promise<{ code: number | null; signal: string | null; out: string; ms: number }> {
  const t0 = Date.now();
  const child = spawn(process.execPath, cmd, { cwd: ROOT, env: { ...embeddedEnv(), LOG_LEVEL: "warn", ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  const feed = (d: Buffer) => {
    const text = d.toString();
    out += text;
    if (onLine) for (const line of text.split("\n")) if (line) onLine(line, child);
  };
  child.stdout!.on("data", feed);
  child.stderr!.on("data", feed);
  return new Promise((resolve) => child.on("exit", (code, signal) => resolve({ code, signal, out, ms: Date.now() - t0 })));
}

/** This process's environment without what would point the embedded platform elsewhere. */
function embeddedEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const k of ["RPC_URL", "DATABASE_URL", "DEPLOYMENT_FILE", "KEYSTORE_DIR", "KEYSTORE_PASSWORD", "INVOICES_FILE"]) delete env[k];
  return env;
}

/** The error a call that must fail failed with. */
async function refusal(p: Promise<unknown>): Promise<string> {
  const err = await p.then(
    () => null,
    (e: unknown) => e as Error,
  );
  expect(err, "the call was refused").to.not.equal(null);
  return `${err!.message} ${JSON.stringify((err as { data?: unknown }).data ?? "")}`;
}

/** Adds a v1 story of the test's own with v1's contracts (see the file header). */
async function addV1Story(dataDir: string): Promise<Ours> {
  const chain = await startDurableChain({ dataDir, port: 0, log: () => undefined });
  const provider = new JsonRpcProvider(chain.url, undefined, { cacheTimeout: -1, pollingInterval: 50 });
  try {
    const deployment = JSON.parse(readFileSync(join(dataDir, "deployment.json"), "utf8")) as { contracts: Record<string, string> };
    const password = readFileSync(join(dataDir, "keys", "password.txt"), "utf8").trim();
    const operator = (await Wallet.fromEncryptedJson(readFileSync(join(dataDir, "keys", "operator.json"), "utf8"), password)).connect(provider);
    const dev = new Wallet(HDNodeWallet.fromMnemonic(Mnemonic.fromPhrase(HARDHAT_MNEMONIC), "m/44'/60'/0'/0/0").privateKey, provider);
    const [supplier, buyer, auditor] = [Wallet.createRandom(), Wallet.createRandom(), Wallet.createRandom()].map((w) => new Wallet(w.privateKey, provider));
    const [supplierTaxId, buyerTaxId, auditorTaxId] = [freshUscc(), freshUscc(), freshUscc()];
    const now = (await provider.getBlock("latest"))!.timestamp;
    const registry = new Contract(deployment.contracts.ParticipantRegistry, V1_WRITE_ABI, operator);
    for (const [w, roles, taxId] of [
      [supplier, 1, supplierTaxId],
      [buyer, 2, buyerTaxId],
      [auditor, 8, auditorTaxId],
    ] as const) {
      await (await registry.register(w.address, roles, now + 365 * DAY, "0x434e", entityIdHash("USCC", taxId))).wait();
      await (await dev.sendTransaction({ to: w.address, value: parseEther("10") })).wait();
    }
    const invoiceNumber = `UPG-${Date.now()}`;
    const issueDate = new Date(now * 1000).toISOString().slice(0, 10);
    const amount = 3_000_000_00n;
    const fingerprint = v1Fingerprint(DEVELOPMENT_FINGERPRINT_SALT, { sellerTaxId: supplierTaxId, buyerTaxId, invoiceNumber, issueDate, amount });
    const documentHash = keccak256(toUtf8Bytes(`${invoiceNumber}.pdf`));
    const receivables = new Contract(deployment.contracts.Receivables, V1_WRITE_ABI, supplier);
    await (await receivables.tokenise({ debtor: buyer.address, faceValue: amount, dueDate: now + 90 * DAY, documentHash, fingerprint })).wait();
    await (await (receivables.connect(buyer) as Contract).accept(fingerprint)).wait();
    return { supplier, buyer, auditor, supplierTaxId, buyerTaxId, invoiceNumber, issueDate, amount, documentHash, id: fingerprint.toLowerCase() };
  } finally {
    provider.destroy();
    await chain.stop();
  }
}

/** The invoice export an operator keeps: the demo's invoices (numbers as the demo wrote them into
 * its document hashes, its constant tax ids) and ours. */
function writeInvoiceExport(file: string, v1db: SqliteDb, ours: Ours): void {
  const rows = ["invoice_number,seller_tax_id,buyer_tax_id,issue_date,amount_fen"];
  const roots = v1db.prepare("SELECT document_hash, face_value, created_block FROM receivables WHERE parent_id IS NULL").all() as Array<{ document_hash: string; face_value: string }>;
  for (const r of roots) {
    const number = Buffer.from(r.document_hash.slice(2), "hex").toString("latin1").replace(/\*+$/, "");
    rows.push(`${number},91331000MA2DEMO001,91330000MA2DEMO002,2026-12-04,${BigInt(r.face_value)}`);
  }
  rows.push(`${ours.invoiceNumber},${ours.supplierTaxId},${ours.buyerTaxId},${ours.issueDate},${ours.amount}`);
  rows.push("NOT-ON-V1,91331000MA2DEMO001,91330000MA2DEMO002,2026-12-04,100");
  writeFileSync(file, rows.join("\n") + "\n");
}

describe("platform: upgrading a ledger version 1 data directory (npm run ledger:upgrade)", function () {
  this.timeout(600_000);
  let tmp: string;
  let dir: string;
  let ours: Ours;
  let v1db: SqliteDb;
  let v1Deployment: { contracts: Record<string, string> };
  let upgrade: { code: number | null; out: string; ms: number };
  let platform: ChildProcess | null = null;
  let url: string;
  let chainUrl: string;

  before(async function () {
    tmp = mkdtempSync(join(tmpdir(), "scf-upgrade-"));
    dir = join(tmp, "data");
    cpSync(FIXTURE, dir, { recursive: true });
    // v1's own projections, as v1's indexer wrote them: the reference for the demo's records.
    cpSync(join(dir, "ledger.sqlite"), join(tmp, "v1-reference.sqlite"));
    v1db = new Database(join(tmp, "v1-reference.sqlite"), { readonly: true });
    v1Deployment = JSON.parse(readFileSync(join(dir, "deployment.json"), "utf8")) as typeof v1Deployment;
    ours = await addV1Story(dir);
    writeInvoiceExport(join(tmp, "invoices.csv"), v1db, ours);
    upgrade = await run(UPGRADE, { DATA_DIR: dir, INVOICES_FILE: join(tmp, "invoices.csv") });
    console.log(`      upgrade of the fixture: ${upgrade.ms} ms\n${upgrade.out.replace(/^/gm, "      | ")}`);
  });

  after(async function () {
    if (platform && platform.exitCode === null) {
      const exited = new Promise((r) => platform!.once("exit", r));
      platform.kill("SIGTERM");
      await exited;
    }
    v1db?.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  it("upgrades, verifies every record, and records the current version with the v1 deployment kept", function () {
    expect(upgrade.code, upgrade.out).to.equal(0);
    expect(upgrade.out).to.include(`Upgraded to ledger version ${LEDGER_VERSION}`).and.include("verified");
    const record = JSON.parse(readFileSync(join(dir, "deployment.json"), "utf8")) as { ledgerVersion: number; contracts: Record<string, string>; previous: { contracts: Record<string, string>; report: string } };
    expect(record.ledgerVersion).to.equal(LEDGER_VERSION);
    expect(record.previous.contracts).to.deep.equal(v1Deployment.contracts);
    expect(JSON.parse(readFileSync(join(dir, "deployment.v1.json"), "utf8"))).to.deep.equal(v1Deployment);
    for (const c of Object.keys(v1Deployment.contracts)) expect(record.contracts[c]).to.not.equal(v1Deployment.contracts[c]);
    const report = JSON.parse(readFileSync(join(dir, "ledger-upgrade", "report.json"), "utf8")) as {
      counts: Record<string, number>;
      fingerprints: { v2IdentitiesReserved: number; invoicesFile: { matched: number; unmatched: unknown[] } };
    };
    const v1Receivables = (v1db.prepare("SELECT COUNT(*) AS n FROM receivables").get() as { n: number }).n;
    const v1Members = (v1db.prepare("SELECT COUNT(*) AS n FROM members").get() as { n: number }).n;
    expect(report.counts.receivables).to.equal(v1Receivables + 1);
    expect(report.counts.members).to.equal(v1Members + 3);
    expect(report.counts.payments).to.equal((v1db.prepare("SELECT COUNT(*) AS n FROM payments").get() as { n: number }).n);
    const roots = (v1db.prepare("SELECT COUNT(*) AS n FROM receivables WHERE parent_id IS NULL").get() as { n: number }).n;
    // Every demo invoice reproduced its v1 fingerprint from the export, and ours; the stray row did not.
    expect(report.fingerprints.invoicesFile.matched).to.equal(roots + 1);
    expect(report.fingerprints.invoicesFile.unmatched).to.have.length(1);
    expect(report.fingerprints.v2IdentitiesReserved).to.equal(roots + 1);
  });

  it("refuses an upgraded directory on a second run, changing nothing", async function () {
    const before = readFileSync(join(dir, "deployment.json"), "utf8");
    const journal = statSync(join(dir, "chain", "journal.ndjson")).size;
    const again = await run(UPGRADE, { DATA_DIR: dir });
    expect(again.code, again.out).to.equal(0);
    expect(again.out).to.include(`already version ${LEDGER_VERSION}`).and.include("nothing to do");
    expect(readFileSync(join(dir, "deployment.json"), "utf8")).to.equal(before);
    expect(statSync(join(dir, "chain", "journal.ndjson")).size).to.equal(journal);
  });

  describe("the platform of the current version on the upgraded directory", function () {
    let auditorToken: string;
    const get = async (path: string, token = auditorToken) => {
      const res = await fetch(`${url}${path}`, { headers: bearer(token) });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };
    const post = async (path: string, token: string, json: unknown) => {
      const res = await fetch(`${url}${path}`, { method: "POST", headers: { ...bearer(token), "content-type": "application/json" }, body: JSON.stringify(json) });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };
    /** Posts an act unsigned, signs the typed data the service answers with, posts it signed. */
    const act = async (wallet: Wallet, token: string, path: string, body: Record<string, unknown>) => {
      const draft = await post(path, token, body);
      if (draft.status !== 200) return draft;
      const td = draft.body.typedData as Parameters<typeof signTypedData>[1] & { message: { nonce: string; deadline: string } };
      const signature = await signTypedData(wallet, td);
      return post(`${path}?wait=true`, token, { ...body, nonce: String(td.message.nonce), deadline: String(td.message.deadline), signature });
    };

    before(async function () {
      const port = await freePort();
      url = `http://127.0.0.1:${port}`;
      // The chain takes any free port (CHAIN_PORT=0, read from the banner): a port chosen here could
      // be taken by another process during the seconds the journal replays.
      const child = spawn(process.execPath, START, {
        cwd: ROOT,
        env: { ...embeddedEnv(), DATA_DIR: dir, PORT: String(port), CHAIN_PORT: "0", LOG_LEVEL: "warn" },
        stdio: ["ignore", "pipe", "pipe"],
      });
      platform = child;
      let out = "";
      child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
      child.stderr!.on("data", (d: Buffer) => (out += d.toString()));
      const until = Date.now() + 120_000;
      for (;;) {
        if (child.exitCode !== null) throw new Error(`npm start exited with ${child.exitCode}:\n${out}`);
        const ok = await fetch(`${url}/health`).then((r) => r.status === 200, () => false);
        if (ok && out.includes("SCF ledger is running")) break;
        if (Date.now() > until) throw new Error(`the platform did not become healthy:\n${out}`);
        await new Promise((r) => setTimeout(r, 250));
      }
      chainUrl = /chain\s+(http:\/\/127\.0\.0\.1:\d+)/.exec(out)![1];
      // The service answering is ours: its EIP-712 domain names the upgraded deployment's contracts.
      const record = JSON.parse(readFileSync(join(dir, "deployment.json"), "utf8")) as { contracts: Record<string, string> };
      expect(JSON.stringify(await (await fetch(`${url}/eip712`)).json())).to.include(record.contracts.Receivables);
      auditorToken = await signIn(url, ours.auditor);
      // The indexer rebuilds the projections from the v2 contracts (the import events): wait for ours.
      for (let i = 0; i < 200; i++) {
        if ((await get(`/receivables/${ours.id}`)).status === 200) break;
        await new Promise((r) => setTimeout(r, 250));
      }
    });

    it("has every v1 member as v1 had it", async function () {
      const page = await get("/participants?limit=100");
      expect(page.status).to.equal(200);
      const byAddress = new Map((page.body.items as Array<{ address: string; status: string; entityIdHash: string; roles: string[] }>).map((p) => [p.address, p]));
      const v1 = v1db.prepare("SELECT address, roles, status, entity_id_hash FROM members").all() as Array<{ address: string; roles: number; status: string; entity_id_hash: string }>;
      for (const m of v1) {
        const p = byAddress.get(m.address);
        expect(p, m.address).to.not.equal(undefined);
        expect(p!.status).to.equal(m.status);
        expect(p!.entityIdHash).to.equal(m.entity_id_hash);
        expect(p!.roles).to.have.length(m.roles.toString(2).replace(/0/g, "").length);
      }
      for (const w of [ours.supplier, ours.buyer, ours.auditor]) expect(byAddress.get(w.address)?.status).to.equal("active");
    });

    it("has every v1 receivable with its amounts, status, holder and lineage", async function () {
      const page = await get("/receivables?limit=100");
      expect(page.status).to.equal(200);
      const byId = new Map((page.body.items as Array<Record<string, string | null | boolean>>).map((r) => [r.id as string, r]));
      const v1 = v1db.prepare("SELECT * FROM receivables").all() as Array<Record<string, string | null | number>>;
      for (const r of v1) {
        const got = byId.get(r.id as string) ?? (await get(`/receivables/${r.id as string}`)).body;
        expect(got, String(r.id)).to.include({
          id: r.id,
          seller: r.seller,
          debtor: r.debtor,
          holder: r.holder,
          status: r.status,
          parentId: r.parent_id,
          faceValue: BigInt(r.face_value as string).toString(),
          outstanding: BigInt(r.outstanding as string).toString(),
        });
      }
      for (const root of v1.filter((r) => r.status === "split")) {
        const lineage = await get(`/receivables/${root.id as string}/lineage`);
        expect(lineage.status).to.equal(200);
        const kids = (lineage.body.children as Array<{ id: string }>).map((c) => c.id).sort();
        expect(kids).to.deep.equal(v1.filter((r) => r.parent_id === root.id).map((r) => r.id).sort());
      }
      expect(byId.get(ours.id)).to.include({ status: "accepted", holder: ours.supplier.address, outstanding: ours.amount.toString() });
    });

    it("has every v1 credit line and financing", async function () {
      const lines = new Map(((await get("/credit-lines?limit=100")).body.items as Array<Record<string, unknown>>).map((l) => [l.id as number, l]));
      for (const l of v1db.prepare("SELECT * FROM credit_lines").all() as Array<Record<string, string | number>>) {
        expect(lines.get(l.id as number), `line ${l.id}`).to.include({
          financier: l.financier,
          limit: BigInt(l.limit_amount as string).toString(),
          utilised: BigInt(l.utilised as string).toString(),
          maxAdvanceBps: l.max_advance_bps,
          discountBps: l.discount_bps,
          open: !!l.open,
        });
      }
      const fins = new Map(((await get("/financings?limit=100")).body.items as Array<Record<string, unknown>>).map((f) => [f.receivableId as string, f]));
      for (const f of v1db.prepare("SELECT * FROM financings").all() as Array<Record<string, string | number>>) {
        expect(fins.get(f.receivable_id as string), `financing ${f.receivable_id}`).to.include({
          lineId: f.line_id,
          supplier: f.supplier,
          financier: f.financier,
          status: f.status,
          principal: BigInt(f.principal as string).toString(),
        });
      }
    });

    it("has every v1 payment as v1's payments projection had it, dated when v1 was paid", async function () {
      const cols = "receivable_id, debtor, holder, amount, outstanding_after, timestamp";
      const v1 = v1db.prepare(`SELECT ${cols} FROM payments ORDER BY block_number, log_index`).all();
      expect(v1.length, "the fixture's demo repays").to.be.greaterThan(0);
      const db = new Database(join(dir, "ledger.sqlite"), { readonly: true });
      try {
        let v2: unknown[] = [];
        for (let i = 0; i < 120 && v2.length < v1.length; i++) {
          v2 = db.prepare(`SELECT ${cols} FROM payments ORDER BY block_number, log_index`).all();
          if (v2.length < v1.length) await new Promise((r) => setTimeout(r, 250));
        }
        // The rows' tx hash, log index and block are the import's on the new contracts.
        expect(v2).to.deep.equal(v1);
      } finally {
        db.close();
      }
    });

    it("has every v1 balance and the same total supply; the v1 token refuses transfers", async function () {
      const provider = new JsonRpcProvider(chainUrl, undefined, { cacheTimeout: -1 });
      try {
        const record = JSON.parse(readFileSync(join(dir, "deployment.json"), "utf8")) as { contracts: Record<string, string> };
        const v1Token = new Contract(v1Deployment.contracts.SettlementToken, V1_TOKEN_ABI, provider);
        const v2Token = SettlementToken__factory.connect(record.contracts.SettlementToken, provider);
        expect(await v2Token.totalSupply()).to.equal(await v1Token.totalSupply());
        const holders = (v1db.prepare("SELECT address FROM members").all() as Array<{ address: string }>).map((m) => m.address);
        let rich = ZERO;
        for (const h of holders) {
          const b = (await v1Token.balanceOf(h)) as bigint;
          expect(await v2Token.balanceOf(h), h).to.equal(b);
          if (b > 0n) rich = h;
        }
        expect(rich).to.not.equal(ZERO);
        expect(await v1Token.paused()).to.equal(true);
        const call = provider.call({ from: rich, to: v1Deployment.contracts.SettlementToken, data: v1Token.interface.encodeFunctionData("transfer", [holders[0], 1n]) });
        expect(await refusal(call), "v1 token transfer").to.match(/revert|EnforcedPause|0xd93c0665/i);
        // Our v1 receivable cannot move on v1 either: its holder is suspended there.
        const v1Receivables = new Contract(v1Deployment.contracts.Receivables, V1_WRITE_ABI, provider);
        const move = provider.call({ from: ours.supplier.address, to: v1Deployment.contracts.Receivables, data: v1Receivables.interface.encodeFunctionData("transferFrom", [ours.supplier.address, ours.buyer.address, ours.id]) });
        expect(await refusal(move), "v1 receivable transfer").to.match(/revert/i);
      } finally {
        provider.destroy();
      }
    });

    it("refuses a v1 document and a v1 invoice presented again (409), and reserves every exported invoice's new identity", async function () {
      const token = await signIn(url, ours.supplier);
      const due = new Date(Date.now() + 60 * DAY * 1000).toISOString();
      const base = { debtor: ours.buyer.address, sellerTaxId: ours.supplierTaxId, buyerTaxId: ours.buyerTaxId, issueDate: ours.issueDate, dueDate: due, amount: "500000" };
      const cancelledDoc = (v1db.prepare("SELECT document_hash FROM receivables WHERE status = 'cancelled'").get() as { document_hash: string }).document_hash;
      const docAgain = await act(ours.supplier, token, "/receivables", { ...base, invoiceNumber: `NEW-${Date.now()}`, documentHash: cancelledDoc });
      expect(docAgain.status, JSON.stringify(docAgain.body)).to.equal(409);
      expect(docAgain.body.code, JSON.stringify(docAgain.body)).to.equal("DocumentAlreadyTokenised");
      const invoiceAgain = await act(ours.supplier, token, "/receivables", { ...base, invoiceNumber: ours.invoiceNumber.toLowerCase(), documentHash: keccakText(`again ${Date.now()}`) });
      expect(invoiceAgain.status, JSON.stringify(invoiceAgain.body)).to.equal(409);
      expect(invoiceAgain.body.code, JSON.stringify(invoiceAgain.body)).to.equal("ReceivableDuplicate");

      // The demo's invoices cannot be presented through the API (their tax ids are not valid USCCs,
      // so no member can hold them), but their v2 identities are reserved on the ledger all the same.
      const provider = new JsonRpcProvider(chainUrl, undefined, { cacheTimeout: -1 });
      try {
        const record = JSON.parse(readFileSync(join(dir, "deployment.json"), "utf8")) as { contracts: Record<string, string> };
        const receivables = Receivables__factory.connect(record.contracts.Receivables, provider);
        const number = Buffer.from((v1db.prepare("SELECT document_hash FROM receivables WHERE parent_id IS NULL").get() as { document_hash: string }).document_hash.slice(2), "hex")
          .toString("latin1")
          .replace(/\*+$/, "");
        const reserved = await receivables.receivable(receivableIdOf(invoiceFingerprint(DEVELOPMENT_FINGERPRINT_SALT, { sellerTaxId: "91331000MA2DEMO001", invoiceNumber: number })));
        expect(reserved.status).to.equal(6n); // a cancelled tombstone
      } finally {
        provider.destroy();
      }
    });

    it("takes a new act on an imported receivable: its holder splits it on the new ledger", async function () {
      const token = await signIn(url, ours.supplier);
      const half = (ours.amount / 2n).toString();
      const res = await act(ours.supplier, token, `/receivables/${ours.id}/split`, { amounts: [half, half] });
      expect(res.status, JSON.stringify(res.body)).to.equal(202);
      expect(res.body.status, JSON.stringify(res.body)).to.equal("confirmed");
      for (let i = 0; i < 100; i++) {
        if ((await get(`/receivables/${ours.id}`)).body.status === "split") break;
        await new Promise((r) => setTimeout(r, 200));
      }
      const lineage = await get(`/receivables/${ours.id}/lineage`);
      expect(lineage.body.children as unknown[]).to.have.length(2);
    });

    it("shows the import in the audit feed with its v1 origin, and /audit/verify finds no difference", async function () {
      const history = await get(`/receivables/${ours.id}/history`);
      const events = history.body as unknown as Array<{ event: string; importedFrom: number | null }>;
      expect(events.find((e) => e.event === "ReceivableImported")?.importedFrom).to.equal(1);
      const verify = await get("/audit/verify?contracts=true");
      expect(verify.status, JSON.stringify(verify.body)).to.equal(200);
      expect(verify.body.differences, JSON.stringify(verify.body.differences)).to.deep.equal([]);
      expect(verify.body.ok).to.equal(true);
    });
  });

  it("--dry-run reads and counts the v1 ledger and changes nothing", async function () {
    const copy = join(tmp, "dry");
    cpSync(FIXTURE, copy, { recursive: true });
    const journal = statSync(join(copy, "chain", "journal.ndjson")).size;
    const res = await run(UPGRADE.concat("--dry-run"), { DATA_DIR: copy });
    expect(res.code, res.out).to.equal(0);
    const v1Receivables = (v1db.prepare("SELECT COUNT(*) AS n FROM receivables").get() as { n: number }).n;
    expect(res.out).to.include(`receivables ${v1Receivables},`).and.include("Dry run: nothing was changed.");
    expect(readFileSync(join(copy, "deployment.json"), "utf8")).to.equal(readFileSync(join(FIXTURE, "deployment.json"), "utf8"));
    expect(statSync(join(copy, "chain", "journal.ndjson")).size).to.equal(journal);
    expect(existsSync(join(copy, "ledger-upgrade"))).to.equal(false);
    expect(existsSync(join(copy, "deployment.v1.json"))).to.equal(false);
  });

  it("npm start against an external chain refuses a v1 deployment before connecting, naming the upgrade command", async function () {
    const res = await run(START, {
      RPC_URL: "http://127.0.0.1:1",
      DATABASE_URL: `sqlite:${join(tmp, "external.sqlite")}`,
      DEPLOYMENT_FILE: join(FIXTURE, "deployment.json"),
      KEYSTORE_PASSWORD: "external-test-password",
    });
    expect(res.code, res.out).to.equal(1);
    expect(res.out).to.include(`The deployment ${join(FIXTURE, "deployment.json")} holds ledger version 1`);
    expect(res.out).to.include(`DEPLOYMENT_FILE=${join(FIXTURE, "deployment.json")}`).and.include("ADMIN_KEYSTORE=").and.include("npm run ledger:upgrade");
  });

  it("killed with SIGKILL midway and run again, ends where an uninterrupted run does", async function () {
    const other = join(tmp, "killed");
    cpSync(FIXTURE, other, { recursive: true });
    let killedAt = "";
    const first = await run(UPGRADE, { DATA_DIR: other }, (line, child) => {
      // Right after the v2 deployment is recorded, before anything is imported.
      if (!killedAt && /^\s+v\d+\s+ParticipantRegistry/.test(line)) {
        killedAt = line.trim();
        child.kill("SIGKILL");
      }
    });
    expect(first.signal, first.out).to.equal("SIGKILL");
    expect(JSON.parse(readFileSync(join(other, "deployment.json"), "utf8")).ledgerVersion, "not upgraded yet").to.equal(undefined);
    const refused = await run(START, { DATA_DIR: other, PORT: String(await freePort()), CHAIN_PORT: String(await freePort()) });
    expect(refused.code, "npm start still refuses the half-upgraded directory").to.equal(1);
    expect(refused.out).to.include("npm run ledger:upgrade");

    // Killed again once everything is imported, before it is verified and sealed.
    let importedLine = "";
    const second = await run(UPGRADE, { DATA_DIR: other }, (line, child) => {
      if (!importedLine && /^\s+imported\s/.test(line)) {
        importedLine = line.trim();
        child.kill("SIGKILL");
      }
    });
    expect(second.signal, second.out).to.equal("SIGKILL");
    expect(second.out).to.include("continuing an interrupted run");
    expect(importedLine).to.match(/members [1-9]\d*, balances [1-9]\d*, receivables [1-9]\d*, payments [1-9]\d*, creditLines [1-9]\d*, financings [1-9]\d*/);

    const third = await run(UPGRADE, { DATA_DIR: other });
    expect(third.code, third.out).to.equal(0);
    expect(third.out).to.include("verified");
    // Nothing is imported twice: every record is already there.
    expect(third.out).to.match(/imported\s+members 0, balances 0, receivables 0, payments 0, creditLines 0, financings 0/);
    const state = JSON.parse(readFileSync(join(other, "ledger-upgrade", "state.json"), "utf8")) as { v2: { contracts: Record<string, string> } };
    const record = JSON.parse(readFileSync(join(other, "deployment.json"), "utf8")) as { contracts: Record<string, string> };
    expect(record.contracts, "the deployment the killed run made is the one used").to.deep.equal(state.v2.contracts);
    expect(killedAt).to.include(state.v2.contracts.Receivables);
    const a = JSON.parse(readFileSync(join(other, "ledger-upgrade", "report.json"), "utf8")) as { counts: unknown };
    const fixtureOnly = JSON.parse(readFileSync(join(other, "ledger-upgrade", "v1-snapshot.json"), "utf8")) as { receivables: unknown[]; members: unknown[] };
    expect(a.counts).to.deep.include({ receivables: fixtureOnly.receivables.length, members: fixtureOnly.members.length });
  });
});
