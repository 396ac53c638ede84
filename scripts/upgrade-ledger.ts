/**
 * `npm run ledger:upgrade`: carries a ledger version 1 into new contracts of the current version
 * (LEDGER_VERSION; "v2" below and in the code means that new ledger) on the same chain, as a sealed
 * import, losing nothing.
 *
 * Embedded platform (the default): DATA_DIR (default `data/`), exactly as `npm start` uses it; the
 * durable chain is started on it here (so `npm start` must be stopped). External chain: RPC_URL,
 * DATABASE_URL, DEPLOYMENT_FILE and KEYSTORE_DIR / KEYSTORE_PASSWORD as the service takes them, plus
 * ADMIN_KEYSTORE (the v1 contracts' admin key: it pauses the v1 token and deploys v2).
 * INVOICES_FILE (or `--invoices FILE`): an export of the v1 invoices (the CLI's CSV columns) whose
 * version-2 identities are to be reserved too (see scripts/lib/v1-invoices.ts).
 *
 * Steps (each one safe to repeat; the progress is kept in `<data dir>/ledger-upgrade/state.json`):
 *   1. checks: the deployment is version 1, the service keys are the v1 roles, the service's outbox
 *      has nothing unsettled (an act in flight would land on the old contracts);
 *   2. closes v1: pauses its token (no money moves, so no payment, financing or repayment) and
 *      suspends every active member there with reason LEDGER_UPGRADED (no transfer, split,
 *      acceptance or tokenisation) — v1 has no pause of its own for receivables;
 *   3. reads the whole v1 state at one block (scripts/lib/ledger-v1.ts) into `v1-snapshot.json`;
 *   4. deploys v2 with the same service keys and a one-time migrator (the admin key); the four
 *      addresses are predicted from the deployer's nonce and recorded BEFORE deploying, so a run
 *      killed mid-deployment finds them again (or sees the nonce moved on and deploys afresh);
 *   5. imports members, balances, receivables (parents first; cancelled and split ones as tombstones
 *      keeping their id and document used), v1's payment history (PaymentImported: no money moves),
 *      credit lines and financings — each record only if v2 does not hold it yet, so a re-run never
 *      duplicates;
 *   6. reads every record back from v2 and compares it with the snapshot (members, receivables with
 *      lineage, payments, credit lines, financings, balances, total supply); then seals the import and
 *      renounces the migrator role. A difference stops the upgrade before anything points at v2:
 *      that deployment is sealed unused and the next run deploys and imports afresh;
 *   7. the service database: its ledger-event feed and projections of v1 are exported to
 *      `v1-ledger-events.ndjson` and cleared, with the indexer checkpoint and the nonce counters of
 *      the service keys, so the service rebuilds them from the v2 contracts (the import events
 *      included); applications, documents, compliance records, acts and sessions stay;
 *   8. writes `report.json` and rewrites deployment.json as version 2 with the v1 record under
 *      `previous` (the v1 file is kept as deployment.v1.json). That write is the commit point: until
 *      it happens `npm start` still refuses the directory and a re-run continues.
 * On a directory already at version 2 it says so and changes nothing.
 */
import "reflect-metadata";
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname, isAbsolute, join, relative, resolve } from "node:path";
import {
  Contract,
  HDNodeWallet,
  Interface,
  JsonRpcProvider,
  Mnemonic,
  Wallet,
  getCreateAddress,
  id as keccakId,
  type ContractTransactionResponse,
  type Signer,
} from "ethers";
import type { DataSource } from "typeorm";
import { LEDGER_VERSION, type DeploymentRecord } from "../services/src/chain/deployment";
import { DEVELOPMENT_FINGERPRINT_SALT } from "../services/src/config/env";
import { openDatabase } from "../services/src/database/data-source";
import {
  IFinancingImport__factory,
  IReceivablesImport__factory,
  IRegistryImport__factory,
  ISettlementImport__factory,
  Financing__factory,
  ParticipantRegistry__factory,
  Receivables__factory,
  SettlementToken__factory,
} from "../typechain-types";
import type { Financing, IFinancingImport, IReceivablesImport, IRegistryImport, ISettlementImport, Receivables } from "../typechain-types";
import type { PaymentImportedEvent } from "../typechain-types/contracts/receivables/Receivables";
import { DEFAULT_PARAMS, deployLedger, describeDeployment, type LedgerParams, type LedgerRoles } from "./lib/deploy-ledger";
import {
  UPGRADE_SUSPENSION_REASON,
  V1_REGISTRY_ABI,
  V1_TOKEN_ABI,
  V1_MEMBER_STATUS,
  readV1Snapshot,
  snapshotCounts,
  type V1CreditLine,
  type V1Payment,
  type V1Snapshot,
} from "./lib/ledger-v1";
import { matchInvoiceFile, type InvoiceFileResult } from "./lib/v1-invoices";

const HARDHAT_MNEMONIC = "test test test test test test test test test test test junk";
const RECEIVABLE_STATUS = ["none", "issued", "accepted", "financed", "paid", "defaulted", "cancelled", "split"];
const FINANCING_STATUS = ["none", "requested", "rejected", "active", "repaid", "written_off", "withdrawn"];
const ZERO = "0x0000000000000000000000000000000000000000";
const ZERO32 = "0x" + "0".repeat(64);
/** Records per import transaction (well inside a block's gas at ~200k gas per receivable). */
const BATCH = 40;
const LEDGER_MIGRATOR_ROLE = keccakId("LEDGER_MIGRATOR");

export class UpgradeError extends Error {}

