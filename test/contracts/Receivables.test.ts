/**
 * Receivables ledger, direct-transaction surface: tokenise (single and batch), accept, cancel,
 * credit notes, split, ERC-721 transfers, payment, default, the financing-module hook and views.
 * The signed (`…BySig`) variants and reentrancy live in their own test files.
 */
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import { expect } from "chai";
import { ethers } from "hardhat";
import type { ContractTransactionResponse } from "ethers";
import { ReceivablesImporter__factory, Receivables__factory } from "../../typechain-types";
import { DEFAULT_PARAMS, receivablesLibraries } from "../../scripts/lib/deploy-ledger";
import { RECEIVABLES_DOMAIN, RECEIVABLES_TYPES } from "../../shared/eip712";
import { childIdOf } from "../../shared/fingerprint";
import { acceptedReceivable, DAY, GRACE_PERIOD, ledgerFixture, lineTerms, makeInvoice, MIN_DENOMINATION, YEAR, deadline, signAct, type LedgerFixture, accept, attest, attestBatch, recordedTerms, rootId, termsOf, tokenise, tokeniseBatch } from "./helpers/fixture";
import { approvalFor, requestTerms } from "./helpers/financing";
import { ROLE_BITS } from "../../shared/roles";

/** IReceivables.Status, as the ABI returns it. */
const STATUS = {
  None: 0n,
  Issued: 1n,
  Accepted: 2n,
  Financed: 3n,
  Paid: 4n,
  Defaulted: 5n,
  Cancelled: 6n,
  Split: 7n,
} as const;

const FACE = 1_000_000_00n;
const MAX_UINT64 = 2n ** 64n - 1n;
const TRANSFER_TARGET_ROLES = ROLE_BITS.supplier | ROLE_BITS.financier;
const CREDIT_NOTE_HASH = ethers.sha256(ethers.toUtf8Bytes("credit note 1"));
const REASON_CODE = ethers.encodeBytes32String("AML_REVIEW");

interface Invoice {
  debtor: string;
  faceValue: bigint;
  dueDate: bigint;
  documentHash: string;
  fingerprint: string;
}

/** A fresh valid invoice (due in 90 days, face value 1 million yuan) with typed fields. */
async function invoice(debtor: HardhatEthersSigner | string, overrides: Partial<Invoice> = {}): Promise<Invoice> {
  const inv = await makeInvoice(typeof debtor === "string" ? debtor : debtor.address);
  return {
    debtor: inv.debtor as string,
    faceValue: BigInt(inv.faceValue),
    dueDate: BigInt(inv.dueDate),
    documentHash: inv.documentHash as string,
    fingerprint: inv.fingerprint as string,
    ...overrides,
  };
}

type Terms = ReturnType<typeof recordedTerms>;
const FIELD_SELLER = 0n;

/** The address an attestation of (seller, inv) recovers to: the attester's only when nothing changed. */
async function recoveredAttester(
  f: LedgerFixture,
  seller: string,
  inv: Invoice,
  att: { expiry: bigint | string | number; signature: string | Uint8Array },
): Promise<string> {
  const domain = { ...RECEIVABLES_DOMAIN, chainId: (await ethers.provider.getNetwork()).chainId, verifyingContract: await f.receivables.getAddress() };
  return ethers.verifyTypedData(domain, RECEIVABLES_TYPES.InvoiceAttestation, { seller, invoice: inv, expiry: att.expiry }, ethers.hexlify(att.signature));
}

/** The address a batch attestation of (seller, invoices) recovers to. */
async function recoveredBatchAttester(
  f: LedgerFixture,
  seller: string,
  invoices: Invoice[],
  att: { expiry: bigint | string | number; signature: string | Uint8Array },
): Promise<string> {
  const domain = { ...RECEIVABLES_DOMAIN, chainId: (await ethers.provider.getNetwork()).chainId, verifyingContract: await f.receivables.getAddress() };
  return ethers.verifyTypedData(domain, RECEIVABLES_TYPES.InvoiceBatchAttestation, { seller, invoices, expiry: att.expiry }, ethers.hexlify(att.signature));
}

function idOf(inv: Invoice): bigint {
  return rootId(inv.fingerprint);
}

/** Tokenises a fresh invoice without accepting it. */
async function issuedReceivable(
  f: LedgerFixture,
  seller: HardhatEthersSigner = f.supplier,
  debtor: HardhatEthersSigner = f.buyer,
  overrides: Partial<Invoice> = {},
): Promise<{ id: bigint; inv: Invoice }> {
  const inv = await invoice(debtor, overrides);
  await tokenise(f, seller, inv);
  return { id: idOf(inv), inv };
}

/** An accepted receivable of `f.supplier` on `f.buyer`, financed by `f.financier` through a fresh line. */
async function financedReceivable(f: LedgerFixture): Promise<bigint> {
  const id = await acceptedReceivable(f);
  const terms = await lineTerms();
  const lineId = await f.financing
    .connect(f.financier)
    .openCreditLine.staticCall(f.buyer.address, f.supplier.address, terms);
  await f.financing.connect(f.financier).openCreditLine(f.buyer.address, f.supplier.address, terms);
  await f.financing.connect(f.supplier).requestFinancing(id, await requestTerms(lineId));
  await f.financing.connect(f.financier).approveFinancing(id, await approvalFor(f, id));
  return id;
}

async function suspend(f: LedgerFixture, who: HardhatEthersSigner): Promise<void> {
  await f.registry.connect(f.officer).suspend(who.address, ethers.encodeBytes32String("test"));
}

/** Lets `who`'s KYC lapse (it stays active and keeps its roles). */
async function expireKyc(f: LedgerFixture, who: HardhatEthersSigner): Promise<void> {
  // Pin the renewal's block time: after many snapshot reverts the network clock runs well ahead
  // of the latest block, so "latest + 100" could already be in the past.
  const at = BigInt(await time.latest()) + 1n;
  const expiry = at + 100n;
  await time.setNextBlockTimestamp(at);
  await f.registry.connect(f.officer).renewKyc(who.address, expiry);
  await time.increaseTo(expiry + 1n);
}

/** The receivable view as a plain object, for deep equality. */
async function view(f: LedgerFixture, id: bigint) {
  const v = await f.receivables.receivable(id);
  return {
    id: v.id,
    holder: v.holder,
    debtor: v.debtor,
    faceValue: v.faceValue,
    outstanding: v.outstanding,
    dueDate: v.dueDate,
    status: v.status,
    financed: v.financed,
    parentId: v.parentId,
  };
}

async function statusOf(f: LedgerFixture, id: bigint): Promise<bigint> {
  return (await f.receivables.receivable(id)).status;
}

async function outstandingOf(f: LedgerFixture, id: bigint): Promise<bigint> {
  return (await f.receivables.receivable(id)).outstanding;
}

/** Named logs of `tx` emitted by the receivables contract, in order. */
async function receivableLogs(f: LedgerFixture, tx: ContractTransactionResponse, name: string) {
  const receipt = await tx.wait();
  const address = await f.receivables.getAddress();
  return receipt!.logs
    .filter((log) => log.address === address)
    .map((log) => f.receivables.interface.parseLog(log))
    .filter((parsed) => parsed !== null && parsed.name === name)
    .map((parsed) => parsed!.args.toArray());
}

