/**
 * Deploys the ledger's four contracts and wires them. Shared by `scripts/deploy.ts`, the contract
 * tests, the benchmarks and the service's embedded start, so every environment gets the same wiring.
 */
import { getCreateAddress, ZeroAddress, type Signer } from "ethers";
import {
  Financing__factory,
  ParticipantRegistry__factory,
  ReceivablesImporter__factory,
  Receivables__factory,
  SettlementToken__factory,
} from "../../typechain-types";
import type { Financing, ParticipantRegistry, Receivables, SettlementToken } from "../../typechain-types";
import type { ReceivablesLibraryAddresses } from "../../typechain-types/factories/contracts/receivables/Receivables__factory";
import { LEDGER_FEATURES, LEDGER_VERSION, type LedgerFeature } from "../../services/src/chain/deployment";

export interface LedgerRoles {
  /** Holds DEFAULT_ADMIN_ROLE everywhere and the pauser role of the token. Handing it to another
   * key is two-step (begin, then accept after `LedgerParams.adminDelay`), per contract. */
  admin: string;
  /** The service key that registers members. */
  onboardingOperator: string;
  /** The service key that renews KYC, suspends and reinstates members. */
  complianceOfficer: string;
  /** Mints the settlement token and redeems balances with their holders' consent. */
  issuer: string;
  /** Burns a holder's balance without its consent, naming the legal ground (defaults to `admin`). */
  enforcer?: string;
  /**
   * Signs invoice attestations (Receivables' INVOICE_ATTESTER_ROLE). Unset, the compliance key: the
   * service's compliance step is what checks an invoice before attesting it, and one key fewer to
   * keep. A dedicated key (an HSM in front of the tax authority's e-invoice check) is granted the
   * same way, and the admin can grant or revoke attesters later.
   */
  invoiceAttester?: string;
  /**
   * The one-time key that copies a version-1 ledger into this one (LEDGER_MIGRATOR on all four
   * contracts, ILedgerImport) until it calls `sealImport` on each. Unset, there is no import window
   * at all: every contract is sealed from its first block, so no admin can later mint receivables,
   * balances or members past the ledger's rules by granting itself the role. Only a deployment made
   * to receive an old ledger names one.
   */
  migrator?: string;
}

export interface LedgerParams {
  tokenName: string;
  tokenSymbol: string;
  /** Smallest face value of a split child, in fen. */
  minDenomination: bigint;
  /** Seconds after the due date before an unpaid receivable may be marked defaulted. */
  gracePeriod: bigint;
  /** Seconds a new admin must wait before accepting DEFAULT_ADMIN_ROLE on each contract. */
  adminDelay: bigint;
}

export const DEFAULT_PARAMS: LedgerParams = {
  tokenName: "Digital CNY (test)",
  tokenSymbol: "eCNY",
  minDenomination: 100_00n,
  gracePeriod: 30n * 24n * 3600n,
  // Two days: long enough for the other key holders to see a pending admin change on-chain and
  // pause the token or cancel the transfer; short enough to replace a lost admin key the same week.
  adminDelay: 2n * 24n * 3600n,
};

export interface Ledger {
  registry: ParticipantRegistry;
  token: SettlementToken;
  receivables: Receivables;
  financing: Financing;
}

export interface DeploymentRecord {
  /** The rules' version (services/src/chain/deployment.ts LEDGER_VERSION); absent means 1. */
  ledgerVersion?: number;
  /** Optional functions the contracts have (LEDGER_FEATURES); absent means none of them. */
  features?: LedgerFeature[];
  chainId: string;
  deployedAt: string;
  blockNumber: number;
  roles: LedgerRoles;
  params: { tokenName: string; tokenSymbol: string; minDenomination: string; gracePeriod: string; adminDelay: string };
  contracts: { ParticipantRegistry: string; SettlementToken: string; Receivables: string; Financing: string };
}

