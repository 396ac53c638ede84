/**
 * Access matrix: every state-changing external function of the registry, the settlement token,
 * the receivables ledger (direct acts and the ERC-721 transfer/approval flows) and the financing
 * module, called by every fixture actor against a state in which the intended caller succeeds.
 * Only the intended callers may succeed; every other caller must revert with the exact custom
 * error. Open functions (invalidateNonce, ERC-20 approve and permit, ERC-721 setApprovalForAll of a
 * member operator) must succeed for everyone; markDefaulted is the holder's alone. The two-step,
 * delayed admin functions of every contract have their own rows. The `…BySig` relays are covered by
 * the signed-action tests, not here.
 *
 * Each row is set up once on a fresh `ledgerFixture`, snapshotted, and every caller is tried from
 * that snapshot, so no caller sees another caller's effects.
 */
import { loadFixture, takeSnapshot, time } from "@nomicfoundation/hardhat-network-helpers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import { expect } from "chai";
import { ethers } from "hardhat";
import type { BaseContract, ContractTransactionResponse } from "ethers";
import type { Financing, ParticipantRegistry, Receivables, SettlementToken } from "../../typechain-types";
import { DEFAULT_PARAMS, deployLedger, type Ledger } from "../../scripts/lib/deploy-ledger";
import { type Actors, DAY, GRACE_PERIOD, JURISDICTION_CN, type LedgerFixture, YEAR, acceptedReceivable, entityIdHash, ledgerFixture, lineTerms, makeInvoice, signAct, accept, rootId, tokenise, tokeniseBatch } from "./helpers/fixture";
import { FINANCING_DOMAIN, FINANCING_TYPES, PERMIT_TYPES } from "../../shared/eip712";
import type { RequestTerms } from "../../shared/financing-terms";
import { approvalFor, requestTerms, requestedLine } from "./helpers/financing";
import { LEDGER_MIGRATOR, R, v1Line, v1Receivable, type ImportFixture } from "./helpers/ledger-import";
import { ROLE_BITS } from "../../shared/roles";
import { permitDomainOf } from "../../shared/permit";

type ActorName = keyof Actors;

const ACTOR_NAMES: ActorName[] = [
  "admin",
  "operator",
  "officer",
  "issuer",
  "supplier",
  "supplier2",
  "buyer",
  "buyer2",
  "financier",
  "financier2",
  "auditor",
  "outsider",
];

/** Actors registered in the fixture (active, KYC valid): the only ones the token lets hold funds. */
const MEMBERS: ActorName[] = ["supplier", "supplier2", "buyer", "buyer2", "financier", "financier2", "auditor"];
/** Actors verified as suppliers (buyer2 holds BUYER | SUPPLIER). */
const SUPPLIERS: ActorName[] = ["supplier", "supplier2", "buyer2"];

const DEFAULT_ADMIN_ROLE = ethers.ZeroHash;
const ONBOARDING_OPERATOR = ethers.id("ONBOARDING_OPERATOR");
const COMPLIANCE_OFFICER = ethers.id("COMPLIANCE_OFFICER");
const ISSUER = ethers.id("ISSUER");
const PAUSER = ethers.id("PAUSER");
const ENFORCER = ethers.id("ENFORCER");
/** A role no contract uses, to exercise grant/revoke/renounce: DEFAULT_ADMIN_ROLE itself only moves two-step. */
const OTHER_ROLE = ethers.id("OTHER_ROLE");
type AdminRules = ParticipantRegistry | SettlementToken | Receivables | Financing;

const AMOUNT = 100_00n;
/** Each signer has its own nonce space, so every caller may void this value once. */
const NONCE = 7n;
const REASON = ethers.encodeBytes32String("KYC_REVIEW");

interface Refusal {
  contract: BaseContract;
  error: string;
  args: unknown[];
}

interface Ctx {
  f: LedgerFixture;
}

interface Row<C extends Ctx> {
  /** "Contract.function", optionally with a qualifier in parentheses. */
  fn: string;
  setup: (f: LedgerFixture) => Promise<C>;
  call: (ctx: C, who: HardhatEthersSigner) => Promise<ContractTransactionResponse>;
  /** Who must succeed: a list of actors, everyone, or no actor (contract-only entry points). */
  callers: ActorName[] | "anyone";
  /** The exact error a refused caller gets. */
  refusal?: (ctx: C, who: HardhatEthersSigner, name: ActorName) => Refusal;
  /** Said after "no actor succeeds" to name the only legitimate caller. */
  onlyCaller?: string;
}

type AnyRow = Row<Ctx>;

function row<C extends Ctx>(r: Row<C>): AnyRow {
  return r as unknown as AnyRow;
}

function listNames(names: string[]): string {
  if (names.length === 1) return names[0];
  return `${names.slice(0, -1).join(", ")} and ${names[names.length - 1]}`;
}

function title(r: AnyRow): string {
  if (r.callers === "anyone") return `${r.fn}: anyone succeeds`;
  if (r.callers.length === 0) return `${r.fn}: no actor succeeds (${r.onlyCaller ?? "contract only"})`;
  const verb = r.callers.length === 1 ? "succeeds" : "succeed";
  return `${r.fn}: only ${listNames(r.callers)} ${verb}`;
}

function refused(contract: BaseContract, error: string, ...args: unknown[]): Refusal {
  return { contract, error, args };
}

// ---------------------------------------------------------------- shared setups

/** The receivables contract as `who` sees it (ERC-721's overloaded safeTransferFrom needs its full signature). */
const holderView = (f: LedgerFixture, who: HardhatEthersSigner): Receivables => f.receivables.connect(who);

