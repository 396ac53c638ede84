/**
 * Shared contract-test fixture: the whole ledger deployed and wired, with named actors already
 * registered and funded. Load it with `loadFixture(ledgerFixture)` so each test starts from the
 * same snapshot.
 */
import { time } from "@nomicfoundation/hardhat-network-helpers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import { ethers } from "hardhat";
import type { ContractTransactionResponse, TypedDataField } from "ethers";
import { RECEIVABLES_DOMAIN, RECEIVABLES_TYPES } from "../../../shared/eip712";
import { receivableIdOf } from "../../../shared/fingerprint";
import { deployLedger, DEFAULT_PARAMS, type Ledger } from "../../../scripts/lib/deploy-ledger";
import type { IReceivables } from "../../../typechain-types";
import { ROLE_BITS } from "../../../shared/roles";

export const DAY = 24n * 3600n;
export const YEAR = 365n * DAY;
export const JURISDICTION_CN = "0x434e"; // "CN"
export const MIN_DENOMINATION = DEFAULT_PARAMS.minDenomination;
export const GRACE_PERIOD = DEFAULT_PARAMS.gracePeriod;
/** Opening balance of buyers and financiers, in fen (10 million yuan). */
export const FUNDING = 10_000_000_00n;

export interface Actors {
  admin: HardhatEthersSigner;
  operator: HardhatEthersSigner;
  officer: HardhatEthersSigner;
  issuer: HardhatEthersSigner;
  supplier: HardhatEthersSigner;
  supplier2: HardhatEthersSigner;
  buyer: HardhatEthersSigner;
  buyer2: HardhatEthersSigner;
  financier: HardhatEthersSigner;
  financier2: HardhatEthersSigner;
  auditor: HardhatEthersSigner;
  outsider: HardhatEthersSigner;
}

export type LedgerFixture = Ledger & Actors & { actors: Actors };

export function entityIdHash(label: string): string {
  return ethers.keccak256(ethers.toUtf8Bytes(label));
}

/** The test accounts by the part they play (the first twelve signers), and every signer. */
export async function namedActors(): Promise<{ actors: Actors; signers: HardhatEthersSigner[] }> {
  const signers = await ethers.getSigners();
  const [admin, operator, officer, issuer, supplier, supplier2, buyer, buyer2, financier, financier2, auditor, outsider] =
    signers;
  return {
    signers,
    actors: { admin, operator, officer, issuer, supplier, supplier2, buyer, buyer2, financier, financier2, auditor, outsider },
  };
}

/** Deploys the ledger, registers one member per role (two suppliers, buyers and financiers), funds
 * buyers and financiers, and gives the ledger contracts unlimited allowances from them. */
export async function ledgerFixture(): Promise<LedgerFixture> {
  const { actors } = await namedActors();
  const { admin, operator, officer, issuer, supplier, supplier2, buyer, buyer2, financier, financier2, auditor } = actors;
  const ledger = await deployLedger(admin, {
    admin: admin.address,
    onboardingOperator: operator.address,
    complianceOfficer: officer.address,
    issuer: issuer.address,
  });
  const kycExpiry = BigInt(await time.latest()) + 2n * YEAR;
  const members: Array<[HardhatEthersSigner, number]> = [
    [supplier, ROLE_BITS.supplier],
    [supplier2, ROLE_BITS.supplier],
    [buyer, ROLE_BITS.buyer],
    [buyer2, ROLE_BITS.buyer | ROLE_BITS.supplier],
    [financier, ROLE_BITS.financier],
    [financier2, ROLE_BITS.financier],
    [auditor, ROLE_BITS.auditor],
  ];
  for (const [who, roles] of members) {
    await ledger.registry
      .connect(operator)
      .register(who.address, roles, kycExpiry, JURISDICTION_CN, entityIdHash(who.address));
  }
  const receivablesAddress = await ledger.receivables.getAddress();
  const financingAddress = await ledger.financing.getAddress();
  for (const who of [buyer, buyer2, financier, financier2]) {
    await ledger.token.connect(issuer).mint(who.address, FUNDING);
  }
  for (const who of [buyer, buyer2]) {
    await ledger.token.connect(who).approve(receivablesAddress, ethers.MaxUint256);
  }
  for (const who of [financier, financier2]) {
    await ledger.token.connect(who).approve(financingAddress, ethers.MaxUint256);
  }
  return { ...ledger, ...actors, actors };
}

let invoiceCounter = 0;

/** A fresh, valid invoice owed by `debtor`, due in 90 days unless overridden. Fingerprints never repeat. */
export async function makeInvoice(
  debtor: string,
  overrides: Partial<IReceivables.InvoiceStruct> = {},
): Promise<IReceivables.InvoiceStruct> {
  invoiceCounter += 1;
  const now = BigInt(await time.latest());
  return {
    debtor,
    faceValue: 1_000_000_00n,
    dueDate: now + 90n * DAY,
    documentHash: ethers.sha256(ethers.toUtf8Bytes(`invoice document ${invoiceCounter}`)),
    fingerprint: ethers.keccak256(ethers.toUtf8Bytes(`fingerprint ${invoiceCounter} ${Math.random()}`)),
    ...overrides,
  };
}

/** The receivable id a fingerprint becomes (as the contract's `receivableIdOf`). */
export function rootId(fingerprint: string): bigint {
  return receivableIdOf(fingerprint);
}

/** What attesting and tokenising need: a ledger and the key holding INVOICE_ATTESTER_ROLE on it. */
export type AttestingLedger = Pick<LedgerFixture, "receivables" | "officer">;

