/**
 * anvil (Foundry's node, from the npm package @foundry-rs/anvil-linux-amd64: the binary ships in the
 * package) as a second, independent node implementation for service tests: interval mining, a real
 * mempool with `--no-mining` + evm_mine, and `anvil_reorg`. It serves the same development
 * accounts as `hardhat node` (the same mnemonic) and runs the EVM rules the contracts are compiled
 * for (cancun), so a TestChain from here is interchangeable with startChain()'s.
 */
import { join } from "node:path";
import { PROJECT_ROOT } from "../../platform/project-root";
import { HARDHAT_MNEMONIC, attachChain, freePort, spawnTied, type TestChain } from "./chain";

export const ANVIL_BIN = join(PROJECT_ROOT, "node_modules", "@foundry-rs", "anvil-linux-amd64", "bin", "anvil");

export type AnvilMining =
  /** One block per transaction, at once (anvil's default). */
  | "auto"
  /** A block every `blockTimeMs` (anvil takes fractions of a second), FIFO mempool. */
  | { blockTimeMs: number }
  /** Nothing is mined until evm_mine / anvil_mine: transactions wait in the mempool. */
  | "manual";

export interface AnvilOptions {
  mining?: AnvilMining;
  chainId?: bigint;
  /** Development accounts to fund; TestChain.fundedWallet() pays from #10–#17, so at least 18. */
  accounts?: number;
}

export async function startAnvil(opts: AnvilOptions = {}): Promise<TestChain> {
  const chainId = opts.chainId ?? 31337n;
  const mining = opts.mining ?? "auto";
  // anvil 1.x has no --port 0: take a free port and hand it over (the race is the same as hardhat's).
  const port = await freePort();
  const args = [
    "--host", "127.0.0.1",
    "--port", String(port),
    "--chain-id", String(chainId),
    "--mnemonic", HARDHAT_MNEMONIC,
    "--accounts", String(Math.max(opts.accounts ?? 20, 18)),
    "--hardfork", "cancun",
    "--order", "fifo",
    "--silent",
  ];
  if (mining === "manual") args.push("--no-mining");
  else if (mining !== "auto") args.push("--block-time", String(mining.blockTimeMs / 1000));
  const child = spawnTied(ANVIL_BIN, args);
  return attachChain(child, `http://127.0.0.1:${port}`, chainId, "anvil");
}