const plain = async (f: LedgerFixture): Promise<Ctx> => ({ f });

interface IdCtx extends Ctx {
  id: bigint;
}

/** A receivable of supplier owed by buyer, tokenised but not accepted. */
async function issued(f: LedgerFixture): Promise<IdCtx> {
  const inv = await makeInvoice(f.buyer.address);
  await tokenise(f, f.supplier, inv);
  return { f, id: rootId(inv.fingerprint as string) };
}

/** A receivable of supplier owed by buyer, accepted. */
async function accepted(f: LedgerFixture): Promise<IdCtx> {
  return { f, id: await acceptedReceivable(f) };
}

interface LineCtx extends IdCtx {
  lineId: bigint;
}

/** An accepted receivable and financier's line for buyer and supplier (line 1). */
async function withLine(f: LedgerFixture): Promise<LineCtx> {
  const { id } = await accepted(f);
  await f.financing.connect(f.financier).openCreditLine(f.buyer.address, f.supplier.address, await lineTerms());
  return { f, id, lineId: 1n };
}

/** As `withLine`, with supplier's financing request pending. */
async function requested(f: LedgerFixture): Promise<LineCtx> {
  const ctx = await withLine(f);
  await f.financing.connect(f.supplier).requestFinancing(ctx.id, await requestTerms(ctx.lineId));
  return ctx;
}

/** As `requested`, approved and then left unpaid past due date plus grace, and marked defaulted. */
async function financedDefaulted(f: LedgerFixture): Promise<LineCtx> {
  const ctx = await requested(f);
  await f.financing.connect(f.financier).approveFinancing(ctx.id, await approvalFor(f, ctx.id));
  const r = await f.receivables.receivable(ctx.id);
  await time.increaseTo(r.dueDate + GRACE_PERIOD + 1n);
  await f.receivables.connect(f.financier).markDefaulted(ctx.id);
  return ctx;
}

// ---------------------------------------------------------------- the matrix

const registryRows: AnyRow[] = [
  row<Ctx & { account: string; expiry: bigint }>({
    fn: "ParticipantRegistry.register",
    setup: async (f) => ({
      f,
      account: ethers.Wallet.createRandom().address,
      expiry: BigInt(await time.latest()) + YEAR,
    }),
    call: ({ f, account, expiry }, who) =>
      f.registry.connect(who).register(account, ROLE_BITS.supplier, expiry, JURISDICTION_CN, entityIdHash(account)),
    callers: ["operator"],
    refusal: ({ f }, who) => refused(f.registry, "AccessControlUnauthorizedAccount", who.address, ONBOARDING_OPERATOR),
  }),
  row({
    fn: "ParticipantRegistry.update",
    setup: plain,
    call: ({ f }, who) =>
      f.registry
        .connect(who)
        .update(f.supplier.address, ROLE_BITS.supplier | ROLE_BITS.buyer, JURISDICTION_CN, entityIdHash("new entity")),
    callers: ["operator"],
    refusal: ({ f }, who) => refused(f.registry, "AccessControlUnauthorizedAccount", who.address, ONBOARDING_OPERATOR),
  }),
  row<Ctx & { expiry: bigint }>({
    fn: "ParticipantRegistry.renewKyc",
    setup: async (f) => ({ f, expiry: BigInt(await time.latest()) + 3n * YEAR }),
    call: ({ f, expiry }, who) => f.registry.connect(who).renewKyc(f.supplier.address, expiry),
    callers: ["officer"],
    refusal: ({ f }, who) => refused(f.registry, "AccessControlUnauthorizedAccount", who.address, COMPLIANCE_OFFICER),
  }),
  row({
    fn: "ParticipantRegistry.suspend",
    setup: plain,
    call: ({ f }, who) => f.registry.connect(who).suspend(f.supplier.address, REASON),
    callers: ["officer"],
    refusal: ({ f }, who) => refused(f.registry, "AccessControlUnauthorizedAccount", who.address, COMPLIANCE_OFFICER),
  }),
  row({
    fn: "ParticipantRegistry.reinstate",
    setup: async (f) => {
      await f.registry.connect(f.officer).suspend(f.supplier.address, REASON);
      return { f };
    },
    call: ({ f }, who) => f.registry.connect(who).reinstate(f.supplier.address),
    callers: ["officer"],
    refusal: ({ f }, who) => refused(f.registry, "AccessControlUnauthorizedAccount", who.address, COMPLIANCE_OFFICER),
  }),
  row({
    fn: "ParticipantRegistry.grantRole",
    setup: plain,
    call: ({ f }, who) => f.registry.connect(who).grantRole(ONBOARDING_OPERATOR, f.outsider.address),
    callers: ["admin"],
    refusal: ({ f }, who) => refused(f.registry, "AccessControlUnauthorizedAccount", who.address, DEFAULT_ADMIN_ROLE),
  }),
  row({
    fn: "ParticipantRegistry.revokeRole",
    setup: plain,
    call: ({ f }, who) => f.registry.connect(who).revokeRole(ONBOARDING_OPERATOR, f.operator.address),
    callers: ["admin"],
    refusal: ({ f }, who) => refused(f.registry, "AccessControlUnauthorizedAccount", who.address, DEFAULT_ADMIN_ROLE),
  }),
  row({
    fn: "ParticipantRegistry.renounceRole",
    setup: plain,
    call: ({ f }, who) => f.registry.connect(who).renounceRole(ONBOARDING_OPERATOR, f.operator.address),
    callers: ["operator"],
    refusal: ({ f }) => refused(f.registry, "AccessControlBadConfirmation"),
  }),
];

