/**
 * ComplianceService against a real database (a temporary SQLite file, or PostgreSQL with
 * TEST_DATABASE=postgres) migrated as at boot, with the shipped fictional UN sample list: one stored
 * row per rule and run, the caller's transaction honoured, duplicates and concentration read from
 * the receivables projection, financing pre-flight from the projection, newest run first.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BadRequestException } from "@nestjs/common";
import { expect } from "chai";
import fc from "fast-check";
import { Wallet } from "ethers";
import { SelectQueryBuilder, type DataSource } from "typeorm";
import { ComplianceRecords } from "../../services/src/compliance/compliance.records";
import { ComplianceService, detailsJson, parseSubject } from "../../services/src/compliance/compliance.service";
import { ComplianceCheckEntity } from "../../services/src/compliance/entities/compliance-check.entity";
import { insertRows } from "../../services/src/database/bulk";
import { CONCENTRATION_FLOOR_FEN } from "../../services/src/compliance/rules/invoice.rules";
import { APPLICATION_RULES } from "../../services/src/compliance/rules/party.rules";
import { SanctionsScreener } from "../../services/src/compliance/sanctions/sanctions-screener";
import { loadConfig, type AppConfig } from "../../services/src/config/env";
import { openDatabase } from "../../services/src/database/data-source";
import { DbWriter } from "../../services/src/database/db-writer";
import { CreditLineEntity, ReceivableEntity, type ReceivableStatus } from "../../services/src/read-model/entities/projections.entity";
import { createTestDatabase, type TestDatabase } from "../support/app";
import { receivableIdHex } from "../../shared/ids";
import { receivableIdOf } from "../../shared/fingerprint";

const ROOT = join(__dirname, "..", "..");
const DAY = 86_400_000;
const NOW = new Date("2030-06-01T00:00:00Z");
const fp = (n: number) => "0x" + n.toString(16).padStart(64, "0");

describe("compliance: ComplianceService on a real database", function () {
  let dir: string;
  let db: TestDatabase;
  let ds: DataSource;
  let config: AppConfig;
  let svc: ComplianceService;
  let records: ComplianceRecords;
  let nextId = 1;

  const application = (over: Record<string, unknown> = {}) => ({
    id: `app-${nextId++}`,
    legalName: "Nowhere Paper Mills Co., Ltd.",
    entityId: "91330106MA2CHK7T11",
    entityIdType: "USCC" as const,
    jurisdiction: "CN",
    requestedRoles: 1,
    documentCount: 1,
    ...over,
  });

  async function receivable(seller: string, debtor: string, outstanding: bigint, status: ReceivableStatus, id = fp(nextId++)) {
    await ds.getRepository(ReceivableEntity).insert({
      id,
      seller,
      debtor,
      holder: status === "split" || status === "cancelled" ? null : seller,
      faceValue: outstanding,
      outstanding,
      dueDate: Math.floor(NOW.getTime() / 1000) + 60 * 86_400,
      status,
      financed: status === "financed",
      parentId: null,
      documentHash: null,
      createdBlock: 1,
      createdTx: "0x" + "11".repeat(32),
      updatedBlock: 1,
    });
    return id;
  }

  /** A receivable in the projection under the id a fingerprint becomes; returns the fingerprint. */
  async function tokenisedFingerprint(seller: string, debtor: string, outstanding: bigint, status: ReceivableStatus): Promise<string> {
    const fingerprint = fp(nextId++);
    await receivable(seller, debtor, outstanding, status, receivableIdHex(receivableIdOf(fingerprint)));
    return fingerprint;
  }

  const invoice = (seller: string, debtor: string, faceValue: bigint, fingerprint = fp(1_000_000 + nextId++)) => ({
    subjectId: `inv-${nextId++}`,
    seller,
    debtor,
    faceValue,
    issueDate: new Date(NOW.getTime() - DAY),
    dueDate: new Date(NOW.getTime() + 90 * DAY),
    fingerprint,
    now: NOW,
  });

  before(async function () {
    dir = mkdtempSync(join(tmpdir(), "scf-compliance-"));
    db = await createTestDatabase(dir);
    config = loadConfig({ NODE_ENV: "test", DATABASE_URL: db.url, ALLOWED_JURISDICTIONS: "CN,HK,SG" }, ROOT);
    ds = await openDatabase(config.database);
    const screener = new SanctionsScreener(config);
    screener.onModuleInit();
    records = new ComplianceRecords(ds.getRepository(ComplianceCheckEntity));
    svc = new ComplianceService(config, screener, records, new DbWriter(ds));
  });

  after(async function () {
    await ds?.destroy();
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("loads the configured sample list (SANCTIONS_LIST_FILE default) and screens names without storing anything", async function () {
    expect(config.paths.sanctions).to.equal(join(ROOT, "services/data/sanctions/un-consolidated-sample.xml"));
    const before = await ds.getRepository(ComplianceCheckEntity).count();
    expect(svc.screenName("Hongxu Maoyi")[0]).to.include({ reference: "XXe.001", result: "fail" });
    expect(svc.screenName("Nowhere Paper Mills")).to.deep.equal([]);
    expect(await ds.getRepository(ComplianceCheckEntity).count()).to.equal(before);
  });

  describe("screenApplication()", function () {
    it("stores one check per rule under one run id and returns the run", async function () {
      const a = application();
      const run = await svc.screenApplication(null, a);
      expect(run).to.include({ subjectType: "application", subjectId: a.id, overall: "pass" });
      expect(run.runId).to.match(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      const rows = await svc.listChecks("application", a.id);
      expect(rows.map((r) => r.ruleCode)).to.deep.equal(run.outcomes.map((o) => o.code));
      expect(rows.every((r) => r.runId === run.runId && r.subjectType === "application" && r.subjectId === a.id)).to.equal(true);
      expect(new Set(rows.map((r) => r.createdAt)).size).to.equal(1);
      const sanctions = rows.find((r) => r.ruleCode === "SANCTIONS_SCREENING")!;
      expect(sanctions.details).to.deep.include({ screenedName: a.legalName, matches: [] });
      expect((sanctions.details as { list: { source: string; entries: number } }).list).to.include({
        source: "un-consolidated-sample.xml",
        entries: 7,
      });
    });

    it("fails a listed applicant and records the match; overall is fail", async function () {
      const a = application({ legalName: "鸿虚贸易有限公司", entityId: "12100000HJKLMNPQR9" });
      const run = await svc.screenApplication(null, a);
      expect(run.overall).to.equal("fail");
      const s = run.outcomes.find((o) => o.code === "SANCTIONS_SCREENING")!;
      expect(s.result).to.equal("fail");
      const stored = (await svc.listChecks("application", a.id)).find((r) => r.ruleCode === "SANCTIONS_SCREENING")!;
      expect(stored.result).to.equal("fail");
      expect((stored.details as { matches: Array<{ reference: string }> }).matches[0].reference).to.equal("XXe.001");
    });

    it("reviews when only a review rule trips", async function () {
      const run = await svc.screenApplication(null, application({ jurisdiction: "HK" }));
      expect(run.overall).to.equal("review");
    });

    it("stores in the caller's transaction: nothing remains when the caller rolls back", async function () {
      const a = application();
      const err = await ds
        .transaction(async (m) => {
          await svc.screenApplication(m, a);
          expect(await m.countBy(ComplianceCheckEntity, { subjectId: a.id })).to.equal(APPLICATION_RULES.length);
          throw new Error("caller aborts");
        })
        .catch((e: Error) => e);
      expect(err).to.be.instanceOf(Error);
      expect(await svc.listChecks("application", a.id)).to.deep.equal([]);
      await new DbWriter(ds).write((m) => svc.screenApplication(m, a));
      expect(await svc.listChecks("application", a.id)).to.have.length(APPLICATION_RULES.length);
    });
  });

  describe("screenMember()", function () {
    it("stores checks under member:<address>, with KYC expiry judged at the given time", async function () {
      const address = Wallet.createRandom().address;
      const run = await svc.screenMember(null, {
        address,
        legalName: "Nowhere Paper Mills",
        jurisdiction: "SG",
        kycExpiry: Math.floor(NOW.getTime() / 1000) - 1,
        now: NOW,
      });
      expect(run.overall).to.equal("fail");
      const rows = await svc.listChecks("member", address);
      expect(rows.map((r) => [r.ruleCode, r.result])).to.deep.equal([
        ["SANCTIONS_SCREENING", "pass"],
        ["LEGAL_NAME_SINGLE_SCRIPT", "pass"],
        ["JURISDICTION_ALLOWED", "pass"],
        ["KYC_NOT_EXPIRED", "fail"],
      ]);
    });
  });

  describe("checkInvoice()", function () {
    it("fails a fingerprint that is already a receivable in the projection", async function () {
      const seller = Wallet.createRandom().address;
      const debtor = Wallet.createRandom().address;
      const f = await tokenisedFingerprint(seller, debtor, 1_000n, "paid");
      const run = await svc.checkInvoice(null, invoice(seller, debtor, 500n, f.toUpperCase().replace("0X", "0x")));
      expect(run.overall).to.equal("fail");
      const dup = run.outcomes.find((o) => o.code === "INVOICE_DUPLICATE_FINGERPRINT")!;
      expect(dup.result).to.equal("fail");
      expect(dup.details).to.deep.equal({ fingerprint: f, receivableId: receivableIdHex(receivableIdOf(f)), existingStatus: "paid" });
      const fresh = await svc.checkInvoice(null, invoice(seller, debtor, 500n));
      expect(fresh.outcomes.find((o) => o.code === "INVOICE_DUPLICATE_FINGERPRINT")!.result).to.equal("pass");
    });

    it("measures concentration on the seller's non-final receivables only, summing 20-digit amounts exactly", async function () {
      const seller = Wallet.createRandom().address;
      const debtor = Wallet.createRandom().address;
      const other = Wallet.createRandom().address;
      const big = 9_000_000_000_000_000_000n; // above 2^63: must not pass through a SQL integer or a double
      await receivable(seller, debtor, big, "issued");
      await receivable(seller, debtor, 1n, "accepted");
      await receivable(seller, other, big, "financed");
      await receivable(seller, other, 1n, "financed");
      // Final or burned receivables do not count, nor another seller's.
      await receivable(seller, debtor, big, "paid");
      await receivable(seller, debtor, big, "cancelled");
      await receivable(seller, debtor, big, "split");
      await receivable(seller, debtor, big, "defaulted");
      await receivable(other, debtor, big, "issued");
      // Addresses given in lower case still find the checksummed projection rows.
      const run = await svc.checkInvoice(null, invoice(seller.toLowerCase(), debtor.toLowerCase(), 2n));
      const c = run.outcomes.find((o) => o.code === "DEBTOR_CONCENTRATION_LIMIT")!;
      expect(c.details).to.include({
        debtorOutstanding: (big + 3n).toString(),
        sellerOutstanding: (2n * big + 4n).toString(),
        openReceivables: 4,
        applied: true,
      });
      // (big + 3) / (2 big + 4) is a hair above one half: flagged.
      expect(c.result).to.equal("review");
      expect(c.details).to.include({ sharePercent: "50.00" });
    });

    it("passes a concentrated but small book below the floor, and flags it for review once above", async function () {
      const seller = Wallet.createRandom().address;
      const debtor = Wallet.createRandom().address;
      const first = await svc.checkInvoice(null, invoice(seller, debtor, CONCENTRATION_FLOOR_FEN - 1n));
      expect(first.outcomes.find((o) => o.code === "DEBTOR_CONCENTRATION_LIMIT")).to.deep.include({ result: "pass" });
      await receivable(seller, debtor, CONCENTRATION_FLOOR_FEN, "accepted");
      const second = await svc.checkInvoice(null, invoice(seller, debtor, 1n));
      expect(second.outcomes.find((o) => o.code === "DEBTOR_CONCENTRATION_LIMIT")!.result).to.equal("review");
    });
  });

  describe("ComplianceRecords.openBook()", function () {
    const OPEN: ReceivableStatus[] = ["issued", "accepted", "financed"];
    const CLOSED: ReceivableStatus[] = ["paid", "cancelled", "split", "defaulted"];

    /** What openBook must answer: the bigint sums of the open rows, per debtor (lower case). */
    function expected(rows: Array<{ debtor: string; amount: bigint; status: ReceivableStatus }>) {
      const byDebtor = new Map<string, bigint>();
      let total = 0n;
      let receivables = 0;
      for (const r of rows.filter((x) => OPEN.includes(x.status))) {
        byDebtor.set(r.debtor.toLowerCase(), (byDebtor.get(r.debtor.toLowerCase()) ?? 0n) + r.amount);
        total += r.amount;
        receivables++;
      }
      return { total, byDebtor, receivables };
    }

    it("sums any book exactly per debtor, amounts up to 20 digits (property: equals the bigint sums)", async function () {
      this.timeout(120_000);
      const debtors = [Wallet.createRandom().address, Wallet.createRandom().address, Wallet.createRandom().address];
      const amount = fc.oneof(fc.constantFrom(0n, 1n, 9_999_999_999n, 10_000_000_000n, 10n ** 20n - 1n), fc.bigInt({ min: 0n, max: 10n ** 20n - 1n }));
      const row = fc.record({ debtor: fc.constantFrom(...debtors), amount, status: fc.constantFrom(...OPEN, ...CLOSED) });
      await fc.assert(
        fc.asyncProperty(fc.array(row, { maxLength: 24 }), async (rows) => {
          const seller = Wallet.createRandom().address;
          for (const r of rows) await receivable(seller, r.debtor, r.amount, r.status);
          expect(await records.openBook(ds.manager, seller)).to.deep.equal(expected(rows));
        }),
        { numRuns: 30 },
      );
    });

    it("reads one row per debtor from the database, not one per open receivable", async function () {
      const seller = Wallet.createRandom().address;
      const [a, b] = [Wallet.createRandom().address, Wallet.createRandom().address];
      const rows = Array.from({ length: 40 }, (_, i) => ({ debtor: i % 2 ? a : b, amount: 10n ** 19n + BigInt(i), status: "accepted" as ReceivableStatus }));
      for (const r of rows) await receivable(seller, r.debtor, r.amount, r.status);
      const getRawMany = SelectQueryBuilder.prototype.getRawMany;
      const returned: number[] = [];
      SelectQueryBuilder.prototype.getRawMany = async function (this: SelectQueryBuilder<object>) {
        const out = await getRawMany.call(this);
        returned.push(out.length);
        return out;
      } as typeof getRawMany;
      try {
        expect(await records.openBook(ds.manager, seller)).to.deep.equal(expected(rows));
      } finally {
        SelectQueryBuilder.prototype.getRawMany = getRawMany;
      }
      expect(returned).to.deep.equal([2]);
    });

    it("still sums exactly when a stored amount is not 20 digits (read row by row)", async function () {
      const seller = Wallet.createRandom().address;
      const debtor = Wallet.createRandom().address;
      await receivable(seller, debtor, 10n ** 19n, "issued");
      const short = await receivable(seller, debtor, 5n, "issued");
      // No code path writes an unpadded amount; a hand-edited row must not be misread as 5 × 10^10.
      await ds.getRepository(ReceivableEntity).createQueryBuilder().update().set({ outstanding: () => "'5'" }).where("id = :id", { id: short }).execute();
      expect((await records.openBook(ds.manager, seller)).total).to.equal(10n ** 19n + 5n);
    });
  });

  describe("checkInvoices() (a batch)", function () {
    it("reads the facts once for the batch, counts its earlier invoices as exposure, and stores every run in one go", async function () {
      const seller = Wallet.createRandom().address;
      const debtor = Wallet.createRandom().address;
      const other = Wallet.createRandom().address;
      const big = 9_000_000_000_000_000_000n; // above 2^63
      await receivable(seller, other, big, "accepted");
      const taken = await tokenisedFingerprint(Wallet.createRandom().address, debtor, 5n, "issued");
      const batch = [
        invoice(seller, debtor, big),
        invoice(seller.toLowerCase(), debtor.toLowerCase(), big),
        invoice(seller, debtor, 7n, taken),
      ];
      const reads: string[] = [];
      for (const name of ["tokenisedStatuses", "openBook"] as const) {
        const original = records[name].bind(records) as (...a: unknown[]) => unknown;
        (records as unknown as Record<string, unknown>)[name] = (...a: unknown[]) => (reads.push(name), original(...a));
      }
      let runs;
      try {
        runs = await svc.checkInvoices(null, batch);
      } finally {
        delete (records as unknown as Record<string, unknown>).tokenisedStatuses;
        delete (records as unknown as Record<string, unknown>).openBook;
      }
      // One read of the fingerprints and one of the (single) seller's book, however long the batch.
      expect(reads).to.deep.equal(["tokenisedStatuses", "openBook"]);
      expect(runs.map((r) => r.subjectId)).to.deep.equal(batch.map((b) => b.subjectId));
      const conc = runs.map((r) => r.outcomes.find((o) => o.code === "DEBTOR_CONCENTRATION_LIMIT")!.details);
      // The first sees only the projection; each later one also the batch's invoices before it.
      expect(conc[0]).to.include({ debtorOutstanding: big.toString(), sellerOutstanding: (2n * big).toString(), openReceivables: 1 });
      expect(conc[1]).to.include({ debtorOutstanding: (2n * big).toString(), sellerOutstanding: (3n * big).toString(), openReceivables: 2 });
      expect(conc[2]).to.include({ debtorOutstanding: (2n * big + 7n).toString(), openReceivables: 3 });
      expect(runs.map((r) => r.outcomes.find((o) => o.code === "INVOICE_DUPLICATE_FINGERPRINT")!.result)).to.deep.equal([
        "pass",
        "pass",
        "fail",
      ]);
      expect(runs.map((r) => r.overall)).to.deep.equal(["pass", "review", "fail"]);
      for (const r of runs) {
        const rows = await svc.listChecks("invoice", r.subjectId);
        expect(rows.map((x) => [x.runId, x.ruleCode, x.result])).to.deep.equal(r.outcomes.map((o) => [r.runId, o.code, o.result]));
      }
    });

    it("as a preview keeps only the runs that found something", async function () {
      const seller = Wallet.createRandom().address;
      const debtor = Wallet.createRandom().address;
      const taken = await tokenisedFingerprint(Wallet.createRandom().address, debtor, 5n, "issued");
      const batch = [invoice(seller, debtor, 10n), invoice(seller, debtor, 10n, taken)];
      const runs = await svc.checkInvoices(null, batch, { storePassing: false });
      expect(runs.map((r) => r.overall)).to.deep.equal(["pass", "fail"]);
      expect(await svc.listChecks("invoice", batch[0].subjectId)).to.have.length(0);
      expect(await svc.listChecks("invoice", batch[1].subjectId)).to.have.length(runs[1].outcomes.length);
    });
  });

  describe("checkFinancing()", function () {
    it("checks the request against the projected receivable and credit line", async function () {
      const seller = Wallet.createRandom().address;
      const debtor = Wallet.createRandom().address;
      const id = await receivable(seller, debtor, 1_000_000n, "accepted");
      await ds.getRepository(CreditLineEntity).insert({
        id: 4242,
        financier: Wallet.createRandom().address,
        debtor,
        supplier: null,
        limit: 10_000_000n,
        utilised: 0n,
        maxAdvanceBps: 8_000,
        discountBps: 500,
        expiry: Math.floor(NOW.getTime() / 1000) + 365 * 86_400,
        open: true,
        updatedBlock: 1,
      });
      const ok = await svc.checkFinancing(null, { receivableId: id, requester: seller, lineId: 4242, now: NOW });
      expect(ok.overall, JSON.stringify(ok.outcomes)).to.equal("pass");
      expect(ok).to.include({ subjectType: "financing", subjectId: id });
      const wrong = await svc.checkFinancing(null, { receivableId: id, requester: debtor, lineId: 77, now: NOW });
      expect(wrong.outcomes.filter((o) => o.result === "fail").map((o) => o.code)).to.deep.equal([
        "FINANCING_REQUESTER_IS_HOLDER",
        "FINANCING_LINE_AVAILABLE",
        "FINANCING_LINE_HEADROOM",
      ]);
      expect(await svc.listChecks("financing", id)).to.have.length(10);
    });
  });

  describe("listChecks()", function () {
    it("returns the newest run first and each run's rules in evaluation order, even within one millisecond", async function () {
      const a = application();
      const runs = [];
      // Freeze the clock: the three runs share created_at, so only the time-ordered run ids order them.
      const realNow = Date.now;
      const frozen = realNow();
      Date.now = () => frozen;
      try {
        for (let i = 0; i < 3; i++) runs.push(await svc.screenApplication(null, { ...a, documentCount: i }));
      } finally {
        Date.now = realNow;
      }
      const rows = await svc.listChecks("application", a.id);
      expect(new Set(rows.map((r) => r.createdAt))).to.deep.equal(new Set([frozen]));
      expect(rows).to.have.length(3 * APPLICATION_RULES.length);
      const runOrder = [...new Set(rows.map((r) => r.runId))];
      expect(runOrder).to.deep.equal(runs.map((r) => r.runId).reverse());
      for (const run of runs) {
        expect(rows.filter((r) => r.runId === run.runId).map((r) => r.ruleCode)).to.deep.equal(run.outcomes.map((o) => o.code));
      }
      expect(rows[0].createdAt).to.be.a("number");
    });

    it("returns nothing for an unknown subject", async function () {
      expect(await svc.listChecks("invoice", "no-such-invoice")).to.deep.equal([]);
    });
  });

  describe("stored details", function () {
    // The rows of a run are written with their details serialised once (detailsJson, stored as is);
    // they were converted to a JSON-safe value (stringify with bigints as decimal strings, then
    // parse) and serialised again by the driver's simple-json (the same bulk insert, without
    // `stored`). Both must store the same text.
    const oldJsonSafe = (d: Record<string, unknown>) =>
      JSON.parse(JSON.stringify(d, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v))) as Record<string, unknown>;

    it("stores the text simple-json stored for the JSON-safe value, and reads back the same value (property)", async function () {
      const repo = ds.getRepository(ComplianceCheckEntity);
      let n = 0;
      const row = (id: string) => ({ id, runId: `run-${id}`, subjectType: "invoice", subjectId: "details", ruleCode: "R", result: "pass" as const, reason: "r", createdAt: 1 });
      await fc.assert(
        fc.asyncProperty(fc.object({ withBigInt: true, maxDepth: 3 }), fc.boolean(), async (details, empty) => {
          const d = empty ? {} : details;
          const [a, b] = [`dn-${++n}`, `do-${n}`];
          await records.storeRun(ds.manager, [{ ...row(a), details: detailsJson(d) }]);
          await insertRows(ds.manager, ComplianceCheckEntity, [Object.assign(new ComplianceCheckEntity(), row(b), { details: oldJsonSafe(d) })]);
          const raw = (await repo
            .createQueryBuilder("c")
            .select("c.id", "id")
            .addSelect("c.details", "details")
            .where("c.id IN (:...ids)", { ids: [a, b] })
            .getRawMany()) as Array<{ id: string; details: string }>;
          const text = (id: string) => raw.find((r) => r.id === id)!.details;
          expect(text(a)).to.be.a("string").and.equal(text(b));
          const [na, nb] = [await repo.findOneByOrFail({ id: a }), await repo.findOneByOrFail({ id: b })];
          expect(na.details).to.deep.equal(nb.details).and.deep.equal(oldJsonSafe(d));
        }),
        { numRuns: 150 },
      );
    });

    it("stores null details as NULL", async function () {
      await records.storeRun(ds.manager, [
        { id: "dnull-1", runId: "run-null", subjectType: "invoice", subjectId: "null", ruleCode: "R", result: "pass", reason: "r", details: null, createdAt: 1 },
      ]);
      expect((await ds.getRepository(ComplianceCheckEntity).findOneByOrFail({ id: "dnull-1" })).details).to.equal(null);
    });
  });

  describe("checksOf() and parseSubject()", function () {
    it("maps stored rows to the response shape with ISO times", async function () {
      const a = application();
      const run = await svc.screenApplication(null, a);
      const out = await svc.checksOf(`application:${a.id}`);
      expect(out).to.have.length(APPLICATION_RULES.length);
      expect(out[0]).to.have.all.keys("runId", "subjectType", "subjectId", "code", "result", "reason", "details", "createdAt");
      expect(out[0]).to.include({ runId: run.runId, code: "SANCTIONS_SCREENING", result: "pass" });
      expect(new Date(out[0].createdAt).toISOString()).to.equal(out[0].createdAt);
    });

    it("splits at the first colon and refuses malformed subjects with a 400", function () {
      expect(parseSubject("financing:0xab:cd")).to.deep.equal({ subjectType: "financing", subjectId: "0xab:cd" });
      for (const bad of ["application", "application:", "thing:1", ":1", "member:a b", "member:" + "x".repeat(81)]) {
        expect(() => parseSubject(bad), bad).to.throw(BadRequestException, /subject must be "<type>:<id>"/);
      }
    });

    it("refuses to run on an empty or over-long subject id", async function () {
      const err = await svc.screenApplication(null, application({ id: "" })).catch((e: unknown) => e);
      expect(err).to.be.instanceOf(BadRequestException);
    });
  });
});
