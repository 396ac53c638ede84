/**
 * Financing through its direct-transaction entry points: credit lines (open, update, close), the
 * request → approve/reject flow, repayment routing through `Receivables.pay`, and write-off after
 * default. The `…BySig` variants and reentrancy have their own files.
 */
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { anyUint } from "@nomicfoundation/hardhat-chai-matchers/withArgs";
import { expect } from "chai";
import { ethers } from "hardhat";
import { acceptedReceivable, DAY, FUNDING, GRACE_PERIOD, ledgerFixture, lineTerms, signAct, makeInvoice, YEAR, type LedgerFixture, rootId, tokenise } from "./helpers/fixture";
import { FINANCING_DOMAIN, FINANCING_TYPES } from "../../shared/eip712";
import { quoteFinancing } from "../../shared/financing-terms";
import { approvalFor, REGISTRATION, requestTerms, requestedLine } from "./helpers/financing";
import { ROLE_BITS } from "../../shared/roles";

/** IFinancing.Status */
const FS = { None: 0n, Requested: 1n, Rejected: 2n, Active: 3n, Repaid: 4n, WrittenOff: 5n, Withdrawn: 6n } as const;
/** IReceivables.Status */
const RS = { None: 0n, Issued: 1n, Accepted: 2n, Financed: 3n, Paid: 4n, Defaulted: 5n } as const;

const BPS = 10_000n;
const FACE = 1_000_000_00n;
const REASON = ethers.encodeBytes32String("insufficient docs");
const UINT64_MAX = 2n ** 64n - 1n;

type Terms = Awaited<ReturnType<typeof lineTerms>>;

/** Opens a line (default: financier, buyer → supplier, default terms) and returns its id. */
async function openLine(
  f: LedgerFixture,
  opts: { debtor?: string; supplier?: string; financier?: LedgerFixture["financier"]; terms?: Partial<Terms> } = {},
): Promise<bigint> {
  const financier = opts.financier ?? f.financier;
  await f.financing
    .connect(financier)
    .openCreditLine(opts.debtor ?? f.buyer.address, opts.supplier ?? f.supplier.address, await lineTerms(opts.terms));
  return f.financing.creditLineCount();
}

/** An accepted receivable of `f.supplier` on `f.buyer`, with financing requested on `lineId`. */
async function requestedReceivable(f: LedgerFixture, lineId: bigint, overrides: { faceValue?: bigint } = {}) {
  const id = await acceptedReceivable(f, f.supplier, f.buyer, overrides);
  await f.financing.connect(f.supplier).requestFinancing(id, await requestTerms(lineId));
  return id;
}

/** The advance and supplier payout the contract must compute, at block time `now`. */
function expectedQuote(outstanding: bigint, maxAdvanceBps: bigint, discountBps: bigint, dueDate: bigint, now: bigint) {
  const advance = (outstanding * maxAdvanceBps) / BPS;
  const term = dueDate > now ? dueDate - now : 0n;
  const discount = (advance * discountBps * term) / (BPS * YEAR);
  return { advance, discount, paid: advance - discount };
}

/** Approves financing of `id` at a fixed block time; returns the expected quote and the time. */
async function approveAtFixedTime(f: LedgerFixture, id: bigint, terms = { maxAdvanceBps: 9_000n, discountBps: 500n }) {
  const r = await f.receivables.receivable(id);
  const at = BigInt(await time.latest()) + 10n;
  const approval = await approvalFor(f, id, { at });
  await time.setNextBlockTimestamp(at);
  const tx = await f.financing.connect(f.financier).approveFinancing(id, approval);
  return { tx, at, ...expectedQuote(r.outstanding, terms.maxAdvanceBps, terms.discountBps, r.dueDate, at) };
}

/** Line 1 (90 %, 5 % a year) with one financed receivable of FACE. */
async function financedFixture() {
  const f = await loadFixture(ledgerFixture);
  const lineId = await openLine(f);
  const id = await requestedReceivable(f, lineId);
  const supplierBefore = await f.token.balanceOf(f.supplier.address);
  const q = await approveAtFixedTime(f, id);
  return { f, lineId, id, supplierBefore, ...q };
}