const tokenRows: AnyRow[] = [
  row({
    fn: "SettlementToken.mint",
    setup: plain,
    call: ({ f }, who) => f.token.connect(who).mint(f.supplier.address, AMOUNT),
    callers: ["issuer"],
    refusal: ({ f }, who) => refused(f.token, "AccessControlUnauthorizedAccount", who.address, ISSUER),
  }),
  row({
    fn: "SettlementToken.burnFrom",
    setup: async (f) => {
      await f.token.connect(f.buyer).approve(f.issuer.address, AMOUNT);
      return { f };
    },
    call: ({ f }, who) => f.token.connect(who).burnFrom(f.buyer.address, AMOUNT),
    callers: ["issuer"],
    refusal: ({ f }, who) => refused(f.token, "AccessControlUnauthorizedAccount", who.address, ISSUER),
  }),
  row({
    fn: "SettlementToken.forceBurn",
    setup: plain,
    call: ({ f }, who) => f.token.connect(who).forceBurn(f.buyer.address, AMOUNT, REASON),
    callers: ["admin"],
    refusal: ({ f }, who) => refused(f.token, "AccessControlUnauthorizedAccount", who.address, ENFORCER),
  }),
  row({
    fn: "SettlementToken.setSystemAccount",
    setup: plain,
    call: ({ f }, who) => f.token.connect(who).setSystemAccount(f.outsider.address, true),
    callers: ["admin"],
    refusal: ({ f }, who) => refused(f.token, "AccessControlUnauthorizedAccount", who.address, DEFAULT_ADMIN_ROLE),
  }),
  row({
    fn: "SettlementToken.pause",
    setup: plain,
    call: ({ f }, who) => f.token.connect(who).pause(),
    callers: ["admin"],
    refusal: ({ f }, who) => refused(f.token, "AccessControlUnauthorizedAccount", who.address, PAUSER),
  }),
  row({
    fn: "SettlementToken.unpause",
    setup: async (f) => {
      await f.token.connect(f.admin).pause();
      return { f };
    },
    call: ({ f }, who) => f.token.connect(who).unpause(),
    callers: ["admin"],
    refusal: ({ f }, who) => refused(f.token, "AccessControlUnauthorizedAccount", who.address, PAUSER),
  }),
  row({
    fn: "SettlementToken.transfer",
    setup: plain,
    call: ({ f }, who) => f.token.connect(who).transfer(f.supplier2.address, AMOUNT),
    // The funded members; every other member has no balance and non-members may not move funds.
    callers: ["buyer", "buyer2", "financier", "financier2"],
    refusal: ({ f }, who, name) =>
      MEMBERS.includes(name)
        ? refused(f.token, "ERC20InsufficientBalance", who.address, 0n, AMOUNT)
        : refused(f.token, "SettlementUnverifiedParty", who.address),
  }),
  row({
    fn: "SettlementToken.approve",
    setup: plain,
    call: ({ f }, who) => f.token.connect(who).approve(f.supplier.address, AMOUNT),
    callers: "anyone",
  }),
  row({
    fn: "SettlementToken.transferFrom",
    setup: async (f) => {
      await f.token.connect(f.buyer).approve(f.supplier.address, AMOUNT);
      return { f };
    },
    call: ({ f }, who) => f.token.connect(who).transferFrom(f.buyer.address, f.supplier2.address, AMOUNT),
    callers: ["supplier"],
    refusal: ({ f }, who) => refused(f.token, "ERC20InsufficientAllowance", who.address, 0n, AMOUNT),
  }),
  row<Ctx & { deadline: bigint; v: number; r: string; s: string }>({
    fn: "SettlementToken.permit",
    setup: async (f) => {
      const deadline = BigInt(await time.latest()) + DAY;
      const domain = await permitDomainOf(f.token);
      const value = {
        owner: f.buyer.address,
        spender: f.supplier.address,
        value: AMOUNT,
        nonce: await f.token.nonces(f.buyer.address),
        deadline,
      };
      const sig = ethers.Signature.from(await f.buyer.signTypedData(domain, PERMIT_TYPES, value));
      return { f, deadline, v: sig.v, r: sig.r, s: sig.s };
    },
    call: ({ f, deadline, v, r, s }, who) =>
      f.token.connect(who).permit(f.buyer.address, f.supplier.address, AMOUNT, deadline, v, r, s),
    callers: "anyone",
  }),
  row({
    fn: "SettlementToken.grantRole",
    setup: plain,
    call: ({ f }, who) => f.token.connect(who).grantRole(ISSUER, f.outsider.address),
    callers: ["admin"],
    refusal: ({ f }, who) => refused(f.token, "AccessControlUnauthorizedAccount", who.address, DEFAULT_ADMIN_ROLE),
  }),
  row({
    fn: "SettlementToken.revokeRole",
    setup: plain,
    call: ({ f }, who) => f.token.connect(who).revokeRole(ISSUER, f.issuer.address),
    callers: ["admin"],
    refusal: ({ f }, who) => refused(f.token, "AccessControlUnauthorizedAccount", who.address, DEFAULT_ADMIN_ROLE),
  }),
  row({
    fn: "SettlementToken.renounceRole",
    setup: plain,
    call: ({ f }, who) => f.token.connect(who).renounceRole(ISSUER, f.issuer.address),
    callers: ["issuer"],
    refusal: ({ f }) => refused(f.token, "AccessControlBadConfirmation"),
  }),
  row({
    fn: "SettlementToken.redeem",
    setup: plain,
    call: ({ f }, who) => f.token.connect(who).redeem(AMOUNT),
    callers: ["buyer", "buyer2", "financier", "financier2"],
    refusal: ({ f }, who, name) =>
      ["supplier", "supplier2", "auditor"].includes(name)
        ? refused(f.token, "ERC20InsufficientBalance", who.address, 0n, AMOUNT)
        : refused(f.token, "SettlementUnverifiedParty", who.address),
  }),
];

