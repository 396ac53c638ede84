/**
 * `<dataDir>/chain/genesis.json`: the pinned network configuration (chain id, hardfork, accounts,
 * gas limit, base fee, coinbase, `initialDate`), written once at the first start and reused ever
 * after: only a pinned genesis replays the journal to identical block hashes. Block 0's hash is
 * recorded too and checked at every start (another EDR could build another genesis).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { hardhatNetworkDefaults } from "./hardhat-network";

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

/** What a first start pins. Matches what `hardhat node` runs with this project's hardhat.config.ts. */
function defaultGenesis(): GenesisConfig {
  return {
    format: 1,
    chainId: 31337,
    hardfork: "cancun",
    initialDate: new Date().toISOString(),
    ...hardhatNetworkDefaults(),
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

/**
 * The genesis of the chain in `chainDir`: the stored one, or a new one on a first start (not yet
 * written: `pinGenesis` writes it once block 0 exists). Refuses a journal without its genesis and
 * a genesis without its journal, either of which would silently lose blocks.
 */
export function loadGenesis(chainDir: string, journalFile: string, log: (l: string) => void): { genesis: GenesisConfig; firstStart: boolean } {
  const genesisFile = path.join(chainDir, "genesis.json");
  if (!fs.existsSync(genesisFile)) {
    if (fs.existsSync(journalFile) && fs.statSync(journalFile).size > 0) {
      throw new Error(`durable chain: ${journalFile} exists without ${genesisFile}: the journal cannot be replayed without its genesis`);
    }
    return { genesis: defaultGenesis(), firstStart: true };
  }
  const genesis = JSON.parse(fs.readFileSync(genesisFile, "utf8")) as GenesisConfig;
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
  return { genesis, firstStart: false };
}

/**
 * On a first start, records block 0's hash and writes the genesis (after creating the empty
 * journal: a genesis without a journal means loss); on later starts, checks block 0's hash.
 */
export function pinGenesis(
  chainDir: string,
  journalFile: string,
  genesis: GenesisConfig,
  firstStart: boolean,
  genesisBlockHash: string,
  log: (l: string) => void,
): void {
  const genesisFile = path.join(chainDir, "genesis.json");
  if (firstStart) {
    genesis.genesisHash = genesisBlockHash;
    fs.closeSync(fs.openSync(journalFile, "a"));
    writeFileDurably(genesisFile, JSON.stringify(genesis, null, 2) + "\n");
    log(`durable chain: new chain ${genesis.chainId} in ${chainDir} (genesis ${genesis.initialDate}, ${genesisBlockHash})`);
  } else if (genesis.genesisHash !== undefined && genesis.genesisHash !== genesisBlockHash) {
    throw new Error(
      `durable chain: block 0 has hash ${genesisBlockHash} but ${genesisFile} records ${genesis.genesisHash}: ` +
        `the toolchain builds another genesis from the same config; refusing to replay`,
    );
  }
}

function fsyncDir(dir: string): void {
  const fd = fs.openSync(dir, "r");
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** Write to a temporary file, fsync, rename over, fsync the directory: the file is whole or absent. */
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
