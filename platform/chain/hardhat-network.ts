/**
 * The one file that reaches into `hardhat/internal/*`: Hardhat 2 has no public API for building its
 * in-process network (EDR) from a config without loading hardhat.config.ts, nor for its JSON-RPC
 * error objects and HTTP handler, which `hardhat node` uses. Everything the durable chain takes
 * from Hardhat's internals is named here, so a Hardhat upgrade is checked in one place.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type * as http from "node:http";
import { PROJECT_ROOT } from "../project-root";
import type { GenesisConfig } from "./genesis";
import type { Eip1193 } from "./rpc";

/* eslint-disable @typescript-eslint/no-require-imports */

/** Hardhat's defaults for its network: what `hardhat node` runs with when the config says nothing. */
export function hardhatNetworkDefaults(): {
  blockGasLimit: number;
  initialBaseFeePerGas: number;
  coinbase: string;
  accounts: GenesisConfig["accounts"];
} {
  const defaults = require("hardhat/internal/core/config/default-config");
  const { DEFAULT_COINBASE } = require("hardhat/internal/hardhat-network/provider/provider");
  return {
    blockGasLimit: defaults.defaultHardhatNetworkParams.blockGasLimit,
    initialBaseFeePerGas: defaults.HARDHAT_NETWORK_DEFAULT_INITIAL_BASE_FEE_PER_GAS,
    coinbase: DEFAULT_COINBASE,
    accounts: { ...defaults.defaultHardhatNetworkHdAccountsConfigParams },
  };
}

/** A fresh in-process network (automine, FIFO mempool) from the pinned genesis. */
export async function createNetwork(genesis: GenesisConfig): Promise<Eip1193> {
  const { resolveConfig } = require("hardhat/internal/core/config/config-resolution");
  const { createProvider } = require("hardhat/internal/core/providers/construction");
  const { Artifacts } = require("hardhat/internal/artifacts");
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

/** A JSON-RPC error as Hardhat's network reports it (`code` is the JSON-RPC error code). */
export type ProviderErrorClass = new (message: string, code: number) => Error;

/** Hardhat's provider error class and the two codes the durable chain answers with. */
export function providerErrors(): { ProviderError: ProviderErrorClass; METHOD_NOT_SUPPORTED: number; INTERNAL: number } {
  const { ProviderError, MethodNotSupportedError, InternalError } = require("hardhat/internal/core/providers/errors");
  return { ProviderError, METHOD_NOT_SUPPORTED: MethodNotSupportedError.CODE, INTERNAL: InternalError.CODE };
}

/** `hardhat node`'s HTTP JSON-RPC handler over a provider: its error objects carry revert data. */
export function jsonRpcHttpHandler(provider: Eip1193): (req: http.IncomingMessage, res: http.ServerResponse) => Promise<void> {
  const { JsonRpcHandler } = require("hardhat/internal/hardhat-network/jsonrpc/handler");
  const handler = new JsonRpcHandler(provider);
  return (req, res) => handler.handleHttp(req, res);
}