const receivablesRows: AnyRow[] = [
  row<Ctx & { invoice: Awaited<ReturnType<typeof makeInvoice>> }>({
    fn: "Receivables.tokenise",
    setup: async (f) => ({ f, invoice: await makeInvoice(f.buyer.address) }),
    call: ({ f, invoice }, who) => tokenise(f, who, invoice),
    callers: SUPPLIERS,
    refusal: ({ f }, who) => refused(f.receivables, "ReceivableUnverifiedParty", who.address, ROLE_BITS.supplier),
  }),
  row<Ctx & { invoices: Awaited<ReturnType<typeof makeInvoice>>[] }>({
    fn: "Receivables.tokeniseBatch",
    setup: async (f) => ({ f, invoices: [await makeInvoice(f.buyer.address), await makeInvoice(f.buyer.address)] }),
    call: ({ f, invoices }, who) => tokeniseBatch(f, who, invoices),
    callers: SUPPLIERS,
    refusal: ({ f }, who) => refused(f.receivables, "ReceivableUnverifiedParty", who.address, ROLE_BITS.supplier),
  }),
  row<IdCtx>({
    fn: "Receivables.accept",
    setup: issued,
    call: ({ f, id }, who) => accept(f, who, id),
    callers: ["buyer"],
    refusal: ({ f, id }, who) => refused(f.receivables, "ReceivableUnauthorized", id, who.address),
  }),
  row<IdCtx>({
    fn: "Receivables.cancel",
    setup: issued,
    call: ({ f, id }, who) => f.receivables.connect(who).cancel(id),
    callers: ["supplier"],
    refusal: ({ f, id }, who) => refused(f.receivables, "ReceivableUnauthorized", id, who.address),
  }),
  row<IdCtx>({
    fn: "Receivables.applyCreditNote",
    setup: accepted,
    call: ({ f, id }, who) => f.receivables.connect(who).applyCreditNote(id, AMOUNT, ethers.id("credit note")),
    callers: ["supplier"],
    refusal: ({ f, id }, who) => refused(f.receivables, "ReceivableUnauthorized", id, who.address),
  }),
  row<IdCtx>({
    fn: "Receivables.split",
    setup: accepted,
    call: ({ f, id }, who) => f.receivables.connect(who).split(id, [400_000_00n, 600_000_00n]),
    callers: ["supplier"],
    refusal: ({ f, id }, who) => refused(f.receivables, "ReceivableUnauthorized", id, who.address),
  }),
  row<IdCtx>({
    fn: "Receivables.transferFrom (by the holder)",
    setup: accepted,
    call: ({ f, id }, who) => f.receivables.connect(who).transferFrom(f.supplier.address, f.supplier2.address, id),
    callers: ["supplier"],
    refusal: ({ f, id }, who) => refused(f.receivables, "ERC721InsufficientApproval", who.address, id),
  }),
  row<IdCtx>({
    fn: "Receivables.safeTransferFrom (by the holder)",
    setup: accepted,
    call: ({ f, id }, who) =>
      holderView(f, who)["safeTransferFrom(address,address,uint256)"](f.supplier.address, f.supplier2.address, id),
    callers: ["supplier"],
    refusal: ({ f, id }, who) => refused(f.receivables, "ERC721InsufficientApproval", who.address, id),
  }),
  row<IdCtx>({
    fn: "Receivables.safeTransferFrom with data (by the holder)",
    setup: accepted,
    call: ({ f, id }, who) =>
      holderView(f, who)["safeTransferFrom(address,address,uint256,bytes)"](
        f.supplier.address,
        f.supplier2.address,
        id,
        "0x1234",
      ),
    callers: ["supplier"],
    refusal: ({ f, id }, who) => refused(f.receivables, "ERC721InsufficientApproval", who.address, id),
  }),
  row<IdCtx>({
    fn: "Receivables.approve",
    setup: accepted,
    call: ({ f, id }, who) => f.receivables.connect(who).approve(f.financier.address, id),
    callers: ["supplier"],
    refusal: ({ f }, who) => refused(f.receivables, "ERC721InvalidApprover", who.address),
  }),
  row({
    fn: "Receivables.setApprovalForAll",
    setup: plain,
    call: ({ f }, who) => f.receivables.connect(who).setApprovalForAll(f.financier2.address, true),
    callers: "anyone",
  }),
  row<IdCtx>({
    fn: "Receivables.transferFrom (token approved to financier)",
    setup: async (f) => {
      const ctx = await accepted(f);
      await f.receivables.connect(f.supplier).approve(f.financier.address, ctx.id);
      return ctx;
    },
    call: ({ f, id }, who) => f.receivables.connect(who).transferFrom(f.supplier.address, f.supplier2.address, id),
    callers: ["supplier", "financier"],
    refusal: ({ f, id }, who) => refused(f.receivables, "ERC721InsufficientApproval", who.address, id),
  }),
  row<IdCtx>({
    fn: "Receivables.safeTransferFrom (token approved to financier)",
    setup: async (f) => {
      const ctx = await accepted(f);
      await f.receivables.connect(f.supplier).approve(f.financier.address, ctx.id);
      return ctx;
    },
    call: ({ f, id }, who) =>
      holderView(f, who)["safeTransferFrom(address,address,uint256)"](f.supplier.address, f.supplier2.address, id),
    callers: ["supplier", "financier"],
    refusal: ({ f, id }, who) => refused(f.receivables, "ERC721InsufficientApproval", who.address, id),
  }),
  row<IdCtx>({
    fn: "Receivables.transferFrom (holder's operator financier2)",
    setup: async (f) => {
      const ctx = await accepted(f);
      await f.receivables.connect(f.supplier).setApprovalForAll(f.financier2.address, true);
      return ctx;
    },
    call: ({ f, id }, who) => f.receivables.connect(who).transferFrom(f.supplier.address, f.supplier2.address, id),
    callers: ["supplier", "financier2"],
    refusal: ({ f, id }, who) => refused(f.receivables, "ERC721InsufficientApproval", who.address, id),
  }),
  row<IdCtx>({
    fn: "Receivables.pay",
    setup: accepted,
    call: ({ f, id }, who) => f.receivables.connect(who).pay(id, AMOUNT),
    callers: ["buyer"],
    refusal: ({ f, id }, who) => refused(f.receivables, "ReceivableUnauthorized", id, who.address),
  }),
  row<IdCtx>({
    fn: "Receivables.markDefaulted",
    setup: async (f) => {
      const ctx = await accepted(f);
      const r = await f.receivables.receivable(ctx.id);
      await time.increaseTo(r.dueDate + GRACE_PERIOD + 1n);
      return ctx;
    },
    call: ({ f, id }, who) => f.receivables.connect(who).markDefaulted(id),
    callers: ["supplier"],
    refusal: ({ f, id }, who) => refused(f.receivables, "ReceivableUnauthorized", id, who.address),
  }),
  row({
    fn: "Receivables.claim",
    setup: async (f) => {
      // A payment held for supplier while it was suspended; it is a member again.
      const id = await acceptedReceivable(f);
      await f.registry.connect(f.officer).suspend(f.supplier.address, REASON);
      await f.receivables.connect(f.buyer).pay(id, AMOUNT);
      await f.registry.connect(f.officer).reinstate(f.supplier.address);
      return { f };
    },
    call: ({ f }, who) => f.receivables.connect(who).claim(),
    callers: ["supplier"],
    refusal: ({ f }, who) => refused(f.receivables, "ReceivableNothingHeld", who.address),
  }),
  row<IdCtx>({
    fn: "Receivables.assignToFinancier",
    setup: accepted,
    call: ({ f, id }, who) => f.receivables.connect(who).assignToFinancier(id, f.financier.address),
    callers: [],
    onlyCaller: "financing module only",
    refusal: ({ f, id }, who) => refused(f.receivables, "ReceivableUnauthorized", id, who.address),
  }),
  row({
    fn: "Receivables.invalidateNonce",
    setup: plain,
    call: ({ f }, who) => f.receivables.connect(who).invalidateNonce(NONCE),
    callers: "anyone",
  }),
  row({
    fn: "Receivables.grantRole",
    setup: plain,
    call: ({ f }, who) => f.receivables.connect(who).grantRole(OTHER_ROLE, f.outsider.address),
    callers: ["admin"],
    refusal: ({ f }, who) =>
      refused(f.receivables, "AccessControlUnauthorizedAccount", who.address, DEFAULT_ADMIN_ROLE),
  }),
  row({
    fn: "Receivables.revokeRole",
    setup: plain,
    call: ({ f }, who) => f.receivables.connect(who).revokeRole(OTHER_ROLE, f.admin.address),
    callers: ["admin"],
    refusal: ({ f }, who) =>
      refused(f.receivables, "AccessControlUnauthorizedAccount", who.address, DEFAULT_ADMIN_ROLE),
  }),
  row({
    fn: "Receivables.renounceRole",
    setup: async (f) => {
      await f.receivables.connect(f.admin).grantRole(OTHER_ROLE, f.admin.address);
      return { f };
    },
    call: ({ f }, who) => f.receivables.connect(who).renounceRole(OTHER_ROLE, f.admin.address),
    callers: ["admin"],
    refusal: ({ f }) => refused(f.receivables, "AccessControlBadConfirmation"),
  }),
];