/** A deployment record as this tool writes it: v2, with where it came from. */
export interface UpgradedDeploymentRecord extends DeploymentRecord {
  previous?: DeploymentRecord & { upgradedAt: string; snapshotBlock: number; report: string };
}

interface UpgradeState {
  format: 1;
  startedAt: string;
  v1: DeploymentRecord;
  closedAtBlock?: number;
  /** Recorded before deploying: a killed run finds the contracts at these addresses. */
  v2Planned?: { deployer: string; nonce: number; atBlock: number; contracts: DeploymentRecord["contracts"] };
  v2?: DeploymentRecord;
  sealed?: boolean;
  /** v2 deployments that failed verification: sealed unused, never referenced. */
  abandoned?: Array<DeploymentRecord["contracts"]>;
  databaseReset?: boolean;
}

interface Options {
  dataDir: string | null;
  deploymentFile: string;
  keysDir: string;
  password: string;
  database: { kind: "sqlite"; path: string } | { kind: "postgres"; url: string };
  rpcUrl: string | null;
  chainPort: number;
  adminKeystore: string | null;
  invoicesFile: string | null;
  salt: string;
  /** Only read v1 and print what would be carried. */
  dryRun: boolean;
}

const log = (line: string) => process.stdout.write(`${line}\n`);
const rel = (p: string) => {
  const r = relative(process.cwd(), p);
  return r.startsWith("..") || isAbsolute(r) ? p : r || ".";
};

function writeJson(path: string, value: unknown): void {
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, JSON.stringify(value, null, 2) + "\n");
  renameSync(tmp, path); // atomic: a reader (or a killed run) sees the old file or the new one
}

async function unlock(path: string, password: string, what: string): Promise<Wallet> {
  if (!existsSync(path)) throw new UpgradeError(`The ${what} keystore ${path} is missing.`);
  const w = await Wallet.fromEncryptedJson(readFileSync(path, "utf8"), password).catch((err: Error) => {
    throw new UpgradeError(`Cannot unlock the ${what} keystore ${path}: ${err.message}`);
  });
  return w instanceof Wallet ? w : new Wallet(w.privateKey);
}

export async function sent(p: Promise<ContractTransactionResponse>): Promise<void> {
  const receipt = await (await p).wait();
  if (!receipt || receipt.status !== 1) throw new UpgradeError(`transaction ${receipt?.hash ?? "?"} failed`);
}

export function chunks<T>(xs: T[], n: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += n) out.push(xs.slice(i, i + n));
  return out;
}

function options(argv: string[]): Options {
  const arg = (name: string) => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const external = !!process.env.RPC_URL && !!process.env.DATABASE_URL;
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(process.cwd(), p));
  const invoices = arg("--invoices") ?? process.env.INVOICES_FILE;
  const salt = process.env.FINGERPRINT_SALT || DEVELOPMENT_FINGERPRINT_SALT;
  if (external) {
    const deploymentFile = abs(process.env.DEPLOYMENT_FILE || "deployments/localhost.json");
    const password = process.env.KEYSTORE_PASSWORD;
    if (!password) throw new UpgradeError("KEYSTORE_PASSWORD is not set: the service keys cannot be unlocked.");
    if (!process.env.ADMIN_KEYSTORE) {
      throw new UpgradeError("ADMIN_KEYSTORE is not set: the v1 contracts' admin key (an encrypted keystore, KEYSTORE_PASSWORD) pauses the v1 token and deploys v2.");
    }
    const url = process.env.DATABASE_URL!;
    return {
      dataDir: null,
      deploymentFile,
      keysDir: abs(process.env.KEYSTORE_DIR || "keys"),
      password,
      database: /^postgres(ql)?:\/\//.test(url) ? { kind: "postgres", url } : { kind: "sqlite", path: abs(url.replace(/^sqlite:/, "")) },
      rpcUrl: process.env.RPC_URL!,
      chainPort: 0,
      adminKeystore: abs(process.env.ADMIN_KEYSTORE),
      invoicesFile: invoices ? abs(invoices) : null,
      salt,
      dryRun: argv.includes("--dry-run"),
    };
  }
  const dataDir = abs(process.env.DATA_DIR || "data");
  const keysDir = join(dataDir, "keys");
  const passwordFile = join(keysDir, "password.txt");
  const password = existsSync(passwordFile) ? readFileSync(passwordFile, "utf8").trim() : process.env.KEYSTORE_PASSWORD;
  if (!password) throw new UpgradeError(`${passwordFile} is missing and KEYSTORE_PASSWORD is not set: the service keys cannot be unlocked.`);
  const dbUrl = process.env.DATABASE_URL;
  return {
    dataDir,
    deploymentFile: join(dataDir, "deployment.json"),
    keysDir,
    password,
    database:
      dbUrl && /^postgres(ql)?:\/\//.test(dbUrl) ? { kind: "postgres", url: dbUrl } : { kind: "sqlite", path: dbUrl ? abs(dbUrl.replace(/^sqlite:/, "")) : join(dataDir, "ledger.sqlite") },
    rpcUrl: null,
    chainPort: Number(process.env.UPGRADE_CHAIN_PORT || 0),
    adminKeystore: null,
    invoicesFile: invoices ? abs(invoices) : null,
    salt,
    dryRun: argv.includes("--dry-run"),
  };
}

// ------------------------------------------------------------------------------------------ main

