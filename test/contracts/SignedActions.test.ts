/**
 * Relayed EIP-712 acts (`…BySig`) of Receivables and Financing, and the unordered nonces of
 * SignedActions (isNonceUsed, nonceBitmap, invalidateNonce).
 *
 * Every act is described once in ACTS (how to set it up, sign it, relay it, do it directly, tamper
 * with it and read the state it changes); a table then checks each act against the same list of
 * attacks: replay, a nonce already used, expiry, another chain, another contract, another key, an
 * altered field, a nonce other than the signed one, and the malleable twin of the signature. Further
 * blocks cover what the table cannot: a second deployment, the unordered nonce bitmap (any order,
 * independence across signers and contracts, word boundaries), invalidateNonce, ERC-1271 contract
 * wallets and the domain the contracts report. The typed data come from
 * shared/eip712.ts, so a contract typehash that drifts from the service's
 * definitions fails every relay here.
 */
import { loadFixture, takeSnapshot, time } from "@nomicfoundation/hardhat-network-helpers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import { expect } from "chai";
import { ethers } from "hardhat";
import type { ContractTransactionReceipt, ContractTransactionResponse, TypedDataField, Wallet } from "ethers";
import {
  FINANCING_DOMAIN,
  FINANCING_TYPES,
  RECEIVABLES_DOMAIN,
  RECEIVABLES_TYPES,
} from "../../shared/eip712";
import { deployLedger } from "../../scripts/lib/deploy-ledger";
import { MultisigWallet__factory } from "../../typechain-types";
import type { IReceivables, MultisigWallet } from "../../typechain-types";
import { FUNDING, GRACE_PERIOD, JURISDICTION_CN, YEAR, deadline, entityIdHash, ledgerFixture, lineTerms, makeInvoice, signAct, type LedgerFixture, accept, attest, attestBatch, recordedTerms, rootId, termsOf, tokenise, tokeniseBatch } from "./helpers/fixture";
import { approvalFor, REGISTRATION, requestTerms } from "./helpers/financing";
import { ROLE_BITS } from "../../shared/roles";

type Types = Record<string, TypedDataField[]>;
type Target = "receivables" | "financing";
type Domain = { name: string; version: string; chainId?: bigint; verifyingContract: string };
/** What every relayed act carries besides its own fields: nonce, deadline and signature. */
interface Auth {
  nonce: bigint;
  deadline: bigint;
  signature: string;
}

/** Order of the secp256k1 group: `s` and `n - s` are both valid halves of an ECDSA signature. */
const SECP256K1_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
const ECRECOVER = "0x0000000000000000000000000000000000000001";
const FACE = 1_000_000_00n;
const REASON = ethers.encodeBytes32String("CONCENTRATION");
const CREDIT_NOTE_HASH = ethers.keccak256(ethers.toUtf8Bytes("credit note CN-1"));

const RStatus = { None: 0n, Issued: 1n, Accepted: 2n, Financed: 3n, Paid: 4n, Defaulted: 5n, Cancelled: 6n, Split: 7n };
const FStatus = { None: 0n, Requested: 1n, Rejected: 2n, Active: 3n, Repaid: 4n, WrittenOff: 5n, Withdrawn: 6n };

// ------------------------------------------------------------------ helpers

function contractAddress(f: LedgerFixture, target: Target): Promise<string> {
  return target === "receivables" ? f.receivables.getAddress() : f.financing.getAddress();
}

function isNonceUsed(f: LedgerFixture, target: Target, who: string, nonce: bigint): Promise<boolean> {
  return target === "receivables" ? f.receivables.isNonceUsed(who, nonce) : f.financing.isNonceUsed(who, nonce);
}

function nonceBitmap(f: LedgerFixture, target: Target, who: string, wordPos: bigint): Promise<bigint> {
  return target === "receivables" ? f.receivables.nonceBitmap(who, wordPos) : f.financing.nonceBitmap(who, wordPos);
}

/** Word and bit of `nonce` in the signer's bitmap: bit `nonce % 256` of word `nonce / 256`. */
function wordOf(nonce: bigint): bigint {
  return nonce >> 8n;
}
function bitOf(nonce: bigint): bigint {
  return 1n << (nonce & 0xffn);
}

async function domainOf(f: LedgerFixture, target: Target): Promise<Domain> {
  const base = target === "receivables" ? RECEIVABLES_DOMAIN : FINANCING_DOMAIN;
  return { ...base, verifyingContract: await contractAddress(f, target) };
}

async function chainId(): Promise<bigint> {
  return (await ethers.provider.getNetwork()).chainId;
}

/** Flattens a receivable view (or "none" before it exists) so states compare with deep equality. */
async function readReceivable(f: LedgerFixture, id: bigint): Promise<unknown> {
  const r = await f.receivables.receivable(id).catch(() => null);
  return r === null ? "none" : Array.from(r);
}

function logsOf(receipt: ContractTransactionReceipt | null): unknown[] {
  if (receipt === null) throw new Error("no receipt");
  return receipt.logs.map((l) => [l.address, [...l.topics], l.data]);
}

/** The twin of a 65-byte ECDSA signature: same r, s replaced by n - s, v flipped. Recovers the same signer. */
function malleableTwin(signature: string): string {
  const bytes = ethers.getBytes(signature);
  const s = BigInt(ethers.hexlify(bytes.slice(32, 64)));
  const v = bytes[64];
  return ethers.concat([bytes.slice(0, 32), ethers.toBeHex(SECP256K1_N - s, 32), new Uint8Array([v === 27 ? 28 : 27])]);
}

/** What the bare ecrecover precompile (which has no low-s rule) recovers from `signature` over `digest`. */
async function ecrecover(digest: string, signature: string): Promise<string> {
  const bytes = ethers.getBytes(signature);
  const data = ethers.concat([digest, ethers.toBeHex(bytes[64], 32), bytes.slice(0, 32), bytes.slice(32, 64)]);
  const out = await ethers.provider.call({ to: ECRECOVER, data });
  return ethers.getAddress(ethers.dataSlice(out, 12));
}

async function invoiceAndId(debtor: string, overrides: Partial<IReceivables.InvoiceStruct> = {}) {
  const inv = await makeInvoice(debtor, overrides);
  return { inv, id: rootId(inv.fingerprint as string) };
}

/** An issued (not yet accepted) receivable of f.supplier owed by f.buyer. */
async function issued(f: LedgerFixture) {
  const r = await invoiceAndId(f.buyer.address);
  await tokenise(f, f.supplier, r.inv);
  return r;
}

/** An accepted receivable of f.supplier owed by f.buyer. */
async function accepted(f: LedgerFixture) {
  const r = await issued(f);
  await accept(f, f.buyer, r.id);
  return r;
}

/** Opens line `expectedId` for f.financier scoped to (f.buyer, f.supplier). */
async function openLine(f: LedgerFixture) {
  const terms = await lineTerms();
  await f.financing.connect(f.financier).openCreditLine(f.buyer.address, f.supplier.address, terms);
  return { lineId: await f.financing.creditLineCount(), terms };
}

/** An accepted receivable with financing requested on line `lineId`. */
async function requested(f: LedgerFixture, lineId: bigint) {
  const r = await accepted(f);
  await f.financing.connect(f.supplier).requestFinancing(r.id, await requestTerms(lineId));
  return r;
}

// ------------------------------------------------------------------ the acts

interface Prepared {
  signer: HardhatEthersSigner;
  /** The typed message without nonce and deadline. */
  message: Record<string, unknown>;
  /** The same act done by the signer itself. */
  direct: () => Promise<ContractTransactionResponse>;
  /** The act relayed by f.outsider (a non-member). */
  relay: (auth: Auth) => Promise<ContractTransactionResponse>;
  /** The relay with one signed field changed after signing. */
  tamper: (auth: Auth) => Promise<ContractTransactionResponse>;
  /** The state the act changes. */
  state: () => Promise<unknown>;
  /** Asserts the act's exact events and effects on a successful relay. */
  effect: (tx: ContractTransactionResponse) => Promise<void>;
}

interface ActCase {
  fn: string;
  target: Target;
  types: Types;
  prepare: (f: LedgerFixture) => Promise<Prepared>;
}

