/**
 * EDR answers every request with a native Response object that holds the execution traces of the
 * transactions it ran (Hardhat reads them for console.log and Solidity stack traces), tens of MB
 * for a 200-invoice `tokeniseBatch`. That memory is freed only when V8 collects the small JS
 * wrapper, and V8 does not know the native size behind it: while a replay mines block after block
 * and allocates little JavaScript, no collection comes and the process grows by the traces of
 * every replayed transaction (2.2 GB after replaying 10,000 invoices, docs/BENCHMARKS.md), memory
 * that stays resident after the replay.
 *
 * The guard below runs a full collection when the resident set has grown by `growthBytes` since
 * the last one, checked after each block: the wrappers go, EDR frees their traces. The collection
 * function is V8's own `gc`, obtained at run time (no `--expose-gc` on the command line).
 */
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

/** Resident-set growth that triggers a collection. */
export const GC_GROWTH_BYTES = 128 * 2 ** 20;

let gcFunction: (() => void) | undefined;

/** V8's full garbage collection, exposed once for this process. */
function fullGc(): () => void {
  if (gcFunction === undefined) {
    const exposed = (globalThis as { gc?: () => void }).gc;
    if (exposed !== undefined) {
      gcFunction = exposed;
    } else {
      setFlagsFromString("--expose-gc");
      gcFunction = runInNewContext("gc") as () => void;
    }
  }
  return gcFunction;
}

export interface NativeMemoryGuard {
  /** Collects if the resident set grew by the threshold since the last collection (cheap otherwise). */
  check(): void;
  /** Collections run so far. */
  readonly collections: number;
}

export function nativeMemoryGuard(growthBytes: number = GC_GROWTH_BYTES): NativeMemoryGuard {
  const gc = fullGc();
  let base = process.memoryUsage.rss();
  let collections = 0;
  return {
    check() {
      if (process.memoryUsage.rss() - base < growthBytes) return;
      gc();
      collections++;
      base = process.memoryUsage.rss();
    },
    get collections() {
      return collections;
    },
  };
}
