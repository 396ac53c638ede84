/**
 * `npm start`: the whole platform in one command.
 *
 * With no configuration (the embedded default) it
 *   1. starts a durable local chain (platform/chain/: an in-process Hardhat network served over
 *      JSON-RPC whose journal is replayed at boot) on CHAIN_PORT (8545);
 *   2. on first start creates the service's keys (operator, compliance, relayer, issuer) as
 *      encrypted keystores under DATA_DIR/keys and funds them with gas from Hardhat's dev account;
 *   3. deploys the ledger once (DATA_DIR/deployment.json), reusing it on later starts after
 *      checking there is code at every address;
 *   4. creates demo keys under DATA_DIR/demo-keys: a human compliance officer (granted
 *      COMPLIANCE_OFFICER on-chain) and buyer / tier-1 / tier-2 / bank / auditor keys, which are
 *      NOT registered (onboard them through the API, as `npm run demo` does with fresh keys);
 *   5. starts the service in this process on PORT (3000) with SQLite under DATA_DIR and the
 *      test-money faucet enabled, and prints where everything is.
 *
 * With RPC_URL and DATABASE_URL set it starts no chain and deploys nothing: the service runs
 * against that chain and database with the deployment in DEPLOYMENT_FILE (which must exist) and
 * the keystores in KEYSTORE_DIR. Every service variable (.env.example) can be set either way.
 *
 * Ctrl-C (SIGINT) or SIGTERM stops the service, then the chain. A SIGKILL loses nothing: the
 * chain replays its journal and the service's outbox and indexer resume from the database.
 */
import "reflect-metadata";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { isAbsolute, join, relative, resolve } from "node:path";
import type { INestApplication } from "@nestjs/common";
import { HDNodeWallet, JsonRpcProvider, Mnemonic, Network, Wallet, id as keccakId, parseEther, type Signer } from "ethers";
import { closeOnSignals, createApp, tuneHttpServer } from "../services/src/app.factory";
import { checkLedgerVersion, LedgerVersionError } from "../services/src/chain/deployment";
import { relayerKeystoreFile, writeKeystore } from "../services/src/chain/keys";
import { ConfigError, loadConfig, type AppConfig } from "../services/src/config/env";
import { DEFAULT_PARAMS, deployLedger, describeDeployment, type DeploymentRecord, type LedgerRoles } from "../scripts/lib/deploy-ledger";
import { ParticipantRegistry__factory } from "../typechain-types";
import { alwaysShown, startDurableChain, type DurableChain } from "./chain/durable-chain";
import { PROJECT_ROOT as ROOT } from "./project-root";

const HARDHAT_MNEMONIC = "test test test test test test test test test test test junk";
const CHAIN_ID = 31337n;
const SERVICE_KEYS = ["operator", "compliance", "relayer", "issuer"] as const;
export const DEMO_KEYS = ["officer", "buyer", "tier1", "tier2", "bank", "auditor"] as const;
const GAS_FUNDING = parseEther("1000");

class StartError extends Error {}

function log(line: string): void {
  process.stdout.write(`${line}\n`);
}

/** A path as the user would type it from the current directory. */
function displayPath(p: string): string {
  const r = relative(process.cwd(), p);
  return r.startsWith("..") || isAbsolute(r) ? p : r || ".";
}

function envInt(name: string, fallback: number): number {
  const v = process.env[name];
  if (v === undefined || v === "") return fallback;
  if (!/^\d{1,5}$/.test(v) || Number(v) > 65535) throw new StartError(`${name} must be a port number (0-65535), not "${v}".`);
  return Number(v);
}

/** A secret kept in a file next to the keystores it unlocks (embedded development platform only). */
function secretFile(path: string, given: string | undefined): string {
  if (existsSync(path)) {
    const stored = readFileSync(path, "utf8").trim();
    if (given && given !== stored) throw new StartError(`The password given differs from the one stored in ${path}; unset it or fix the file.`);
    return stored;
  }
  const secret = given ?? randomBytes(12).toString("hex");
  mkdirSync(join(path, ".."), { recursive: true });
  writeFileSync(path, secret + "\n", { mode: 0o600 });
  return secret;
}