/** The two-step, delayed admin of AccessControlDefaultAdminRules, the same on every contract. */
function adminRuleRows(name: string, pick: (f: LedgerFixture) => AdminRules): AnyRow[] {
  const adminOnly = ({ f }: Ctx, who: HardhatEthersSigner) =>
    refused(pick(f), "AccessControlUnauthorizedAccount", who.address, DEFAULT_ADMIN_ROLE);
  return [
    row({
      fn: `${name}.beginDefaultAdminTransfer`,
      setup: plain,
      call: ({ f }, who) => pick(f).connect(who).beginDefaultAdminTransfer(f.outsider.address),
      callers: ["admin"],
      refusal: adminOnly,
    }),
    row({
      fn: `${name}.cancelDefaultAdminTransfer`,
      setup: plain,
      call: ({ f }, who) => pick(f).connect(who).cancelDefaultAdminTransfer(),
      callers: ["admin"],
      refusal: adminOnly,
    }),
    row({
      fn: `${name}.acceptDefaultAdminTransfer`,
      setup: async (f) => {
        await pick(f).connect(f.admin).beginDefaultAdminTransfer(f.outsider.address);
        await time.increase(DEFAULT_PARAMS.adminDelay + 1n);
        return { f };
      },
      call: ({ f }, who) => pick(f).connect(who).acceptDefaultAdminTransfer(),
      callers: ["outsider"],
      refusal: ({ f }, who) => refused(pick(f), "AccessControlInvalidDefaultAdmin", who.address),
    }),
    row({
      fn: `${name}.changeDefaultAdminDelay`,
      setup: plain,
      call: ({ f }, who) => pick(f).connect(who).changeDefaultAdminDelay(3n * DEFAULT_PARAMS.adminDelay),
      callers: ["admin"],
      refusal: adminOnly,
    }),
    row({
      fn: `${name}.rollbackDefaultAdminDelay`,
      setup: plain,
      call: ({ f }, who) => pick(f).connect(who).rollbackDefaultAdminDelay(),
      callers: ["admin"],
      refusal: adminOnly,
    }),
  ];
}

