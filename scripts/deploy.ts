/**
 * Deploys the ledger and writes `deployments/<network>.json`.
 *
 *   npx hardhat run scripts/deploy.ts                      # in-process network (throwaway)
 *   npx hardhat run scripts/deploy.ts --network localhost  # a running `hardhat node` (RPC_URL)
 *
 * Role holders default to the deployer; set ADMIN_ADDRESS, ONBOARDING_OPERATOR_ADDRESS,
 * COMPLIANCE_OFFICER_ADDRESS, ISSUER_ADDRESS and ENFORCER_ADDRESS to hand them to other keys. The
 * admin of every contract changes later only in two steps: `beginDefaultAdminTransfer(newAdmin)`,
 * then the new key calls `acceptDefaultAdminTransfer()` after the admin delay (two days).
 * MIGRATOR_ADDRESS names the one-time key that imports a version-1 ledger into this deployment
 * (ILedgerImport) until it seals the import; unset, the contracts are sealed from the start.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ethers, network } from "hardhat";
import { DEFAULT_PARAMS, deployLedger, describeDeployment, type LedgerRoles } from "./lib/deploy-ledger";

async function main(): Promise<void> {
  const [deployer] = await ethers.getSigners();
  const me = await deployer.getAddress();
  const roles: LedgerRoles = {
    admin: process.env.ADMIN_ADDRESS ?? me,
    onboardingOperator: process.env.ONBOARDING_OPERATOR_ADDRESS ?? me,
    complianceOfficer: process.env.COMPLIANCE_OFFICER_ADDRESS ?? me,
    issuer: process.env.ISSUER_ADDRESS ?? me,
    enforcer: process.env.ENFORCER_ADDRESS ?? process.env.ADMIN_ADDRESS ?? me,
    ...(process.env.MIGRATOR_ADDRESS ? { migrator: process.env.MIGRATOR_ADDRESS } : {}),
  };
  for (const [name, value] of Object.entries(roles)) {
    if (!ethers.isAddress(value)) throw new Error(`${name} is not an address: ${value}`);
  }
  const ledger = await deployLedger(deployer, roles, DEFAULT_PARAMS);
  const { chainId } = await ethers.provider.getNetwork();
  const record = await describeDeployment(
    ledger,
    roles,
    DEFAULT_PARAMS,
    chainId,
    await ethers.provider.getBlockNumber(),
  );
  const dir = join(__dirname, "..", "deployments");
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${network.name}.json`);
  writeFileSync(file, JSON.stringify(record, null, 2) + "\n");
  console.log(`Deployed on ${network.name} (chain ${chainId}):`);
  for (const [name, address] of Object.entries(record.contracts)) console.log(`  ${name.padEnd(20)} ${address}`);
  console.log(`Wrote ${file}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
