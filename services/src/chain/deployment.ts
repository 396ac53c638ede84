import { existsSync, readFileSync } from "node:fs";
import type { DeploymentRecord } from "../../../scripts/lib/deploy-ledger";

export type { DeploymentRecord };

/** Reads `deployments/<network>.json` as written by scripts/deploy.ts. */
export function readDeployment(path: string): DeploymentRecord {
  if (!existsSync(path)) {
    throw new Error(`Deployment file ${path} not found. Deploy the contracts first ('npm run deploy -- --network localhost').`);
  }
  const d = JSON.parse(readFileSync(path, "utf8")) as DeploymentRecord;
  for (const name of ["ParticipantRegistry", "SettlementToken", "Receivables", "Financing"] as const) {
    if (!d.contracts?.[name]) throw new Error(`Deployment file ${path} has no address for ${name}.`);
  }
  return d;
}