const adminRows: AnyRow[] = [
  ...adminRuleRows("ParticipantRegistry", (f) => f.registry),
  ...adminRuleRows("SettlementToken", (f) => f.token),
  ...adminRuleRows("Receivables", (f) => f.receivables),
  ...adminRuleRows("Financing", (f) => f.financing),
  row({
    fn: "Financing.grantRole",
    setup: plain,
    call: ({ f }, who) => f.financing.connect(who).grantRole(OTHER_ROLE, f.outsider.address),
    callers: ["admin"],
    refusal: ({ f }, who) =>
      refused(f.financing, "AccessControlUnauthorizedAccount", who.address, DEFAULT_ADMIN_ROLE),
  }),
  row({
    fn: "Financing.revokeRole",
    setup: plain,
    call: ({ f }, who) => f.financing.connect(who).revokeRole(OTHER_ROLE, f.admin.address),
    callers: ["admin"],
    refusal: ({ f }, who) =>
      refused(f.financing, "AccessControlUnauthorizedAccount", who.address, DEFAULT_ADMIN_ROLE),
  }),
  row({
    fn: "Financing.renounceRole",
    setup: async (f) => {
      await f.financing.connect(f.admin).grantRole(OTHER_ROLE, f.admin.address);
      return { f };
    },
    call: ({ f }, who) => f.financing.connect(who).renounceRole(OTHER_ROLE, f.admin.address),
    callers: ["admin"],
    refusal: ({ f }) => refused(f.financing, "AccessControlBadConfirmation"),
  }),
];

const financingRows: AnyRow[] = [
  row<Ctx & { terms: Awaited<ReturnType<typeof lineTerms>> }>({
    fn: "Financing.openCreditLine",
    setup: async (f) => ({ f, terms: await lineTerms() }),
    call: ({ f, terms }, who) => f.financing.connect(who).openCreditLine(f.buyer.address, f.supplier.address, terms),
    callers: ["financier", "financier2"],
    refusal: ({ f }, who) => refused(f.financing, "FinancingUnverifiedParty", who.address, ROLE_BITS.financier),
  }),
  row<LineCtx & { terms: Awaited<ReturnType<typeof lineTerms>> }>({
    fn: "Financing.updateCreditLine",
    setup: async (f) => ({ ...(await withLine(f)), terms: await lineTerms({ limit: 7_000_000_00n }) }),
    call: ({ f, lineId, terms }, who) => f.financing.connect(who).updateCreditLine(lineId, terms),
    callers: ["financier"],
    refusal: ({ f, lineId }, who) => refused(f.financing, "CreditLineUnauthorized", lineId, who.address),
  }),
  row<LineCtx>({
    fn: "Financing.closeCreditLine",
    setup: withLine,
    call: ({ f, lineId }, who) => f.financing.connect(who).closeCreditLine(lineId),
    callers: ["financier"],
    refusal: ({ f, lineId }, who) => refused(f.financing, "CreditLineUnauthorized", lineId, who.address),
  }),
  row<LineCtx>({
    fn: "Financing.requestFinancing",
    setup: withLine,
    call: async ({ f, id, lineId }, who) => f.financing.connect(who).requestFinancing(id, await requestTerms(lineId)),
    callers: ["supplier"],
    refusal: ({ f, id }, who, name) =>
      SUPPLIERS.includes(name)
        ? refused(f.financing, "FinancingNotHolder", id, who.address)
        : refused(f.financing, "FinancingUnverifiedParty", who.address, ROLE_BITS.supplier),
  }),
  row<LineCtx>({
    fn: "Financing.approveFinancing",
    setup: requested,
    call: async ({ f, id }, who) => f.financing.connect(who).approveFinancing(id, await approvalFor(f, id)),
    callers: ["financier"],
    refusal: ({ f, lineId }, who) => refused(f.financing, "CreditLineUnauthorized", lineId, who.address),
  }),
  row<LineCtx>({
    fn: "Financing.withdrawFinancingRequest",
    setup: requested,
    call: ({ f, id }, who) => f.financing.connect(who).withdrawFinancingRequest(id),
    callers: ["supplier"],
    refusal: ({ f, id }, who) => refused(f.financing, "FinancingNotHolder", id, who.address),
  }),
  row<LineCtx & { terms: RequestTerms; auth: { nonce: bigint; deadline: bigint; signature: string } }>({
    fn: "Financing.financeSignedRequest",
    setup: async (f) => {
      const ctx = await withLine(f);
      const terms = await requestTerms(ctx.lineId);
      const deadline = BigInt(await time.latest()) + DAY;
      const signature = await signAct(
        f.supplier,
        { ...FINANCING_DOMAIN, verifyingContract: await f.financing.getAddress() },
        FINANCING_TYPES.RequestFinancing,
        { supplier: f.supplier.address, receivableId: ctx.id, terms, nonce: NONCE, deadline },
      );
      return { ...ctx, terms, auth: { nonce: NONCE, deadline, signature } };
    },
    call: async ({ f, id, lineId, terms, auth }, who) =>
      f.financing
        .connect(who)
        .financeSignedRequest(f.supplier.address, id, terms, auth, await approvalFor(f, id, { lineId })),
    callers: ["financier"],
    refusal: ({ f, lineId }, who) => refused(f.financing, "CreditLineUnauthorized", lineId, who.address),
  }),
  row<LineCtx>({
    fn: "Financing.rejectFinancing",
    setup: requested,
    call: async ({ f, id }, who) => f.financing.connect(who).rejectFinancing(id, await requestedLine(f, id), REASON),
    callers: ["financier"],
    refusal: ({ f, lineId }, who) => refused(f.financing, "CreditLineUnauthorized", lineId, who.address),
  }),
  row<LineCtx>({
    fn: "Financing.writeOff",
    setup: financedDefaulted,
    call: ({ f, id }, who) => f.financing.connect(who).writeOff(id),
    callers: ["financier"],
    refusal: ({ f, lineId }, who) => refused(f.financing, "CreditLineUnauthorized", lineId, who.address),
  }),
  row<IdCtx>({
    fn: "Financing.onRepayment",
    setup: async (f) => {
      const ctx = await requested(f);
      await f.financing.connect(f.financier).approveFinancing(ctx.id, await approvalFor(f, ctx.id));
      return ctx;
    },
    call: ({ f, id }, who) => f.financing.connect(who).onRepayment(id, AMOUNT),
    callers: [],
    onlyCaller: "receivables ledger only",
    refusal: ({ f }, who) => refused(f.financing, "FinancingUnauthorizedCaller", who.address),
  }),
  row({
    fn: "Financing.invalidateNonce",
    setup: plain,
    call: ({ f }, who) => f.financing.connect(who).invalidateNonce(NONCE),
    callers: "anyone",
  }),
];

