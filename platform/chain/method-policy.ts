/**
 * Which JSON-RPC methods the durable chain serves. Everything the journal can replay is served:
 * standard `eth_*` / `net_*` / `web3_*` calls and mining by signed transactions. Methods that change
 * the chain outside signed transactions (state setters, snapshots, time travel, mining mode
 * changes) would make the journal unreplayable, so they are refused with the reason.
 */

/** Requests that can mine a block under automine: the next block's time is set before them. */
export const MINING_METHODS: ReadonlySet<string> = new Set(["eth_sendRawTransaction", "eth_sendTransaction", "evm_mine"]);

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
