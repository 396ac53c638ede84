/**
 * The 2025 voucher rules made visible, end to end on a `hardhat node` and a real database (SQLite,
 * or PostgreSQL with TEST_DATABASE=postgres). The ledger is driven on-chain by the participants' own
 * wallets, with block times set through the node's time controls so every boundary is exact:
 * - the six-month term: due exactly six calendar months after tokenisation (not flagged) and one day
 *   later (flagged), in reads, the list filter, a split part, the compliance verdict and the export;
 * - a buyer's payment record over known on-time, late, defaulted, past-due and not-yet-due debts;
 * - registration numbers: found by number, flagged when unknown REGISTRATION_GRACE_DAYS after the
 *   approval, given later by the financier and checked against the on-chain hash;
 * each with its refusals (wrong role, malformed query, unknown buyer or financing).
 */
import { expect } from "chai";
import { MaxUint256, ZeroAddress, id as keccakId, keccak256, sha256, toUtf8Bytes, type Wallet } from "ethers";
import { getDataSourceToken } from "@nestjs/typeorm";
import request from "supertest";
import { DataSource } from "typeorm";
import { parse as parseCsv } from "csv-parse/sync";
import { ActEntity } from "../../services/src/acts/entities/act.entity";
import { addCalendarMonthsUtc } from "../../services/src/compliance/voucher-term";
import { RegistrationNumberEntity } from "../../services/src/financing/entities/registration-number.entity";
import { anyTerms, approvalAtLineTerms, registrationHash } from "../../shared/financing-terms";
import { IndexerService } from "../../services/src/indexer/indexer.service";
import { entityIdHash } from "../../services/src/onboarding/onboarding.service";
import { receivableIdOf } from "../../shared/fingerprint";
import { attestInvoices, termsOf, type LedgerInvoice } from "../support/acts";
import { cleanupEnv, prepareEnv, startService, usePostgres, type RunningService, type TestEnv } from "../support/app";
import { bearer, signIn } from "../support/auth";
import { startChain, type TestChain } from "../support/chain";
import { freshUscc } from "../support/entity-ids";
import { receivableIdHex } from "../../shared/ids";
import { ROLE_BITS } from "../../shared/roles";

const DAY = 86_400;
const GRACE_DAYS = 10;
const ROLES = {
  supplier: ROLE_BITS.supplier,
  supplier2: ROLE_BITS.supplier,
  buyer: ROLE_BITS.buyer,
  buyer2: ROLE_BITS.buyer,
  financier: ROLE_BITS.financier,
  financier2: ROLE_BITS.financier,
  auditor: ROLE_BITS.auditor,
} as const;
type Member = keyof typeof ROLES;
type Caller = Member | "compliance" | "stranger";
const iso = (s: number) => new Date(s * 1000).toISOString();

