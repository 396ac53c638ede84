/**
 * Hardhat configuration.
 *
 * The Solidity compiler comes from the npm `solc` package (soljson), never from the compiler
 * download site: these machines cannot reach it. We override the subtask that resolves a compiler
 * build so Hardhat uses the bundled soljson. The version pinned in package.json must equal
 * SOLC_VERSION below, and `evmVersion` is pinned to one Hyperledger Besu executes (cancun).
 */
import { subtask } from "hardhat/config";
import { TASK_COMPILE_SOLIDITY_GET_SOLC_BUILD } from "hardhat/builtin-tasks/task-names";
import type { HardhatUserConfig } from "hardhat/config";
import "@nomicfoundation/hardhat-toolbox";

const SOLC_VERSION = "0.8.30";

subtask(TASK_COMPILE_SOLIDITY_GET_SOLC_BUILD).setAction(async (args: { solcVersion: string }) => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const installed: string = require("solc/package.json").version;
  if (args.solcVersion !== SOLC_VERSION || installed !== SOLC_VERSION) {
    throw new Error(
      `This project compiles only with solc ${SOLC_VERSION} from the npm 'solc' package ` +
        `(requested ${args.solcVersion}, installed ${installed}). Run 'npm ci'.`,
    );
  }
  return {
    compilerPath: require.resolve("solc/soljson.js"),
    isSolcJs: true,
    version: SOLC_VERSION,
    longVersion: `${SOLC_VERSION}+commit.73712a01`,
  };
});

// Genesis time. Unset, the chain starts at the wall clock (block time ~ real time, as on Besu).
// A durable embedded chain pins it (HARDHAT_INITIAL_DATE) so a journal of raw transactions replays
// to identical block hashes.
const INITIAL_DATE = process.env.HARDHAT_INITIAL_DATE || undefined;

// HARDHAT_MINING_INTERVAL=200 makes `hardhat node` mine a block every 200 ms with a FIFO mempool,
// like a QBFT block period; unset, every transaction is mined at once (automine).
const MINING_INTERVAL = Number(process.env.HARDHAT_MINING_INTERVAL || 0);

const config: HardhatUserConfig = {
  solidity: {
    compilers: [
      {
        version: SOLC_VERSION,
        settings: {
          optimizer: { enabled: true, runs: 10_000 },
          evmVersion: "cancun",
          viaIR: false,
        },
      },
    ],
    // Receivables is the largest contract: at 10,000 runs its bytecode passes the 24,576-byte limit
    // (EIP-170, which Besu enforces too). 800 runs keeps it deployable with its version-1 import
    // (whose body is the linked ReceivablesImporter library); at 900 to 1,000 the optimizer inlines
    // more and the contract is some 500 bytes over. Financing, with its own import and financing in
    // one transaction, is 38 bytes over at 10,000 runs and 583 under at 5,000. npm run bench:gas
    // shows what the runs cost.
    overrides: {
      "contracts/financing/Financing.sol": {
        version: SOLC_VERSION,
        settings: { optimizer: { enabled: true, runs: 5000 }, evmVersion: "cancun", viaIR: false },
      },
      "contracts/receivables/Receivables.sol": {
        version: SOLC_VERSION,
        settings: { optimizer: { enabled: true, runs: 800 }, evmVersion: "cancun", viaIR: false },
      },
    },
  },
  networks: {
    hardhat: {
      initialDate: INITIAL_DATE,
      // Run the same EVM rules the bytecode is compiled for and Besu executes.
      hardfork: "cancun",
      allowUnlimitedContractSize: false,
      mining: MINING_INTERVAL > 0 ? { auto: false, interval: MINING_INTERVAL, mempool: { order: "fifo" } } : undefined,
    },
    localhost: {
      url: process.env.RPC_URL ?? "http://127.0.0.1:8545",
    },
  },
  paths: {
    sources: "./contracts",
    tests: "./test/contracts",
    cache: "./cache",
    artifacts: "./artifacts",
  },
  typechain: {
    outDir: "typechain-types",
    target: "ethers-v6",
  },
  gasReporter: {
    enabled: process.env.REPORT_GAS === "true",
  },
  mocha: {
    timeout: 120_000,
  },
};

export default config;
