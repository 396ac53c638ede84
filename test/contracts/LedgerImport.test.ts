/**
 * Sealed import of a version-1 ledger (ILedgerImport): members, balances, receivables with their
 * lineage and tombstones, payment history, credit lines and financings are written as version 1 had them, read back
 * equal through the public views, and then live on under version 2's rules (accepted, split, paid,
 * financed, repaid, written off); every malformed record, duplicate, stranger and late call is
 * refused with its exact custom error, and the seal cannot be undone.
 */
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { expect } from "chai";
import { ethers } from "hardhat";
import type { ContractTransactionReceipt, ContractTransactionResponse } from "ethers";
import { childIdOf, receivableIdOf } from "../../shared/fingerprint";
import { DAY, GRACE_PERIOD, JURISDICTION_CN, YEAR, entityIdHash, ledgerFixture, makeInvoice, tokenise } from "./helpers/fixture";
import { approvalFor, requestTerms } from "./helpers/financing";
import {
  F,
  FAULT,
  LEDGER_MIGRATOR,
  R,
  activeMembers,
  documentHash,
  importTargetFixture,
  populatedTargetFixture,
  v1ChildId,
  v1Line,
  v1Receivable,
  v1RootId,
  type ImportFixture,
  type ImportedReceivable,
} from "./helpers/ledger-import";
import { ROLE_BITS } from "../../shared/roles";

const DEFAULT_ADMIN_ROLE = ethers.ZeroHash;
const U64_MAX = 2n ** 64n - 1n;

async function receiptOf(tx: Promise<ContractTransactionResponse>): Promise<ContractTransactionReceipt> {
  const receipt = await (await tx).wait();
  if (!receipt) throw new Error("no receipt");
  return receipt;
}

/** The arguments of every `name` event `contract` emitted in `receipt`, as plain objects. */
function eventArgs(
  receipt: ContractTransactionReceipt,
  contract: { interface: { parseLog(log: { topics: readonly string[]; data: string }): { name: string; args: unknown } | null } },
  name: string,
): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = [];
  for (const log of receipt.logs) {
    const parsed = contract.interface.parseLog(log);
    if (parsed?.name === name) out.push((parsed.args as unknown as { toObject(): Record<string, unknown> }).toObject());
  }
  return out;
}

function plain(r: ImportedReceivable): Record<string, unknown> {
  return {
    id: BigInt(r.id as bigint),
    parentId: BigInt(r.parentId as bigint),
    seller: r.seller,
    holder: r.holder,
    debtor: r.debtor,
    faceValue: BigInt(r.faceValue as bigint),
    outstanding: BigInt(r.outstanding as bigint),
    dueDate: BigInt(r.dueDate as bigint),
    status: BigInt(r.status as number),
    financed: r.financed,
    documentHash: r.documentHash,
    fingerprint: r.fingerprint,
  };
}

/** A version-1 ledger's receivables: a split root with a split child and grandchildren, an issued
 * one, a cancelled one (with the invoice's version-2 fingerprint), a financed one and a defaulted
 * financed one, a paid one. */
async function v1Book(f: ImportFixture) {
  const root = v1RootId("split root");
  const c0 = v1ChildId(root, 0);
  const c1 = v1ChildId(root, 1);
  const g0 = v1ChildId(c1, 0);
  const g1 = v1ChildId(c1, 1);
  const splitRoot = await v1Receivable(f, "split root", { holder: ethers.ZeroAddress, status: R.Split });
  const child0 = await v1Receivable(f, "c0", {
    id: c0,
    parentId: root,
    faceValue: 600_000_00n,
    outstanding: 600_000_00n,
    dueDate: splitRoot.dueDate,
    documentHash: ethers.ZeroHash,
  });
  const child1 = await v1Receivable(f, "c1", {
    id: c1,
    parentId: root,
    holder: ethers.ZeroAddress,
    faceValue: 400_000_00n,
    outstanding: 400_000_00n,
    dueDate: splitRoot.dueDate,
    status: R.Split,
    documentHash: ethers.ZeroHash,
  });
  const grand0 = await v1Receivable(f, "g0", {
    id: g0,
    parentId: c1,
    holder: f.supplier2.address,
    faceValue: 250_000_00n,
    outstanding: 250_000_00n,
    dueDate: splitRoot.dueDate,
    documentHash: ethers.ZeroHash,
  });
  const grand1 = await v1Receivable(f, "g1", {
    id: g1,
    parentId: c1,
    faceValue: 150_000_00n,
    outstanding: 0n,
    dueDate: splitRoot.dueDate,
    status: R.Paid,
    documentHash: ethers.ZeroHash,
  });
  const issued = await v1Receivable(f, "issued", { status: R.Issued, outstanding: 700_000_00n, faceValue: 700_000_00n });
  const cancelled = await v1Receivable(f, "cancelled", {
    holder: ethers.ZeroAddress,
    status: R.Cancelled,
    fingerprint: ethers.keccak256(ethers.toUtf8Bytes("v2 fingerprint of the cancelled invoice")),
  });
  const financed = await v1Receivable(f, "financed", { holder: f.financier.address, status: R.Financed, financed: true });
  const defaulted = await v1Receivable(f, "defaulted", {
    holder: f.financier2.address,
    status: R.Defaulted,
    financed: true,
    outstanding: 800_000_00n,
    dueDate: BigInt(await time.latest()) - 40n * DAY,
  });
  const paid = await v1Receivable(f, "paid", { outstanding: 0n, status: R.Paid, holder: f.supplier2.address });
  return {
    ids: { root, c0, c1, g0, g1 },
    records: [splitRoot, child0, child1, grand0, grand1, issued, cancelled, financed, defaulted, paid],
    splitRoot,
    child0,
    grand0,
    issued,
    cancelled,
    financed,
    defaulted,
    paid,
  };
}

/** The populated target with the version-1 book, two lines and their financings imported. */
async function importedLedgerFixture() {
  const f = await populatedTargetFixture();
  const book = await v1Book(f);
  await f.receivables.connect(f.migrator).importReceivables(book.records);
  const lines = [
    await v1Line(f, 1n, { utilised: 900_000_00n }),
    await v1Line(f, 2n, { financier: f.financier2.address, supplier: ethers.ZeroAddress, utilised: 720_000_00n }),
    await v1Line(f, 3n, { open: false, debtor: ethers.ZeroAddress, expiry: BigInt(await time.latest()) - DAY }),
  ];
  await f.financing.connect(f.migrator).importCreditLines(lines);
  const financings = [
    { receivableId: book.financed.id, supplier: f.supplier.address, lineId: 1n, status: F.Active, principal: 900_000_00n },
    { receivableId: book.defaulted.id, supplier: f.supplier.address, lineId: 2n, status: F.Active, principal: 720_000_00n },
    { receivableId: book.child0.id, supplier: f.supplier.address, lineId: 1n, status: F.Requested, principal: 0n },
    { receivableId: book.paid.id, supplier: f.supplier.address, lineId: 3n, status: F.Rejected, principal: 0n },
  ];
  await f.financing.connect(f.migrator).importFinancings(financings);
  return { ...f, book, lines, financings };
}