async function main(): Promise<void> {
  if (existsSync(".env")) process.loadEnvFile(".env");
  const t0 = Date.now();
  const opt = options(process.argv.slice(2));
  const where = opt.dataDir ? `data directory ${rel(opt.dataDir)}` : `deployment ${rel(opt.deploymentFile)}`;
  if (!existsSync(opt.deploymentFile)) {
    throw new UpgradeError(`${rel(opt.deploymentFile)} does not exist: there is no ledger to upgrade in this ${opt.dataDir ? "data directory" : "place"}.`);
  }
  const current = JSON.parse(readFileSync(opt.deploymentFile, "utf8")) as UpgradedDeploymentRecord;
  const version = current.ledgerVersion ?? 1;
  if (version === LEDGER_VERSION) {
    log(
      `The ${where} is already version ${LEDGER_VERSION}` +
        (current.previous ? ` (upgraded from version ${current.previous.ledgerVersion ?? 1} at ${current.previous.upgradedAt}; report ${current.previous.report})` : "") +
        ": nothing to do.",
    );
    return;
  }
  if (version !== 1) throw new UpgradeError(`The ${where} holds ledger version ${version}; this tool upgrades version 1 to ${LEDGER_VERSION}.`);

  const workDir = join(dirname(opt.deploymentFile), "ledger-upgrade");
  const stateFile = join(workDir, "state.json");
  const backup = join(dirname(opt.deploymentFile), "deployment.v1.json");
  const resumed = existsSync(stateFile);
  const state: UpgradeState = resumed
    ? (JSON.parse(readFileSync(stateFile, "utf8")) as UpgradeState)
    : { format: 1, startedAt: new Date().toISOString(), v1: current };
  const save = () => writeJson(stateFile, state);
  if (!opt.dryRun) {
    mkdirSync(workDir, { recursive: true });
    if (!existsSync(backup)) copyFileSync(opt.deploymentFile, backup);
    save();
  }
  log(`${opt.dryRun ? "Reading" : "Upgrading"} the ${where} (ledger version 1 to ${LEDGER_VERSION})${resumed ? ", continuing an interrupted run" : ""}`);

  // --- chain
  let stopChain: (() => Promise<void>) | null = null;
  let url = opt.rpcUrl;
  if (!url) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { alwaysShown, startDurableChain } = require("../platform/chain/durable-chain") as typeof import("../platform/chain/durable-chain");
    const chain = await startDurableChain({ dataDir: opt.dataDir!, port: opt.chainPort, log: (l) => alwaysShown(l) && log(`[chain] ${l}`) }).catch(
      (err: Error) => {
        throw new UpgradeError(`${err.message}${/in use by process/.test(err.message) ? " — stop `npm start` on this data directory first." : ""}`);
      },
    );
    url = chain.url;
    stopChain = () => chain.stop();
    log(`  chain       ${url}  (${chain.blocksReplayed} blocks replayed)`);
  }
  let ds: DataSource | null = null;
  const provider = new JsonRpcProvider(url, undefined, { cacheTimeout: -1, pollingInterval: 50 });
  try {
    const chainId = (await provider.getNetwork()).chainId;
    if (BigInt(state.v1.chainId) !== chainId) throw new UpgradeError(`${rel(opt.deploymentFile)} is for chain ${state.v1.chainId}, the node is chain ${chainId}.`);
    const admin = opt.adminKeystore
      ? (await unlock(opt.adminKeystore, opt.password, "admin")).connect(provider)
      : new Wallet(HDNodeWallet.fromMnemonic(Mnemonic.fromPhrase(HARDHAT_MNEMONIC), "m/44'/60'/0'/0/0").privateKey, provider);
    const keys = {
      operator: (await unlock(join(opt.keysDir, "operator.json"), opt.password, "operator")).connect(provider),
      compliance: (await unlock(join(opt.keysDir, "compliance.json"), opt.password, "compliance")).connect(provider),
      issuer: (await unlock(join(opt.keysDir, "issuer.json"), opt.password, "issuer")).connect(provider),
    };
    const roles = state.v1.roles;
    const expect = { admin: admin.address, onboardingOperator: keys.operator.address, complianceOfficer: keys.compliance.address, issuer: keys.issuer.address };
    for (const [k, v] of Object.entries(expect)) {
      if ((roles as unknown as Record<string, string>)[k]?.toLowerCase() !== v.toLowerCase()) {
        throw new UpgradeError(`The v1 deployment names ${k} ${(roles as unknown as Record<string, string>)[k]}, but the key given is ${v}: use the keys that deployed it.`);
      }
    }
    for (const c of Object.values(state.v1.contracts)) {
      if ((await provider.getCode(c)) === "0x") throw new UpgradeError(`The chain has no code at ${c} (v1): is this the chain the deployment was made on?`);
    }

    if (opt.dryRun) {
      const snapshot = await readV1Snapshot(provider, state.v1.contracts, state.v1.blockNumber, await provider.getBlockNumber());
      log(`  v1 holds    ${Object.entries(snapshotCounts(snapshot)).map(([k, v]) => `${k} ${v}`).join(", ")}; total supply ${snapshot.totalSupply}`);
      log("Dry run: nothing was changed.");
      return;
    }

    // --- 1. the service database may not have anything in flight
    ds = await openDatabase(opt.database);
    if (!state.databaseReset) await refuseUnsettled(ds);

    // --- 2. close v1
    const closed = await closeV1(state.v1, admin, keys.compliance);
    state.closedAtBlock ??= await provider.getBlockNumber();
    save();
    log(`  v1 closed   token paused${closed.suspended ? `, ${closed.suspended} members suspended there` : ""} (block ${state.closedAtBlock})`);

    // --- 3. snapshot
    const tSnap = Date.now();
    const head = await provider.getBlockNumber();
    const snapshot = await readV1Snapshot(provider, state.v1.contracts, state.v1.blockNumber, head);
    writeJson(join(workDir, "v1-snapshot.json"), snapshot);
    const counts = snapshotCounts(snapshot);
    log(`  v1 read     ${Object.entries(counts).map(([k, v]) => `${k} ${v}`).join(", ")} (block ${head}, ${Date.now() - tSnap} ms)`);

    // --- invoice identities from the operator's export
    let invoices: InvoiceFileResult | null = null;
    const v2Fingerprints = new Map<string, string>();
    if (opt.invoicesFile) {
      invoices = matchInvoiceFile(opt.invoicesFile, opt.salt, new Set(snapshot.receivables.filter((r) => r.parentId === null).map((r) => r.id)));
      const used = new Set<string>();
      for (const m of invoices.matched) {
        if (used.has(m.v2Fingerprint)) {
          invoices.unmatched.push({ line: 0, reason: `invoice ${m.invoiceNumber} of ${m.sellerTaxId} is on v1 more than once; its v${LEDGER_VERSION} identity is reserved with the first` });
          continue;
        }
        used.add(m.v2Fingerprint);
        v2Fingerprints.set(m.v1Id, m.v2Fingerprint);
      }
      log(`  invoices    ${invoices.matched.length} of ${invoices.rows} rows of ${rel(opt.invoicesFile)} are v1 receivables: their v${LEDGER_VERSION} identities are reserved`);
    }

    // --- 4. v2 deployment (recorded before anything is imported)
    const v2 = await ensureV2(state, save, admin, provider, chainId);
    log(`  v${LEDGER_VERSION}          ${Object.entries(v2.contracts).map(([n, a]) => `${n} ${a}`).join(", ")}`);

    // --- 5. import
    const tImport = Date.now();
    const imported = await importAll(snapshot, v2, admin, v2Fingerprints);
    log(`  imported    ${Object.entries(imported).map(([k, v]) => `${k} ${v}`).join(", ")} (${Date.now() - tImport} ms)`);

    // --- 6. verify, then seal (a v2 that differs is sealed unused and the next run deploys afresh)
    const differences = await verifyV2(snapshot, v2, provider, v2Fingerprints);
    const v1After = await readV1Snapshot(provider, state.v1.contracts, state.v1.blockNumber, await provider.getBlockNumber());
    const drift = JSON.stringify({ ...v1After, block: 0, blockHash: "", takenAt: "" }) !== JSON.stringify({ ...snapshot, block: 0, blockHash: "", takenAt: "" });
    if (differences.length) {
      writeJson(join(workDir, "differences.json"), differences);
      await seal(v2, admin);
      state.abandoned = [...(state.abandoned ?? []), v2.contracts];
      delete state.v2;
      delete state.v2Planned;
      delete state.sealed;
      save();
      throw new UpgradeError(
        `v${LEDGER_VERSION} differs from v1 in ${differences.length} place(s) (first: ${differences[0]}); see ${rel(join(workDir, "differences.json"))}. ` +
          `That deployment is sealed and will not be used; nothing points at it: the data directory still holds version 1. ` +
          `Run the upgrade again to deploy and import afresh.`,
      );
    }
    if (drift) {
      log(
        "  ! the closed v1 contracts changed after the snapshot (an unaccepted receivable cancelled or a credit note applied: v1 lets " +
          "those through without membership); v2 holds the snapshot, and report.json says so",
      );
    }
    if (!state.sealed) {
      await seal(v2, admin);
      state.sealed = true;
      save();
    }
    log(`  verified    every member, receivable (with lineage), credit line, financing and balance read back from v${LEDGER_VERSION} equals v1; total supply ${snapshot.totalSupply}; import sealed`);

    // --- 7. the service database
    if (!state.databaseReset) {
      const exported = await resetProjections(ds, join(workDir, "v1-ledger-events.ndjson"));
      state.databaseReset = true;
      save();
      log(`  database    v1 event feed (${exported} events) exported to ${rel(join(workDir, "v1-ledger-events.ndjson"))}; projections cleared for the indexer to rebuild from v${LEDGER_VERSION}`);
    }

    // --- 8. report, then the commit point
    const reportFile = join(workDir, "report.json");
    const report = {
      upgradedAt: new Date().toISOString(),
      from: { ledgerVersion: 1, contracts: state.v1.contracts, snapshotBlock: snapshot.block, snapshotBlockHash: snapshot.blockHash },
      to: { ledgerVersion: LEDGER_VERSION, contracts: v2.contracts, deployedAtBlock: v2.blockNumber },
      counts,
      importedThisRun: imported,
      totalSupply: snapshot.totalSupply,
      v1Closed: {
        tokenPaused: true,
        membersSuspendedWithReason: "LEDGER_UPGRADED",
        note: "v1 has no pause for receivables: suspending its members stops transfers, splits, acceptances, tokenisation and financing there; cancelling an unaccepted receivable or a credit note needs no membership in v1 and is still possible on the closed contracts (the new ledger is the ledger of record)",
        changedSinceSnapshot: drift,
      },
      fingerprints: {
        v1IdsKept: snapshot.receivables.length,
        documentHashesReserved: new Set(snapshot.receivables.filter((r) => r.parentId === null).map((r) => r.documentHash)).size,
        v2IdentitiesReserved: v2Fingerprints.size,
        invoicesFile: opt.invoicesFile ? { path: opt.invoicesFile, rows: invoices!.rows, matched: invoices!.matched.length, unmatched: invoices!.unmatched } : null,
        note:
          "v1 ids (its fingerprints) and document hashes are imported, tombstones included, so neither can be tokenised on the new ledger. v1 kept no invoice number " +
          "or tax id (its database stores the salted fingerprint only), so an invoice's new identity (seller + number) can be reserved only from the operator's own export " +
          "(INVOICES_FILE / --invoices, the CLI's CSV columns), each row checked against the v1 fingerprint it must reproduce.",
      },
      durationMs: Date.now() - t0,
    };
    writeJson(reportFile, report);
    const record: UpgradedDeploymentRecord = {
      ...v2,
      previous: { ...state.v1, upgradedAt: report.upgradedAt, snapshotBlock: snapshot.block, report: rel(reportFile) },
    };
    writeJson(opt.deploymentFile, record);
    log(
      [
        "",
        `Upgraded to ledger version ${LEDGER_VERSION} in ${((Date.now() - t0) / 1000).toFixed(1)} s.`,
        `  members ${counts.members}, receivables ${counts.receivables} (${counts["receivables.children"]} split children, ${counts["receivables.cancelled"]} cancelled, ${counts["receivables.split"]} split), credit lines ${counts.creditLines}, financings ${counts.financings}, balances ${counts.balances}`,
        `  report ${rel(reportFile)}; the v1 record is under "previous" in ${rel(opt.deploymentFile)} and in ${rel(backup)}`,
        `  start it: ${opt.dataDir ? `DATA_DIR=${rel(opt.dataDir)} npm start` : `npm start (the service rebuilds its projections from v${LEDGER_VERSION})`}`,
      ].join("\n"),
    );
  } finally {
    provider.destroy();
    await ds?.destroy().catch(() => undefined);
    await stopChain?.();
  }
}

