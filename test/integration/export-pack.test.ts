/**
 * The regulator's export pack against a real `hardhat node` and database (SQLite, or PostgreSQL with
 * TEST_DATABASE=postgres): a small ledger with one of each kind of act (vouchers, acceptances,
 * transfers, a split tree, a financing with its registration number, payments including a held and a
 * claimed one, a default and its write-off), packed by block range and by time; every file's row
 * count equals what happened on the chain (counted from the contracts' own logs), every hash matches,
 * the operator's EIP-191 signature verifies with eth-sig-util, a file with one amount changed fails
 * the check naming the file, and each refusal (role 403, malformed or inverted period 400, a period
 * past the indexed head 409, an unknown file 404).
 */
import { expect } from "chai";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { recoverPersonalSignature } from "@metamask/eth-sig-util";
import { parse as parseCsv } from "csv-parse/sync";
import { encodeBytes32String, hexlify } from "ethers";
import request from "supertest";
import { IndexerService } from "../../services/src/indexer/indexer.service";
import {
  canonicalJson,
  MANIFEST_FILE,
  PACK_FILE_NAMES,
  SIGNATURE_FILE,
  sha256Hex,
  verifyPackDir,
  type PackManifest,
  type PackSignature,
} from "../../shared/export-pack-format";
import { bearer, signIn } from "../support/auth";
import { startChain, type TestChain } from "../support/chain";
import { cleanupEnv, prepareEnv, startService, type RunningService, type TestEnv } from "../support/app";
import { SCENARIO_REGISTRATION, YUAN, buildLedgerScenario, type CallerName, type LedgerScenario } from "../support/ledger-scenario";

const DAY = 86_400;
type Csv = Array<Record<string, string>>;

