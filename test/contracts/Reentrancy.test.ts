/**
 * Reentrancy: a hostile settlement token that calls back into the ledger in the middle of a token
 * transfer (ReentrantToken), and a hostile ERC-721 receiver that acts on the receivable it is being
 * sent (ReentrantReceiver). pay and approveFinancing are guarded (ReentrancyGuardTransient): the
 * nested call must fail with ReentrancyGuardReentrantCall and the outcome must equal one execution.
 * safeTransferFrom is not guarded: what the receiver manages to do in its callback is asserted
 * exactly, and afterwards holders and balances must agree.
 */
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { expect } from "chai";
import { ethers } from "hardhat";
import type { ContractTransactionResponse } from "ethers";
import {
  RECEIVABLES_DOMAIN,
  FINANCING_DOMAIN,
  RECEIVABLES_TYPES,
  FINANCING_TYPES,
} from "../../shared/eip712";
import {
  Financing__factory,
  ParticipantRegistry__factory,
  ReentrantReceiver__factory,
  ReentrantToken__factory,
  ReceivablesImporter__factory,
  Receivables__factory,
} from "../../typechain-types";
import type { Receivables } from "../../typechain-types";
import { DEFAULT_PARAMS, receivablesLibraries } from "../../scripts/lib/deploy-ledger";
import { FUNDING, GRACE_PERIOD, JURISDICTION_CN, MIN_DENOMINATION, YEAR, deadline, entityIdHash, ledgerFixture, lineTerms, makeInvoice, signAct, accept, recordedTerms, rootId, tokenise } from "./helpers/fixture";
import { approvalFor, REGISTRATION, requestTerms } from "./helpers/financing";
import { ROLE_BITS } from "../../shared/roles";

const FACE = 1_000_000_00n;
const GUARD_ERROR = ethers.id("ReentrancyGuardReentrantCall()").slice(0, 10);
const RStatus = { Accepted: 2n, Financed: 3n, Paid: 4n, Split: 7n };
const FStatus = { Requested: 1n, Active: 3n, Repaid: 4n };
/** Nonce of the signed acts here: any unused value works (nonces are unordered); word 1, bit 44. */
const NONCE = 300n;

/** Number of `name` events `contract` emitted in `tx`. */
async function countEvents(
  tx: ContractTransactionResponse,
  contract: {
    getAddress(): Promise<string>;
    interface: { parseLog(log: { topics: string[]; data: string }): { name: string } | null };
  },
  name: string,
): Promise<number> {
  const receipt = await tx.wait();
  const address = await contract.getAddress();
  return receipt!.logs.filter(
    (l) => l.address === address && contract.interface.parseLog({ topics: [...l.topics], data: l.data })?.name === name,
  ).length;
}

// ------------------------------------------------------------------ hostile settlement token

/** A second ledger whose settlement token is ReentrantToken, with a supplier, a buyer and a financier. */
async function reentrantLedgerFixture() {
  const f = await ledgerFixture();
  const { admin, operator, officer, supplier, buyer, financier, outsider } = f.actors;
  const registry = await new ParticipantRegistry__factory(admin).deploy(
    admin.address,
    DEFAULT_PARAMS.adminDelay,
    operator.address,
    officer.address,
    ethers.ZeroAddress,
  );
  const token = await new ReentrantToken__factory(admin).deploy();
  const importer = await new ReceivablesImporter__factory(admin).deploy();
  // Receivables names its financing module at construction: the module is the deployer's next contract.
  const nonce = await admin.getNonce();
  const receivables = await new Receivables__factory(receivablesLibraries(await importer.getAddress()), admin).deploy(
    registry,
    token,
    ethers.getCreateAddress({ from: admin.address, nonce: nonce + 1 }),
    admin.address,
    DEFAULT_PARAMS.adminDelay,
    officer.address,
    MIN_DENOMINATION,
    GRACE_PERIOD,
    ethers.ZeroAddress,
  );
  const financing = await new Financing__factory(admin).deploy(
    registry,
    receivables,
    admin.address,
    DEFAULT_PARAMS.adminDelay,
    ethers.ZeroAddress,
  );
  const kycExpiry = BigInt(await time.latest()) + 2n * YEAR;
  for (const [who, roles] of [
    [supplier, ROLE_BITS.supplier],
    [buyer, ROLE_BITS.buyer],
    [financier, ROLE_BITS.financier],
  ] as const) {
    await registry
      .connect(operator)
      .register(who.address, roles, kycExpiry, JURISDICTION_CN, entityIdHash(who.address));
  }
  await token.mint(buyer.address, FUNDING);
  await token.mint(financier.address, FUNDING);
  await token.connect(buyer).approve(receivables, ethers.MaxUint256);
  await token.connect(financier).approve(financing, ethers.MaxUint256);
  return { registry, token, receivables, financing, officer, supplier, buyer, financier, outsider };
}

