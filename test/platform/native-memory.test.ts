/**
 * The durable chain's guard on native memory (platform/chain/native-memory.ts): a full collection
 * once the resident set has grown by the threshold, none before, without --expose-gc.
 */
import { expect } from "chai";
import { nativeMemoryGuard } from "../../platform/chain/native-memory";

describe("native memory guard", () => {
  it("collects unreachable objects once the resident set has grown by the threshold", async () => {
    const guard = nativeMemoryGuard(0);
    let ref: WeakRef<object> | undefined;
    (() => {
      ref = new WeakRef({ payload: new Array(1000).fill(1) });
    })();
    // A WeakRef keeps its target for the rest of the job that created (or dereferenced) it.
    await new Promise((r) => setImmediate(r));
    guard.check();
    expect(guard.collections).to.equal(1);
    expect(ref!.deref()).to.equal(undefined);
  });

  it("does nothing while the resident set has grown by less than the threshold", () => {
    const guard = nativeMemoryGuard(1024 * 2 ** 30);
    guard.check();
    guard.check();
    expect(guard.collections).to.equal(0);
  });
});