describe("Receivables", function () {
  describe(".tokenise()", function () {
    describe("when a verified supplier tokenises a valid invoice for a verified buyer", function () {
      it("mints the token with id equal to the fingerprint to the seller", async function () {
        const f = await loadFixture(ledgerFixture);
        const inv = await invoice(f.buyer);
        const id = idOf(inv);
        expect(await f.receivables.connect(f.supplier).tokenise.staticCall(inv, await attest(f, f.supplier.address, inv))).to.equal(id);
        await tokenise(f, f.supplier, inv);
        expect(await f.receivables.ownerOf(id)).to.equal(f.supplier.address);
      });

      it("counts the new token in the seller's balance", async function () {
        const f = await loadFixture(ledgerFixture);
        await issuedReceivable(f);
        expect(await f.receivables.balanceOf(f.supplier.address)).to.equal(1n);
        await issuedReceivable(f);
        expect(await f.receivables.balanceOf(f.supplier.address)).to.equal(2n);
      });

      it("records the receivable as Issued with its invoice fields", async function () {
        const f = await loadFixture(ledgerFixture);
        const { id, inv } = await issuedReceivable(f);
        expect(await view(f, id)).to.deep.equal({
          id,
          holder: f.supplier.address,
          debtor: f.buyer.address,
          faceValue: inv.faceValue,
          outstanding: inv.faceValue,
          dueDate: inv.dueDate,
          status: STATUS.Issued,
          financed: false,
          parentId: 0n,
        });
      });

      it("emits Transfer from zero and ReceivableTokenised", async function () {
        const f = await loadFixture(ledgerFixture);
        const inv = await invoice(f.buyer);
        const id = idOf(inv);
        const tx = tokenise(f, f.supplier, inv);
        await expect(tx).to.emit(f.receivables, "Transfer").withArgs(ethers.ZeroAddress, f.supplier.address, id);
        await expect(tx)
          .to.emit(f.receivables, "ReceivableTokenised")
          .withArgs(id, f.supplier.address, f.buyer.address, inv.faceValue, inv.dueDate, inv.documentHash, inv.fingerprint);
      });

      it("accepts a buyer that also holds the supplier role as debtor", async function () {
        const f = await loadFixture(ledgerFixture);
        const { id } = await issuedReceivable(f, f.supplier, f.buyer2);
        expect((await f.receivables.receivable(id)).debtor).to.equal(f.buyer2.address);
      });

      it("accepts a fingerprint with the top bit set", async function () {
        const f = await loadFixture(ledgerFixture);
        const fingerprint = ethers.toBeHex(ethers.MaxUint256, 32);
        await tokenise(f, f.supplier, await invoice(f.buyer, { fingerprint }));
        expect(await f.receivables.ownerOf(rootId(fingerprint))).to.equal(f.supplier.address);
      });

      it("accepts the extreme face values 1 and 2^64-1", async function () {
        const f = await loadFixture(ledgerFixture);
        const { id: small } = await issuedReceivable(f, f.supplier, f.buyer, { faceValue: 1n });
        const { id: large } = await issuedReceivable(f, f.supplier, f.buyer, { faceValue: MAX_UINT64 });
        expect((await f.receivables.receivable(small)).faceValue).to.equal(1n);
        expect((await f.receivables.receivable(large)).faceValue).to.equal(MAX_UINT64);
        expect((await f.receivables.receivable(large)).outstanding).to.equal(MAX_UINT64);
      });

      it("accepts the extreme due dates now+1 and now+365 days", async function () {
        const f = await loadFixture(ledgerFixture);
        const t1 = BigInt(await time.latest()) + 100n;
        const soonest = await invoice(f.buyer, { dueDate: t1 + 1n });
        await time.setNextBlockTimestamp(t1);
        await tokenise(f, f.supplier, soonest);
        const t2 = t1 + 100n;
        const latest = await invoice(f.buyer, { dueDate: t2 + YEAR });
        await time.setNextBlockTimestamp(t2);
        await tokenise(f, f.supplier, latest);
        expect((await f.receivables.receivable(idOf(soonest))).dueDate).to.equal(t1 + 1n);
        expect((await f.receivables.receivable(idOf(latest))).dueDate).to.equal(t2 + YEAR);
      });
    });

    describe("when the caller is not a verified supplier", function () {
      for (const [label, pick] of [
        ["an outsider", (f: LedgerFixture) => f.outsider],
        ["a buyer", (f: LedgerFixture) => f.buyer],
        ["a financier", (f: LedgerFixture) => f.financier],
      ] as const) {
        it(`reverts for ${label}`, async function () {
          const f = await loadFixture(ledgerFixture);
          const caller = pick(f);
          const inv = await invoice(f.buyer);
          await expect(tokenise(f, caller, inv))
            .to.be.revertedWithCustomError(f.receivables, "ReceivableUnverifiedParty")
            .withArgs(caller.address, ROLE_BITS.supplier);
          await expect(f.receivables.receivable(idOf(inv)))
            .to.be.revertedWithCustomError(f.receivables, "ReceivableNotFound")
            .withArgs(idOf(inv));
        });
      }

      it("reverts for a suspended supplier", async function () {
        const f = await loadFixture(ledgerFixture);
        await suspend(f, f.supplier);
        await expect(tokenise(f, f.supplier, await invoice(f.buyer)))
          .to.be.revertedWithCustomError(f.receivables, "ReceivableUnverifiedParty")
          .withArgs(f.supplier.address, ROLE_BITS.supplier);
        expect(await f.receivables.balanceOf(f.supplier.address)).to.equal(0n);
      });

      it("reverts for a supplier whose KYC has expired", async function () {
        const f = await loadFixture(ledgerFixture);
        await expireKyc(f, f.supplier);
        await expect(tokenise(f, f.supplier, await invoice(f.buyer)))
          .to.be.revertedWithCustomError(f.receivables, "ReceivableUnverifiedParty")
          .withArgs(f.supplier.address, ROLE_BITS.supplier);
        expect(await f.receivables.balanceOf(f.supplier.address)).to.equal(0n);
      });
    });

    describe("when the debtor is not a verified buyer", function () {
      for (const [label, pick] of [
        ["an outsider", (f: LedgerFixture) => f.outsider.address],
        ["a supplier without the buyer role", (f: LedgerFixture) => f.supplier2.address],
        ["a financier", (f: LedgerFixture) => f.financier.address],
        ["the zero address", () => ethers.ZeroAddress],
      ] as const) {
        it(`reverts for ${label}`, async function () {
          const f = await loadFixture(ledgerFixture);
          const debtor = pick(f);
          const inv = await invoice(debtor);
          await expect(tokenise(f, f.supplier, inv))
            .to.be.revertedWithCustomError(f.receivables, "ReceivableUnverifiedParty")
            .withArgs(debtor, ROLE_BITS.buyer);
          expect(await f.receivables.balanceOf(f.supplier.address)).to.equal(0n);
        });
      }

      it("reverts for a suspended buyer", async function () {
        const f = await loadFixture(ledgerFixture);
        await suspend(f, f.buyer);
        await expect(tokenise(f, f.supplier, await invoice(f.buyer)))
          .to.be.revertedWithCustomError(f.receivables, "ReceivableUnverifiedParty")
          .withArgs(f.buyer.address, ROLE_BITS.buyer);
      });
    });

    describe("when the seller names itself as debtor", function () {
      it("reverts with ReceivableSelfDealing", async function () {
        const f = await loadFixture(ledgerFixture);
        const inv = await invoice(f.buyer2);
        await expect(tokenise(f, f.buyer2, inv))
          .to.be.revertedWithCustomError(f.receivables, "ReceivableSelfDealing")
          .withArgs(f.buyer2.address);
        expect(await f.receivables.balanceOf(f.buyer2.address)).to.equal(0n);
      });
    });

    describe("when the face value is out of range", function () {
      for (const faceValue of [0n, MAX_UINT64 + 1n, ethers.MaxUint256]) {
        it(`reverts for ${faceValue}`, async function () {
          const f = await loadFixture(ledgerFixture);
          const inv = await invoice(f.buyer, { faceValue });
          await expect(tokenise(f, f.supplier, inv))
            .to.be.revertedWithCustomError(f.receivables, "ReceivableInvalidAmount")
            .withArgs(faceValue);
          expect(await f.receivables.balanceOf(f.supplier.address)).to.equal(0n);
        });
      }
    });

    describe("when the due date is out of range", function () {
      for (const [label, offset] of [
        ["now", 0n],
        ["in the past", -DAY],
        ["zero", null],
        ["more than 365 days out", YEAR + 1n],
      ] as const) {
        it(`reverts for a due date ${label}`, async function () {
          const f = await loadFixture(ledgerFixture);
          const t = BigInt(await time.latest()) + 1_000n;
          const dueDate = offset === null ? 0n : t + offset;
          const inv = await invoice(f.buyer, { dueDate });
          await time.setNextBlockTimestamp(t);
          await expect(tokenise(f, f.supplier, inv))
            .to.be.revertedWithCustomError(f.receivables, "ReceivableInvalidDueDate")
            .withArgs(dueDate, t + 1n, t + YEAR);
          expect(await f.receivables.balanceOf(f.supplier.address)).to.equal(0n);
        });
      }
    });

    describe("when a hash is zero", function () {
      it("reverts for a zero fingerprint", async function () {
        const f = await loadFixture(ledgerFixture);
        const inv = await invoice(f.buyer, { fingerprint: ethers.ZeroHash });
        await expect(tokenise(f, f.supplier, inv)).to.be.revertedWithCustomError(
          f.receivables,
          "ReceivableInvalidHash",
        );
        await expect(f.receivables.receivable(0n))
          .to.be.revertedWithCustomError(f.receivables, "ReceivableNotFound")
          .withArgs(0n);
      });

      it("reverts for a zero document hash", async function () {
        const f = await loadFixture(ledgerFixture);
        const inv = await invoice(f.buyer, { documentHash: ethers.ZeroHash });
        await expect(tokenise(f, f.supplier, inv)).to.be.revertedWithCustomError(
          f.receivables,
          "ReceivableInvalidHash",
        );
        expect(await f.receivables.balanceOf(f.supplier.address)).to.equal(0n);
      });
    });

    describe("when the fingerprint was used before", function () {
      it("reverts when the same seller tokenises it again", async function () {
        const f = await loadFixture(ledgerFixture);
        const { id, inv } = await issuedReceivable(f);
        await expect(tokenise(f, f.supplier, inv))
          .to.be.revertedWithCustomError(f.receivables, "ReceivableDuplicate")
          .withArgs(id);
        expect(await f.receivables.ownerOf(id)).to.equal(f.supplier.address);
        expect(await statusOf(f, id)).to.equal(STATUS.Issued);
      });

      it("reverts when another seller tokenises it, even with other terms", async function () {
        const f = await loadFixture(ledgerFixture);
        const { id, inv } = await issuedReceivable(f);
        const copy = await invoice(f.buyer2, { fingerprint: inv.fingerprint, faceValue: 5n });
        await expect(tokenise(f, f.supplier2, copy))
          .to.be.revertedWithCustomError(f.receivables, "ReceivableDuplicate")
          .withArgs(id);
        expect(await f.receivables.ownerOf(id)).to.equal(f.supplier.address);
        expect((await f.receivables.receivable(id)).faceValue).to.equal(inv.faceValue);
      });

      it("reverts after the first receivable was cancelled", async function () {
        const f = await loadFixture(ledgerFixture);
        const { id, inv } = await issuedReceivable(f);
        await f.receivables.connect(f.supplier).cancel(id);
        await expect(tokenise(f, f.supplier, inv))
          .to.be.revertedWithCustomError(f.receivables, "ReceivableDuplicate")
          .withArgs(id);
        expect(await statusOf(f, id)).to.equal(STATUS.Cancelled);
      });

      it("reverts after the first receivable was split", async function () {
        const f = await loadFixture(ledgerFixture);
        const inv = await invoice(f.buyer);
        await tokenise(f, f.supplier, inv);
        const id = idOf(inv);
        await accept(f, f.buyer, id);
        await f.receivables.connect(f.supplier).split(id, [FACE / 2n, FACE / 2n]);
        await expect(tokenise(f, f.supplier, inv))
          .to.be.revertedWithCustomError(f.receivables, "ReceivableDuplicate")
          .withArgs(id);
        expect(await statusOf(f, id)).to.equal(STATUS.Split);
      });

      it("mints a fingerprint equal to an existing split child id under its own root id", async function () {
        const f = await loadFixture(ledgerFixture);
        const parent = await acceptedReceivable(f);
        await f.receivables.connect(f.supplier).split(parent, [FACE / 2n, FACE / 2n]);
        const child = await f.receivables.childId(parent, 0n);
        const inv = await invoice(f.buyer, { fingerprint: ethers.toBeHex(child, 32) });
        await tokenise(f, f.supplier2, inv);
        expect(await f.receivables.ownerOf(child)).to.equal(f.supplier.address);
        expect(await f.receivables.ownerOf(idOf(inv))).to.equal(f.supplier2.address);
      });
    });

    describe("when the invoice is not attested by an invoice attester", function () {
      it("reverts for a fingerprint the seller invented and signed itself", async function () {
        const f = await loadFixture(ledgerFixture);
        const inv = await invoice(f.buyer);
        const att = await attest(f, f.supplier.address, inv, { by: f.supplier });
        await expect(f.receivables.connect(f.supplier).tokenise(inv, att))
          .to.be.revertedWithCustomError(f.receivables, "ReceivableAttesterUnauthorized")
          .withArgs(f.supplier.address);
        expect(await f.receivables.receivableOfDocument(inv.documentHash)).to.equal(0n);
      });

      it("reverts for an empty signature", async function () {
        const f = await loadFixture(ledgerFixture);
        const inv = await invoice(f.buyer);
        const expiry = BigInt(await time.latest()) + DAY;
        await expect(f.receivables.connect(f.supplier).tokenise(inv, { expiry, signature: "0x" }))
          .to.be.revertedWithCustomError(f.receivables, "ReceivableAttesterUnauthorized")
          .withArgs(ethers.ZeroAddress);
      });

      it("reverts for a forged signature (the attester's signature with its recovery bit flipped)", async function () {
        const f = await loadFixture(ledgerFixture);
        const inv = await invoice(f.buyer);
        const att = await attest(f, f.supplier.address, inv);
        const bytes = ethers.getBytes(att.signature as string);
        bytes[64] = bytes[64] === 27 ? 28 : 27;
        const forged = { expiry: att.expiry, signature: ethers.hexlify(bytes) };
        const recovered = await recoveredAttester(f, f.supplier.address, inv, forged);
        expect(recovered).to.not.equal(f.officer.address);
        await expect(f.receivables.connect(f.supplier).tokenise(inv, forged))
          .to.be.revertedWithCustomError(f.receivables, "ReceivableAttesterUnauthorized")
          .withArgs(recovered);
      });

      it("reverts when the attestation has expired", async function () {
        const f = await loadFixture(ledgerFixture);
        const inv = await invoice(f.buyer);
        const expiry = BigInt(await time.latest()) + 60n;
        const att = await attest(f, f.supplier.address, inv, { expiry });
        await time.setNextBlockTimestamp(expiry + 1n);
        await expect(f.receivables.connect(f.supplier).tokenise(inv, att))
          .to.be.revertedWithCustomError(f.receivables, "ReceivableAttestationExpired")
          .withArgs(expiry, expiry + 1n);
      });

      it("accepts the attestation up to its expiry second", async function () {
        const f = await loadFixture(ledgerFixture);
        const inv = await invoice(f.buyer);
        const expiry = BigInt(await time.latest()) + 60n;
        const att = await attest(f, f.supplier.address, inv, { expiry });
        await time.setNextBlockTimestamp(expiry);
        await f.receivables.connect(f.supplier).tokenise(inv, att);
        expect(await f.receivables.ownerOf(idOf(inv))).to.equal(f.supplier.address);
      });

      it("reverts when another supplier replays a pending invoice with its attestation", async function () {
        const f = await loadFixture(ledgerFixture);
        const inv = await invoice(f.buyer);
        const att = await attest(f, f.supplier.address, inv);
        const recovered = await recoveredAttester(f, f.supplier2.address, inv, att);
        await expect(f.receivables.connect(f.supplier2).tokenise(inv, att))
          .to.be.revertedWithCustomError(f.receivables, "ReceivableAttesterUnauthorized")
          .withArgs(recovered);
        // The rightful seller's transaction still goes through.
        await f.receivables.connect(f.supplier).tokenise(inv, att);
        expect(await f.receivables.ownerOf(idOf(inv))).to.equal(f.supplier.address);
      });

      for (const [label, change] of [
        ["another amount", (inv: Invoice) => ({ ...inv, faceValue: inv.faceValue + 1n })],
        ["another due date", (inv: Invoice) => ({ ...inv, dueDate: inv.dueDate - DAY })],
        ["another document", (inv: Invoice) => ({ ...inv, documentHash: ethers.id("another PDF") })],
        ["another fingerprint", (inv: Invoice) => ({ ...inv, fingerprint: ethers.id("invented") })],
      ] as const) {
        it(`reverts when the attestation is replayed for ${label}`, async function () {
          const f = await loadFixture(ledgerFixture);
          const inv = await invoice(f.buyer);
          const att = await attest(f, f.supplier.address, inv);
          const altered = change(inv);
          const recovered = await recoveredAttester(f, f.supplier.address, altered, att);
          await expect(f.receivables.connect(f.supplier).tokenise(altered, att))
            .to.be.revertedWithCustomError(f.receivables, "ReceivableAttesterUnauthorized")
            .withArgs(recovered);
        });
      }

      it("reverts once the admin revokes the attester", async function () {
        const f = await loadFixture(ledgerFixture);
        const inv = await invoice(f.buyer);
        const att = await attest(f, f.supplier.address, inv);
        await f.receivables.connect(f.admin).revokeRole(await f.receivables.INVOICE_ATTESTER_ROLE(), f.officer.address);
        await expect(f.receivables.connect(f.supplier).tokenise(inv, att))
          .to.be.revertedWithCustomError(f.receivables, "ReceivableAttesterUnauthorized")
          .withArgs(f.officer.address);
      });

      it("accepts a dedicated attester key the admin granted, and only the admin can grant one", async function () {
        const f = await loadFixture(ledgerFixture);
        const role = await f.receivables.INVOICE_ATTESTER_ROLE();
        await expect(f.receivables.connect(f.supplier).grantRole(role, f.supplier.address))
          .to.be.revertedWithCustomError(f.receivables, "AccessControlUnauthorizedAccount")
          .withArgs(f.supplier.address, ethers.ZeroHash);
        await f.receivables.connect(f.admin).grantRole(role, f.auditor.address);
        const inv = await invoice(f.buyer);
        await f.receivables.connect(f.supplier).tokenise(inv, await attest(f, f.supplier.address, inv, { by: f.auditor }));
        expect(await f.receivables.ownerOf(idOf(inv))).to.equal(f.supplier.address);
      });
    });

    describe("when the document was tokenised before", function () {
      it("reverts for the same document under another fingerprint, even from another seller", async function () {
        const f = await loadFixture(ledgerFixture);
        const { id, inv } = await issuedReceivable(f);
        expect(await f.receivables.receivableOfDocument(inv.documentHash)).to.equal(id);
        const again = await invoice(f.buyer2, { documentHash: inv.documentHash, faceValue: inv.faceValue + 1n });
        await expect(tokenise(f, f.supplier2, again))
          .to.be.revertedWithCustomError(f.receivables, "ReceivableDocumentUsed")
          .withArgs(inv.documentHash, id);
        await expect(f.receivables.ownerOf(idOf(again))).to.be.revertedWithCustomError(f.receivables, "ERC721NonexistentToken");
      });

      it("reverts after the first receivable was cancelled", async function () {
        const f = await loadFixture(ledgerFixture);
        const { id, inv } = await issuedReceivable(f);
        await f.receivables.connect(f.supplier).cancel(id);
        await expect(tokenise(f, f.supplier, await invoice(f.buyer, { documentHash: inv.documentHash })))
          .to.be.revertedWithCustomError(f.receivables, "ReceivableDocumentUsed")
          .withArgs(inv.documentHash, id);
      });
    });
  });

  describe(".tokeniseBatch()", function () {
    describe("when a verified supplier tokenises 50 valid invoices", function () {
      it("mints every token to the seller and returns the ids", async function () {
        const f = await loadFixture(ledgerFixture);
        const invoices: Invoice[] = [];
        for (let i = 0; i < 50; i++) invoices.push(await invoice(f.buyer, { faceValue: BigInt(i + 1) * 100_00n }));
        const ids = invoices.map(idOf);
        const att = await attestBatch(f, f.supplier.address, invoices);
        expect(await f.receivables.connect(f.supplier).tokeniseBatch.staticCall(invoices, att)).to.deep.equal(ids);
        await tokeniseBatch(f, f.supplier, invoices);
        expect(await f.receivables.balanceOf(f.supplier.address)).to.equal(50n);
        await tokeniseBatch(f, f.supplier, [await invoice(f.buyer), await invoice(f.buyer2)]);
        expect(await f.receivables.balanceOf(f.supplier.address)).to.equal(52n);
        for (let i = 0; i < invoices.length; i++) {
          expect(await f.receivables.ownerOf(ids[i])).to.equal(f.supplier.address);
          const v = await f.receivables.receivable(ids[i]);
          expect(v.faceValue).to.equal(invoices[i].faceValue);
          expect(v.outstanding).to.equal(invoices[i].faceValue);
          expect(v.dueDate).to.equal(invoices[i].dueDate);
          expect(v.debtor).to.equal(f.buyer.address);
          expect(v.status).to.equal(STATUS.Issued);
        }
      });

      it("emits Transfer and ReceivableTokenised for each invoice, in order", async function () {
        const f = await loadFixture(ledgerFixture);
        const invoices: Invoice[] = [];
        for (let i = 0; i < 50; i++) invoices.push(await invoice(f.buyer));
        const tx = await tokeniseBatch(f, f.supplier, invoices);
        expect(await receivableLogs(f, tx, "Transfer")).to.deep.equal(
          invoices.map((inv) => [ethers.ZeroAddress, f.supplier.address, idOf(inv)]),
        );
        expect(await receivableLogs(f, tx, "ReceivableTokenised")).to.deep.equal(
          invoices.map((inv) => [
            idOf(inv),
            f.supplier.address,
            f.buyer.address,
            inv.faceValue,
            inv.dueDate,
            inv.documentHash,
            inv.fingerprint,
          ]),
        );
      });
    });

    describe("when the batch mixes two debtors", function () {
      it("records each invoice against its own debtor", async function () {
        const f = await loadFixture(ledgerFixture);
        const debtors = [f.buyer, f.buyer2, f.buyer2, f.buyer, f.buyer2];
        const invoices: Invoice[] = [];
        for (const d of debtors) invoices.push(await invoice(d));
        await tokeniseBatch(f, f.supplier, invoices);
        expect(await f.receivables.balanceOf(f.supplier.address)).to.equal(5n);
        for (let i = 0; i < debtors.length; i++) {
          expect((await f.receivables.receivable(idOf(invoices[i]))).debtor).to.equal(debtors[i].address);
        }
      });
    });

    describe("when the batch holds exactly MAX_BATCH invoices", function () {
      it("mints all of them", async function () {
        const f = await loadFixture(ledgerFixture);
        const max = await f.receivables.MAX_BATCH();
        expect(max).to.equal(200n);
        const invoices: Invoice[] = [];
        for (let i = 0n; i < max; i++) invoices.push(await invoice(f.buyer));
        await tokeniseBatch(f, f.supplier, invoices);
        expect(await f.receivables.balanceOf(f.supplier.address)).to.equal(max);
        expect(await f.receivables.ownerOf(idOf(invoices[invoices.length - 1]))).to.equal(f.supplier.address);
      });
    });

    describe("when the batch size is invalid", function () {
      it("reverts for an empty batch", async function () {
        const f = await loadFixture(ledgerFixture);
        await expect(tokeniseBatch(f, f.supplier, []))
          .to.be.revertedWithCustomError(f.receivables, "ReceivableInvalidBatchSize")
          .withArgs(0n);
      });

      it("reverts for 201 invoices", async function () {
        const f = await loadFixture(ledgerFixture);
        const invoices: Invoice[] = [];
        for (let i = 0; i < 201; i++) invoices.push(await invoice(f.buyer));
        await expect(tokeniseBatch(f, f.supplier, invoices))
          .to.be.revertedWithCustomError(f.receivables, "ReceivableInvalidBatchSize")
          .withArgs(201n);
        expect(await f.receivables.balanceOf(f.supplier.address)).to.equal(0n);
      });
    });

    describe("when the caller is not a verified supplier", function () {
      it("reverts", async function () {
        const f = await loadFixture(ledgerFixture);
        await expect(tokeniseBatch(f, f.buyer, [await invoice(f.buyer2)]))
          .to.be.revertedWithCustomError(f.receivables, "ReceivableUnverifiedParty")
          .withArgs(f.buyer.address, ROLE_BITS.supplier);
      });
    });

    describe("when one invoice is invalid", function () {
      it("reverts the whole batch for a fingerprint repeated inside it", async function () {
        const f = await loadFixture(ledgerFixture);
        const invoices: Invoice[] = [];
        for (let i = 0; i < 4; i++) invoices.push(await invoice(f.buyer));
        invoices.push(await invoice(f.buyer, { fingerprint: invoices[1].fingerprint }));
        await expect(tokeniseBatch(f, f.supplier, invoices))
          .to.be.revertedWithCustomError(f.receivables, "ReceivableDuplicate")
          .withArgs(idOf(invoices[1]));
        expect(await f.receivables.balanceOf(f.supplier.address)).to.equal(0n);
        await expect(f.receivables.receivable(idOf(invoices[0])))
          .to.be.revertedWithCustomError(f.receivables, "ReceivableNotFound")
          .withArgs(idOf(invoices[0]));
      });

      it("reverts the whole batch for a fingerprint already tokenised", async function () {
        const f = await loadFixture(ledgerFixture);
        const { id: existing, inv: old } = await issuedReceivable(f, f.supplier2);
        const invoices = [await invoice(f.buyer), await invoice(f.buyer, { fingerprint: old.fingerprint })];
        await expect(tokeniseBatch(f, f.supplier, invoices))
          .to.be.revertedWithCustomError(f.receivables, "ReceivableDuplicate")
          .withArgs(existing);
        expect(await f.receivables.balanceOf(f.supplier.address)).to.equal(0n);
        expect(await f.receivables.ownerOf(existing)).to.equal(f.supplier2.address);
      });

      it("reverts the whole batch for an unverified debtor in the middle", async function () {
        const f = await loadFixture(ledgerFixture);
        const invoices = [await invoice(f.buyer), await invoice(f.outsider), await invoice(f.buyer)];
        await expect(tokeniseBatch(f, f.supplier, invoices))
          .to.be.revertedWithCustomError(f.receivables, "ReceivableUnverifiedParty")
          .withArgs(f.outsider.address, ROLE_BITS.buyer);
        expect(await f.receivables.balanceOf(f.supplier.address)).to.equal(0n);
        await expect(f.receivables.receivable(idOf(invoices[0])))
          .to.be.revertedWithCustomError(f.receivables, "ReceivableNotFound")
          .withArgs(idOf(invoices[0]));
      });

      it("reverts the whole batch for a zero-address debtor at the start", async function () {
        const f = await loadFixture(ledgerFixture);
        const invoices = [await invoice(ethers.ZeroAddress), await invoice(f.buyer)];
        await expect(tokeniseBatch(f, f.supplier, invoices))
          .to.be.revertedWithCustomError(f.receivables, "ReceivableUnverifiedParty")
          .withArgs(ethers.ZeroAddress, ROLE_BITS.buyer);
        expect(await f.receivables.balanceOf(f.supplier.address)).to.equal(0n);
      });

      it("reverts the whole batch when the seller is the debtor of one invoice", async function () {
        const f = await loadFixture(ledgerFixture);
        const invoices = [await invoice(f.buyer), await invoice(f.buyer2)];
        await expect(tokeniseBatch(f, f.buyer2, invoices))
          .to.be.revertedWithCustomError(f.receivables, "ReceivableSelfDealing")
          .withArgs(f.buyer2.address);
        expect(await f.receivables.balanceOf(f.buyer2.address)).to.equal(0n);
      });

      it("reverts the whole batch for an invalid face value in the last invoice", async function () {
        const f = await loadFixture(ledgerFixture);
        const invoices = [await invoice(f.buyer), await invoice(f.buyer, { faceValue: 0n })];
        await expect(tokeniseBatch(f, f.supplier, invoices))
          .to.be.revertedWithCustomError(f.receivables, "ReceivableInvalidAmount")
          .withArgs(0n);
        expect(await f.receivables.balanceOf(f.supplier.address)).to.equal(0n);
      });
    });
  });

  describe(".tokeniseBatch() attestation", function () {
    describe("when the batch attestation covers other invoices", function () {
      it("reverts for an invoice swapped after attesting", async function () {
        const f = await loadFixture(ledgerFixture);
        const invoices = [await invoice(f.buyer), await invoice(f.buyer)];
        const att = await attestBatch(f, f.supplier.address, invoices);
        const swapped = [invoices[0], await invoice(f.buyer)];
        const recovered = await recoveredBatchAttester(f, f.supplier.address, swapped, att);
        await expect(f.receivables.connect(f.supplier).tokeniseBatch(swapped, att))
          .to.be.revertedWithCustomError(f.receivables, "ReceivableAttesterUnauthorized")
          .withArgs(recovered);
      });

      it("reverts for a single invoice's attestation used as a batch of one", async function () {
        const f = await loadFixture(ledgerFixture);
        const inv = await invoice(f.buyer);
        const att = await attest(f, f.supplier.address, inv);
        const recovered = await recoveredBatchAttester(f, f.supplier.address, [inv], att);
        await expect(f.receivables.connect(f.supplier).tokeniseBatch([inv], att))
          .to.be.revertedWithCustomError(f.receivables, "ReceivableAttesterUnauthorized")
          .withArgs(recovered);
      });

      it("reverts for a batch attested by a non-attester", async function () {
        const f = await loadFixture(ledgerFixture);
        const invoices = [await invoice(f.buyer), await invoice(f.buyer)];
        const att = await attestBatch(f, f.supplier.address, invoices, { by: f.supplier });
        await expect(f.receivables.connect(f.supplier).tokeniseBatch(invoices, att))
          .to.be.revertedWithCustomError(f.receivables, "ReceivableAttesterUnauthorized")
          .withArgs(f.supplier.address);
      });
    });

    describe("when one document appears twice", function () {
      it("reverts the whole batch for a document repeated inside it", async function () {
        const f = await loadFixture(ledgerFixture);
        const first = await invoice(f.buyer);
        const invoices = [first, await invoice(f.buyer, { documentHash: first.documentHash })];
        await expect(tokeniseBatch(f, f.supplier, invoices))
          .to.be.revertedWithCustomError(f.receivables, "ReceivableDocumentUsed")
          .withArgs(first.documentHash, idOf(first));
        expect(await f.receivables.receivableOfDocument(first.documentHash)).to.equal(0n);
      });

      it("reverts the whole batch for a document tokenised before", async function () {
        const f = await loadFixture(ledgerFixture);
        const { id, inv } = await issuedReceivable(f);
        const invoices = [await invoice(f.buyer), await invoice(f.buyer, { documentHash: inv.documentHash })];
        await expect(tokeniseBatch(f, f.supplier, invoices))
          .to.be.revertedWithCustomError(f.receivables, "ReceivableDocumentUsed")
          .withArgs(inv.documentHash, id);
      });
    });
  });

  describe(".accept()", function () {
    describe("when the terms differ from the record", function () {
      const FIELD = { Seller: 0n, FaceValue: 1n, DueDate: 2n, DocumentHash: 3n } as const;
      for (const [label, field, change] of [
        ["another seller", FIELD.Seller, (f: LedgerFixture, t: Terms) => ({ ...t, seller: f.supplier2.address })],
        ["a face value one fen higher", FIELD.FaceValue, (_: LedgerFixture, t: Terms) => ({ ...t, faceValue: BigInt(t.faceValue) + 1n })],
        ["a due date a day later", FIELD.DueDate, (_: LedgerFixture, t: Terms) => ({ ...t, dueDate: BigInt(t.dueDate) + DAY })],
        ["another document", FIELD.DocumentHash, (_: LedgerFixture, t: Terms) => ({ ...t, documentHash: ethers.id("other PDF") })],
      ] as const) {
        it(`reverts with ReceivableTermsMismatch for ${label}`, async function () {
          const f = await loadFixture(ledgerFixture);
          const { id } = await issuedReceivable(f);
          await expect(f.receivables.connect(f.buyer).accept(id, change(f, recordedTerms(id))))
            .to.be.revertedWithCustomError(f.receivables, "ReceivableTermsMismatch")
            .withArgs(id, field);
          expect(await statusOf(f, id)).to.equal(STATUS.Issued);
        });
      }

      it("refuses another receivable's document even when that document is on the ledger", async function () {
        const f = await loadFixture(ledgerFixture);
        const { id } = await issuedReceivable(f);
        const other = await issuedReceivable(f);
        await expect(f.receivables.connect(f.buyer).accept(id, { ...recordedTerms(id), documentHash: other.inv.documentHash }))
          .to.be.revertedWithCustomError(f.receivables, "ReceivableTermsMismatch")
          .withArgs(id, FIELD.DocumentHash);
      });
    });

    describe("when a squatter took the fingerprint first at other terms", function () {
      it("refuses the debtor's acceptance of the real invoice's terms", async function () {
        const f = await loadFixture(ledgerFixture);
        const real = await invoice(f.buyer);
        // A fooled (or compromised) attester signed the squatter's copy: the last line is accept.
        const squat = { ...real, faceValue: real.faceValue * 2n, documentHash: ethers.id("squatter's PDF") };
        await tokenise(f, f.supplier2, squat);
        const id = idOf(real);
        await expect(tokenise(f, f.supplier, real))
          .to.be.revertedWithCustomError(f.receivables, "ReceivableDuplicate")
          .withArgs(id);
        await expect(f.receivables.connect(f.buyer).accept(id, termsOf(f.supplier.address, real)))
          .to.be.revertedWithCustomError(f.receivables, "ReceivableTermsMismatch")
          .withArgs(id, FIELD_SELLER);
        expect(await statusOf(f, id)).to.equal(STATUS.Issued);
      });
    });

    describe("when the debtor accepts an issued receivable", function () {
      it("moves it to Accepted and emits ReceivableAccepted", async function () {
        const f = await loadFixture(ledgerFixture);
        const { id } = await issuedReceivable(f);
        await expect(accept(f, f.buyer, id))
          .to.emit(f.receivables, "ReceivableAccepted")
          .withArgs(id, f.buyer.address);
        expect(await statusOf(f, id)).to.equal(STATUS.Accepted);
        expect(await f.receivables.ownerOf(id)).to.equal(f.supplier.address);
      });
    });

    describe("when the caller is not the debtor", function () {
      for (const [label, pick] of [
        ["the seller", (f: LedgerFixture) => f.supplier],
        ["another buyer", (f: LedgerFixture) => f.buyer2],
        ["an outsider", (f: LedgerFixture) => f.outsider],
      ] as const) {
        it(`reverts for ${label}`, async function () {
          const f = await loadFixture(ledgerFixture);
          const { id } = await issuedReceivable(f);
          const caller = pick(f);
          await expect(accept(f, caller, id))
            .to.be.revertedWithCustomError(f.receivables, "ReceivableUnauthorized")
            .withArgs(id, caller.address);
          expect(await statusOf(f, id)).to.equal(STATUS.Issued);
        });
      }
    });

    describe("when the receivable is already accepted", function () {
      it("reverts with ReceivableInvalidStatus", async function () {
        const f = await loadFixture(ledgerFixture);
        const id = await acceptedReceivable(f);
        await expect(accept(f, f.buyer, id))
          .to.be.revertedWithCustomError(f.receivables, "ReceivableInvalidStatus")
          .withArgs(id, STATUS.Accepted);
      });
    });

    describe("when the receivable was cancelled", function () {
      it("reverts with ReceivableInvalidStatus", async function () {
        const f = await loadFixture(ledgerFixture);
        const { id } = await issuedReceivable(f);
        await f.receivables.connect(f.supplier).cancel(id);
        await expect(accept(f, f.buyer, id))
          .to.be.revertedWithCustomError(f.receivables, "ReceivableInvalidStatus")
          .withArgs(id, STATUS.Cancelled);
      });
    });

    describe("when the receivable does not exist", function () {
      it("reverts with ReceivableNotFound", async function () {
        const f = await loadFixture(ledgerFixture);
        await expect(accept(f, f.buyer, 42n))
          .to.be.revertedWithCustomError(f.receivables, "ReceivableNotFound")
          .withArgs(42n);
      });
    });

    describe("when the debtor is no longer verified", function () {
      it("reverts for a suspended debtor", async function () {
        const f = await loadFixture(ledgerFixture);
        const { id } = await issuedReceivable(f);
        await suspend(f, f.buyer);
        await expect(accept(f, f.buyer, id))
          .to.be.revertedWithCustomError(f.receivables, "ReceivableUnverifiedParty")
          .withArgs(f.buyer.address, ROLE_BITS.buyer);
        expect(await statusOf(f, id)).to.equal(STATUS.Issued);
      });

      it("reverts for a debtor whose KYC has expired", async function () {
        const f = await loadFixture(ledgerFixture);
        const { id } = await issuedReceivable(f);
        await expireKyc(f, f.buyer);
        await expect(accept(f, f.buyer, id))
          .to.be.revertedWithCustomError(f.receivables, "ReceivableUnverifiedParty")
          .withArgs(f.buyer.address, ROLE_BITS.buyer);
      });
    });
  });

  describe(".cancel()", function () {
    describe("when the seller cancels an issued receivable", function () {
      it("burns the token and emits Transfer to zero and ReceivableCancelled", async function () {
        const f = await loadFixture(ledgerFixture);
        const { id } = await issuedReceivable(f);
        const tx = f.receivables.connect(f.supplier).cancel(id);
        await expect(tx).to.emit(f.receivables, "Transfer").withArgs(f.supplier.address, ethers.ZeroAddress, id);
        await expect(tx).to.emit(f.receivables, "ReceivableCancelled").withArgs(id, f.supplier.address);
        await expect(f.receivables.ownerOf(id))
          .to.be.revertedWithCustomError(f.receivables, "ERC721NonexistentToken")
          .withArgs(id);
      });

      it("takes the token out of the seller's balance", async function () {
        const f = await loadFixture(ledgerFixture);
        await issuedReceivable(f);
        const { id } = await issuedReceivable(f);
        await f.receivables.connect(f.supplier).cancel(id);
        expect(await f.receivables.balanceOf(f.supplier.address)).to.equal(1n);
      });

      it("keeps the record with status Cancelled", async function () {
        const f = await loadFixture(ledgerFixture);
        const { id, inv } = await issuedReceivable(f);
        await f.receivables.connect(f.supplier).cancel(id);
        expect(await view(f, id)).to.deep.equal({
          id,
          holder: ethers.ZeroAddress,
          debtor: f.buyer.address,
          faceValue: inv.faceValue,
          outstanding: inv.faceValue,
          dueDate: inv.dueDate,
          status: STATUS.Cancelled,
          financed: false,
          parentId: 0n,
        });
      });

      it("clears a pending approval", async function () {
        const f = await loadFixture(ledgerFixture);
        const { id } = await issuedReceivable(f);
        await f.receivables.connect(f.supplier).approve(f.financier2.address, id);
        await f.receivables.connect(f.supplier).cancel(id);
        await expect(f.receivables.getApproved(id))
          .to.be.revertedWithCustomError(f.receivables, "ERC721NonexistentToken")
          .withArgs(id);
      });
    });

    describe("when the receivable has been accepted", function () {
      it("reverts with ReceivableInvalidStatus", async function () {
        const f = await loadFixture(ledgerFixture);
        const id = await acceptedReceivable(f);
        await expect(f.receivables.connect(f.supplier).cancel(id))
          .to.be.revertedWithCustomError(f.receivables, "ReceivableInvalidStatus")
          .withArgs(id, STATUS.Accepted);
        expect(await f.receivables.ownerOf(id)).to.equal(f.supplier.address);
      });
    });

    describe("when the caller is not the seller", function () {
      for (const [label, pick] of [
        ["the debtor", (f: LedgerFixture) => f.buyer],
        ["another supplier", (f: LedgerFixture) => f.supplier2],
        ["an outsider", (f: LedgerFixture) => f.outsider],
      ] as const) {
        it(`reverts for ${label}`, async function () {
          const f = await loadFixture(ledgerFixture);
          const { id } = await issuedReceivable(f);
          const caller = pick(f);
          await expect(f.receivables.connect(caller).cancel(id))
            .to.be.revertedWithCustomError(f.receivables, "ReceivableUnauthorized")
            .withArgs(id, caller.address);
          expect(await statusOf(f, id)).to.equal(STATUS.Issued);
        });
      }
    });

    describe("when the receivable is already cancelled", function () {
      it("reverts with ReceivableInvalidStatus", async function () {
        const f = await loadFixture(ledgerFixture);
        const { id } = await issuedReceivable(f);
        await f.receivables.connect(f.supplier).cancel(id);
        await expect(f.receivables.connect(f.supplier).cancel(id))
          .to.be.revertedWithCustomError(f.receivables, "ReceivableInvalidStatus")
          .withArgs(id, STATUS.Cancelled);
      });
    });

    describe("when the receivable does not exist", function () {
      it("reverts with ReceivableNotFound", async function () {
        const f = await loadFixture(ledgerFixture);
        await expect(f.receivables.connect(f.supplier).cancel(7n))
          .to.be.revertedWithCustomError(f.receivables, "ReceivableNotFound")
          .withArgs(7n);
      });
    });
  });

  describe(".applyCreditNote()", function () {
    describe("when the holder credits part of an accepted receivable", function () {
      it("lowers outstanding, keeps face value and emits CreditNoteApplied", async function () {
        const f = await loadFixture(ledgerFixture);
        const id = await acceptedReceivable(f);
        await expect(f.receivables.connect(f.supplier).applyCreditNote(id, 250_000_00n, CREDIT_NOTE_HASH))
          .to.emit(f.receivables, "CreditNoteApplied")
          .withArgs(id, f.supplier.address, 250_000_00n, FACE - 250_000_00n, CREDIT_NOTE_HASH);
        const v = await f.receivables.receivable(id);
        expect(v.outstanding).to.equal(FACE - 250_000_00n);
        expect(v.faceValue).to.equal(FACE);
        expect(v.status).to.equal(STATUS.Accepted);
      });
    });

    describe("when the holder credits an issued receivable", function () {
      it("lowers outstanding and keeps it Issued", async function () {
        const f = await loadFixture(ledgerFixture);
        const { id } = await issuedReceivable(f);
        await f.receivables.connect(f.supplier).applyCreditNote(id, 1n, CREDIT_NOTE_HASH);
        expect(await outstandingOf(f, id)).to.equal(FACE - 1n);
        expect(await statusOf(f, id)).to.equal(STATUS.Issued);
      });
    });

    describe("when the credit note reaches zero outstanding", function () {
      it("marks the receivable Paid", async function () {
        const f = await loadFixture(ledgerFixture);
        const id = await acceptedReceivable(f);
        await f.receivables.connect(f.supplier).applyCreditNote(id, 400_000_00n, CREDIT_NOTE_HASH);
        await expect(f.receivables.connect(f.supplier).applyCreditNote(id, 600_000_00n, CREDIT_NOTE_HASH))
          .to.emit(f.receivables, "CreditNoteApplied")
          .withArgs(id, f.supplier.address, 600_000_00n, 0n, CREDIT_NOTE_HASH);
        expect(await outstandingOf(f, id)).to.equal(0n);
        expect(await statusOf(f, id)).to.equal(STATUS.Paid);
      });
    });

    describe("when the receivable was transferred", function () {
      it("lets the new holder apply it and refuses the old one", async function () {
        const f = await loadFixture(ledgerFixture);
        const id = await acceptedReceivable(f);
        await f.receivables.connect(f.supplier).transferFrom(f.supplier.address, f.supplier2.address, id);
        await expect(f.receivables.connect(f.supplier).applyCreditNote(id, 1n, CREDIT_NOTE_HASH))
          .to.be.revertedWithCustomError(f.receivables, "ReceivableUnauthorized")
          .withArgs(id, f.supplier.address);
        await expect(f.receivables.connect(f.supplier2).applyCreditNote(id, 1n, CREDIT_NOTE_HASH))
          .to.emit(f.receivables, "CreditNoteApplied")
          .withArgs(id, f.supplier2.address, 1n, FACE - 1n, CREDIT_NOTE_HASH);
      });
    });

    describe("when the caller is not the holder", function () {
      for (const [label, pick] of [
        ["the debtor", (f: LedgerFixture) => f.buyer],
        ["another supplier", (f: LedgerFixture) => f.supplier2],
      ] as const) {
        it(`reverts for ${label}`, async function () {
          const f = await loadFixture(ledgerFixture);
          const id = await acceptedReceivable(f);
          const caller = pick(f);
          await expect(f.receivables.connect(caller).applyCreditNote(id, 1n, CREDIT_NOTE_HASH))
            .to.be.revertedWithCustomError(f.receivables, "ReceivableUnauthorized")
            .withArgs(id, caller.address);
          expect(await outstandingOf(f, id)).to.equal(FACE);
        });
      }
    });

    describe("when the amount is invalid", function () {
      it("reverts for zero", async function () {
        const f = await loadFixture(ledgerFixture);
        const id = await acceptedReceivable(f);
        await expect(f.receivables.connect(f.supplier).applyCreditNote(id, 0n, CREDIT_NOTE_HASH))
          .to.be.revertedWithCustomError(f.receivables, "ReceivableInvalidAmount")
          .withArgs(0n);
      });

      it("reverts above the outstanding amount", async function () {
        const f = await loadFixture(ledgerFixture);
        const id = await acceptedReceivable(f);
        await f.receivables.connect(f.buyer).pay(id, 300_000_00n);
        const outstanding = FACE - 300_000_00n;
        await expect(f.receivables.connect(f.supplier).applyCreditNote(id, outstanding + 1n, CREDIT_NOTE_HASH))
          .to.be.revertedWithCustomError(f.receivables, "ReceivableAmountExceedsOutstanding")
          .withArgs(id, outstanding + 1n, outstanding);
        expect(await outstandingOf(f, id)).to.equal(outstanding);
      });
    });

    describe("when the credit note hash is zero", function () {
      it("reverts with ReceivableInvalidHash", async function () {
        const f = await loadFixture(ledgerFixture);
        const id = await acceptedReceivable(f);
        await expect(
          f.receivables.connect(f.supplier).applyCreditNote(id, 1n, ethers.ZeroHash),
        ).to.be.revertedWithCustomError(f.receivables, "ReceivableInvalidHash");
        expect(await outstandingOf(f, id)).to.equal(FACE);
      });
    });

    describe("when the receivable is financed", function () {
      it("reverts for the financier holding it", async function () {
        const f = await loadFixture(ledgerFixture);
        const id = await financedReceivable(f);
        await expect(f.receivables.connect(f.financier).applyCreditNote(id, 1n, CREDIT_NOTE_HASH))
          .to.be.revertedWithCustomError(f.receivables, "ReceivableInvalidStatus")
          .withArgs(id, STATUS.Financed);
        expect(await outstandingOf(f, id)).to.equal(FACE);
      });

      it("reverts for the supplier that was financed", async function () {
        const f = await loadFixture(ledgerFixture);
        const id = await financedReceivable(f);
        await expect(f.receivables.connect(f.supplier).applyCreditNote(id, 1n, CREDIT_NOTE_HASH))
          .to.be.revertedWithCustomError(f.receivables, "ReceivableUnauthorized")
          .withArgs(id, f.supplier.address);
      });
    });

    describe("when the receivable is paid or defaulted", function () {
      it("reverts for a paid receivable", async function () {
        const f = await loadFixture(ledgerFixture);
        const id = await acceptedReceivable(f);
        await f.receivables.connect(f.buyer).pay(id, FACE);
        await expect(f.receivables.connect(f.supplier).applyCreditNote(id, 1n, CREDIT_NOTE_HASH))
          .to.be.revertedWithCustomError(f.receivables, "ReceivableInvalidStatus")
          .withArgs(id, STATUS.Paid);
      });

      it("reverts for a defaulted receivable", async function () {
        const f = await loadFixture(ledgerFixture);
        const { id, inv } = await issuedReceivable(f);
        await accept(f, f.buyer, id);
        await time.increaseTo(inv.dueDate + GRACE_PERIOD + 1n);
        await f.receivables.connect(f.supplier).markDefaulted(id);
        await expect(f.receivables.connect(f.supplier).applyCreditNote(id, 1n, CREDIT_NOTE_HASH))
          .to.be.revertedWithCustomError(f.receivables, "ReceivableInvalidStatus")
          .withArgs(id, STATUS.Defaulted);
      });
    });
  });

  describe(".split()", function () {
    describe("when the holder splits an accepted receivable", function () {
      it("returns children with ids childId(id, i)", async function () {
        const f = await loadFixture(ledgerFixture);
        const id = await acceptedReceivable(f);
        const amounts = [500_000_00n, 300_000_00n, 200_000_00n];
        const expected = await Promise.all(amounts.map((_, i) => f.receivables.childId(id, i)));
        expect(expected[0]).to.equal(childIdOf(id, 0));
        expect(await f.receivables.connect(f.supplier).split.staticCall(id, amounts)).to.deep.equal(expected);
      });

      it("creates Accepted children that inherit debtor and due date and name the parent", async function () {
        const f = await loadFixture(ledgerFixture);
        const { id, inv } = await issuedReceivable(f);
        await accept(f, f.buyer, id);
        const amounts = [500_000_00n, 300_000_00n, 200_000_00n];
        await f.receivables.connect(f.supplier).split(id, amounts);
        for (let i = 0; i < amounts.length; i++) {
          const cid = await f.receivables.childId(id, i);
          expect(await view(f, cid)).to.deep.equal({
            id: cid,
            holder: f.supplier.address,
            debtor: f.buyer.address,
            faceValue: amounts[i],
            outstanding: amounts[i],
            dueDate: inv.dueDate,
            status: STATUS.Accepted,
            financed: false,
            parentId: id,
          });
          expect(await f.receivables.ownerOf(cid)).to.equal(f.supplier.address);
        }
      });

      it("burns the parent, marks it Split and adjusts the holder's balance", async function () {
        const f = await loadFixture(ledgerFixture);
        await issuedReceivable(f);
        const id = await acceptedReceivable(f);
        const before = await f.receivables.balanceOf(f.supplier.address);
        await f.receivables.connect(f.supplier).split(id, [500_000_00n, 300_000_00n, 200_000_00n]);
        expect(await statusOf(f, id)).to.equal(STATUS.Split);
        expect((await f.receivables.receivable(id)).holder).to.equal(ethers.ZeroAddress);
        await expect(f.receivables.ownerOf(id))
          .to.be.revertedWithCustomError(f.receivables, "ERC721NonexistentToken")
          .withArgs(id);
        expect(await f.receivables.balanceOf(f.supplier.address)).to.equal(before + 2n);
      });

      it("emits a ReceivableSplit and a mint Transfer per child and a burn Transfer for the parent", async function () {
        const f = await loadFixture(ledgerFixture);
        const id = await acceptedReceivable(f);
        const amounts = [500_000_00n, 300_000_00n, 200_000_00n];
        const children = await Promise.all(amounts.map((_, i) => f.receivables.childId(id, i)));
        const tx = await f.receivables.connect(f.supplier).split(id, amounts);
        expect(await receivableLogs(f, tx, "ReceivableSplit")).to.deep.equal(
          children.map((cid, i) => [id, cid, f.supplier.address, amounts[i]]),
        );
        expect(await receivableLogs(f, tx, "Transfer")).to.deep.equal([
          [f.supplier.address, ethers.ZeroAddress, id],
          ...children.map((cid) => [ethers.ZeroAddress, f.supplier.address, cid]),
        ]);
      });

      it("splits the outstanding amount after a credit note", async function () {
        const f = await loadFixture(ledgerFixture);
        const id = await acceptedReceivable(f);
        await f.receivables.connect(f.supplier).applyCreditNote(id, 100_000_00n, CREDIT_NOTE_HASH);
        await f.receivables.connect(f.supplier).split(id, [450_000_00n, 450_000_00n]);
        expect(await outstandingOf(f, await f.receivables.childId(id, 1n))).to.equal(450_000_00n);
      });

      it("accepts parts of exactly the minimum denomination", async function () {
        const f = await loadFixture(ledgerFixture);
        const id = await acceptedReceivable(f);
        await f.receivables.connect(f.supplier).split(id, [MIN_DENOMINATION, FACE - MIN_DENOMINATION]);
        expect(await outstandingOf(f, await f.receivables.childId(id, 0n))).to.equal(MIN_DENOMINATION);
      });

      it("accepts MAX_SPLIT_CHILDREN parts", async function () {
        const f = await loadFixture(ledgerFixture);
        const id = await acceptedReceivable(f);
        const max = await f.receivables.MAX_SPLIT_CHILDREN();
        expect(max).to.equal(20n);
        const before = await f.receivables.balanceOf(f.supplier.address);
        await f.receivables.connect(f.supplier).split(id, Array(Number(max)).fill(FACE / max));
        expect(await f.receivables.balanceOf(f.supplier.address)).to.equal(before + max - 1n);
        expect(await f.receivables.ownerOf(await f.receivables.childId(id, max - 1n))).to.equal(f.supplier.address);
      });
    });

    describe("when a child is split again", function () {
      it("keeps a three-level lineage", async function () {
        const f = await loadFixture(ledgerFixture);
        const root = await acceptedReceivable(f);
        const before = await f.receivables.balanceOf(f.supplier.address);
        await f.receivables.connect(f.supplier).split(root, [600_000_00n, 400_000_00n]);
        const child = await f.receivables.childId(root, 0n);
        await f.receivables.connect(f.supplier).split(child, [200_000_00n, 400_000_00n]);
        const grandchild = await f.receivables.childId(child, 1n);
        expect(await statusOf(f, child)).to.equal(STATUS.Split);
        expect((await f.receivables.receivable(child)).parentId).to.equal(root);
        expect((await f.receivables.receivable(grandchild)).parentId).to.equal(child);
        expect(await outstandingOf(f, grandchild)).to.equal(400_000_00n);
        expect(await f.receivables.balanceOf(f.supplier.address)).to.equal(before + 2n);
      });
    });

    describe("when a child is paid", function () {
      it("settles only that child", async function () {
        const f = await loadFixture(ledgerFixture);
        const id = await acceptedReceivable(f);
        await f.receivables.connect(f.supplier).split(id, [600_000_00n, 400_000_00n]);
        const [c0, c1] = [await f.receivables.childId(id, 0n), await f.receivables.childId(id, 1n)];
        await f.receivables.connect(f.buyer).pay(c1, 400_000_00n);
        expect(await statusOf(f, c1)).to.equal(STATUS.Paid);
        expect(await statusOf(f, c0)).to.equal(STATUS.Accepted);
        expect(await outstandingOf(f, id)).to.equal(FACE);
      });
    });

    describe("when the caller is not the holder", function () {
      it("reverts with ReceivableUnauthorized", async function () {
        const f = await loadFixture(ledgerFixture);
        const id = await acceptedReceivable(f);
        await expect(f.receivables.connect(f.supplier2).split(id, [FACE / 2n, FACE / 2n]))
          .to.be.revertedWithCustomError(f.receivables, "ReceivableUnauthorized")
          .withArgs(id, f.supplier2.address);
        expect(await statusOf(f, id)).to.equal(STATUS.Accepted);
      });
    });

    describe("when the holder is not a verified supplier", function () {
      it("reverts for a financier holding an accepted receivable", async function () {
        const f = await loadFixture(ledgerFixture);
        const id = await acceptedReceivable(f);
        await f.receivables.connect(f.supplier).transferFrom(f.supplier.address, f.financier.address, id);
        await expect(f.receivables.connect(f.financier).split(id, [FACE / 2n, FACE / 2n]))
          .to.be.revertedWithCustomError(f.receivables, "ReceivableUnverifiedParty")
          .withArgs(f.financier.address, ROLE_BITS.supplier);
      });

      it("reverts for a suspended supplier", async function () {
        const f = await loadFixture(ledgerFixture);
        const id = await acceptedReceivable(f);
        await suspend(f, f.supplier);
        await expect(f.receivables.connect(f.supplier).split(id, [FACE / 2n, FACE / 2n]))
          .to.be.revertedWithCustomError(f.receivables, "ReceivableUnverifiedParty")
          .withArgs(f.supplier.address, ROLE_BITS.supplier);
      });
    });

    describe("when the receivable is not accepted", function () {
      it("reverts for an issued receivable", async function () {
        const f = await loadFixture(ledgerFixture);
        const { id } = await issuedReceivable(f);
        await expect(f.receivables.connect(f.supplier).split(id, [FACE / 2n, FACE / 2n]))
          .to.be.revertedWithCustomError(f.receivables, "ReceivableInvalidStatus")
          .withArgs(id, STATUS.Issued);
        expect(await f.receivables.ownerOf(id)).to.equal(f.supplier.address);
      });

      it("reverts for a financed receivable", async function () {
        const f = await loadFixture(ledgerFixture);
        const id = await financedReceivable(f);
        await expect(f.receivables.connect(f.financier).split(id, [FACE / 2n, FACE / 2n]))
          .to.be.revertedWithCustomError(f.receivables, "ReceivableInvalidStatus")
          .withArgs(id, STATUS.Financed);
        expect(await f.receivables.ownerOf(id)).to.equal(f.financier.address);
      });

      it("reverts for a paid receivable", async function () {
        const f = await loadFixture(ledgerFixture);
        const id = await acceptedReceivable(f);
        await f.receivables.connect(f.buyer).pay(id, FACE);
        await expect(f.receivables.connect(f.supplier).split(id, [FACE / 2n, FACE / 2n]))
          .to.be.revertedWithCustomError(f.receivables, "ReceivableInvalidStatus")
          .withArgs(id, STATUS.Paid);
      });
    });

    describe("when the number of parts is out of range", function () {
      it("reverts for one part", async function () {
        const f = await loadFixture(ledgerFixture);
        const id = await acceptedReceivable(f);
        await expect(f.receivables.connect(f.supplier).split(id, [FACE]))
          .to.be.revertedWithCustomError(f.receivables, "ReceivableInvalidSplitCount")
          .withArgs(1n);
      });

      it("reverts for 21 parts", async function () {
        const f = await loadFixture(ledgerFixture);
        const id = await acceptedReceivable(f, f.supplier, f.buyer, { faceValue: 21n * 100_00n });
        await expect(f.receivables.connect(f.supplier).split(id, Array(21).fill(100_00n)))
          .to.be.revertedWithCustomError(f.receivables, "ReceivableInvalidSplitCount")
          .withArgs(21n);
        expect(await statusOf(f, id)).to.equal(STATUS.Accepted);
      });
    });

    describe("when a part is below the minimum denomination", function () {
      for (const part of [MIN_DENOMINATION - 1n, 0n]) {
        it(`reverts for a part of ${part}`, async function () {
          const f = await loadFixture(ledgerFixture);
          const id = await acceptedReceivable(f);
          await expect(f.receivables.connect(f.supplier).split(id, [FACE - part, part]))
            .to.be.revertedWithCustomError(f.receivables, "ReceivableBelowMinimumDenomination")
            .withArgs(part, 100_00n);
          expect(await statusOf(f, id)).to.equal(STATUS.Accepted);
        });
      }
    });

    describe("when the parts do not sum to the outstanding amount", function () {
      for (const delta of [-1n, 1n]) {
        it(`reverts for a sum off by ${delta}`, async function () {
          const f = await loadFixture(ledgerFixture);
          const id = await acceptedReceivable(f);
          const amounts = [FACE / 2n, FACE / 2n + delta];
          await expect(f.receivables.connect(f.supplier).split(id, amounts))
            .to.be.revertedWithCustomError(f.receivables, "ReceivableSplitSumMismatch")
            .withArgs(id, FACE + delta, FACE);
          expect(await f.receivables.ownerOf(id)).to.equal(f.supplier.address);
        });
      }

      it("reverts for parts summing to the face value after a credit note", async function () {
        const f = await loadFixture(ledgerFixture);
        const id = await acceptedReceivable(f);
        await f.receivables.connect(f.supplier).applyCreditNote(id, 100_00n, CREDIT_NOTE_HASH);
        await expect(f.receivables.connect(f.supplier).split(id, [FACE / 2n, FACE / 2n]))
          .to.be.revertedWithCustomError(f.receivables, "ReceivableSplitSumMismatch")
          .withArgs(id, FACE, FACE - 100_00n);
      });
    });

    describe("when a part exceeds the outstanding amount", function () {
      it("reverts with ReceivableAmountExceedsOutstanding instead of overflowing the sum", async function () {
        const f = await loadFixture(ledgerFixture);
        const id = await acceptedReceivable(f);
        const huge = 2n ** 256n - 1n;
        await expect(f.receivables.connect(f.supplier).split(id, [huge, huge]))
          .to.be.revertedWithCustomError(f.receivables, "ReceivableAmountExceedsOutstanding")
          .withArgs(id, huge, FACE);
        expect(await f.receivables.ownerOf(id)).to.equal(f.supplier.address);
      });
    });

    describe("when another supplier tokenised a victim's child id as a fingerprint and cancelled it", function () {
      it("cannot block the split: fingerprints never reach the child namespace", async function () {
        const f = await loadFixture(ledgerFixture);
        const id = await acceptedReceivable(f);
        const child = await f.receivables.childId(id, 1n);
        const squat = await invoice(f.buyer, { fingerprint: ethers.toBeHex(child, 32) });
        await tokenise(f, f.supplier2, squat);
        const squatId = idOf(squat);
        await f.receivables.connect(f.supplier2).cancel(squatId);
        expect(squatId).to.not.equal(child);
        await expect(f.receivables.connect(f.supplier).split(id, [FACE / 2n, FACE / 2n]))
          .to.emit(f.receivables, "ReceivableSplit")
          .withArgs(id, child, f.supplier.address, FACE / 2n);
        expect(await f.receivables.ownerOf(child)).to.equal(f.supplier.address);
        expect(await statusOf(f, squatId)).to.equal(STATUS.Cancelled);
      });

      it("keeps root and child ids apart for the same 32 bytes", async function () {
        const f = await loadFixture(ledgerFixture);
        const parent = 7n;
        const child = await f.receivables.childId(parent, 0n);
        expect(await f.receivables.receivableIdOf(ethers.toBeHex(child, 32))).to.not.equal(child);
        expect(child).to.not.equal(
          BigInt(ethers.keccak256(ethers.AbiCoder.defaultAbiCoder().encode(["uint256", "uint256"], [parent, 0n]))),
        );
        expect(await f.receivables.receivableIdOf(ethers.toBeHex(parent, 32))).to.equal(rootId(ethers.toBeHex(parent, 32)));
      });
    });
  });

  describe("ERC-721 transfers", function () {
    type Transfer = (f: LedgerFixture, id: bigint, to: string) => Promise<unknown>;
    const ways: Array<[string, Transfer]> = [
      ["transferFrom", (f, id, to) => f.receivables.connect(f.supplier).transferFrom(f.supplier.address, to, id)],
      [
        "safeTransferFrom",
        (f, id, to) =>
          f.receivables.connect(f.supplier)["safeTransferFrom(address,address,uint256)"](f.supplier.address, to, id),
      ],
      [
        "safeTransferFrom with data",
        (f, id, to) => {
          const asHolder = f.receivables.connect(f.supplier);
          return asHolder["safeTransferFrom(address,address,uint256,bytes)"](f.supplier.address, to, id, "0x1234");
        },
      ],
      [
        "an approved operator",
        async (f, id, to) => {
          await f.receivables.connect(f.supplier).approve(f.financier2.address, id);
          return f.receivables.connect(f.financier2).transferFrom(f.supplier.address, to, id);
        },
      ],
      [
        "an operator approved for all",
        async (f, id, to) => {
          await f.receivables.connect(f.supplier).setApprovalForAll(f.auditor.address, true);
          return f.receivables.connect(f.auditor).transferFrom(f.supplier.address, to, id);
        },
      ],
    ];

    for (const [way, transfer] of ways) {
      describe(`when an accepted receivable moves by ${way}`, function () {
        for (const [label, pick] of [
          ["a verified supplier", (f: LedgerFixture) => f.supplier2],
          ["a buyer that is also a supplier", (f: LedgerFixture) => f.buyer2],
          ["a verified financier", (f: LedgerFixture) => f.financier],
        ] as const) {
          it(`moves it to ${label}`, async function () {
            const f = await loadFixture(ledgerFixture);
            const id = await acceptedReceivable(f);
            const to = pick(f).address;
            await expect(transfer(f, id, to))
              .to.emit(f.receivables, "Transfer")
              .withArgs(f.supplier.address, to, id);
            expect(await f.receivables.ownerOf(id)).to.equal(to);
            expect((await f.receivables.receivable(id)).holder).to.equal(to);
            expect(await f.receivables.getApproved(id)).to.equal(ethers.ZeroAddress);
            expect(await statusOf(f, id)).to.equal(STATUS.Accepted);
          });
        }

        for (const [label, pick] of [
          ["an outsider", (f: LedgerFixture) => f.outsider],
          ["a buyer", (f: LedgerFixture) => f.buyer],
          ["an auditor", (f: LedgerFixture) => f.auditor],
        ] as const) {
          it(`reverts towards ${label}`, async function () {
            const f = await loadFixture(ledgerFixture);
            const id = await acceptedReceivable(f);
            const to = pick(f).address;
            await expect(transfer(f, id, to))
              .to.be.revertedWithCustomError(f.receivables, "ReceivableUnverifiedParty")
              .withArgs(to, TRANSFER_TARGET_ROLES);
            expect(await f.receivables.ownerOf(id)).to.equal(f.supplier.address);
          });
        }
      });
    }

    describe("when the holder's balance counts the token", function () {
      it("moves one unit of balance from the holder to the recipient", async function () {
        const f = await loadFixture(ledgerFixture);
        // Minted by batch, so this checks the transfer's own accounting.
        const inv = await invoice(f.buyer);
        await tokeniseBatch(f, f.supplier, [inv, await invoice(f.buyer)]);
        const id = idOf(inv);
        await accept(f, f.buyer, id);
        await f.receivables.connect(f.supplier).transferFrom(f.supplier.address, f.supplier2.address, id);
        expect(await f.receivables.balanceOf(f.supplier.address)).to.equal(1n);
        expect(await f.receivables.balanceOf(f.supplier2.address)).to.equal(1n);
      });
    });

    describe("when the recipient is a suspended supplier", function () {
      it("reverts with ReceivableUnverifiedParty", async function () {
        const f = await loadFixture(ledgerFixture);
        const id = await acceptedReceivable(f);
        await suspend(f, f.supplier2);
        await expect(f.receivables.connect(f.supplier).transferFrom(f.supplier.address, f.supplier2.address, id))
          .to.be.revertedWithCustomError(f.receivables, "ReceivableUnverifiedParty")
          .withArgs(f.supplier2.address, TRANSFER_TARGET_ROLES);
      });
    });

    describe("when the recipient is the zero address", function () {
      it("reverts with ERC721InvalidReceiver", async function () {
        const f = await loadFixture(ledgerFixture);
        const id = await acceptedReceivable(f);
        await expect(f.receivables.connect(f.supplier).transferFrom(f.supplier.address, ethers.ZeroAddress, id))
          .to.be.revertedWithCustomError(f.receivables, "ERC721InvalidReceiver")
          .withArgs(ethers.ZeroAddress);
      });
    });

    describe("when the receivable is not accepted", function () {
      it("reverts for an issued receivable", async function () {
        const f = await loadFixture(ledgerFixture);
        const { id } = await issuedReceivable(f);
        await expect(f.receivables.connect(f.supplier).transferFrom(f.supplier.address, f.supplier2.address, id))
          .to.be.revertedWithCustomError(f.receivables, "ReceivableInvalidStatus")
          .withArgs(id, STATUS.Issued);
        expect(await f.receivables.ownerOf(id)).to.equal(f.supplier.address);
      });

      it("reverts for a financed receivable", async function () {
        const f = await loadFixture(ledgerFixture);
        const id = await financedReceivable(f);
        await expect(
          f.receivables.connect(f.financier).transferFrom(f.financier.address, f.financier2.address, id),
        )
          .to.be.revertedWithCustomError(f.receivables, "ReceivableInvalidStatus")
          .withArgs(id, STATUS.Financed);
        expect(await f.receivables.ownerOf(id)).to.equal(f.financier.address);
      });

      it("reverts for a paid receivable", async function () {
        const f = await loadFixture(ledgerFixture);
        const id = await acceptedReceivable(f);
        await f.receivables.connect(f.buyer).pay(id, FACE);
        await expect(f.receivables.connect(f.supplier).transferFrom(f.supplier.address, f.supplier2.address, id))
          .to.be.revertedWithCustomError(f.receivables, "ReceivableInvalidStatus")
          .withArgs(id, STATUS.Paid);
      });

      it("reverts for a split parent, whose token no longer exists", async function () {
        const f = await loadFixture(ledgerFixture);
        const id = await acceptedReceivable(f);
        await f.receivables.connect(f.supplier).split(id, [FACE / 2n, FACE / 2n]);
        await expect(f.receivables.connect(f.supplier).transferFrom(f.supplier.address, f.supplier2.address, id))
          .to.be.revertedWithCustomError(f.receivables, "ERC721NonexistentToken")
          .withArgs(id);
      });
    });

    describe("when the holder is suspended", function () {
      it("reverts with ReceivableUnverifiedParty(from, 0)", async function () {
        const f = await loadFixture(ledgerFixture);
        const id = await acceptedReceivable(f);
        await suspend(f, f.supplier);
        await expect(f.receivables.connect(f.supplier).transferFrom(f.supplier.address, f.supplier2.address, id))
          .to.be.revertedWithCustomError(f.receivables, "ReceivableUnverifiedParty")
          .withArgs(f.supplier.address, 0);
        expect(await f.receivables.ownerOf(id)).to.equal(f.supplier.address);
      });

      it("reverts also when an approved operator moves it", async function () {
        const f = await loadFixture(ledgerFixture);
        const id = await acceptedReceivable(f);
        await f.receivables.connect(f.supplier).approve(f.financier2.address, id);
        await suspend(f, f.supplier);
        await expect(f.receivables.connect(f.financier2).transferFrom(f.supplier.address, f.supplier2.address, id))
          .to.be.revertedWithCustomError(f.receivables, "ReceivableUnverifiedParty")
          .withArgs(f.supplier.address, 0);
      });
    });

    describe("when a non-member would act as the holder's operator", function () {
      it("refuses to approve it, one receivable or all, with ReceivableUnverifiedParty(operator, 0)", async function () {
        const f = await loadFixture(ledgerFixture);
        const id = await acceptedReceivable(f);
        await expect(f.receivables.connect(f.supplier).approve(f.outsider.address, id))
          .to.be.revertedWithCustomError(f.receivables, "ReceivableUnverifiedParty")
          .withArgs(f.outsider.address, 0);
        await expect(f.receivables.connect(f.supplier).setApprovalForAll(f.outsider.address, true))
          .to.be.revertedWithCustomError(f.receivables, "ReceivableUnverifiedParty")
          .withArgs(f.outsider.address, 0);
        expect(await f.receivables.getApproved(id)).to.equal(ethers.ZeroAddress);
        expect(await f.receivables.isApprovedForAll(f.supplier.address, f.outsider.address)).to.equal(false);
      });

      it("refuses a transfer by an operator suspended after it was approved", async function () {
        const f = await loadFixture(ledgerFixture);
        const id = await acceptedReceivable(f);
        await f.receivables.connect(f.supplier).setApprovalForAll(f.financier2.address, true);
        await suspend(f, f.financier2);
        await expect(f.receivables.connect(f.financier2).transferFrom(f.supplier.address, f.financier2.address, id))
          .to.be.revertedWithCustomError(f.receivables, "ReceivableUnverifiedParty")
          .withArgs(f.financier2.address, 0);
        await expect(
          f.receivables.connect(f.financier2)["safeTransferFrom(address,address,uint256)"](f.supplier.address, f.supplier2.address, id),
        )
          .to.be.revertedWithCustomError(f.receivables, "ReceivableUnverifiedParty")
          .withArgs(f.financier2.address, 0);
        expect(await f.receivables.ownerOf(id)).to.equal(f.supplier.address);
      });

      it("lets the holder revoke an approval of an operator that is no longer a member", async function () {
        const f = await loadFixture(ledgerFixture);
        await f.receivables.connect(f.supplier).setApprovalForAll(f.financier2.address, true);
        await suspend(f, f.financier2);
        await f.receivables.connect(f.supplier).setApprovalForAll(f.financier2.address, false);
        expect(await f.receivables.isApprovedForAll(f.supplier.address, f.financier2.address)).to.equal(false);
      });
    });

    describe("when the caller is neither owner nor approved", function () {
      it("reverts with ERC721InsufficientApproval", async function () {
        const f = await loadFixture(ledgerFixture);
        const id = await acceptedReceivable(f);
        await expect(f.receivables.connect(f.supplier2).transferFrom(f.supplier.address, f.supplier2.address, id))
          .to.be.revertedWithCustomError(f.receivables, "ERC721InsufficientApproval")
          .withArgs(f.supplier2.address, id);
        expect(await f.receivables.ownerOf(id)).to.equal(f.supplier.address);
      });

      it("reverts for a previously approved operator after the token moved", async function () {
        const f = await loadFixture(ledgerFixture);
        const id = await acceptedReceivable(f);
        await f.receivables.connect(f.supplier).approve(f.financier2.address, id);
        await f.receivables.connect(f.supplier).transferFrom(f.supplier.address, f.supplier2.address, id);
        await expect(f.receivables.connect(f.financier2).transferFrom(f.supplier2.address, f.financier.address, id))
          .to.be.revertedWithCustomError(f.receivables, "ERC721InsufficientApproval")
          .withArgs(f.financier2.address, id);
      });
    });

    describe("when `from` is not the holder", function () {
      it("reverts with ERC721IncorrectOwner", async function () {
        const f = await loadFixture(ledgerFixture);
        const id = await acceptedReceivable(f);
        await expect(f.receivables.connect(f.supplier).transferFrom(f.supplier2.address, f.financier.address, id))
          .to.be.revertedWithCustomError(f.receivables, "ERC721IncorrectOwner")
          .withArgs(f.supplier2.address, id, f.supplier.address);
        expect(await f.receivables.ownerOf(id)).to.equal(f.supplier.address);
      });
    });

    describe("when the new holder transfers again", function () {
      it("moves it onwards", async function () {
        const f = await loadFixture(ledgerFixture);
        const id = await acceptedReceivable(f);
        await f.receivables.connect(f.supplier).transferFrom(f.supplier.address, f.supplier2.address, id);
        await f.receivables.connect(f.supplier2).transferFrom(f.supplier2.address, f.financier2.address, id);
        expect(await f.receivables.ownerOf(id)).to.equal(f.financier2.address);
        expect(await f.receivables.balanceOf(f.supplier2.address)).to.equal(0n);
      });
    });
  });

  describe(".pay()", function () {
    describe("when the debtor pays in part and then in full", function () {
      it("moves the exact amounts from debtor to holder and settles the receivable", async function () {
        const f = await loadFixture(ledgerFixture);
        const id = await acceptedReceivable(f);
        const first = 400_000_00n;
        const rest = FACE - first;

        const payFirst = f.receivables.connect(f.buyer).pay(id, first);
        await expect(payFirst)
          .to.emit(f.receivables, "ReceivablePaid")
          .withArgs(id, f.buyer.address, f.supplier.address, first, rest);
        await expect(payFirst).to.changeTokenBalances(f.token, [f.buyer, f.supplier], [-first, first]);
        expect(await outstandingOf(f, id)).to.equal(rest);
        expect(await statusOf(f, id)).to.equal(STATUS.Accepted);

        const payRest = f.receivables.connect(f.buyer).pay(id, rest);
        await expect(payRest)
          .to.emit(f.receivables, "ReceivablePaid")
          .withArgs(id, f.buyer.address, f.supplier.address, rest, 0n);
        await expect(payRest).to.changeTokenBalances(f.token, [f.buyer, f.supplier], [-rest, rest]);
        expect(await outstandingOf(f, id)).to.equal(0n);
        expect(await statusOf(f, id)).to.equal(STATUS.Paid);
        expect(await f.receivables.ownerOf(id)).to.equal(f.supplier.address);
      });
    });

    describe("when the receivable was transferred", function () {
      it("pays the new holder", async function () {
        const f = await loadFixture(ledgerFixture);
        const id = await acceptedReceivable(f);
        await f.receivables.connect(f.supplier).transferFrom(f.supplier.address, f.supplier2.address, id);
        const tx = f.receivables.connect(f.buyer).pay(id, FACE);
        await expect(tx)
          .to.emit(f.receivables, "ReceivablePaid")
          .withArgs(id, f.buyer.address, f.supplier2.address, FACE, 0n);
        await expect(tx).to.changeTokenBalances(f.token, [f.buyer, f.supplier2, f.supplier], [-FACE, FACE, 0n]);
      });
    });

    describe("when the receivable is defaulted", function () {
      it("still accepts payment, settling it at zero", async function () {
        const f = await loadFixture(ledgerFixture);
        const { id, inv } = await issuedReceivable(f);
        await accept(f, f.buyer, id);
        await time.increaseTo(inv.dueDate + GRACE_PERIOD + 1n);
        await f.receivables.connect(f.supplier).markDefaulted(id);
        await expect(f.receivables.connect(f.buyer).pay(id, 1n)).to.changeTokenBalances(
          f.token,
          [f.buyer, f.supplier],
          [-1n, 1n],
        );
        expect(await statusOf(f, id)).to.equal(STATUS.Defaulted);
        await f.receivables.connect(f.buyer).pay(id, FACE - 1n);
        expect(await statusOf(f, id)).to.equal(STATUS.Paid);
      });
    });

    describe("when the receivable is financed", function () {
      it("takes exactly the amount from the debtor and shares it between financier and supplier", async function () {
        const f = await loadFixture(ledgerFixture);
        const id = await financedReceivable(f);
        const before = await Promise.all([f.financier, f.supplier].map((s) => f.token.balanceOf(s.address)));
        const tx = f.receivables.connect(f.buyer).pay(id, FACE);
        await expect(tx)
          .to.emit(f.receivables, "ReceivablePaid")
          .withArgs(id, f.buyer.address, f.financier.address, FACE, 0n);
        await expect(tx).to.changeTokenBalance(f.token, f.buyer, -FACE);
        const after = await Promise.all([f.financier, f.supplier].map((s) => f.token.balanceOf(s.address)));
        expect(after[0] - before[0] + (after[1] - before[1])).to.equal(FACE);
        expect(after[0]).to.be.greaterThan(before[0]);
        expect(await statusOf(f, id)).to.equal(STATUS.Paid);
      });
    });

    describe("when the caller is not the debtor", function () {
      for (const [label, pick] of [
        ["another buyer", (f: LedgerFixture) => f.buyer2],
        ["the holder", (f: LedgerFixture) => f.supplier],
      ] as const) {
        it(`reverts for ${label}`, async function () {
          const f = await loadFixture(ledgerFixture);
          const id = await acceptedReceivable(f);
          const caller = pick(f);
          await expect(f.receivables.connect(caller).pay(id, 1n))
            .to.be.revertedWithCustomError(f.receivables, "ReceivableUnauthorized")
            .withArgs(id, caller.address);
          expect(await outstandingOf(f, id)).to.equal(FACE);
        });
      }
    });

    describe("when the amount is invalid", function () {
      it("reverts for zero", async function () {
        const f = await loadFixture(ledgerFixture);
        const id = await acceptedReceivable(f);
        await expect(f.receivables.connect(f.buyer).pay(id, 0n))
          .to.be.revertedWithCustomError(f.receivables, "ReceivableInvalidAmount")
          .withArgs(0n);
      });

      it("reverts above the outstanding amount", async function () {
        const f = await loadFixture(ledgerFixture);
        const id = await acceptedReceivable(f);
        await f.receivables.connect(f.buyer).pay(id, 400_000_00n);
        const outstanding = FACE - 400_000_00n;
        await expect(f.receivables.connect(f.buyer).pay(id, outstanding + 1n))
          .to.be.revertedWithCustomError(f.receivables, "ReceivableAmountExceedsOutstanding")
          .withArgs(id, outstanding + 1n, outstanding);
        expect(await outstandingOf(f, id)).to.equal(outstanding);
      });
    });

    describe("when the receivable is not payable", function () {
      it("reverts before acceptance", async function () {
        const f = await loadFixture(ledgerFixture);
        const { id } = await issuedReceivable(f);
        await expect(f.receivables.connect(f.buyer).pay(id, 1n))
          .to.be.revertedWithCustomError(f.receivables, "ReceivableInvalidStatus")
          .withArgs(id, STATUS.Issued);
        expect(await outstandingOf(f, id)).to.equal(FACE);
      });

      it("reverts once paid", async function () {
        const f = await loadFixture(ledgerFixture);
        const id = await acceptedReceivable(f);
        await f.receivables.connect(f.buyer).pay(id, FACE);
        await expect(f.receivables.connect(f.buyer).pay(id, 1n))
          .to.be.revertedWithCustomError(f.receivables, "ReceivableInvalidStatus")
          .withArgs(id, STATUS.Paid);
      });

      it("reverts for a cancelled receivable", async function () {
        const f = await loadFixture(ledgerFixture);
        const { id } = await issuedReceivable(f);
        await f.receivables.connect(f.supplier).cancel(id);
        await expect(f.receivables.connect(f.buyer).pay(id, 1n))
          .to.be.revertedWithCustomError(f.receivables, "ReceivableInvalidStatus")
          .withArgs(id, STATUS.Cancelled);
      });

      it("reverts for a split parent", async function () {
        const f = await loadFixture(ledgerFixture);
        const id = await acceptedReceivable(f);
        await f.receivables.connect(f.supplier).split(id, [FACE / 2n, FACE / 2n]);
        await expect(f.receivables.connect(f.buyer).pay(id, 1n))
          .to.be.revertedWithCustomError(f.receivables, "ReceivableInvalidStatus")
          .withArgs(id, STATUS.Split);
      });

      it("reverts for an unknown id", async function () {
        const f = await loadFixture(ledgerFixture);
        await expect(f.receivables.connect(f.buyer).pay(99n, 1n))
          .to.be.revertedWithCustomError(f.receivables, "ReceivableNotFound")
          .withArgs(99n);
      });
    });
  });

  describe("held payments", function () {
    describe("when the holder is suspended at payment", function () {
      it("takes the debtor's payment, holds it for the holder, emits PaymentHeld, and the receivable is Paid", async function () {
        const f = await loadFixture(ledgerFixture);
        const id = await acceptedReceivable(f);
        const ledger = await f.receivables.getAddress();
        await suspend(f, f.supplier);
        const tx = await f.receivables.connect(f.buyer).pay(id, FACE);
        await expect(tx).to.emit(f.receivables, "PaymentHeld").withArgs(id, f.supplier.address, FACE);
        await expect(tx).to.changeTokenBalances(f.token, [f.buyer, f.supplier, ledger], [-FACE, 0n, FACE]);
        expect(await statusOf(f, id)).to.equal(STATUS.Paid);
        expect(await f.receivables.heldFor(f.supplier.address)).to.equal(FACE);
      });

      it("holds for a holder whose KYC lapsed, and pays the other recipient of a financed receivable directly", async function () {
        const f = await loadFixture(ledgerFixture);
        const id = await financedReceivable(f);
        await f.registry.connect(f.officer).suspend(f.supplier.address, REASON_CODE);
        const tx = f.receivables.connect(f.buyer).pay(id, FACE);
        await expect(tx).to.emit(f.receivables, "PaymentHeld");
        const held = await f.receivables.heldFor(f.supplier.address);
        expect(held).to.be.greaterThan(0n);
        expect(await f.receivables.heldFor(f.financier.address)).to.equal(0n);
        expect(await f.token.balanceOf(await f.receivables.getAddress())).to.equal(held);
        expect(await statusOf(f, id)).to.equal(STATUS.Paid);
      });
    });

    describe(".claim()", function () {
      async function heldForSupplier(f: LedgerFixture): Promise<bigint> {
        const id = await acceptedReceivable(f);
        await suspend(f, f.supplier);
        await f.receivables.connect(f.buyer).pay(id, FACE);
        return id;
      }

      it("reverts with ReceivableUnverifiedParty while the recipient still cannot receive", async function () {
        const f = await loadFixture(ledgerFixture);
        await heldForSupplier(f);
        await expect(f.receivables.connect(f.supplier).claim())
          .to.be.revertedWithCustomError(f.receivables, "ReceivableUnverifiedParty")
          .withArgs(f.supplier.address, 0);
        expect(await f.receivables.heldFor(f.supplier.address)).to.equal(FACE);
      });

      it("pays everything held once the recipient is reinstated, and emits PaymentClaimed", async function () {
        const f = await loadFixture(ledgerFixture);
        await heldForSupplier(f);
        await f.registry.connect(f.officer).reinstate(f.supplier.address);
        const ledger = await f.receivables.getAddress();
        const tx = await f.receivables.connect(f.supplier).claim();
        await expect(tx).to.emit(f.receivables, "PaymentClaimed").withArgs(f.supplier.address, FACE);
        await expect(tx).to.changeTokenBalances(f.token, [ledger, f.supplier], [-FACE, FACE]);
        expect(await f.receivables.heldFor(f.supplier.address)).to.equal(0n);
        await expect(f.receivables.connect(f.supplier).claim())
          .to.be.revertedWithCustomError(f.receivables, "ReceivableNothingHeld")
          .withArgs(f.supplier.address);
      });

      it("relays a claim signed by the recipient (claimBySig), paying the recipient, not the relayer", async function () {
        const f = await loadFixture(ledgerFixture);
        await heldForSupplier(f);
        await f.registry.connect(f.officer).reinstate(f.supplier.address);
        const auth = { nonce: 1n, deadline: await deadline() };
        const signature = await signAct(
          f.supplier,
          { name: "SCF Receivables", version: "1", verifyingContract: await f.receivables.getAddress() },
          { ClaimHeld: [{ name: "recipient", type: "address" }, { name: "nonce", type: "uint256" }, { name: "deadline", type: "uint256" }] },
          { recipient: f.supplier.address, ...auth },
        );
        const tx = await f.receivables.connect(f.outsider).claimBySig(f.supplier.address, { ...auth, signature });
        await expect(tx).to.emit(f.receivables, "PaymentClaimed").withArgs(f.supplier.address, FACE);
        await expect(tx).to.changeTokenBalances(f.token, [f.supplier, f.outsider], [FACE, 0n]);
        await expect(f.receivables.connect(f.outsider).claimBySig(f.supplier.address, { ...auth, signature }))
          .to.be.revertedWithCustomError(f.receivables, "SignedActionNonceUsed")
          .withArgs(f.supplier.address, 1n);
      });

      it("refuses another key's signature in the recipient's name", async function () {
        const f = await loadFixture(ledgerFixture);
        await heldForSupplier(f);
        await f.registry.connect(f.officer).reinstate(f.supplier.address);
        const auth = { nonce: 2n, deadline: await deadline() };
        const signature = await signAct(
          f.outsider,
          { name: "SCF Receivables", version: "1", verifyingContract: await f.receivables.getAddress() },
          { ClaimHeld: [{ name: "recipient", type: "address" }, { name: "nonce", type: "uint256" }, { name: "deadline", type: "uint256" }] },
          { recipient: f.supplier.address, ...auth },
        );
        await expect(f.receivables.connect(f.outsider).claimBySig(f.supplier.address, { ...auth, signature }))
          .to.be.revertedWithCustomError(f.receivables, "SignedActionInvalidSignature")
          .withArgs(f.supplier.address);
        expect(await f.receivables.heldFor(f.supplier.address)).to.equal(FACE);
      });
    });

    describe("when the debtor is suspended", function () {
      it("reverts with ReceivableUnverifiedParty(debtor, 0)", async function () {
        const f = await loadFixture(ledgerFixture);
        const id = await acceptedReceivable(f);
        await suspend(f, f.buyer);
        await expect(f.receivables.connect(f.buyer).pay(id, FACE))
          .to.be.revertedWithCustomError(f.receivables, "ReceivableUnverifiedParty")
          .withArgs(f.buyer.address, 0);
      });
    });

    describe("when the debtor cannot cover the payment", function () {
      it("reverts with the token's reason and holds nothing", async function () {
        const f = await loadFixture(ledgerFixture);
        const id = await acceptedReceivable(f);
        await suspend(f, f.supplier);
        await f.token.connect(f.buyer).approve(await f.receivables.getAddress(), FACE - 1n);
        await expect(f.receivables.connect(f.buyer).pay(id, FACE)).to.be.revertedWithCustomError(
          f.token,
          "ERC20InsufficientAllowance",
        );
        expect(await f.receivables.heldFor(f.supplier.address)).to.equal(0n);
      });
    });
  });

  describe("registry checks on holder and seller acts", function () {
    it("refuses a credit note from a suspended holder with ReceivableUnverifiedParty(holder, 0)", async function () {
      const f = await loadFixture(ledgerFixture);
      const id = await acceptedReceivable(f);
      await suspend(f, f.supplier);
      await expect(f.receivables.connect(f.supplier).applyCreditNote(id, 1n, CREDIT_NOTE_HASH))
        .to.be.revertedWithCustomError(f.receivables, "ReceivableUnverifiedParty")
        .withArgs(f.supplier.address, 0);
      expect((await f.receivables.receivable(id)).outstanding).to.equal(FACE);
    });

    it("refuses a cancel from a suspended seller with ReceivableUnverifiedParty(seller, SUPPLIER)", async function () {
      const f = await loadFixture(ledgerFixture);
      const { id } = await issuedReceivable(f);
      await suspend(f, f.supplier);
      await expect(f.receivables.connect(f.supplier).cancel(id))
        .to.be.revertedWithCustomError(f.receivables, "ReceivableUnverifiedParty")
        .withArgs(f.supplier.address, ROLE_BITS.supplier);
      expect(await statusOf(f, id)).to.equal(STATUS.Issued);
    });
  });

  describe(".markDefaulted()", function () {
    describe("when someone other than the holder marks it", function () {
      it("reverts with ReceivableUnauthorized for an outsider, the debtor and the seller of a financed receivable", async function () {
        const f = await loadFixture(ledgerFixture);
        const { id, inv } = await issuedReceivable(f);
        await f.receivables.connect(f.buyer).accept(id, recordedTerms(id));
        await time.increaseTo(inv.dueDate + GRACE_PERIOD + 1n);
        for (const who of [f.outsider, f.buyer, f.supplier2, f.financier]) {
          await expect(f.receivables.connect(who).markDefaulted(id))
            .to.be.revertedWithCustomError(f.receivables, "ReceivableUnauthorized")
            .withArgs(id, who.address);
        }
        const financed = await financedReceivable(f);
        const due = (await f.receivables.receivable(financed)).dueDate;
        await time.increaseTo(due + GRACE_PERIOD + 1n);
        await expect(f.receivables.connect(f.supplier).markDefaulted(financed))
          .to.be.revertedWithCustomError(f.receivables, "ReceivableUnauthorized")
          .withArgs(financed, f.supplier.address);
        expect(await statusOf(f, id)).to.equal(STATUS.Accepted);
      });
    });

    describe("when the holder is suspended", function () {
      it("reverts with ReceivableUnverifiedParty(holder, 0)", async function () {
        const f = await loadFixture(ledgerFixture);
        const { id, inv } = await issuedReceivable(f);
        await f.receivables.connect(f.buyer).accept(id, recordedTerms(id));
        await time.increaseTo(inv.dueDate + GRACE_PERIOD + 1n);
        await f.registry.connect(f.officer).suspend(f.supplier.address, REASON_CODE);
        await expect(f.receivables.connect(f.supplier).markDefaulted(id))
          .to.be.revertedWithCustomError(f.receivables, "ReceivableUnverifiedParty")
          .withArgs(f.supplier.address, 0);
      });
    });

    describe("when the settlement token is paused", function () {
      it("reverts with ReceivableSettlementPaused: nobody can pay during a pause", async function () {
        const f = await loadFixture(ledgerFixture);
        const { id, inv } = await issuedReceivable(f);
        await f.receivables.connect(f.buyer).accept(id, recordedTerms(id));
        await f.token.connect(f.admin).pause();
        await time.increaseTo(inv.dueDate + GRACE_PERIOD + 1n);
        await expect(f.receivables.connect(f.supplier).markDefaulted(id))
          .to.be.revertedWithCustomError(f.receivables, "ReceivableSettlementPaused")
          .withArgs(await f.token.getAddress());
      });

      it("needs a full grace period after the unpause, in which the debtor pays and is never defaulted", async function () {
        const f = await loadFixture(ledgerFixture);
        const { id, inv } = await issuedReceivable(f);
        await f.receivables.connect(f.buyer).accept(id, recordedTerms(id));
        await time.increaseTo(inv.dueDate - 1n);
        await f.token.connect(f.admin).pause();
        await expect(f.receivables.connect(f.buyer).pay(id, FACE)).to.be.revertedWithCustomError(f.token, "EnforcedPause");
        await time.increaseTo(inv.dueDate + GRACE_PERIOD + 10n * DAY);
        await f.token.connect(f.admin).unpause();
        const unpausedAt = BigInt(await time.latest());
        await time.setNextBlockTimestamp(unpausedAt + GRACE_PERIOD);
        await expect(f.receivables.connect(f.supplier).markDefaulted(id))
          .to.be.revertedWithCustomError(f.receivables, "ReceivableNotOverdue")
          .withArgs(id, unpausedAt + GRACE_PERIOD);
        await f.receivables.connect(f.buyer).pay(id, FACE);
        expect(await statusOf(f, id)).to.equal(STATUS.Paid);
      });
    });

    describe("when the grace period has not ended", function () {
      it("reverts at the due date plus grace period exactly", async function () {
        const f = await loadFixture(ledgerFixture);
        const { id, inv } = await issuedReceivable(f);
        await accept(f, f.buyer, id);
        const overdueAt = inv.dueDate + GRACE_PERIOD;
        await time.setNextBlockTimestamp(overdueAt);
        await expect(f.receivables.connect(f.supplier).markDefaulted(id))
          .to.be.revertedWithCustomError(f.receivables, "ReceivableNotOverdue")
          .withArgs(id, overdueAt);
        expect(await statusOf(f, id)).to.equal(STATUS.Accepted);
      });

      it("reverts right after the due date", async function () {
        const f = await loadFixture(ledgerFixture);
        const { id, inv } = await issuedReceivable(f);
        await accept(f, f.buyer, id);
        await time.increaseTo(inv.dueDate + 1n);
        await expect(f.receivables.connect(f.supplier).markDefaulted(id))
          .to.be.revertedWithCustomError(f.receivables, "ReceivableNotOverdue")
          .withArgs(id, inv.dueDate + GRACE_PERIOD);
      });
    });

    describe("when the grace period has ended", function () {
      it("lets the holder mark it Defaulted and emits ReceivableDefaulted", async function () {
        const f = await loadFixture(ledgerFixture);
        const { id, inv } = await issuedReceivable(f);
        await accept(f, f.buyer, id);
        await f.receivables.connect(f.buyer).pay(id, 100_00n);
        await time.setNextBlockTimestamp(inv.dueDate + GRACE_PERIOD + 1n);
        await expect(f.receivables.connect(f.supplier).markDefaulted(id))
          .to.emit(f.receivables, "ReceivableDefaulted")
          .withArgs(id, f.supplier.address, FACE - 100_00n);
        expect(await statusOf(f, id)).to.equal(STATUS.Defaulted);
        expect(await f.receivables.ownerOf(id)).to.equal(f.supplier.address);
      });

      it("marks a financed receivable Defaulted with the financier as holder", async function () {
        const f = await loadFixture(ledgerFixture);
        const id = await financedReceivable(f);
        const dueDate = (await f.receivables.receivable(id)).dueDate;
        await time.increaseTo(dueDate + GRACE_PERIOD + 1n);
        await expect(f.receivables.connect(f.financier).markDefaulted(id))
          .to.emit(f.receivables, "ReceivableDefaulted")
          .withArgs(id, f.financier.address, FACE);
        expect(await statusOf(f, id)).to.equal(STATUS.Defaulted);
      });

      it("reverts when already defaulted", async function () {
        const f = await loadFixture(ledgerFixture);
        const { id, inv } = await issuedReceivable(f);
        await accept(f, f.buyer, id);
        await time.increaseTo(inv.dueDate + GRACE_PERIOD + 1n);
        await f.receivables.connect(f.supplier).markDefaulted(id);
        await expect(f.receivables.connect(f.supplier).markDefaulted(id))
          .to.be.revertedWithCustomError(f.receivables, "ReceivableInvalidStatus")
          .withArgs(id, STATUS.Defaulted);
      });

      it("reverts for a receivable never accepted", async function () {
        const f = await loadFixture(ledgerFixture);
        const { id, inv } = await issuedReceivable(f);
        await time.increaseTo(inv.dueDate + GRACE_PERIOD + 1n);
        await expect(f.receivables.connect(f.supplier).markDefaulted(id))
          .to.be.revertedWithCustomError(f.receivables, "ReceivableInvalidStatus")
          .withArgs(id, STATUS.Issued);
      });

      it("reverts for a paid receivable", async function () {
        const f = await loadFixture(ledgerFixture);
        const { id, inv } = await issuedReceivable(f);
        await accept(f, f.buyer, id);
        await f.receivables.connect(f.buyer).pay(id, FACE);
        await time.increaseTo(inv.dueDate + GRACE_PERIOD + 1n);
        await expect(f.receivables.connect(f.supplier).markDefaulted(id))
          .to.be.revertedWithCustomError(f.receivables, "ReceivableInvalidStatus")
          .withArgs(id, STATUS.Paid);
      });

      it("reverts for an unknown id", async function () {
        const f = await loadFixture(ledgerFixture);
        await expect(f.receivables.markDefaulted(5n))
          .to.be.revertedWithCustomError(f.receivables, "ReceivableNotFound")
          .withArgs(5n);
      });
    });
  });

  describe(".assignToFinancier()", function () {
    describe("when called by anyone but the financing module", function () {
      for (const [label, pick] of [
        ["the financier", (f: LedgerFixture) => f.financier],
        ["the holder", (f: LedgerFixture) => f.supplier],
        ["the admin", (f: LedgerFixture) => f.admin],
      ] as const) {
        it(`reverts for ${label}`, async function () {
          const f = await loadFixture(ledgerFixture);
          const id = await acceptedReceivable(f);
          const caller = pick(f);
          await expect(f.receivables.connect(caller).assignToFinancier(id, f.financier.address))
            .to.be.revertedWithCustomError(f.receivables, "ReceivableUnauthorized")
            .withArgs(id, caller.address);
          expect(await view(f, id)).to.include({
            holder: f.supplier.address,
            status: STATUS.Accepted,
            financed: false,
          });
        });
      }
    });
  });

  describe("financing module", function () {
    describe("when deployed", function () {
      it("is the financing contract, fixed at construction", async function () {
        const f = await loadFixture(ledgerFixture);
        expect((await f.receivables.configuration()).financing).to.equal(await f.financing.getAddress());
      });
    });

    describe("when constructed with the zero address", function () {
      it("reverts with ReceivableInvalidFinancingModule", async function () {
        const f = await loadFixture(ledgerFixture);
        const importer = await new ReceivablesImporter__factory(f.admin).deploy();
        const factory = new Receivables__factory(receivablesLibraries(await importer.getAddress()), f.admin);
        await expect(
          factory.deploy(
            await f.registry.getAddress(),
            await f.token.getAddress(),
            ethers.ZeroAddress,
            f.admin.address,
            DEFAULT_PARAMS.adminDelay,
            f.officer.address,
            MIN_DENOMINATION,
            GRACE_PERIOD,
            ethers.ZeroAddress,
          ),
        ).to.be.revertedWithCustomError(factory, "ReceivableInvalidFinancingModule");
      });
    });
  });

  describe("views", function () {
    describe(".receivable()", function () {
      it("reverts with ReceivableNotFound for an unknown id", async function () {
        const f = await loadFixture(ledgerFixture);
        await expect(f.receivables.receivable(123n))
          .to.be.revertedWithCustomError(f.receivables, "ReceivableNotFound")
          .withArgs(123n);
      });
    });

    describe(".supportsInterface()", function () {
      for (const [label, interfaceId, supported] of [
        ["ERC-165", "0x01ffc9a7", true],
        ["ERC-721", "0x80ac58cd", true],
        ["ERC-721 metadata", "0x5b5e139f", true],
        ["AccessControl", "0x7965db0b", true],
        ["the invalid id 0xffffffff", "0xffffffff", false],
      ] as const) {
        it(`answers ${supported} for ${label}`, async function () {
          const f = await loadFixture(ledgerFixture);
          expect(await f.receivables.supportsInterface(interfaceId)).to.equal(supported);
        });
      }
    });

    describe(".configuration()", function () {
      it("returns the registry, financing module, minimum denomination and grace period", async function () {
        const f = await loadFixture(ledgerFixture);
        const c = await f.receivables.configuration();
        expect(c.registry).to.equal(await f.registry.getAddress());
        expect(c.financing).to.equal(await f.financing.getAddress());
        expect(c.minDenomination).to.equal(100_00n);
        expect(c.gracePeriod).to.equal(30n * DAY);
      });
    });

    describe("constants and metadata", function () {
      it("exposes the settlement token, limits, name and symbol", async function () {
        const f = await loadFixture(ledgerFixture);
        expect(await f.receivables.settlementToken()).to.equal(await f.token.getAddress());
        expect(await f.receivables.MAX_TERM()).to.equal(YEAR);
        expect(await f.receivables.MAX_SPLIT_CHILDREN()).to.equal(20n);
        expect(await f.receivables.MAX_BATCH()).to.equal(200n);
        expect(await f.receivables.name()).to.equal("SCF Receivable");
        expect(await f.receivables.symbol()).to.equal("SCFR");
      });
    });

    describe(".balanceOf()", function () {
      it("reverts for the zero address", async function () {
        const f = await loadFixture(ledgerFixture);
        await expect(f.receivables.balanceOf(ethers.ZeroAddress))
          .to.be.revertedWithCustomError(f.receivables, "ERC721InvalidOwner")
          .withArgs(ethers.ZeroAddress);
      });
    });
  });
});