type Hostile = Awaited<ReturnType<typeof reentrantLedgerFixture>>;

async function acceptedOn(h: Hostile) {
  const inv = await makeInvoice(h.buyer.address);
  const id = rootId(inv.fingerprint as string);
  await tokenise(h, h.supplier, inv);
  await accept(h, h.buyer, id);
  return { id, dueDate: BigInt(inv.dueDate) };
}

async function openLineOn(h: Hostile) {
  const terms = await lineTerms();
  await h.financing.connect(h.financier).openCreditLine(h.buyer.address, h.supplier.address, terms);
  return { lineId: await h.financing.creditLineCount(), terms };
}

async function expectGuardStoppedOnce(h: Hostile) {
  expect(await h.token.reentryAttempts()).to.equal(1n);
  expect(await h.token.lastReentrySucceeded()).to.equal(false);
  expect(await h.token.lastReentryError()).to.equal(GUARD_ERROR);
}

describe("Reentrancy", function () {
  describe("through the settlement token", function () {
    describe(".pay()", function () {
      describe("when the token re-enters pay on the same receivable", function () {
        it("refuses the nested call with ReentrancyGuardReentrantCall and pays once", async function () {
          const h = await loadFixture(reentrantLedgerFixture);
          const { id } = await acceptedOn(h);
          const amount = 400_000_00n;
          await h.token.arm(h.receivables, h.receivables.interface.encodeFunctionData("pay", [id, amount]));
          const tx = await h.receivables.connect(h.buyer).pay(id, amount);
          await expect(tx)
            .to.emit(h.receivables, "ReceivablePaid")
            .withArgs(id, h.buyer.address, h.supplier.address, amount, FACE - amount);
          expect(await countEvents(tx, h.receivables, "ReceivablePaid")).to.equal(1);
          await expect(tx).to.changeTokenBalances(h.token, [h.buyer, h.supplier], [-amount, amount]);
          await expectGuardStoppedOnce(h);
          expect((await h.receivables.receivable(id)).outstanding).to.equal(FACE - amount);
        });
      });

      describe("when the token re-enters payBySig carrying the debtor's valid signature", function () {
        it("refuses the nested call with ReentrancyGuardReentrantCall; the signature stays unused and relays alone afterwards", async function () {
          const h = await loadFixture(reentrantLedgerFixture);
          const { id } = await acceptedOn(h);
          const amount = 300_000_00n;
          const dl = await deadline();
          const signature = await signAct(
            h.buyer,
            { ...RECEIVABLES_DOMAIN, verifyingContract: await h.receivables.getAddress() },
            RECEIVABLES_TYPES.Pay,
            { debtor: h.buyer.address, receivableId: id, amount, nonce: NONCE, deadline: dl },
          );
          const auth = { nonce: NONCE, deadline: dl, signature };
          await h.token.arm(
            h.receivables,
            h.receivables.interface.encodeFunctionData("payBySig", [h.buyer.address, id, amount, auth]),
          );
          const tx = await h.receivables.connect(h.buyer).pay(id, amount);
          expect(await countEvents(tx, h.receivables, "ReceivablePaid")).to.equal(1);
          await expect(tx).to.changeTokenBalances(h.token, [h.buyer, h.supplier], [-amount, amount]);
          await expectGuardStoppedOnce(h);
          expect((await h.receivables.receivable(id)).outstanding).to.equal(FACE - amount);
          // The nested call's nonce use was rolled back with it.
          expect(await h.receivables.isNonceUsed(h.buyer.address, NONCE)).to.equal(false);
          expect(await h.receivables.nonceBitmap(h.buyer.address, NONCE >> 8n)).to.equal(0n);
          // Only the guard stopped it: on its own the same signature pays, and then uses the nonce.
          await expect(h.receivables.connect(h.outsider).payBySig(h.buyer.address, id, amount, auth))
            .to.emit(h.receivables, "ReceivablePaid")
            .withArgs(id, h.buyer.address, h.supplier.address, amount, FACE - 2n * amount);
          expect(await h.receivables.isNonceUsed(h.buyer.address, NONCE)).to.equal(true);
        });
      });

      describe("when the token re-enters pay while a financed receivable is repaid", function () {
        it("refuses the nested call and routes the repayment and releases utilisation once", async function () {
          const h = await loadFixture(reentrantLedgerFixture);
          const { lineId } = await openLineOn(h);
          const { id } = await acceptedOn(h);
          await h.financing.connect(h.supplier).requestFinancing(id, await requestTerms(lineId));
          await h.financing.connect(h.financier).approveFinancing(id, await approvalFor(h, id));
          const advance = (await h.financing.financing(id)).principal;
          expect((await h.financing.creditLine(lineId)).utilised).to.equal(advance);
          const amount = 950_000_00n;
          await h.token.arm(h.receivables, h.receivables.interface.encodeFunctionData("pay", [id, 1n]));
          const tx = await h.receivables.connect(h.buyer).pay(id, amount);
          await expect(tx)
            .to.emit(h.financing, "FinancingRepaid")
            .withArgs(id, lineId, advance, amount - advance, 0n);
          expect(await countEvents(tx, h.financing, "FinancingRepaid")).to.equal(1);
          expect(await countEvents(tx, h.receivables, "ReceivablePaid")).to.equal(1);
          await expect(tx).to.changeTokenBalances(
            h.token,
            [h.buyer, h.financier, h.supplier],
            [-amount, advance, amount - advance],
          );
          await expectGuardStoppedOnce(h);
          expect((await h.receivables.receivable(id)).outstanding).to.equal(FACE - amount);
          expect((await h.financing.creditLine(lineId)).utilised).to.equal(0n);
          const fv = await h.financing.financing(id);
          expect([fv.status, fv.principal]).to.deep.equal([FStatus.Repaid, 0n]);
        });
      });
    });

    describe(".payBySig()", function () {
      describe("when the token re-enters pay during a relayed payment", function () {
        it("refuses the nested call with ReentrancyGuardReentrantCall and pays once", async function () {
          const h = await loadFixture(reentrantLedgerFixture);
          const { id } = await acceptedOn(h);
          const amount = 200_000_00n;
          const dl = await deadline();
          const signature = await signAct(
            h.buyer,
            { ...RECEIVABLES_DOMAIN, verifyingContract: await h.receivables.getAddress() },
            RECEIVABLES_TYPES.Pay,
            { debtor: h.buyer.address, receivableId: id, amount, nonce: NONCE, deadline: dl },
          );
          await h.token.arm(h.receivables, h.receivables.interface.encodeFunctionData("pay", [id, amount]));
          const tx = await h.receivables
            .connect(h.outsider)
            .payBySig(h.buyer.address, id, amount, { nonce: NONCE, deadline: dl, signature });
          expect(await countEvents(tx, h.receivables, "ReceivablePaid")).to.equal(1);
          await expect(tx).to.changeTokenBalances(h.token, [h.buyer, h.supplier], [-amount, amount]);
          await expectGuardStoppedOnce(h);
          expect((await h.receivables.receivable(id)).outstanding).to.equal(FACE - amount);
          expect(await h.receivables.isNonceUsed(h.buyer.address, NONCE)).to.equal(true);
          expect(await h.receivables.nonceBitmap(h.buyer.address, NONCE >> 8n)).to.equal(1n << (NONCE & 0xffn));
        });
      });
    });

    describe(".approveFinancing()", function () {
      describe("when the token re-enters approveFinancing for the same receivable", function () {
        it("refuses the nested call with ReentrancyGuardReentrantCall and finances once", async function () {
          const h = await loadFixture(reentrantLedgerFixture);
          const { lineId } = await openLineOn(h);
          const { id } = await acceptedOn(h);
          await h.financing.connect(h.supplier).requestFinancing(id, await requestTerms(lineId));
          const approval = await approvalFor(h, id);
          const { advance, paid } = approval;
          await h.token.arm(h.financing, h.financing.interface.encodeFunctionData("approveFinancing", [id, approval]));
          const tx = await h.financing.connect(h.financier).approveFinancing(id, approval);
          await expect(tx)
            .to.emit(h.financing, "FinancingApproved")
            .withArgs(id, lineId, h.financier.address, h.supplier.address, advance, paid, REGISTRATION);
          expect(await countEvents(tx, h.financing, "FinancingApproved")).to.equal(1);
          expect(await countEvents(tx, h.receivables, "ReceivableAssigned")).to.equal(1);
          await expect(tx).to.changeTokenBalances(h.token, [h.financier, h.supplier], [-paid, paid]);
          await expectGuardStoppedOnce(h);
          expect((await h.financing.creditLine(lineId)).utilised).to.equal(advance);
          const fv = await h.financing.financing(id);
          expect([fv.status, fv.principal]).to.deep.equal([FStatus.Active, advance]);
          const r = await h.receivables.receivable(id);
          expect([r.holder, r.status, r.financed]).to.deep.equal([h.financier.address, RStatus.Financed, true]);
          expect(await h.receivables.balanceOf(h.financier.address)).to.equal(1n);
          expect(await h.receivables.balanceOf(h.supplier.address)).to.equal(0n);
        });
      });

      describe("when the token re-enters approveFinancingBySig for another requested receivable with the financier's valid signature", function () {
        it("refuses the nested approval with ReentrancyGuardReentrantCall; it relays alone afterwards", async function () {
          const h = await loadFixture(reentrantLedgerFixture);
          const { lineId } = await openLineOn(h);
          const first = await acceptedOn(h);
          const second = await acceptedOn(h);
          await h.financing.connect(h.supplier).requestFinancing(first.id, await requestTerms(lineId));
          await h.financing.connect(h.supplier).requestFinancing(second.id, await requestTerms(lineId));
          const dl = await deadline();
          const a2 = await approvalFor(h, second.id);
          const signature = await signAct(
            h.financier,
            { ...FINANCING_DOMAIN, verifyingContract: await h.financing.getAddress() },
            FINANCING_TYPES.ApproveFinancing,
            { financier: h.financier.address, receivableId: second.id, approval: a2, nonce: NONCE, deadline: dl },
          );
          const auth = { nonce: NONCE, deadline: dl, signature };
          await h.token.arm(
            h.financing,
            h.financing.interface.encodeFunctionData("approveFinancingBySig", [h.financier.address, second.id, a2, auth]),
          );
          const q1 = await approvalFor(h, first.id);
          const tx = await h.financing.connect(h.financier).approveFinancing(first.id, q1);
          expect(await countEvents(tx, h.financing, "FinancingApproved")).to.equal(1);
          await expectGuardStoppedOnce(h);
          expect((await h.financing.financing(second.id)).status).to.equal(FStatus.Requested);
          expect(await h.receivables.ownerOf(second.id)).to.equal(h.supplier.address);
          expect((await h.financing.creditLine(lineId)).utilised).to.equal(q1.advance);
          expect(await h.financing.isNonceUsed(h.financier.address, NONCE)).to.equal(false);

          const relayed = await h.financing
            .connect(h.outsider)
            .approveFinancingBySig(h.financier.address, second.id, a2, auth);
          await expect(relayed)
            .to.emit(h.financing, "FinancingApproved")
            .withArgs(second.id, lineId, h.financier.address, h.supplier.address, a2.advance, a2.paid, REGISTRATION);
          expect((await h.financing.creditLine(lineId)).utilised).to.equal(q1.advance + a2.advance);
          expect(await h.financing.isNonceUsed(h.financier.address, NONCE)).to.equal(true);
        });
      });
    });
  });

  // ---------------------------------------------------------------- hostile ERC-721 receiver

  describe("through onERC721Received", function () {
    async function receiverFixture() {
      const f = await ledgerFixture();
      const receiver = await new ReentrantReceiver__factory(f.admin).deploy();
      const address = await receiver.getAddress();
      await f.registry
        .connect(f.operator)
        .register(address, ROLE_BITS.supplier, BigInt(await time.latest()) + YEAR, JURISDICTION_CN, entityIdHash(address));
      return { f, receiver, address };
    }

    type R = Awaited<ReturnType<typeof receiverFixture>>;

    async function issuedFor(r: R, debtor = r.f.buyer.address) {
      const inv = await makeInvoice(debtor);
      const id = rootId(inv.fingerprint as string);
      await tokenise(r.f, r.f.supplier, inv);
      return id;
    }

    /** Every id's record holder is its ERC-721 owner, and each account's balance counts exactly the ids it holds. */
    async function expectConsistent(receivables: Receivables, ids: bigint[], accounts: string[]) {
      const held = new Map<string, bigint>();
      for (const id of ids) {
        const holder = (await receivables.receivable(id)).holder;
        if (holder === ethers.ZeroAddress) {
          await expect(receivables.ownerOf(id))
            .to.be.revertedWithCustomError(receivables, "ERC721NonexistentToken")
            .withArgs(id);
          continue;
        }
        expect(await receivables.ownerOf(id)).to.equal(holder);
        expect(accounts).to.include(holder);
        held.set(holder, (held.get(holder) ?? 0n) + 1n);
      }
      let live = 0n;
      for (const a of accounts) {
        const balance = await receivables.balanceOf(a);
        expect(balance, `balance of ${a}`).to.equal(held.get(a) ?? 0n);
        live += balance;
      }
      expect(live).to.equal([...held.values()].reduce((x, y) => x + y, 0n));
    }

    function accountsOf(r: R) {
      const { f } = r;
      return [
        f.supplier.address,
        f.supplier2.address,
        r.address,
        f.buyer.address,
        f.financier.address,
        f.outsider.address,
      ];
    }

    async function sendToReceiver(r: R, id: bigint) {
      const asSupplier = r.f.receivables.connect(r.f.supplier);
      return asSupplier["safeTransferFrom(address,address,uint256)"](r.f.supplier.address, r.address, id);
    }

    describe(".safeTransferFrom()", function () {
      describe("when the receiver only accepts the token", function () {
        it("delivers it and the callback runs once", async function () {
          const r = await loadFixture(receiverFixture);
          const id = await issuedFor(r);
          await accept(r.f, r.f.buyer, id);
          await expect(sendToReceiver(r, id))
            .to.emit(r.f.receivables, "Transfer")
            .withArgs(r.f.supplier.address, r.address, id);
          expect(await r.receiver.received()).to.equal(1n);
          expect(await r.f.receivables.ownerOf(id)).to.equal(r.address);
          await expectConsistent(r.f.receivables, [id], accountsOf(r));
        });
      });

      describe("when the receiver re-transfers the receivable to another supplier in the callback", function () {
        it("lets it: the receivable ends with that supplier and holders and balances agree", async function () {
          const r = await loadFixture(receiverFixture);
          const { f } = r;
          const id = await issuedFor(r);
          await accept(f, f.buyer, id);
          await r.receiver.arm(
            f.receivables,
            f.receivables.interface.encodeFunctionData("transferFrom", [r.address, f.supplier2.address, id]),
          );
          const tx = await sendToReceiver(r, id);
          await expect(tx).to.emit(f.receivables, "Transfer").withArgs(f.supplier.address, r.address, id);
          await expect(tx).to.emit(f.receivables, "Transfer").withArgs(r.address, f.supplier2.address, id);
          expect(await r.receiver.lastReentrySucceeded()).to.equal(true);
          expect(await r.receiver.received()).to.equal(1n);
          expect(await f.receivables.ownerOf(id)).to.equal(f.supplier2.address);
          expect((await f.receivables.receivable(id)).status).to.equal(RStatus.Accepted);
          await expectConsistent(f.receivables, [id], accountsOf(r));
          expect(await f.receivables.balanceOf(f.supplier2.address)).to.equal(1n);
        });
      });

      describe("when the receiver re-transfers the receivable to a non-member in the callback", function () {
        it("the nested transfer fails with ReceivableUnverifiedParty and the receiver keeps the receivable", async function () {
          const r = await loadFixture(receiverFixture);
          const { f } = r;
          const id = await issuedFor(r);
          await accept(f, f.buyer, id);
          await r.receiver.arm(
            f.receivables,
            f.receivables.interface.encodeFunctionData("transferFrom", [r.address, f.outsider.address, id]),
          );
          await sendToReceiver(r, id);
          expect(await r.receiver.lastReentrySucceeded()).to.equal(false);
          expect(await r.receiver.lastReentryError()).to.equal(
            f.receivables.interface.encodeErrorResult("ReceivableUnverifiedParty", [
              f.outsider.address,
              ROLE_BITS.supplier | ROLE_BITS.financier,
            ]),
          );
          expect(await f.receivables.ownerOf(id)).to.equal(r.address);
          await expectConsistent(f.receivables, [id], accountsOf(r));
        });
      });

      describe("when the receiver splits the receivable in the callback", function () {
        it("lets it: the parent ends Split and burned, the children are the receiver's, holders and balances agree", async function () {
          const r = await loadFixture(receiverFixture);
          const { f } = r;
          const id = await issuedFor(r);
          await accept(f, f.buyer, id);
          const amounts = [700_000_00n, 300_000_00n];
          await r.receiver.arm(f.receivables, f.receivables.interface.encodeFunctionData("split", [id, amounts]));
          const c0 = await f.receivables.childId(id, 0);
          const c1 = await f.receivables.childId(id, 1);
          const tx = await sendToReceiver(r, id);
          await expect(tx).to.emit(f.receivables, "Transfer").withArgs(r.address, ethers.ZeroAddress, id);
          await expect(tx).to.emit(f.receivables, "ReceivableSplit").withArgs(id, c0, r.address, amounts[0]);
          await expect(tx).to.emit(f.receivables, "ReceivableSplit").withArgs(id, c1, r.address, amounts[1]);
          expect(await r.receiver.lastReentrySucceeded()).to.equal(true);
          const parent = await f.receivables.receivable(id);
          expect([parent.holder, parent.status]).to.deep.equal([ethers.ZeroAddress, RStatus.Split]);
          expect(await f.receivables.ownerOf(c0)).to.equal(r.address);
          expect(await f.receivables.ownerOf(c1)).to.equal(r.address);
          await expectConsistent(f.receivables, [id, c0, c1], accountsOf(r));
          expect(await f.receivables.balanceOf(r.address)).to.equal(2n);
          expect(await f.receivables.balanceOf(f.supplier.address)).to.equal(0n);
        });
      });

      describe("when the receiver, not the debtor, pays in the callback", function () {
        it("the nested payment fails with ReceivableUnauthorized and nothing is paid", async function () {
          const r = await loadFixture(receiverFixture);
          const { f } = r;
          const id = await issuedFor(r);
          await accept(f, f.buyer, id);
          await r.receiver.arm(f.receivables, f.receivables.interface.encodeFunctionData("pay", [id, 1n]));
          const tx = await sendToReceiver(r, id);
          await expect(tx).to.not.emit(f.receivables, "ReceivablePaid");
          expect(await r.receiver.lastReentrySucceeded()).to.equal(false);
          expect(await r.receiver.lastReentryError()).to.equal(
            f.receivables.interface.encodeErrorResult("ReceivableUnauthorized", [id, r.address]),
          );
          const rv = await f.receivables.receivable(id);
          expect([rv.holder, rv.outstanding, rv.status]).to.deep.equal([r.address, FACE, RStatus.Accepted]);
          await expectConsistent(f.receivables, [id], accountsOf(r));
        });
      });

      describe("when the receiver is the debtor and pays itself in the callback", function () {
        it("lets it: the outstanding falls once by the amount, holders and balances agree", async function () {
          const r = await loadFixture(receiverFixture);
          const { f } = r;
          await f.registry
            .connect(f.operator)
            .update(r.address, ROLE_BITS.supplier | ROLE_BITS.buyer, JURISDICTION_CN, entityIdHash(r.address));
          await f.token.connect(f.issuer).mint(r.address, FACE);
          await r.receiver.execute(
            f.token,
            f.token.interface.encodeFunctionData("approve", [await f.receivables.getAddress(), ethers.MaxUint256]),
          );
          const id = await issuedFor(r, r.address);
          await r.receiver.execute(f.receivables, f.receivables.interface.encodeFunctionData("accept", [id, recordedTerms(id)]));
          const amount = 300_000_00n;
          await r.receiver.arm(f.receivables, f.receivables.interface.encodeFunctionData("pay", [id, amount]));
          const tx = await sendToReceiver(r, id);
          await expect(tx)
            .to.emit(f.receivables, "ReceivablePaid")
            .withArgs(id, r.address, r.address, amount, FACE - amount);
          expect(await countEvents(tx, f.receivables, "ReceivablePaid")).to.equal(1);
          expect(await r.receiver.lastReentrySucceeded()).to.equal(true);
          // The debtor paid its own holding: no money changes hands.
          await expect(tx).to.changeTokenBalances(f.token, [r.address, f.supplier], [0n, 0n]);
          const rv = await f.receivables.receivable(id);
          expect([rv.holder, rv.outstanding, rv.status]).to.deep.equal([r.address, FACE - amount, RStatus.Accepted]);
          await expectConsistent(f.receivables, [id], accountsOf(r));
        });
      });
    });
  });
});
