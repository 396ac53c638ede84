/**
 * A durable embedded chain for `npm start`: Hardhat's in-process network (EDR) served over HTTP
 * JSON-RPC, with every mined block journaled to disk before any client can learn of it, and the
 * journal replayed into a fresh network at boot.
 *
 * Files under `<dataDir>/chain/`:
 * - `genesis.json`  the pinned network config (chain id, hardfork, accounts, gas limit, base fee,
 *                   coinbase, `initialDate`) written once at the first start and reused ever after:
 *                   only a pinned genesis replays to identical block hashes.
 * - `journal.ndjson` one line per mined block: `{"n":1,"hash":"0x…","ts":1795736424,"txs":["0x02f8…"]}`
 *                   with the raw signed transactions taken from the block itself (so transactions
 *                   of every client are captured), each checked against its hash before writing.
 * - `LOCK`          the pid of the process serving this data directory (a second process is refused).
 *
 * Every JSON-RPC request goes through one FIFO queue. After a request has run (whether it succeeded
 * or not: a reverted transaction is still mined) any new block is appended to the journal and
 * fsync'ed before the response leaves, so no client ever sees a block that is not on disk. Methods
 * that would make the journal unreplayable (state setters, snapshots, time travel, mining mode
 * changes) are refused. Block time follows the wall clock: before every request that can mine, the
 * next block's timestamp is set to max(now, last block + 1 s), which is also what keeps the chain on
 * the wall clock after a restart.
 *
 * Errors are formatted by Hardhat's own `JsonRpcHandler` (the one `hardhat node` uses), so clients
 * see the same error objects — revert data included — as with `hardhat node`.
 */
import * as fs from "node:fs";
import * as http from "node:http";
import * as path from "node:path";
import { Mutex } from "async-mutex";
import { Transaction, keccak256, type TransactionLike } from "ethers";

export interface DurableChainOptions {
  dataDir: string;
  /** Default 127.0.0.1. */
  host?: string;
  /** 0 picks a free port (see `url`). */
  port: number;
  log?: (line: string) => void;
}

export interface DurableChain {
  url: string;
  chainId: bigint;
  blocksReplayed: number;
  stop(): Promise<void>;
}

/** The pinned network configuration, stored in `<dataDir>/chain/genesis.json`. */
export interface GenesisConfig {
  format: 1;
  chainId: number;
  hardfork: string;
  /** ISO 8601; the genesis block's time. */
  initialDate: string;
  blockGasLimit: number;
  initialBaseFeePerGas: number;
  coinbase: string;
  accounts: {
    mnemonic: string;
    path: string;
    initialIndex: number;
    count: number;
    passphrase: string;
    accountsBalance: string;
  };
  /** Hash of block 0, checked at every start (a different EDR could build another genesis). */
  genesisHash?: string;
  /** Informational: the toolchain that wrote the journal. */
  hardhatVersion: string;
  edrVersion: string;
}

export interface JournalEntry {
  n: number;
  hash: string;
  ts: number;
  txs: string[];
}

interface Eip1193 {
  request(args: { method: string; params?: unknown[] }): Promise<unknown>;
}

interface RpcBlock {
  number: string;
  hash: string;
  timestamp: string;
  transactions: RpcTx[] | string[];
}

interface RpcTx {
  hash: string;
  type: string;
  chainId?: string;
  nonce: string;
  gas: string;
  gasPrice?: string;
  maxFeePerGas?: string;
  maxPriorityFeePerGas?: string;
  maxFeePerBlobGas?: string;
  blobVersionedHashes?: string[];
  to: string | null;
  value: string;
  input: string;
  accessList?: { address: string; storageKeys: string[] }[];
  authorizationList?: unknown[];
  v: string;
  r: string;
  s: string;
  yParity?: string;
}

const PROJECT_ROOT = path.resolve(__dirname, "..", "..");