const ACTS: ActCase[] = [
  {
    fn: "tokeniseBySig",
    target: "receivables",
    types: RECEIVABLES_TYPES.Tokenise,
    prepare: async (f) => {
      const { inv, id } = await invoiceAndId(f.buyer.address);
      const r = f.receivables.connect(f.outsider);
      const att = await attest(f, f.supplier.address, inv);
      return {
        signer: f.supplier,
        message: { seller: f.supplier.address, invoice: inv },
        direct: () => tokenise(f, f.supplier, inv),
        relay: (auth) => r.tokeniseBySig(f.supplier.address, inv, att, auth),
        tamper: (auth) => r.tokeniseBySig(f.supplier.address, { ...inv, faceValue: BigInt(inv.faceValue) + 1n }, att, auth),
        state: async () => [await readReceivable(f, id), await f.receivables.balanceOf(f.supplier.address)],
        effect: async (tx) => {
          await expect(tx)
            .to.emit(f.receivables, "ReceivableTokenised")
            .withArgs(id, f.supplier.address, f.buyer.address, inv.faceValue, inv.dueDate, inv.documentHash, inv.fingerprint);
          await expect(tx).to.emit(f.receivables, "Transfer").withArgs(ethers.ZeroAddress, f.supplier.address, id);
          expect(await f.receivables.ownerOf(id)).to.equal(f.supplier.address);
          expect((await f.receivables.receivable(id)).status).to.equal(RStatus.Issued);
          // ERC-721: the seller's balance counts the new token.
          expect(await f.receivables.balanceOf(f.supplier.address)).to.equal(1n);
          expect(await f.receivables.balanceOf(f.outsider.address)).to.equal(0n);
        },
      };
    },
  },
  {
    fn: "tokeniseBatchBySig",
    target: "receivables",
    types: RECEIVABLES_TYPES.TokeniseBatch,
    prepare: async (f) => {
      const a = await invoiceAndId(f.buyer.address);
      const b = await invoiceAndId(f.buyer2.address, { faceValue: 250_000_00n });
      const invoices = [a.inv, b.inv];
      const r = f.receivables.connect(f.outsider);
      const att = await attestBatch(f, f.supplier.address, invoices);
      return {
        signer: f.supplier,
        message: { seller: f.supplier.address, invoices },
        direct: () => tokeniseBatch(f, f.supplier, invoices),
        relay: (auth) => r.tokeniseBatchBySig(f.supplier.address, invoices, att, auth),
        tamper: (auth) => r.tokeniseBatchBySig(f.supplier.address, [a.inv, { ...b.inv, faceValue: 250_000_01n }], att, auth),
        state: async () => [
          await readReceivable(f, a.id),
          await readReceivable(f, b.id),
          await f.receivables.balanceOf(f.supplier.address),
        ],
        effect: async (tx) => {
          await expect(tx)
            .to.emit(f.receivables, "ReceivableTokenised")
            .withArgs(a.id, f.supplier.address, f.buyer.address, a.inv.faceValue, a.inv.dueDate, a.inv.documentHash, a.inv.fingerprint);
          await expect(tx)
            .to.emit(f.receivables, "ReceivableTokenised")
            .withArgs(b.id, f.supplier.address, f.buyer2.address, b.inv.faceValue, b.inv.dueDate, b.inv.documentHash, b.inv.fingerprint);
          expect(await f.receivables.ownerOf(a.id)).to.equal(f.supplier.address);
          expect(await f.receivables.ownerOf(b.id)).to.equal(f.supplier.address);
          expect(await f.receivables.balanceOf(f.supplier.address)).to.equal(2n);
        },
      };
    },
  },
  {
    fn: "acceptBySig",
    target: "receivables",
    types: RECEIVABLES_TYPES.Accept,
    prepare: async (f) => {
      const { id } = await issued(f);
      const other = await issued(f);
      const r = f.receivables.connect(f.outsider);
      return {
        signer: f.buyer,
        message: { debtor: f.buyer.address, receivableId: id, ...recordedTerms(id) },
        direct: () => accept(f, f.buyer, id),
        relay: (auth) => r.acceptBySig(f.buyer.address, id, recordedTerms(id), auth),
        tamper: (auth) => r.acceptBySig(f.buyer.address, other.id, recordedTerms(id), auth),
        state: async () => [await readReceivable(f, id), await readReceivable(f, other.id)],
        effect: async (tx) => {
          await expect(tx).to.emit(f.receivables, "ReceivableAccepted").withArgs(id, f.buyer.address);
          expect((await f.receivables.receivable(id)).status).to.equal(RStatus.Accepted);
          expect((await f.receivables.receivable(other.id)).status).to.equal(RStatus.Issued);
        },
      };
    },
  },
  {
    fn: "cancelBySig",
    target: "receivables",
    types: RECEIVABLES_TYPES.Cancel,
    prepare: async (f) => {
      const { id } = await issued(f);
      const other = await issued(f);
      const r = f.receivables.connect(f.outsider);
      return {
        signer: f.supplier,
        message: { seller: f.supplier.address, receivableId: id },
        direct: () => f.receivables.connect(f.supplier).cancel(id),
        relay: (auth) => r.cancelBySig(f.supplier.address, id, auth),
        tamper: (auth) => r.cancelBySig(f.supplier.address, other.id, auth),
        state: async () => [
          await readReceivable(f, id),
          await readReceivable(f, other.id),
          await f.receivables.balanceOf(f.supplier.address),
        ],
        effect: async (tx) => {
          await expect(tx).to.emit(f.receivables, "ReceivableCancelled").withArgs(id, f.supplier.address);
          await expect(tx).to.emit(f.receivables, "Transfer").withArgs(f.supplier.address, ethers.ZeroAddress, id);
          expect((await f.receivables.receivable(id)).status).to.equal(RStatus.Cancelled);
          expect(await f.receivables.balanceOf(f.supplier.address)).to.equal(1n);
          await expect(f.receivables.ownerOf(id))
            .to.be.revertedWithCustomError(f.receivables, "ERC721NonexistentToken")
            .withArgs(id);
        },
      };
    },
  },
  {
    fn: "applyCreditNoteBySig",
    target: "receivables",
    types: RECEIVABLES_TYPES.CreditNote,
    prepare: async (f) => {
      const { id } = await accepted(f);
      const amount = 100_000_00n;
      const r = f.receivables.connect(f.outsider);
      return {
        signer: f.supplier,
        message: { holder: f.supplier.address, receivableId: id, amount, creditNoteHash: CREDIT_NOTE_HASH },
        direct: () => f.receivables.connect(f.supplier).applyCreditNote(id, amount, CREDIT_NOTE_HASH),
        relay: (auth) => r.applyCreditNoteBySig(f.supplier.address, id, amount, CREDIT_NOTE_HASH, auth),
        tamper: (auth) => r.applyCreditNoteBySig(f.supplier.address, id, 2n * amount, CREDIT_NOTE_HASH, auth),
        state: async () => readReceivable(f, id),
        effect: async (tx) => {
          await expect(tx)
            .to.emit(f.receivables, "CreditNoteApplied")
            .withArgs(id, f.supplier.address, amount, FACE - amount, CREDIT_NOTE_HASH);
          expect((await f.receivables.receivable(id)).outstanding).to.equal(FACE - amount);
        },
      };
    },
  },
  {
    fn: "splitBySig",
    target: "receivables",
    types: RECEIVABLES_TYPES.Split,
    prepare: async (f) => {
      const { id } = await accepted(f);
      const amounts = [600_000_00n, 400_000_00n];
      const c0 = await f.receivables.childId(id, 0);
      const c1 = await f.receivables.childId(id, 1);
      const r = f.receivables.connect(f.outsider);
      return {
        signer: f.supplier,
        message: { holder: f.supplier.address, receivableId: id, amounts },
        direct: () => f.receivables.connect(f.supplier).split(id, amounts),
        relay: (auth) => r.splitBySig(f.supplier.address, id, amounts, auth),
        tamper: (auth) => r.splitBySig(f.supplier.address, id, [400_000_00n, 600_000_00n], auth),
        state: async () => [
          await readReceivable(f, id),
          await readReceivable(f, c0),
          await readReceivable(f, c1),
          await f.receivables.balanceOf(f.supplier.address),
        ],
        effect: async (tx) => {
          await expect(tx).to.emit(f.receivables, "ReceivableSplit").withArgs(id, c0, f.supplier.address, amounts[0]);
          await expect(tx).to.emit(f.receivables, "ReceivableSplit").withArgs(id, c1, f.supplier.address, amounts[1]);
          await expect(tx).to.emit(f.receivables, "Transfer").withArgs(f.supplier.address, ethers.ZeroAddress, id);
          expect((await f.receivables.receivable(id)).status).to.equal(RStatus.Split);
          expect(await f.receivables.ownerOf(c0)).to.equal(f.supplier.address);
          expect(await f.receivables.ownerOf(c1)).to.equal(f.supplier.address);
          expect((await f.receivables.receivable(c1)).parentId).to.equal(id);
          expect(await f.receivables.balanceOf(f.supplier.address)).to.equal(2n);
        },
      };
    },
  },
  {
    fn: "transferBySig",
    target: "receivables",
    types: RECEIVABLES_TYPES.TransferReceivable,
    prepare: async (f) => {
      const { id } = await accepted(f);
      const r = f.receivables.connect(f.outsider);
      const balances = async () =>
        Promise.all([f.supplier, f.supplier2, f.financier].map((w) => f.receivables.balanceOf(w.address)));
      return {
        signer: f.supplier,
        message: { holder: f.supplier.address, receivableId: id, to: f.supplier2.address },
        direct: () => f.receivables.connect(f.supplier).transferFrom(f.supplier.address, f.supplier2.address, id),
        relay: (auth) => r.transferBySig(f.supplier.address, id, f.supplier2.address, auth),
        tamper: (auth) => r.transferBySig(f.supplier.address, id, f.financier.address, auth),
        state: async () => [await readReceivable(f, id), await balances()],
        effect: async (tx) => {
          await expect(tx).to.emit(f.receivables, "Transfer").withArgs(f.supplier.address, f.supplier2.address, id);
          expect(await f.receivables.ownerOf(id)).to.equal(f.supplier2.address);
          expect(await balances()).to.deep.equal([0n, 1n, 0n]);
        },
      };
    },
  },
  {
    fn: "payBySig",
    target: "receivables",
    types: RECEIVABLES_TYPES.Pay,
    prepare: async (f) => {
      const { id } = await accepted(f);
      const amount = 250_000_00n;
      const r = f.receivables.connect(f.outsider);
      const balances = async () =>
        Promise.all([f.buyer, f.supplier, f.outsider].map((w) => f.token.balanceOf(w.address)));
      return {
        signer: f.buyer,
        message: { debtor: f.buyer.address, receivableId: id, amount },
        direct: () => f.receivables.connect(f.buyer).pay(id, amount),
        relay: (auth) => r.payBySig(f.buyer.address, id, amount, auth),
        tamper: (auth) => r.payBySig(f.buyer.address, id, amount + 1n, auth),
        state: async () => [await readReceivable(f, id), await balances()],
        effect: async (tx) => {
          await expect(tx)
            .to.emit(f.receivables, "ReceivablePaid")
            .withArgs(id, f.buyer.address, f.supplier.address, amount, FACE - amount);
          // The debtor's money moves; the relayer pays gas only.
          await expect(tx).to.changeTokenBalances(f.token, [f.buyer, f.supplier, f.outsider], [-amount, amount, 0n]);
          expect((await f.receivables.receivable(id)).outstanding).to.equal(FACE - amount);
        },
      };
    },
  },
  {
    fn: "claimBySig",
    target: "receivables",
    types: RECEIVABLES_TYPES.ClaimHeld,
    prepare: async (f) => {
      // A payment held for the supplier while it was suspended; it is a member again.
      const { id } = await accepted(f);
      await f.registry.connect(f.officer).suspend(f.supplier.address, ethers.encodeBytes32String("review"));
      await f.receivables.connect(f.buyer).pay(id, FACE);
      await f.registry.connect(f.officer).reinstate(f.supplier.address);
      const r = f.receivables.connect(f.outsider);
      const balances = async () => Promise.all([f.supplier, f.outsider].map((w) => f.token.balanceOf(w.address)));
      return {
        signer: f.supplier,
        message: { recipient: f.supplier.address },
        direct: () => f.receivables.connect(f.supplier).claim(),
        relay: (auth) => r.claimBySig(f.supplier.address, auth),
        // The act's only field is its recipient (changing it changes whose signature is checked),
        // so the tampered relay changes the signed nonce instead.
        tamper: (auth) => r.claimBySig(f.supplier.address, { ...auth, nonce: BigInt(auth.nonce) + 1n }),
        state: async () => [await f.receivables.heldFor(f.supplier.address), await balances()],
        effect: async (tx) => {
          await expect(tx).to.emit(f.receivables, "PaymentClaimed").withArgs(f.supplier.address, FACE);
          // The money goes to the recipient; the relayer pays gas only.
          await expect(tx).to.changeTokenBalances(f.token, [f.supplier, f.outsider], [FACE, 0n]);
          expect(await f.receivables.heldFor(f.supplier.address)).to.equal(0n);
        },
      };
    },
  },
  {
    fn: "openCreditLineBySig",
    target: "financing",
    types: FINANCING_TYPES.OpenCreditLine,
    prepare: async (f) => {
      const terms = await lineTerms();
      const fin = f.financing.connect(f.outsider);
      return {
        signer: f.financier,
        message: { financier: f.financier.address, debtor: f.buyer.address, supplier: f.supplier.address, terms },
        direct: () => f.financing.connect(f.financier).openCreditLine(f.buyer.address, f.supplier.address, terms),
        relay: (auth) => fin.openCreditLineBySig(f.financier.address, f.buyer.address, f.supplier.address, terms, auth),
        tamper: (auth) =>
          fin.openCreditLineBySig(
            f.financier.address,
            f.buyer.address,
            f.supplier.address,
            { ...terms, limit: terms.limit * 2n },
            auth,
          ),
        state: async () => {
          const count = await f.financing.creditLineCount();
          return [count, count === 0n ? "none" : Array.from(await f.financing.creditLine(1))];
        },
        effect: async (tx) => {
          await expect(tx)
            .to.emit(f.financing, "CreditLineOpened")
            .withArgs(
              1n,
              f.financier.address,
              f.buyer.address,
              f.supplier.address,
              terms.limit,
              terms.maxAdvanceBps,
              terms.discountBps,
              terms.expiry,
            );
          const line = await f.financing.creditLine(1);
          expect(line.financier).to.equal(f.financier.address);
          expect(line.limit).to.equal(terms.limit);
          expect(line.open).to.equal(true);
        },
      };
    },
  },
  {
    fn: "updateCreditLineBySig",
    target: "financing",
    types: FINANCING_TYPES.UpdateCreditLine,
    prepare: async (f) => {
      const { lineId } = await openLine(f);
      const terms = await lineTerms({ limit: 7_000_000_00n, maxAdvanceBps: 8_000n, discountBps: 300n });
      const fin = f.financing.connect(f.outsider);
      return {
        signer: f.financier,
        message: { financier: f.financier.address, lineId, terms },
        direct: () => f.financing.connect(f.financier).updateCreditLine(lineId, terms),
        relay: (auth) => fin.updateCreditLineBySig(f.financier.address, lineId, terms, auth),
        tamper: (auth) =>
          fin.updateCreditLineBySig(f.financier.address, lineId, { ...terms, maxAdvanceBps: 10_000n }, auth),
        state: async () => Array.from(await f.financing.creditLine(lineId)),
        effect: async (tx) => {
          await expect(tx)
            .to.emit(f.financing, "CreditLineUpdated")
            .withArgs(lineId, terms.limit, terms.maxAdvanceBps, terms.discountBps, terms.expiry);
          const line = await f.financing.creditLine(lineId);
          expect([line.limit, line.maxAdvanceBps, line.discountBps, line.expiry]).to.deep.equal([
            terms.limit,
            terms.maxAdvanceBps,
            terms.discountBps,
            terms.expiry,
          ]);
        },
      };
    },
  },
  {
    fn: "closeCreditLineBySig",
    target: "financing",
    types: FINANCING_TYPES.CloseCreditLine,
    prepare: async (f) => {
      const { lineId } = await openLine(f);
      const other = await openLine(f);
      const fin = f.financing.connect(f.outsider);
      return {
        signer: f.financier,
        message: { financier: f.financier.address, lineId },
        direct: () => f.financing.connect(f.financier).closeCreditLine(lineId),
        relay: (auth) => fin.closeCreditLineBySig(f.financier.address, lineId, auth),
        tamper: (auth) => fin.closeCreditLineBySig(f.financier.address, other.lineId, auth),
        state: async () => [
          (await f.financing.creditLine(lineId)).open,
          (await f.financing.creditLine(other.lineId)).open,
        ],
        effect: async (tx) => {
          await expect(tx).to.emit(f.financing, "CreditLineClosed").withArgs(lineId);
          expect((await f.financing.creditLine(lineId)).open).to.equal(false);
          expect((await f.financing.creditLine(other.lineId)).open).to.equal(true);
        },
      };
    },
  },
  {
    fn: "requestFinancingBySig",
    target: "financing",
    types: FINANCING_TYPES.RequestFinancing,
    prepare: async (f) => {
      const { lineId } = await openLine(f);
      const { id } = await accepted(f);
      const fin = f.financing.connect(f.outsider);
      const terms = await requestTerms(lineId, { minPaid: 1_000n, maxDiscount: 2_000n });
      return {
        signer: f.supplier,
        message: { supplier: f.supplier.address, receivableId: id, terms },
        direct: () => f.financing.connect(f.supplier).requestFinancing(id, terms),
        relay: (auth) => fin.requestFinancingBySig(f.supplier.address, id, terms, auth),
        tamper: (auth) => fin.requestFinancingBySig(f.supplier.address, id, { ...terms, minPaid: 0n }, auth),
        state: async () => Array.from(await f.financing.financing(id)),
        effect: async (tx) => {
          await expect(tx)
            .to.emit(f.financing, "FinancingRequested")
            .withArgs(id, lineId, f.supplier.address, terms.minPaid, terms.maxDiscount, terms.expiresAt);
          const fv = await f.financing.financing(id);
          expect([fv.status, fv.supplier, fv.lineId]).to.deep.equal([FStatus.Requested, f.supplier.address, lineId]);
        },
      };
    },
  },
  {
    fn: "withdrawFinancingRequestBySig",
    target: "financing",
    types: FINANCING_TYPES.WithdrawFinancingRequest,
    prepare: async (f) => {
      const { lineId } = await openLine(f);
      const { id } = await requested(f, lineId);
      const other = await requested(f, lineId);
      const fin = f.financing.connect(f.outsider);
      return {
        signer: f.supplier,
        message: { supplier: f.supplier.address, receivableId: id },
        direct: () => f.financing.connect(f.supplier).withdrawFinancingRequest(id),
        relay: (auth) => fin.withdrawFinancingRequestBySig(f.supplier.address, id, auth),
        tamper: (auth) => fin.withdrawFinancingRequestBySig(f.supplier.address, other.id, auth),
        state: async () => [Array.from(await f.financing.financing(id)), Array.from(await f.financing.financing(other.id))],
        effect: async (tx) => {
          await expect(tx).to.emit(f.financing, "FinancingWithdrawn").withArgs(id, lineId, f.supplier.address);
          expect((await f.financing.financing(id)).status).to.equal(FStatus.Withdrawn);
          expect((await f.financing.financing(other.id)).status).to.equal(FStatus.Requested);
        },
      };
    },
  },
  {
    fn: "approveFinancingBySig",
    target: "financing",
    types: FINANCING_TYPES.ApproveFinancing,
    prepare: async (f) => {
      const { lineId } = await openLine(f);
      const { id } = await requested(f, lineId);
      const other = await requested(f, lineId);
      const fin = f.financing.connect(f.outsider);
      const balances = async () =>
        Promise.all([f.financier, f.supplier, f.outsider].map((w) => f.token.balanceOf(w.address)));
      const approval = await approvalFor(f, id);
      const { advance, paid } = approval;
      return {
        signer: f.financier,
        message: { financier: f.financier.address, receivableId: id, approval },
        direct: () => f.financing.connect(f.financier).approveFinancing(id, approval),
        relay: (auth) => fin.approveFinancingBySig(f.financier.address, id, approval, auth),
        tamper: (auth) => fin.approveFinancingBySig(f.financier.address, id, { ...approval, paid: paid - 1n }, auth),
        state: async () => [
          Array.from(await f.financing.financing(id)),
          Array.from(await f.financing.financing(other.id)),
          (await f.financing.creditLine(lineId)).utilised,
          await readReceivable(f, id),
          await balances(),
        ],
        effect: async (tx) => {
          await expect(tx)
            .to.emit(f.financing, "FinancingApproved")
            .withArgs(id, lineId, f.financier.address, f.supplier.address, advance, paid, REGISTRATION);
          await expect(tx)
            .to.emit(f.receivables, "ReceivableAssigned")
            .withArgs(id, f.supplier.address, f.financier.address);
          await expect(tx).to.changeTokenBalances(f.token, [f.financier, f.supplier, f.outsider], [-paid, paid, 0n]);
          expect(await f.receivables.ownerOf(id)).to.equal(f.financier.address);
          expect((await f.financing.creditLine(lineId)).utilised).to.equal(advance);
          expect((await f.financing.financing(id)).status).to.equal(FStatus.Active);
          expect((await f.financing.financing(other.id)).status).to.equal(FStatus.Requested);
        },
      };
    },
  },
  {
    fn: "rejectFinancingBySig",
    target: "financing",
    types: FINANCING_TYPES.RejectFinancing,
    prepare: async (f) => {
      const { lineId } = await openLine(f);
      const { id } = await requested(f, lineId);
      const fin = f.financing.connect(f.outsider);
      const otherReason = ethers.encodeBytes32String("OTHER");
      return {
        signer: f.financier,
        message: { financier: f.financier.address, receivableId: id, lineId, reasonCode: REASON },
        direct: () => f.financing.connect(f.financier).rejectFinancing(id, lineId, REASON),
        relay: (auth) => fin.rejectFinancingBySig(f.financier.address, id, lineId, REASON, auth),
        tamper: (auth) => fin.rejectFinancingBySig(f.financier.address, id, lineId, otherReason, auth),
        state: async () => Array.from(await f.financing.financing(id)),
        effect: async (tx) => {
          await expect(tx).to.emit(f.financing, "FinancingRejected").withArgs(id, lineId, REASON);
          expect((await f.financing.financing(id)).status).to.equal(FStatus.Rejected);
        },
      };
    },
  },
  {
    fn: "writeOffBySig",
    target: "financing",
    types: FINANCING_TYPES.WriteOff,
    prepare: async (f) => {
      const { lineId } = await openLine(f);
      const a = await requested(f, lineId);
      const b = await requested(f, lineId);
      await f.financing.connect(f.financier).approveFinancing(a.id, await approvalFor(f, a.id));
      await f.financing.connect(f.financier).approveFinancing(b.id, await approvalFor(f, b.id));
      const principal = (await f.financing.financing(a.id)).principal;
      await time.increaseTo(BigInt(b.inv.dueDate) + GRACE_PERIOD + 1n);
      await f.receivables.connect(f.financier).markDefaulted(a.id);
      await f.receivables.connect(f.financier).markDefaulted(b.id);
      const utilisedBefore = (await f.financing.creditLine(lineId)).utilised;
      const fin = f.financing.connect(f.outsider);
      return {
        signer: f.financier,
        message: { financier: f.financier.address, receivableId: a.id },
        direct: () => f.financing.connect(f.financier).writeOff(a.id),
        relay: (auth) => fin.writeOffBySig(f.financier.address, a.id, auth),
        tamper: (auth) => fin.writeOffBySig(f.financier.address, b.id, auth),
        state: async () => [
          Array.from(await f.financing.financing(a.id)),
          Array.from(await f.financing.financing(b.id)),
          (await f.financing.creditLine(lineId)).utilised,
        ],
        effect: async (tx) => {
          await expect(tx).to.emit(f.financing, "FinancingWrittenOff").withArgs(a.id, lineId, principal);
          expect((await f.financing.financing(a.id)).status).to.equal(FStatus.WrittenOff);
          expect((await f.financing.financing(b.id)).status).to.equal(FStatus.Active);
          expect((await f.financing.creditLine(lineId)).utilised).to.equal(utilisedBefore - principal);
        },
      };
    },
  },
];