async function loadOrCreateKey(path: string, password: string): Promise<{ wallet: Wallet; created: boolean }> {
  if (existsSync(path)) {
    const w = await Wallet.fromEncryptedJson(readFileSync(path, "utf8"), password);
    return { wallet: w instanceof Wallet ? w : new Wallet(w.privateKey), created: false };
  }
  const w = Wallet.createRandom();
  // Development keys on a throwaway chain: a light scrypt cost keeps start-up fast.
  writeKeystore(path, w, password, true);
  return { wallet: new Wallet(w.privateKey), created: true };
}

function startEmbeddedChain(dataDir: string, host: string, port: number): Promise<DurableChain> {
  return startDurableChain({
    dataDir,
    host,
    port,
    log: (line) => {
      // Warnings, a halt and a replay's progress always show (alwaysShown).
      if (process.env.CHAIN_LOG === "true" || alwaysShown(line)) log(`[chain] ${line}`);
    },
  });
}

async function send(p: Promise<{ wait(): Promise<unknown> }>): Promise<void> {
  await (await p).wait();
}

/** Reuses DATA_DIR/deployment.json when the chain has code at its addresses; deploys otherwise. */
async function ensureDeployment(
  provider: JsonRpcProvider,
  admin: Signer,
  roles: LedgerRoles,
  file: string,
  dataDir: string,
): Promise<{ record: DeploymentRecord; reused: boolean }> {
  if (existsSync(file)) {
    const record = JSON.parse(readFileSync(file, "utf8")) as DeploymentRecord;
    try {
      // An older ledger is refused before anything is deployed: never a second, empty ledger.
      checkLedgerVersion(record, file, { dataDir: displayPath(dataDir) });
    } catch (err) {
      if (err instanceof LedgerVersionError) throw new StartError(err.message);
      throw err;
    }
    const codes = await Promise.all(Object.values(record.contracts).map((a) => provider.getCode(a)));
    if (BigInt(record.chainId) === CHAIN_ID && codes.every((c) => c !== "0x")) return { record, reused: true };
    log(`! ${file} names contracts the chain does not have (a fresh chain?): deploying again`);
  }
  const ledger = await deployLedger(admin, roles, DEFAULT_PARAMS);
  const record = await describeDeployment(ledger, roles, DEFAULT_PARAMS, CHAIN_ID, await provider.getBlockNumber());
  writeFileSync(file, JSON.stringify(record, null, 2) + "\n");
  return { record, reused: false };
}

interface Running {
  app: INestApplication;
  config: AppConfig;
  chain: DurableChain | null;
}

/**
 * Refuses a port another process holds, before anything is created, in one line naming the
 * variable that moves it. (Port 0 asks the system for a free one.)
 */
async function checkPortsFree(ports: Array<{ name: string; what: string; host: string; port: number }>): Promise<void> {
  for (const p of ports) {
    if (p.port === 0) continue;
    const error = await new Promise<NodeJS.ErrnoException | null>((done) => {
      const probe = createServer();
      probe.once("error", (e: NodeJS.ErrnoException) => done(e));
      probe.listen(p.port, p.host, () => probe.close(() => done(null)));
    });
    if (error) throw new StartError(portMessage(p, error));
  }
}

function portMessage(p: { name: string; what: string; host: string; port: number }, e: NodeJS.ErrnoException): string {
  const why = e.code === "EADDRINUSE" ? "is already in use" : `cannot be opened (${e.code ?? e.message})`;
  return `port ${p.port} on ${p.host} (${p.what}) ${why}: stop what holds it, or choose another with ${p.name}=<port> npm start.`;
}