/** What a first start pins. Matches what `hardhat node` runs with this project's hardhat.config.ts. */
function defaultGenesis(): GenesisConfig {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const defaults = require("hardhat/internal/core/config/default-config");
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { DEFAULT_COINBASE } = require("hardhat/internal/hardhat-network/provider/provider");
  return {
    format: 1,
    chainId: 31337,
    hardfork: "cancun",
    initialDate: new Date().toISOString(),
    blockGasLimit: defaults.defaultHardhatNetworkParams.blockGasLimit,
    initialBaseFeePerGas: defaults.HARDHAT_NETWORK_DEFAULT_INITIAL_BASE_FEE_PER_GAS,
    coinbase: DEFAULT_COINBASE,
    accounts: { ...defaults.defaultHardhatNetworkHdAccountsConfigParams },
    hardhatVersion: packageVersion("hardhat"),
    edrVersion: packageVersion("@nomicfoundation/edr"),
  };
}

function packageVersion(name: string): string {
  try {
    // The package may not export its package.json: find it next to its entry point.
    let dir = path.dirname(require.resolve(name));
    while (!fs.existsSync(path.join(dir, "package.json")) && path.dirname(dir) !== dir) dir = path.dirname(dir);
    return JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8")).version;
  } catch {
    return "unknown";
  }
}

/** Requests that can mine a block under automine: the next block's time is set before them. */
const MINING_METHODS = new Set(["eth_sendRawTransaction", "eth_sendTransaction", "evm_mine"]);

/** The only `evm_*` / `hardhat_*` methods served; every other one is refused. */
const ALLOWED_SPECIAL = new Set([
  "evm_mine",
  "hardhat_metadata",
  "hardhat_getAutomine",
  "hardhat_getStackTraceFailuresCount",
  "hardhat_addCompilationResult",
]);

/** Why a method is refused, or undefined if it is served. */
export function refusalReason(method: string, params: unknown[] | undefined): string | undefined {
  const special = method.startsWith("evm_") || method.startsWith("hardhat_");
  if (special && !ALLOWED_SPECIAL.has(method)) {
    let why = "it changes the chain outside signed transactions, which the journal cannot replay";
    if (/Timestamp|Time$|increaseTime/i.test(method)) why = "block time follows the wall clock on the durable chain";
    else if (/snapshot|revert|reset/i.test(method)) why = "the durable chain never rewinds";
    else if (/Automine|IntervalMining|Mine$|mine$/i.test(method)) why = "the durable chain mines one block per transaction (automine)";
    return (
      `${method} is refused by the durable embedded chain: ${why}. ` +
      `Use a throwaway 'hardhat node' for time travel or state setting.`
    );
  }
  if (method === "evm_mine" && params !== undefined && params.length > 0 && params[0] !== null && params[0] !== undefined) {
    return "evm_mine with a timestamp is refused by the durable embedded chain: block time follows the wall clock. Call evm_mine without parameters.";
  }
  return undefined;
}

/** Raw signed transaction of a block's transaction object, checked against its hash. */
export function rawTransaction(tx: RpcTx): string {
  const type = Number(tx.type);
  const like: TransactionLike = {
    type,
    to: tx.to ?? null,
    nonce: Number(tx.nonce),
    gasLimit: BigInt(tx.gas),
    data: tx.input,
    value: BigInt(tx.value),
    signature: { r: tx.r, s: tx.s, v: type === 0 ? Number(tx.v) : 27 + Number(tx.yParity ?? tx.v) },
  };
  // A legacy transaction signed without EIP-155 replay protection (v = 27 / 28) has no chain id.
  const preEip155 = type === 0 && (Number(tx.v) === 27 || Number(tx.v) === 28);
  if (tx.chainId !== undefined && tx.chainId !== null && !preEip155) like.chainId = BigInt(tx.chainId);
  if (type === 0 || type === 1) like.gasPrice = BigInt(tx.gasPrice!);
  if (type >= 1) like.accessList = tx.accessList ?? [];
  if (type >= 2) {
    like.maxFeePerGas = BigInt(tx.maxFeePerGas!);
    like.maxPriorityFeePerGas = BigInt(tx.maxPriorityFeePerGas!);
  }
  if (type === 3) {
    like.maxFeePerBlobGas = BigInt(tx.maxFeePerBlobGas!);
    like.blobVersionedHashes = tx.blobVersionedHashes ?? [];
  }
  if (type > 3) throw new Error(`transaction ${tx.hash} has type ${type}, which the journal cannot record`);
  const raw = Transaction.from(like).serialized;
  if (keccak256(raw) !== tx.hash) {
    throw new Error(`transaction ${tx.hash} (type ${type}) does not re-serialize to its own hash`);
  }
  return raw;
}