/** The table's nonce: arbitrary and far from 0 (word 3, bit 9), so nothing assumes nonces run in sequence. */
const NONCE = 777n;
const MAX_UINT256 = 2n ** 256n - 1n;

interface SignOptions {
  by?: HardhatEthersSigner;
  deadline?: bigint;
  nonce?: bigint;
  domain?: Partial<Domain>;
}

/** Signs `p`'s act (by default: its signer, nonce NONCE, one-hour deadline, the contract's own domain). */
async function signCase(f: LedgerFixture, c: ActCase, p: Prepared, opts: SignOptions = {}) {
  const dl = opts.deadline ?? (await deadline());
  const nonce = opts.nonce ?? NONCE;
  const domain = { ...(await domainOf(f, c.target)), chainId: await chainId(), ...opts.domain };
  const value = { ...p.message, nonce, deadline: dl };
  const signature = await signAct(opts.by ?? p.signer, domain, c.types, value);
  const digest = ethers.TypedDataEncoder.hash(domain, c.types, value);
  const auth: Auth = { nonce, deadline: dl, signature };
  return { auth, deadline: dl, signature, digest, nonce };
}

function contractOf(f: LedgerFixture, c: ActCase) {
  return c.target === "receivables" ? f.receivables : f.financing;
}

function otherTarget(target: Target): Target {
  return target === "receivables" ? "financing" : "receivables";
}