// ---------------------------------------------------------------- version-1 import

interface TargetCtx extends Ctx {
  /** A second ledger deployed with outsider's key as its migrator (the fixture's own is sealed). */
  target: Ledger;
}

/** The migrator is an unregistered key: outsider's here. */
const MIGRATOR: ActorName = "outsider";

async function importTarget(f: LedgerFixture): Promise<TargetCtx> {
  const target = await deployLedger(f.admin, {
    admin: f.admin.address,
    onboardingOperator: f.operator.address,
    complianceOfficer: f.officer.address,
    issuer: f.issuer.address,
    migrator: f.actors[MIGRATOR].address,
  });
  return { f, target };
}

/** The record builders read the fixture's actors only. */
const asImport = (f: LedgerFixture): ImportFixture => f as unknown as ImportFixture;

const notMigrator = (c: BaseContract) => (_: Ctx, who: HardhatEthersSigner) =>
  refused(c, "AccessControlUnauthorizedAccount", who.address, LEDGER_MIGRATOR);

function sealRow(name: string, pick: (l: Ledger) => AdminRules): AnyRow {
  return row<TargetCtx>({
    fn: `${name}.sealImport (migrator: ${MIGRATOR})`,
    setup: importTarget,
    call: ({ target }, who) => pick(target).connect(who).sealImport(),
    callers: ["admin", MIGRATOR],
    refusal: ({ target }, who) => refused(pick(target), "AccessControlUnauthorizedAccount", who.address, DEFAULT_ADMIN_ROLE),
  });
}