function quantity(n: number | bigint): string {
  return "0x" + n.toString(16);
}

function fsyncDir(dir: string): void {
  const fd = fs.openSync(dir, "r");
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

function writeFileDurably(file: string, text: string): void {
  const tmp = `${file}.tmp-${process.pid}`;
  const fd = fs.openSync(tmp, "w");
  try {
    fs.writeSync(fd, text);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
  fsyncDir(path.dirname(file));
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Takes `<chainDir>/LOCK`; a lock left by a dead process (SIGKILL) is taken over. */
function acquireLock(chainDir: string, log: (l: string) => void): () => void {
  const lockFile = path.join(chainDir, "LOCK");
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = fs.openSync(lockFile, "wx");
      fs.writeSync(fd, String(process.pid));
      fs.closeSync(fd);
      return () => {
        try {
          if (fs.readFileSync(lockFile, "utf8").trim() === String(process.pid)) fs.unlinkSync(lockFile);
        } catch {
          /* already gone */
        }
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      const owner = Number(fs.readFileSync(lockFile, "utf8").trim());
      if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && isAlive(owner)) {
        throw new Error(`durable chain: ${chainDir} is in use by process ${owner} (${lockFile})`);
      }
      if (owner === process.pid) throw new Error(`durable chain: ${chainDir} is already served by this process`);
      log(`durable chain: taking over the lock left by process ${owner || "?"} (no longer running)`);
      fs.unlinkSync(lockFile);
    }
  }
  throw new Error(`durable chain: could not take ${lockFile}`);
}

/**
 * Reads the journal. A torn last line (a write cut short by a crash: no newline, or not JSON) is
 * cut off with a warning; any other damage is an error naming the line.
 */
export function readJournal(file: string, log: (l: string) => void): JournalEntry[] {
  if (!fs.existsSync(file)) return [];
  const text = fs.readFileSync(file, "utf8");
  const entries: JournalEntry[] = [];
  let pos = 0;
  let lineNo = 0;
  while (pos < text.length) {
    const nl = text.indexOf("\n", pos);
    const line = nl < 0 ? text.slice(pos) : text.slice(pos, nl);
    const isLast = nl < 0 || nl === text.length - 1;
    lineNo++;
    let entry: JournalEntry | undefined;
    try {
      entry = nl < 0 ? undefined : (JSON.parse(line) as JournalEntry);
    } catch {
      entry = undefined;
    }
    const valid =
      entry !== undefined &&
      Number.isInteger(entry.n) &&
      typeof entry.hash === "string" &&
      Number.isInteger(entry.ts) &&
      Array.isArray(entry.txs);
    if (!valid) {
      if (!isLast) {
        throw new Error(`durable chain: journal ${file} is corrupt at line ${lineNo} (not the last line): refusing to start`);
      }
      log(
        `durable chain: WARNING: the last journal line (${line.length} bytes, line ${lineNo}) is torn ` +
          `(a write cut short by a crash); it was never acknowledged and is cut off`,
      );
      fs.truncateSync(file, Buffer.byteLength(text.slice(0, pos), "utf8"));
      break;
    }
    if (entry!.n !== entries.length + 1) {
      throw new Error(`durable chain: journal ${file} line ${lineNo} holds block ${entry!.n}, expected block ${entries.length + 1}`);
    }
    entries.push(entry!);
    pos = nl + 1;
  }
  return entries;
}

async function createNetwork(genesis: GenesisConfig): Promise<Eip1193> {
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { resolveConfig } = require("hardhat/internal/core/config/config-resolution");
  const { createProvider } = require("hardhat/internal/core/providers/construction");
  const { Artifacts } = require("hardhat/internal/artifacts");
  /* eslint-enable @typescript-eslint/no-require-imports */
  // Resolve the network config exactly as Hardhat resolves hardhat.config.ts (without loading it),
  // so the provider (including the wrappers around eth_sendTransaction) is the one `hardhat node` gets.
  const config = resolveConfig(path.join(PROJECT_ROOT, "hardhat.config.ts"), {
    networks: {
      hardhat: {
        chainId: genesis.chainId,
        hardfork: genesis.hardfork,
        initialDate: genesis.initialDate,
        blockGasLimit: genesis.blockGasLimit,
        initialBaseFeePerGas: genesis.initialBaseFeePerGas,
        coinbase: genesis.coinbase,
        accounts: genesis.accounts,
        allowUnlimitedContractSize: false,
        allowBlocksWithSameTimestamp: false,
        mining: { auto: true, interval: 0, mempool: { order: "fifo" } },
        loggingEnabled: false,
      },
    },
  });
  // Build infos (if compiled) give the same Solidity error messages as `hardhat node`.
  const artifacts = fs.existsSync(path.join(config.paths.artifacts, "build-info")) ? new Artifacts(config.paths.artifacts) : undefined;
  return (await createProvider(config, "hardhat", artifacts)) as Eip1193;
}

async function replay(
  rpc: (method: string, params?: unknown[]) => Promise<unknown>,
  entries: JournalEntry[],
  log: (l: string) => void,
): Promise<void> {
  if (entries.length === 0) return;
  const started = process.hrtime.bigint();
  let txCount = 0;
  let automine = true;
  const setAutomine = async (on: boolean) => {
    if (automine !== on) await rpc("evm_setAutomine", [on]);
    automine = on;
  };
  try {
    for (const e of entries) {
      const where = `block ${e.n} (journal line ${e.n})`;
      try {
        await rpc("evm_setNextBlockTimestamp", [quantity(e.ts)]);
        if (e.txs.length === 1) {
          // The common case (automine: one transaction per block), about twice as fast.
          await setAutomine(true);
          txCount++;
          try {
            await rpc("eth_sendRawTransaction", [e.txs[0]]);
          } catch (err) {
            // A transaction that reverts is mined all the same (and reported as an error).
            if (Number(await rpc("eth_blockNumber")) !== e.n) throw err;
          }
        } else {
          await setAutomine(false);
          for (const raw of e.txs) {
            await rpc("eth_sendRawTransaction", [raw]);
            txCount++;
          }
          await rpc("evm_mine", []);
        }
      } catch (err) {
        throw new Error(`durable chain: replay failed at ${where}: ${(err as Error).message}`);
      }
      const mined = (await rpc("eth_getBlockByNumber", ["latest", false])) as RpcBlock;
      if (Number(mined.number) !== e.n || mined.hash !== e.hash) {
        throw new Error(
          `durable chain: replay diverged at ${where}: the journal says hash ${e.hash} ` +
            `(${e.txs.length} tx, time ${e.ts}) but replaying it gave block ${Number(mined.number)} ` +
            `with hash ${mined.hash} and ${mined.transactions.length} tx. The journal was altered or ` +
            `the genesis / toolchain changed; refusing to start.`,
        );
      }
    }
  } finally {
    await setAutomine(true);
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  log(
    `durable chain: replayed ${entries.length} blocks (${txCount} transactions) in ${seconds.toFixed(2)} s ` +
      `(${Math.round(entries.length / Math.max(seconds, 1e-6))} blocks/s)`,
  );
}

/** Starts the chain on `opts.dataDir` (replaying its journal) and serves it on `host:port`. */
export async function startDurableChain(opts: DurableChainOptions): Promise<DurableChain> {
  const log = opts.log ?? ((line: string) => console.log(line));
  const host = opts.host ?? "127.0.0.1";
  const chainDir = path.join(opts.dataDir, "chain");
  fs.mkdirSync(chainDir, { recursive: true });
  const releaseLock = acquireLock(chainDir, log);
  let journalFd: number | undefined;
  try {
    const genesisFile = path.join(chainDir, "genesis.json");
    const journalFile = path.join(chainDir, "journal.ndjson");
    let genesis: GenesisConfig;
    const firstStart = !fs.existsSync(genesisFile);
    if (firstStart) {
      if (fs.existsSync(journalFile) && fs.statSync(journalFile).size > 0) {
        throw new Error(`durable chain: ${journalFile} exists without ${genesisFile}: the journal cannot be replayed without its genesis`);
      }
      genesis = defaultGenesis();
    } else {
      genesis = JSON.parse(fs.readFileSync(genesisFile, "utf8")) as GenesisConfig;
      if (genesis.format !== 1 || typeof genesis.initialDate !== "string") {
        throw new Error(`durable chain: ${genesisFile} is not a genesis this version understands`);
      }
      if (!fs.existsSync(journalFile)) {
        throw new Error(
          `durable chain: ${journalFile} is missing although ${genesisFile} exists: starting would silently ` +
            `lose every block; restore the journal, or remove the whole ${chainDir} to start a new chain`,
        );
      }
      const hh = packageVersion("hardhat");
      const edr = packageVersion("@nomicfoundation/edr");
      if (genesis.hardhatVersion !== hh || genesis.edrVersion !== edr) {
        log(
          `durable chain: WARNING: the journal was written with hardhat ${genesis.hardhatVersion} / EDR ${genesis.edrVersion}, ` +
            `this is hardhat ${hh} / EDR ${edr}; the replay checks every block hash`,
        );
      }
    }
    const entries = readJournal(journalFile, log);

    const provider = await createNetwork(genesis);
    const rpc = (method: string, params: unknown[] = []) => provider.request({ method, params });

    const genesisBlock = (await rpc("eth_getBlockByNumber", ["0x0", false])) as RpcBlock;
    if (firstStart) {
      genesis.genesisHash = genesisBlock.hash;
      // The (empty) journal exists before the genesis does: a genesis without a journal means loss.
      fs.closeSync(fs.openSync(journalFile, "a"));
      writeFileDurably(genesisFile, JSON.stringify(genesis, null, 2) + "\n");
      log(`durable chain: new chain ${genesis.chainId} in ${chainDir} (genesis ${genesis.initialDate}, ${genesisBlock.hash})`);
    } else if (genesis.genesisHash !== undefined && genesis.genesisHash !== genesisBlock.hash) {
      throw new Error(
        `durable chain: block 0 has hash ${genesisBlock.hash} but ${genesisFile} records ${genesis.genesisHash}: ` +
          `the toolchain builds another genesis from the same config; refusing to replay`,
      );
    }

    await replay(rpc, entries, log);
    let lastNumber = entries.length;
    let lastTs = entries.length > 0 ? entries[entries.length - 1].ts : Number(genesisBlock.timestamp);
    // The network's clock offset is where the last replayed block (or the pinned genesis) left it,
    // typically behind the wall clock by the downtime. Move it to the wall clock so reads of the
    // pending block (eth_call, eth_estimateGas) see the present; it cannot move back if the chain
    // ran ahead of the wall clock (bursts of more than one block per second).
    const pending = (await rpc("eth_getBlockByNumber", ["pending", false])) as RpcBlock;
    const behind = Math.floor(Date.now() / 1000) - Number(pending.timestamp);
    if (behind > 0) await rpc("evm_increaseTime", [behind]);

    journalFd = fs.openSync(journalFile, "a");
    const fd = journalFd;

    const mutex = new Mutex();
    let halted: string | undefined;
    let stopped = false;

    const journalNewBlocks = async (sentRaw: string | undefined): Promise<void> => {
      const head = Number(await rpc("eth_blockNumber"));
      if (head === lastNumber) return;
      if (head < lastNumber) throw new Error(`the chain went back from block ${lastNumber} to ${head}`);
      let lines = "";
      let ts = lastTs;
      for (let n = lastNumber + 1; n <= head; n++) {
        const block = (await rpc("eth_getBlockByNumber", [quantity(n), true])) as RpcBlock;
        const txs = (block.transactions as RpcTx[]).map((tx) =>
          sentRaw !== undefined && keccak256(sentRaw) === tx.hash ? sentRaw : rawTransaction(tx),
        );
        ts = Number(block.timestamp);
        const entry: JournalEntry = { n, hash: block.hash, ts, txs };
        lines += JSON.stringify(entry) + "\n";
      }
      const bytes = Buffer.from(lines, "utf8");
      for (let off = 0; off < bytes.length; ) off += fs.writeSync(fd, bytes, off);
      fs.fsyncSync(fd);
      lastNumber = head;
      lastTs = ts;
    };

    const { ProviderError, MethodNotSupportedError, InternalError } =
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      require("hardhat/internal/core/providers/errors");

    const durable: Eip1193 = {
      request: ({ method, params }) =>
        mutex.runExclusive(async () => {
          if (stopped) throw new ProviderError("the durable chain is stopping", InternalError.CODE);
          if (halted !== undefined) throw new ProviderError(`the durable chain halted: ${halted}`, InternalError.CODE);
          const refused = refusalReason(method, params);
          if (refused !== undefined) throw new ProviderError(refused, MethodNotSupportedError.CODE);
          if (MINING_METHODS.has(method)) {
            // Block time follows the wall clock, strictly increasing (as hardhat node and QBFT do).
            const next = Math.max(Math.floor(Date.now() / 1000), lastTs + 1);
            await rpc("evm_setNextBlockTimestamp", [quantity(next)]);
          }
          let result: unknown;
          let failure: unknown;
          let ok = false;
          try {
            result = await provider.request({ method, params });
            ok = true;
          } catch (e) {
            failure = e;
          }
          try {
            const sentRaw =
              method === "eth_sendRawTransaction" && Array.isArray(params) && typeof params[0] === "string" ? params[0] : undefined;
            await journalNewBlocks(sentRaw);
          } catch (e) {
            halted = `could not journal a mined block (${(e as Error).message}); the block is not durable, nothing more is served`;
            log(`durable chain: FATAL: ${halted}`);
            throw new ProviderError(`the durable chain halted: ${halted}`, InternalError.CODE);
          }
          if (!ok) throw failure;
          return result;
        }),
    };

    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { JsonRpcHandler } = require("hardhat/internal/hardhat-network/jsonrpc/handler");
    const handler = new JsonRpcHandler(durable);
    const server = http.createServer((req, res) => {
      void handler.handleHttp(req, res);
    });
    server.keepAliveTimeout = 5_000;
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(opts.port, host, () => {
        server.off("error", reject);
        resolve();
      });
    });
    const { port } = server.address() as { port: number };
    const url = `http://${host.includes(":") ? `[${host}]` : host}:${port}`;
    log(`durable chain: serving chain ${genesis.chainId} at block ${lastNumber} on ${url}`);

    let stopping: Promise<void> | undefined;
    return {
      url,
      chainId: BigInt(genesis.chainId),
      blocksReplayed: entries.length,
      stop() {
        stopping ??= (async () => {
          // Let the request in progress (and its journaling) finish, then refuse the rest.
          await mutex.runExclusive(() => {
            stopped = true;
          });
          await new Promise<void>((resolve) => {
            server.close(() => resolve());
            server.closeAllConnections();
          });
          fs.closeSync(fd);
          releaseLock();
        })();
        return stopping;
      },
    };
  } catch (e) {
    if (journalFd !== undefined) fs.closeSync(journalFd);
    releaseLock();
    throw e;
  }
}