// ------------------------------------------------------------------------------------------ steps

async function refuseUnsettled(ds: DataSource): Promise<void> {
  const rows = (await ds.query(`SELECT status, COUNT(*) AS n FROM outbox WHERE status NOT IN ('mined', 'failed') GROUP BY status`)) as Array<{ status: string; n: number | string }>;
  const acts = (await ds.query(`SELECT COUNT(*) AS n FROM acts WHERE status = 'pending'`)) as Array<{ n: number | string }>;
  const pending = rows.reduce((s, r) => s + Number(r.n), 0);
  if (pending || Number(acts[0]?.n ?? 0)) {
    throw new UpgradeError(
      `The service still has transactions in flight (outbox: ${rows.map((r) => `${r.n} ${r.status}`).join(", ") || "none"}; pending acts: ${Number(acts[0]?.n ?? 0)}). ` +
        "They were signed for the version 1 contracts: start the version 1 software once more until they settle (GET /acts/:id), stop it, then upgrade.",
    );
  }
}

/** Pauses the v1 token and suspends every active v1 member with the upgrade's reason (idempotent). */
async function closeV1(v1: DeploymentRecord, admin: Signer, compliance: Signer): Promise<{ suspended: number }> {
  const token = new Contract(v1.contracts.SettlementToken, V1_TOKEN_ABI, admin);
  if (!((await token.paused()) as boolean)) await sent(token.pause() as Promise<ContractTransactionResponse>);
  const registry = new Contract(v1.contracts.ParticipantRegistry, V1_REGISTRY_ABI, compliance);
  const iface = new Interface(V1_REGISTRY_ABI);
  const logs = await registry.runner!.provider!.getLogs({ address: v1.contracts.ParticipantRegistry, topics: [iface.getEvent("MemberRegistered")!.topicHash], fromBlock: v1.blockNumber });
  let suspended = 0;
  for (const account of new Set(logs.map((l) => iface.parseLog(l)!.args.account as string))) {
    const m = await registry.member(account);
    if (V1_MEMBER_STATUS[Number(m.status)] !== "active") continue;
    await sent(registry.suspend(account, UPGRADE_SUSPENSION_REASON) as Promise<ContractTransactionResponse>);
    suspended++;
  }
  return { suspended };
}

