/**
 * Test helpers for the sealed import of a version-1 ledger (ILedgerImport): a version-2 ledger
 * deployed with a migrator key, version-1 ids, record builders with version-1-shaped defaults, and
 * the numbering of the import faults and statuses.
 */
import { time } from "@nomicfoundation/hardhat-network-helpers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import { ethers } from "hardhat";
import { deployLedger, type Ledger } from "../../../scripts/lib/deploy-ledger";
import type { IFinancingImport } from "../../../typechain-types/contracts/financing/Financing";
import type { IReceivablesImport } from "../../../typechain-types/contracts/receivables/Receivables";
import type { IRegistryImport } from "../../../typechain-types/contracts/registry/ParticipantRegistry";
import { DAY, JURISDICTION_CN, YEAR, entityIdHash, namedActors, type Actors } from "./fixture";
import { ROLE_BITS } from "../../../shared/roles";

export type ImportedReceivable = IReceivablesImport.ImportedReceivableStruct;
export type ImportedCreditLine = IFinancingImport.ImportedCreditLineStruct;
export type ImportedFinancing = IFinancingImport.ImportedFinancingStruct;
export type ImportedMember = IRegistryImport.ImportedMemberStruct;

export const LEDGER_MIGRATOR = ethers.id("LEDGER_MIGRATOR");

/** ILedgerImport.ImportFault, in declaration order. */
export const FAULT = {
  Id: 0,
  Status: 1,
  Holder: 2,
  Seller: 3,
  Debtor: 4,
  Amount: 5,
  DueDate: 6,
  Financed: 7,
  Parent: 8,
  Fingerprint: 9,
  LineId: 10,
  Scope: 11,
  Limit: 12,
  Rates: 13,
  Expiry: 14,
  Line: 15,
  Receivable: 16,
  Principal: 17,
  Roles: 18,
  Profile: 19,
} as const;

/** IReceivables.Status. */
export const R = { None: 0, Issued: 1, Accepted: 2, Financed: 3, Paid: 4, Defaulted: 5, Cancelled: 6, Split: 7 } as const;
/** IFinancing.Status. */
export const F = { None: 0, Requested: 1, Rejected: 2, Active: 3, Repaid: 4, WrittenOff: 5, Withdrawn: 6 } as const;

/** A version-1 root id: the fingerprint itself. */
export function v1RootId(label: string): bigint {
  return BigInt(ethers.keccak256(ethers.toUtf8Bytes(`v1 fingerprint ${label}`)));
}

/** A version-1 child id: keccak256(abi.encode(parentId, index)), no tag. */
export function v1ChildId(parentId: bigint, index: number): bigint {
  return BigInt(ethers.keccak256(ethers.AbiCoder.defaultAbiCoder().encode(["uint256", "uint256"], [parentId, index])));
}

export function documentHash(label: string): string {
  return ethers.sha256(ethers.toUtf8Bytes(`v1 document ${label}`));
}

/** The version-2 fixture actors plus the migrator key. */
export type ImportActors = Actors & { migrator: HardhatEthersSigner };
export type ImportFixture = Ledger & ImportActors & { actors: Actors };

/** A fresh version-2 ledger whose import window is open for `migrator`, nothing imported yet. */
export async function importTargetFixture(): Promise<ImportFixture> {
  const { actors, signers } = await namedActors();
  const { admin, operator, officer, issuer } = actors;
  const migrator = signers[12];
  const ledger = await deployLedger(admin, {
    admin: admin.address,
    onboardingOperator: operator.address,
    complianceOfficer: officer.address,
    issuer: issuer.address,
    migrator: migrator.address,
  });
  return { ...ledger, ...actors, migrator, actors };
}

/** The fixture's members as a version-1 registry would hold them, active with KYC for two years. */
export async function activeMembers(f: ImportFixture): Promise<ImportedMember[]> {
  const kycExpiry = BigInt(await time.latest()) + 2n * YEAR;
  const list: Array<[HardhatEthersSigner, number]> = [
    [f.supplier, ROLE_BITS.supplier],
    [f.supplier2, ROLE_BITS.supplier],
    [f.buyer, ROLE_BITS.buyer],
    [f.buyer2, ROLE_BITS.buyer | ROLE_BITS.supplier],
    [f.financier, ROLE_BITS.financier],
    [f.financier2, ROLE_BITS.financier],
    [f.auditor, ROLE_BITS.auditor],
  ];
  return list.map(([who, roles]) => ({
    account: who.address,
    roles,
    status: 1,
    kycExpiry,
    jurisdiction: JURISDICTION_CN,
    entityIdHash: entityIdHash(who.address),
  }));
}

/** An import target with the fixture's members imported, buyers and financiers funded (imported
 * balances) and their allowances to the new contracts given. */
export async function populatedTargetFixture(): Promise<ImportFixture> {
  const f = await importTargetFixture();
  await f.registry.connect(f.migrator).importMembers(await activeMembers(f));
  const funded = [f.buyer, f.buyer2, f.financier, f.financier2];
  await f.token.connect(f.migrator).importBalances(funded.map((w) => ({ holder: w.address, amount: 10_000_000_00n })));
  for (const who of [f.buyer, f.buyer2]) await f.token.connect(who).approve(await f.receivables.getAddress(), ethers.MaxUint256);
  for (const who of [f.financier, f.financier2]) await f.token.connect(who).approve(await f.financing.getAddress(), ethers.MaxUint256);
  return f;
}

/** A version-1 accepted root receivable of supplier owed by buyer, due in 90 days, unless overridden. */
export async function v1Receivable(f: ImportFixture, label: string, overrides: Partial<ImportedReceivable> = {}): Promise<ImportedReceivable> {
  return {
    id: v1RootId(label),
    parentId: 0n,
    seller: f.supplier.address,
    holder: f.supplier.address,
    debtor: f.buyer.address,
    faceValue: 1_000_000_00n,
    outstanding: 1_000_000_00n,
    dueDate: BigInt(await time.latest()) + 90n * DAY,
    status: R.Accepted,
    financed: false,
    documentHash: documentHash(label),
    fingerprint: ethers.ZeroHash,
    ...overrides,
  };
}

/** A version-1 credit line `id` of financier for buyer and supplier: 5 million yuan, 90 %, 5 %, a year. */
export async function v1Line(f: ImportFixture, id: bigint, overrides: Partial<ImportedCreditLine> = {}): Promise<ImportedCreditLine> {
  return {
    id,
    financier: f.financier.address,
    debtor: f.buyer.address,
    supplier: f.supplier.address,
    limit: 5_000_000_00n,
    utilised: 0n,
    maxAdvanceBps: 9_000n,
    discountBps: 500n,
    expiry: BigInt(await time.latest()) + YEAR,
    open: true,
    ...overrides,
  };
}
