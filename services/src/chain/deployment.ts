import { existsSync, readFileSync } from "node:fs";
import type { DeploymentRecord } from "../../../scripts/lib/deploy-ledger";

export type { DeploymentRecord };

/**
 * The version of the ledger's rules, as deployed. Bumped whenever the contracts change what they
 * enforce or how acts are signed, so that a service or `npm start` never runs against contracts of
 * another version (it would sign acts they refuse, or miss rules they lack). A deployment record
 * written before the field existed is version 1.
 */
export const LEDGER_VERSION = 3;

/** Refuses a deployment of another ledger version, saying what to do about it. */
export function checkLedgerVersion(record: DeploymentRecord, path: string): void {
  const found = record.ledgerVersion ?? 1;
  if (found === LEDGER_VERSION) return;
  throw new LedgerVersionError(
    found < LEDGER_VERSION
      ? `${path} records a ledger deployed by an earlier version of this software (ledger version ${found}; this ` +
          `software needs version ${LEDGER_VERSION}). Its contracts do not enforce the current rules, and this ` +
          `software will not start a second, empty ledger beside it. Either run the version that deployed it, or ` +
          `start the new ledger in another place and keep the old one for audit: for the embedded platform, ` +
          `DATA_DIR=data-v${LEDGER_VERSION} npm start; for an external chain, deploy again ('npm run deploy') and ` +
          `point DEPLOYMENT_FILE at the new record.`
      : `${path} records ledger version ${found}, newer than this software's ${LEDGER_VERSION}: upgrade this software.`,
    found,
  );
}

/** A deployment of another ledger version. */
export class LedgerVersionError extends Error {
  constructor(
    message: string,
    readonly found: number,
  ) {
    super(message);
    this.name = "LedgerVersionError";
  }
}

/** Reads `deployments/<network>.json` as written by scripts/deploy.ts. */
export function readDeployment(path: string): DeploymentRecord {
  if (!existsSync(path)) {
    throw new Error(`Deployment file ${path} not found. Deploy the contracts first ('npm run deploy -- --network localhost').`);
  }
  const d = JSON.parse(readFileSync(path, "utf8")) as DeploymentRecord;
  for (const name of ["ParticipantRegistry", "SettlementToken", "Receivables", "Financing"] as const) {
    if (!d.contracts?.[name]) throw new Error(`Deployment file ${path} has no address for ${name}.`);
  }
  checkLedgerVersion(d, path);
  return d;
}