/** Deploys v2 (with `admin` as its one-time migrator), or finds the deployment a killed run made. */
async function ensureV2(state: UpgradeState, save: () => void, admin: Wallet, provider: JsonRpcProvider, chainId: bigint): Promise<DeploymentRecord> {
  if (state.v2) return state.v2;
  const roles: LedgerRoles = { ...state.v1.roles };
  const params: LedgerParams = {
    ...DEFAULT_PARAMS,
    tokenName: state.v1.params.tokenName,
    tokenSymbol: state.v1.params.tokenSymbol,
    minDenomination: BigInt(state.v1.params.minDenomination),
    gracePeriod: BigInt(state.v1.params.gracePeriod),
  };
  const hasCode = async (a: string) => (await provider.getCode(a)) !== "0x";
  if (state.v2Planned) {
    const all = await Promise.all(Object.values(state.v2Planned.contracts).map(hasCode));
    if (all.every(Boolean)) {
      const ledger = {
        registry: ParticipantRegistry__factory.connect(state.v2Planned.contracts.ParticipantRegistry, admin),
        token: SettlementToken__factory.connect(state.v2Planned.contracts.SettlementToken, admin),
        receivables: Receivables__factory.connect(state.v2Planned.contracts.Receivables, admin),
        financing: Financing__factory.connect(state.v2Planned.contracts.Financing, admin),
      };
      // The indexer starts below the deployment block: the block before the deployment began will do.
      state.v2 = await describeDeployment(ledger, roles, params, chainId, state.v2Planned.atBlock);
      save();
      return state.v2;
    }
    // A run killed mid-deployment: the deployer's nonce has moved past a partial deployment, which
    // nothing references; deploy afresh at the next nonce.
  }
  const nonce = await admin.getNonce("pending");
  state.v2Planned = {
    deployer: admin.address,
    nonce,
    atBlock: await provider.getBlockNumber(),
    // deployLedger's order: Receivables' import library at n, then registry, token, receivables, financing.
    contracts: {
      ParticipantRegistry: getCreateAddress({ from: admin.address, nonce: nonce + 1 }),
      SettlementToken: getCreateAddress({ from: admin.address, nonce: nonce + 2 }),
      Receivables: getCreateAddress({ from: admin.address, nonce: nonce + 3 }),
      Financing: getCreateAddress({ from: admin.address, nonce: nonce + 4 }),
    },
  };
  save();
  const ledger = await deployLedger(admin, { ...roles, migrator: admin.address }, params);
  state.v2 = await describeDeployment(ledger, roles, params, chainId, state.v2Planned.atBlock);
  if (JSON.stringify(state.v2.contracts) !== JSON.stringify(state.v2Planned.contracts)) {
    throw new UpgradeError(`v${LEDGER_VERSION} was deployed at other addresses than recorded beforehand (${JSON.stringify(state.v2.contracts)}): another transaction from the admin key interleaved; run the upgrade again`);
  }
  save();
  return state.v2;
}