/** The signer's bitmap words holding `nonces`, to compare before and after a refusal. */
function wordsOf(f: LedgerFixture, c: ActCase, p: Prepared, nonces: bigint[]): Promise<bigint[]> {
  return Promise.all(nonces.map((n) => nonceBitmap(f, c.target, p.signer.address, wordOf(n))));
}

/**
 * Asserts `tx` reverts with SignedActionInvalidSignature(signer) and leaves the act's state as it was
 * and every nonce in `nonces` unused (an invalid signature never consumes a nonce).
 */
async function expectInvalid(
  f: LedgerFixture,
  c: ActCase,
  p: Prepared,
  tx: () => Promise<ContractTransactionResponse>,
  nonces: bigint[] = [NONCE],
) {
  const before = await p.state();
  const words = await wordsOf(f, c, p, nonces);
  await expect(tx())
    .to.be.revertedWithCustomError(contractOf(f, c), "SignedActionInvalidSignature")
    .withArgs(p.signer.address);
  expect(await p.state()).to.deep.equal(before);
  expect(await wordsOf(f, c, p, nonces)).to.deep.equal(words);
  for (const n of nonces) expect(await isNonceUsed(f, c.target, p.signer.address, n), `nonce ${n}`).to.equal(false);
}

/** Asserts `tx` reverts with SignedActionNonceUsed(signer, nonce) and leaves the act's state and the bitmap as they were. */
async function expectNonceUsed(
  f: LedgerFixture,
  c: ActCase,
  p: Prepared,
  tx: () => Promise<ContractTransactionResponse>,
  nonce: bigint,
) {
  const before = await p.state();
  const words = await wordsOf(f, c, p, [nonce]);
  expect(await isNonceUsed(f, c.target, p.signer.address, nonce)).to.equal(true);
  await expect(tx())
    .to.be.revertedWithCustomError(contractOf(f, c), "SignedActionNonceUsed")
    .withArgs(p.signer.address, nonce);
  expect(await p.state()).to.deep.equal(before);
  expect(await wordsOf(f, c, p, [nonce])).to.deep.equal(words);
}

// ------------------------------------------------------------------ the table

