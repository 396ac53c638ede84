/**
 * The rules engine and each rule set, with the ledger facts and the sanctions screener faked:
 * every code's pass, fail and review, and the edges (exact limits, the concentration floor, a rule
 * that throws).
 */
import { expect } from "chai";
import { FINANCING_RULES, type FinancingContext, type LineFacts, type ReceivableFacts } from "../../services/src/compliance/rules/financing.rules";
import {
  CONCENTRATION_FLOOR_FEN,
  INVOICE_RULES,
  MAX_FACE_VALUE,
  type InvoiceContext,
  type InvoiceInput,
  type OpenExposure,
} from "../../services/src/compliance/rules/invoice.rules";
import {
  APPLICATION_RULES,
  MEMBER_RULES,
  type ApplicationContext,
  type MemberContext,
  type SanctionsTools,
} from "../../services/src/compliance/rules/party.rules";
import { evaluateRules, overallOf, type Rule, type RuleOutcome } from "../../services/src/compliance/rules/rule";
import type { SanctionsMatch } from "../../services/src/compliance/sanctions/sanctions-screener";
import { receivableIdHex } from "../../shared/ids";
import { receivableIdOf } from "../../shared/fingerprint";

const DAY = 86_400_000;
const NOW = new Date("2025-03-01T00:00:00Z");
const SELLER = "0x1111111111111111111111111111111111111111";
const DEBTOR = "0x2222222222222222222222222222222222222222";
const FP = "0x" + "ab".repeat(32);

const byCode = (outcomes: RuleOutcome[]) => Object.fromEntries(outcomes.map((o) => [o.code, o]));

function sanctions(matches: SanctionsMatch[] = []): SanctionsTools {
  return {
    screen: () => matches,
    describe: () => ({ source: "fake.xml", format: "un-xml", generatedAt: null, entries: 7, thresholds: { match: 0.9, review: 0.8 } }),
  };
}

const match = (result: "fail" | "review", extra: Partial<SanctionsMatch> = {}): SanctionsMatch => ({
  reference: "XXe.001",
  type: "entity",
  listedName: "HONGXU TRADING COMPANY LIMITED",
  matchedName: "HONGXU TRADING COMPANY LIMITED",
  matchedAs: "primary",
  score: result === "fail" ? 1 : 0.85,
  match: "full",
  lookalike: false,
  result,
  programme: null,
  ...extra,
});

const POLICY = { allowedJurisdictions: ["CN", "HK", "SG"], kycWarningDays: 30 };