interface V2Handles {
  registry: IRegistryImport;
  token: ISettlementImport;
  receivables: IReceivablesImport;
  financing: IFinancingImport;
}

export function handles(v2: DeploymentRecord, signer: Signer): V2Handles {
  return {
    registry: IRegistryImport__factory.connect(v2.contracts.ParticipantRegistry, signer),
    token: ISettlementImport__factory.connect(v2.contracts.SettlementToken, signer),
    receivables: IReceivablesImport__factory.connect(v2.contracts.Receivables, signer),
    financing: IFinancingImport__factory.connect(v2.contracts.Financing, signer),
  };
}

/** Imports every v1 record v2 does not hold yet (so a re-run after a kill never duplicates). */
async function importAll(s: V1Snapshot, v2: DeploymentRecord, migrator: Signer, v2Fingerprints: Map<string, string>): Promise<Record<string, number>> {
  const h = handles(v2, migrator);
  const registry = ParticipantRegistry__factory.connect(v2.contracts.ParticipantRegistry, migrator);
  const token = SettlementToken__factory.connect(v2.contracts.SettlementToken, migrator);
  const receivables = Receivables__factory.connect(v2.contracts.Receivables, migrator);
  const financing = Financing__factory.connect(v2.contracts.Financing, migrator);
  const done: Record<string, number> = { members: 0, balances: 0, receivables: 0, payments: 0, creditLines: 0, financings: 0 };
  if (await h.registry.importSealed()) return done;

  const members = [];
  for (const m of s.members) if (Number((await registry.member(m.account)).status) === 0) members.push(m);
  for (const batch of chunks(members, BATCH)) {
    await sent(
      h.registry.importMembers(
        batch.map((m) => ({
          account: m.account,
          roles: m.roles,
          status: m.status === "active" ? 1 : 2,
          kycExpiry: m.kycExpiry,
          jurisdiction: m.jurisdictionHex,
          entityIdHash: m.entityIdHash,
        })),
      ),
    );
    done.members += batch.length;
  }

  const balances = [];
  for (const b of s.balances) if ((await token.balanceOf(b.account)) === 0n) balances.push(b);
  for (const batch of chunks(balances, BATCH)) {
    await sent(h.token.importBalances(batch.map((b) => ({ holder: b.account, amount: BigInt(b.balance) }))));
    done.balances += batch.length;
  }

  // A document hash is reserved once, with the first receivable that used it (v1 did not check).
  const docSeen = new Set<string>();
  const missing = [];
  for (const r of s.receivables) {
    const firstUse = r.parentId === null && r.documentHash !== ZERO32 && !docSeen.has(r.documentHash);
    if (firstUse) docSeen.add(r.documentHash);
    const exists = await receivables.receivable(r.id).then(
      () => true,
      () => false,
    );
    if (!exists) missing.push({ r, doc: firstUse ? r.documentHash : ZERO32 });
  }
  for (const batch of chunks(missing, BATCH)) {
    await sent(
      h.receivables.importReceivables(
        batch.map(({ r, doc }) => importedReceivable(r, doc, r.parentId === null ? (v2Fingerprints.get(r.id) ?? ZERO32) : ZERO32)),
      ),
    );
    done.receivables += batch.length;
  }

  const announced = await announcedPayments(receivables, v2.blockNumber);
  const payments = (s.payments ?? []).filter((p) => !announced.has(paymentKey(p)));
  for (const batch of chunks(payments, BATCH)) {
    await sent(h.receivables.importPayments(batch.map(importedPayment)));
    done.payments += batch.length;
  }

  const lineCount = Number(await financing.creditLineCount());
  const lines = s.creditLines.filter((l) => l.id > lineCount);
  for (const batch of chunks(lines, BATCH)) {
    await sent(
      h.financing.importCreditLines(
        batch.map(importedCreditLine),
      ),
    );
    done.creditLines += batch.length;
  }

  const fins = [];
  for (const f of s.financings) if (Number((await financing.financing(f.receivableId)).status) === 0) fins.push(f);
  for (const batch of chunks(fins, BATCH)) {
    await sent(
      h.financing.importFinancings(
        batch.map((f) => ({
          receivableId: BigInt(f.receivableId),
          supplier: f.supplier,
          lineId: f.lineId,
          status: FINANCING_STATUS.indexOf(f.status),
          principal: BigInt(f.principal),
        })),
      ),
    );
    done.financings += batch.length;
  }
  return done;
}

