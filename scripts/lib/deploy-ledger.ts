/**
 * Deploys the ledger's four contracts and wires them. Shared by `scripts/deploy.ts`, the contract
 * tests, the benchmarks and the service's embedded start, so every environment gets the same wiring.
 */
import type { Signer } from "ethers";
import {
  Financing__factory,
  ParticipantRegistry__factory,
  Receivables__factory,
  SettlementToken__factory,
} from "../../typechain-types";
import type { Financing, ParticipantRegistry, Receivables, SettlementToken } from "../../typechain-types";

export interface LedgerRoles {
  /** Holds DEFAULT_ADMIN_ROLE everywhere and the pauser role of the token. */
  admin: string;
  /** The service key that registers members. */
  onboardingOperator: string;
  /** The service key that renews KYC, suspends and reinstates members. */
  complianceOfficer: string;
  /** Mints and burns the settlement token. */
  issuer: string;
  /**
   * Signs invoice attestations (Receivables' INVOICE_ATTESTER_ROLE). Unset, the compliance key: the
   * service's compliance step is what checks an invoice before attesting it, and one key fewer to
   * keep. A dedicated key (an HSM in front of the tax authority's e-invoice check) is granted the
   * same way, and the admin can grant or revoke attesters later.
   */
  invoiceAttester?: string;
}

export interface LedgerParams {
  tokenName: string;
  tokenSymbol: string;
  /** Smallest face value of a split child, in fen. */
  minDenomination: bigint;
  /** Seconds after the due date before an unpaid receivable may be marked defaulted. */
  gracePeriod: bigint;
}

export const DEFAULT_PARAMS: LedgerParams = {
  tokenName: "Digital CNY (test)",
  tokenSymbol: "eCNY",
  minDenomination: 100_00n,
  gracePeriod: 30n * 24n * 3600n,
};

export interface Ledger {
  registry: ParticipantRegistry;
  token: SettlementToken;
  receivables: Receivables;
  financing: Financing;
}

export interface DeploymentRecord {
  chainId: string;
  deployedAt: string;
  blockNumber: number;
  roles: LedgerRoles;
  params: { tokenName: string; tokenSymbol: string; minDenomination: string; gracePeriod: string };
  contracts: { ParticipantRegistry: string; SettlementToken: string; Receivables: string; Financing: string };
}

/** Deploys and wires the ledger with `deployer` paying; returns typed contract handles. */
export async function deployLedger(
  deployer: Signer,
  roles: LedgerRoles,
  params: LedgerParams = DEFAULT_PARAMS,
): Promise<Ledger> {
  const registry = await new ParticipantRegistry__factory(deployer).deploy(
    roles.admin,
    roles.onboardingOperator,
    roles.complianceOfficer,
  );
  await registry.waitForDeployment();
  const token = await new SettlementToken__factory(deployer).deploy(
    params.tokenName,
    params.tokenSymbol,
    await registry.getAddress(),
    roles.admin,
    roles.issuer,
  );
  await token.waitForDeployment();
  const receivables = await new Receivables__factory(deployer).deploy(
    await registry.getAddress(),
    await token.getAddress(),
    await deployer.getAddress(),
    params.minDenomination,
    params.gracePeriod,
  );
  await receivables.waitForDeployment();
  const financing = await new Financing__factory(deployer).deploy(
    await registry.getAddress(),
    await receivables.getAddress(),
  );
  await financing.waitForDeployment();

  // The deployer wires the financing module (once), then hands the admin role to `admin`.
  await (await receivables.setFinancingModule(await financing.getAddress())).wait();
  const attesterRole = await receivables.INVOICE_ATTESTER_ROLE();
  await (await receivables.grantRole(attesterRole, roles.invoiceAttester ?? roles.complianceOfficer)).wait();
  const deployerAddress = await deployer.getAddress();
  if (deployerAddress.toLowerCase() !== roles.admin.toLowerCase()) {
    const adminRole = await receivables.DEFAULT_ADMIN_ROLE();
    await (await receivables.grantRole(adminRole, roles.admin)).wait();
    await (await receivables.renounceRole(adminRole, deployerAddress)).wait();
  }
  return { registry, token, receivables, financing };
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
    chainId: chainId.toString(),
    deployedAt: new Date().toISOString(),
    blockNumber,
    roles,
    params: {
      tokenName: params.tokenName,
      tokenSymbol: params.tokenSymbol,
      minDenomination: params.minDenomination.toString(),
      gracePeriod: params.gracePeriod.toString(),
    },
    contracts: {
      ParticipantRegistry: await ledger.registry.getAddress(),
      SettlementToken: await ledger.token.getAddress(),
      Receivables: await ledger.receivables.getAddress(),
      Financing: await ledger.financing.getAddress(),
    },
  };
}
