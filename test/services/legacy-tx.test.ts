/**
 * signLegacyTransaction (services/src/outbox/legacy-tx.ts) encodes and signs the outbox's type-0
 * EIP-155 transactions itself: the raw bytes must be exactly those of ethers'
 * Wallet.signTransaction(Transaction.from(...)) for any fields, and the hash ethers parses from them.
 */
import { expect } from "chai";
import fc from "fast-check";
import { Transaction, Wallet, getAddress, hexlify, recoverAddress } from "ethers";
import { signLegacyTransaction, type LegacyTxFields } from "../../services/src/outbox/legacy-tx";
import { nativeRecovery } from "../../services/src/acts/ecdsa";

const key = fc.uint8Array({ minLength: 32, maxLength: 32 }).filter((b) => b.some((x) => x !== 0) && b[0] < 0xff).map(hexlify);
const address = fc.uint8Array({ minLength: 20, maxLength: 20 }).map((b) => getAddress(hexlify(b)));
// RLP's edges: single bytes below and above 0x80, strings of 55 and 56 bytes, long strings.
const data = fc.oneof(
  fc.uint8Array({ minLength: 0, maxLength: 3 }),
  fc.uint8Array({ minLength: 54, maxLength: 57 }),
  fc.uint8Array({ minLength: 250, maxLength: 260 }),
  fc.uint8Array({ minLength: 65_530, maxLength: 65_540 }),
).map(hexlify);
const edgeUint = (max: bigint) => fc.oneof(fc.constantFrom(0n, 1n, 127n, 128n, 255n, 256n, max), fc.bigInt({ min: 0n, max }));
const fields = fc.record({
  chainId: fc.oneof(fc.constantFrom(1n, 31337n, 1337n), fc.bigInt({ min: 1n, max: 2n ** 62n })),
  nonce: fc.oneof(fc.constantFrom(0, 1, 127, 128, 255, 256), fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER })),
  to: address,
  data,
  gasLimit: edgeUint(2n ** 64n - 1n),
  gasPrice: edgeUint(2n ** 256n - 1n),
  value: edgeUint(2n ** 256n - 1n),
});

async function viaEthers(privateKey: string, f: LegacyTxFields): Promise<string> {
  return new Wallet(privateKey).signTransaction(Transaction.from({ type: 0, ...f }));
}

describe("signLegacyTransaction", function () {
  this.timeout(120_000);

  it("signs natively in this process (the fast path is what the property below checks)", function () {
    expect(nativeRecovery).to.equal(true);
  });

  it("gives the raw bytes of ethers' Wallet.signTransaction and the hash ethers parses from them (property)", async function () {
    await fc.assert(
      fc.asyncProperty(key, fields, async (privateKey, f) => {
        const mine = signLegacyTransaction(new Wallet(privateKey), f);
        expect(mine.raw).to.equal(await viaEthers(privateKey, f));
        const parsed = Transaction.from(mine.raw);
        expect(mine.hash).to.equal(parsed.hash);
        expect(parsed.from).to.equal(new Wallet(privateKey).address);
        expect(recoverAddress(parsed.unsignedHash, parsed.signature!)).to.equal(new Wallet(privateKey).address);
      }),
      { numRuns: 120 },
    );
  });

  it("refuses fields ethers refuses instead of encoding wrong bytes", function () {
    const w = Wallet.createRandom();
    const ok: LegacyTxFields = { chainId: 31337n, nonce: 0, to: getAddress("0x" + "12".repeat(20)), data: "0x", gasLimit: 21_000n, gasPrice: 1n, value: 0n };
    expect(() => signLegacyTransaction(w, { ...ok, data: "0xzz" })).to.throw(TypeError);
    expect(() => signLegacyTransaction(w, { ...ok, data: "0x123" })).to.throw(TypeError);
    expect(() => signLegacyTransaction(w, { ...ok, data: "12" })).to.throw(TypeError);
    expect(() => signLegacyTransaction(w, { ...ok, to: "0x" + "12".repeat(19) })).to.throw();
    // A mixed-case address with a wrong EIP-55 checksum.
    expect(() => signLegacyTransaction(w, { ...ok, to: "0x" + "aB".repeat(20) })).to.throw();
    expect(() => signLegacyTransaction(w, { ...ok, gasPrice: -1n })).to.throw(RangeError);
    expect(() => signLegacyTransaction(w, { ...ok, value: 2n ** 256n })).to.throw(RangeError);
    expect(() => signLegacyTransaction(w, { ...ok, chainId: 0n })).to.throw(RangeError);
  });
});