describe("Ledger import (version 1 into version 2)", function () {
  describe("deployment", function () {
    it("without a migrator every contract is sealed from construction and nobody can import", async function () {
      const f = await loadFixture(ledgerFixture);
      for (const c of [f.registry, f.token, f.receivables, f.financing]) {
        expect(await c.importSealed()).to.equal(true);
        expect(await c.hasRole(LEDGER_MIGRATOR, f.admin.address)).to.equal(false);
        const events = await c.queryFilter(c.filters.ImportSealed());
        expect(events.map((e) => e.args.by)).to.deep.equal([ethers.ZeroAddress]);
      }
      // The admin granting itself the role afterwards opens nothing.
      await f.receivables.connect(f.admin).grantRole(LEDGER_MIGRATOR, f.admin.address);
      const inv = await v1Receivable({ ...f, migrator: f.admin } as unknown as ImportFixture, "late");
      await expect(f.receivables.connect(f.admin).importReceivables([inv])).to.be.revertedWithCustomError(
        f.receivables,
        "LedgerImportSealed",
      );
      await expect(f.receivables.connect(f.admin).sealImport()).to.be.revertedWithCustomError(f.receivables, "LedgerImportSealed");
    });

    it("with a migrator the window is open and the migrator holds LEDGER_MIGRATOR on all four contracts", async function () {
      const f = await loadFixture(importTargetFixture);
      for (const c of [f.registry, f.token, f.receivables, f.financing]) {
        expect(await c.importSealed()).to.equal(false);
        expect(await c.hasRole(LEDGER_MIGRATOR, f.migrator.address)).to.equal(true);
      }
    });
  });

  describe("members", function () {
    it("imports active, suspended and KYC-lapsed members exactly, which register cannot", async function () {
      const f = await loadFixture(importTargetFixture);
      const now = BigInt(await time.latest());
      const members = [
        ...(await activeMembers(f)).slice(0, 2),
        { account: f.buyer.address, roles: ROLE_BITS.buyer | ROLE_BITS.supplier, status: 2, kycExpiry: now + YEAR, jurisdiction: "0x484b", entityIdHash: entityIdHash("b") },
        { account: f.financier.address, roles: ROLE_BITS.financier, status: 1, kycExpiry: now - DAY, jurisdiction: JURISDICTION_CN, entityIdHash: entityIdHash("f") },
      ];
      const tx = f.registry.connect(f.migrator).importMembers(members);
      await expect(tx)
        .to.emit(f.registry, "MemberImported")
        .withArgs(...Object.values(members[3]));
      for (const m of members) {
        const got = await f.registry.member(m.account);
        expect([got.roles, got.status, got.kycExpiry, got.jurisdiction, got.entityIdHash]).to.deep.equal([
          BigInt(m.roles),
          BigInt(m.status),
          BigInt(m.kycExpiry),
          m.jurisdiction,
          m.entityIdHash,
        ]);
      }
      expect(await f.registry.isVerified(f.supplier.address, ROLE_BITS.supplier)).to.equal(true);
      expect(await f.registry.isVerified(f.buyer.address, ROLE_BITS.buyer)).to.equal(false);
      expect(await f.registry.isActiveMember(f.financier.address)).to.equal(false);
      // The compliance officer carries on from there.
      await f.registry.connect(f.officer).reinstate(f.buyer.address);
      await f.registry.connect(f.officer).renewKyc(f.financier.address, now + YEAR);
      expect(await f.registry.isVerified(f.buyer.address, ROLE_BITS.buyer)).to.equal(true);
      expect(await f.registry.isVerified(f.financier.address, ROLE_BITS.financier)).to.equal(true);
    });

    it("refuses malformed and duplicate members with their fault", async function () {
      const f = await loadFixture(importTargetFixture);
      const [good] = await activeMembers(f);
      const key = BigInt(good.account as string);
      const cases: Array<[Partial<typeof good>, number, bigint]> = [
        [{ account: ethers.ZeroAddress }, FAULT.Id, 0n],
        [{ status: 0 }, FAULT.Status, key],
        [{ status: 3 }, FAULT.Status, key],
        [{ roles: 0 }, FAULT.Roles, key],
        [{ roles: 16 }, FAULT.Roles, key],
        [{ jurisdiction: "0x636e" }, FAULT.Profile, key],
        [{ jurisdiction: "0x4340" }, FAULT.Profile, key],
        [{ entityIdHash: ethers.ZeroHash }, FAULT.Profile, key],
      ];
      for (const [override, fault, id] of cases) {
        await expect(f.registry.connect(f.migrator).importMembers([{ ...good, ...override }]), JSON.stringify(override))
          .to.be.revertedWithCustomError(f.registry, "LedgerImportInvalidRecord")
          .withArgs(id, fault);
      }
      await f.registry.connect(f.migrator).importMembers([good]);
      await expect(f.registry.connect(f.migrator).importMembers([good]))
        .to.be.revertedWithCustomError(f.registry, "LedgerImportDuplicate")
        .withArgs(key);
      // A member the operator registered is a duplicate too.
      const [, second] = await activeMembers(f);
      await f.registry
        .connect(f.operator)
        .register(second.account, second.roles, second.kycExpiry, second.jurisdiction, second.entityIdHash);
      await expect(f.registry.connect(f.migrator).importMembers([second]))
        .to.be.revertedWithCustomError(f.registry, "LedgerImportDuplicate")
        .withArgs(BigInt(second.account as string));
    });

    it("refuses the onboarding operator and the admin: only the migrator imports", async function () {
      const f = await loadFixture(importTargetFixture);
      for (const who of [f.operator, f.admin, f.officer]) {
        await expect(f.registry.connect(who).importMembers(await activeMembers(f)))
          .to.be.revertedWithCustomError(f.registry, "AccessControlUnauthorizedAccount")
          .withArgs(who.address, LEDGER_MIGRATOR);
      }
    });
  });

  describe("balances", function () {
    it("imports balances of active, suspended and non-member holders that mint would refuse", async function () {
      const f = await loadFixture(importTargetFixture);
      const members = await activeMembers(f);
      await f.registry.connect(f.migrator).importMembers(members);
      await f.registry.connect(f.officer).suspend(f.supplier2.address, ethers.encodeBytes32String("REVIEW"));
      await expect(f.token.connect(f.issuer).mint(f.supplier2.address, 1n))
        .to.be.revertedWithCustomError(f.token, "SettlementUnverifiedParty")
        .withArgs(f.supplier2.address);
      const balances = [
        { holder: f.buyer.address, amount: 123_456_78n },
        { holder: f.supplier2.address, amount: 5_00n },
        { holder: f.outsider.address, amount: 1n },
      ];
      const tx = f.token.connect(f.migrator).importBalances(balances);
      await expect(tx).to.emit(f.token, "Transfer").withArgs(ethers.ZeroAddress, f.supplier2.address, 5_00n);
      await expect(tx).to.emit(f.token, "BalanceImported").withArgs(f.outsider.address, 1n);
      for (const b of balances) expect(await f.token.balanceOf(b.holder)).to.equal(b.amount);
      expect(await f.token.totalSupply()).to.equal(123_456_78n + 5_00n + 1n);
    });

    it("refuses a zero holder, a zero amount, a holder that has a balance, and anyone but the migrator", async function () {
      const f = await loadFixture(importTargetFixture);
      await expect(f.token.connect(f.migrator).importBalances([{ holder: ethers.ZeroAddress, amount: 1n }]))
        .to.be.revertedWithCustomError(f.token, "LedgerImportInvalidRecord")
        .withArgs(0n, FAULT.Id);
      await expect(f.token.connect(f.migrator).importBalances([{ holder: f.buyer.address, amount: 0n }]))
        .to.be.revertedWithCustomError(f.token, "LedgerImportInvalidRecord")
        .withArgs(BigInt(f.buyer.address), FAULT.Amount);
      await f.token.connect(f.migrator).importBalances([{ holder: f.buyer.address, amount: 7n }]);
      await expect(f.token.connect(f.migrator).importBalances([{ holder: f.buyer.address, amount: 7n }]))
        .to.be.revertedWithCustomError(f.token, "LedgerImportDuplicate")
        .withArgs(BigInt(f.buyer.address));
      await expect(f.token.connect(f.issuer).importBalances([{ holder: f.buyer2.address, amount: 7n }]))
        .to.be.revertedWithCustomError(f.token, "AccessControlUnauthorizedAccount")
        .withArgs(f.issuer.address, LEDGER_MIGRATOR);
    });
  });

  describe("receivables", function () {
    it("reads every imported record back equal, with tokens, holdings, lineage and documents", async function () {
      const f = await loadFixture(populatedTargetFixture);
      const book = await v1Book(f);
      const receipt = await receiptOf(f.receivables.connect(f.migrator).importReceivables(book.records));
      expect(eventArgs(receipt, f.receivables, "ReceivableImported")).to.deep.equal(book.records.map(plain));
      for (const r of book.records) {
        const v = await f.receivables.receivable(r.id);
        expect([v.id, v.holder, v.debtor, v.faceValue, v.outstanding, v.dueDate, v.status, v.financed, v.parentId]).to.deep.equal([
          BigInt(r.id as bigint),
          r.holder,
          r.debtor,
          BigInt(r.faceValue as bigint),
          BigInt(r.outstanding as bigint),
          BigInt(r.dueDate as bigint),
          BigInt(r.status as number),
          r.financed,
          BigInt(r.parentId as bigint),
        ]);
        if (r.holder === ethers.ZeroAddress) {
          await expect(f.receivables.ownerOf(r.id)).to.be.revertedWithCustomError(f.receivables, "ERC721NonexistentToken");
        } else {
          expect(await f.receivables.ownerOf(r.id)).to.equal(r.holder);
          await expect(receipt).to.emit(f.receivables, "Transfer").withArgs(ethers.ZeroAddress, r.holder, r.id);
        }
        if (r.documentHash !== ethers.ZeroHash) expect(await f.receivables.receivableOfDocument(r.documentHash)).to.equal(r.id);
      }
      // Live tokens: supplier holds c0, g1, issued; supplier2 g0 and paid; financier financed; financier2 defaulted.
      expect(await f.receivables.balanceOf(f.supplier.address)).to.equal(3n);
      expect(await f.receivables.balanceOf(f.supplier2.address)).to.equal(2n);
      expect(await f.receivables.balanceOf(f.financier.address)).to.equal(1n);
      expect(await f.receivables.balanceOf(f.financier2.address)).to.equal(1n);
      // The cancelled invoice's version-2 root id is a cancelled tombstone.
      const reserved = await f.receivables.receivable(receivableIdOf(book.cancelled.fingerprint as string));
      expect(reserved.status).to.equal(R.Cancelled);
    });

    it("continues the lineage under version 2: an imported child split again, paid, financed and repaid", async function () {
      const f = await loadFixture(populatedTargetFixture);
      const book = await v1Book(f);
      await f.receivables.connect(f.migrator).importReceivables(book.records);
      // c0 (a version-1 child) splits again: its children live in version 2's child namespace.
      const parts = [350_000_00n, 250_000_00n];
      await f.receivables.connect(f.supplier).split(book.ids.c0, parts);
      const [n0, n1] = [childIdOf(book.ids.c0, 0), childIdOf(book.ids.c0, 1)];
      expect((await f.receivables.receivable(n0)).parentId).to.equal(book.ids.c0);
      expect(await f.receivables.ownerOf(n1)).to.equal(f.supplier.address);
      expect((await f.receivables.receivable(book.ids.c0)).status).to.equal(R.Split);
      expect(await f.receivables.balanceOf(f.supplier.address)).to.equal(4n);
      // n0 is paid by the buyer to its holder.
      const before = await f.token.balanceOf(f.supplier.address);
      await f.receivables.connect(f.buyer).pay(n0, parts[0]);
      expect(await f.token.balanceOf(f.supplier.address)).to.equal(before + parts[0]);
      expect((await f.receivables.receivable(n0)).status).to.equal(R.Paid);
      // g0 (a version-1 grandchild of supplier2) is financed on a new line and repaid.
      await f.financing.connect(f.financier).openCreditLine(f.buyer.address, ethers.ZeroAddress, {
        limit: 5_000_000_00n,
        maxAdvanceBps: 9_000n,
        discountBps: 500n,
        expiry: BigInt(await time.latest()) + YEAR,
      });
      const lineId = await f.financing.creditLineCount();
      await f.financing.connect(f.supplier2).requestFinancing(book.ids.g0, await requestTerms(lineId));
      await f.financing.connect(f.financier).approveFinancing(book.ids.g0, await approvalFor(f, book.ids.g0));
      expect((await f.receivables.receivable(book.ids.g0)).holder).to.equal(f.financier.address);
      await f.receivables.connect(f.buyer).pay(book.ids.g0, book.grand0.outstanding);
      expect((await f.financing.financing(book.ids.g0)).status).to.equal(F.Repaid);
      expect((await f.financing.creditLine(lineId)).utilised).to.equal(0n);
    });

    it("lets the debtor accept an imported issued receivable on its version-1 terms, and its seller cancel another", async function () {
      const f = await loadFixture(populatedTargetFixture);
      const issued = await v1Receivable(f, "to accept", { status: R.Issued });
      const other = await v1Receivable(f, "to cancel", { status: R.Issued });
      await f.receivables.connect(f.migrator).importReceivables([issued, other]);
      const terms = { seller: issued.seller, faceValue: issued.faceValue, dueDate: issued.dueDate, documentHash: issued.documentHash };
      await expect(f.receivables.connect(f.buyer).accept(issued.id, terms)).to.emit(f.receivables, "ReceivableAccepted");
      await expect(f.receivables.connect(f.supplier).cancel(other.id)).to.emit(f.receivables, "ReceivableCancelled");
      expect(await f.receivables.balanceOf(f.supplier.address)).to.equal(1n);
    });

    it("blocks a tombstoned id's document and the imported invoice's fingerprint for tokenise", async function () {
      const f = await loadFixture(populatedTargetFixture);
      const book = await v1Book(f);
      await f.receivables.connect(f.migrator).importReceivables(book.records);
      // The cancelled version-1 receivable's document cannot be tokenised again.
      const sameDocument = await makeInvoice(f.buyer.address, { documentHash: book.cancelled.documentHash });
      await expect(tokenise(f, f.supplier, sameDocument))
        .to.be.revertedWithCustomError(f.receivables, "ReceivableDocumentUsed")
        .withArgs(book.cancelled.documentHash, book.cancelled.id);
      // Nor a split root's.
      const rootDocument = await makeInvoice(f.buyer.address, { documentHash: book.splitRoot.documentHash });
      await expect(tokenise(f, f.supplier, rootDocument))
        .to.be.revertedWithCustomError(f.receivables, "ReceivableDocumentUsed")
        .withArgs(book.splitRoot.documentHash, book.splitRoot.id);
      // The same invoice (its version-2 fingerprint) cannot be tokenised again with another document.
      const sameInvoice = await makeInvoice(f.buyer.address, { fingerprint: book.cancelled.fingerprint as string });
      await expect(tokenise(f, f.supplier, sameInvoice))
        .to.be.revertedWithCustomError(f.receivables, "ReceivableDuplicate")
        .withArgs(receivableIdOf(book.cancelled.fingerprint as string));
    });

    it("refuses every malformed record with its fault", async function () {
      const f = await loadFixture(populatedTargetFixture);
      const parent = await v1Receivable(f, "parent", { holder: ethers.ZeroAddress, status: R.Split });
      await f.receivables.connect(f.migrator).importReceivables([parent]);
      const base = await v1Receivable(f, "malformed");
      const id = BigInt(base.id as bigint);
      const child = { parentId: parent.id, documentHash: ethers.ZeroHash, faceValue: 100_00n, outstanding: 100_00n, dueDate: parent.dueDate };
      const cases: Array<[string, Partial<ImportedReceivable>, number, bigint?]> = [
        ["zero id", { id: 0n }, FAULT.Id, 0n],
        ["status None", { status: 0 }, FAULT.Status],
        ["unknown status", { status: 8 }, FAULT.Status],
        ["live without holder", { holder: ethers.ZeroAddress }, FAULT.Holder],
        ["cancelled with holder", { status: R.Cancelled }, FAULT.Holder],
        ["split with holder", { status: R.Split }, FAULT.Holder],
        ["zero seller", { seller: ethers.ZeroAddress }, FAULT.Seller],
        ["issued held by another", { status: R.Issued, holder: f.supplier2.address }, FAULT.Seller],
        ["zero debtor", { debtor: ethers.ZeroAddress }, FAULT.Debtor],
        ["zero face value", { faceValue: 0n, outstanding: 0n }, FAULT.Amount],
        ["face value beyond 64 bits", { faceValue: U64_MAX + 1n }, FAULT.Amount],
        ["outstanding above face", { outstanding: 1_000_000_01n }, FAULT.Amount],
        ["accepted with nothing outstanding", { outstanding: 0n }, FAULT.Amount],
        ["paid with something outstanding", { status: R.Paid }, FAULT.Amount],
        ["zero due date", { dueDate: 0n }, FAULT.DueDate],
        ["due date beyond 32 bits", { dueDate: 2n ** 32n }, FAULT.DueDate],
        ["financed flag on an accepted one", { financed: true }, FAULT.Financed],
        ["financed status without the flag", { status: R.Financed }, FAULT.Financed],
        ["parent never imported", { ...child, parentId: v1RootId("nobody") }, FAULT.Parent],
        ["child of another debtor", { ...child, debtor: f.buyer2.address }, FAULT.Parent],
        ["child with another due date", { ...child, dueDate: BigInt(parent.dueDate as bigint) + 1n }, FAULT.Parent],
        ["child larger than its parent", { ...child, faceValue: 1_000_000_01n, outstanding: 1n }, FAULT.Parent],
        ["issued child", { ...child, status: R.Issued }, FAULT.Parent],
        ["child with a fingerprint", { ...child, fingerprint: ethers.id("fp") }, FAULT.Fingerprint],
      ];
      for (const [name, override, fault, faultId] of cases) {
        await expect(f.receivables.connect(f.migrator).importReceivables([{ ...base, ...override }]), name)
          .to.be.revertedWithCustomError(f.receivables, "LedgerImportInvalidRecord")
          .withArgs(faultId ?? id, fault);
      }
      // A parent that exists but is not split.
      await f.receivables.connect(f.migrator).importReceivables([base]);
      const orphan = await v1Receivable(f, "orphan", { parentId: base.id, documentHash: ethers.ZeroHash, dueDate: base.dueDate });
      await expect(f.receivables.connect(f.migrator).importReceivables([orphan]))
        .to.be.revertedWithCustomError(f.receivables, "LedgerImportInvalidRecord")
        .withArgs(orphan.id, FAULT.Parent);
    });

    it("refuses a duplicate id, a used document and a fingerprint already reserved or tokenised", async function () {
      const f = await loadFixture(populatedTargetFixture);
      const first = await v1Receivable(f, "first", { fingerprint: ethers.id("v2 fingerprint first") });
      await f.receivables.connect(f.migrator).importReceivables([first]);
      await expect(f.receivables.connect(f.migrator).importReceivables([{ ...first, documentHash: documentHash("other") }]))
        .to.be.revertedWithCustomError(f.receivables, "LedgerImportDuplicate")
        .withArgs(first.id);
      const sameDoc = await v1Receivable(f, "second", { documentHash: first.documentHash });
      await expect(f.receivables.connect(f.migrator).importReceivables([sameDoc]))
        .to.be.revertedWithCustomError(f.receivables, "ReceivableDocumentUsed")
        .withArgs(first.documentHash, first.id);
      const sameFingerprint = await v1Receivable(f, "third", { fingerprint: first.fingerprint });
      await expect(f.receivables.connect(f.migrator).importReceivables([sameFingerprint]))
        .to.be.revertedWithCustomError(f.receivables, "LedgerImportDuplicate")
        .withArgs(receivableIdOf(first.fingerprint as string));
      // A version-2 receivable tokenised during the window blocks its id, document and fingerprint.
      const inv = await makeInvoice(f.buyer.address);
      await tokenise(f, f.supplier, inv);
      const v2Id = receivableIdOf(inv.fingerprint as string);
      await expect(f.receivables.connect(f.migrator).importReceivables([await v1Receivable(f, "fourth", { id: v2Id })]))
        .to.be.revertedWithCustomError(f.receivables, "LedgerImportDuplicate")
        .withArgs(v2Id);
      await expect(f.receivables.connect(f.migrator).importReceivables([await v1Receivable(f, "fifth", { documentHash: inv.documentHash as string })]))
        .to.be.revertedWithCustomError(f.receivables, "ReceivableDocumentUsed")
        .withArgs(inv.documentHash, v2Id);
      await expect(f.receivables.connect(f.migrator).importReceivables([await v1Receivable(f, "sixth", { fingerprint: inv.fingerprint as string })]))
        .to.be.revertedWithCustomError(f.receivables, "LedgerImportDuplicate")
        .withArgs(v2Id);
      // A failed batch writes nothing: the record before the bad one is not there either.
      const good = await v1Receivable(f, "good");
      await expect(f.receivables.connect(f.migrator).importReceivables([good, { ...first }])).to.be.revertedWithCustomError(
        f.receivables,
        "LedgerImportDuplicate",
      );
      await expect(f.receivables.receivable(good.id)).to.be.revertedWithCustomError(f.receivables, "ReceivableNotFound");
    });

    it("refuses the admin, the attester and a supplier: only the migrator imports", async function () {
      const f = await loadFixture(populatedTargetFixture);
      const r = await v1Receivable(f, "stranger");
      for (const who of [f.admin, f.officer, f.supplier]) {
        await expect(f.receivables.connect(who).importReceivables([r]))
          .to.be.revertedWithCustomError(f.receivables, "AccessControlUnauthorizedAccount")
          .withArgs(who.address, LEDGER_MIGRATOR);
      }
    });

    it("measures the gas of an imported receivable", async function () {
      const f = await loadFixture(populatedTargetFixture);
      const n = 50;
      const kinds: Array<[string, (i: number) => Promise<ImportedReceivable>]> = [
        ["accepted root with document", (i) => v1Receivable(f, `gas a ${i}`)],
        ["accepted root with document and version-2 fingerprint", (i) => v1Receivable(f, `gas b ${i}`, { fingerprint: ethers.id(`gas fp ${i}`) })],
        ["cancelled tombstone with document", (i) => v1Receivable(f, `gas c ${i}`, { holder: ethers.ZeroAddress, status: R.Cancelled })],
      ];
      for (const [name, make] of kinds) {
        const records = await Promise.all(Array.from({ length: n }, (_, i) => make(i)));
        const receipt = await receiptOf(f.receivables.connect(f.migrator).importReceivables(records));
        console.log(`      gas per imported receivable (${name}, batch of ${n}): ${(receipt.gasUsed / BigInt(n)).toLocaleString("en")} (${receipt.gasUsed.toLocaleString("en")} in all)`);
      }
      const single = await receiptOf(f.receivables.connect(f.migrator).importReceivables([await v1Receivable(f, "gas single")]));
      console.log(`      gas of a batch of one accepted root: ${single.gasUsed.toLocaleString("en")}`);
    });

    it("measures the gas of the other imported records", async function () {
      const f = await loadFixture(importTargetFixture);
      const n = 20;
      const per = (name: string, r: ContractTransactionReceipt) =>
        console.log(`      gas per imported ${name} (batch of ${n}): ${(r.gasUsed / BigInt(n)).toLocaleString("en")}`);
      const accounts = Array.from({ length: n }, () => ethers.Wallet.createRandom().address);
      const kycExpiry = BigInt(await time.latest()) + YEAR;
      per(
        "member",
        await receiptOf(
          f.registry.connect(f.migrator).importMembers(
            accounts.map((account) => ({ account, roles: ROLE_BITS.supplier, status: 1, kycExpiry, jurisdiction: JURISDICTION_CN, entityIdHash: entityIdHash(account) })),
          ),
        ),
      );
      per("balance", await receiptOf(f.token.connect(f.migrator).importBalances(accounts.map((holder) => ({ holder, amount: 1_234_56n })))));
      const lines = await Promise.all(Array.from({ length: n }, (_, i) => v1Line(f, BigInt(i + 1), { utilised: 900_000_00n })));
      per("credit line", await receiptOf(f.financing.connect(f.migrator).importCreditLines(lines)));
      const financed = await Promise.all(
        Array.from({ length: n }, (_, i) => v1Receivable(f, `gas financed ${i}`, { holder: f.financier.address, status: R.Financed, financed: true })),
      );
      await f.receivables.connect(f.migrator).importReceivables(financed);
      per(
        "active financing",
        await receiptOf(
          f.financing.connect(f.migrator).importFinancings(
            financed.map((r, i) => ({ receivableId: r.id, supplier: f.supplier.address, lineId: BigInt(i + 1), status: F.Active, principal: 900_000_00n })),
          ),
        ),
      );
      per(
        "payment",
        await receiptOf(
          f.receivables.connect(f.migrator).importPayments(
            financed.map((r, i) => ({
              receivableId: r.id,
              debtor: f.buyer.address,
              holder: f.financier.address,
              amount: 100_000_00n,
              outstandingAfter: BigInt(r.faceValue as bigint) - 100_000_00n,
              paidAt: 1_700_000_000n + BigInt(i),
              originalBlock: 1_000n + BigInt(i),
              originalTxHash: ethers.id(`gas payment ${i}`),
              originalLogIndex: 0n,
            })),
          ),
        ),
      );
    });
  });

  describe("payments", function () {
    /** A payment the version-1 ledger recorded on `id`: 200,000 yuan to the supplier, leaving `after`. */
    function v1Payment(f: ImportFixture, id: bigint, after: bigint, overrides: Record<string, unknown> = {}) {
      return {
        receivableId: id,
        debtor: f.buyer.address,
        holder: f.supplier.address,
        amount: 200_000_00n,
        outstandingAfter: after,
        paidAt: 1_700_000_000n,
        originalBlock: 4_321n,
        originalTxHash: ethers.id(`v1 payment ${id} ${after}`),
        originalLogIndex: 3n,
        ...overrides,
      };
    }
    const fields = (p: ReturnType<typeof v1Payment>) => [
      p.receivableId,
      p.debtor,
      p.holder,
      p.amount,
      p.outstandingAfter,
      p.paidAt,
      p.originalBlock,
      p.originalTxHash,
      p.originalLogIndex,
    ];

    it("announces each payment, field by field, and moves no money, no outstanding amount and no status", async function () {
      const f = await loadFixture(importedLedgerFixture);
      const paid = BigInt(f.book.paid.id as bigint);
      const payments = [
        v1Payment(f, paid, 800_000_00n, { holder: f.supplier2.address }),
        v1Payment(f, paid, 0n, { amount: 800_000_00n, holder: f.supplier2.address, originalLogIndex: 0n }),
      ];
      const before = await f.receivables.receivable(paid);
      const balances = await Promise.all([f.buyer, f.supplier2].map((w) => f.token.balanceOf(w.address)));
      const receipt = await receiptOf(f.receivables.connect(f.migrator).importPayments(payments));
      const emitted = eventArgs(receipt, f.receivables, "PaymentImported");
      expect(emitted.map((e) => Object.values(e))).to.deep.equal(payments.map(fields));
      // Nothing but the announcements: no Transfer, no ReceivablePaid.
      expect(receipt.logs.length).to.equal(payments.length);
      expect(await f.receivables.receivable(paid)).to.deep.equal(before);
      expect(await Promise.all([f.buyer, f.supplier2].map((w) => f.token.balanceOf(w.address)))).to.deep.equal(balances);
    });

    it("refuses a payment of a receivable that was not imported with the ledger's ReceivableNotFound", async function () {
      const f = await loadFixture(importedLedgerFixture);
      const unknown = 12345n;
      await expect(f.receivables.connect(f.migrator).importPayments([v1Payment(f, unknown, 0n)]))
        .to.be.revertedWithCustomError(f.receivables, "ReceivableNotFound")
        .withArgs(unknown);
    });

    it("refuses a zero amount, an outstanding above the face value, another payer and a zero holder with their fault", async function () {
      const f = await loadFixture(importedLedgerFixture);
      const id = BigInt(f.book.paid.id as bigint);
      const face = BigInt(f.book.paid.faceValue as bigint);
      const cases: Array<[Record<string, unknown>, number]> = [
        [{ amount: 0n }, FAULT.Amount],
        [{ outstandingAfter: face + 1n }, FAULT.Amount],
        [{ debtor: f.buyer2.address }, FAULT.Debtor],
        [{ holder: ethers.ZeroAddress }, FAULT.Holder],
      ];
      for (const [overrides, fault] of cases) {
        await expect(f.receivables.connect(f.migrator).importPayments([v1Payment(f, id, 0n), v1Payment(f, id, 0n, overrides)]))
          .to.be.revertedWithCustomError(f.receivables, "LedgerImportInvalidRecord")
          .withArgs(id, fault);
      }
    });

    it("refuses a member calling it directly, the debtor included, and the admin: only the migrator imports", async function () {
      const f = await loadFixture(importedLedgerFixture);
      const p = v1Payment(f, BigInt(f.book.paid.id as bigint), 0n);
      for (const who of [f.buyer, f.supplier, f.financier, f.admin]) {
        await expect(f.receivables.connect(who).importPayments([p]))
          .to.be.revertedWithCustomError(f.receivables, "AccessControlUnauthorizedAccount")
          .withArgs(who.address, LEDGER_MIGRATOR);
      }
    });

    it("refuses every payment once the import is sealed, even from the migrator", async function () {
      const f = await loadFixture(importedLedgerFixture);
      await f.receivables.connect(f.migrator).sealImport();
      await expect(
        f.receivables.connect(f.migrator).importPayments([v1Payment(f, BigInt(f.book.paid.id as bigint), 0n)]),
      ).to.be.revertedWithCustomError(f.receivables, "LedgerImportSealed");
    });
  });

  describe("credit lines and financings", function () {
    it("reads imported lines and financings back equal; new lines number after them", async function () {
      const f = await loadFixture(importedLedgerFixture);
      expect(await f.financing.creditLineCount()).to.equal(3n);
      for (const l of f.lines) {
        const v = await f.financing.creditLine(l.id);
        expect([v.id, v.financier, v.debtor, v.supplier, v.limit, v.utilised, v.maxAdvanceBps, v.discountBps, v.expiry, v.open]).to.deep.equal([
          l.id,
          l.financier,
          l.debtor,
          l.supplier,
          l.limit,
          l.utilised,
          l.maxAdvanceBps,
          l.discountBps,
          l.expiry,
          l.open,
        ]);
      }
      for (const m of f.financings) {
        const v = await f.financing.financing(m.receivableId);
        expect([v.supplier, v.lineId, v.status, v.principal, v.minPaid, v.maxDiscount, v.expiresAt]).to.deep.equal([
          m.supplier,
          m.lineId,
          BigInt(m.status),
          m.principal,
          0n,
          0n,
          0n,
        ]);
      }
      await f.financing.connect(f.financier).openCreditLine(f.buyer.address, ethers.ZeroAddress, {
        limit: 1_000_00n,
        maxAdvanceBps: 9_000n,
        discountBps: 0n,
        expiry: BigInt(await time.latest()) + YEAR,
      });
      expect(await f.financing.creditLineCount()).to.equal(4n);
    });

    it("emits the whole record, field by field, in CreditLineImported and FinancingImported", async function () {
      const f = await loadFixture(populatedTargetFixture);
      const r = await v1Receivable(f, "evented", { holder: f.financier.address, status: R.Financed, financed: true });
      await f.receivables.connect(f.migrator).importReceivables([r]);
      const line = await v1Line(f, 1n, { utilised: 900_000_00n });
      const lineReceipt = await receiptOf(f.financing.connect(f.migrator).importCreditLines([line]));
      const { id: lineId, ...lineFields } = line;
      expect(eventArgs(lineReceipt, f.financing, "CreditLineImported")).to.deep.equal([{ lineId, ...lineFields }]);
      const financing = { receivableId: BigInt(r.id as bigint), supplier: f.supplier.address, lineId: 1n, status: BigInt(F.Active), principal: 900_000_00n };
      const receipt = await receiptOf(f.financing.connect(f.migrator).importFinancings([financing]));
      expect(eventArgs(receipt, f.financing, "FinancingImported")).to.deep.equal([financing]);
    });

    it("repays an imported active financing under version 2: principal to the financier, reserve to the supplier", async function () {
      const f = await loadFixture(importedLedgerFixture);
      const id = f.book.financed.id;
      const [fin, sup] = await Promise.all([f.token.balanceOf(f.financier.address), f.token.balanceOf(f.supplier.address)]);
      await expect(f.receivables.connect(f.buyer).pay(id, f.book.financed.outstanding))
        .to.emit(f.financing, "FinancingRepaid")
        .withArgs(id, 1n, 900_000_00n, 100_000_00n, 0n);
      expect(await f.token.balanceOf(f.financier.address)).to.equal(fin + 900_000_00n);
      expect(await f.token.balanceOf(f.supplier.address)).to.equal(sup + 100_000_00n);
      expect((await f.financing.financing(id)).status).to.equal(F.Repaid);
      expect((await f.financing.creditLine(1n)).utilised).to.equal(0n);
    });

    it("writes off an imported active financing of a defaulted receivable", async function () {
      const f = await loadFixture(importedLedgerFixture);
      await expect(f.financing.connect(f.financier2).writeOff(f.book.defaulted.id))
        .to.emit(f.financing, "FinancingWrittenOff")
        .withArgs(f.book.defaulted.id, 2n, 720_000_00n);
      expect((await f.financing.creditLine(2n)).utilised).to.equal(0n);
    });

    it("an imported version-1 request has lapsed: never approved, superseded by the holder's request with terms", async function () {
      const f = await loadFixture(importedLedgerFixture);
      const id = BigInt(f.book.child0.id as bigint);
      await expect(f.financing.connect(f.financier).approveFinancing(id, await approvalFor(f, id)))
        .to.be.revertedWithCustomError(f.financing, "FinancingRequestLapsed")
        .withArgs(id, 0n);
      await expect(f.financing.connect(f.supplier).requestFinancing(id, await requestTerms(1n)))
        .to.emit(f.financing, "FinancingSuperseded")
        .withArgs(id, 1n, f.supplier.address);
      await f.financing.connect(f.financier).approveFinancing(id, await approvalFor(f, id));
      expect((await f.financing.financing(id)).status).to.equal(F.Active);
      expect((await f.receivables.receivable(id)).holder).to.equal(f.financier.address);
    });

    it("lets the financier reject, or the requester withdraw, an imported request", async function () {
      const f = await loadFixture(importedLedgerFixture);
      const id = f.book.child0.id;
      await expect(f.financing.connect(f.supplier).withdrawFinancingRequest(id)).to.emit(f.financing, "FinancingWithdrawn");
      const g = await loadFixture(importedLedgerFixture);
      await expect(g.financing.connect(g.financier).rejectFinancing(id, 1n, ethers.ZeroHash)).to.emit(g.financing, "FinancingRejected");
    });

    it("refuses malformed credit lines with their fault, and a line imported twice", async function () {
      const f = await loadFixture(populatedTargetFixture);
      const base = await v1Line(f, 1n);
      const cases: Array<[string, Record<string, unknown>, number, bigint?]> = [
        ["id 0", { id: 0n }, -1],
        ["id out of sequence", { id: 2n }, FAULT.LineId, 2n],
        ["zero financier", { financier: ethers.ZeroAddress }, FAULT.Scope],
        ["neither debtor nor supplier", { debtor: ethers.ZeroAddress, supplier: ethers.ZeroAddress }, FAULT.Scope],
        ["financier is the debtor", { debtor: f.financier.address }, FAULT.Scope],
        ["financier is the supplier", { supplier: f.financier.address }, FAULT.Scope],
        ["zero limit", { limit: 0n }, FAULT.Limit],
        ["limit beyond 64 bits", { limit: U64_MAX + 1n }, FAULT.Limit],
        ["utilisation over the limit", { utilised: 5_000_000_01n }, FAULT.Limit],
        ["zero advance rate", { maxAdvanceBps: 0n }, FAULT.Rates],
        ["advance above 100 %", { maxAdvanceBps: 10_001n }, FAULT.Rates],
        ["discount above 100 %", { discountBps: 10_001n }, FAULT.Rates],
        ["expiry beyond 48 bits", { expiry: 2n ** 48n }, FAULT.Expiry],
      ];
      for (const [name, override, fault, faultId] of cases) {
        const call = f.financing.connect(f.migrator).importCreditLines([{ ...base, ...override }]);
        if (fault < 0) {
          await expect(call, name).to.be.revertedWithCustomError(f.financing, "LedgerImportDuplicate").withArgs(0n);
        } else {
          await expect(call, name)
            .to.be.revertedWithCustomError(f.financing, "LedgerImportInvalidRecord")
            .withArgs(faultId ?? 1n, fault);
        }
      }
      await f.financing.connect(f.migrator).importCreditLines([base]);
      await expect(f.financing.connect(f.migrator).importCreditLines([base]))
        .to.be.revertedWithCustomError(f.financing, "LedgerImportDuplicate")
        .withArgs(1n);
      // A line opened under version 2 during the window takes the next id: importing that id again is a duplicate.
      await f.financing.connect(f.financier).openCreditLine(f.buyer.address, ethers.ZeroAddress, await v1LineTerms());
      await expect(f.financing.connect(f.migrator).importCreditLines([{ ...base, id: 2n }]))
        .to.be.revertedWithCustomError(f.financing, "LedgerImportDuplicate")
        .withArgs(2n);
    });

    it("refuses malformed financings with their fault, and a financing imported twice", async function () {
      const f = await loadFixture(importedLedgerFixture);
      const accepted = await v1Receivable(f, "accepted for financing");
      const financed = await v1Receivable(f, "financed for financing", { holder: f.financier.address, status: R.Financed, financed: true });
      const strangersHolding = await v1Receivable(f, "financed by another", { holder: f.financier2.address, status: R.Financed, financed: true });
      const paid = await v1Receivable(f, "paid financed", { holder: f.financier.address, status: R.Paid, financed: true, outstanding: 0n });
      await f.receivables.connect(f.migrator).importReceivables([accepted, financed, strangersHolding, paid]);
      const base = { receivableId: BigInt(financed.id as bigint), supplier: f.supplier.address, lineId: 1n, status: F.Active, principal: 100_00n };
      const rid = base.receivableId;
      const cases: Array<[string, Record<string, unknown>, number, bigint?]> = [
        ["status None", { status: 0 }, FAULT.Status],
        ["Withdrawn (no such status in version 1)", { status: F.Withdrawn }, FAULT.Status],
        ["zero supplier", { supplier: ethers.ZeroAddress }, FAULT.Seller],
        ["line never imported", { lineId: 9n }, FAULT.Line],
        ["line id beyond 24 bits", { lineId: 2n ** 24n }, FAULT.Line],
        ["active on an unfinanced receivable", { receivableId: accepted.id }, FAULT.Receivable, BigInt(accepted.id as bigint)],
        ["active on another financier's receivable", { receivableId: strangersHolding.id }, FAULT.Receivable, BigInt(strangersHolding.id as bigint)],
        ["active on a paid receivable", { receivableId: paid.id }, FAULT.Receivable, BigInt(paid.id as bigint)],
        ["written off while the receivable is financed", { status: F.WrittenOff }, FAULT.Receivable],
        ["active with nothing lent", { principal: 0n }, FAULT.Principal],
        ["active above the line's utilisation", { principal: 900_000_01n }, FAULT.Principal],
        ["requested with principal", { status: F.Requested, receivableId: accepted.id }, FAULT.Principal, BigInt(accepted.id as bigint)],
        ["rejected with principal", { status: F.Rejected, receivableId: accepted.id }, FAULT.Principal, BigInt(accepted.id as bigint)],
        ["repaid with principal", { status: F.Repaid }, FAULT.Principal],
        ["written off beyond 64 bits", { status: F.WrittenOff, receivableId: paid.id, principal: U64_MAX + 1n }, FAULT.Principal, BigInt(paid.id as bigint)],
      ];
      for (const [name, override, fault, faultId] of cases) {
        await expect(f.financing.connect(f.migrator).importFinancings([{ ...base, ...override }]), name)
          .to.be.revertedWithCustomError(f.financing, "LedgerImportInvalidRecord")
          .withArgs(faultId ?? rid, fault);
      }
      const unknown = v1RootId("never imported");
      await expect(f.financing.connect(f.migrator).importFinancings([{ ...base, receivableId: unknown }]))
        .to.be.revertedWithCustomError(f.receivables, "ReceivableNotFound")
        .withArgs(unknown);
      await expect(f.financing.connect(f.migrator).importFinancings([{ ...base, receivableId: f.book.financed.id }]))
        .to.be.revertedWithCustomError(f.financing, "LedgerImportDuplicate")
        .withArgs(f.book.financed.id);
      // Repaid and written off are accepted for financed receivables in the statuses they allow.
      await f.financing.connect(f.migrator).importFinancings([
        { ...base, status: F.Repaid, principal: 0n },
        { ...base, receivableId: paid.id, status: F.WrittenOff, principal: 0n },
      ]);
      expect((await f.financing.financing(paid.id)).status).to.equal(F.WrittenOff);
    });

    it("refuses the financier and the admin: only the migrator imports lines and financings", async function () {
      const f = await loadFixture(populatedTargetFixture);
      const line = await v1Line(f, 1n);
      for (const who of [f.financier, f.admin]) {
        await expect(f.financing.connect(who).importCreditLines([line]))
          .to.be.revertedWithCustomError(f.financing, "AccessControlUnauthorizedAccount")
          .withArgs(who.address, LEDGER_MIGRATOR);
        await expect(f.financing.connect(who).importFinancings([]))
          .to.be.revertedWithCustomError(f.financing, "AccessControlUnauthorizedAccount")
          .withArgs(who.address, LEDGER_MIGRATOR);
      }
    });
  });

  describe("seal", function () {
    it("the migrator seals each contract once; every import then reverts, even for a migrator granted afterwards", async function () {
      const f = await loadFixture(populatedTargetFixture);
      const contracts = [f.registry, f.token, f.receivables, f.financing];
      for (const c of contracts) {
        await expect(c.connect(f.migrator).sealImport()).to.emit(c, "ImportSealed").withArgs(f.migrator.address);
        expect(await c.importSealed()).to.equal(true);
        await expect(c.connect(f.migrator).sealImport()).to.be.revertedWithCustomError(c, "LedgerImportSealed");
        await expect(c.connect(f.admin).sealImport()).to.be.revertedWithCustomError(c, "LedgerImportSealed");
        await c.connect(f.admin).grantRole(LEDGER_MIGRATOR, f.outsider.address);
      }
      for (const who of [f.migrator, f.outsider]) {
        await expect(f.registry.connect(who).importMembers([])).to.be.revertedWithCustomError(f.registry, "LedgerImportSealed");
        await expect(f.token.connect(who).importBalances([])).to.be.revertedWithCustomError(f.token, "LedgerImportSealed");
        await expect(f.receivables.connect(who).importReceivables([await v1Receivable(f, "after")])).to.be.revertedWithCustomError(
          f.receivables,
          "LedgerImportSealed",
        );
        await expect(f.financing.connect(who).importCreditLines([])).to.be.revertedWithCustomError(f.financing, "LedgerImportSealed");
        await expect(f.financing.connect(who).importFinancings([])).to.be.revertedWithCustomError(f.financing, "LedgerImportSealed");
      }
    });

    it("the admin may seal too; nobody else can", async function () {
      const f = await loadFixture(populatedTargetFixture);
      for (const c of [f.registry, f.token, f.receivables, f.financing]) {
        for (const who of [f.operator, f.issuer, f.supplier, f.outsider]) {
          await expect(c.connect(who).sealImport())
            .to.be.revertedWithCustomError(c, "AccessControlUnauthorizedAccount")
            .withArgs(who.address, DEFAULT_ADMIN_ROLE);
        }
        await expect(c.connect(f.admin).sealImport()).to.emit(c, "ImportSealed").withArgs(f.admin.address);
        expect(await c.importSealed()).to.equal(true);
      }
    });
  });

  describe("a whole version-1 book", function () {
    it("defaults an imported financed receivable under version 2 only after the grace period, by its holder", async function () {
      const f = await loadFixture(importedLedgerFixture);
      const id = f.book.financed.id;
      const due = BigInt(f.book.financed.dueDate as bigint);
      await time.increaseTo(due + GRACE_PERIOD + 1n);
      await expect(f.receivables.connect(f.supplier).markDefaulted(id))
        .to.be.revertedWithCustomError(f.receivables, "ReceivableUnauthorized")
        .withArgs(id, f.supplier.address);
      await expect(f.receivables.connect(f.financier).markDefaulted(id)).to.emit(f.receivables, "ReceivableDefaulted");
    });
  });
});

async function v1LineTerms() {
  return { limit: 1_000_000_00n, maxAdvanceBps: 9_000n, discountBps: 500n, expiry: BigInt(await time.latest()) + YEAR };
}
