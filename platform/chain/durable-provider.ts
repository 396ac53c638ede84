/**
 * The network as clients see it: every JSON-RPC request goes through one FIFO queue. After a
 * request has run (whether it succeeded or not: a reverted transaction is still mined) any new
 * block is appended to the journal and fsync'ed before the response leaves, so no client ever sees
 * a block that is not on disk. Methods the journal could not replay are refused (method-policy.ts).
 * Block time follows the wall clock: before every request that can mine, the next block's
 * timestamp is set to max(now, last block + 1 s). If a block cannot be journaled, the chain halts:
 * it serves nothing more rather than serve a block that is not durable. The resident set is bounded
 * by a collection when it grows (native-memory.ts).
 */
import { Mutex } from "async-mutex";
import { providerErrors } from "./hardhat-network";
import type { JournalWriter } from "./journal";
import { MINING_METHODS, refusalReason } from "./method-policy";
import { nativeMemoryGuard } from "./native-memory";
import { quantity, type Eip1193 } from "./rpc";

export interface DurableProvider extends Eip1193 {
  /** Lets the request in progress (and its journaling) finish, then refuses every later one. */
  stop(): Promise<void>;
}

export function durableProvider(network: Eip1193, journal: JournalWriter, log: (l: string) => void): DurableProvider {
  const { ProviderError, METHOD_NOT_SUPPORTED, INTERNAL } = providerErrors();
  const rpc = (method: string, params: unknown[] = []) => network.request({ method, params });
  const mutex = new Mutex();
  let halted: string | undefined;
  let stopped = false;
  // EDR's answers hold native traces freed only by a collection (native-memory.ts).
  const memory = nativeMemoryGuard();

  return {
    request: ({ method, params }) =>
      mutex.runExclusive(async () => {
        if (stopped) throw new ProviderError("the durable chain is stopping", INTERNAL);
        if (halted !== undefined) throw new ProviderError(`the durable chain halted: ${halted}`, INTERNAL);
        const refused = refusalReason(method, params);
        if (refused !== undefined) throw new ProviderError(refused, METHOD_NOT_SUPPORTED);
        if (MINING_METHODS.has(method)) {
          // Block time follows the wall clock, strictly increasing (as hardhat node and QBFT do).
          const next = Math.max(Math.floor(Date.now() / 1000), journal.lastTimestamp + 1);
          await rpc("evm_setNextBlockTimestamp", [quantity(next)]);
        }
        let result: unknown;
        let failure: unknown;
        let ok = false;
        try {
          result = await network.request({ method, params });
          ok = true;
        } catch (e) {
          failure = e;
        }
        try {
          const sentRaw =
            method === "eth_sendRawTransaction" && Array.isArray(params) && typeof params[0] === "string" ? params[0] : undefined;
          await journal.appendNewBlocks(rpc, sentRaw);
        } catch (e) {
          halted = `could not journal a mined block (${(e as Error).message}); the block is not durable, nothing more is served`;
          log(`durable chain: FATAL: ${halted}`);
          throw new ProviderError(`the durable chain halted: ${halted}`, INTERNAL);
        }
        memory.check();
        if (!ok) throw failure;
        return result;
      }),
    stop: () =>
      mutex.runExclusive(() => {
        stopped = true;
      }),
  };
}
