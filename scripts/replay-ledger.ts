/**
 * `scf ledger replay --from DIR` (`npm run ledger:replay -- --from DIR`): loads a whole-ledger exit
 * export (`scf ledger export`, docs/LEDGER-EXPORT.md) into a fresh deployment on another chain,
 * through the same sealed import `npm run ledger:upgrade` uses, and reports every record reproduced.
 *
 * Target, as the upgrade takes it. Embedded (the default): DATA_DIR, a directory `npm start` has
 * not deployed into yet; the durable chain is started on it here, the service keys are created the
 * way `npm start` creates them, and afterwards `DATA_DIR=… npm start` serves the replayed ledger.
 * External: RPC_URL, ADMIN_KEYSTORE (deploys and migrates), KEYSTORE_DIR / KEYSTORE_PASSWORD (the
 * service keys whose addresses get the service roles, named as the service names them:
 * OPERATOR_KEYSTORE, COMPLIANCE_KEYSTORE, ISSUER_KEYSTORE; without an issuer key the admin issues)
 * and DEPLOYMENT_FILE (written; must not exist).
 *
 * Steps:
 *   1. checks the export before touching any chain: the operator's signature over the manifest and
 *      every row of every file against its signed SHA-256; an altered row is refused naming the file
 *      and the row, and nothing is started, deployed or written;
 *   2. deploys the ledger with a one-time migrator (the admin key);
 *   3. imports members, balances, receivables (ids, lineage, documents and tombstones kept), the
 *      payment history (PaymentImported: each payment with its original time, tx, block and log
 *      index; no money moves), credit lines and financings; seals the import and renounces the
 *      migrator role;
 *   4. reads every record back from the new contracts and reports per kind: expected, reproduced,
 *      mismatches; writes `replay-report.json` beside the deployment record, and the deployment
 *      record itself only when nothing differs.
 * What the import does not carry (financing terms and registration, a suspension's reason) stays in
 * the export; the report names it. A member's export is refused: its credit lines
 * are not the whole numbered sequence the import needs.
 */
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { HDNodeWallet, JsonRpcProvider, Mnemonic, Wallet, ZeroAddress, getAddress, parseEther } from "ethers";
import { writeKeystore } from "../services/src/chain/keys";
import { readExitFile, verifyExitDir, type ExitManifest, type ExitReceivable } from "../shared/ledger-export-format";
import { Financing__factory, ParticipantRegistry__factory, Receivables__factory, SettlementToken__factory } from "../typechain-types";
import { DEFAULT_PARAMS, deployLedger, describeDeployment, type DeploymentRecord, type LedgerRoles } from "./lib/deploy-ledger";
import { announcedPayments, chunks, creditLineFields, handles, importedCreditLine, importedPayment, importedReceivable, paymentFields, paymentKey, seal, sent, UpgradeError as ReplayError } from "./upgrade-ledger";

const HARDHAT_MNEMONIC = "test test test test test test test test test test test junk";
const SERVICE_KEYS = ["operator", "compliance", "relayer", "issuer"] as const;
const RECEIVABLE_STATUS = ["none", "issued", "accepted", "financed", "paid", "defaulted", "cancelled", "split"];
const FINANCING_STATUS = ["none", "requested", "rejected", "active", "repaid", "written_off", "withdrawn"];
const ZERO32 = "0x" + "0".repeat(64);
const BATCH = 40;

const log = (line: string) => process.stdout.write(`${line}\n`);
const abs = (p: string) => (isAbsolute(p) ? p : resolve(process.cwd(), p));

export interface KindReport {
  expected: number;
  reproduced: number;
  mismatches: string[];
  /** What of this kind stays in the export only. */
  notCarried?: string;
}

export type ReplayReport = Record<"members" | "balances" | "receivables" | "creditLines" | "financings" | "payments", KindReport>;

function arg(argv: string[], name: string): string | undefined {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
}