describe("Financing", function () {
  describe(".openCreditLine()", function () {
    describe("when a verified financier opens a line for a debtor and a supplier", function () {
      it("numbers lines from 1, stores the terms and emits CreditLineOpened", async function () {
        const f = await loadFixture(ledgerFixture);
        expect(await f.financing.creditLineCount()).to.equal(0n);
        const t = await lineTerms();
        await expect(f.financing.connect(f.financier).openCreditLine(f.buyer.address, f.supplier.address, t))
          .to.emit(f.financing, "CreditLineOpened")
          .withArgs(1n, f.financier.address, f.buyer.address, f.supplier.address, t.limit, t.maxAdvanceBps, t.discountBps, t.expiry);
        expect(await f.financing.creditLineCount()).to.equal(1n);
        const line = await f.financing.creditLine(1n);
        expect(line.id).to.equal(1n);
        expect(line.financier).to.equal(f.financier.address);
        expect(line.debtor).to.equal(f.buyer.address);
        expect(line.supplier).to.equal(f.supplier.address);
        expect(line.limit).to.equal(t.limit);
        expect(line.utilised).to.equal(0n);
        expect(line.maxAdvanceBps).to.equal(t.maxAdvanceBps);
        expect(line.discountBps).to.equal(t.discountBps);
        expect(line.expiry).to.equal(t.expiry);
        expect(line.open).to.equal(true);
      });

      it("gives the next line id 2, also for another financier", async function () {
        const f = await loadFixture(ledgerFixture);
        await openLine(f);
        const t = await lineTerms();
        await expect(f.financing.connect(f.financier2).openCreditLine(f.buyer.address, ethers.ZeroAddress, t))
          .to.emit(f.financing, "CreditLineOpened")
          .withArgs(2n, f.financier2.address, f.buyer.address, ethers.ZeroAddress, t.limit, t.maxAdvanceBps, t.discountBps, t.expiry);
        expect(await f.financing.creditLineCount()).to.equal(2n);
        expect((await f.financing.creditLine(2n)).financier).to.equal(f.financier2.address);
        expect((await f.financing.creditLine(1n)).financier).to.equal(f.financier.address);
      });

      it("accepts the boundary terms: limit 2^64-1, 100 % advance, 100 % discount", async function () {
        const f = await loadFixture(ledgerFixture);
        const lineId = await openLine(f, { terms: { limit: UINT64_MAX, maxAdvanceBps: BPS, discountBps: BPS } });
        const line = await f.financing.creditLine(lineId);
        expect(line.limit).to.equal(UINT64_MAX);
        expect(line.maxAdvanceBps).to.equal(BPS);
        expect(line.discountBps).to.equal(BPS);
      });

      it("accepts an expiry one second after the block", async function () {
        const f = await loadFixture(ledgerFixture);
        const at = BigInt(await time.latest()) + 10n;
        await time.setNextBlockTimestamp(at);
        await f.financing.connect(f.financier).openCreditLine(f.buyer.address, f.supplier.address, await lineTerms({ expiry: at + 1n }));
        expect((await f.financing.creditLine(1n)).expiry).to.equal(at + 1n);
      });
    });

    describe("when the line is scoped to a debtor only", function () {
      it("opens with supplier zero and finances any supplier's receivable on that debtor", async function () {
        const f = await loadFixture(ledgerFixture);
        const t = await lineTerms();
        await expect(f.financing.connect(f.financier).openCreditLine(f.buyer.address, ethers.ZeroAddress, t))
          .to.emit(f.financing, "CreditLineOpened")
          .withArgs(1n, f.financier.address, f.buyer.address, ethers.ZeroAddress, t.limit, t.maxAdvanceBps, t.discountBps, t.expiry);
        expect((await f.financing.creditLine(1n)).supplier).to.equal(ethers.ZeroAddress);
        const id = await acceptedReceivable(f, f.supplier2, f.buyer);
        await expect(f.financing.connect(f.supplier2).requestFinancing(id, await requestTerms(1n)))
          .to.emit(f.financing, "FinancingRequested")
          .withArgs(id, 1n, f.supplier2.address, 0n, UINT64_MAX, anyUint);
        const other = await acceptedReceivable(f, f.supplier, f.buyer2);
        await expect(f.financing.connect(f.supplier).requestFinancing(other, await requestTerms(1n)))
          .to.be.revertedWithCustomError(f.financing, "CreditLineScopeMismatch")
          .withArgs(1n, f.buyer2.address, f.supplier.address);
      });
    });

    describe("when the line is scoped to a supplier only", function () {
      it("opens with debtor zero and finances that supplier's receivables on any debtor", async function () {
        const f = await loadFixture(ledgerFixture);
        const t = await lineTerms();
        await expect(f.financing.connect(f.financier).openCreditLine(ethers.ZeroAddress, f.supplier.address, t))
          .to.emit(f.financing, "CreditLineOpened")
          .withArgs(1n, f.financier.address, ethers.ZeroAddress, f.supplier.address, t.limit, t.maxAdvanceBps, t.discountBps, t.expiry);
        expect((await f.financing.creditLine(1n)).debtor).to.equal(ethers.ZeroAddress);
        const id = await acceptedReceivable(f, f.supplier, f.buyer2);
        await expect(f.financing.connect(f.supplier).requestFinancing(id, await requestTerms(1n)))
          .to.emit(f.financing, "FinancingRequested")
          .withArgs(id, 1n, f.supplier.address, 0n, UINT64_MAX, anyUint);
        const other = await acceptedReceivable(f, f.supplier2, f.buyer);
        await expect(f.financing.connect(f.supplier2).requestFinancing(other, await requestTerms(1n)))
          .to.be.revertedWithCustomError(f.financing, "CreditLineScopeMismatch")
          .withArgs(1n, f.buyer.address, f.supplier2.address);
      });
    });

    describe("when the caller is not a verified financier", function () {
      for (const who of ["outsider", "supplier", "buyer", "auditor"] as const) {
        it(`reverts for the ${who} with FinancingUnverifiedParty(caller, FINANCIER)`, async function () {
          const f = await loadFixture(ledgerFixture);
          const caller = f[who];
          await expect(f.financing.connect(caller).openCreditLine(f.buyer.address, f.supplier.address, await lineTerms()))
            .to.be.revertedWithCustomError(f.financing, "FinancingUnverifiedParty")
            .withArgs(caller.address, ROLE_BITS.financier);
          expect(await f.financing.creditLineCount()).to.equal(0n);
        });
      }

      it("reverts for a suspended financier", async function () {
        const f = await loadFixture(ledgerFixture);
        await f.registry.connect(f.officer).suspend(f.financier2.address, REASON);
        await expect(f.financing.connect(f.financier2).openCreditLine(f.buyer.address, f.supplier.address, await lineTerms()))
          .to.be.revertedWithCustomError(f.financing, "FinancingUnverifiedParty")
          .withArgs(f.financier2.address, ROLE_BITS.financier);
        expect(await f.financing.creditLineCount()).to.equal(0n);
      });
    });

    describe("when the scope is invalid", function () {
      it("reverts when both debtor and supplier are zero", async function () {
        const f = await loadFixture(ledgerFixture);
        await expect(f.financing.connect(f.financier).openCreditLine(ethers.ZeroAddress, ethers.ZeroAddress, await lineTerms()))
          .to.be.revertedWithCustomError(f.financing, "CreditLineInvalidScope")
          .withArgs(ethers.ZeroAddress, ethers.ZeroAddress);
      });

      it("reverts when the debtor is the financier itself", async function () {
        const f = await loadFixture(ledgerFixture);
        await expect(f.financing.connect(f.financier).openCreditLine(f.financier.address, ethers.ZeroAddress, await lineTerms()))
          .to.be.revertedWithCustomError(f.financing, "CreditLineInvalidScope")
          .withArgs(f.financier.address, ethers.ZeroAddress);
      });

      it("reverts when the supplier is the financier itself", async function () {
        const f = await loadFixture(ledgerFixture);
        await expect(f.financing.connect(f.financier).openCreditLine(f.buyer.address, f.financier.address, await lineTerms()))
          .to.be.revertedWithCustomError(f.financing, "CreditLineInvalidScope")
          .withArgs(f.buyer.address, f.financier.address);
        expect(await f.financing.creditLineCount()).to.equal(0n);
      });
    });

    describe("when a scoped party is not verified in its role", function () {
      it("reverts when the debtor is not a buyer", async function () {
        const f = await loadFixture(ledgerFixture);
        await expect(f.financing.connect(f.financier).openCreditLine(f.supplier.address, ethers.ZeroAddress, await lineTerms()))
          .to.be.revertedWithCustomError(f.financing, "FinancingUnverifiedParty")
          .withArgs(f.supplier.address, ROLE_BITS.buyer);
      });

      it("reverts when the debtor is not a member", async function () {
        const f = await loadFixture(ledgerFixture);
        await expect(f.financing.connect(f.financier).openCreditLine(f.outsider.address, f.supplier.address, await lineTerms()))
          .to.be.revertedWithCustomError(f.financing, "FinancingUnverifiedParty")
          .withArgs(f.outsider.address, ROLE_BITS.buyer);
      });

      it("reverts when the debtor is a suspended buyer", async function () {
        const f = await loadFixture(ledgerFixture);
        await f.registry.connect(f.officer).suspend(f.buyer.address, REASON);
        await expect(f.financing.connect(f.financier).openCreditLine(f.buyer.address, ethers.ZeroAddress, await lineTerms()))
          .to.be.revertedWithCustomError(f.financing, "FinancingUnverifiedParty")
          .withArgs(f.buyer.address, ROLE_BITS.buyer);
      });

      it("reverts when the supplier is not a supplier", async function () {
        const f = await loadFixture(ledgerFixture);
        await expect(f.financing.connect(f.financier).openCreditLine(f.buyer.address, f.buyer.address, await lineTerms()))
          .to.be.revertedWithCustomError(f.financing, "FinancingUnverifiedParty")
          .withArgs(f.buyer.address, ROLE_BITS.supplier);
      });

      it("reverts when the supplier is not a member", async function () {
        const f = await loadFixture(ledgerFixture);
        await expect(f.financing.connect(f.financier).openCreditLine(ethers.ZeroAddress, f.outsider.address, await lineTerms()))
          .to.be.revertedWithCustomError(f.financing, "FinancingUnverifiedParty")
          .withArgs(f.outsider.address, ROLE_BITS.supplier);
        expect(await f.financing.creditLineCount()).to.equal(0n);
      });
    });

    describe("when the limit is invalid", function () {
      for (const limit of [0n, UINT64_MAX + 1n]) {
        it(`reverts for limit ${limit} with CreditLineInvalidLimit(limit, 0)`, async function () {
          const f = await loadFixture(ledgerFixture);
          await expect(
            f.financing.connect(f.financier).openCreditLine(f.buyer.address, f.supplier.address, await lineTerms({ limit })),
          )
            .to.be.revertedWithCustomError(f.financing, "CreditLineInvalidLimit")
            .withArgs(limit, 0n);
          expect(await f.financing.creditLineCount()).to.equal(0n);
        });
      }
    });

    describe("when the rates are invalid", function () {
      const cases: Array<[string, bigint, bigint]> = [
        ["an advance rate of 0", 0n, 500n],
        ["an advance rate of 10,001 bps", 10_001n, 500n],
        ["a discount of 10,001 bps", 9_000n, 10_001n],
      ];
      for (const [name, maxAdvanceBps, discountBps] of cases) {
        it(`reverts for ${name} with CreditLineInvalidRates`, async function () {
          const f = await loadFixture(ledgerFixture);
          await expect(
            f.financing
              .connect(f.financier)
              .openCreditLine(f.buyer.address, f.supplier.address, await lineTerms({ maxAdvanceBps, discountBps })),
          )
            .to.be.revertedWithCustomError(f.financing, "CreditLineInvalidRates")
            .withArgs(maxAdvanceBps, discountBps);
          expect(await f.financing.creditLineCount()).to.equal(0n);
        });
      }
    });

    describe("when the expiry is not in the future", function () {
      it("reverts for an expiry equal to the block time", async function () {
        const f = await loadFixture(ledgerFixture);
        const at = BigInt(await time.latest()) + 10n;
        const t = await lineTerms({ expiry: at });
        await time.setNextBlockTimestamp(at);
        await expect(f.financing.connect(f.financier).openCreditLine(f.buyer.address, f.supplier.address, t))
          .to.be.revertedWithCustomError(f.financing, "CreditLineInvalidExpiry")
          .withArgs(at);
      });

      it("reverts for an expiry in the past", async function () {
        const f = await loadFixture(ledgerFixture);
        const expiry = BigInt(await time.latest()) - DAY;
        await expect(f.financing.connect(f.financier).openCreditLine(f.buyer.address, f.supplier.address, await lineTerms({ expiry })))
          .to.be.revertedWithCustomError(f.financing, "CreditLineInvalidExpiry")
          .withArgs(expiry);
        expect(await f.financing.creditLineCount()).to.equal(0n);
      });
    });
  });

  describe(".creditLine()", function () {
    describe("when the line does not exist", function () {
      it("reverts with CreditLineNotFound", async function () {
        const f = await loadFixture(ledgerFixture);
        await expect(f.financing.creditLine(0n)).to.be.revertedWithCustomError(f.financing, "CreditLineNotFound").withArgs(0n);
        await openLine(f);
        await expect(f.financing.creditLine(2n)).to.be.revertedWithCustomError(f.financing, "CreditLineNotFound").withArgs(2n);
      });
    });
  });

  describe(".updateCreditLine()", function () {
    describe("when the line's financier updates it", function () {
      it("stores the new terms and emits CreditLineUpdated", async function () {
        const f = await loadFixture(ledgerFixture);
        const lineId = await openLine(f);
        const t = await lineTerms({ limit: 7_000_000_00n, maxAdvanceBps: 8_000n, discountBps: 300n });
        t.expiry += 30n * DAY;
        await expect(f.financing.connect(f.financier).updateCreditLine(lineId, t))
          .to.emit(f.financing, "CreditLineUpdated")
          .withArgs(lineId, t.limit, t.maxAdvanceBps, t.discountBps, t.expiry);
        const line = await f.financing.creditLine(lineId);
        expect(line.limit).to.equal(t.limit);
        expect(line.maxAdvanceBps).to.equal(t.maxAdvanceBps);
        expect(line.discountBps).to.equal(t.discountBps);
        expect(line.expiry).to.equal(t.expiry);
        expect(line.financier).to.equal(f.financier.address);
        expect(line.debtor).to.equal(f.buyer.address);
        expect(line.supplier).to.equal(f.supplier.address);
        expect(line.open).to.equal(true);
      });

      it("applies the new rates to later approvals", async function () {
        const f = await loadFixture(ledgerFixture);
        const lineId = await openLine(f);
        await f.financing.connect(f.financier).updateCreditLine(lineId, await lineTerms({ maxAdvanceBps: 5_000n, discountBps: 0n }));
        const id = await requestedReceivable(f, lineId);
        await expect(f.financing.connect(f.financier).approveFinancing(id, await approvalFor(f, id)))
          .to.emit(f.financing, "FinancingApproved")
          .withArgs(id, lineId, f.financier.address, f.supplier.address, FACE / 2n, FACE / 2n, REGISTRATION);
      });
    });

    describe("when the caller is not the line's financier", function () {
      it("reverts with CreditLineUnauthorized(lineId, caller)", async function () {
        const f = await loadFixture(ledgerFixture);
        const lineId = await openLine(f);
        const t = await lineTerms({ limit: 1_00n });
        for (const caller of [f.financier2, f.supplier, f.outsider]) {
          await expect(f.financing.connect(caller).updateCreditLine(lineId, t))
            .to.be.revertedWithCustomError(f.financing, "CreditLineUnauthorized")
            .withArgs(lineId, caller.address);
        }
        expect((await f.financing.creditLine(lineId)).limit).to.equal(5_000_000_00n);
      });
    });

    describe("when the line does not exist", function () {
      it("reverts with CreditLineNotFound", async function () {
        const f = await loadFixture(ledgerFixture);
        await openLine(f);
        await expect(f.financing.connect(f.financier).updateCreditLine(2n, await lineTerms()))
          .to.be.revertedWithCustomError(f.financing, "CreditLineNotFound")
          .withArgs(2n);
      });
    });

    describe("when the new limit is below utilisation", function () {
      it("reverts with CreditLineInvalidLimit(limit, utilised); a limit equal to it is accepted", async function () {
        const { f, lineId, advance } = await financedFixture();
        await expect(f.financing.connect(f.financier).updateCreditLine(lineId, await lineTerms({ limit: advance - 1n })))
          .to.be.revertedWithCustomError(f.financing, "CreditLineInvalidLimit")
          .withArgs(advance - 1n, advance);
        expect((await f.financing.creditLine(lineId)).limit).to.equal(5_000_000_00n);
        await f.financing.connect(f.financier).updateCreditLine(lineId, await lineTerms({ limit: advance }));
        expect((await f.financing.creditLine(lineId)).limit).to.equal(advance);
      });
    });

    describe("when the new terms are otherwise invalid", function () {
      it("reverts like openCreditLine", async function () {
        const f = await loadFixture(ledgerFixture);
        const lineId = await openLine(f);
        await expect(f.financing.connect(f.financier).updateCreditLine(lineId, await lineTerms({ limit: 0n })))
          .to.be.revertedWithCustomError(f.financing, "CreditLineInvalidLimit")
          .withArgs(0n, 0n);
        await expect(f.financing.connect(f.financier).updateCreditLine(lineId, await lineTerms({ maxAdvanceBps: 0n })))
          .to.be.revertedWithCustomError(f.financing, "CreditLineInvalidRates")
          .withArgs(0n, 500n);
        const expiry = BigInt(await time.latest());
        await expect(f.financing.connect(f.financier).updateCreditLine(lineId, await lineTerms({ expiry })))
          .to.be.revertedWithCustomError(f.financing, "CreditLineInvalidExpiry")
          .withArgs(expiry);
      });
    });
  });

  describe(".closeCreditLine()", function () {
    describe("when the line's financier closes it", function () {
      it("marks it closed and emits CreditLineClosed", async function () {
        const f = await loadFixture(ledgerFixture);
        const lineId = await openLine(f);
        await expect(f.financing.connect(f.financier).closeCreditLine(lineId))
          .to.emit(f.financing, "CreditLineClosed")
          .withArgs(lineId);
        expect((await f.financing.creditLine(lineId)).open).to.equal(false);
      });
    });

    describe("when the caller is not the line's financier", function () {
      it("reverts with CreditLineUnauthorized", async function () {
        const f = await loadFixture(ledgerFixture);
        const lineId = await openLine(f);
        await expect(f.financing.connect(f.financier2).closeCreditLine(lineId))
          .to.be.revertedWithCustomError(f.financing, "CreditLineUnauthorized")
          .withArgs(lineId, f.financier2.address);
        expect((await f.financing.creditLine(lineId)).open).to.equal(true);
      });
    });

    describe("when the line does not exist", function () {
      it("reverts with CreditLineNotFound", async function () {
        const f = await loadFixture(ledgerFixture);
        await expect(f.financing.connect(f.financier).closeCreditLine(1n))
          .to.be.revertedWithCustomError(f.financing, "CreditLineNotFound")
          .withArgs(1n);
      });
    });

    describe("when the line is already closed", function () {
      it("reverts with CreditLineUnavailable", async function () {
        const f = await loadFixture(ledgerFixture);
        const lineId = await openLine(f);
        await f.financing.connect(f.financier).closeCreditLine(lineId);
        await expect(f.financing.connect(f.financier).closeCreditLine(lineId))
          .to.be.revertedWithCustomError(f.financing, "CreditLineUnavailable")
          .withArgs(lineId);
      });
    });

    describe("when the line has been closed", function () {
      it("refuses new requests", async function () {
        const f = await loadFixture(ledgerFixture);
        const lineId = await openLine(f);
        await f.financing.connect(f.financier).closeCreditLine(lineId);
        const id = await acceptedReceivable(f);
        await expect(f.financing.connect(f.supplier).requestFinancing(id, await requestTerms(lineId)))
          .to.be.revertedWithCustomError(f.financing, "CreditLineUnavailable")
          .withArgs(lineId);
        expect((await f.financing.financing(id)).status).to.equal(FS.None);
      });

      it("refuses to approve a request made before closing", async function () {
        const f = await loadFixture(ledgerFixture);
        const lineId = await openLine(f);
        const id = await requestedReceivable(f, lineId);
        await f.financing.connect(f.financier).closeCreditLine(lineId);
        await expect(f.financing.connect(f.financier).approveFinancing(id, await approvalFor(f, id)))
          .to.be.revertedWithCustomError(f.financing, "CreditLineUnavailable")
          .withArgs(lineId);
        expect((await f.financing.financing(id)).status).to.equal(FS.Requested);
        expect(await f.receivables.ownerOf(id)).to.equal(f.supplier.address);
      });

      it("still routes repayments of financings approved before closing", async function () {
        const { f, lineId, id, advance } = await financedFixture();
        await f.financing.connect(f.financier).closeCreditLine(lineId);
        const financierBefore = await f.token.balanceOf(f.financier.address);
        await expect(f.receivables.connect(f.buyer).pay(id, FACE))
          .to.emit(f.financing, "FinancingRepaid")
          .withArgs(id, lineId, advance, FACE - advance, 0n);
        expect(await f.token.balanceOf(f.financier.address)).to.equal(financierBefore + advance);
        expect((await f.financing.financing(id)).status).to.equal(FS.Repaid);
        expect((await f.financing.creditLine(lineId)).utilised).to.equal(0n);
      });
    });
  });

  describe(".requestFinancing()", function () {
    describe("when the holder of an accepted receivable asks an open line in scope", function () {
      it("records the request and emits FinancingRequested", async function () {
        const f = await loadFixture(ledgerFixture);
        const lineId = await openLine(f);
        const id = await acceptedReceivable(f);
        const before = await f.financing.financing(id);
        expect(before.status).to.equal(FS.None);
        expect(before.supplier).to.equal(ethers.ZeroAddress);
        await expect(f.financing.connect(f.supplier).requestFinancing(id, await requestTerms(lineId)))
          .to.emit(f.financing, "FinancingRequested")
          .withArgs(id, lineId, f.supplier.address, 0n, UINT64_MAX, anyUint);
        const fin = await f.financing.financing(id);
        expect(fin.receivableId).to.equal(id);
        expect(fin.status).to.equal(FS.Requested);
        expect(fin.supplier).to.equal(f.supplier.address);
        expect(fin.lineId).to.equal(lineId);
        expect(fin.principal).to.equal(0n);
        // A request moves nothing: the supplier still holds the receivable, unfinanced.
        const r = await f.receivables.receivable(id);
        expect(r.holder).to.equal(f.supplier.address);
        expect(r.status).to.equal(RS.Accepted);
        expect(r.financed).to.equal(false);
        expect((await f.financing.creditLine(lineId)).utilised).to.equal(0n);
      });

      it("lets a supplier that acquired the receivable by transfer request it", async function () {
        const f = await loadFixture(ledgerFixture);
        const lineId = await openLine(f, { supplier: ethers.ZeroAddress });
        const id = await acceptedReceivable(f);
        await f.receivables.connect(f.supplier).transferFrom(f.supplier.address, f.supplier2.address, id);
        await expect(f.financing.connect(f.supplier2).requestFinancing(id, await requestTerms(lineId)))
          .to.emit(f.financing, "FinancingRequested")
          .withArgs(id, lineId, f.supplier2.address, 0n, UINT64_MAX, anyUint);
        expect((await f.financing.financing(id)).supplier).to.equal(f.supplier2.address);
      });
    });

    describe("when the caller does not hold the receivable", function () {
      it("reverts with FinancingNotHolder", async function () {
        const f = await loadFixture(ledgerFixture);
        const lineId = await openLine(f, { supplier: ethers.ZeroAddress });
        const id = await acceptedReceivable(f);
        await expect(f.financing.connect(f.supplier2).requestFinancing(id, await requestTerms(lineId)))
          .to.be.revertedWithCustomError(f.financing, "FinancingNotHolder")
          .withArgs(id, f.supplier2.address);
        expect((await f.financing.financing(id)).status).to.equal(FS.None);
      });
    });

    describe("when the caller is not a verified supplier", function () {
      it("reverts for a non-supplier with FinancingUnverifiedParty(caller, SUPPLIER)", async function () {
        const f = await loadFixture(ledgerFixture);
        const lineId = await openLine(f);
        const id = await acceptedReceivable(f);
        await expect(f.financing.connect(f.financier2).requestFinancing(id, await requestTerms(lineId)))
          .to.be.revertedWithCustomError(f.financing, "FinancingUnverifiedParty")
          .withArgs(f.financier2.address, ROLE_BITS.supplier);
      });

      it("reverts for the holder once suspended", async function () {
        const f = await loadFixture(ledgerFixture);
        const lineId = await openLine(f);
        const id = await acceptedReceivable(f);
        await f.registry.connect(f.officer).suspend(f.supplier.address, REASON);
        await expect(f.financing.connect(f.supplier).requestFinancing(id, await requestTerms(lineId)))
          .to.be.revertedWithCustomError(f.financing, "FinancingUnverifiedParty")
          .withArgs(f.supplier.address, ROLE_BITS.supplier);
        expect((await f.financing.financing(id)).status).to.equal(FS.None);
      });
    });

    describe("when the receivable is issued but not accepted", function () {
      it("reverts with FinancingInvalidReceivableStatus(id, Issued)", async function () {
        const f = await loadFixture(ledgerFixture);
        const lineId = await openLine(f);
        const inv = await makeInvoice(f.buyer.address);
        await tokenise(f, f.supplier, inv);
        const id = rootId(inv.fingerprint as string);
        await expect(f.financing.connect(f.supplier).requestFinancing(id, await requestTerms(lineId)))
          .to.be.revertedWithCustomError(f.financing, "FinancingInvalidReceivableStatus")
          .withArgs(id, RS.Issued);
        expect((await f.financing.financing(id)).status).to.equal(FS.None);
      });
    });

    describe("when the receivable does not exist", function () {
      it("reverts with the receivables ledger's ReceivableNotFound", async function () {
        const f = await loadFixture(ledgerFixture);
        const lineId = await openLine(f);
        const id = BigInt(ethers.keccak256(ethers.toUtf8Bytes("never tokenised")));
        await expect(f.financing.connect(f.supplier).requestFinancing(id, await requestTerms(lineId)))
          .to.be.revertedWithCustomError(f.receivables, "ReceivableNotFound")
          .withArgs(id);
      });
    });

    describe("when the line is not available", function () {
      it("reverts for an unknown line with CreditLineNotFound", async function () {
        const f = await loadFixture(ledgerFixture);
        const id = await acceptedReceivable(f);
        await expect(f.financing.connect(f.supplier).requestFinancing(id, await requestTerms(1n)))
          .to.be.revertedWithCustomError(f.financing, "CreditLineNotFound")
          .withArgs(1n);
      });

      it("reverts for an expired line with CreditLineUnavailable", async function () {
        const f = await loadFixture(ledgerFixture);
        const expiry = BigInt(await time.latest()) + 10n * DAY;
        const lineId = await openLine(f, { terms: { expiry } });
        const id = await acceptedReceivable(f);
        await time.setNextBlockTimestamp(expiry);
        await expect(f.financing.connect(f.supplier).requestFinancing(id, await requestTerms(lineId)))
          .to.be.revertedWithCustomError(f.financing, "CreditLineUnavailable")
          .withArgs(lineId);
        expect((await f.financing.financing(id)).status).to.equal(FS.None);
      });
    });

    describe("when the receivable is outside the line's scope", function () {
      it("reverts for another debtor with CreditLineScopeMismatch(lineId, debtor, supplier)", async function () {
        const f = await loadFixture(ledgerFixture);
        const lineId = await openLine(f);
        const id = await acceptedReceivable(f, f.supplier, f.buyer2);
        await expect(f.financing.connect(f.supplier).requestFinancing(id, await requestTerms(lineId)))
          .to.be.revertedWithCustomError(f.financing, "CreditLineScopeMismatch")
          .withArgs(lineId, f.buyer2.address, f.supplier.address);
        expect((await f.financing.financing(id)).status).to.equal(FS.None);
      });

      it("reverts for another supplier with CreditLineScopeMismatch(lineId, debtor, supplier)", async function () {
        const f = await loadFixture(ledgerFixture);
        const lineId = await openLine(f);
        const id = await acceptedReceivable(f, f.supplier2, f.buyer);
        await expect(f.financing.connect(f.supplier2).requestFinancing(id, await requestTerms(lineId)))
          .to.be.revertedWithCustomError(f.financing, "CreditLineScopeMismatch")
          .withArgs(lineId, f.buyer.address, f.supplier2.address);
      });
    });

    describe("when financing was already requested and the request can still be approved", function () {
      it("reverts with FinancingRequestPending(id, lineId, expiresAt), also for another line", async function () {
        const f = await loadFixture(ledgerFixture);
        const lineId = await openLine(f);
        const line2 = await openLine(f, { financier: f.financier2 });
        const id = await requestedReceivable(f, lineId);
        const { expiresAt } = await f.financing.financing(id);
        await expect(f.financing.connect(f.supplier).requestFinancing(id, await requestTerms(lineId)))
          .to.be.revertedWithCustomError(f.financing, "FinancingRequestPending")
          .withArgs(id, lineId, expiresAt);
        await expect(f.financing.connect(f.supplier).requestFinancing(id, await requestTerms(line2)))
          .to.be.revertedWithCustomError(f.financing, "FinancingRequestPending")
          .withArgs(id, lineId, expiresAt);
        expect((await f.financing.financing(id)).lineId).to.equal(lineId);
      });
    });

    describe("when the previous request was rejected", function () {
      it("allows a new request, to the same or another line", async function () {
        const f = await loadFixture(ledgerFixture);
        const lineId = await openLine(f);
        const line2 = await openLine(f, { financier: f.financier2 });
        const id = await requestedReceivable(f, lineId);
        await f.financing.connect(f.financier).rejectFinancing(id, await requestedLine(f, id), REASON);
        await expect(f.financing.connect(f.supplier).requestFinancing(id, await requestTerms(line2)))
          .to.emit(f.financing, "FinancingRequested")
          .withArgs(id, line2, f.supplier.address, 0n, UINT64_MAX, anyUint);
        const fin = await f.financing.financing(id);
        expect(fin.status).to.equal(FS.Requested);
        expect(fin.lineId).to.equal(line2);
        await f.financing.connect(f.financier2).rejectFinancing(id, await requestedLine(f, id), REASON);
        await expect(f.financing.connect(f.supplier).requestFinancing(id, await requestTerms(lineId)))
          .to.emit(f.financing, "FinancingRequested")
          .withArgs(id, lineId, f.supplier.address, 0n, UINT64_MAX, anyUint);
        await expect(f.financing.connect(f.financier).approveFinancing(id, await approvalFor(f, id))).to.emit(f.financing, "FinancingApproved");
      });
    });
  });

  describe(".approveFinancing()", function () {
    describe("when the line's financier approves a requested financing", function () {
      it("assigns the receivable to the financier", async function () {
        const { f, tx, id } = await financedFixture();
        await expect(tx).to.emit(f.receivables, "ReceivableAssigned").withArgs(id, f.supplier.address, f.financier.address);
        expect(await f.receivables.ownerOf(id)).to.equal(f.financier.address);
        const r = await f.receivables.receivable(id);
        expect(r.holder).to.equal(f.financier.address);
        expect(r.status).to.equal(RS.Financed);
        expect(r.financed).to.equal(true);
        expect(r.outstanding).to.equal(FACE);
      });

      it("pays the supplier exactly advance − discount from the financier and emits FinancingApproved and Transfer", async function () {
        const { f, tx, id, lineId, advance, paid, discount, supplierBefore } = await financedFixture();
        expect(advance).to.equal(900_000_00n);
        expect(discount).to.be.greaterThan(0n);
        await expect(tx)
          .to.emit(f.financing, "FinancingApproved")
          .withArgs(id, lineId, f.financier.address, f.supplier.address, advance, paid, REGISTRATION);
        await expect(tx).to.emit(f.token, "Transfer").withArgs(f.financier.address, f.supplier.address, paid);
        expect(await f.token.balanceOf(f.supplier.address)).to.equal(supplierBefore + paid);
        expect(await f.token.balanceOf(f.financier.address)).to.equal(FUNDING - paid);
        await expect(tx).to.changeTokenBalances(f.token, [f.financier, f.supplier], [-paid, paid]);
      });

      it("agrees with quote() at the approval block", async function () {
        const { f, lineId, id, advance, paid } = await financedFixture();
        const r = await f.receivables.receivable(id);
        // eth_call runs on the latest block: the approval block.
        const q = await f.financing.quote(lineId, r.outstanding, r.dueDate);
        expect(q.advance).to.equal(advance);
        expect(q.paid).to.equal(paid);
      });

      it("raises utilisation by the advance and records the financing as Active", async function () {
        const { f, lineId, id, advance } = await financedFixture();
        expect((await f.financing.creditLine(lineId)).utilised).to.equal(advance);
        const fin = await f.financing.financing(id);
        expect(fin.status).to.equal(FS.Active);
        expect(fin.principal).to.equal(advance);
        expect(fin.supplier).to.equal(f.supplier.address);
        expect(fin.lineId).to.equal(lineId);
        const id2 = await requestedReceivable(f, lineId, { faceValue: 333_333_33n });
        const second = await approveAtFixedTime(f, id2);
        expect(second.advance).to.equal((333_333_33n * 9_000n) / BPS);
        await expect(second.tx)
          .to.emit(f.financing, "FinancingApproved")
          .withArgs(id2, lineId, f.financier.address, f.supplier.address, second.advance, second.paid, REGISTRATION);
        expect((await f.financing.creditLine(lineId)).utilised).to.equal(advance + second.advance);
      });

      it("pays the whole advance when the line charges no discount", async function () {
        const f = await loadFixture(ledgerFixture);
        const lineId = await openLine(f, { terms: { discountBps: 0n, maxAdvanceBps: BPS } });
        const id = await requestedReceivable(f, lineId);
        await expect(f.financing.connect(f.financier).approveFinancing(id, await approvalFor(f, id)))
          .to.emit(f.financing, "FinancingApproved")
          .withArgs(id, lineId, f.financier.address, f.supplier.address, FACE, FACE, REGISTRATION);
        expect(await f.token.balanceOf(f.supplier.address)).to.equal(FACE);
      });
    });

    describe("when the caller is not the line's financier", function () {
      it("reverts with CreditLineUnauthorized(lineId, caller)", async function () {
        const f = await loadFixture(ledgerFixture);
        const lineId = await openLine(f);
        const id = await requestedReceivable(f, lineId);
        for (const caller of [f.financier2, f.supplier, f.buyer]) {
          await expect(f.financing.connect(caller).approveFinancing(id, await approvalFor(f, id)))
            .to.be.revertedWithCustomError(f.financing, "CreditLineUnauthorized")
            .withArgs(lineId, caller.address);
        }
        expect((await f.financing.financing(id)).status).to.equal(FS.Requested);
        expect(await f.receivables.ownerOf(id)).to.equal(f.supplier.address);
      });
    });

    describe("when financing was never requested", function () {
      it("reverts with FinancingInvalidStatus(id, None)", async function () {
        const f = await loadFixture(ledgerFixture);
        await openLine(f);
        const id = await acceptedReceivable(f);
        await expect(f.financing.connect(f.financier).approveFinancing(id, await approvalFor(f, id)))
          .to.be.revertedWithCustomError(f.financing, "FinancingInvalidStatus")
          .withArgs(id, FS.None);
        expect(await f.receivables.ownerOf(id)).to.equal(f.supplier.address);
      });
    });

    describe("when the request was rejected", function () {
      it("reverts with FinancingInvalidStatus(id, Rejected)", async function () {
        const f = await loadFixture(ledgerFixture);
        const lineId = await openLine(f);
        const id = await requestedReceivable(f, lineId);
        await f.financing.connect(f.financier).rejectFinancing(id, await requestedLine(f, id), REASON);
        await expect(f.financing.connect(f.financier).approveFinancing(id, await approvalFor(f, id)))
          .to.be.revertedWithCustomError(f.financing, "FinancingInvalidStatus")
          .withArgs(id, FS.Rejected);
      });
    });

    describe("when the financing was already approved", function () {
      it("reverts with FinancingInvalidStatus(id, Active) and pays nothing twice", async function () {
        const { f, lineId, id, advance } = await financedFixture();
        const supplierBalance = await f.token.balanceOf(f.supplier.address);
        await expect(f.financing.connect(f.financier).approveFinancing(id, await approvalFor(f, id)))
          .to.be.revertedWithCustomError(f.financing, "FinancingInvalidStatus")
          .withArgs(id, FS.Active);
        expect(await f.token.balanceOf(f.supplier.address)).to.equal(supplierBalance);
        expect((await f.financing.creditLine(lineId)).utilised).to.equal(advance);
      });
    });

    describe("when the advance would lift utilisation above the limit", function () {
      it("reverts with CreditLineLimitExceeded(lineId, utilised, advance, limit) and changes nothing", async function () {
        const f = await loadFixture(ledgerFixture);
        const limit = 1_500_000_00n;
        const lineId = await openLine(f, { terms: { limit } });
        const first = await requestedReceivable(f, lineId);
        await f.financing.connect(f.financier).approveFinancing(first, await approvalFor(f, first));
        const utilised = 900_000_00n;
        expect((await f.financing.creditLine(lineId)).utilised).to.equal(utilised);
        const id = await requestedReceivable(f, lineId);
        const supplierBalance = await f.token.balanceOf(f.supplier.address);
        const financierBalance = await f.token.balanceOf(f.financier.address);
        await expect(f.financing.connect(f.financier).approveFinancing(id, await approvalFor(f, id)))
          .to.be.revertedWithCustomError(f.financing, "CreditLineLimitExceeded")
          .withArgs(lineId, utilised, 900_000_00n, limit);
        expect((await f.financing.creditLine(lineId)).utilised).to.equal(utilised);
        expect((await f.financing.financing(id)).status).to.equal(FS.Requested);
        const r = await f.receivables.receivable(id);
        expect(r.holder).to.equal(f.supplier.address);
        expect(r.status).to.equal(RS.Accepted);
        expect(r.financed).to.equal(false);
        expect(await f.token.balanceOf(f.supplier.address)).to.equal(supplierBalance);
        expect(await f.token.balanceOf(f.financier.address)).to.equal(financierBalance);
      });

      it("approves an advance that fills the limit exactly", async function () {
        const f = await loadFixture(ledgerFixture);
        const lineId = await openLine(f, { terms: { limit: 900_000_00n } });
        const id = await requestedReceivable(f, lineId);
        await f.financing.connect(f.financier).approveFinancing(id, await approvalFor(f, id));
        expect((await f.financing.creditLine(lineId)).utilised).to.equal(900_000_00n);
      });
    });

    describe("when the holder transferred the receivable after requesting", function () {
      it("reverts with FinancingHolderChanged(id, requestedBy, holder)", async function () {
        const f = await loadFixture(ledgerFixture);
        const lineId = await openLine(f, { supplier: ethers.ZeroAddress });
        const id = await requestedReceivable(f, lineId);
        await f.receivables.connect(f.supplier).transferFrom(f.supplier.address, f.supplier2.address, id);
        await expect(f.financing.connect(f.financier).approveFinancing(id, await approvalFor(f, id)))
          .to.be.revertedWithCustomError(f.financing, "FinancingHolderChanged")
          .withArgs(id, f.supplier.address, f.supplier2.address);
        const r = await f.receivables.receivable(id);
        expect(r.holder).to.equal(f.supplier2.address);
        expect(r.status).to.equal(RS.Accepted);
        expect(r.financed).to.equal(false);
        expect(await f.token.balanceOf(f.supplier2.address)).to.equal(0n);
      });
    });

    describe("when the supplier was suspended after requesting", function () {
      it("reverts with FinancingUnverifiedParty(supplier, SUPPLIER)", async function () {
        const f = await loadFixture(ledgerFixture);
        const lineId = await openLine(f);
        const id = await requestedReceivable(f, lineId);
        await f.registry.connect(f.officer).suspend(f.supplier.address, REASON);
        await expect(f.financing.connect(f.financier).approveFinancing(id, await approvalFor(f, id)))
          .to.be.revertedWithCustomError(f.financing, "FinancingUnverifiedParty")
          .withArgs(f.supplier.address, ROLE_BITS.supplier);
        expect(await f.receivables.ownerOf(id)).to.equal(f.supplier.address);
      });
    });

    describe("when the financier was suspended after opening the line", function () {
      it("reverts with FinancingUnverifiedParty(financier, FINANCIER)", async function () {
        const f = await loadFixture(ledgerFixture);
        const lineId = await openLine(f);
        const id = await requestedReceivable(f, lineId);
        await f.registry.connect(f.officer).suspend(f.financier.address, REASON);
        await expect(f.financing.connect(f.financier).approveFinancing(id, await approvalFor(f, id)))
          .to.be.revertedWithCustomError(f.financing, "FinancingUnverifiedParty")
          .withArgs(f.financier.address, ROLE_BITS.financier);
        expect(await f.receivables.ownerOf(id)).to.equal(f.supplier.address);
      });
    });

    describe("when the line expired after the request", function () {
      it("reverts with CreditLineUnavailable", async function () {
        const f = await loadFixture(ledgerFixture);
        const expiry = BigInt(await time.latest()) + 30n * DAY;
        const lineId = await openLine(f, { terms: { expiry } });
        const id = await requestedReceivable(f, lineId);
        await time.setNextBlockTimestamp(expiry);
        await expect(f.financing.connect(f.financier).approveFinancing(id, await approvalFor(f, id)))
          .to.be.revertedWithCustomError(f.financing, "CreditLineUnavailable")
          .withArgs(lineId);
        expect((await f.financing.financing(id)).status).to.equal(FS.Requested);
        expect(await f.receivables.ownerOf(id)).to.equal(f.supplier.address);
      });
    });

    describe("when the receivable reached its due date but is not defaulted", function () {
      it("reverts with FinancingReceivableOverdue(id, dueDate)", async function () {
        const f = await loadFixture(ledgerFixture);
        const lineId = await openLine(f);
        const id = await acceptedReceivable(f);
        const { dueDate } = await f.receivables.receivable(id);
        await f.financing.connect(f.supplier).requestFinancing(id, await requestTerms(lineId, { expiresAt: dueDate + DAY }));
        await time.setNextBlockTimestamp(dueDate);
        await expect(f.financing.connect(f.financier).approveFinancing(id, await approvalFor(f, id)))
          .to.be.revertedWithCustomError(f.financing, "FinancingReceivableOverdue")
          .withArgs(id, dueDate);
        const r = await f.receivables.receivable(id);
        expect(r.status).to.equal(RS.Accepted);
        expect(r.holder).to.equal(f.supplier.address);
        expect((await f.financing.creditLine(lineId)).utilised).to.equal(0n);
      });
    });

    describe("when the financier cannot pay", function () {
      it("reverts with ERC20InsufficientBalance and changes nothing", async function () {
        const f = await loadFixture(ledgerFixture);
        const lineId = await openLine(f);
        const id = await requestedReceivable(f, lineId);
        await f.token.connect(f.financier).transfer(f.financier2.address, FUNDING - 1_00n);
        const { dueDate } = await f.receivables.receivable(id);
        const at = BigInt(await time.latest()) + 10n;
        const { paid } = expectedQuote(FACE, 9_000n, 500n, dueDate, at);
        const approval = await approvalFor(f, id, { at });
        await time.setNextBlockTimestamp(at);
        await expect(f.financing.connect(f.financier).approveFinancing(id, approval))
          .to.be.revertedWithCustomError(f.token, "ERC20InsufficientBalance")
          .withArgs(f.financier.address, 1_00n, paid);
        expect(await f.token.balanceOf(f.financier.address)).to.equal(1_00n);
        expect(await f.token.balanceOf(f.supplier.address)).to.equal(0n);
        const r = await f.receivables.receivable(id);
        expect(r.holder).to.equal(f.supplier.address);
        expect(r.status).to.equal(RS.Accepted);
        expect(r.financed).to.equal(false);
        expect((await f.financing.financing(id)).status).to.equal(FS.Requested);
        expect((await f.financing.creditLine(lineId)).utilised).to.equal(0n);
      });

      it("reverts with ERC20InsufficientAllowance and changes nothing", async function () {
        const f = await loadFixture(ledgerFixture);
        const lineId = await openLine(f);
        const id = await requestedReceivable(f, lineId);
        await f.token.connect(f.financier).approve(await f.financing.getAddress(), 0n);
        const { dueDate } = await f.receivables.receivable(id);
        const at = BigInt(await time.latest()) + 10n;
        const { paid } = expectedQuote(FACE, 9_000n, 500n, dueDate, at);
        const approval = await approvalFor(f, id, { at });
        await time.setNextBlockTimestamp(at);
        await expect(f.financing.connect(f.financier).approveFinancing(id, approval))
          .to.be.revertedWithCustomError(f.token, "ERC20InsufficientAllowance")
          .withArgs(await f.financing.getAddress(), 0n, paid);
        expect(await f.token.balanceOf(f.financier.address)).to.equal(FUNDING);
        expect(await f.receivables.ownerOf(id)).to.equal(f.supplier.address);
        expect((await f.receivables.receivable(id)).financed).to.equal(false);
        expect((await f.financing.financing(id)).status).to.equal(FS.Requested);
        expect((await f.financing.creditLine(lineId)).utilised).to.equal(0n);
      });
    });
  });

  describe(".rejectFinancing()", function () {
    describe("when the line's financier rejects a request", function () {
      it("marks it Rejected and emits FinancingRejected(id, lineId, reasonCode)", async function () {
        const f = await loadFixture(ledgerFixture);
        const lineId = await openLine(f);
        const id = await requestedReceivable(f, lineId);
        await expect(f.financing.connect(f.financier).rejectFinancing(id, await requestedLine(f, id), REASON))
          .to.emit(f.financing, "FinancingRejected")
          .withArgs(id, lineId, REASON);
        const fin = await f.financing.financing(id);
        expect(fin.status).to.equal(FS.Rejected);
        expect(fin.lineId).to.equal(lineId);
        const r = await f.receivables.receivable(id);
        expect(r.holder).to.equal(f.supplier.address);
        expect(r.status).to.equal(RS.Accepted);
      });
    });

    describe("when the caller is not the line's financier", function () {
      it("reverts with CreditLineUnauthorized(lineId, caller)", async function () {
        const f = await loadFixture(ledgerFixture);
        const lineId = await openLine(f);
        const id = await requestedReceivable(f, lineId);
        for (const caller of [f.financier2, f.supplier]) {
          await expect(f.financing.connect(caller).rejectFinancing(id, await requestedLine(f, id), REASON))
            .to.be.revertedWithCustomError(f.financing, "CreditLineUnauthorized")
            .withArgs(lineId, caller.address);
        }
        expect((await f.financing.financing(id)).status).to.equal(FS.Requested);
      });
    });

    describe("when the financing is not Requested", function () {
      it("reverts for a never-requested receivable with FinancingInvalidStatus(id, None)", async function () {
        const f = await loadFixture(ledgerFixture);
        await openLine(f);
        const id = await acceptedReceivable(f);
        await expect(f.financing.connect(f.financier).rejectFinancing(id, await requestedLine(f, id), REASON))
          .to.be.revertedWithCustomError(f.financing, "FinancingInvalidStatus")
          .withArgs(id, FS.None);
      });

      it("reverts for a rejected request with FinancingInvalidStatus(id, Rejected)", async function () {
        const f = await loadFixture(ledgerFixture);
        const lineId = await openLine(f);
        const id = await requestedReceivable(f, lineId);
        await f.financing.connect(f.financier).rejectFinancing(id, await requestedLine(f, id), REASON);
        await expect(f.financing.connect(f.financier).rejectFinancing(id, await requestedLine(f, id), REASON))
          .to.be.revertedWithCustomError(f.financing, "FinancingInvalidStatus")
          .withArgs(id, FS.Rejected);
      });

      it("reverts for an approved financing with FinancingInvalidStatus(id, Active)", async function () {
        const { f, id } = await financedFixture();
        await expect(f.financing.connect(f.financier).rejectFinancing(id, await requestedLine(f, id), REASON))
          .to.be.revertedWithCustomError(f.financing, "FinancingInvalidStatus")
          .withArgs(id, FS.Active);
        expect((await f.financing.financing(id)).status).to.equal(FS.Active);
      });
    });
  });

  describe("the supplier's terms under a hostile financier", function () {
    /** Line 1 at 90 % / 5 % a year; a request held to the line's quote at `at`. */
    async function tightRequestFixture() {
      const f = await loadFixture(ledgerFixture);
      const lineId = await openLine(f);
      const id = await acceptedReceivable(f);
      const r = await f.receivables.receivable(id);
      const at = BigInt(await time.latest()) + 10n;
      const q = quoteFinancing({ maxAdvanceBps: 9_000n, discountBps: 500n }, r.outstanding, r.dueDate, at);
      const terms = await requestTerms(lineId, { minPaid: q.paid, maxDiscount: q.discount });
      await f.financing.connect(f.supplier).requestFinancing(id, terms);
      return { f, lineId, id, terms, at, dueDate: r.dueDate };
    }

    describe("when the line is repriced to 100 % advance / 100 % a year under the pending request", function () {
      it("reverts the approval at the new quote with FinancingTermsNotMet and moves nothing", async function () {
        const { f, lineId, id, terms, at } = await tightRequestFixture();
        await f.financing
          .connect(f.financier)
          .updateCreditLine(lineId, await lineTerms({ maxAdvanceBps: 10_000n, discountBps: 10_000n }));
        const approval = await approvalFor(f, id, { at: at + 5n });
        expect(approval.paid).to.be.lessThan(terms.minPaid);
        await time.setNextBlockTimestamp(at + 5n);
        await expect(f.financing.connect(f.financier).approveFinancing(id, approval))
          .to.be.revertedWithCustomError(f.financing, "FinancingTermsNotMet")
          .withArgs(id, approval.paid, terms.minPaid, approval.advance - approval.paid, terms.maxDiscount);
        expect(await f.token.balanceOf(f.supplier.address)).to.equal(0n);
        expect(await f.receivables.ownerOf(id)).to.equal(f.supplier.address);
        expect((await f.financing.financing(id)).status).to.equal(FS.Requested);
      });
    });

    describe("when the line's discount is raised under the pending request", function () {
      it("reverts with FinancingTermsNotMet: the supplier would be paid less now and in total", async function () {
        const { f, lineId, id, terms, at } = await tightRequestFixture();
        await f.financing.connect(f.financier).updateCreditLine(lineId, await lineTerms({ discountBps: 600n }));
        const approval = await approvalFor(f, id, { at: at + 5n });
        await time.setNextBlockTimestamp(at + 5n);
        await expect(f.financing.connect(f.financier).approveFinancing(id, approval))
          .to.be.revertedWithCustomError(f.financing, "FinancingTermsNotMet")
          .withArgs(id, approval.paid, terms.minPaid, approval.advance - approval.paid, terms.maxDiscount);
      });
    });

    describe("when the line's advance rate is raised (more now, but a larger discount in total)", function () {
      it("reverts with FinancingTermsNotMet on the discount", async function () {
        const { f, lineId, id, terms, at } = await tightRequestFixture();
        await f.financing.connect(f.financier).updateCreditLine(lineId, await lineTerms({ maxAdvanceBps: 10_000n }));
        const approval = await approvalFor(f, id, { at: at + 5n });
        expect(approval.paid).to.be.greaterThan(terms.minPaid);
        await time.setNextBlockTimestamp(at + 5n);
        await expect(f.financing.connect(f.financier).approveFinancing(id, approval))
          .to.be.revertedWithCustomError(f.financing, "FinancingTermsNotMet")
          .withArgs(id, approval.paid, terms.minPaid, approval.advance - approval.paid, terms.maxDiscount);
      });
    });

    describe("when the line is repriced in the supplier's favour", function () {
      it("approves at the better terms", async function () {
        const { f, lineId, id, terms, at } = await tightRequestFixture();
        await f.financing.connect(f.financier).updateCreditLine(lineId, await lineTerms({ discountBps: 100n }));
        const approval = await approvalFor(f, id, { at: at + 5n });
        expect(approval.paid).to.be.greaterThan(terms.minPaid);
        await time.setNextBlockTimestamp(at + 5n);
        await expect(f.financing.connect(f.financier).approveFinancing(id, approval))
          .to.emit(f.financing, "FinancingApproved")
          .withArgs(id, lineId, f.financier.address, f.supplier.address, approval.advance, approval.paid, REGISTRATION);
        expect(await f.token.balanceOf(f.supplier.address)).to.equal(approval.paid);
      });
    });

    describe("when the financier names a payout one fen below the quote", function () {
      it("reverts with FinancingTermsNotMet", async function () {
        const { f, id, terms, at } = await tightRequestFixture();
        const approval = await approvalFor(f, id, { at: at + 5n });
        const short = { ...approval, paid: terms.minPaid - 1n };
        await expect(f.financing.connect(f.financier).approveFinancing(id, short))
          .to.be.revertedWithCustomError(f.financing, "FinancingTermsNotMet")
          .withArgs(id, short.paid, terms.minPaid, short.advance - short.paid, terms.maxDiscount);
      });
    });

    describe("when the financier names an advance that is not the line's rate times the outstanding amount", function () {
      it("reverts with FinancingAdvanceMismatch(id, advance, paid, expected)", async function () {
        const { f, id } = await tightRequestFixture();
        const approval = await approvalFor(f, id);
        const inflated = { ...approval, advance: approval.advance + 1n };
        await expect(f.financing.connect(f.financier).approveFinancing(id, inflated))
          .to.be.revertedWithCustomError(f.financing, "FinancingAdvanceMismatch")
          .withArgs(id, inflated.advance, inflated.paid, approval.advance);
        const overpaid = { ...approval, paid: approval.advance + 1n };
        await expect(f.financing.connect(f.financier).approveFinancing(id, overpaid))
          .to.be.revertedWithCustomError(f.financing, "FinancingAdvanceMismatch")
          .withArgs(id, approval.advance, overpaid.paid, approval.advance);
      });
    });

    describe("when the approval names another line than the request's", function () {
      it("reverts with FinancingLineMismatch(id, named, requested)", async function () {
        const { f, lineId, id } = await tightRequestFixture();
        const other = await openLine(f);
        const approval = { ...(await approvalFor(f, id)), lineId: other };
        await expect(f.financing.connect(f.financier).approveFinancing(id, approval))
          .to.be.revertedWithCustomError(f.financing, "FinancingLineMismatch")
          .withArgs(id, other, lineId);
      });
    });

    describe("when the approval carries no registration hash", function () {
      it("reverts with FinancingRegistrationMissing(id)", async function () {
        const { f, id } = await tightRequestFixture();
        const approval = await approvalFor(f, id, { registrationHash: ethers.ZeroHash });
        await expect(f.financing.connect(f.financier).approveFinancing(id, approval))
          .to.be.revertedWithCustomError(f.financing, "FinancingRegistrationMissing")
          .withArgs(id);
      });
    });

    describe("when the request has lapsed", function () {
      it("reverts the approval with FinancingRequestLapsed(id, expiresAt)", async function () {
        const { f, id, terms } = await tightRequestFixture();
        await time.increaseTo(terms.expiresAt + 1n);
        await expect(f.financing.connect(f.financier).approveFinancing(id, await approvalFor(f, id)))
          .to.be.revertedWithCustomError(f.financing, "FinancingRequestLapsed")
          .withArgs(id, terms.expiresAt);
      });
    });

    describe("when the request's terms do not fit", function () {
      it("reverts with FinancingInvalidRequestTerms for a lapse time not in the future or amounts above 64 bits", async function () {
        const f = await loadFixture(ledgerFixture);
        const lineId = await openLine(f);
        const id = await acceptedReceivable(f);
        const now = BigInt(await time.latest());
        for (const bad of [
          { expiresAt: now },
          { minPaid: UINT64_MAX + 1n },
          { maxDiscount: UINT64_MAX + 1n },
          { expiresAt: 2n ** 48n },
        ]) {
          const t = await requestTerms(lineId, bad);
          await expect(f.financing.connect(f.supplier).requestFinancing(id, t))
            .to.be.revertedWithCustomError(f.financing, "FinancingInvalidRequestTerms")
            .withArgs(t.minPaid, t.maxDiscount, t.expiresAt);
        }
        expect((await f.financing.financing(id)).status).to.equal(FS.None);
      });
    });
  });

  describe(".withdrawFinancingRequest()", function () {
    describe("when the requester withdraws its pending request", function () {
      it("marks it Withdrawn, emits FinancingWithdrawn, and the financier can no longer approve it", async function () {
        const f = await loadFixture(ledgerFixture);
        const lineId = await openLine(f);
        const id = await requestedReceivable(f, lineId);
        const approval = await approvalFor(f, id);
        await expect(f.financing.connect(f.supplier).withdrawFinancingRequest(id))
          .to.emit(f.financing, "FinancingWithdrawn")
          .withArgs(id, lineId, f.supplier.address);
        expect((await f.financing.financing(id)).status).to.equal(FS.Withdrawn);
        await expect(f.financing.connect(f.financier).approveFinancing(id, approval))
          .to.be.revertedWithCustomError(f.financing, "FinancingInvalidStatus")
          .withArgs(id, FS.Withdrawn);
      });

      it("lets the holder request again, on another financier's line", async function () {
        const f = await loadFixture(ledgerFixture);
        const lineId = await openLine(f);
        const line2 = await openLine(f, { financier: f.financier2 });
        const id = await requestedReceivable(f, lineId);
        await f.financing.connect(f.supplier).withdrawFinancingRequest(id);
        await expect(f.financing.connect(f.supplier).requestFinancing(id, await requestTerms(line2)))
          .to.emit(f.financing, "FinancingRequested")
          .withArgs(id, line2, f.supplier.address, 0n, UINT64_MAX, anyUint);
        await expect(f.financing.connect(f.financier2).approveFinancing(id, await approvalFor(f, id))).to.emit(
          f.financing,
          "FinancingApproved",
        );
      });
    });

    describe("when someone other than the requester withdraws", function () {
      for (const who of ["financier", "supplier2", "outsider"] as const) {
        it(`reverts for the ${who} with FinancingNotHolder(id, caller)`, async function () {
          const f = await loadFixture(ledgerFixture);
          const id = await requestedReceivable(f, await openLine(f));
          await expect(f.financing.connect(f[who]).withdrawFinancingRequest(id))
            .to.be.revertedWithCustomError(f.financing, "FinancingNotHolder")
            .withArgs(id, f[who].address);
          expect((await f.financing.financing(id)).status).to.equal(FS.Requested);
        });
      }
    });

    describe("when nothing is pending", function () {
      it("reverts with FinancingInvalidStatus for a receivable never requested, or already financed", async function () {
        const { f, id } = await financedFixture();
        const other = await acceptedReceivable(f);
        await expect(f.financing.connect(f.supplier).withdrawFinancingRequest(other))
          .to.be.revertedWithCustomError(f.financing, "FinancingInvalidStatus")
          .withArgs(other, FS.None);
        await expect(f.financing.connect(f.supplier).withdrawFinancingRequest(id))
          .to.be.revertedWithCustomError(f.financing, "FinancingInvalidStatus")
          .withArgs(id, FS.Active);
      });
    });
  });

  describe("a new request superseding a pending one", function () {
    async function pendingFixture() {
      const f = await loadFixture(ledgerFixture);
      const lineId = await openLine(f, { supplier: ethers.ZeroAddress });
      const line2 = await openLine(f, { financier: f.financier2, supplier: ethers.ZeroAddress });
      const id = await requestedReceivable(f, lineId);
      return { f, lineId, line2, id };
    }

    describe("when the pending request's line was closed", function () {
      it("supersedes it (FinancingSuperseded, then FinancingRequested) on another line", async function () {
        const { f, lineId, line2, id } = await pendingFixture();
        await f.financing.connect(f.financier).closeCreditLine(lineId);
        await expect(f.financing.connect(f.supplier).requestFinancing(id, await requestTerms(line2)))
          .to.emit(f.financing, "FinancingSuperseded")
          .withArgs(id, lineId, f.supplier.address)
          .and.to.emit(f.financing, "FinancingRequested")
          .withArgs(id, line2, f.supplier.address, 0n, UINT64_MAX, anyUint);
        expect((await f.financing.financing(id)).lineId).to.equal(line2);
      });
    });

    describe("when the pending request's line expired", function () {
      it("supersedes it on a line still open", async function () {
        const f = await loadFixture(ledgerFixture);
        const now = BigInt(await time.latest());
        const short = await openLine(f, { terms: { expiry: now + 10n * DAY } });
        const long = await openLine(f, { financier: f.financier2 });
        const id = await acceptedReceivable(f);
        await f.financing.connect(f.supplier).requestFinancing(id, await requestTerms(short, { expiresAt: now + 60n * DAY }));
        await time.increase(11n * DAY);
        await expect(f.financing.connect(f.supplier).requestFinancing(id, await requestTerms(long)))
          .to.emit(f.financing, "FinancingSuperseded")
          .withArgs(id, short, f.supplier.address);
      });
    });

    describe("when the pending request lapsed", function () {
      it("supersedes it, also on the same line", async function () {
        const { f, lineId, id } = await pendingFixture();
        const { expiresAt } = await f.financing.financing(id);
        await time.increaseTo(expiresAt + 1n);
        await expect(f.financing.connect(f.supplier).requestFinancing(id, await requestTerms(lineId)))
          .to.emit(f.financing, "FinancingSuperseded")
          .withArgs(id, lineId, f.supplier.address);
        expect((await f.financing.financing(id)).status).to.equal(FS.Requested);
      });
    });

    describe("when the receivable changed hands", function () {
      it("lets the new holder supersede the old holder's request; the old request can no longer be approved", async function () {
        const { f, lineId, line2, id } = await pendingFixture();
        const stale = await approvalFor(f, id);
        await f.receivables.connect(f.supplier).transferFrom(f.supplier.address, f.supplier2.address, id);
        await expect(f.financing.connect(f.supplier2).requestFinancing(id, await requestTerms(line2)))
          .to.emit(f.financing, "FinancingSuperseded")
          .withArgs(id, lineId, f.supplier.address);
        const fin = await f.financing.financing(id);
        expect([fin.supplier, fin.lineId, fin.status]).to.deep.equal([f.supplier2.address, line2, FS.Requested]);
        await expect(f.financing.connect(f.financier).approveFinancing(id, stale))
          .to.be.revertedWithCustomError(f.financing, "FinancingLineMismatch")
          .withArgs(id, lineId, line2);
      });
    });

    describe("when the pending request can still be approved", function () {
      it("reverts for its own requester with FinancingRequestPending", async function () {
        const { f, lineId, line2, id } = await pendingFixture();
        const { expiresAt } = await f.financing.financing(id);
        await expect(f.financing.connect(f.supplier).requestFinancing(id, await requestTerms(line2)))
          .to.be.revertedWithCustomError(f.financing, "FinancingRequestPending")
          .withArgs(id, lineId, expiresAt);
      });
    });
  });

  describe("financier acts by a suspended financier", function () {
    async function suspended<T>(ctx: T & { f: LedgerFixture }): Promise<T & { f: LedgerFixture }> {
      await ctx.f.registry.connect(ctx.f.officer).suspend(ctx.f.financier.address, REASON);
      return ctx;
    }
    const unverified = (f: LedgerFixture) => [f.financier.address, ROLE_BITS.financier] as const;

    it("reverts updateCreditLine with FinancingUnverifiedParty(financier, FINANCIER)", async function () {
      const f = await loadFixture(ledgerFixture);
      const lineId = await openLine(f);
      await suspended({ f });
      await expect(f.financing.connect(f.financier).updateCreditLine(lineId, await lineTerms({ discountBps: 0n })))
        .to.be.revertedWithCustomError(f.financing, "FinancingUnverifiedParty")
        .withArgs(...unverified(f));
    });

    it("reverts closeCreditLine with FinancingUnverifiedParty(financier, FINANCIER)", async function () {
      const f = await loadFixture(ledgerFixture);
      const lineId = await openLine(f);
      await suspended({ f });
      await expect(f.financing.connect(f.financier).closeCreditLine(lineId))
        .to.be.revertedWithCustomError(f.financing, "FinancingUnverifiedParty")
        .withArgs(...unverified(f));
      expect((await f.financing.creditLine(lineId)).open).to.equal(true);
    });

    it("reverts rejectFinancing and approveFinancing with FinancingUnverifiedParty(financier, FINANCIER)", async function () {
      const f = await loadFixture(ledgerFixture);
      const lineId = await openLine(f);
      const id = await requestedReceivable(f, lineId);
      const approval = await approvalFor(f, id);
      await suspended({ f });
      await expect(f.financing.connect(f.financier).rejectFinancing(id, lineId, REASON))
        .to.be.revertedWithCustomError(f.financing, "FinancingUnverifiedParty")
        .withArgs(...unverified(f));
      await expect(f.financing.connect(f.financier).approveFinancing(id, approval))
        .to.be.revertedWithCustomError(f.financing, "FinancingUnverifiedParty")
        .withArgs(...unverified(f));
      expect((await f.financing.financing(id)).status).to.equal(FS.Requested);
    });

    it("reverts writeOff with FinancingUnverifiedParty(financier, FINANCIER)", async function () {
      const { f, lineId, id, advance } = await financedFixture();
      const { dueDate } = await f.receivables.receivable(id);
      await time.increaseTo(dueDate + GRACE_PERIOD + 1n);
      await f.receivables.connect(f.financier).markDefaulted(id);
      await suspended({ f });
      await expect(f.financing.connect(f.financier).writeOff(id))
        .to.be.revertedWithCustomError(f.financing, "FinancingUnverifiedParty")
        .withArgs(...unverified(f));
      expect((await f.financing.creditLine(lineId)).utilised).to.equal(advance);
    });
  });

  describe("approval of a suspended debtor's receivable", function () {
    it("reverts with FinancingUnverifiedParty(debtor, BUYER) and assigns nothing", async function () {
      const f = await loadFixture(ledgerFixture);
      const lineId = await openLine(f);
      const id = await requestedReceivable(f, lineId);
      const approval = await approvalFor(f, id);
      await f.registry.connect(f.officer).suspend(f.buyer.address, REASON);
      await expect(f.financing.connect(f.financier).approveFinancing(id, approval))
        .to.be.revertedWithCustomError(f.financing, "FinancingUnverifiedParty")
        .withArgs(f.buyer.address, ROLE_BITS.buyer);
      expect(await f.receivables.ownerOf(id)).to.equal(f.supplier.address);
      expect(await f.token.balanceOf(f.supplier.address)).to.equal(0n);
    });
  });

  describe(".financeSignedRequest()", function () {
    async function signedRequest(f: LedgerFixture, lineId: bigint, id: bigint, overrides = {}) {
      const terms = await requestTerms(lineId, overrides);
      const auth = { nonce: 11n, deadline: BigInt(await time.latest()) + DAY, signature: "0x" };
      auth.signature = await signAct(
        f.supplier,
        { ...FINANCING_DOMAIN, verifyingContract: await f.financing.getAddress() },
        FINANCING_TYPES.RequestFinancing,
        { supplier: f.supplier.address, receivableId: id, terms, nonce: auth.nonce, deadline: auth.deadline },
      );
      return { terms, auth };
    }

    describe("when the line's financier approves the holder's signed request in one transaction", function () {
      it("requests and approves at once: FinancingRequested, FinancingApproved, payment and assignment", async function () {
        const f = await loadFixture(ledgerFixture);
        const lineId = await openLine(f);
        const id = await acceptedReceivable(f);
        const { terms, auth } = await signedRequest(f, lineId, id);
        const approval = await approvalFor(f, id, { lineId });
        const tx = f.financing.connect(f.financier).financeSignedRequest(f.supplier.address, id, terms, auth, approval);
        await expect(tx)
          .to.emit(f.financing, "FinancingRequested")
          .withArgs(id, lineId, f.supplier.address, terms.minPaid, terms.maxDiscount, terms.expiresAt)
          .and.to.emit(f.financing, "FinancingApproved")
          .withArgs(id, lineId, f.financier.address, f.supplier.address, approval.advance, approval.paid, REGISTRATION);
        await expect(tx).to.changeTokenBalances(f.token, [f.financier, f.supplier], [-approval.paid, approval.paid]);
        expect(await f.receivables.ownerOf(id)).to.equal(f.financier.address);
        expect(await f.financing.isNonceUsed(f.supplier.address, auth.nonce)).to.equal(true);
      });
    });

    describe("when the approval pays less than the signed request's terms", function () {
      it("reverts with FinancingTermsNotMet and uses no nonce", async function () {
        const f = await loadFixture(ledgerFixture);
        const lineId = await openLine(f);
        const id = await acceptedReceivable(f);
        const approval = await approvalFor(f, id, { lineId });
        const { terms, auth } = await signedRequest(f, lineId, id, { minPaid: approval.paid + 1n });
        await expect(f.financing.connect(f.financier).financeSignedRequest(f.supplier.address, id, terms, auth, approval))
          .to.be.revertedWithCustomError(f.financing, "FinancingTermsNotMet")
          .withArgs(id, approval.paid, terms.minPaid, approval.advance - approval.paid, terms.maxDiscount);
        expect(await f.financing.isNonceUsed(f.supplier.address, auth.nonce)).to.equal(false);
      });
    });

    describe("when someone other than the line's financier submits the signed request", function () {
      it("reverts with CreditLineUnauthorized(lineId, caller)", async function () {
        const f = await loadFixture(ledgerFixture);
        const lineId = await openLine(f);
        const id = await acceptedReceivable(f);
        const { terms, auth } = await signedRequest(f, lineId, id);
        const approval = await approvalFor(f, id, { lineId });
        await expect(f.financing.connect(f.financier2).financeSignedRequest(f.supplier.address, id, terms, auth, approval))
          .to.be.revertedWithCustomError(f.financing, "CreditLineUnauthorized")
          .withArgs(lineId, f.financier2.address);
      });
    });

    describe("when the signed terms are altered", function () {
      it("reverts with SignedActionInvalidSignature(supplier)", async function () {
        const f = await loadFixture(ledgerFixture);
        const lineId = await openLine(f);
        const id = await acceptedReceivable(f);
        const { terms, auth } = await signedRequest(f, lineId, id, { minPaid: 10n ** 9n });
        const approval = await approvalFor(f, id, { lineId });
        await expect(
          f.financing
            .connect(f.financier)
            .financeSignedRequest(f.supplier.address, id, { ...terms, minPaid: 0n }, auth, approval),
        )
          .to.be.revertedWithCustomError(f.financing, "SignedActionInvalidSignature")
          .withArgs(f.supplier.address);
      });
    });
  });

  describe(".financeSignedRequestBySig() (both signatures relayed: the holder's request and the financier's approval)", function () {
    const SUPPLIER_NONCE = 21n;
    const FINANCIER_NONCE = 7n;

    async function domain(f: LedgerFixture) {
      return { ...FINANCING_DOMAIN, verifyingContract: await f.financing.getAddress() };
    }

    /** The holder's signed request (an offer) and the line's financier's signed approval of it. */
    async function offerAndApproval(
      f: LedgerFixture,
      opts: {
        terms?: Partial<Awaited<ReturnType<typeof requestTerms>>>;
        supplierDeadline?: bigint;
        approver?: LedgerFixture["financier"];
        financierName?: string;
        approval?: Awaited<ReturnType<typeof approvalFor>>;
        lineId?: bigint;
        id?: bigint;
      } = {},
    ) {
      const lineId = opts.lineId ?? (await openLine(f));
      const id = opts.id ?? (await acceptedReceivable(f));
      const terms = await requestTerms(lineId, opts.terms);
      const now = BigInt(await time.latest());
      const supplierAuth = { nonce: SUPPLIER_NONCE, deadline: opts.supplierDeadline ?? now + DAY, signature: "0x" };
      supplierAuth.signature = await signAct(f.supplier, await domain(f), FINANCING_TYPES.RequestFinancing, {
        supplier: f.supplier.address,
        receivableId: id,
        terms,
        nonce: supplierAuth.nonce,
        deadline: supplierAuth.deadline,
      });
      const approval = opts.approval ?? (await approvalFor(f, id, { lineId }));
      const approver = opts.approver ?? f.financier;
      const financier = opts.financierName ?? approver.address;
      const financierAuth = { nonce: FINANCIER_NONCE, deadline: now + 3600n, signature: "0x" };
      financierAuth.signature = await signAct(approver, await domain(f), FINANCING_TYPES.ApproveSignedRequest, {
        financier,
        supplier: f.supplier.address,
        receivableId: id,
        approval,
        nonce: financierAuth.nonce,
        deadline: financierAuth.deadline,
      });
      const relay = (over: { financier?: string; approval?: typeof approval; terms?: typeof terms } = {}) =>
        f.financing
          .connect(f.outsider)
          .financeSignedRequestBySig(
            f.supplier.address,
            id,
            over.terms ?? terms,
            supplierAuth,
            over.financier ?? financier,
            over.approval ?? approval,
            financierAuth,
          );
      return { lineId, id, terms, supplierAuth, approval, financierAuth, relay };
    }

    describe("when anyone relays the holder's signed request with the line's financier's signed approval", function () {
      it("requests and approves in one transaction: events, payment, assignment, utilisation, both nonces used", async function () {
        const f = await loadFixture(ledgerFixture);
        const { lineId, id, terms, approval, relay } = await offerAndApproval(f);
        const tx = relay();
        await expect(tx)
          .to.emit(f.financing, "FinancingRequested")
          .withArgs(id, lineId, f.supplier.address, terms.minPaid, terms.maxDiscount, terms.expiresAt)
          .and.to.emit(f.financing, "FinancingApproved")
          .withArgs(id, lineId, f.financier.address, f.supplier.address, approval.advance, approval.paid, REGISTRATION);
        await expect(tx).to.changeTokenBalances(f.token, [f.financier, f.supplier, f.outsider], [-approval.paid, approval.paid, 0n]);
        expect(await f.receivables.ownerOf(id)).to.equal(f.financier.address);
        expect((await f.financing.creditLine(lineId)).utilised).to.equal(approval.advance);
        expect((await f.financing.financing(id)).status).to.equal(FS.Active);
        expect(await f.financing.isNonceUsed(f.supplier.address, SUPPLIER_NONCE)).to.equal(true);
        expect(await f.financing.isNonceUsed(f.financier.address, FINANCIER_NONCE)).to.equal(true);
      });
    });

    describe("when the same pair of signatures is relayed again (replay)", function () {
      it("reverts with SignedActionNonceUsed(supplier, nonce)", async function () {
        const f = await loadFixture(ledgerFixture);
        const { relay } = await offerAndApproval(f);
        await relay();
        await expect(relay()).to.be.revertedWithCustomError(f.financing, "SignedActionNonceUsed").withArgs(f.supplier.address, SUPPLIER_NONCE);
      });
    });

    describe("when the approval is signed by a financier that does not own the line (wrong financier)", function () {
      it("reverts with CreditLineUnauthorized(lineId, signer) and uses neither nonce", async function () {
        const f = await loadFixture(ledgerFixture);
        const { lineId, relay } = await offerAndApproval(f, { approver: f.financier2 });
        await expect(relay()).to.be.revertedWithCustomError(f.financing, "CreditLineUnauthorized").withArgs(lineId, f.financier2.address);
        expect(await f.financing.isNonceUsed(f.supplier.address, SUPPLIER_NONCE)).to.equal(false);
        expect(await f.financing.isNonceUsed(f.financier2.address, FINANCIER_NONCE)).to.equal(false);
      });
    });

    describe("when the approval names the line's financier but another key signed it", function () {
      it("reverts with SignedActionInvalidSignature(financier)", async function () {
        const f = await loadFixture(ledgerFixture);
        const { relay } = await offerAndApproval(f, { approver: f.financier2, financierName: f.financier.address });
        await expect(relay())
          .to.be.revertedWithCustomError(f.financing, "SignedActionInvalidSignature")
          .withArgs(f.financier.address);
      });
    });

    describe("when the approver is not a verified financier (wrong role: the line's financier suspended)", function () {
      it("reverts with FinancingUnverifiedParty(financier, FINANCIER)", async function () {
        const f = await loadFixture(ledgerFixture);
        const { relay } = await offerAndApproval(f);
        await f.registry.connect(f.officer).suspend(f.financier.address, ethers.encodeBytes32String("review"));
        await expect(relay()).to.be.revertedWithCustomError(f.financing, "FinancingUnverifiedParty").withArgs(f.financier.address, ROLE_BITS.financier);
      });
    });

    describe("when the holder signs the approval for itself (wrong role)", function () {
      it("reverts with CreditLineUnauthorized(lineId, supplier)", async function () {
        const f = await loadFixture(ledgerFixture);
        const { lineId, relay } = await offerAndApproval(f, { approver: f.supplier });
        await expect(relay()).to.be.revertedWithCustomError(f.financing, "CreditLineUnauthorized").withArgs(lineId, f.supplier.address);
      });
    });

    describe("when the approval pays less than the offer's terms (terms not met)", function () {
      it("reverts with FinancingTermsNotMet and uses neither nonce", async function () {
        const f = await loadFixture(ledgerFixture);
        const lineId = await openLine(f);
        const id = await acceptedReceivable(f);
        const approval = await approvalFor(f, id, { lineId });
        const { terms, relay } = await offerAndApproval(f, { lineId, id, approval, terms: { minPaid: approval.paid + 1n } });
        await expect(relay())
          .to.be.revertedWithCustomError(f.financing, "FinancingTermsNotMet")
          .withArgs(id, approval.paid, terms.minPaid, approval.advance - approval.paid, terms.maxDiscount);
        expect(await f.financing.isNonceUsed(f.supplier.address, SUPPLIER_NONCE)).to.equal(false);
        expect(await f.financing.isNonceUsed(f.financier.address, FINANCIER_NONCE)).to.equal(false);
      });
    });

    describe("when the approval's amounts are changed after signing", function () {
      it("reverts with SignedActionInvalidSignature(financier)", async function () {
        const f = await loadFixture(ledgerFixture);
        const { approval, relay } = await offerAndApproval(f);
        await expect(relay({ approval: { ...approval, paid: approval.paid - 1n } }))
          .to.be.revertedWithCustomError(f.financing, "SignedActionInvalidSignature")
          .withArgs(f.financier.address);
      });
    });

    describe("when the offer has lapsed (its terms' expiresAt passed)", function () {
      it("reverts with FinancingInvalidRequestTerms", async function () {
        const f = await loadFixture(ledgerFixture);
        const now = BigInt(await time.latest());
        const { terms, relay } = await offerAndApproval(f, { terms: { expiresAt: now + 600n } });
        await time.increaseTo(now + 601n);
        await expect(relay())
          .to.be.revertedWithCustomError(f.financing, "FinancingInvalidRequestTerms")
          .withArgs(terms.minPaid, terms.maxDiscount, terms.expiresAt);
      });
    });

    describe("when the holder's signature deadline passed (expired offer)", function () {
      it("reverts with SignedActionExpired", async function () {
        const f = await loadFixture(ledgerFixture);
        const now = BigInt(await time.latest());
        const { supplierAuth, relay } = await offerAndApproval(f, { supplierDeadline: now + 300n });
        await time.increaseTo(now + 301n);
        await expect(relay()).to.be.revertedWithCustomError(f.financing, "SignedActionExpired").withArgs(supplierAuth.deadline, anyUint);
      });
    });

    describe("when the holder withdrew the offer (withdrawFinancingOfferBySig with the offer's nonce)", function () {
      it("consumes the offer's nonce (NonceInvalidated), so the approval can no longer land: SignedActionNonceUsed", async function () {
        const f = await loadFixture(ledgerFixture);
        const { id, terms, approval, supplierAuth, relay } = await offerAndApproval(f);
        const deadline = BigInt(await time.latest()) + 3600n;
        const signature = await signAct(f.supplier, await domain(f), FINANCING_TYPES.WithdrawFinancingOffer, {
          supplier: f.supplier.address,
          receivableId: id,
          nonce: supplierAuth.nonce,
          deadline,
        });
        await expect(f.financing.connect(f.outsider).withdrawFinancingOfferBySig(f.supplier.address, id, { nonce: supplierAuth.nonce, deadline, signature }))
          .to.emit(f.financing, "NonceInvalidated")
          .withArgs(f.supplier.address, supplierAuth.nonce);
        await expect(relay()).to.be.revertedWithCustomError(f.financing, "SignedActionNonceUsed").withArgs(f.supplier.address, SUPPLIER_NONCE);
        // The direct path (the financier submitting the holder's signature) is closed too.
        await expect(f.financing.connect(f.financier).financeSignedRequest(f.supplier.address, id, terms, supplierAuth, approval))
          .to.be.revertedWithCustomError(f.financing, "SignedActionNonceUsed")
          .withArgs(f.supplier.address, SUPPLIER_NONCE);
        expect((await f.financing.financing(id)).status).to.equal(FS.None);
      });

      it("refuses a withdrawal signed by another key (SignedActionInvalidSignature) or for another receivable", async function () {
        const f = await loadFixture(ledgerFixture);
        const { id, supplierAuth } = await offerAndApproval(f);
        const deadline = BigInt(await time.latest()) + 3600n;
        const message = { supplier: f.supplier.address, receivableId: id, nonce: supplierAuth.nonce, deadline };
        const forged = await signAct(f.outsider, await domain(f), FINANCING_TYPES.WithdrawFinancingOffer, message);
        await expect(f.financing.connect(f.outsider).withdrawFinancingOfferBySig(f.supplier.address, id, { nonce: supplierAuth.nonce, deadline, signature: forged }))
          .to.be.revertedWithCustomError(f.financing, "SignedActionInvalidSignature")
          .withArgs(f.supplier.address);
        const signature = await signAct(f.supplier, await domain(f), FINANCING_TYPES.WithdrawFinancingOffer, message);
        await expect(f.financing.connect(f.outsider).withdrawFinancingOfferBySig(f.supplier.address, id + 1n, { nonce: supplierAuth.nonce, deadline, signature }))
          .to.be.revertedWithCustomError(f.financing, "SignedActionInvalidSignature")
          .withArgs(f.supplier.address);
        expect(await f.financing.isNonceUsed(f.supplier.address, SUPPLIER_NONCE)).to.equal(false);
      });
    });

    describe("when a stored-request approval (ApproveFinancing) is presented instead", function () {
      it("reverts with SignedActionInvalidSignature(financier): the types are distinct", async function () {
        const f = await loadFixture(ledgerFixture);
        const { id, terms, supplierAuth, approval, financierAuth } = await offerAndApproval(f);
        const signature = await signAct(f.financier, await domain(f), FINANCING_TYPES.ApproveFinancing, {
          financier: f.financier.address,
          receivableId: id,
          approval,
          nonce: financierAuth.nonce,
          deadline: financierAuth.deadline,
        });
        await expect(
          f.financing
            .connect(f.outsider)
            .financeSignedRequestBySig(f.supplier.address, id, terms, supplierAuth, f.financier.address, approval, { ...financierAuth, signature }),
        )
          .to.be.revertedWithCustomError(f.financing, "SignedActionInvalidSignature")
          .withArgs(f.financier.address);
      });
    });
  });

  describe("repayment routing through Receivables.pay()", function () {
    describe("when the debtor pays less than the advance", function () {
      it("sends it all to the financier and lowers utilisation by the same", async function () {
        const { f, lineId, id, advance } = await financedFixture();
        const part = 300_000_00n;
        const supplierBefore = await f.token.balanceOf(f.supplier.address);
        const tx = f.receivables.connect(f.buyer).pay(id, part);
        await expect(tx)
          .to.emit(f.financing, "FinancingRepaid")
          .withArgs(id, lineId, part, 0n, advance - part);
        await expect(tx).to.changeTokenBalances(f.token, [f.buyer, f.financier, f.supplier], [-part, part, 0n]);
        expect(await f.token.balanceOf(f.supplier.address)).to.equal(supplierBefore);
        expect((await f.financing.creditLine(lineId)).utilised).to.equal(advance - part);
        const fin = await f.financing.financing(id);
        expect(fin.principal).to.equal(advance - part);
        expect(fin.status).to.equal(FS.Active);
        expect((await f.receivables.receivable(id)).status).to.equal(RS.Financed);
      });
    });

    describe("when a payment crosses the remaining principal", function () {
      it("splits it exactly between financier (principal) and supplier (reserve)", async function () {
        const { f, lineId, id, advance } = await financedFixture();
        await f.receivables.connect(f.buyer).pay(id, 300_000_00n);
        const remaining = advance - 300_000_00n;
        const amount = 700_000_00n - 1n;
        const tx = f.receivables.connect(f.buyer).pay(id, amount);
        await expect(tx)
          .to.emit(f.financing, "FinancingRepaid")
          .withArgs(id, lineId, remaining, amount - remaining, 0n);
        await expect(tx).to.changeTokenBalances(
          f.token,
          [f.buyer, f.financier, f.supplier],
          [-amount, remaining, amount - remaining],
        );
        expect((await f.financing.creditLine(lineId)).utilised).to.equal(0n);
        const fin = await f.financing.financing(id);
        expect(fin.principal).to.equal(0n);
        expect(fin.status).to.equal(FS.Repaid);
        // 1 fen still outstanding on the receivable: all of it reserve.
        const r = await f.receivables.receivable(id);
        expect(r.outstanding).to.equal(1n);
        expect(r.status).to.equal(RS.Financed);
        await expect(f.receivables.connect(f.buyer).pay(id, 1n))
          .to.emit(f.financing, "FinancingRepaid")
          .withArgs(id, lineId, 0n, 1n, 0n);
        expect((await f.receivables.receivable(id)).status).to.equal(RS.Paid);
        expect((await f.financing.financing(id)).status).to.equal(FS.Repaid);
        expect((await f.financing.creditLine(lineId)).utilised).to.equal(0n);
      });
    });

    describe("when the debtor pays in full at once", function () {
      it("repays the financing, frees the line and leaves the supplier with outstanding − discount", async function () {
        const { f, lineId, id, advance, discount, supplierBefore } = await financedFixture();
        const tx = f.receivables.connect(f.buyer).pay(id, FACE);
        await expect(tx)
          .to.emit(f.financing, "FinancingRepaid")
          .withArgs(id, lineId, advance, FACE - advance, 0n);
        await expect(tx).to.changeTokenBalances(f.token, [f.buyer, f.financier, f.supplier], [-FACE, advance, FACE - advance]);
        const fin = await f.financing.financing(id);
        expect(fin.status).to.equal(FS.Repaid);
        expect(fin.principal).to.equal(0n);
        const r = await f.receivables.receivable(id);
        expect(r.status).to.equal(RS.Paid);
        expect(r.outstanding).to.equal(0n);
        expect((await f.financing.creditLine(lineId)).utilised).to.equal(0n);
        expect((await f.token.balanceOf(f.supplier.address)) - supplierBefore).to.equal(FACE - discount);
        // The financier earned the discount.
        expect(await f.token.balanceOf(f.financier.address)).to.equal(FUNDING + discount);
      });
    });

    describe("when the line advanced 100 %", function () {
      it("sends every repayment to the financier and nothing to the supplier", async function () {
        const f = await loadFixture(ledgerFixture);
        const lineId = await openLine(f, { terms: { maxAdvanceBps: BPS } });
        const id = await requestedReceivable(f, lineId);
        const q = await approveAtFixedTime(f, id, { maxAdvanceBps: BPS, discountBps: 500n });
        expect(q.advance).to.equal(FACE);
        await f.receivables.connect(f.buyer).pay(id, 400_000_00n);
        const tx = f.receivables.connect(f.buyer).pay(id, 600_000_00n);
        await expect(tx).to.emit(f.financing, "FinancingRepaid").withArgs(id, lineId, 600_000_00n, 0n, 0n);
        await expect(tx).to.changeTokenBalances(f.token, [f.financier, f.supplier], [600_000_00n, 0n]);
        expect(await f.token.balanceOf(f.supplier.address)).to.equal(q.paid);
        expect((await f.financing.financing(id)).status).to.equal(FS.Repaid);
        expect((await f.financing.creditLine(lineId)).utilised).to.equal(0n);
      });
    });
  });

  describe(".writeOff()", function () {
    async function defaultedFixture() {
      const ctx = await financedFixture();
      const { f, id } = ctx;
      const { dueDate } = await f.receivables.receivable(id);
      await time.increaseTo(dueDate + GRACE_PERIOD + 1n);
      await f.receivables.connect(f.financier).markDefaulted(id);
      return ctx;
    }

    describe("when the line's financier writes off a defaulted financing", function () {
      it("releases the utilisation, marks it WrittenOff and emits FinancingWrittenOff", async function () {
        const { f, lineId, id, advance } = await defaultedFixture();
        expect((await f.financing.creditLine(lineId)).utilised).to.equal(advance);
        await expect(f.financing.connect(f.financier).writeOff(id))
          .to.emit(f.financing, "FinancingWrittenOff")
          .withArgs(id, lineId, advance);
        expect((await f.financing.creditLine(lineId)).utilised).to.equal(0n);
        const fin = await f.financing.financing(id);
        expect(fin.status).to.equal(FS.WrittenOff);
        expect(fin.principal).to.equal(advance);
        expect((await f.receivables.receivable(id)).status).to.equal(RS.Defaulted);
      });

      it("releases only the principal still outstanding after a partial payment", async function () {
        const { f, lineId, id, advance } = await financedFixture();
        await f.receivables.connect(f.buyer).pay(id, 200_000_00n);
        const { dueDate } = await f.receivables.receivable(id);
        await time.increaseTo(dueDate + GRACE_PERIOD + 1n);
        await f.receivables.connect(f.financier).markDefaulted(id);
        await expect(f.financing.connect(f.financier).writeOff(id))
          .to.emit(f.financing, "FinancingWrittenOff")
          .withArgs(id, lineId, advance - 200_000_00n);
        expect((await f.financing.creditLine(lineId)).utilised).to.equal(0n);
      });
    });

    describe("when the receivable is overdue but not marked defaulted", function () {
      it("reverts with FinancingInvalidReceivableStatus(id, Financed)", async function () {
        const { f, lineId, id, advance } = await financedFixture();
        const { dueDate } = await f.receivables.receivable(id);
        await time.increaseTo(dueDate + GRACE_PERIOD + 1n);
        await expect(f.financing.connect(f.financier).writeOff(id))
          .to.be.revertedWithCustomError(f.financing, "FinancingInvalidReceivableStatus")
          .withArgs(id, RS.Financed);
        expect((await f.financing.creditLine(lineId)).utilised).to.equal(advance);
        expect((await f.financing.financing(id)).status).to.equal(FS.Active);
      });
    });

    describe("when the caller is not the line's financier", function () {
      it("reverts with CreditLineUnauthorized(lineId, caller)", async function () {
        const { f, lineId, id, advance } = await defaultedFixture();
        for (const caller of [f.financier2, f.supplier]) {
          await expect(f.financing.connect(caller).writeOff(id))
            .to.be.revertedWithCustomError(f.financing, "CreditLineUnauthorized")
            .withArgs(lineId, caller.address);
        }
        expect((await f.financing.creditLine(lineId)).utilised).to.equal(advance);
        expect((await f.financing.financing(id)).status).to.equal(FS.Active);
      });
    });

    describe("when the financing is not Active", function () {
      it("reverts after a write-off with FinancingInvalidStatus(id, WrittenOff)", async function () {
        const { f, id } = await defaultedFixture();
        await f.financing.connect(f.financier).writeOff(id);
        await expect(f.financing.connect(f.financier).writeOff(id))
          .to.be.revertedWithCustomError(f.financing, "FinancingInvalidStatus")
          .withArgs(id, FS.WrittenOff);
      });

      it("reverts for a requested financing with FinancingInvalidStatus(id, Requested)", async function () {
        const f = await loadFixture(ledgerFixture);
        const lineId = await openLine(f);
        const id = await requestedReceivable(f, lineId);
        await expect(f.financing.connect(f.financier).writeOff(id))
          .to.be.revertedWithCustomError(f.financing, "FinancingInvalidStatus")
          .withArgs(id, FS.Requested);
      });

      it("reverts for a repaid financing with FinancingInvalidStatus(id, Repaid)", async function () {
        const { f, lineId, id, advance } = await financedFixture();
        await f.receivables.connect(f.buyer).pay(id, advance);
        const { dueDate } = await f.receivables.receivable(id);
        await time.increaseTo(dueDate + GRACE_PERIOD + 1n);
        await f.receivables.connect(f.financier).markDefaulted(id);
        await expect(f.financing.connect(f.financier).writeOff(id))
          .to.be.revertedWithCustomError(f.financing, "FinancingInvalidStatus")
          .withArgs(id, FS.Repaid);
        expect((await f.financing.creditLine(lineId)).utilised).to.equal(0n);
      });
    });

    describe("when the debtor pays after the write-off", function () {
      it("repays the financier up to the principal, then the supplier, without touching utilisation", async function () {
        const { f, lineId, id, advance } = await defaultedFixture();
        // Another running financing on the same line keeps utilisation nonzero.
        const other = await acceptedReceivable(f, f.supplier, f.buyer, { faceValue: 500_000_00n });
        await f.financing.connect(f.supplier).requestFinancing(other, await requestTerms(lineId));
        await f.financing.connect(f.financier).approveFinancing(other, await approvalFor(f, other));
        const otherAdvance = 450_000_00n;
        await f.financing.connect(f.financier).writeOff(id);
        expect((await f.financing.creditLine(lineId)).utilised).to.equal(otherAdvance);

        const part = 500_000_00n;
        const tx1 = f.receivables.connect(f.buyer).pay(id, part);
        await expect(tx1).to.emit(f.financing, "FinancingRepaid").withArgs(id, lineId, part, 0n, advance - part);
        await expect(tx1).to.changeTokenBalances(f.token, [f.financier, f.supplier], [part, 0n]);
        expect((await f.financing.creditLine(lineId)).utilised).to.equal(otherAdvance);
        expect((await f.financing.financing(id)).status).to.equal(FS.WrittenOff);

        const rest = FACE - part;
        const tx2 = f.receivables.connect(f.buyer).pay(id, rest);
        await expect(tx2)
          .to.emit(f.financing, "FinancingRepaid")
          .withArgs(id, lineId, advance - part, rest - (advance - part), 0n);
        await expect(tx2).to.changeTokenBalances(f.token, [f.financier, f.supplier], [advance - part, rest - (advance - part)]);
        expect((await f.financing.creditLine(lineId)).utilised).to.equal(otherAdvance);
        const fin = await f.financing.financing(id);
        expect(fin.status).to.equal(FS.WrittenOff);
        expect(fin.principal).to.equal(0n);
        expect((await f.receivables.receivable(id)).status).to.equal(RS.Paid);
      });
    });
  });

  describe(".onRepayment()", function () {
    describe("when called by anyone but the receivables ledger", function () {
      it("reverts with FinancingUnauthorizedCaller(caller)", async function () {
        const { f, lineId, id, advance } = await financedFixture();
        for (const caller of [f.financier, f.buyer, f.outsider]) {
          await expect(f.financing.connect(caller).onRepayment(id, advance))
            .to.be.revertedWithCustomError(f.financing, "FinancingUnauthorizedCaller")
            .withArgs(caller.address);
        }
        expect((await f.financing.financing(id)).principal).to.equal(advance);
        expect((await f.financing.creditLine(lineId)).utilised).to.equal(advance);
      });
    });
  });
});
