import { expect } from "chai";
import fc from "fast-check";
import { JsonRpcProvider, hexlify } from "ethers";
import { rpcCall } from "../../services/src/acts/acts.service";

const RUNS = Number(process.env.PROPERTY_RUNS ?? 200);

describe("rpcCall (the JSON-RPC form of the signed POST's simulated call)", () => {
  // getRpcTransaction needs no connection; the network is static so nothing is ever sent.
  const provider = new JsonRpcProvider("http://127.0.0.1:1", 31337, { staticNetwork: true });
  after(() => provider.destroy());

  const address = fc.uint8Array({ minLength: 20, maxLength: 20 }).map((b) => hexlify(b));
  const mixedCase = (s: string, flips: boolean[]) =>
    "0x" + [...s.slice(2)].map((c, i) => (flips[i % flips.length] ? c.toUpperCase() : c)).join("");

  it("is the same JSON as ethers' getRpcTransaction, key for key, for lower-case, mixed-case and empty calldata", () => {
    fc.assert(
      fc.property(
        address,
        address,
        fc.uint8Array({ maxLength: 600 }),
        fc.array(fc.boolean(), { minLength: 1, maxLength: 7 }),
        fc.option(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), { nil: undefined }),
        (from, to, bytes, flips, gasLimit) => {
          for (const data of [hexlify(bytes), mixedCase(hexlify(bytes), flips)]) {
            const tx = { from: mixedCase(from, flips), to, data, ...(gasLimit !== undefined ? { gasLimit } : {}) };
            expect(JSON.stringify(rpcCall(provider, tx))).to.equal(JSON.stringify(provider.getRpcTransaction(tx)));
          }
        },
      ),
      { numRuns: RUNS },
    );
  });

  it("refuses calldata that is not hex as ethers does (odd length, not hex, no 0x)", () => {
    for (const data of ["0xabc", "0xzz", "abcd"]) {
      const tx = { from: "0x" + "11".repeat(20), to: "0x" + "22".repeat(20), data };
      expect(() => provider.getRpcTransaction(tx), data).to.throw();
      expect(() => rpcCall(provider, tx), data).to.throw();
    }
  });
});