/** Deploys and wires the ledger with `deployer` paying; returns typed contract handles. */
export async function deployLedger(
  deployer: Signer,
  roles: LedgerRoles,
  params: LedgerParams = DEFAULT_PARAMS,
): Promise<Ledger> {
  // Receivables names its financing module and the token names Receivables (the system account that
  // holds payments) at construction, so nothing is wired afterwards by a deployer-held admin key.
  // Both addresses follow from the deployer's nonce: Receivables' linked import library n (its
  // version-1 import lives there, outside Receivables' size limit), registry n+1, token n+2,
  // receivables n+3, financing n+4.
  const deployerAddress = await deployer.getAddress();
  const start = await deployer.getNonce("pending");
  const importer = await new ReceivablesImporter__factory(deployer).deploy({ nonce: start });
  await importer.waitForDeployment();
  const nonce = start + 1;
  const migrator = roles.migrator ?? ZeroAddress;
  const expectedReceivables = getCreateAddress({ from: deployerAddress, nonce: nonce + 2 });
  const expectedFinancing = getCreateAddress({ from: deployerAddress, nonce: nonce + 3 });
  const registry = await new ParticipantRegistry__factory(deployer).deploy(
    roles.admin,
    params.adminDelay,
    roles.onboardingOperator,
    roles.complianceOfficer,
    migrator,
    { nonce },
  );
  await registry.waitForDeployment();
  const token = await new SettlementToken__factory(deployer).deploy(
    params.tokenName,
    params.tokenSymbol,
    await registry.getAddress(),
    roles.admin,
    params.adminDelay,
    roles.issuer,
    roles.enforcer ?? roles.admin,
    expectedReceivables,
    migrator,
    { nonce: nonce + 1 },
  );
  await token.waitForDeployment();
  const receivables = await new Receivables__factory(receivablesLibraries(await importer.getAddress()), deployer).deploy(
    await registry.getAddress(),
    await token.getAddress(),
    expectedFinancing,
    roles.admin,
    params.adminDelay,
    roles.invoiceAttester ?? roles.complianceOfficer,
    params.minDenomination,
    params.gracePeriod,
    migrator,
    { nonce: nonce + 2 },
  );
  await receivables.waitForDeployment();
  const financing = await new Financing__factory(deployer).deploy(
    await registry.getAddress(),
    await receivables.getAddress(),
    roles.admin,
    params.adminDelay,
    migrator,
    { nonce: nonce + 3 },
  );
  await financing.waitForDeployment();
  if ((await receivables.getAddress()) !== expectedReceivables || (await financing.getAddress()) !== expectedFinancing) {
    throw new Error("deployLedger: another transaction from the deployer interleaved; the wiring is wrong, deploy again");
  }
  return { registry, token, receivables, financing };
}

/** The library addresses Receivables' bytecode is linked with (its version-1 import, ReceivablesImporter). */
export function receivablesLibraries(importer: string): ReceivablesLibraryAddresses {
  return { "contracts/receivables/ReceivablesImporter.sol:ReceivablesImporter": importer };
}

/** The JSON written to `deployments/<network>.json`. */
export async function describeDeployment(
  ledger: Ledger,
  roles: LedgerRoles,
  params: LedgerParams,
  chainId: bigint,
  blockNumber: number,
): Promise<DeploymentRecord> {
  return {
    ledgerVersion: LEDGER_VERSION,
    features: [...LEDGER_FEATURES],
    chainId: chainId.toString(),
    deployedAt: new Date().toISOString(),
    blockNumber,
    roles,
    params: {
      tokenName: params.tokenName,
      tokenSymbol: params.tokenSymbol,
      minDenomination: params.minDenomination.toString(),
      gracePeriod: params.gracePeriod.toString(),
      adminDelay: params.adminDelay.toString(),
    },
    contracts: {
      ParticipantRegistry: await ledger.registry.getAddress(),
      SettlementToken: await ledger.token.getAddress(),
      Receivables: await ledger.receivables.getAddress(),
      Financing: await ledger.financing.getAddress(),
    },
  };
}