describe("compliance: rules", function () {
  describe("engine", function () {
    it("evaluates every rule in order and never stops at a failure", async function () {
      const rules: Rule<number>[] = [
        { code: "A", subject: "invoice", description: "", evaluate: () => ({ result: "fail", reason: "a" }) },
        { code: "B", subject: "invoice", description: "", evaluate: async (n) => ({ result: "pass", reason: `b${n}`, details: { n } }) },
      ];
      const out = await evaluateRules(rules, 7);
      expect(out).to.deep.equal([
        { code: "A", result: "fail", reason: "a" },
        { code: "B", result: "pass", reason: "b7", details: { n: 7 } },
      ]);
    });

    it("records a rule that throws as review with the error, not as pass", async function () {
      const rules: Rule<null>[] = [
        {
          code: "BROKEN",
          subject: "member",
          description: "",
          evaluate: () => {
            throw new TypeError("boom");
          },
        },
      ];
      const [o] = await evaluateRules(rules, null);
      expect(o.result).to.equal("review");
      expect(o.reason).to.match(/could not be evaluated \(boom\)/);
      expect(o.details).to.deep.equal({ error: "TypeError" });
    });

    it("derives overall: fail over review over pass", function () {
      expect(overallOf([])).to.equal("pass");
      expect(overallOf([{ result: "pass" }, { result: "pass" }])).to.equal("pass");
      expect(overallOf([{ result: "pass" }, { result: "review" }])).to.equal("review");
      expect(overallOf([{ result: "review" }, { result: "fail" }, { result: "pass" }])).to.equal("fail");
    });

    it("gives every rule a distinct code within its subject", function () {
      for (const set of [APPLICATION_RULES, MEMBER_RULES, INVOICE_RULES, FINANCING_RULES] as ReadonlyArray<readonly Rule<never>[]>) {
        const codes = set.map((r) => r.code);
        expect(new Set(codes).size).to.equal(codes.length);
        for (const r of set) expect(r.code).to.match(/^[A-Z][A-Z0-9_]{2,47}$/);
      }
    });
  });

  describe("application rules", function () {
    const ctx = (over: Partial<ApplicationContext["application"]> = {}, matches: SanctionsMatch[] = []): ApplicationContext => ({
      application: {
        id: "app-1",
        legalName: "Nowhere Paper Mills Co., Ltd.",
        entityId: "91330106MA2CHK7T11",
        entityIdType: "USCC",
        jurisdiction: "CN",
        requestedRoles: 1,
        documentCount: 2,
        ...over,
      },
      policy: POLICY,
      sanctions: sanctions(matches),
    });

    it("passes a clean application on every rule, in a fixed order", async function () {
      const out = await evaluateRules(APPLICATION_RULES, ctx());
      expect(out.map((o) => o.code)).to.deep.equal([
        "SANCTIONS_SCREENING",
        "LEGAL_NAME_SINGLE_SCRIPT",
        "ENTITY_ID_CHECKSUM",
        "ENTITY_ID_MATCHES_JURISDICTION",
        "JURISDICTION_ALLOWED",
        "KYC_DOCUMENTS_PRESENT",
        "ROLES_REQUESTED_VALID",
      ]);
      expect(out.every((o) => o.result === "pass"), JSON.stringify(out)).to.equal(true);
      expect(byCode(out).SANCTIONS_SCREENING.details).to.deep.include({ screenedName: "Nowhere Paper Mills Co., Ltd.", matches: [] });
    });

    it("fails on a sanctions match and reviews a resemblance, naming the entry", async function () {
      const hit = byCode(await evaluateRules(APPLICATION_RULES, ctx({}, [match("fail")]))).SANCTIONS_SCREENING;
      expect(hit.result).to.equal("fail");
      expect(hit.reason).to.match(/matches sanctions list entry XXe\.001 "HONGXU TRADING COMPANY LIMITED" with similarity 1\.000/);
      const near = byCode(await evaluateRules(APPLICATION_RULES, ctx({}, [match("review", { match: "partial", matchedName: "鸿虚集团" })])))
        .SANCTIONS_SCREENING;
      expect(near.result).to.equal("review");
      expect(near.reason).to.match(/contains or is contained in sanctions list entry XXe\.001 "鸿虚集团" \(HONGXU TRADING COMPANY LIMITED\)/);
      expect((near.details as { matches: unknown[] }).matches).to.have.length(1);
    });

    it("says when a match needed the look-alike reading of the name", async function () {
      const hit = byCode(await evaluateRules(APPLICATION_RULES, ctx({ legalName: "H0NGXU TRADING" }, [match("fail", { lookalike: true })])))
        .SANCTIONS_SCREENING;
      expect(hit.result).to.equal("fail");
      expect(hit.reason).to.match(/"H0NGXU TRADING" matches sanctions list entry XXe\.001 .* once its look-alike characters are read as the letters they imitate/);
    });

    it("reviews a legal name that mixes Latin with Cyrillic or Greek letters, naming the scripts", async function () {
      for (const name of ["Nowhere P\u0430per Mills Co., Ltd.", "\u039Dowhere Paper Mills"]) {
        const o = byCode(await evaluateRules(APPLICATION_RULES, ctx({ legalName: name }))).LEGAL_NAME_SINGLE_SCRIPT;
        expect(o.result, name).to.equal("review");
        expect(o.reason).to.match(/mixes the scripts (Cyrillic|Greek), Latin/);
        expect((o.details as { scripts: string[] }).scripts).to.include("Latin");
      }
    });

    it("passes a legal name in one script, or Latin with Chinese, digits and punctuation", async function () {
      for (const name of ["Nowhere Paper Mills Co., Ltd.", "宁波示例零部件有限公司", "ООО «Пример»", "华为 Technologies (Shenzhen) 2024", "3M"]) {
        expect(byCode(await evaluateRules(APPLICATION_RULES, ctx({ legalName: name }))).LEGAL_NAME_SINGLE_SCRIPT.result, name).to.equal("pass");
      }
    });

    it("fails a tampered identifier with what is wrong", async function () {
      const o = byCode(await evaluateRules(APPLICATION_RULES, ctx({ entityId: "91330106MA2CHK7T12" }))).ENTITY_ID_CHECKSUM;
      expect(o.result).to.equal("fail");
      expect(o.reason).to.match(/check character does not match/);
      const lei = byCode(await evaluateRules(APPLICATION_RULES, ctx({ entityIdType: "LEI", entityId: "TEST00FICTIONAL12353" })));
      expect(lei.ENTITY_ID_CHECKSUM.result).to.equal("pass");
    });

    it("reviews a unified social credit code outside mainland China, not an LEI", async function () {
      const uscc = byCode(await evaluateRules(APPLICATION_RULES, ctx({ jurisdiction: "HK" })));
      expect(uscc.ENTITY_ID_MATCHES_JURISDICTION.result).to.equal("review");
      const lei = byCode(await evaluateRules(APPLICATION_RULES, ctx({ jurisdiction: "HK", entityIdType: "LEI", entityId: "TEST00FICTIONAL12353" })));
      expect(lei.ENTITY_ID_MATCHES_JURISDICTION.result).to.equal("pass");
    });

    it("fails a jurisdiction the ledger does not serve, listing those it does", async function () {
      const o = byCode(await evaluateRules(APPLICATION_RULES, ctx({ jurisdiction: "us", entityIdType: "LEI", entityId: "TEST00FICTIONAL12353" })))
        .JURISDICTION_ALLOWED;
      expect(o.result).to.equal("fail");
      expect(o.reason).to.equal('Jurisdiction "US" is not served by this ledger (allowed: CN, HK, SG).');
    });

    it("fails an application without KYC documents", async function () {
      const o = byCode(await evaluateRules(APPLICATION_RULES, ctx({ documentCount: 0 }))).KYC_DOCUMENTS_PRESENT;
      expect(o.result).to.equal("fail");
      expect(o.reason).to.match(/No KYC document is attached/);
    });

    it("fails no role and unknown role bits; passes all four known roles", async function () {
      expect(byCode(await evaluateRules(APPLICATION_RULES, ctx({ requestedRoles: 0 }))).ROLES_REQUESTED_VALID.result).to.equal("fail");
      expect(byCode(await evaluateRules(APPLICATION_RULES, ctx({ requestedRoles: 16 }))).ROLES_REQUESTED_VALID.result).to.equal("fail");
      expect(byCode(await evaluateRules(APPLICATION_RULES, ctx({ requestedRoles: 15 }))).ROLES_REQUESTED_VALID.result).to.equal("pass");
    });
  });

  describe("member rules", function () {
    const ctx = (kycExpiry: number, matches: SanctionsMatch[] = []): MemberContext => ({
      member: { address: SELLER, legalName: "Nowhere Paper Mills", jurisdiction: "SG", kycExpiry },
      now: NOW,
      policy: POLICY,
      sanctions: sanctions(matches),
    });
    const nowSec = NOW.getTime() / 1000;

    it("passes a member with KYC valid beyond the warning window", async function () {
      const out = await evaluateRules(MEMBER_RULES, ctx(nowSec + 31 * 86_400));
      expect(out.map((o) => [o.code, o.result])).to.deep.equal([
        ["SANCTIONS_SCREENING", "pass"],
        ["LEGAL_NAME_SINGLE_SCRIPT", "pass"],
        ["JURISDICTION_ALLOWED", "pass"],
        ["KYC_NOT_EXPIRED", "pass"],
      ]);
    });

    it("reviews KYC expiring within the warning window and fails expired KYC (expiry = now is expired)", async function () {
      expect(byCode(await evaluateRules(MEMBER_RULES, ctx(nowSec + 30 * 86_400))).KYC_NOT_EXPIRED.result).to.equal("review");
      expect(byCode(await evaluateRules(MEMBER_RULES, ctx(nowSec))).KYC_NOT_EXPIRED.result).to.equal("fail");
      expect(byCode(await evaluateRules(MEMBER_RULES, ctx(nowSec - 1))).KYC_NOT_EXPIRED.reason).to.match(/KYC expired on 2025-02-28T23:59:59/);
    });

    it("re-screens the member's name", async function () {
      expect(byCode(await evaluateRules(MEMBER_RULES, ctx(nowSec + 400 * 86_400, [match("fail")]))).SANCTIONS_SCREENING.result).to.equal("fail");
    });

    it("reviews a member's name that mixes scripts", async function () {
      const c = ctx(nowSec + 400 * 86_400);
      c.member.legalName = "Nowhere P\u0430per Mills";
      expect(byCode(await evaluateRules(MEMBER_RULES, c)).LEGAL_NAME_SINGLE_SCRIPT.result).to.equal("review");
    });
  });

  describe("invoice rules", function () {
    let exposure: OpenExposure;
    let tokenised: string | null;
    let askedFor: string[];
    const ctx = (over: Partial<InvoiceInput> = {}, limitBps = 5_000): InvoiceContext => ({
      invoice: {
        subjectId: "inv-1",
        seller: SELLER,
        debtor: DEBTOR,
        faceValue: 10_000_000n,
        issueDate: new Date(NOW.getTime() - 5 * DAY),
        dueDate: new Date(NOW.getTime() + 90 * DAY),
        fingerprint: FP,
        ...over,
      },
      now: NOW,
      policy: { concentrationLimitBps: limitBps, concentrationFloor: CONCENTRATION_FLOOR_FEN },
      facts: {
        tokenisedStatus: async (id) => {
          askedFor.push(id);
          return tokenised;
        },
        openExposure: async () => exposure,
      },
    });
    const run = async (over: Partial<InvoiceInput> = {}, limitBps?: number) => byCode(await evaluateRules(INVOICE_RULES, ctx(over, limitBps)));

    beforeEach(function () {
      exposure = { sellerTotal: 0n, debtorTotal: 0n, receivables: 0 };
      tokenised = null;
      askedFor = [];
    });

    it("passes a sound invoice on every rule", async function () {
      const out = await evaluateRules(INVOICE_RULES, ctx());
      expect(out.map((o) => [o.code, o.result])).to.deep.equal([
        ["INVOICE_AMOUNT_POSITIVE", "pass"],
        ["INVOICE_ISSUED_NOT_IN_FUTURE", "pass"],
        ["INVOICE_DUE_AFTER_ISSUE", "pass"],
        ["INVOICE_NOT_YET_DUE", "pass"],
        ["INVOICE_TERM_MAX_ONE_YEAR", "pass"],
        ["INVOICE_TERM_SIX_MONTHS", "pass"],
        ["INVOICE_SELLER_NOT_BUYER", "pass"],
        ["INVOICE_DUPLICATE_FINGERPRINT", "pass"],
        ["DEBTOR_CONCENTRATION_LIMIT", "pass"],
      ]);
    });

    it("fails a zero, negative or over-64-bit face value; passes the 64-bit maximum", async function () {
      expect((await run({ faceValue: 0n })).INVOICE_AMOUNT_POSITIVE.result).to.equal("fail");
      expect((await run({ faceValue: -5n })).INVOICE_AMOUNT_POSITIVE.result).to.equal("fail");
      expect((await run({ faceValue: MAX_FACE_VALUE + 1n })).INVOICE_AMOUNT_POSITIVE.reason).to.match(/exceeds the ledger's maximum of 18446744073709551615 fen/);
      expect((await run({ faceValue: MAX_FACE_VALUE })).INVOICE_AMOUNT_POSITIVE.result).to.equal("pass");
      expect((await run({ faceValue: 1n })).INVOICE_AMOUNT_POSITIVE.details).to.deep.equal({ faceValue: "1", max: MAX_FACE_VALUE.toString() });
    });

    it("fails a due date on or before the issue date", async function () {
      const issue = new Date(NOW.getTime() - DAY);
      expect((await run({ issueDate: issue, dueDate: issue })).INVOICE_DUE_AFTER_ISSUE.result).to.equal("fail");
      expect((await run({ issueDate: issue, dueDate: new Date(issue.getTime() - 1000) })).INVOICE_DUE_AFTER_ISSUE.result).to.equal("fail");
      expect((await run({ issueDate: issue, dueDate: new Date(issue.getTime() + 1000) })).INVOICE_DUE_AFTER_ISSUE.result).to.equal("pass");
    });

    it("fails invalid dates with a plain reason", async function () {
      const o = await run({ dueDate: new Date("not a date") });
      expect(o.INVOICE_DUE_AFTER_ISSUE.result).to.equal("fail");
      expect(o.INVOICE_DUE_AFTER_ISSUE.reason).to.equal("The issue date and the due date must both be valid dates.");
    });

    it("allows a term of exactly 365 days and fails one second more, from issue and from now", async function () {
      const issue = new Date(NOW.getTime() - DAY);
      expect((await run({ issueDate: issue, dueDate: new Date(issue.getTime() + 365 * DAY) })).INVOICE_TERM_MAX_ONE_YEAR.result).to.equal("pass");
      const long = (await run({ issueDate: issue, dueDate: new Date(issue.getTime() + 365 * DAY + 1000) })).INVOICE_TERM_MAX_ONE_YEAR;
      expect(long.result).to.equal("fail");
      expect(long.reason).to.match(/payment term is 365 days; at most 365 days/);
      // Issued "tomorrow" (within the slack) and due 365 days after: more than 365 days from now.
      const ahead = (await run({ issueDate: new Date(NOW.getTime() + 3_600_000), dueDate: new Date(NOW.getTime() + 3_600_000 + 365 * DAY) }))
        .INVOICE_TERM_MAX_ONE_YEAR;
      expect(ahead.result).to.equal("fail");
      expect(ahead.reason).to.match(/at most 365 days ahead/);
    });

    it("reviews a term over six calendar months from tokenisation (now): due on the six-month day passes, the day after is reviewed", async function () {
      // NOW is 2025-03-01T00:00Z: six calendar months later is 2025-09-01.
      const within = (await run({ dueDate: new Date("2025-09-01T00:00:00Z") })).INVOICE_TERM_SIX_MONTHS;
      expect(within.result).to.equal("pass");
      expect(within.details).to.deep.equal({ termDays: 184, lastDueDayWithinSixMonths: "2025-09-01", from: "tokenisation" });
      // Any time on the six-month day itself is that day.
      expect((await run({ dueDate: new Date("2025-09-01T23:59:59Z") })).INVOICE_TERM_SIX_MONTHS.result).to.equal("pass");
      const over = (await run({ dueDate: new Date("2025-09-02T00:00:00Z") })).INVOICE_TERM_SIX_MONTHS;
      expect(over.result).to.equal("review");
      expect(over.reason).to.match(/185 days from tokenisation, past six calendar months \(due after 2025-09-01\)/);
      // A review is not a refusal: the run as a whole is "review", and the one-year rule still passes.
      const all = await evaluateRules(INVOICE_RULES, ctx({ dueDate: new Date("2025-09-02T00:00:00Z") }));
      expect(overallOf(all)).to.equal("review");
      expect(byCode(all).INVOICE_TERM_MAX_ONE_YEAR.result).to.equal("pass");
    });

    it("counts the six months from now (tokenisation), not from the invoice's issue date", async function () {
      // Issued four months before NOW: six months from issue would end 2025-05-01, yet the term runs from tokenisation.
      const o = (await run({ issueDate: new Date("2024-11-01T00:00:00Z"), dueDate: new Date("2025-08-01T00:00:00Z") })).INVOICE_TERM_SIX_MONTHS;
      expect(o.result).to.equal("pass");
    });

    it("fails an invoice already due, and one issued more than a day in the future", async function () {
      expect((await run({ dueDate: NOW })).INVOICE_NOT_YET_DUE.result).to.equal("fail");
      expect((await run({ issueDate: new Date(NOW.getTime() + DAY) })).INVOICE_ISSUED_NOT_IN_FUTURE.result).to.equal("pass");
      expect((await run({ issueDate: new Date(NOW.getTime() + DAY + 1000) })).INVOICE_ISSUED_NOT_IN_FUTURE.result).to.equal("fail");
    });

    it("fails an invoice to oneself, whatever the address case", async function () {
      const o = (await run({ debtor: SELLER.toUpperCase().replace("0X", "0x") })).INVOICE_SELLER_NOT_BUYER;
      expect(o.result).to.equal("fail");
    });

    it("fails a fingerprint already tokenised, looking it up in lower case", async function () {
      tokenised = "paid";
      const o = (await run({ fingerprint: FP.toUpperCase().replace("0X", "0x") })).INVOICE_DUPLICATE_FINGERPRINT;
      expect(o.result).to.equal("fail");
      expect(o.reason).to.match(/already tokenised .*status paid/);
      expect(askedFor).to.deep.equal([receivableIdHex(receivableIdOf(FP))]);
    });

    it("fails a malformed or zero fingerprint without looking it up", async function () {
      for (const fp of ["0x1234", "ab".repeat(32), "0x" + "0".repeat(64), "0x" + "zz".repeat(32)]) {
        expect((await run({ fingerprint: fp })).INVOICE_DUPLICATE_FINGERPRINT.result, fp).to.equal("fail");
      }
      expect(askedFor).to.deep.equal([]);
    });

    describe("DEBTOR_CONCENTRATION_LIMIT", function () {
      it("is not applied below the floor, and says so", async function () {
        exposure = { sellerTotal: 0n, debtorTotal: 0n, receivables: 0 };
        const o = (await run({ faceValue: CONCENTRATION_FLOOR_FEN - 1n })).DEBTOR_CONCENTRATION_LIMIT;
        expect(o.result).to.equal("pass");
        expect(o.details).to.include({ applied: false, sharePercent: "100.00" });
        expect(o.reason).to.match(/^Not applied/);
      });

      it("flags for review above the limit once the seller's book reaches the floor", async function () {
        exposure = { sellerTotal: CONCENTRATION_FLOOR_FEN, debtorTotal: 40_000_000n, receivables: 3 };
        const o = (await run({ faceValue: 20_000_000n })).DEBTOR_CONCENTRATION_LIMIT;
        // (40M + 20M) / (100M + 20M) = 50.00 % exactly: at the limit passes.
        expect(o.result).to.equal("pass");
        expect(o.details).to.include({ applied: true, sharePercent: "50.00", debtorOutstanding: "60000000", sellerOutstanding: "120000000" });
        const above = (await run({ faceValue: 20_000_001n })).DEBTOR_CONCENTRATION_LIMIT;
        expect(above.result).to.equal("review");
        expect(above.reason).to.match(/owe 50\.00% of the seller's outstanding receivables, above the 50\.00% concentration limit: flagged for review/);
      });

      it("passes a debtor well below the limit and follows the configured limit", async function () {
        exposure = { sellerTotal: 1_000_000_000n, debtorTotal: 100_000_000n, receivables: 10 };
        expect((await run({ faceValue: 10_000_000n })).DEBTOR_CONCENTRATION_LIMIT.result).to.equal("pass");
        expect((await run({ faceValue: 10_000_000n }, 1_000)).DEBTOR_CONCENTRATION_LIMIT.result).to.equal("review");
      });
    });
  });

  describe("financing rules", function () {
    const receivable = (over: Partial<ReceivableFacts> = {}): ReceivableFacts => ({
      status: "accepted",
      holder: SELLER,
      debtor: DEBTOR,
      seller: SELLER,
      outstanding: 1_000_000n,
      dueDate: NOW.getTime() / 1000 + 30 * 86_400,
      financed: false,
      ...over,
    });
    const line = (over: Partial<LineFacts> = {}): LineFacts => ({
      financier: "0x3333333333333333333333333333333333333333",
      debtor: DEBTOR,
      supplier: null,
      limit: 10_000_000n,
      utilised: 9_200_000n,
      maxAdvanceBps: 8_000,
      expiry: NOW.getTime() / 1000 + 365 * 86_400,
      open: true,
      ...over,
    });
    const ctx = (r: ReceivableFacts | null, l: LineFacts | null, requester = SELLER): FinancingContext => ({
      financing: { receivableId: FP, requester, lineId: 1 },
      now: NOW,
      receivable: r,
      line: l,
    });
    const run = async (c: FinancingContext) => byCode(await evaluateRules(FINANCING_RULES, c));

    it("passes an accepted receivable, held by the requester, on a line with room (advance exactly fits)", async function () {
      const out = await evaluateRules(FINANCING_RULES, ctx(receivable(), line()));
      expect(out.every((o) => o.result === "pass"), JSON.stringify(out)).to.equal(true);
      expect(byCode(out).FINANCING_LINE_HEADROOM.details).to.include({ advance: "800000", available: "800000" });
    });

    it("fails a missing, unaccepted or already financed receivable", async function () {
      expect((await run(ctx(null, line()))).FINANCING_RECEIVABLE_ACCEPTED.result).to.equal("fail");
      expect((await run(ctx(receivable({ status: "issued" }), line()))).FINANCING_RECEIVABLE_ACCEPTED.reason).to.match(/is issued; only a receivable/);
      expect((await run(ctx(receivable({ status: "financed", financed: true }), line()))).FINANCING_RECEIVABLE_ACCEPTED.result).to.equal("fail");
    });

    it("fails a requester who does not hold the receivable", async function () {
      expect((await run(ctx(receivable(), line(), DEBTOR))).FINANCING_REQUESTER_IS_HOLDER.result).to.equal("fail");
    });

    it("fails a receivable already due", async function () {
      expect((await run(ctx(receivable({ dueDate: NOW.getTime() / 1000 }), line()))).FINANCING_NOT_OVERDUE.result).to.equal("fail");
    });

    it("fails a missing, closed, expired or out-of-scope line", async function () {
      expect((await run(ctx(receivable(), null))).FINANCING_LINE_AVAILABLE.result).to.equal("fail");
      expect((await run(ctx(receivable(), line({ open: false })))).FINANCING_LINE_AVAILABLE.reason).to.match(/closed/);
      expect((await run(ctx(receivable(), line({ expiry: NOW.getTime() / 1000 })))).FINANCING_LINE_AVAILABLE.reason).to.match(/expired/);
      expect((await run(ctx(receivable(), line({ debtor: SELLER })))).FINANCING_LINE_AVAILABLE.reason).to.match(/is for debtor/);
      expect((await run(ctx(receivable(), line({ supplier: DEBTOR })))).FINANCING_LINE_AVAILABLE.reason).to.match(/is for supplier/);
      expect((await run(ctx(receivable(), line({ debtor: "0x0000000000000000000000000000000000000000" })))).FINANCING_LINE_AVAILABLE.result).to.equal("pass");
    });

    it("fails an advance one fen above the line's room", async function () {
      const o = (await run(ctx(receivable({ outstanding: 1_000_002n }), line()))).FINANCING_LINE_HEADROOM;
      expect(o.result).to.equal("fail");
      expect(o.reason).to.equal("An advance of 800001 fen exceeds the 800000 fen left on credit line 1.");
    });
  });
});