/** A receivable row (a v1 projection or an exit export's) as the sealed import takes it. */
export function importedReceivable(
  r: { id: string; parentId: string | null; seller: string; holder: string | null; debtor: string; faceValue: string; outstanding: string; dueDate: number; status: string; financed: boolean },
  documentHash: string,
  fingerprint: string,
): IReceivablesImport.ImportedReceivableStruct {
  return {
    id: BigInt(r.id),
    parentId: r.parentId ? BigInt(r.parentId) : 0n,
    seller: r.seller,
    holder: r.holder ?? ZERO,
    debtor: r.debtor,
    faceValue: BigInt(r.faceValue),
    outstanding: BigInt(r.outstanding),
    dueDate: r.dueDate,
    status: RECEIVABLE_STATUS.indexOf(r.status),
    financed: r.financed,
    documentHash,
    fingerprint,
  };
}

/** A payment as the import takes it, from a v1 snapshot's row (an exit export's has the same shape). */
export function importedPayment(p: V1Payment): IReceivablesImport.ImportedPaymentStruct {
  return {
    receivableId: BigInt(p.receivableId),
    debtor: p.debtor,
    holder: p.holder,
    amount: BigInt(p.amount),
    outstandingAfter: BigInt(p.outstandingAfter),
    paidAt: p.timestamp,
    originalBlock: p.blockNumber,
    originalTxHash: p.txHash,
    originalLogIndex: p.logIndex,
  };
}

/** A payment's identity on its original ledger: tx hash and log index. */
export const paymentKey = (p: Pick<V1Payment, "txHash" | "logIndex">) => `${p.txHash.toLowerCase()}:${p.logIndex}`;

type AnnouncedPayment = PaymentImportedEvent.OutputObject;

/** The payments a new ledger's import announced (PaymentImported since `fromBlock`), by paymentKey. */
export async function announcedPayments(receivables: Receivables, fromBlock: number): Promise<Map<string, AnnouncedPayment>> {
  const events = await receivables.queryFilter(receivables.filters.PaymentImported(), fromBlock);
  return new Map(events.map((e) => [paymentKey({ txHash: e.args.originalTxHash, logIndex: Number(e.args.originalLogIndex) }), e.args]));
}

/** An original payment against the one announced for it: [field, original, imported]. */
export function paymentFields(p: V1Payment, v: AnnouncedPayment): Array<[string, unknown, unknown]> {
  return [
    ["receivableId", BigInt(p.receivableId), v.receivableId],
    ["debtor", p.debtor, v.debtor],
    ["holder", p.holder, v.holder],
    ["amount", p.amount, v.amount],
    ["outstandingAfter", p.outstandingAfter, v.outstandingAfter],
    ["timestamp", p.timestamp, v.paidAt],
    ["blockNumber", p.blockNumber, v.originalBlock],
  ];
}

/** A credit line as the import takes it, from a v1 snapshot's row (an exit export's has the same shape). */
export function importedCreditLine(l: V1CreditLine): IFinancingImport.ImportedCreditLineStruct {
  return {
    id: l.id,
    financier: l.financier,
    debtor: l.debtor ?? ZERO,
    supplier: l.supplier ?? ZERO,
    limit: BigInt(l.limit),
    utilised: BigInt(l.utilised),
    maxAdvanceBps: l.maxAdvanceBps,
    discountBps: l.discountBps,
    expiry: l.expiry,
    open: l.open,
  };
}

/** Each field of a credit line: [name, as the source had it, as the new contracts hold it]. */
export function creditLineFields(l: V1CreditLine, v: Awaited<ReturnType<Financing["creditLine"]>>): Array<[string, unknown, unknown]> {
  return [
    ["financier", l.financier, v.financier],
    ["debtor", l.debtor ?? ZERO, v.debtor],
    ["supplier", l.supplier ?? ZERO, v.supplier],
    ["limit", l.limit, v.limit],
    ["utilised", l.utilised, v.utilised],
    ["maxAdvanceBps", l.maxAdvanceBps, v.maxAdvanceBps],
    ["discountBps", l.discountBps, v.discountBps],
    ["expiry", l.expiry, v.expiry],
    ["open", l.open, v.open],
  ];
}

/** Seals the import on every contract that is not sealed yet, then drops the migrator role. */
export async function seal(v2: DeploymentRecord, migrator: Wallet): Promise<void> {
  const h = handles(v2, migrator);
  for (const c of [h.registry, h.token, h.receivables, h.financing]) {
    if (!(await c.importSealed())) await sent(c.sealImport());
  }
  const role = LEDGER_MIGRATOR_ROLE;
  const contracts = [
    ParticipantRegistry__factory.connect(v2.contracts.ParticipantRegistry, migrator),
    SettlementToken__factory.connect(v2.contracts.SettlementToken, migrator),
    Receivables__factory.connect(v2.contracts.Receivables, migrator),
    Financing__factory.connect(v2.contracts.Financing, migrator),
  ];
  for (const c of contracts) {
    if (await c.hasRole(role, migrator.address)) await sent(c.renounceRole(role, migrator.address));
  }
}