async function unlock(path: string, password: string): Promise<Wallet> {
  const w = await Wallet.fromEncryptedJson(readFileSync(path, "utf8"), password);
  return w instanceof Wallet ? w : new Wallet(w.privateKey);
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const from = arg(argv, "--from");
  if (!from) throw new ReplayError("--from DIR is required: the directory `scf ledger export` wrote.");
  const dir = abs(from);

  // --- 1. the export, checked before anything else happens
  const check = verifyExitDir(dir, arg(argv, "--operator"));
  if (!check.ok) {
    throw new ReplayError(`The export in ${dir} does not check out; nothing was deployed:\n${check.problems.map((p) => `  ${p}`).join("\n")}`);
  }
  const manifest = check.manifest!;
  if (manifest.scope.kind !== "ledger") {
    throw new ReplayError(`The export in ${dir} is member ${manifest.scope.member}'s; replay loads a whole-ledger export (an auditor's), nothing was deployed.`);
  }
  log(`Export ${dir}: chain ${manifest.ledger.chainId} block ${manifest.block.number}, signed by the operator ${check.signer}; every row matches the manifest`);

  // --- the target
  const external = !!process.env.RPC_URL;
  let stopChain: (() => Promise<void>) | null = null;
  let url: string;
  let deploymentFile: string;
  let admin: Wallet;
  let roles: LedgerRoles;
  let provider: JsonRpcProvider;
  if (external) {
    const password = process.env.KEYSTORE_PASSWORD;
    if (!password || !process.env.ADMIN_KEYSTORE || !process.env.DEPLOYMENT_FILE) {
      throw new ReplayError("With RPC_URL, set ADMIN_KEYSTORE, KEYSTORE_DIR, KEYSTORE_PASSWORD and DEPLOYMENT_FILE (the file to write).");
    }
    deploymentFile = abs(process.env.DEPLOYMENT_FILE);
    if (existsSync(deploymentFile)) throw new ReplayError(`${deploymentFile} exists: replay deploys a fresh ledger and writes a new deployment record.`);
    url = process.env.RPC_URL!;
    provider = new JsonRpcProvider(url, undefined, { cacheTimeout: -1, pollingInterval: 50 });
    admin = (await unlock(abs(process.env.ADMIN_KEYSTORE), password)).connect(provider);
    const keysDir = abs(process.env.KEYSTORE_DIR || "keys");
    // The service's key files as it names them (services/src/config/env.ts); an address is readable
    // from a keystore without its password.
    const addr = (file: string) => {
      const path = join(keysDir, file);
      if (!existsSync(path)) throw new ReplayError(`${path} is missing: the service keys in KEYSTORE_DIR get the new ledger's service roles.`);
      return getAddress((JSON.parse(readFileSync(path, "utf8")) as { address: string }).address.replace(/^(?!0x)/, "0x"));
    };
    roles = {
      admin: admin.address,
      onboardingOperator: addr(process.env.OPERATOR_KEYSTORE || "operator.json"),
      complianceOfficer: addr(process.env.COMPLIANCE_KEYSTORE || "compliance.json"),
      // The service needs the issuer key only for its test-money faucet; without one the admin issues.
      issuer: process.env.ISSUER_KEYSTORE ? addr(process.env.ISSUER_KEYSTORE) : admin.address,
    };
  } else {
    const dataDir = abs(process.env.DATA_DIR || "data");
    deploymentFile = join(dataDir, "deployment.json");
    if (existsSync(deploymentFile)) {
      throw new ReplayError(`${deploymentFile} exists: the data directory already holds a ledger. Replay into a new DATA_DIR (then start it with DATA_DIR=… npm start).`);
    }
    mkdirSync(dataDir, { recursive: true });
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { alwaysShown, startDurableChain } = require("../platform/chain/durable-chain") as typeof import("../platform/chain/durable-chain");
    const chain = await startDurableChain({ dataDir, port: Number(process.env.REPLAY_CHAIN_PORT || 0), log: (l) => alwaysShown(l) && log(`[chain] ${l}`) });
    url = chain.url;
    stopChain = () => chain.stop();
    provider = new JsonRpcProvider(url, undefined, { cacheTimeout: -1, pollingInterval: 50 });
    admin = new Wallet(HDNodeWallet.fromMnemonic(Mnemonic.fromPhrase(HARDHAT_MNEMONIC), "m/44'/60'/0'/0/0").privateKey, provider);
    // The service keys as `npm start` keeps them, so it starts on this directory as on its own.
    const keysDir = join(dataDir, "keys");
    const passwordFile = join(keysDir, "password.txt");
    mkdirSync(keysDir, { recursive: true });
    if (!existsSync(passwordFile)) writeFileSync(passwordFile, (process.env.KEYSTORE_PASSWORD || randomBytes(12).toString("hex")) + "\n", { mode: 0o600 });
    const password = readFileSync(passwordFile, "utf8").trim();
    const keys: Record<string, string> = {};
    for (const k of SERVICE_KEYS) {
      const path = join(keysDir, `${k}.json`);
      if (!existsSync(path)) writeKeystore(path, Wallet.createRandom(), password, true);
      keys[k] = (await unlock(path, password)).address;
      if ((await provider.getBalance(keys[k])) < parseEther("100")) await (await admin.sendTransaction({ to: keys[k], value: parseEther("1000") })).wait();
    }
    roles = { admin: admin.address, onboardingOperator: keys.operator, complianceOfficer: keys.compliance, issuer: keys.issuer };
  }

  try {
    const chainId = (await provider.getNetwork()).chainId;
    log(`  target      ${url} (chain ${chainId})`);
    // --- 2. deploy with a migrator
    const startBlock = await provider.getBlockNumber();
    const ledger = await deployLedger(admin, { ...roles, migrator: admin.address }, DEFAULT_PARAMS);
    const record = await describeDeployment(ledger, roles, DEFAULT_PARAMS, chainId, startBlock);
    log(`  deployed    ${Object.entries(record.contracts).map(([n, a]) => `${n} ${a}`).join(", ")}`);

    // --- 3. import, seal
    const skipped = await importExport(dir, manifest, record, admin);
    await seal(record, admin);
    log("  imported    and sealed");

    // --- 4. read back, report
    const report = await compare(dir, manifest, record, provider, skipped);
    const failed = Object.values(report).some((k) => k.mismatches.length > 0);
    const reportFile = join(dirname(deploymentFile), "replay-report.json");
    writeFileSync(reportFile, JSON.stringify({ from: dir, export: { chainId: manifest.ledger.chainId, block: manifest.block, contracts: manifest.ledger.contracts }, to: record.contracts, report }, null, 2) + "\n");
    log("");
    log("  kind          expected  reproduced  mismatches");
    for (const [kind, k] of Object.entries(report)) {
      log(`  ${kind.padEnd(12)}  ${String(k.expected).padStart(8)}  ${String(k.reproduced).padStart(10)}  ${k.mismatches.length}`);
      for (const m of k.mismatches) log(`      ! ${m}`);
      if (k.notCarried) log(`      (export only: ${k.notCarried})`);
    }
    if (failed) throw new ReplayError(`The replayed ledger differs from the export (see above and ${reportFile}); no deployment record was written.`);
    const out: DeploymentRecord & { replayedFrom: unknown } = {
      ...record,
      replayedFrom: { exportDir: dir, chainId: manifest.ledger.chainId, block: manifest.block, contracts: manifest.ledger.contracts, report: reportFile },
    };
    writeFileSync(deploymentFile, JSON.stringify(out, null, 2) + "\n");
    log(`\nReplayed: every record reproduced. Deployment ${deploymentFile}; report ${reportFile}.`);
  } finally {
    provider.destroy();
    await stopChain?.();
  }
}