/** A data directory a failed first start created, or filled while it was empty, is removed again. */
async function undoFirstStart<T>(dataDir: string, start: () => Promise<T>): Promise<T> {
  const existed = existsSync(dataDir);
  if (existed && readdirSync(dataDir).length > 0) return start();
  try {
    return await start();
  } catch (err) {
    if (existed) for (const f of readdirSync(dataDir)) rmSync(join(dataDir, f), { recursive: true, force: true });
    else rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
}

async function startEmbedded(dataDir: string): Promise<Running> {
  const t0 = Date.now();
  const host = process.env.HOST || "127.0.0.1";
  const port = envInt("PORT", 3000);
  const chainPort = envInt("CHAIN_PORT", 8545);
  await checkPortsFree([
    { name: "CHAIN_PORT", what: "the embedded chain", host: "127.0.0.1", port: chainPort },
    { name: "PORT", what: "the service", host, port },
  ]);
  mkdirSync(dataDir, { recursive: true });
  // A deployment of another ledger version is refused before the chain starts, so a refused start
  // writes nothing into the data directory (not even a funding transaction into the journal).
  const existing = join(dataDir, "deployment.json");
  if (existsSync(existing)) {
    try {
      checkLedgerVersion(JSON.parse(readFileSync(existing, "utf8")) as DeploymentRecord, existing, { dataDir: displayPath(dataDir) });
    } catch (err) {
      if (err instanceof LedgerVersionError) throw new StartError(err.message);
      throw err;
    }
  }

  const chain = await startEmbeddedChain(dataDir, "127.0.0.1", chainPort);
  let app: INestApplication | null = null;
  try {
    const tChain = Date.now() - t0;
    const network = Network.from(31337);
    const provider = new JsonRpcProvider(chain.url, network, { staticNetwork: network, cacheTimeout: -1, pollingInterval: 50 });
    const dev = new Wallet(HDNodeWallet.fromMnemonic(Mnemonic.fromPhrase(HARDHAT_MNEMONIC), "m/44'/60'/0'/0/0").privateKey, provider);

    // --- service keys
    const keysDir = join(dataDir, "keys");
    const password = secretFile(join(keysDir, "password.txt"), process.env.KEYSTORE_PASSWORD || undefined);
    const keys = {} as Record<(typeof SERVICE_KEYS)[number], Wallet>;
    let createdKeys = 0;
    for (const k of SERVICE_KEYS) {
      const { wallet, created } = await loadOrCreateKey(join(keysDir, `${k}.json`), password);
      keys[k] = wallet;
      if (created) createdKeys++;
    }
    // The relayer pool's further keys (RELAYER_KEYS): relayer-1.json, relayer-2.json, … next to relayer.json.
    const relayerKeys = Number(process.env.RELAYER_KEYS || 1);
    const extraRelayers: Wallet[] = [];
    for (let i = 1; i < relayerKeys; i++) {
      const { wallet, created } = await loadOrCreateKey(join(keysDir, relayerKeystoreFile("relayer.json", i)), password);
      extraRelayers.push(wallet);
      if (created) createdKeys++;
    }
    for (const w of [...SERVICE_KEYS.map((k) => keys[k]), ...extraRelayers]) {
      if ((await provider.getBalance(w.address)) < GAS_FUNDING / 10n) {
        await send(dev.sendTransaction({ to: w.address, value: GAS_FUNDING }));
      }
    }

    // --- the ledger
    const roles: LedgerRoles = {
      admin: dev.address,
      onboardingOperator: keys.operator.address,
      complianceOfficer: keys.compliance.address,
      issuer: keys.issuer.address,
    };
    const deploymentFile = join(dataDir, "deployment.json");
    const { record, reused } = await ensureDeployment(provider, dev, roles, deploymentFile, dataDir);

    // --- demo keys (registered: only the officer's role; members are onboarded through the API)
    const demoDir = join(dataDir, "demo-keys");
    const demoPassword = secretFile(join(demoDir, "password.txt"), process.env.DEMO_KEYS_PASSWORD || undefined);
    const demo = {} as Record<(typeof DEMO_KEYS)[number], Wallet>;
    for (const k of DEMO_KEYS) demo[k] = (await loadOrCreateKey(join(demoDir, `${k}.json`), demoPassword)).wallet;
    const registry = ParticipantRegistry__factory.connect(record.contracts.ParticipantRegistry, dev);
    const OFFICER = keccakId("COMPLIANCE_OFFICER");
    if (!(await registry.hasRole(OFFICER, demo.officer.address))) await send(registry.grantRole(OFFICER, demo.officer.address));
    provider.destroy();

    // --- the service
    const env: NodeJS.ProcessEnv = {
      DATABASE_URL: `sqlite:${join(dataDir, "ledger.sqlite")}`,
      DOCUMENTS_DIR: join(dataDir, "documents"),
      SANCTIONS_LIST_FILE: join(ROOT, "services/data/sanctions/un-consolidated-sample.xml"),
      SIWE_DOMAIN: `localhost:${port}`,
      SIWE_URI: `http://localhost:${port}`,
      // Quiet by default so the banner stays readable; LOG_LEVEL=info shows every request.
      LOG_LEVEL: "warn",
      // An empty variable counts as unset (DATABASE_URL= must not move the database out of DATA_DIR).
      ...Object.fromEntries(Object.entries(process.env).filter(([, v]) => v !== undefined && v !== "")),
      // The embedded platform's own wiring always wins over the environment.
      HOST: host,
      PORT: String(port),
      RPC_URL: chain.url,
      CHAIN_ID: String(CHAIN_ID),
      CONFIRMATIONS: "0",
      DEPLOYMENT_FILE: deploymentFile,
      KEYSTORE_DIR: keysDir,
      KEYSTORE_PASSWORD: password,
      OPERATOR_KEYSTORE: "operator.json",
      COMPLIANCE_KEYSTORE: "compliance.json",
      RELAYER_KEYSTORE: "relayer.json",
      ISSUER_KEYSTORE: "issuer.json",
      FAUCET_ENABLED: process.env.FAUCET_ENABLED ?? "true",
    };
    const config = loadConfig(env, process.cwd());
    app = await createApp(config);
    await app.listen(config.PORT, config.HOST);
    tuneHttpServer(app, config);
    const api = `http://${config.HOST}:${config.PORT}`;
    const rel = (p: string) => (relative(process.cwd(), p).startsWith("..") ? p : relative(process.cwd(), p) || ".");

    const lines = [
      "",
      "SCF ledger is running (embedded platform)",
      "",
      `  chain       ${chain.url}  chain id ${chain.chainId}  durable: ${chain.blocksReplayed} blocks replayed from ${rel(dataDir)}`,
      `  contracts   ${reused ? "reused" : "deployed"}  ${rel(deploymentFile)}`,
      ...Object.entries(record.contracts).map(([n, a]) => `              ${n.padEnd(20)} ${a}`),
      `  database    ${config.database.kind === "sqlite" ? `SQLite ${rel(config.database.path)}` : "PostgreSQL"}`,
      `  API         ${api}`,
      `  OpenAPI     ${api}/docs     health ${api}/health`,
      `  faucet      ${config.FAUCET_ENABLED ? "on (compliance officers: POST /settlement/faucet)" : "off"}`,
      `  service keys ${createdKeys ? "created" : "reused"} in ${rel(keysDir)} (password in ${rel(join(keysDir, "password.txt"))})`,
      `  demo keys   ${rel(demoDir)}  password: ${demoPassword}`,
      ...DEMO_KEYS.map((k) => `              ${k.padEnd(8)} ${demo[k].address}${k === "officer" ? "  COMPLIANCE_OFFICER" : "  (not registered: onboard it through the API)"}`),
      "",
      `  run the demo:  SCF_URL=${api} npm run demo${rel(dataDir) === "data" ? "" : ` -- --keys ${rel(demoDir)}`}`,
      `  use the demo keys with the CLI (README.md, "CLI walkthrough"), in another terminal:`,
      `    export SCF_URL=${api} SCF_KEYS_DIR=${rel(demoDir)} SCF_PASSWORD=${demoPassword}`,
      `    npx scf keys list && npx scf --key officer whoami`,
      `  started in ${((Date.now() - t0) / 1000).toFixed(1)} s (chain ${(tChain / 1000).toFixed(1)} s).  Ctrl-C stops the service, then the chain.`,
      `  logs: ${config.LOG_LEVEL} and above (LOG_LEVEL=info npm start shows every request)`,
      "",
    ];
    log(lines.join("\n"));
    return { app, config, chain };
  } catch (err) {
    await app?.close().catch(() => undefined);
    await chain.stop().catch(() => undefined);
    throw err;
  }
}

async function startExternal(): Promise<Running> {
  const config = loadConfig(process.env, process.cwd());
  if (!existsSync(config.paths.deployment)) {
    throw new StartError(
      `RPC_URL and DATABASE_URL are set, so npm start runs against that chain and database and deploys nothing; ` +
        `but the deployment file ${config.paths.deployment} does not exist. Deploy the contracts first ` +
        `('npm run deploy -- --network <name>') and set DEPLOYMENT_FILE to the file it writes.`,
    );
  }
  try {
    checkLedgerVersion(JSON.parse(readFileSync(config.paths.deployment, "utf8")) as DeploymentRecord, config.paths.deployment);
  } catch (err) {
    if (err instanceof LedgerVersionError) throw new StartError(err.message);
    throw err;
  }
  const app = await createApp(config);
  await app.listen(config.PORT, config.HOST);
  tuneHttpServer(app, config);
  const api = `http://${config.HOST}:${config.PORT}`;
  log(
    [
      "",
      "SCF ledger service is running (external chain and database)",
      `  chain       ${config.RPC_URL}  chain id ${config.CHAIN_ID}  confirmations ${config.CONFIRMATIONS}`,
      `  contracts   ${config.paths.deployment}`,
      `  database    ${config.database.kind === "postgres" ? "PostgreSQL" : `SQLite ${config.database.path}`}`,
      `  API         ${api}    OpenAPI ${api}/docs    health ${api}/health`,
      `  faucet      ${config.FAUCET_ENABLED && config.ISSUER_KEYSTORE ? "ON (test platform)" : "off"}`,
      "",
    ].join("\n"),
  );
  return { app, config, chain: null };
}

async function main(): Promise<void> {
  if (existsSync(".env")) process.loadEnvFile(".env");
  const external = !!process.env.RPC_URL && !!process.env.DATABASE_URL;
  if (!external && process.env.RPC_URL) {
    // DATABASE_URL alone is honoured (embedded chain, that database); RPC_URL alone is not.
    log("! RPC_URL is ignored without DATABASE_URL: set both to run against an external chain and database. Starting the embedded chain.");
  }
  const dataDirRaw = process.env.DATA_DIR || "data";
  const dataDir = isAbsolute(dataDirRaw) ? dataDirRaw : resolve(process.cwd(), dataDirRaw);
  const before = { SIGINT: process.listeners("SIGINT"), SIGTERM: process.listeners("SIGTERM") };
  const running = external ? await startExternal() : await undoFirstStart(dataDir, () => startEmbedded(dataDir));

  // The chain may install its own signal handlers; this launcher owns the order of shutdown
  // (the service drains and stops first, then the chain), so it drops them.
  for (const sig of ["SIGINT", "SIGTERM"] as const) {
    for (const l of process.listeners(sig)) if (!before[sig].includes(l)) process.removeListener(sig, l);
  }
  for (const sig of ["SIGINT", "SIGTERM"] as const) process.once(sig, () => log(`\n${sig}: stopping the service…`));
  closeOnSignals(running.app, running.config, async () => {
    if (running.chain) {
      log("stopping the chain…");
      await running.chain.stop();
    }
    log("stopped");
  });
}

main().catch((err: unknown) => {
  if (err instanceof ConfigError) {
    console.error(err.message);
    process.exit(78);
  }
  // A port taken between the check and the listen (or by the external service) reads as one line too.
  const e = err as NodeJS.ErrnoException & { port?: number; address?: string };
  if (e?.code === "EADDRINUSE" && e.port !== undefined) {
    const name = String(e.port) === process.env.CHAIN_PORT || (!process.env.CHAIN_PORT && e.port === 8545) ? "CHAIN_PORT" : "PORT";
    err = new StartError(portMessage({ name, what: name === "PORT" ? "the service" : "the embedded chain", host: e.address ?? "127.0.0.1", port: e.port }, e));
  }
  console.error(`npm start failed: ${err instanceof StartError ? err.message : ((err as Error).stack ?? String(err))}`);
  process.exit(1);
});