/** Terms of every invoice tokenised through `tokenise` below, by receivable id, for `accept`. */
const termsById = new Map<bigint, IReceivables.TermsStruct>();

/** The terms a debtor accepts for `inv` tokenised by `seller`. */
export function termsOf(seller: string, inv: IReceivables.InvoiceStruct): IReceivables.TermsStruct {
  return { seller, faceValue: inv.faceValue, dueDate: inv.dueDate, documentHash: inv.documentHash };
}

/** The recorded terms of a receivable tokenised here (zeros for an id never tokenised here). */
export function recordedTerms(id: bigint): IReceivables.TermsStruct {
  return termsById.get(id) ?? { seller: ethers.ZeroAddress, faceValue: 0n, dueDate: 0n, documentHash: ethers.ZeroHash };
}

async function receivablesDomain(f: AttestingLedger) {
  return {
    ...RECEIVABLES_DOMAIN,
    chainId: (await ethers.provider.getNetwork()).chainId,
    verifyingContract: await f.receivables.getAddress(),
  };
}

/** The attester's (by default the compliance officer's) attestation of `inv` for `seller`, valid a
 * day. Remembers the invoice's terms for `accept` (the first seller attested for an id keeps it). */
export async function attest(
  f: AttestingLedger,
  seller: string,
  inv: IReceivables.InvoiceStruct,
  opts: { by?: HardhatEthersSigner; expiry?: bigint } = {},
): Promise<IReceivables.AttestationStruct> {
  remember(seller, inv);
  const expiry = opts.expiry ?? BigInt(await time.latest()) + DAY;
  const signature = await (opts.by ?? f.officer).signTypedData(
    await receivablesDomain(f),
    RECEIVABLES_TYPES.InvoiceAttestation,
    { seller, invoice: inv, expiry },
  );
  return { expiry, signature };
}

/** One attestation of a whole batch for `seller`. */
export async function attestBatch(
  f: AttestingLedger,
  seller: string,
  invoices: IReceivables.InvoiceStruct[],
  opts: { by?: HardhatEthersSigner; expiry?: bigint } = {},
): Promise<IReceivables.AttestationStruct> {
  for (const inv of invoices) remember(seller, inv);
  const expiry = opts.expiry ?? BigInt(await time.latest()) + DAY;
  const signature = await (opts.by ?? f.officer).signTypedData(
    await receivablesDomain(f),
    RECEIVABLES_TYPES.InvoiceBatchAttestation,
    { seller, invoices, expiry },
  );
  return { expiry, signature };
}

function remember(seller: string, inv: IReceivables.InvoiceStruct): void {
  const id = rootId(inv.fingerprint as string);
  if (!termsById.has(id)) termsById.set(id, termsOf(seller, inv));
}

/** `seller` tokenises `inv` with the attester's attestation; the transaction, for matchers. */
export async function tokenise(
  f: AttestingLedger,
  seller: HardhatEthersSigner,
  inv: IReceivables.InvoiceStruct,
): Promise<ContractTransactionResponse> {
  return f.receivables.connect(seller).tokenise(inv, await attest(f, seller.address, inv));
}

/** `seller` tokenises `invoices` in one batch with one attestation. */
export async function tokeniseBatch(
  f: AttestingLedger,
  seller: HardhatEthersSigner,
  invoices: IReceivables.InvoiceStruct[],
): Promise<ContractTransactionResponse> {
  return f.receivables.connect(seller).tokeniseBatch(invoices, await attestBatch(f, seller.address, invoices));
}

/** `debtor` accepts `id` on the terms it was tokenised with here. */
export function accept(f: Pick<LedgerFixture, "receivables">, debtor: HardhatEthersSigner, id: bigint): Promise<ContractTransactionResponse> {
  return f.receivables.connect(debtor).accept(id, recordedTerms(id));
}

/** Tokenises and accepts an invoice; returns its id. */
export async function acceptedReceivable(
  f: LedgerFixture,
  seller = f.supplier,
  debtor = f.buyer,
  overrides: Partial<IReceivables.InvoiceStruct> = {},
): Promise<bigint> {
  const inv = await makeInvoice(debtor.address, overrides);
  await tokenise(f, seller, inv);
  const id = rootId(inv.fingerprint as string);
  await accept(f, debtor, id);
  return id;
}

/** Default line terms: limit 5 million yuan, 90% advance, 5% a year, open for a year. */
export async function lineTerms(overrides: Partial<{ limit: bigint; maxAdvanceBps: bigint; discountBps: bigint; expiry: bigint }> = {}) {
  return {
    limit: 5_000_000_00n,
    maxAdvanceBps: 9_000n,
    discountBps: 500n,
    expiry: BigInt(await time.latest()) + YEAR,
    ...overrides,
  };
}

/** Signs `value` as `primaryType` for the contract at `verifyingContract` with its EIP-712 domain. */
export async function signAct(
  signer: HardhatEthersSigner,
  domain: { name: string; version: string; chainId?: bigint; verifyingContract: string },
  types: Record<string, TypedDataField[]>,
  value: Record<string, unknown>,
): Promise<string> {
  const chainId = domain.chainId ?? (await ethers.provider.getNetwork()).chainId;
  return signer.signTypedData({ ...domain, chainId }, types, value);
}

/** A deadline one hour from the latest block. */
export async function deadline(): Promise<bigint> {
  return BigInt(await time.latest()) + 3600n;
}