describe("Audit: the regulator's export pack (hardhat node, real database)", function () {
  this.timeout(600_000);
  let chain: TestChain;
  let env: TestEnv;
  let svc: RunningService;
  let s: LedgerScenario;
  const tokens = {} as Record<CallerName, string>;
  let firstBlock = 0;
  let lastEventBlock = 0;
  let head = 0;
  const dirs: string[] = [];

  const send = async (p: Promise<{ wait(): Promise<unknown> }>) => (await p).wait();
  const get = (who: CallerName, path: string, query: Record<string, string | number>) =>
    request(svc.url).get(path).query(query).set(bearer(tokens[who]));

  before(async function () {
    chain = await startChain();
    env = await prepareEnv(chain);
    svc = await startService(env);
    firstBlock = (await chain.provider.getBlockNumber()) + 1;
    s = await buildLedgerScenario(env);
    const { ledger } = env;
    const w = s.wallets;
    // A payment held while its recipient is suspended, then claimed once reinstated.
    await send(ledger.registry.connect(w.compliance).suspend(w.supplierB.address, encodeBytes32String("REVIEW")));
    await send(ledger.receivables.connect(w.buyer).pay(BigInt(s.ids.bAccepted), 50_000n * YUAN));
    await send(ledger.registry.connect(w.compliance).reinstate(w.supplierB.address));
    await send(ledger.receivables.connect(w.supplierB).claim());
    // The financed receivable (due in 60 days, 30 days' grace) defaults and is written off.
    const now = (await chain.provider.getBlock("latest"))!.timestamp;
    await chain.provider.send("evm_setNextBlockTimestamp", [now + 100 * DAY]);
    await send(ledger.receivables.connect(w.financier).markDefaulted(BigInt(s.ids.financed)));
    await send(ledger.financing.connect(w.financier).writeOff(BigInt(s.ids.financed)));
    lastEventBlock = await chain.provider.getBlockNumber();
    await chain.provider.send("evm_mine", []); // a block after the period's end, so a time period can close
    head = await chain.provider.getBlockNumber();
    await svc.app.get(IndexerService).catchUp();
    for (const name of Object.keys(s.wallets) as CallerName[]) tokens[name] = await signIn(svc.url, s.wallets[name]);
    const reg = await request(svc.url)
      .post(`/financings/${s.ids.financed}/registration`)
      .set(bearer(tokens.financier))
      .send({ registrationNumber: SCENARIO_REGISTRATION });
    expect(reg.status, JSON.stringify(reg.body)).to.equal(200);
  });
  after(async function () {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
    await svc?.close();
    if (env) await cleanupEnv(env);
    await chain?.stop();
  });

  /** Downloads a pack into a fresh directory, as `scf audit pack` does. */
  async function download(query: Record<string, string | number>): Promise<{ dir: string; manifest: PackManifest; files: Record<string, Csv> }> {
    const res = await get("auditor", "/audit/pack", query);
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    const { manifest, signature } = res.body as { manifest: PackManifest; signature: PackSignature };
    const dir = mkdtempSync(join(tmpdir(), "scf-pack-"));
    dirs.push(dir);
    writeFileSync(join(dir, MANIFEST_FILE), canonicalJson(manifest));
    writeFileSync(join(dir, SIGNATURE_FILE), JSON.stringify(signature, null, 2));
    const files: Record<string, Csv> = {};
    for (const f of manifest.files) {
      const r = await get("compliance", `/audit/pack/files/${f.name}`, query).buffer(true).parse((resp, cb) => {
        const chunks: Buffer[] = [];
        resp.on("data", (c: Buffer) => chunks.push(c));
        resp.on("end", () => cb(null, Buffer.concat(chunks)));
      });
      expect(r.status).to.equal(200);
      expect(r.headers["content-type"]).to.match(/^text\/csv/);
      writeFileSync(join(dir, f.name), r.body as Buffer);
      files[f.name] = parseCsv(r.body as Buffer, { columns: true }) as Csv;
    }
    return { dir, manifest, files };
  }

  /** Logs of one event of a contract in the block range, read from the node, not the indexer. */
  async function logs(contract: "receivables" | "financing", event: string, from: number, to: number) {
    const c = env.ledger[contract];
    return c.queryFilter(c.getEvent(event as never), from, to);
  }

  it("packs a block range: one file per kind, row counts equal to the chain's logs, each row located on the chain", async function () {
    const { dir, manifest, files } = await download({ fromBlock: firstBlock, toBlock: head + 1 });
    expect(manifest.files.map((f) => f.name)).to.deep.equal(PACK_FILE_NAMES);
    expect(manifest.blocks).to.deep.equal({ first: firstBlock, last: head });
    expect(manifest.period).to.deep.equal({ fromBlock: firstBlock, toBlock: head + 1 });
    expect(manifest.ledger.chainId).to.equal(String(chain.chainId));
    expect(manifest.ledger.operator).to.equal(env.keys.operator.address);
    expect(manifest.ledger.contracts.Receivables).to.equal(await env.ledger.receivables.getAddress());

    const count = async (c: "receivables" | "financing", e: string) => (await logs(c, e, firstBlock, head)).length;
    const transfers = (await logs("receivables", "Transfer", firstBlock, head)).filter(
      (l) => "args" in l && l.args[0] !== "0x0000000000000000000000000000000000000000" && l.args[1] !== "0x0000000000000000000000000000000000000000",
    ).length;
    const rows = Object.fromEntries(manifest.files.map((f) => [f.name, f.rows]));
    expect(rows).to.deep.equal({
      "vouchers.csv": await count("receivables", "ReceivableTokenised"),
      "acceptances.csv": await count("receivables", "ReceivableAccepted"),
      "transfers.csv": transfers,
      "splits.csv": await count("receivables", "ReceivableSplit"),
      "financings.csv": await count("financing", "FinancingApproved"),
      "payments.csv":
        (await count("receivables", "ReceivablePaid")) +
        (await count("financing", "FinancingRepaid")) +
        (await count("receivables", "PaymentHeld")) +
        (await count("receivables", "PaymentClaimed")),
      "defaults.csv": (await count("receivables", "ReceivableDefaulted")) + (await count("financing", "FinancingWrittenOff")),
    });
    // What the scenario did, so an empty chain query cannot pass for a match.
    expect(rows["vouchers.csv"]).to.equal(12);
    expect(rows["acceptances.csv"]).to.equal(8);
    expect(rows["splits.csv"]).to.equal(4);
    expect(rows["financings.csv"]).to.equal(1);
    expect(rows["defaults.csv"]).to.equal(2);
    expect(transfers).to.be.at.least(4);
    for (const f of manifest.files) {
      const bytes = readFileSync(join(dir, f.name));
      expect(sha256Hex(bytes), f.name).to.equal(f.sha256);
      expect(bytes.length, f.name).to.equal(f.bytes);
      expect(files[f.name].length, f.name).to.equal(f.rows);
      expect(bytes.toString("utf8").split("\r\n")[0].startsWith("txHash,blockNumber,blockHash,logIndex,time,signer"), f.name).to.equal(true);
    }

    // Every row is where it says on the chain.
    for (const row of Object.values(files).flat()) {
      const block = (await chain.provider.getBlock(Number(row.blockNumber)))!;
      expect(row.blockHash).to.equal(block.hash);
      expect(row.time).to.equal(new Date(block.timestamp * 1000).toISOString());
      const receipt = (await chain.provider.getTransactionReceipt(row.txHash))!;
      expect(receipt.blockNumber).to.equal(Number(row.blockNumber));
      expect(receipt.logs.some((l) => l.index === Number(row.logIndex))).to.equal(true);
      expect(row.signer).to.equal(receipt.from);
    }

    // The contents: lineage, financing terms and registration, held and claimed, default and write-off.
    const g1 = files["splits.csv"].find((r) => r.childId === s.ids.g1)!;
    expect(g1).to.include({ parentId: s.ids.c1, rootId: s.ids.root, depth: "2", amount: String(150_000n * YUAN) });
    expect(files["splits.csv"].find((r) => r.childId === s.ids.c0)).to.include({ rootId: s.ids.root, depth: "1" });
    const fin = files["financings.csv"][0];
    expect(fin).to.include({ receivableId: s.ids.financed, financier: s.wallets.financier.address, supplier: s.wallets.supplierA.address });
    expect(fin.registrationNumber).to.equal(SCENARIO_REGISTRATION);
    expect(fin.requestTxHash).to.match(/^0x[0-9a-f]{64}$/);
    expect(fin.requestMinPaid).to.match(/^\d+$/);
    expect(BigInt(fin.paid) <= BigInt(fin.advance)).to.equal(true);
    const pay = files["payments.csv"];
    expect(pay.filter((r) => r.kind === "held")).to.have.length(1);
    expect(pay.find((r) => r.kind === "held")).to.include({ receivableId: s.ids.bAccepted, recipient: s.wallets.supplierB.address, amount: String(50_000n * YUAN) });
    expect(pay.find((r) => r.kind === "claimed")).to.include({ recipient: s.wallets.supplierB.address, amount: String(50_000n * YUAN) });
    expect(pay.filter((r) => r.kind === "paid").map((r) => r.amount)).to.include(String(300_000n * YUAN));
    expect(files["defaults.csv"].map((r) => [r.kind, r.receivableId])).to.deep.equal([
      ["default", s.ids.financed],
      ["write-off", s.ids.financed],
    ]);

    // The manifest verifies, and the signature recovers the operator with a second library.
    const signature = JSON.parse(readFileSync(join(dir, SIGNATURE_FILE), "utf8")) as PackSignature;
    const recovered = recoverPersonalSignature({ data: hexlify(readFileSync(join(dir, MANIFEST_FILE))), signature: signature.signature });
    expect(recovered.toLowerCase()).to.equal(env.keys.operator.address.toLowerCase());
    expect(verifyPackDir(dir, env.keys.operator.address)).to.include({ ok: true });
  });

  it("packs a time period [from, to) to the same rows, and a later period to none of them", async function () {
    const byBlock = await download({ fromBlock: firstBlock, toBlock: head });
    const t0 = (await chain.provider.getBlock(firstBlock))!.timestamp;
    const tEnd = (await chain.provider.getBlock(head))!.timestamp;
    const byTime = await download({ from: new Date(t0 * 1000).toISOString(), to: new Date(tEnd * 1000).toISOString() });
    expect(byTime.manifest.blocks).to.deep.equal({ first: firstBlock, last: head - 1 });
    expect(byTime.manifest.files.map((f) => [f.name, f.rows, f.sha256])).to.deep.equal(byBlock.manifest.files.map((f) => [f.name, f.rows, f.sha256]));
    const after = await download({ fromBlock: lastEventBlock + 1, toBlock: head + 1 });
    expect(after.manifest.files.every((f) => f.rows === 0)).to.equal(true);
  });

  it("a file with one amount changed fails the check, naming the file", async function () {
    const { dir } = await download({ fromBlock: firstBlock, toBlock: head + 1 });
    const path = join(dir, "payments.csv");
    const text = readFileSync(path, "utf8");
    const amount = String(300_000n * YUAN);
    expect(text).to.include(`,${amount},`);
    writeFileSync(path, text.replace(`,${amount},`, `,${300_001n * YUAN},`));
    const check = verifyPackDir(dir);
    expect(check.ok).to.equal(false);
    expect(check.problems).to.have.length(1);
    expect(check.problems[0]).to.match(/^payments\.csv: SHA-256 [0-9a-f]{64} differs from the manifest's/);

    // A manifest edited to match no longer carries the operator's signature.
    const manifest = JSON.parse(readFileSync(join(dir, MANIFEST_FILE), "utf8")) as PackManifest;
    const altered = readFileSync(path);
    manifest.files = manifest.files.map((f) => (f.name === "payments.csv" ? { ...f, sha256: sha256Hex(altered), bytes: altered.length } : f));
    writeFileSync(join(dir, MANIFEST_FILE), canonicalJson(manifest));
    const again = verifyPackDir(dir);
    expect(again.ok).to.equal(false);
    expect(again.problems.join("\n")).to.match(/^manifest\.json: signed by 0x[0-9a-fA-F]{40}, not by the ledger's operator/m);
  });

  it("refuses other roles (403), a malformed or inverted period (400), a period past the indexed head (409) and an unknown file (404)", async function () {
    const ok = { fromBlock: firstBlock, toBlock: head + 1 };
    for (const who of ["supplierA", "buyer", "financier"] as const) {
      const r = await get(who, "/audit/pack", ok);
      expect(r.status, who).to.equal(403);
      expect((await get(who, "/audit/pack/files/vouchers.csv", ok)).status, who).to.equal(403);
    }
    const bad: Array<[Record<string, string | number>, string]> = [
      [{ fromBlock: 10, toBlock: 10 }, "InvalidPeriod"],
      [{ fromBlock: 12, toBlock: 10 }, "InvalidPeriod"],
      [{ from: "2026-02-01T00:00:00Z", to: "2026-01-01T00:00:00Z" }, "InvalidPeriod"],
      [{ from: "2026-01-01T00:00:00Z" }, "InvalidPeriod"],
      [{ from: "2026-01-01T00:00:00Z", to: "2026-02-01T00:00:00Z", fromBlock: 1, toBlock: 2 }, "InvalidPeriod"],
      [{}, "InvalidPeriod"],
      [{ from: "yesterday", to: "2026-02-01T00:00:00Z" }, "ValidationFailed"],
      [{ fromBlock: -1, toBlock: 3 }, "ValidationFailed"],
    ];
    for (const [query, code] of bad) {
      const r = await get("auditor", "/audit/pack", query);
      expect(r.status, JSON.stringify(query)).to.equal(400);
      expect(r.body.code, JSON.stringify(query)).to.equal(code);
    }
    const future = new Date(((await chain.provider.getBlock(head))!.timestamp + 3600) * 1000).toISOString();
    const late: Array<Record<string, string | number>> = [{ fromBlock: firstBlock, toBlock: head + 2 }, { from: "2020-01-01T00:00:00Z", to: future }];
    for (const query of late) {
      const r = await get("auditor", "/audit/pack", query);
      expect(r.status, JSON.stringify(query)).to.equal(409);
      expect(r.body.code).to.equal("PeriodNotIndexed");
      expect((await get("auditor", "/audit/pack/files/vouchers.csv", query)).body.code).to.equal("PeriodNotIndexed");
    }
    const unknown = await get("auditor", "/audit/pack/files/members.csv", ok);
    expect(unknown.status).to.equal(404);
  });
});