/** Reads every snapshot record back from v2; returns the differences, one line each. */
async function verifyV2(s: V1Snapshot, v2: DeploymentRecord, provider: JsonRpcProvider, v2Fingerprints: Map<string, string>): Promise<string[]> {
  const out: string[] = [];
  const registry = ParticipantRegistry__factory.connect(v2.contracts.ParticipantRegistry, provider);
  const token = SettlementToken__factory.connect(v2.contracts.SettlementToken, provider);
  const receivables = Receivables__factory.connect(v2.contracts.Receivables, provider);
  const financing = Financing__factory.connect(v2.contracts.Financing, provider);
  const eq = (what: string, expected: unknown, actual: unknown) => {
    if (String(expected).toLowerCase() !== String(actual).toLowerCase()) out.push(`${what}: v1 ${String(expected)}, v2 ${String(actual)}`);
  };
  for (const m of s.members) {
    const v = await registry.member(m.account);
    eq(`member ${m.account} roles`, m.roles, v.roles);
    eq(`member ${m.account} status`, m.status, ["none", "active", "suspended"][Number(v.status)]);
    eq(`member ${m.account} kycExpiry`, m.kycExpiry, v.kycExpiry);
    eq(`member ${m.account} jurisdiction`, m.jurisdictionHex, v.jurisdiction);
    eq(`member ${m.account} entityIdHash`, m.entityIdHash, v.entityIdHash);
  }
  const docSeen = new Set<string>();
  for (const r of s.receivables) {
    const v = await receivables.receivable(r.id).catch(() => null);
    if (!v) {
      out.push(`receivable ${r.id}: missing on v2`);
      continue;
    }
    eq(`receivable ${r.id} holder`, r.holder ?? ZERO, v.holder);
    eq(`receivable ${r.id} debtor`, r.debtor, v.debtor);
    eq(`receivable ${r.id} faceValue`, r.faceValue, v.faceValue);
    eq(`receivable ${r.id} outstanding`, r.outstanding, v.outstanding);
    eq(`receivable ${r.id} dueDate`, r.dueDate, v.dueDate);
    eq(`receivable ${r.id} status`, r.status, RECEIVABLE_STATUS[Number(v.status)]);
    eq(`receivable ${r.id} financed`, r.financed, v.financed);
    eq(`receivable ${r.id} parentId`, r.parentId ? BigInt(r.parentId) : 0n, v.parentId);
    if (r.parentId === null && r.documentHash !== ZERO32 && !docSeen.has(r.documentHash)) {
      docSeen.add(r.documentHash);
      eq(`document ${r.documentHash} reserved for`, BigInt(r.id), await receivables.receivableOfDocument(r.documentHash));
    }
    const fp = v2Fingerprints.get(r.id);
    if (fp) {
      const reserved = await receivables.receivable(await receivables.receivableIdOf(fp)).catch(() => null);
      if (!reserved) out.push(`receivable ${r.id}: its v2 invoice identity ${fp} is not reserved`);
    }
  }
  const announced = await announcedPayments(receivables, v2.blockNumber);
  for (const p of s.payments ?? []) {
    const v = announced.get(paymentKey(p));
    announced.delete(paymentKey(p));
    if (!v) out.push(`payment ${paymentKey(p)}: missing on v2`);
    else for (const [field, want, got] of paymentFields(p, v)) eq(`payment ${paymentKey(p)} ${field}`, want, got);
  }
  for (const key of announced.keys()) out.push(`payment ${key}: on v2 but not in v1`);
  eq("credit line count", s.creditLines.length, await financing.creditLineCount());
  for (const l of s.creditLines) {
    for (const [field, want, got] of creditLineFields(l, await financing.creditLine(l.id))) eq(`line ${l.id} ${field}`, want, got);
  }
  for (const f of s.financings) {
    const v = await financing.financing(f.receivableId);
    eq(`financing ${f.receivableId} supplier`, f.supplier, v.supplier);
    eq(`financing ${f.receivableId} lineId`, f.lineId, v.lineId);
    eq(`financing ${f.receivableId} status`, f.status, FINANCING_STATUS[Number(v.status)]);
    eq(`financing ${f.receivableId} principal`, f.principal, v.principal);
  }
  let sum = 0n;
  for (const b of s.balances) {
    const v = await token.balanceOf(b.account);
    sum += v;
    eq(`balance of ${b.account}`, b.balance, v);
  }
  eq("total supply", s.totalSupply, await token.totalSupply());
  eq("sum of balances", s.totalSupply, sum);
  return out;
}

/**
 * Exports the v1 event feed to `file` and clears what the indexer derived from v1, in one database
 * transaction: the feed, the projections, the checkpoint and block hashes, and the service keys'
 * nonce counters (the upgrade sent transactions from those keys; the sender re-reads the chain).
 */
async function resetProjections(ds: DataSource, file: string): Promise<number> {
  const events = (await ds.query(`SELECT * FROM ledger_events ORDER BY block_number, tx_index, log_index`)) as unknown[];
  writeFileSync(file, events.map((e) => JSON.stringify(e)).join("\n") + (events.length ? "\n" : ""));
  await ds.transaction(async (m) => {
    for (const t of ["ledger_event_parties", "ledger_events", "members", "receivables", "credit_lines", "financings", "payments", "held_payments", "indexed_blocks", "indexer_state", "key_nonces"]) {
      await m.query(`DELETE FROM ${t}`);
    }
  });
  return events.length;
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(`ledger upgrade failed: ${err instanceof UpgradeError ? err.message : ((err as Error).stack ?? String(err))}`);
    process.exit(1);
  });
}