/** Imports what the sealed import can carry; returns the records it could not (with why). */
async function importExport(dir: string, manifest: ExitManifest, record: DeploymentRecord, migrator: Wallet): Promise<Map<string, string>> {
  const h = handles(record, migrator);
  const skipped = new Map<string, string>();
  const oldContracts = new Set(Object.values(manifest.ledger.contracts).map((a) => getAddress(a)));

  for (const batch of chunks(readExitFile(dir, "members.ndjson"), BATCH)) {
    await sent(
      h.registry.importMembers(
        batch.map((m) => ({
          account: m.address,
          roles: m.roles,
          status: m.status === "active" ? 1 : 2,
          kycExpiry: m.kycExpiry,
          jurisdiction: "0x" + Buffer.from(m.jurisdiction, "latin1").toString("hex"),
          entityIdHash: m.entityIdHash,
        })),
      ),
    );
  }
  const balances = readExitFile(dir, "balances.ndjson").filter((b) => {
    // Money the old ledger held for recipients (a contract's balance) has no holder to import it to.
    if (oldContracts.has(getAddress(b.account))) skipped.set(`balance ${b.account}`, "held by the old ledger's contract for recipients; the import has no held payments");
    return !oldContracts.has(getAddress(b.account));
  });
  for (const batch of chunks(balances, BATCH)) await sent(h.token.importBalances(batch.map((b) => ({ holder: b.account, amount: BigInt(b.balance) }))));

  for (const batch of chunks(readExitFile(dir, "receivables.ndjson"), BATCH)) {
    await sent(
      h.receivables.importReceivables(
        // The id itself is the invoice's identity on this ledger version: keeping it reserves the
        // invoice; the document is reserved with the root that used it.
        batch.map((r) => importedReceivable(r, r.parentId === null && r.documentHash ? r.documentHash : ZERO32, ZERO32)),
      ),
    );
  }
  // History, in chain order: each payment is announced with its original time and origin.
  for (const batch of chunks(readExitFile(dir, "payments.ndjson"), BATCH)) {
    await sent(h.receivables.importPayments(batch.map(importedPayment)));
  }
  for (const batch of chunks(readExitFile(dir, "credit-lines.ndjson"), BATCH)) {
    await sent(
      h.financing.importCreditLines(
        batch.map(importedCreditLine),
      ),
    );
  }
  const financings = readExitFile(dir, "financings.ndjson").filter((f) => {
    if (f.status === "withdrawn") skipped.set(`financing ${f.receivableId}`, "a withdrawn request: the import takes statuses requested to written_off only");
    return f.status !== "withdrawn";
  });
  for (const batch of chunks(financings, BATCH)) {
    await sent(
      h.financing.importFinancings(
        batch.map((f) => ({
          receivableId: BigInt(f.receivableId),
          supplier: f.supplier,
          lineId: f.lineId,
          status: FINANCING_STATUS.indexOf(f.status),
          principal: owes(f.status) ? BigInt(f.principal) : 0n,
        })),
      ),
    );
  }
  return skipped;
}

