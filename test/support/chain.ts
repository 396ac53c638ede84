/**
 * A real chain for service tests: a `hardhat node` child process on a free loopback port, spoken to
 * over JSON-RPC exactly as the service would speak to Besu.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { JsonRpcProvider, Network, Wallet, HDNodeWallet, Mnemonic, parseEther, type Signer } from "ethers";
import { DEFAULT_PARAMS, deployLedger, describeDeployment, type DeploymentRecord, type Ledger } from "../../scripts/lib/deploy-ledger";
import { PROJECT_ROOT } from "../../platform/project-root";

const ROOT = PROJECT_ROOT;
export const HARDHAT_MNEMONIC = "test test test test test test test test test test test junk";

/** Ports handed out by freePort in the last RESERVED_MS, by any test process on this machine. */
const RESERVED_DIR = join(tmpdir(), "scf-test-ports");
const RESERVED_MS = 60_000;

/**
 * A loopback port nothing listens on, for a child (node, service) that will listen on it. `npm test`
 * runs several suites side by side, and between the kernel naming a free port here and the child
 * binding it another suite could be given the same one, then start its node there or, worse, talk
 * to ours. So each port handed out is reserved for a minute in a file created exclusively, shared
 * by every test process; once bound, the kernel itself keeps the port from others.
 */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = await kernelFreePort();
    if (reservePort(port)) return port;
  }
  throw new Error(`no free port: 50 ports offered by the kernel were all reserved in ${RESERVED_DIR} in the last minute`);
}

/** Reserves `port` for a minute unless some test process (this one included) did within the last minute. */
export function reservePort(port: number, dir = RESERVED_DIR): boolean {
  mkdirSync(dir, { recursive: true });
  const mark = join(dir, String(port));
  for (let tries = 0; tries < 2; tries++) {
    try {
      writeFileSync(mark, String(process.pid), { flag: "wx" });
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      try {
        if (Date.now() - statSync(mark).mtimeMs <= RESERVED_MS) return false;
        rmSync(mark, { force: true }); // an old reservation: the port was bound and freed since, or never used
      } catch {
        /* removed meanwhile by another process: try again */
      }
    }
  }
  return false;
}

function kernelFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

export interface TestChain {
  url: string;
  chainId: bigint;
  provider: JsonRpcProvider;
  /** Hardhat's funded development account #i. */
  account(i: number): Wallet;
  /** A fresh random key funded with 100 ETH for gas. */
  fundedWallet(): Promise<Wallet>;
  stop(): Promise<void>;
  process: ChildProcess;
}

/** Starts `hardhat node` (automine unless `intervalMs` is given) and waits until it answers.
 * With TEST_NODE=anvil every suite that starts its chain here gets anvil instead (test/support/anvil.ts). */
export async function startChain(opts: { intervalMs?: number } = {}): Promise<TestChain> {
  if (process.env.TEST_NODE === "anvil") {
    // Imported lazily: anvil.ts imports this module.
    const { startAnvil } = await import("./anvil");
    return startAnvil(opts.intervalMs ? { mining: { blockTimeMs: opts.intervalMs } } : {});
  }
  const port = await freePort();
  const env = { ...process.env, HARDHAT_MINING_INTERVAL: opts.intervalMs ? String(opts.intervalMs) : "" };
  const child = spawnTied(join(ROOT, "node_modules", ".bin", "hardhat"), ["node", "--hostname", "127.0.0.1", "--port", String(port)], env);
  return attachChain(child, `http://127.0.0.1:${port}`, 31337n, "hardhat node");
}

const SETPRIV = "/usr/bin/setpriv";

/**
 * Spawns `command` in the project root so that it dies with this process even when this process
 * is killed outright (SIGKILL, an out-of-memory kill, mocha crashing): util-linux `setpriv
 * --pdeathsig SIGKILL` has the kernel kill the child when its parent goes. Where setpriv is
 * missing only the 'exit' hook in attachChain remains.
 */
export function spawnTied(command: string, args: string[], env: NodeJS.ProcessEnv = process.env): ChildProcess {
  const [cmd, argv] = existsSync(SETPRIV) ? [SETPRIV, ["--pdeathsig", "SIGKILL", "--", command, ...args]] : [command, args];
  return spawn(cmd, argv, { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
}

/**
 * A node child process listening at `url`, once it answers eth_chainId, as a TestChain whose
 * accounts are Hardhat's development mnemonic's. The child is killed when this process exits, and
 * when mocha crashes while it runs.
 */
export async function attachChain(child: ChildProcess, url: string, chainId: bigint, what: string): Promise<TestChain> {
  let output = "";
  child.stdout?.on("data", (d: Buffer) => (output += d.toString()));
  child.stderr?.on("data", (d: Buffer) => (output += d.toString()));
  const killOnExit = () => child.kill("SIGKILL");
  process.once("exit", killOnExit);
  const network = Network.from(chainId);
  const provider = new JsonRpcProvider(url, network, { staticNetwork: network, pollingInterval: 50, cacheTimeout: -1 });
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${what} exited early:\n${output}`);
    try {
      const answered = BigInt((await provider.send("eth_chainId", [])) as string);
      if (answered !== chainId) throw new Error(`${what} answers chain id ${answered}, expected ${chainId}`);
      break;
    } catch (err) {
      if ((err as Error).message?.includes("answers chain id")) throw err;
      if (Date.now() > deadline) {
        child.kill("SIGKILL");
        throw new Error(`${what} did not start:\n${output}`);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  const root = HDNodeWallet.fromMnemonic(Mnemonic.fromPhrase(HARDHAT_MNEMONIC), "m/44'/60'/0'/0");
  const account = (i: number) => new Wallet(root.deriveChild(i).privateKey, provider);
  let funder = 0;
  return {
    url,
    chainId,
    provider,
    process: child,
    account,
    async fundedWallet() {
      const w = Wallet.createRandom().connect(provider);
      const from = account(10 + (funder++ % 8));
      await (await from.sendTransaction({ to: w.address, value: parseEther("100") })).wait();
      return new Wallet(w.privateKey, provider);
    },
    async stop() {
      provider.destroy();
      process.removeListener("exit", killOnExit);
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child.once("exit", r));
        child.kill("SIGTERM");
        await exited;
      }
    },
  };
}

export interface DeployedLedger extends Ledger {
  record: DeploymentRecord;
}

/** Deploys a fresh ledger on `chain` with the given service keys holding the operator roles. */
export async function deployTo(
  chain: TestChain,
  keys: { operator: string; compliance: string; deployer?: Signer },
): Promise<DeployedLedger> {
  const deployer = keys.deployer ?? chain.account(0);
  const admin = await deployer.getAddress();
  const roles = { admin, onboardingOperator: keys.operator, complianceOfficer: keys.compliance, issuer: admin };
  const ledger = await deployLedger(deployer, roles, DEFAULT_PARAMS);
  const record = await describeDeployment(ledger, roles, DEFAULT_PARAMS, chain.chainId, await chain.provider.getBlockNumber());
  return { ...ledger, record };
}