describe("Signed actions", function () {
  for (const c of ACTS) {
    describe(`.${c.fn}()`, function () {
      describe("when a non-member relays the participant's signature", function () {
        it("takes effect exactly as the direct call, attributed to the signer, and marks the signer's nonce used", async function () {
          const f = await loadFixture(ledgerFixture);
          const p = await c.prepare(f);
          const { auth } = await signCase(f, c, p);
          const stateBefore = await p.state();
          const at = BigInt(await time.latest()) + 100n;

          const snapshot = await takeSnapshot();
          await time.setNextBlockTimestamp(at);
          const directLogs = logsOf(await (await p.direct()).wait());
          const directState = await p.state();
          // The direct act uses no nonce.
          expect(await nonceBitmap(f, c.target, p.signer.address, wordOf(NONCE))).to.equal(0n);
          await snapshot.restore();

          expect(await isNonceUsed(f, c.target, p.signer.address, NONCE)).to.equal(false);
          await time.setNextBlockTimestamp(at);
          const tx = await p.relay(auth);
          expect(logsOf(await tx.wait())).to.deep.equal(directLogs);
          expect(directState).to.not.deep.equal(stateBefore);
          expect(await p.state()).to.deep.equal(directState);
          await p.effect(tx);
          // Exactly the signed nonce is used: one bit of one word.
          expect(await isNonceUsed(f, c.target, p.signer.address, NONCE)).to.equal(true);
          expect(await nonceBitmap(f, c.target, p.signer.address, wordOf(NONCE))).to.equal(bitOf(NONCE));
          expect(await isNonceUsed(f, c.target, p.signer.address, NONCE - 1n)).to.equal(false);
          expect(await isNonceUsed(f, c.target, p.signer.address, NONCE + 1n)).to.equal(false);
          expect(await nonceBitmap(f, c.target, p.signer.address, 0n)).to.equal(0n);
          // Neither the relayer's nonces nor the signer's on the other contract are touched.
          expect(await isNonceUsed(f, c.target, f.outsider.address, NONCE)).to.equal(false);
          expect(await nonceBitmap(f, c.target, f.outsider.address, wordOf(NONCE))).to.equal(0n);
          expect(await nonceBitmap(f, otherTarget(c.target), p.signer.address, wordOf(NONCE))).to.equal(0n);
        });
      });

      describe("when the same signature is relayed a second time", function () {
        it("reverts with SignedActionNonceUsed(signer, nonce)", async function () {
          const f = await loadFixture(ledgerFixture);
          const p = await c.prepare(f);
          const { auth } = await signCase(f, c, p);
          await p.relay(auth);
          await expectNonceUsed(f, c, p, () => p.relay(auth), NONCE);
        });
      });

      describe("when the signer invalidated the signed nonce before the relay", function () {
        it("reverts with SignedActionNonceUsed(signer, nonce); the act re-signed with an unused nonce relays", async function () {
          const f = await loadFixture(ledgerFixture);
          const p = await c.prepare(f);
          const { auth } = await signCase(f, c, p);
          await expect(contractOf(f, c).connect(p.signer).invalidateNonce(NONCE))
            .to.emit(contractOf(f, c), "NonceInvalidated")
            .withArgs(p.signer.address, NONCE);
          await expectNonceUsed(f, c, p, () => p.relay(auth), NONCE);
          const fresh = await signCase(f, c, p, { nonce: NONCE + 1n });
          await p.effect(await p.relay(fresh.auth));
          expect(await nonceBitmap(f, c.target, p.signer.address, wordOf(NONCE))).to.equal(
            bitOf(NONCE) | bitOf(NONCE + 1n),
          );
        });
      });

      describe("when the deadline has passed", function () {
        it("reverts with SignedActionExpired(deadline, block time)", async function () {
          const f = await loadFixture(ledgerFixture);
          const p = await c.prepare(f);
          const dl = BigInt(await time.latest()) + 10n;
          const { auth } = await signCase(f, c, p, { deadline: dl });
          const before = await p.state();
          await time.setNextBlockTimestamp(dl + 1n);
          await expect(p.relay(auth))
            .to.be.revertedWithCustomError(contractOf(f, c), "SignedActionExpired")
            .withArgs(dl, dl + 1n);
          expect(await p.state()).to.deep.equal(before);
          expect(await isNonceUsed(f, c.target, p.signer.address, NONCE)).to.equal(false);
        });

        it("still works in the block whose time equals the deadline", async function () {
          const f = await loadFixture(ledgerFixture);
          const p = await c.prepare(f);
          const dl = BigInt(await time.latest()) + 10n;
          const { auth } = await signCase(f, c, p, { deadline: dl });
          await time.setNextBlockTimestamp(dl);
          await p.effect(await p.relay(auth));
          expect(await isNonceUsed(f, c.target, p.signer.address, NONCE)).to.equal(true);
        });
      });

      describe("when the domain names another chain id", function () {
        it("reverts with SignedActionInvalidSignature", async function () {
          const f = await loadFixture(ledgerFixture);
          const p = await c.prepare(f);
          const { auth } = await signCase(f, c, p, { domain: { chainId: 1n } });
          await expectInvalid(f, c, p, () => p.relay(auth));
        });
      });

      describe("when the domain names another verifying contract", function () {
        it("reverts with SignedActionInvalidSignature", async function () {
          const f = await loadFixture(ledgerFixture);
          const p = await c.prepare(f);
          const elsewhere = await contractAddress(f, otherTarget(c.target));
          const { auth } = await signCase(f, c, p, { domain: { verifyingContract: elsewhere } });
          await expectInvalid(f, c, p, () => p.relay(auth));
        });
      });

      describe("when another key signed the act in the participant's name", function () {
        it("reverts with SignedActionInvalidSignature(participant)", async function () {
          const f = await loadFixture(ledgerFixture);
          const p = await c.prepare(f);
          const { auth } = await signCase(f, c, p, { by: f.outsider });
          await expectInvalid(f, c, p, () => p.relay(auth));
          expect(await isNonceUsed(f, c.target, f.outsider.address, NONCE)).to.equal(false);
        });
      });

      describe("when a signed field is changed after signing", function () {
        it("reverts with SignedActionInvalidSignature", async function () {
          const f = await loadFixture(ledgerFixture);
          const p = await c.prepare(f);
          const { auth, deadline: dl } = await signCase(f, c, p);
          await expectInvalid(f, c, p, () => p.tamper(auth));
          await expectInvalid(f, c, p, () => p.relay({ ...auth, deadline: dl + 1n }));
        });
      });

      describe("when relayed with a nonce other than the one signed", function () {
        it("reverts with SignedActionInvalidSignature because the nonce is part of the signed struct", async function () {
          const f = await loadFixture(ledgerFixture);
          const p = await c.prepare(f);
          const { auth } = await signCase(f, c, p);
          for (const other of [NONCE + 1n, NONCE - 1n, 0n]) {
            await expectInvalid(f, c, p, () => p.relay({ ...auth, nonce: other }), [NONCE, other]);
          }
          // With the nonce it was signed over, the same signature relays.
          await p.effect(await p.relay(auth));
        });
      });

      describe("when the signature is the malleable twin (n - s, v flipped) of a valid one", function () {
        it("reverts with SignedActionInvalidSignature, and the original still works", async function () {
          const f = await loadFixture(ledgerFixture);
          const p = await c.prepare(f);
          const { auth, signature, digest } = await signCase(f, c, p);
          const twin = malleableTwin(signature);
          // A genuine twin: the bare precompile recovers the signer from it.
          expect(await ecrecover(digest, twin)).to.equal(p.signer.address);
          expect(await ecrecover(digest, signature)).to.equal(p.signer.address);
          await expectInvalid(f, c, p, () => p.relay({ ...auth, signature: twin }));
          await p.effect(await p.relay(auth));
        });
      });
    });
  }

  // ---------------------------------------------------------------- beyond the table

  describe(".tokeniseBySig() across deployments", function () {
    async function twoLedgersFixture() {
      const f = await ledgerFixture();
      const other = await deployLedger(f.admin, {
        admin: f.admin.address,
        onboardingOperator: f.operator.address,
        complianceOfficer: f.officer.address,
        issuer: f.issuer.address,
      });
      const kycExpiry = BigInt(await time.latest()) + 2n * YEAR;
      for (const [who, roles] of [
        [f.supplier, ROLE_BITS.supplier],
        [f.buyer, ROLE_BITS.buyer],
      ] as const) {
        await other.registry
          .connect(f.operator)
          .register(who.address, roles, kycExpiry, JURISDICTION_CN, entityIdHash(who.address));
      }
      return { f, other };
    }

    describe("when a signature for one Receivables deployment is relayed to a second one", function () {
      it("reverts with SignedActionInvalidSignature on the second, though the nonce is unused there too", async function () {
        const { f, other } = await loadFixture(twoLedgersFixture);
        const { inv, id } = await invoiceAndId(f.buyer.address);
        const dl = await deadline();
        expect(await other.receivables.isNonceUsed(f.supplier.address, 0n)).to.equal(false);
        expect(await f.receivables.isNonceUsed(f.supplier.address, 0n)).to.equal(false);
        const signature = await signAct(
          f.supplier,
          { ...RECEIVABLES_DOMAIN, verifyingContract: await f.receivables.getAddress() },
          RECEIVABLES_TYPES.Tokenise,
          { seller: f.supplier.address, invoice: inv, nonce: 0n, deadline: dl },
        );
        const auth: Auth = { nonce: 0n, deadline: dl, signature };
        await expect(other.receivables.connect(f.outsider).tokeniseBySig(f.supplier.address, inv, await attest(f, f.supplier.address, inv), auth))
          .to.be.revertedWithCustomError(other.receivables, "SignedActionInvalidSignature")
          .withArgs(f.supplier.address);
        await expect(other.receivables.receivable(id))
          .to.be.revertedWithCustomError(other.receivables, "ReceivableNotFound")
          .withArgs(id);
        expect(await other.receivables.isNonceUsed(f.supplier.address, 0n)).to.equal(false);
        // The same signature is good where it was meant to go, and uses the nonce there only.
        await expect(f.receivables.connect(f.outsider).tokeniseBySig(f.supplier.address, inv, await attest(f, f.supplier.address, inv), auth))
          .to.emit(f.receivables, "ReceivableTokenised")
          .withArgs(id, f.supplier.address, f.buyer.address, inv.faceValue, inv.dueDate, inv.documentHash, inv.fingerprint);
        expect(await f.receivables.isNonceUsed(f.supplier.address, 0n)).to.equal(true);
        expect(await other.receivables.isNonceUsed(f.supplier.address, 0n)).to.equal(false);
      });
    });

    describe("when a signature for one Financing deployment is relayed to a second one", function () {
      it("reverts approveFinancingBySig with SignedActionInvalidSignature", async function () {
        const { f, other } = await loadFixture(twoLedgersFixture);
        const dl = await deadline();
        await other.registry
          .connect(f.operator)
          .register(
            f.financier.address,
            ROLE_BITS.financier,
            BigInt(await time.latest()) + YEAR,
            JURISDICTION_CN,
            entityIdHash(f.financier.address),
          );
        const { lineId } = await openLine(f);
        const { id } = await requested(f, lineId);
        const approval = await approvalFor(f, id);
        // Sign for the second deployment, relay to the first.
        const signature = await signAct(
          f.financier,
          { ...FINANCING_DOMAIN, verifyingContract: await other.financing.getAddress() },
          FINANCING_TYPES.ApproveFinancing,
          { financier: f.financier.address, receivableId: id, approval, nonce: 0n, deadline: dl },
        );
        await expect(
          f.financing
            .connect(f.outsider)
            .approveFinancingBySig(f.financier.address, id, approval, { nonce: 0n, deadline: dl, signature }),
        )
          .to.be.revertedWithCustomError(f.financing, "SignedActionInvalidSignature")
          .withArgs(f.financier.address);
        expect((await f.financing.financing(id)).status).to.equal(FStatus.Requested);
        expect(await f.receivables.ownerOf(id)).to.equal(f.supplier.address);
        expect(await f.financing.isNonceUsed(f.financier.address, 0n)).to.equal(false);
      });
    });
  });

  describe(".tokeniseBySig() and the seller's ERC-721 balance", function () {
    describe("when the relayed receivable is accepted and then transferred", function () {
      it("leaves the seller with 0 and the recipient with 1", async function () {
        const f = await loadFixture(ledgerFixture);
        const { inv, id } = await invoiceAndId(f.buyer.address);
        const dl = await deadline();
        const signature = await signAct(
          f.supplier,
          { ...RECEIVABLES_DOMAIN, verifyingContract: await f.receivables.getAddress() },
          RECEIVABLES_TYPES.Tokenise,
          { seller: f.supplier.address, invoice: inv, nonce: 0n, deadline: dl },
        );
        await f.receivables
          .connect(f.outsider)
          .tokeniseBySig(f.supplier.address, inv, await attest(f, f.supplier.address, inv), { nonce: 0n, deadline: dl, signature });
        await accept(f, f.buyer, id);
        await f.receivables.connect(f.supplier).transferFrom(f.supplier.address, f.supplier2.address, id);
        expect(await f.receivables.ownerOf(id)).to.equal(f.supplier2.address);
        expect(await f.receivables.balanceOf(f.supplier2.address)).to.equal(1n);
        expect(await f.receivables.balanceOf(f.supplier.address)).to.equal(0n);
      });
    });
  });

  describe("unordered nonces", function () {
    async function receivablesDomain(f: LedgerFixture): Promise<Domain> {
      return { ...RECEIVABLES_DOMAIN, verifyingContract: await f.receivables.getAddress() };
    }

    /** `seller`'s signed tokenisation of `inv` with `nonce`, ready to relay. */
    async function signedTokenise(
      f: LedgerFixture,
      seller: HardhatEthersSigner,
      inv: IReceivables.InvoiceStruct,
      nonce: bigint,
      dl: bigint,
    ): Promise<Auth> {
      const signature = await signAct(seller, await receivablesDomain(f), RECEIVABLES_TYPES.Tokenise, {
        seller: seller.address,
        invoice: inv,
        nonce,
        deadline: dl,
      });
      return { nonce, deadline: dl, signature };
    }

    function expectTokenised(
      f: LedgerFixture,
      tx: Promise<ContractTransactionResponse>,
      seller: string,
      r: { inv: IReceivables.InvoiceStruct; id: bigint },
    ) {
      return expect(tx)
        .to.emit(f.receivables, "ReceivableTokenised")
        .withArgs(r.id, seller, r.inv.debtor, r.inv.faceValue, r.inv.dueDate, r.inv.documentHash, r.inv.fingerprint);
    }

    describe("when two different acts were signed with the same nonce", function () {
      it("relays the first, refuses the second with SignedActionNonceUsed(signer, nonce), and the second re-signed with another nonce relays", async function () {
        const f = await loadFixture(ledgerFixture);
        const dl = await deadline();
        const first = await invoiceAndId(f.buyer.address);
        const second = await invoiceAndId(f.buyer.address);
        const auth1 = await signedTokenise(f, f.supplier, first.inv, 0n, dl);
        const auth2 = await signedTokenise(f, f.supplier, second.inv, 0n, dl);
        const relayer = f.receivables.connect(f.outsider);
        await expectTokenised(
          f,
          relayer.tokeniseBySig(f.supplier.address, first.inv, await attest(f, f.supplier.address, first.inv), auth1),
          f.supplier.address,
          first,
        );
        await expect(relayer.tokeniseBySig(f.supplier.address, second.inv, await attest(f, f.supplier.address, second.inv), auth2))
          .to.be.revertedWithCustomError(f.receivables, "SignedActionNonceUsed")
          .withArgs(f.supplier.address, 0n);
        await expect(f.receivables.receivable(second.id))
          .to.be.revertedWithCustomError(f.receivables, "ReceivableNotFound")
          .withArgs(second.id);
        expect(await f.receivables.nonceBitmap(f.supplier.address, 0n)).to.equal(1n);

        const again = await signedTokenise(f, f.supplier, second.inv, 1n, dl);
        await expectTokenised(
          f,
          relayer.tokeniseBySig(f.supplier.address, second.inv, await attest(f, f.supplier.address, second.inv), again),
          f.supplier.address,
          second,
        );
        expect(await f.receivables.nonceBitmap(f.supplier.address, 0n)).to.equal(0b11n);
        expect(await f.receivables.balanceOf(f.supplier.address)).to.equal(2n);
      });
    });

    describe("when acts were signed with nonces 5, 2 and 9", function () {
      const permutations: bigint[][] = [
        [5n, 2n, 9n],
        [5n, 9n, 2n],
        [2n, 5n, 9n],
        [2n, 9n, 5n],
        [9n, 5n, 2n],
        [9n, 2n, 5n],
      ];
      for (const order of permutations) {
        it(`relays them in the order ${order.join(", ")}, setting exactly their bits`, async function () {
          const f = await loadFixture(ledgerFixture);
          const dl = await deadline();
          const signed = new Map<bigint, { r: { inv: IReceivables.InvoiceStruct; id: bigint }; auth: Auth }>();
          for (const nonce of [5n, 2n, 9n]) {
            const r = await invoiceAndId(f.buyer.address);
            signed.set(nonce, { r, auth: await signedTokenise(f, f.supplier, r.inv, nonce, dl) });
          }
          let expected = 0n;
          for (const nonce of order) {
            const { r, auth } = signed.get(nonce)!;
            await expectTokenised(
              f,
              f.receivables.connect(f.outsider).tokeniseBySig(f.supplier.address, r.inv, await attest(f, f.supplier.address, r.inv), auth),
              f.supplier.address,
              r,
            );
            expected |= 1n << nonce;
            expect(await f.receivables.nonceBitmap(f.supplier.address, 0n)).to.equal(expected);
          }
          expect(expected).to.equal((1n << 2n) | (1n << 5n) | (1n << 9n));
          for (let n = 0n; n <= 10n; n++) {
            expect(await f.receivables.isNonceUsed(f.supplier.address, n), `nonce ${n}`).to.equal(
              [2n, 5n, 9n].includes(n),
            );
          }
          for (const { r } of signed.values()) expect(await f.receivables.ownerOf(r.id)).to.equal(f.supplier.address);
          expect(await f.receivables.balanceOf(f.supplier.address)).to.equal(3n);
        });
      }
    });

    describe("when two signers use the same nonce value", function () {
      it("relays both: each signer's nonces are its own", async function () {
        const f = await loadFixture(ledgerFixture);
        const dl = await deadline();
        const a = await invoiceAndId(f.buyer.address);
        const b = await invoiceAndId(f.buyer.address);
        const authA = await signedTokenise(f, f.supplier, a.inv, 7n, dl);
        const authB = await signedTokenise(f, f.supplier2, b.inv, 7n, dl);
        const relayer = f.receivables.connect(f.outsider);
        await expectTokenised(f, relayer.tokeniseBySig(f.supplier.address, a.inv, await attest(f, f.supplier.address, a.inv), authA), f.supplier.address, a);
        expect(await f.receivables.isNonceUsed(f.supplier.address, 7n)).to.equal(true);
        expect(await f.receivables.isNonceUsed(f.supplier2.address, 7n)).to.equal(false);
        await expectTokenised(f, relayer.tokeniseBySig(f.supplier2.address, b.inv, await attest(f, f.supplier2.address, b.inv), authB), f.supplier2.address, b);
        expect(await f.receivables.nonceBitmap(f.supplier.address, 0n)).to.equal(1n << 7n);
        expect(await f.receivables.nonceBitmap(f.supplier2.address, 0n)).to.equal(1n << 7n);
      });
    });

    describe("when an unused approval signature for one request is relayed onto a later request", function () {
      async function staleApprovalFixture() {
        const f = await loadFixture(ledgerFixture);
        const { lineId } = await openLine(f);
        const { id } = await requested(f, lineId);
        const approval = await approvalFor(f, id);
        const dl = await deadline();
        const signature = await signAct(
          f.financier,
          { ...FINANCING_DOMAIN, verifyingContract: await f.financing.getAddress() },
          FINANCING_TYPES.ApproveFinancing,
          { financier: f.financier.address, receivableId: id, approval, nonce: 3n, deadline: dl },
        );
        // The supplier withdraws before the signature is relayed.
        await f.financing.connect(f.supplier).withdrawFinancingRequest(id);
        return { f, lineId, id, approval, auth: { nonce: 3n, deadline: dl, signature } };
      }

      it("reverts with FinancingLineMismatch when the new request is on another of the financier's lines", async function () {
        const { f, lineId, id, approval, auth } = await staleApprovalFixture();
        const second = await openLine(f);
        await f.financing.connect(f.supplier).requestFinancing(id, await requestTerms(second.lineId));
        await expect(f.financing.connect(f.outsider).approveFinancingBySig(f.financier.address, id, approval, auth))
          .to.be.revertedWithCustomError(f.financing, "FinancingLineMismatch")
          .withArgs(id, lineId, second.lineId);
        expect(await f.financing.isNonceUsed(f.financier.address, 3n)).to.equal(false);
      });

      it("reverts with FinancingTermsNotMet when the new request on the same line asks for more", async function () {
        const { f, lineId, id, approval, auth } = await staleApprovalFixture();
        const terms = await requestTerms(lineId, { minPaid: approval.paid + 1n });
        await f.financing.connect(f.supplier).requestFinancing(id, terms);
        await expect(f.financing.connect(f.outsider).approveFinancingBySig(f.financier.address, id, approval, auth))
          .to.be.revertedWithCustomError(f.financing, "FinancingTermsNotMet")
          .withArgs(id, approval.paid, terms.minPaid, approval.advance - approval.paid, terms.maxDiscount);
      });

      it("reverts with SignedActionInvalidSignature when the approval's advance is changed to fit a new line", async function () {
        const { f, id, approval, auth } = await staleApprovalFixture();
        const second = await openLine(f);
        await f.financing.connect(f.supplier).requestFinancing(id, await requestTerms(second.lineId));
        await expect(
          f.financing
            .connect(f.outsider)
            .approveFinancingBySig(f.financier.address, id, { ...approval, lineId: second.lineId }, auth),
        )
          .to.be.revertedWithCustomError(f.financing, "SignedActionInvalidSignature")
          .withArgs(f.financier.address);
      });
    });

    describe("when a rejection signature names another line than the request's", function () {
      it("reverts with FinancingLineMismatch", async function () {
        const f = await loadFixture(ledgerFixture);
        const { lineId } = await openLine(f);
        const second = await openLine(f);
        const { id } = await requested(f, lineId);
        const dl = await deadline();
        const signature = await signAct(
          f.financier,
          { ...FINANCING_DOMAIN, verifyingContract: await f.financing.getAddress() },
          FINANCING_TYPES.RejectFinancing,
          { financier: f.financier.address, receivableId: id, lineId: second.lineId, reasonCode: REASON, nonce: 4n, deadline: dl },
        );
        await expect(
          f.financing
            .connect(f.outsider)
            .rejectFinancingBySig(f.financier.address, id, second.lineId, REASON, { nonce: 4n, deadline: dl, signature }),
        )
          .to.be.revertedWithCustomError(f.financing, "FinancingLineMismatch")
          .withArgs(id, second.lineId, lineId);
        expect((await f.financing.financing(id)).status).to.equal(FStatus.Requested);
      });
    });

    describe("when a signer uses the same nonce value on Receivables and on Financing", function () {
      it("relays both: each contract keeps its own bitmap", async function () {
        const f = await loadFixture(ledgerFixture);
        const dl = await deadline();
        const r = await invoiceAndId(f.buyer.address);
        await expectTokenised(
          f,
          f.receivables
            .connect(f.outsider)
            .tokeniseBySig(f.supplier.address, r.inv, await attest(f, f.supplier.address, r.inv), await signedTokenise(f, f.supplier, r.inv, 7n, dl)),
          f.supplier.address,
          r,
        );
        expect(await f.receivables.isNonceUsed(f.supplier.address, 7n)).to.equal(true);
        expect(await f.financing.isNonceUsed(f.supplier.address, 7n)).to.equal(false);
        await accept(f, f.buyer, r.id);
        const { lineId } = await openLine(f);
        const terms = await requestTerms(lineId);
        const signature = await signAct(
          f.supplier,
          { ...FINANCING_DOMAIN, verifyingContract: await f.financing.getAddress() },
          FINANCING_TYPES.RequestFinancing,
          { supplier: f.supplier.address, receivableId: r.id, terms, nonce: 7n, deadline: dl },
        );
        await expect(
          f.financing
            .connect(f.outsider)
            .requestFinancingBySig(f.supplier.address, r.id, terms, { nonce: 7n, deadline: dl, signature }),
        )
          .to.emit(f.financing, "FinancingRequested")
          .withArgs(r.id, lineId, f.supplier.address, terms.minPaid, terms.maxDiscount, terms.expiresAt);
        expect(await f.financing.nonceBitmap(f.supplier.address, 0n)).to.equal(1n << 7n);
        expect(await f.receivables.nonceBitmap(f.supplier.address, 0n)).to.equal(1n << 7n);
      });
    });

    describe("when nonces 0 and 255 are used, then 256", function () {
      it("sets bits 0 and 255 of word 0, and 256 starts word 1 at bit 0", async function () {
        const f = await loadFixture(ledgerFixture);
        const asSupplier = f.receivables.connect(f.supplier);
        await asSupplier.invalidateNonce(0n);
        await asSupplier.invalidateNonce(255n);
        const word0 = 1n | (1n << 255n);
        expect(await f.receivables.nonceBitmap(f.supplier.address, 0n)).to.equal(word0);
        expect(await f.receivables.nonceBitmap(f.supplier.address, 1n)).to.equal(0n);
        expect(await f.receivables.isNonceUsed(f.supplier.address, 256n)).to.equal(false);

        const r = await invoiceAndId(f.buyer.address);
        const auth = await signedTokenise(f, f.supplier, r.inv, 256n, await deadline());
        await expectTokenised(
          f,
          f.receivables.connect(f.outsider).tokeniseBySig(f.supplier.address, r.inv, await attest(f, f.supplier.address, r.inv), auth),
          f.supplier.address,
          r,
        );
        expect(await f.receivables.nonceBitmap(f.supplier.address, 0n)).to.equal(word0);
        expect(await f.receivables.nonceBitmap(f.supplier.address, 1n)).to.equal(1n);
        expect(await f.receivables.nonceBitmap(f.supplier.address, 2n)).to.equal(0n);
        for (const [n, used] of [
          [0n, true],
          [1n, false],
          [254n, false],
          [255n, true],
          [256n, true],
          [257n, false],
          [511n, false],
          [512n, false],
        ] as const) {
          expect(await f.receivables.isNonceUsed(f.supplier.address, n), `nonce ${n}`).to.equal(used);
        }
      });
    });

    describe("when the largest nonce (2^256 - 1) is used", function () {
      it("sets bit 255 of the last word, 2^248 - 1, and nothing else", async function () {
        const f = await loadFixture(ledgerFixture);
        const r = await invoiceAndId(f.buyer.address);
        const auth = await signedTokenise(f, f.supplier, r.inv, MAX_UINT256, await deadline());
        await expectTokenised(
          f,
          f.receivables.connect(f.outsider).tokeniseBySig(f.supplier.address, r.inv, await attest(f, f.supplier.address, r.inv), auth),
          f.supplier.address,
          r,
        );
        expect(await f.receivables.nonceBitmap(f.supplier.address, 2n ** 248n - 1n)).to.equal(1n << 255n);
        expect(await f.receivables.nonceBitmap(f.supplier.address, 0n)).to.equal(0n);
        expect(await f.receivables.isNonceUsed(f.supplier.address, MAX_UINT256)).to.equal(true);
        expect(await f.receivables.isNonceUsed(f.supplier.address, 255n)).to.equal(false);
        await expect(f.receivables.connect(f.outsider).tokeniseBySig(f.supplier.address, r.inv, await attest(f, f.supplier.address, r.inv), auth))
          .to.be.revertedWithCustomError(f.receivables, "SignedActionNonceUsed")
          .withArgs(f.supplier.address, MAX_UINT256);
      });
    });

    describe("when a signature is refused for a business rule after it verified", function () {
      it("leaves the nonce unused (the whole call reverts), so a valid act signed with it still relays", async function () {
        const f = await loadFixture(ledgerFixture);
        const { id } = await accepted(f);
        const dl = await deadline();
        const domain = await receivablesDomain(f);
        const payAuth = async (amount: bigint): Promise<Auth> => ({
          nonce: 3n,
          deadline: dl,
          signature: await signAct(f.buyer, domain, RECEIVABLES_TYPES.Pay, {
            debtor: f.buyer.address,
            receivableId: id,
            amount,
            nonce: 3n,
            deadline: dl,
          }),
        });
        const tooMuch = FACE + 1n;
        await expect(f.receivables.connect(f.outsider).payBySig(f.buyer.address, id, tooMuch, await payAuth(tooMuch)))
          .to.be.revertedWithCustomError(f.receivables, "ReceivableAmountExceedsOutstanding")
          .withArgs(id, tooMuch, FACE);
        expect(await f.receivables.isNonceUsed(f.buyer.address, 3n)).to.equal(false);
        expect(await f.receivables.nonceBitmap(f.buyer.address, 0n)).to.equal(0n);
        expect((await f.receivables.receivable(id)).outstanding).to.equal(FACE);

        await expect(f.receivables.connect(f.outsider).payBySig(f.buyer.address, id, FACE, await payAuth(FACE)))
          .to.emit(f.receivables, "ReceivablePaid")
          .withArgs(id, f.buyer.address, f.supplier.address, FACE, 0n);
        expect(await f.receivables.isNonceUsed(f.buyer.address, 3n)).to.equal(true);
      });
    });
  });

  describe(".invalidateNonce()", function () {
    describe("when a participant voids an unused nonce", function () {
      it("emits NonceInvalidated(caller, nonce) and marks only that nonce of the caller used, on that contract only", async function () {
        const f = await loadFixture(ledgerFixture);
        await expect(f.receivables.connect(f.supplier).invalidateNonce(300n))
          .to.emit(f.receivables, "NonceInvalidated")
          .withArgs(f.supplier.address, 300n);
        expect(await f.receivables.isNonceUsed(f.supplier.address, 300n)).to.equal(true);
        expect(await f.receivables.nonceBitmap(f.supplier.address, 1n)).to.equal(1n << 44n);
        expect(await f.receivables.nonceBitmap(f.supplier.address, 0n)).to.equal(0n);
        expect(await f.receivables.isNonceUsed(f.supplier.address, 299n)).to.equal(false);
        expect(await f.receivables.isNonceUsed(f.supplier.address, 301n)).to.equal(false);
        expect(await f.receivables.isNonceUsed(f.buyer.address, 300n)).to.equal(false);
        expect(await f.financing.isNonceUsed(f.supplier.address, 300n)).to.equal(false);

        await expect(f.financing.connect(f.financier).invalidateNonce(300n))
          .to.emit(f.financing, "NonceInvalidated")
          .withArgs(f.financier.address, 300n);
        expect(await f.financing.nonceBitmap(f.financier.address, 1n)).to.equal(1n << 44n);
        expect(await f.receivables.isNonceUsed(f.financier.address, 300n)).to.equal(false);
      });
    });

    describe("when the participant signed a tokenisation it no longer wants relayed", function () {
      it("voids the signed but unsent act: the relay reverts with SignedActionNonceUsed", async function () {
        const f = await loadFixture(ledgerFixture);
        const { inv, id } = await invoiceAndId(f.buyer.address);
        const dl = await deadline();
        const signature = await signAct(
          f.supplier,
          { ...RECEIVABLES_DOMAIN, verifyingContract: await f.receivables.getAddress() },
          RECEIVABLES_TYPES.Tokenise,
          { seller: f.supplier.address, invoice: inv, nonce: 12n, deadline: dl },
        );
        await expect(f.receivables.connect(f.supplier).invalidateNonce(12n))
          .to.emit(f.receivables, "NonceInvalidated")
          .withArgs(f.supplier.address, 12n);
        await expect(
          f.receivables
            .connect(f.outsider)
            .tokeniseBySig(f.supplier.address, inv, await attest(f, f.supplier.address, inv), { nonce: 12n, deadline: dl, signature }),
        )
          .to.be.revertedWithCustomError(f.receivables, "SignedActionNonceUsed")
          .withArgs(f.supplier.address, 12n);
        await expect(f.receivables.receivable(id))
          .to.be.revertedWithCustomError(f.receivables, "ReceivableNotFound")
          .withArgs(id);
        expect(await f.receivables.balanceOf(f.supplier.address)).to.equal(0n);
      });
    });

    describe("when the nonce was already invalidated", function () {
      it("reverts with SignedActionNonceUsed(caller, nonce) and leaves the bitmap as it was", async function () {
        const f = await loadFixture(ledgerFixture);
        await f.receivables.connect(f.supplier).invalidateNonce(12n);
        await expect(f.receivables.connect(f.supplier).invalidateNonce(12n))
          .to.be.revertedWithCustomError(f.receivables, "SignedActionNonceUsed")
          .withArgs(f.supplier.address, 12n);
        expect(await f.receivables.nonceBitmap(f.supplier.address, 0n)).to.equal(1n << 12n);
        expect(await f.receivables.isNonceUsed(f.supplier.address, 12n)).to.equal(true);
      });
    });

    describe("when the nonce was used by a relayed act", function () {
      it("reverts with SignedActionNonceUsed(caller, nonce)", async function () {
        const f = await loadFixture(ledgerFixture);
        const { id } = await issued(f);
        const dl = await deadline();
        const signature = await signAct(
          f.buyer,
          { ...RECEIVABLES_DOMAIN, verifyingContract: await f.receivables.getAddress() },
          RECEIVABLES_TYPES.Accept,
          { debtor: f.buyer.address, receivableId: id, ...recordedTerms(id), nonce: 40n, deadline: dl },
        );
        await f.receivables
          .connect(f.outsider)
          .acceptBySig(f.buyer.address, id, recordedTerms(id), { nonce: 40n, deadline: dl, signature });
        await expect(f.receivables.connect(f.buyer).invalidateNonce(40n))
          .to.be.revertedWithCustomError(f.receivables, "SignedActionNonceUsed")
          .withArgs(f.buyer.address, 40n);
        expect(await f.receivables.nonceBitmap(f.buyer.address, 0n)).to.equal(1n << 40n);
      });
    });

    describe("when someone other than the signer calls it with the signer's nonce", function () {
      it("voids the caller's own nonce only: the signer's act still relays", async function () {
        const f = await loadFixture(ledgerFixture);
        const { inv, id } = await invoiceAndId(f.buyer.address);
        const dl = await deadline();
        const signature = await signAct(
          f.supplier,
          { ...RECEIVABLES_DOMAIN, verifyingContract: await f.receivables.getAddress() },
          RECEIVABLES_TYPES.Tokenise,
          { seller: f.supplier.address, invoice: inv, nonce: 12n, deadline: dl },
        );
        await expect(f.receivables.connect(f.outsider).invalidateNonce(12n))
          .to.emit(f.receivables, "NonceInvalidated")
          .withArgs(f.outsider.address, 12n);
        expect(await f.receivables.isNonceUsed(f.outsider.address, 12n)).to.equal(true);
        expect(await f.receivables.isNonceUsed(f.supplier.address, 12n)).to.equal(false);
        await expect(
          f.receivables
            .connect(f.outsider)
            .tokeniseBySig(f.supplier.address, inv, await attest(f, f.supplier.address, inv), { nonce: 12n, deadline: dl, signature }),
        )
          .to.emit(f.receivables, "ReceivableTokenised")
          .withArgs(id, f.supplier.address, f.buyer.address, inv.faceValue, inv.dueDate, inv.documentHash, inv.fingerprint);
        expect(await f.receivables.isNonceUsed(f.supplier.address, 12n)).to.equal(true);
      });
    });
  });

  describe(".eip712Domain()", function () {
    for (const [target, expected] of [
      ["receivables", RECEIVABLES_DOMAIN],
      ["financing", FINANCING_DOMAIN],
    ] as const) {
      describe(`when read from ${target === "receivables" ? "Receivables" : "Financing"}`, function () {
        it("matches the service's domain, the chain id and the contract address", async function () {
          const f = await loadFixture(ledgerFixture);
          const c = target === "receivables" ? f.receivables : f.financing;
          const d = await c.eip712Domain();
          expect(d.fields).to.equal("0x0f");
          expect(d.name).to.equal(expected.name);
          expect(d.version).to.equal(expected.version);
          expect(d.chainId).to.equal(await chainId());
          expect(d.verifyingContract).to.equal(await c.getAddress());
          expect(d.salt).to.equal(ethers.ZeroHash);
          expect(d.extensions).to.deep.equal([]);
        });
      });
    }
  });

  // ---------------------------------------------------------------- ERC-1271 contract wallets

  describe("ERC-1271 contract wallets", function () {
    /** Two 2-of-2 multisigs with the same owners: walletA a supplier, walletB a buyer (and supplier). */
    async function walletsFixture() {
      const f = await ledgerFixture();
      const owners = [1, 2]
        .map((i) => new ethers.Wallet(ethers.id(`scf multisig owner ${i}`)))
        .sort((a, b) => (BigInt(a.address) < BigInt(b.address) ? -1 : 1));
      const factory = new MultisigWallet__factory(f.admin);
      const walletA = await factory.deploy(
        owners.map((o) => o.address),
        2,
      );
      const walletB = await factory.deploy(
        owners.map((o) => o.address),
        2,
      );
      const kycExpiry = BigInt(await time.latest()) + YEAR;
      for (const [w, roles] of [
        [walletA, ROLE_BITS.supplier],
        [walletB, ROLE_BITS.buyer | ROLE_BITS.supplier],
      ] as const) {
        const a = await w.getAddress();
        await f.registry.connect(f.operator).register(a, roles, kycExpiry, JURISDICTION_CN, entityIdHash(a));
      }
      return { f, owners, walletA, walletB };
    }

    async function digestFor(f: LedgerFixture, types: Types, value: Record<string, unknown>) {
      const domain = {
        ...RECEIVABLES_DOMAIN,
        chainId: await chainId(),
        verifyingContract: await f.receivables.getAddress(),
      };
      return ethers.TypedDataEncoder.hash(domain, types, value);
    }

    function multisign(owners: Wallet[], digest: string): string {
      return ethers.concat(owners.map((o) => o.signingKey.sign(digest).serialized));
    }

    async function tokeniseDigest(
      f: LedgerFixture,
      wallet: MultisigWallet,
      inv: IReceivables.InvoiceStruct,
      dl: bigint,
      nonce = 0n,
    ) {
      return digestFor(f, RECEIVABLES_TYPES.Tokenise, {
        seller: await wallet.getAddress(),
        invoice: inv,
        nonce,
        deadline: dl,
      });
    }

    describe("when both owners of a supplier wallet signed the tokenisation", function () {
      it("tokenises for the wallet and uses the wallet's nonce", async function () {
        const { f, owners, walletA, walletB } = await loadFixture(walletsFixture);
        const a = await walletA.getAddress();
        const b = await walletB.getAddress();
        const { inv, id } = await invoiceAndId(b);
        const dl = await deadline();
        const signature = multisign(owners, await tokeniseDigest(f, walletA, inv, dl, 5n));
        await expect(f.receivables.connect(f.outsider).tokeniseBySig(a, inv, await attest(f, a, inv), { nonce: 5n, deadline: dl, signature }))
          .to.emit(f.receivables, "ReceivableTokenised")
          .withArgs(id, a, b, inv.faceValue, inv.dueDate, inv.documentHash, inv.fingerprint);
        expect(await f.receivables.ownerOf(id)).to.equal(a);
        expect(await f.receivables.balanceOf(a)).to.equal(1n);
        expect(await f.receivables.nonceBitmap(a, 0n)).to.equal(1n << 5n);
        expect(await f.receivables.nonceBitmap(b, 0n)).to.equal(0n);
        expect(await f.receivables.nonceBitmap(f.outsider.address, 0n)).to.equal(0n);
      });
    });

    describe("when both owners of a buyer wallet signed the acceptance", function () {
      it("accepts for the wallet, with the same nonce value wallet A used", async function () {
        const { f, owners, walletA, walletB } = await loadFixture(walletsFixture);
        const a = await walletA.getAddress();
        const b = await walletB.getAddress();
        const { inv, id } = await invoiceAndId(b);
        const dl = await deadline();
        await f.receivables
          .connect(f.outsider)
          .tokeniseBySig(a, inv, await attest(f, a, inv), {
            nonce: 0n,
            deadline: dl,
            signature: multisign(owners, await tokeniseDigest(f, walletA, inv, dl)),
          });
        const digest = await digestFor(f, RECEIVABLES_TYPES.Accept, {
          debtor: b,
          receivableId: id,
          ...recordedTerms(id),
          nonce: 0n,
          deadline: dl,
        });
        await expect(
          f.receivables
            .connect(f.outsider)
            .acceptBySig(b, id, recordedTerms(id), { nonce: 0n, deadline: dl, signature: multisign(owners, digest) }),
        )
          .to.emit(f.receivables, "ReceivableAccepted")
          .withArgs(id, b);
        expect((await f.receivables.receivable(id)).status).to.equal(RStatus.Accepted);
        expect(await f.receivables.isNonceUsed(a, 0n)).to.equal(true);
        expect(await f.receivables.isNonceUsed(b, 0n)).to.equal(true);
      });
    });

    describe("when only one owner signed", function () {
      it("reverts with SignedActionInvalidSignature(wallet)", async function () {
        const { f, owners, walletA } = await loadFixture(walletsFixture);
        const a = await walletA.getAddress();
        const { inv, id } = await invoiceAndId(f.buyer.address);
        const dl = await deadline();
        const digest = await tokeniseDigest(f, walletA, inv, dl);
        for (const owner of owners) {
          await expect(
            f.receivables
              .connect(f.outsider)
              .tokeniseBySig(a, inv, await attest(f, a, inv), { nonce: 0n, deadline: dl, signature: multisign([owner], digest) }),
          )
            .to.be.revertedWithCustomError(f.receivables, "SignedActionInvalidSignature")
            .withArgs(a);
        }
        // An owner's own EIP-712 signature (as an EOA) does not speak for the wallet either.
        const eoaSig = await owners[0].signTypedData(
          { ...RECEIVABLES_DOMAIN, chainId: await chainId(), verifyingContract: await f.receivables.getAddress() },
          RECEIVABLES_TYPES.Tokenise,
          { seller: a, invoice: inv, nonce: 0n, deadline: dl },
        );
        await expect(
          f.receivables.connect(f.outsider).tokeniseBySig(a, inv, await attest(f, a, inv), { nonce: 0n, deadline: dl, signature: eoaSig }),
        )
          .to.be.revertedWithCustomError(f.receivables, "SignedActionInvalidSignature")
          .withArgs(a);
        await expect(f.receivables.receivable(id))
          .to.be.revertedWithCustomError(f.receivables, "ReceivableNotFound")
          .withArgs(id);
        expect(await f.receivables.nonceBitmap(a, 0n)).to.equal(0n);
      });
    });

    describe("when wallet A's signed act is relayed as wallet B's, both wallets having the same owners", function () {
      it("reverts with SignedActionInvalidSignature(walletB) because the signer is part of the typed struct", async function () {
        const { f, owners, walletA, walletB } = await loadFixture(walletsFixture);
        const a = await walletA.getAddress();
        const b = await walletB.getAddress();
        // Both wallets are verified suppliers with nonce 0 unused: only the signer field tells the acts apart.
        expect(await f.registry.isVerified(b, ROLE_BITS.supplier)).to.equal(true);
        expect(await f.receivables.isNonceUsed(a, 0n)).to.equal(false);
        expect(await f.receivables.isNonceUsed(b, 0n)).to.equal(false);
        const { inv, id } = await invoiceAndId(f.buyer.address);
        const dl = await deadline();
        const authA: Auth = {
          nonce: 0n,
          deadline: dl,
          signature: multisign(owners, await tokeniseDigest(f, walletA, inv, dl)),
        };
        await expect(f.receivables.connect(f.outsider).tokeniseBySig(b, inv, await attest(f, b, inv), authA))
          .to.be.revertedWithCustomError(f.receivables, "SignedActionInvalidSignature")
          .withArgs(b);
        await expect(f.receivables.receivable(id))
          .to.be.revertedWithCustomError(f.receivables, "ReceivableNotFound")
          .withArgs(id);
        expect(await f.receivables.isNonceUsed(b, 0n)).to.equal(false);
        // The signature is valid for wallet A.
        await expect(f.receivables.connect(f.outsider).tokeniseBySig(a, inv, await attest(f, a, inv), authA))
          .to.emit(f.receivables, "ReceivableTokenised")
          .withArgs(id, a, f.buyer.address, inv.faceValue, inv.dueDate, inv.documentHash, inv.fingerprint);
        expect(await f.receivables.isNonceUsed(a, 0n)).to.equal(true);
        expect(await f.receivables.isNonceUsed(b, 0n)).to.equal(false);
      });
    });

    describe("when the wallet's signature is relayed a second time", function () {
      it("reverts with SignedActionNonceUsed(wallet, nonce)", async function () {
        const { f, owners, walletA } = await loadFixture(walletsFixture);
        const a = await walletA.getAddress();
        const { inv } = await invoiceAndId(f.buyer.address);
        const dl = await deadline();
        const auth: Auth = {
          nonce: 0n,
          deadline: dl,
          signature: multisign(owners, await tokeniseDigest(f, walletA, inv, dl)),
        };
        await f.receivables.connect(f.outsider).tokeniseBySig(a, inv, await attest(f, a, inv), auth);
        await expect(f.receivables.connect(f.outsider).tokeniseBySig(a, inv, await attest(f, a, inv), auth))
          .to.be.revertedWithCustomError(f.receivables, "SignedActionNonceUsed")
          .withArgs(a, 0n);
        expect(await f.receivables.balanceOf(a)).to.equal(1n);
      });
    });
  });

  describe("relayer funds", function () {
    describe("when the relayer holds no settlement tokens", function () {
      it("still relays a payment, which moves the debtor's tokens only", async function () {
        const f = await loadFixture(ledgerFixture);
        const { id } = await accepted(f);
        expect(await f.token.balanceOf(f.outsider.address)).to.equal(0n);
        const dl = await deadline();
        const signature = await signAct(
          f.buyer,
          { ...RECEIVABLES_DOMAIN, verifyingContract: await f.receivables.getAddress() },
          RECEIVABLES_TYPES.Pay,
          { debtor: f.buyer.address, receivableId: id, amount: FACE, nonce: 0n, deadline: dl },
        );
        await f.receivables
          .connect(f.outsider)
          .payBySig(f.buyer.address, id, FACE, { nonce: 0n, deadline: dl, signature });
        expect(await f.token.balanceOf(f.buyer.address)).to.equal(FUNDING - FACE);
        expect(await f.token.balanceOf(f.supplier.address)).to.equal(FACE);
        expect((await f.receivables.receivable(id)).status).to.equal(RStatus.Paid);
      });
    });
  });

  describe("hostile relays of tokenise and accept", function () {
    const sign = async (f: LedgerFixture, who: HardhatEthersSigner, types: Record<string, TypedDataField[]>, value: Record<string, unknown>) =>
      signAct(who, { ...RECEIVABLES_DOMAIN, verifyingContract: await f.receivables.getAddress() }, types, value);

    describe("when the seller signed an invented fingerprint the attester never saw", function () {
      it("reverts tokeniseBySig with ReceivableAttesterUnauthorized", async function () {
        const f = await loadFixture(ledgerFixture);
        const { inv, id } = await invoiceAndId(f.buyer.address);
        const dl = await deadline();
        const signature = await sign(f, f.supplier, RECEIVABLES_TYPES.Tokenise, { seller: f.supplier.address, invoice: inv, nonce: 3n, deadline: dl });
        const selfAttested = await attest(f, f.supplier.address, inv, { by: f.supplier });
        await expect(f.receivables.connect(f.outsider).tokeniseBySig(f.supplier.address, inv, selfAttested, { nonce: 3n, deadline: dl, signature }))
          .to.be.revertedWithCustomError(f.receivables, "ReceivableAttesterUnauthorized")
          .withArgs(f.supplier.address);
        expect(await readReceivable(f, id)).to.equal("none");
        expect(await f.receivables.isNonceUsed(f.supplier.address, 3n)).to.equal(false);
      });
    });

    describe("when a batch attestation is relayed with another seller's batch signature", function () {
      it("reverts tokeniseBatchBySig with ReceivableAttesterUnauthorized", async function () {
        const f = await loadFixture(ledgerFixture);
        const invoices = [(await invoiceAndId(f.buyer.address)).inv, (await invoiceAndId(f.buyer.address)).inv];
        const att = await attestBatch(f, f.supplier.address, invoices);
        const dl = await deadline();
        const signature = await sign(f, f.supplier2, RECEIVABLES_TYPES.TokeniseBatch, { seller: f.supplier2.address, invoices, nonce: 1n, deadline: dl });
        await expect(f.receivables.connect(f.outsider).tokeniseBatchBySig(f.supplier2.address, invoices, att, { nonce: 1n, deadline: dl, signature }))
          .to.be.revertedWithCustomError(f.receivables, "ReceivableAttesterUnauthorized");
      });
    });

    describe("when the relayer changes a term the debtor signed", function () {
      it("reverts acceptBySig with SignedActionInvalidSignature for each term", async function () {
        const f = await loadFixture(ledgerFixture);
        const { id } = await issued(f);
        const terms = recordedTerms(id);
        const dl = await deadline();
        const signature = await sign(f, f.buyer, RECEIVABLES_TYPES.Accept, { debtor: f.buyer.address, receivableId: id, ...terms, nonce: 9n, deadline: dl });
        for (const altered of [
          { ...terms, seller: f.supplier2.address },
          { ...terms, faceValue: BigInt(terms.faceValue) - 1n },
          { ...terms, dueDate: BigInt(terms.dueDate) + 1n },
          { ...terms, documentHash: ethers.id("other") },
        ]) {
          await expect(f.receivables.connect(f.outsider).acceptBySig(f.buyer.address, id, altered, { nonce: 9n, deadline: dl, signature }))
            .to.be.revertedWithCustomError(f.receivables, "SignedActionInvalidSignature")
            .withArgs(f.buyer.address);
        }
        expect((await f.receivables.receivable(id)).status).to.equal(RStatus.Issued);
      });

      it("refuses an acceptance signed over the id alone (the old Accept type)", async function () {
        const f = await loadFixture(ledgerFixture);
        const { id } = await issued(f);
        const dl = await deadline();
        const oldAccept = { Accept: RECEIVABLES_TYPES.Accept.Accept.filter((x) => ["debtor", "receivableId", "nonce", "deadline"].includes(x.name)) };
        const signature = await sign(f, f.buyer, oldAccept, { debtor: f.buyer.address, receivableId: id, nonce: 2n, deadline: dl });
        await expect(f.receivables.connect(f.outsider).acceptBySig(f.buyer.address, id, recordedTerms(id), { nonce: 2n, deadline: dl, signature }))
          .to.be.revertedWithCustomError(f.receivables, "SignedActionInvalidSignature")
          .withArgs(f.buyer.address);
      });
    });

    describe("when a squatter's record sits under the id the debtor means", function () {
      it("reverts the debtor's relayed acceptance of the real terms with ReceivableTermsMismatch", async function () {
        const f = await loadFixture(ledgerFixture);
        const { inv: real, id } = await invoiceAndId(f.buyer.address);
        // The attester was fooled once: the squatter's copy carries another amount and document.
        const squat = { ...real, faceValue: BigInt(real.faceValue) * 3n, documentHash: ethers.id("squatter's PDF") };
        await tokenise(f, f.supplier2, squat);
        const terms = termsOf(f.supplier.address, real);
        const dl = await deadline();
        const signature = await sign(f, f.buyer, RECEIVABLES_TYPES.Accept, { debtor: f.buyer.address, receivableId: id, ...terms, nonce: 5n, deadline: dl });
        await expect(f.receivables.connect(f.outsider).acceptBySig(f.buyer.address, id, terms, { nonce: 5n, deadline: dl, signature }))
          .to.be.revertedWithCustomError(f.receivables, "ReceivableTermsMismatch")
          .withArgs(id, 0n);
        expect((await f.receivables.receivable(id)).status).to.equal(RStatus.Issued);
        expect(await f.receivables.isNonceUsed(f.buyer.address, 5n)).to.equal(false);
      });
    });
  });
});