describe("Voucher rules: term review, payment records, registration references (hardhat node, real database)", function () {
  this.timeout(600_000);
  let chain: TestChain;
  let env: TestEnv;
  let svc: RunningService;
  const w = {} as Record<Caller, Wallet>;
  const tokens = {} as Record<Caller, string>;
  const taxIds = {} as Record<Member, string>;
  /** Noon UTC of the day after the test starts: every receivable below is tokenised at T0 or just after. */
  let T0 = 0;
  let seq = 0;
  const accepting = new Map<bigint, ReturnType<typeof termsOf>>();

  const send = async (p: Promise<{ wait(): Promise<unknown> }>) => (await p).wait();
  const at = (ts: number) => chain.provider.send("evm_setNextBlockTimestamp", [ts]);
  const latest = async () => (await chain.provider.getBlock("latest"))!.timestamp;
  const indexed = () => svc.app.get(IndexerService).catchUp();
  const get = (who: Caller, path: string) => request(svc.url).get(path).set(bearer(tokens[who]));
  const post = (who: Caller, path: string, body: object) => request(svc.url).post(path).set(bearer(tokens[who])).send(body);

  async function tokenise(seller: Member, debtor: Member, faceValue: bigint, dueDate: number, when?: number): Promise<bigint> {
    seq += 1;
    const inv: LedgerInvoice = {
      debtor: w[debtor].address,
      faceValue,
      dueDate,
      documentHash: sha256(toUtf8Bytes(`voucher doc ${seq} ${Math.random()}`)),
      fingerprint: keccak256(toUtf8Bytes(`voucher fp ${seq} ${Math.random()}`)),
    };
    const att = await attestInvoices(env.keys.compliance, { chainId: chain.chainId, receivables: await env.ledger.receivables.getAddress() }, w[seller].address, [inv], false);
    if (when !== undefined) await at(when);
    await send(env.ledger.receivables.connect(w[seller]).tokenise(inv, att));
    const id = receivableIdOf(inv.fingerprint);
    accepting.set(id, termsOf(w[seller].address, inv));
    return id;
  }
  const accept = (debtor: Member, id: bigint) => send(env.ledger.receivables.connect(w[debtor]).accept(id, accepting.get(id)!));
  async function pay(debtor: Member, id: bigint, amount: bigint, when: number): Promise<void> {
    await at(when);
    await send(env.ledger.receivables.connect(w[debtor]).pay(id, amount));
  }

  before(async function () {
    chain = await startChain();
    const wall = Math.floor(Date.now() / 1000);
    T0 = (Math.floor(wall / DAY) + 1) * DAY + 12 * 3600;
    // A block may already carry this second (the node mines at start): the next one must be later.
    await at(Math.max(wall, (await latest()) + 1));
    await chain.provider.send("evm_mine", []);
    env = await prepareEnv(chain, { REGISTRATION_GRACE_DAYS: String(GRACE_DAYS), KYC_JOB_INTERVAL_MS: String(3_600_000) });
    svc = await startService(env);
    const { registry, token, receivables, financing } = env.ledger;
    const kycExpiry = wall + 3 * 365 * DAY;
    for (const name of Object.keys(ROLES) as Member[]) {
      w[name] = await chain.fundedWallet();
      taxIds[name] = freshUscc();
      await send(registry.connect(env.keys.operator).register(w[name].address, ROLES[name], kycExpiry, "0x434e", entityIdHash("USCC", taxIds[name])));
    }
    w.compliance = await chain.fundedWallet();
    // Signed in, but not a member of the ledger.
    w.stranger = await chain.fundedWallet();
    const admin = chain.account(0);
    await send(registry.connect(admin).grantRole(keccakId("COMPLIANCE_OFFICER"), w.compliance.address));
    for (const name of ["buyer", "buyer2", "financier", "financier2"] as const) {
      await send(token.connect(admin).mint(w[name].address, 100_000_000_00n));
      await send(token.connect(w[name]).approve(name.startsWith("buyer") ? await receivables.getAddress() : await financing.getAddress(), MaxUint256));
    }
    await indexed();
    for (const name of Object.keys(w) as Caller[]) tokens[name] = await signIn(svc.url, w[name]);
  });
  after(async function () {
    await svc?.close();
    if (env) await cleanupEnv(env);
    await chain?.stop();
  });

  // ------------------------------------------------------------------ the six-month term

  describe("term over six months", function () {
    let within: bigint;
    let over: bigint;
    let child: bigint;
    let sixMonths: number;

    before(async function () {
      // Due exactly six calendar months after tokenisation, to the second; and one day later.
      sixMonths = addCalendarMonthsUtc(T0 * 1000, 6) / 1000 + 12 * 3600;
      within = await tokenise("supplier", "buyer", 1_000_00n, sixMonths, T0);
      over = await tokenise("supplier", "buyer", 2_000_00n, sixMonths + DAY, T0 + 3600);
      await accept("buyer", over);
      await send(env.ledger.receivables.connect(w.supplier).split(over, [1_500_00n, 500_00n]));
      child = await env.ledger.receivables.childId(over, 0);
      await indexed();
    });

    it("shows the term on the receivable: due on the six-month day is within it, one day later is flagged", async function () {
      const a = await get("supplier", `/receivables/${receivableIdHex(within)}`).expect(200);
      expect(a.body).to.include({ tokenisedAt: iso(T0), termOverSixMonths: false });
      const b = await get("buyer", `/receivables/${receivableIdHex(over)}`).expect(200);
      expect(b.body).to.include({ tokenisedAt: iso(T0 + 3600), termOverSixMonths: true, termDays: a.body.termDays + 1 });
      expect(a.body.termDays).to.be.within(181, 184);
    });

    it("carries the root's tokenisation time and flag to a split part", async function () {
      const c = await get("supplier", `/receivables/${receivableIdHex(child)}`).expect(200);
      expect(c.body).to.include({ parentId: receivableIdHex(over), tokenisedAt: iso(T0 + 3600), termOverSixMonths: true });
    });

    it("filters lists on the flag, within the caller's scope; refuses a malformed flag", async function () {
      const flagged = await get("auditor", "/receivables?termReview=true&limit=200").expect(200);
      const ids = flagged.body.items.map((r: { id: string }) => r.id);
      expect(ids).to.include.members([receivableIdHex(over), receivableIdHex(child)]);
      expect(ids).not.to.include(receivableIdHex(within));
      const others = await get("auditor", "/receivables?termReview=false&limit=200").expect(200);
      expect(others.body.items.map((r: { id: string }) => r.id)).to.include(receivableIdHex(within)).and.not.include(receivableIdHex(over));
      // A member sees only its own receivables, flagged or not.
      const outsider = await get("supplier2", "/receivables?termReview=true").expect(200);
      expect(outsider.body.items).to.deep.equal([]);
      const bad = await get("auditor", "/receivables?termReview=yes").expect(400);
      expect(bad.body.code).to.equal("ValidationFailed");
      expect(JSON.stringify(bad.body.errors)).to.match(/termReview must be true or false/);
    });

    it("records the compliance rule's review verdict when an invoice over six months is checked, without refusing it", async function () {
      const today = new Date().toISOString().slice(0, 10);
      const invoice = (days: number) => ({
        debtor: w.buyer.address,
        invoiceNumber: `VR-${Date.now()}-${days}`,
        sellerTaxId: taxIds.supplier,
        buyerTaxId: taxIds.buyer,
        issueDate: today,
        dueDate: new Date(Date.now() + days * DAY * 1000).toISOString().slice(0, 10),
        amount: "1250000",
        documentHash: sha256(toUtf8Bytes(`attested ${days} ${Math.random()}`)),
      });
      for (const [days, result] of [[200, "review"], [90, "pass"]] as const) {
        const res = await post("supplier", "/receivables/attestations", { invoices: [invoice(days)] });
        expect(res.status, JSON.stringify(res.body)).to.equal(201);
        const id = res.body.invoices[0].receivableId as string;
        const checks = await get("compliance", `/compliance/checks?subject=invoice:${id}`).expect(200);
        const rule = checks.body.find((c: { code: string }) => c.code === "INVOICE_TERM_SIX_MONTHS");
        expect(rule, JSON.stringify(checks.body)).to.include({ result });
        expect(rule.details.from).to.equal("tokenisation");
      }
    });

    it("lists the flagged receivables in the audit export's reviews dataset (split parents left out)", async function () {
      const res = await get("auditor", "/audit/export?dataset=reviews&format=csv").expect(200);
      const rows = parseCsv(res.text, { columns: true }) as Array<Record<string, string>>;
      const term = rows.filter((r) => r.flag === "TERM_OVER_SIX_MONTHS").map((r) => r.receivableId);
      expect(term).to.include(receivableIdHex(child)).and.not.include(receivableIdHex(within)).and.not.include(receivableIdHex(over));
      const row = rows.find((r) => r.receivableId === receivableIdHex(child))!;
      expect(row).to.include({ party: w.supplier.address, debtor: w.buyer.address, amount: "150000", status: "accepted" });
    });
  });

  // ------------------------------------------------------------------ payment records and registration

  describe("payment record and registration references", function () {
    const ids = {} as Record<string, bigint>;
    let asOf = 0;
    const REG_GIVEN = "0441202612040000777";
    const REG_RELAYED_ELSEWHERE = "0441202612040000888";
    const REG_LATE = "0441202612040000999";

    before(async function () {
      const due = T0 + 10 * DAY;
      // buyer's debts, all due at T0 + 10 days (12:00 UTC); amounts in fen. Block times run on from
      // T0 + 1 hour until a payment or an approval sets them.
      for (const [label, face] of [["early", 100_00n], ["dueDay", 200_00n], ["late2", 300_00n], ["late7", 400_00n], ["partial", 500_00n], ["defaulted", 600_00n], ["pastDue", 700_00n]] as const) {
        ids[label] = await tokenise("supplier", "buyer", face, due);
        await accept("buyer", ids[label]);
      }
      ids.notDue = await tokenise("supplier", "buyer", 800_00n, T0 + 100 * DAY);
      await accept("buyer", ids.notDue);
      ids.unaccepted = await tokenise("supplier", "buyer", 900_00n, T0 + 20 * DAY);

      // Financings on buyer2's receivables: two approved directly on-chain, one still requested.
      const { financing } = env.ledger;
      await send(financing.connect(w.financier).openCreditLine(w.buyer2.address, ZeroAddress, { limit: 10_000_000_00n, maxAdvanceBps: 9_000n, discountBps: 500n, expiry: T0 + 300 * DAY }));
      const lineId = 1n;
      const financed = async (label: string, registration: string, approveAt: number) => {
        ids[label] = await tokenise("supplier", "buyer2", 1_000_00n, T0 + 90 * DAY);
        await accept("buyer2", ids[label]);
        await send(financing.connect(w.supplier).requestFinancing(ids[label], anyTerms(lineId, BigInt(T0 + 200 * DAY))));
        const approval = await approvalAtLineTerms(env.ledger, ids[label], registrationHash(registration), BigInt(approveAt), lineId);
        await at(approveAt);
        await send(financing.connect(w.financier).approveFinancing(ids[label], approval));
      };
      await financed("finGiven", REG_GIVEN, T0 + DAY);
      await financed("finOverdue", REG_RELAYED_ELSEWHERE, T0 + DAY + 600);
      ids.requested = await tokenise("supplier", "buyer2", 1_000_00n, T0 + 90 * DAY);
      await accept("buyer2", ids.requested);
      await send(financing.connect(w.supplier).requestFinancing(ids.requested, anyTerms(lineId, BigInt(T0 + 200 * DAY))));

      // Payments, in time order.
      await pay("buyer", ids.early, 100_00n, T0 + 5 * DAY);
      await pay("buyer", ids.partial, 200_00n, T0 + 9 * DAY);
      await pay("buyer", ids.dueDay, 200_00n, due + 8 * 3600); // 20:00 on the due day: on time
      await pay("buyer", ids.late2, 300_00n, due + 2 * DAY);
      await pay("buyer", ids.partial, 300_00n, due + 4 * DAY); // the last payment counts: 4 days late
      await pay("buyer", ids.late7, 400_00n, due + 7 * DAY - 3600);
      // A third financing approved late enough to be within its grace at the end.
      await financed("finRecent", REG_LATE, due + 25 * DAY);
      // Default after the ledger's 30-day grace.
      await at(due + 31 * DAY);
      await send(env.ledger.receivables.connect(w.supplier).markDefaulted(ids.defaulted));
      asOf = await latest();
      await indexed();
    });

    describe("GET /payment-records", function () {
      it("computes the buyer's record from the ledger: on time, late (median, p95), defaulted, past due, not yet due", async function () {
        const res = await get("financier", `/payment-records/${w.buyer.address}`).expect(200);
        const r = res.body;
        // Wall clock is far behind the chain: the record is as of the last indexed block.
        expect(r.asOf).to.equal(iso(asOf));
        // Counted: the two parts of the split term receivable (not the parent, nor the unaccepted ones)
        // and the eight accepted debts here.
        expect(r.confirmed).to.deep.equal({ count: 10, faceValue: String(2_000_00 + 2_800_00 + 800_00) });
        expect(r.paidOnTime).to.deep.equal({ count: 2, faceValue: "30000" });
        expect(r.paidLate).to.deep.equal({ count: 3, faceValue: "120000", daysLateMedian: 4, daysLateP95: 7, daysLateMax: 7 });
        expect(r.creditedInFull).to.deep.equal({ count: 0, faceValue: "0" });
        expect(r.defaulted).to.deep.equal({ count: 1, faceValue: "60000", outstanding: "60000" });
        expect(r.outstandingPastDue).to.deep.equal({ count: 1, outstanding: "70000" });
        expect(r.outstandingNotYetDue).to.deep.equal({ count: 3, outstanding: String(1_500_00 + 500_00 + 800_00) });
        for (const who of ["auditor", "compliance", "buyer"] as const) {
          const again = await get(who, `/payment-records/${w.buyer.address.toLowerCase()}`).expect(200);
          expect(again.body.paidLate).to.deep.equal(r.paidLate);
        }
      });

      it("lists every buyer for financiers, auditors and compliance; a buyer only itself", async function () {
        const all = await get("auditor", "/payment-records").expect(200);
        expect(all.body.items.map((r: { buyer: string }) => r.buyer)).to.have.members([w.buyer.address, w.buyer2.address]);
        const two = await get("financier", "/payment-records?limit=1").expect(200);
        expect(two.body.items).to.have.length(1);
        const next = await get("financier", `/payment-records?limit=1&cursor=${two.body.nextCursor}`).expect(200);
        expect(next.body.items).to.have.length(1);
        expect(next.body.nextCursor).to.equal(null);
        const own = await get("buyer2", "/payment-records").expect(200);
        expect(own.body.items.map((r: { buyer: string }) => r.buyer)).to.deep.equal([w.buyer2.address]);
        expect(own.body.items[0].confirmed.count).to.equal(4);
        expect(own.body.items[0].outstandingNotYetDue.count).to.equal(4);
      });

      it("refuses other roles (403), another buyer's record to a buyer (403), a malformed address (400) and a non-buyer (404)", async function () {
        const supplier = await get("supplier", `/payment-records/${w.buyer.address}`).expect(403);
        expect(supplier.body.code).to.equal("Forbidden");
        expect((await get("supplier", "/payment-records").expect(403)).body.code).to.equal("Forbidden");
        const other = await get("buyer2", `/payment-records/${w.buyer.address}`).expect(403);
        expect(other.body.detail).to.match(/a buyer only its own/);
        const bad = await get("auditor", "/payment-records/0x1234").expect(400);
        expect(bad.body.code).to.equal("BadRequest");
        expect((await get("auditor", "/payment-records?limit=0").expect(400)).body.code).to.equal("ValidationFailed");
        const notBuyer = await get("auditor", `/payment-records/${w.supplier.address}`).expect(404);
        expect(notBuyer.body.code).to.equal("NotFound");
        for (const path of ["/payment-records", `/payment-records/${w.buyer.address}`]) {
          expect((await get("stranger", path).expect(403)).body.code, path).to.equal("Forbidden");
        }
        const unknown = await get("financier", `/payment-records/0x${"ab".repeat(20)}`).expect(404);
        expect(unknown.body.detail).to.match(/is not a buyer on the ledger/);
      });

      it("exports every buyer's record as a CSV row and as JSON, and refuses event filters there", async function () {
        const csv = await get("auditor", "/audit/export?dataset=payment-records&format=csv").expect(200);
        const rows = parseCsv(csv.text, { columns: true }) as Array<Record<string, string>>;
        const row = rows.find((r) => r.buyer === w.buyer.address)!;
        expect(row).to.include({ confirmedCount: "10", paidOnTimeCount: "2", paidLateCount: "3", daysLateMedian: "4", daysLateP95: "7", defaultedCount: "1", outstandingPastDueCount: "1", outstandingPastDue: "70000" });
        const json = await get("compliance", "/audit/export?dataset=payment-records&format=json").expect(200);
        expect(JSON.parse(json.text).find((r: { buyer: string }) => r.buyer === w.buyer.address).paidLate.faceValue).to.equal("120000");
        const filtered = await get("auditor", `/audit/export?dataset=payment-records&member=${w.buyer.address}`).expect(400);
        expect(filtered.body.detail).to.match(/member filter only dataset=events/);
        expect((await get("auditor", "/audit/export?dataset=everything").expect(400)).body.code).to.equal("ValidationFailed");
        expect((await get("financier", "/audit/export?dataset=payment-records").expect(403)).body.code).to.equal("Forbidden");
      });
    });

    describe("registration references", function () {
      it("flags the financing whose number is unknown past the grace, for its financier and auditors, not within the grace", async function () {
        const overdue = await get("financier", `/financings/${receivableIdHex(ids.finOverdue)}`).expect(200);
        expect(overdue.body).to.include({
          registrationHash: registrationHash(REG_RELAYED_ELSEWHERE),
          registrationNumber: null,
          registrationOverdue: true,
          approvedAt: iso(T0 + DAY + 600),
          registrationDueBy: iso(T0 + DAY + 600 + GRACE_DAYS * DAY),
        });
        const recent = await get("auditor", `/financings/${receivableIdHex(ids.finRecent)}`).expect(200);
        expect(recent.body).to.include({ registrationNumber: null, registrationOverdue: false });
        for (const who of ["financier", "auditor", "compliance"] as const) {
          const list = await get(who, "/financings?registrationOverdue=true").expect(200);
          expect(list.body.items.map((f: { receivableId: string }) => f.receivableId), who).to.have.members([receivableIdHex(ids.finGiven), receivableIdHex(ids.finOverdue)]);
        }
        // Another financier sees none of them; the receivable's own read shows the flag too.
        expect((await get("financier2", "/financings?registrationOverdue=true").expect(200)).body.items).to.deep.equal([]);
        const detail = await get("supplier", `/receivables/${receivableIdHex(ids.finOverdue)}`).expect(200);
        expect(detail.body.financing).to.include({ registrationOverdue: true });
      });

      it("shows the flagged financings in the reviews export", async function () {
        const res = await get("auditor", "/audit/export?dataset=reviews&format=json").expect(200);
        const rows = (JSON.parse(res.text) as Array<Record<string, string>>).filter((r) => r.flag === "REGISTRATION_OVERDUE");
        expect(rows.map((r) => r.receivableId)).to.have.members([receivableIdHex(ids.finGiven), receivableIdHex(ids.finOverdue)]);
        expect(rows[0]).to.include({ party: w.financier.address, debtor: w.buyer2.address, status: "active" });
      });

      it("refuses to take a number from anyone but the financing's financier, a number of another hash, a malformed one, or one for no approval", async function () {
        const path = `/financings/${receivableIdHex(ids.finGiven)}/registration`;
        const wrong = await post("financier", path, { registrationNumber: REG_LATE }).expect(422);
        expect(wrong.body.code).to.equal("RegistrationMismatch");
        expect(wrong.body.detail).to.include(registrationHash(REG_GIVEN));
        expect((await post("financier2", path, { registrationNumber: REG_GIVEN }).expect(403)).body.code).to.equal("Forbidden");
        expect((await post("supplier", path, { registrationNumber: REG_GIVEN }).expect(403)).body.code).to.equal("Forbidden");
        expect((await post("auditor", path, { registrationNumber: REG_GIVEN }).expect(403)).body.code).to.equal("Forbidden");
        expect((await post("stranger", path, { registrationNumber: REG_GIVEN }).expect(403)).body.code).to.equal("Forbidden");
        for (const registrationNumber of ["no!", "12345", "A".repeat(65), 4412026120400, undefined]) {
          const malformed = await post("financier", path, { registrationNumber }).expect(400);
          expect(malformed.body.code, String(registrationNumber)).to.equal("ValidationFailed");
        }
        const nothing = await post("financier", `/financings/${receivableIdHex(12345n)}/registration`, { registrationNumber: REG_GIVEN }).expect(404);
        expect(nothing.body.code).to.equal("NotFound");
        const pending = await post("financier", `/financings/${receivableIdHex(ids.requested)}/registration`, { registrationNumber: REG_GIVEN }).expect(409);
        expect(pending.body.code).to.equal("FinancingNotApproved");
        // Nothing was recorded by the refusals.
        expect((await get("financier", `/financings/${receivableIdHex(ids.finGiven)}`).expect(200)).body.registrationNumber).to.equal(null);
      });

      it("takes the number from the financier when it hashes to the approved hash: the flag clears and the number finds the financing", async function () {
        const path = `/financings/${receivableIdHex(ids.finGiven)}/registration`;
        const given = await post("financier", path, { registrationNumber: ` ${REG_GIVEN.toLowerCase()} ` }).expect(200);
        expect(given.body).to.include({ receivableId: receivableIdHex(ids.finGiven), registrationNumber: REG_GIVEN, registrationOverdue: false });
        // Giving it again answers the same.
        expect((await post("financier", path, { registrationNumber: REG_GIVEN }).expect(200)).body.registrationNumber).to.equal(REG_GIVEN);
        const overdue = await get("auditor", "/financings?registrationOverdue=true").expect(200);
        expect(overdue.body.items.map((f: { receivableId: string }) => f.receivableId)).to.deep.equal([receivableIdHex(ids.finOverdue)]);
        for (const who of ["financier", "auditor"] as const) {
          const found = await get(who, `/financings?registrationNumber=${REG_GIVEN}`).expect(200);
          expect(found.body.items.map((f: { receivableId: string }) => f.receivableId), who).to.deep.equal([receivableIdHex(ids.finGiven)]);
        }
      });

      it("finds a financing by its number even when the service never knew it (the number is hashed as approved)", async function () {
        const found = await get("auditor", `/financings?registrationNumber=${REG_RELAYED_ELSEWHERE.toLowerCase()}`).expect(200);
        expect(found.body.items.map((f: { receivableId: string }) => f.receivableId)).to.deep.equal([receivableIdHex(ids.finOverdue)]);
        expect((await get("financier2", `/financings?registrationNumber=${REG_RELAYED_ELSEWHERE}`).expect(200)).body.items).to.deep.equal([]);
        expect((await get("auditor", "/financings?registrationNumber=0441000000000000000").expect(200)).body.items).to.deep.equal([]);
      });

      it("refuses searching by registration to suppliers and buyers (403) and malformed queries (400)", async function () {
        for (const who of ["supplier", "buyer2"] as const) {
          expect((await get(who, `/financings?registrationNumber=${REG_GIVEN}`).expect(403)).body.code, who).to.equal("Forbidden");
          expect((await get(who, "/financings?registrationOverdue=true").expect(403)).body.code, who).to.equal("Forbidden");
        }
        const short = await get("auditor", "/financings?registrationNumber=12").expect(400);
        expect(short.body.code).to.equal("ValidationFailed");
        expect(JSON.stringify(short.body.errors)).to.match(/registrationNumber must be 6 to 64/);
        expect((await get("auditor", "/financings?registrationOverdue=maybe").expect(400)).body.code).to.equal("ValidationFailed");
      });
    });
  });

  describe("afterwards", function () {
    it("leaves the projection equal to a refold of the chain's events (GET /audit/verify)", async function () {
      const res = await get("auditor", "/audit/verify").expect(200);
      expect(res.body.differences, JSON.stringify(res.body.differences)).to.deep.equal([]);
    });

    it("fills the new columns of rows indexed before the migration exactly as the projector does", async function () {
      const ds = svc.app.get<DataSource>(getDataSourceToken());
      const snapshot = async () => ({
        receivables: await ds.query("SELECT id, tokenised_at, term_review FROM receivables ORDER BY id"),
        financings: await ds.query("SELECT receivable_id, approved_at FROM financings ORDER BY receivable_id"),
      });
      const before = await snapshot();
      expect(before.receivables.filter((r: { term_review: unknown }) => r.term_review === true || r.term_review === 1)).to.have.length(3);
      // A relayed approval recorded before the migration: its act kept the number; the migration carries it over.
      const relayed = "0441202612040000555";
      const actRow: Partial<ActEntity> = {
        id: "00000000-0000-7000-8000-000000000001", kind: "approve_financing", contract: "Financing", signer: w.financier.address, nonce: "1", deadline: 0,
        primaryType: "ApproveFinancing", message: {}, signature: "0x", typedDataHash: "0x" + "00".repeat(32), receivableId: receivableIdHex(1n), lineId: 1,
        status: "confirmed", outboxId: "00000000-0000-7000-8000-000000000002", txHash: null, blockNumber: null, failureReason: null,
        result: { registrationNumber: relayed, registrationHash: registrationHash(relayed) }, createdAt: 1, updatedAt: 2,
      };
      await ds.getRepository(ActEntity).save(Object.assign(new ActEntity(), actRow));
      // Undo every migration from the voucher rules' one on (later ones are undone first), then rerun them all.
      const applied = async () => ((await ds.query("SELECT name FROM migrations ORDER BY id")) as Array<{ name: string }>).map((m) => m.name);
      while ((await applied()).some((name) => name.startsWith("VoucherRules"))) await ds.undoLastMigration();
      const columns = (await ds.query(
        usePostgres()
          ? "SELECT column_name AS name FROM information_schema.columns WHERE table_name = 'receivables'"
          : "SELECT name FROM pragma_table_info('receivables')",
      )) as Array<{ name: string }>;
      expect(columns.map((c) => c.name)).not.to.include("term_review");
      await ds.runMigrations();
      expect(await snapshot()).to.deep.equal(before);
      const kept = await ds.getRepository(RegistrationNumberEntity).findOneByOrFail({ registrationHash: registrationHash(relayed) });
      expect(kept).to.include({ registrationNumber: relayed, source: "approval", recordedBy: w.financier.address, recordedAt: 2 });
      const res = await get("auditor", "/audit/verify").expect(200);
      expect(res.body.differences).to.deep.equal([]);
    });
  });
});
