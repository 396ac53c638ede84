import { existsSync, readFileSync } from "node:fs";
import type { DeploymentRecord } from "../../../scripts/lib/deploy-ledger";

export type { DeploymentRecord };

/**
 * The version of the ledger's rules, as deployed. Bumped whenever the contracts change what they
 * enforce or how an existing act is signed, so that a service or `npm start` never runs against
 * contracts of another version (it would sign acts they refuse, or miss rules they lack). A
 * deployment record written before the field existed is version 1.
 *
 * A function added without changing any rule (a new way to do an act the ledger already allows) is
 * a feature instead (LEDGER_FEATURES): a ledger deployed before it keeps its version and runs on,
 * and the service refuses only that act there, saying why.
 */
export const LEDGER_VERSION = 2;

/**
 * The optional functions this software's contracts have beyond their version's rules, recorded in
 * the deployment record (`features`) by whatever deploys them:
 *   financing-offers  Financing.financeSignedRequestBySig / withdrawFinancingOfferBySig (financing
 *                     in one relayed transaction);
 *   sealed-import     the migrator-only import of an older ledger (ILedgerImport), sealed after use;
 *   payment-import    Receivables.importPayments within that import: the older ledger's payment
 *                     history, announced as PaymentImported (a ledger without it carried none).
 */
export const LEDGER_FEATURES = ["financing-offers", "sealed-import", "payment-import"] as const;
export type LedgerFeature = (typeof LEDGER_FEATURES)[number];

/** Whether the deployed contracts have `feature` (a record without `features` predates them all). */
export function hasLedgerFeature(record: Pick<DeploymentRecord, "features">, feature: LedgerFeature): boolean {
  return record.features?.includes(feature) ?? false;
}

/**
 * How the data directory or deployment was given, so the refusal of an older ledger names the exact
 * upgrade command: `dataDir` for the embedded platform (`npm start`), nothing for an external chain.
 */
export interface LedgerVersionContext {
  dataDir?: string;
}

/** The command that upgrades the ledger a deployment record describes. */
export function upgradeCommand(path: string, ctx: LedgerVersionContext = {}): string {
  return ctx.dataDir !== undefined
    ? `DATA_DIR=${ctx.dataDir} npm run ledger:upgrade`
    : `RPC_URL=… DATABASE_URL=… DEPLOYMENT_FILE=${path} KEYSTORE_DIR=… ADMIN_KEYSTORE=… npm run ledger:upgrade`;
}

/** The ledger versions `npm run ledger:upgrade` carries into this one (scripts/upgrade-ledger.ts). */
export const UPGRADABLE_FROM: readonly number[] = [1];

/** Refuses a deployment of another ledger version, saying what to do about it. */
export function checkLedgerVersion(record: DeploymentRecord, path: string, ctx: LedgerVersionContext = {}): void {
  const found = record.ledgerVersion ?? 1;
  if (found === LEDGER_VERSION) return;
  const holder = ctx.dataDir !== undefined ? `This data directory (${ctx.dataDir})` : `The deployment ${path}`;
  const refusal =
    `${holder} holds ledger version ${found}; this software runs ledger version ${LEDGER_VERSION} and will neither relay ` +
    `acts to the old contracts nor start a second, empty ledger beside them. `;
  throw new LedgerVersionError(
    found > LEDGER_VERSION
      ? `${path} records ledger version ${found}, newer than this software's ${LEDGER_VERSION}: upgrade this software.`
      : UPGRADABLE_FROM.includes(found)
        ? refusal +
          `Upgrade it first: stop the service, then run \`${upgradeCommand(path, ctx)}\`. ` +
          `It keeps everything: it closes the version ${found} contracts (token paused, members suspended there), copies every ` +
          `member, receivable with its split lineage, credit line, financing and balance into new version ${LEDGER_VERSION} ` +
          `contracts on the same chain as a sealed import, checks each record, keeps the old record in ${path} under ` +
          `"previous" (and a copy beside it) and the service database's applications, documents and compliance records. ` +
          `Then start again.`
        : refusal +
          `No upgrade from version ${found} is built (npm run ledger:upgrade carries version ${UPGRADABLE_FROM.join(", ")}): run the ` +
          `version of this software that deployed it, or start the new ledger in another place and keep this one for audit ` +
          `(${ctx.dataDir !== undefined ? `DATA_DIR=data-v${LEDGER_VERSION} npm start` : "deploy again with 'npm run deploy' and point DEPLOYMENT_FILE at the new record"}).`,
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
export function readDeployment(path: string, ctx: LedgerVersionContext = {}): DeploymentRecord {
  if (!existsSync(path)) {
    throw new Error(`Deployment file ${path} not found. Deploy the contracts first ('npm run deploy -- --network localhost').`);
  }
  const d = JSON.parse(readFileSync(path, "utf8")) as DeploymentRecord;
  for (const name of ["ParticipantRegistry", "SettlementToken", "Receivables", "Financing"] as const) {
    if (!d.contracts?.[name]) throw new Error(`Deployment file ${path} has no address for ${name}.`);
  }
  checkLedgerVersion(d, path, ctx);
  return d;
}
