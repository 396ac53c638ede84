import { runInNewContext } from "node:vm";
import { setFlagsFromString } from "node:v8";
import { expect } from "chai";
import { CALLER_CACHE_ENTRIES, CallerCache } from "../../services/src/auth/caller-cache";

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;
const heapUsed = () => {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
};

describe("CallerCache", () => {
  it("keeps at most CALLER_CACHE_ENTRIES sessions, the least recently used going first", async () => {
    const cache = new CallerCache({ CALLER_CACHE_MS: 60_000 });
    let loads = 0;
    const load = (i: number) => async () => {
      loads++;
      return { address: `0x${i.toString(16).padStart(40, "0")}`, expiresAt: 2e9 };
    };
    for (let i = 0; i <= CALLER_CACHE_ENTRIES; i++) await cache.session(`t${i}`, load(i));
    expect(loads).to.equal(CALLER_CACHE_ENTRIES + 1);
    // The newest is served from the cache, the first (evicted by the one over the bound) is loaded again.
    expect((await cache.session(`t${CALLER_CACHE_ENTRIES}`, load(CALLER_CACHE_ENTRIES)))!.address).to.match(/^0x0+4e20$/);
    expect(loads).to.equal(CALLER_CACHE_ENTRIES + 1);
    await cache.session("t0", load(0));
    expect(loads).to.equal(CALLER_CACHE_ENTRIES + 2);
  });

  it("takes memory for the entries it holds, not for all it could hold", () => {
    // With lru-cache's `max`, each cache allocated arrays for 20,000 entries up front: about
    // 1.3 MiB of heap per CallerCache (two caches), 50 MiB for these 40.
    const before = heapUsed();
    const caches = Array.from({ length: 40 }, () => new CallerCache({ CALLER_CACHE_MS: 2_000 }));
    const grown = heapUsed() - before;
    expect(caches).to.have.length(40);
    expect(grown).to.be.below(4 * 2 ** 20);
  });
});