const importRows: AnyRow[] = [
  row<TargetCtx>({
    fn: `ParticipantRegistry.importMembers (migrator: ${MIGRATOR})`,
    setup: importTarget,
    call: async ({ target }, who) => {
      const account = ethers.Wallet.createRandom().address;
      const kycExpiry = BigInt(await time.latest()) + YEAR;
      return target.registry
        .connect(who)
        .importMembers([{ account, roles: ROLE_BITS.supplier, status: 1, kycExpiry, jurisdiction: JURISDICTION_CN, entityIdHash: entityIdHash(account) }]);
    },
    callers: [MIGRATOR],
    refusal: (ctx, who) => notMigrator((ctx as TargetCtx).target.registry)(ctx, who),
  }),
  sealRow("ParticipantRegistry", (l) => l.registry),
  row<TargetCtx>({
    fn: `SettlementToken.importBalances (migrator: ${MIGRATOR})`,
    setup: importTarget,
    call: ({ f, target }, who) => target.token.connect(who).importBalances([{ holder: f.buyer.address, amount: AMOUNT }]),
    callers: [MIGRATOR],
    refusal: (ctx, who) => notMigrator((ctx as TargetCtx).target.token)(ctx, who),
  }),
  sealRow("SettlementToken", (l) => l.token),
  row<TargetCtx>({
    fn: `Receivables.importReceivables (migrator: ${MIGRATOR})`,
    setup: importTarget,
    call: async ({ f, target }, who) => target.receivables.connect(who).importReceivables([await v1Receivable(asImport(f), "matrix")]),
    callers: [MIGRATOR],
    refusal: (ctx, who) => notMigrator((ctx as TargetCtx).target.receivables)(ctx, who),
  }),
  row<TargetCtx & { id: bigint }>({
    fn: `Receivables.importPayments (migrator: ${MIGRATOR})`,
    setup: async (f) => {
      const ctx = await importTarget(f);
      const r = await v1Receivable(asImport(f), "matrix paid", { outstanding: 0n, status: R.Paid });
      await ctx.target.receivables.connect(f.actors[MIGRATOR]).importReceivables([r]);
      return { ...ctx, id: BigInt(r.id as bigint) };
    },
    call: ({ f, target, id }, who) =>
      target.receivables.connect(who).importPayments([
        {
          receivableId: id,
          debtor: f.buyer.address,
          holder: f.supplier.address,
          amount: AMOUNT,
          outstandingAfter: 0n,
          paidAt: 1_700_000_000n,
          originalBlock: 1n,
          originalTxHash: ethers.id("matrix payment"),
          originalLogIndex: 0n,
        },
      ]),
    callers: [MIGRATOR],
    refusal: (ctx, who) => notMigrator((ctx as TargetCtx).target.receivables)(ctx, who),
  }),
  sealRow("Receivables", (l) => l.receivables),
  row<TargetCtx>({
    fn: `Financing.importCreditLines (migrator: ${MIGRATOR})`,
    setup: importTarget,
    call: async ({ f, target }, who) => target.financing.connect(who).importCreditLines([await v1Line(asImport(f), 1n)]),
    callers: [MIGRATOR],
    refusal: (ctx, who) => notMigrator((ctx as TargetCtx).target.financing)(ctx, who),
  }),
  row<TargetCtx & { id: bigint }>({
    fn: `Financing.importFinancings (migrator: ${MIGRATOR})`,
    setup: async (f) => {
      const ctx = await importTarget(f);
      const migrator = f.actors[MIGRATOR];
      const r = await v1Receivable(asImport(f), "matrix financed", { holder: f.financier.address, status: R.Financed, financed: true });
      await ctx.target.receivables.connect(migrator).importReceivables([r]);
      await ctx.target.financing.connect(migrator).importCreditLines([await v1Line(asImport(f), 1n, { utilised: AMOUNT })]);
      return { ...ctx, id: BigInt(r.id as bigint) };
    },
    call: ({ f, target, id }, who) =>
      target.financing
        .connect(who)
        .importFinancings([{ receivableId: id, supplier: f.supplier.address, lineId: 1n, status: 3, principal: AMOUNT }]),
    callers: [MIGRATOR],
    refusal: (ctx, who) => notMigrator((ctx as TargetCtx).target.financing)(ctx, who),
  }),
  sealRow("Financing", (l) => l.financing),
];

// ---------------------------------------------------------------- runner

async function expectOutcome(r: AnyRow, ctx: Ctx, name: ActorName): Promise<void> {
  const who = ctx.f.actors[name];
  const allowed = r.callers === "anyone" || r.callers.includes(name);
  try {
    if (allowed) {
      await expect(r.call(ctx, who)).not.to.be.reverted;
      return;
    }
    if (!r.refusal) throw new Error(`row ${r.fn} refuses ${name} but names no refusal`);
    const { contract, error, args } = r.refusal(ctx, who, name);
    const assertion = expect(r.call(ctx, who)).to.be.revertedWithCustomError(contract, error);
    await (args.length > 0 ? assertion.withArgs(...args) : assertion);
  } catch (e) {
    if (e instanceof Error) e.message = `${r.fn} called by ${name} (${allowed ? "allowed" : "refused"}): ${e.message}`;
    throw e;
  }
}

function matrix(contractName: string, rows: AnyRow[]): void {
  describe(contractName, function () {
    for (const r of rows) {
      it(title(r), async function () {
        const f = await loadFixture(ledgerFixture);
        const ctx = await r.setup(f);
        const snapshot = await takeSnapshot();
        for (const name of ACTOR_NAMES) {
          await snapshot.restore();
          await expectOutcome(r, ctx, name);
        }
      });
    }
  });
}

describe("Access matrix", function () {
  it("tries every fixture actor", async function () {
    const f = await loadFixture(ledgerFixture);
    expect([...ACTOR_NAMES].sort()).to.deep.equal(Object.keys(f.actors).sort());
  });

  it("has a row for every state-changing function (relayed …BySig variants aside)", async function () {
    const f = await loadFixture(ledgerFixture);
    const contracts: Array<[string, BaseContract]> = [
      ["ParticipantRegistry", f.registry],
      ["SettlementToken", f.token],
      ["Receivables", f.receivables],
      ["Financing", f.financing],
    ];
    const expected = contracts.flatMap(([name, c]) => {
      const names = new Set<string>();
      c.interface.forEachFunction((fn) => {
        if (fn.stateMutability !== "view" && fn.stateMutability !== "pure" && !fn.name.endsWith("BySig")) {
          names.add(`${name}.${fn.name}`);
        }
      });
      return [...names];
    });
    const covered = new Set(
      [...registryRows, ...tokenRows, ...receivablesRows, ...financingRows, ...adminRows, ...importRows].map(
        (r) => r.fn.split(" ")[0],
      ),
    );
    expect([...covered].sort()).to.deep.equal(expected.sort());
  });

  matrix("ParticipantRegistry", registryRows);
  matrix("SettlementToken", tokenRows);
  matrix("Receivables", receivablesRows);
  matrix("Financing", financingRows);
  matrix("admin (two-step, delayed)", adminRows);
  matrix("version-1 import (a ledger deployed with a migrator)", importRows);
});