/** Statuses whose principal is still owed to the financier (the others import as zero). */
const owes = (status: string) => status === "active" || status === "written_off";

/** Reads every exported record back from the new contracts. */
async function compare(dir: string, manifest: ExitManifest, record: DeploymentRecord, provider: JsonRpcProvider, skipped: Map<string, string>): Promise<ReplayReport> {
  const registry = ParticipantRegistry__factory.connect(record.contracts.ParticipantRegistry, provider);
  const token = SettlementToken__factory.connect(record.contracts.SettlementToken, provider);
  const receivables = Receivables__factory.connect(record.contracts.Receivables, provider);
  const financing = Financing__factory.connect(record.contracts.Financing, provider);
  const kind = (): KindReport => ({ expected: 0, reproduced: 0, mismatches: [] });
  const r: ReplayReport = { members: kind(), balances: kind(), receivables: kind(), creditLines: kind(), financings: kind(), payments: kind() };
  const check = async (k: KindReport, what: string, fields: Array<[string, unknown, unknown]>) => {
    k.expected++;
    const wrong = fields.filter(([, want, got]) => String(want).toLowerCase() !== String(got).toLowerCase());
    if (skipped.has(what)) k.mismatches.push(`${what}: not imported (${skipped.get(what)})`);
    else if (wrong.length) k.mismatches.push(`${what}: ${wrong.map(([f, want, got]) => `${f} ${String(want)} in the export, ${String(got)} replayed`).join("; ")}`);
    else k.reproduced++;
  };

  for (const m of readExitFile(dir, "members.ndjson")) {
    const v = await registry.member(m.address);
    await check(r.members, `member ${m.address}`, [
      ["roles", m.roles, v.roles],
      ["status", m.status, ["none", "active", "suspended"][Number(v.status)]],
      ["kycExpiry", m.kycExpiry, v.kycExpiry],
      ["jurisdiction", m.jurisdiction, Buffer.from(v.jurisdiction.slice(2), "hex").toString("latin1")],
      ["entityIdHash", m.entityIdHash, v.entityIdHash],
    ]);
  }
  r.members.notCarried = "a suspension's reason code and the registration block";

  for (const b of readExitFile(dir, "balances.ndjson")) await check(r.balances, `balance ${b.account}`, [["balance", b.balance, await token.balanceOf(b.account)]]);
  const supply = await token.totalSupply();
  if (supply !== BigInt(manifest.ledger.totalSupply)) r.balances.mismatches.push(`total supply ${manifest.ledger.totalSupply} in the export, ${supply} replayed`);

  const exported = readExitFile(dir, "receivables.ndjson");
  const byId = new Map<string, ExitReceivable>(exported.map((x) => [x.id, x]));
  for (const x of exported) {
    const v = await receivables.receivable(x.id).catch(() => null);
    if (!v) {
      r.receivables.expected++;
      r.receivables.mismatches.push(`receivable ${x.id}: missing`);
      continue;
    }
    const fields: Array<[string, unknown, unknown]> = [
      ["holder", x.holder ?? ZeroAddress, v.holder],
      ["debtor", x.debtor, v.debtor],
      ["faceValue", x.faceValue, v.faceValue],
      ["outstanding", x.outstanding, v.outstanding],
      ["dueDate", x.dueDate, v.dueDate],
      ["status", x.status, RECEIVABLE_STATUS[Number(v.status)]],
      ["financed", x.financed, v.financed],
      ["parentId", x.parentId ? BigInt(x.parentId) : 0n, v.parentId],
    ];
    if (x.parentId === null && x.documentHash) fields.push(["document reserved for", BigInt(x.id), await receivables.receivableOfDocument(x.documentHash)]);
    if (x.parentId !== null && !byId.has(x.parentId)) fields.push(["parent in the export", true, false]);
    await check(r.receivables, `receivable ${x.id}`, fields);
  }
  r.receivables.notCarried = "the creating transaction, tokenisation time and term-review flag (the history is in events.ndjson)";

  const lines = readExitFile(dir, "credit-lines.ndjson");
  for (const l of lines) {
    await check(r.creditLines, `credit line ${l.id}`, creditLineFields(l, await financing.creditLine(l.id)));
  }
  if (Number(await financing.creditLineCount()) !== lines.length) r.creditLines.mismatches.push(`credit line count ${lines.length} in the export, ${await financing.creditLineCount()} replayed`);

  for (const f of readExitFile(dir, "financings.ndjson")) {
    const v = await financing.financing(f.receivableId);
    await check(r.financings, `financing ${f.receivableId}`, [
      ["supplier", f.supplier, v.supplier],
      ["lineId", f.lineId, v.lineId],
      ["status", f.status, FINANCING_STATUS[Number(v.status)]],
      ["principal", owes(f.status) ? f.principal : "0", v.principal],
    ]);
  }
  r.financings.notCarried = "advance, payout, request terms, registration hash and approval time";

  // Payments: each exported row against the PaymentImported event the new ledger announced for it
  // (matched by its original tx and log index), field by field, and no event without a row.
  const announced = await announcedPayments(receivables, record.blockNumber);
  for (const p of readExitFile(dir, "payments.ndjson")) {
    const v = announced.get(paymentKey(p));
    announced.delete(paymentKey(p));
    await check(r.payments, `payment ${paymentKey(p)}`, v ? paymentFields(p, v) : [["imported", true, false]]);
  }
  for (const key of announced.keys()) r.payments.mismatches.push(`payment ${key}: imported but not in the export`);
  r.payments.notCarried = "the original tx hash, log index and block as the payment row's own: the new ledger's rows are its PaymentImported events, which name the originals";
  return r;
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(`ledger replay failed: ${err instanceof ReplayError ? err.message : ((err as Error).stack ?? String(err))}`);
    process.exit(1);
  });
}
