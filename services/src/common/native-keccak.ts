/**
 * ethers' keccak256 on libkeccak (the `keccak` package's prebuilt native binding) instead of
 * @noble's JavaScript, registered through ethers' own hook (`keccak256.register`), so every
 * keccak in the service process — EIP-712 struct hashes and digests, fingerprints, receivable ids,
 * EIP-55 checksums, the outbox's transaction hashes — runs natively. Micro-measured on the bench
 * machine: 32-192 bytes 17-28 µs → 2-4 µs; a batch transaction's 66 kB 5.3 ms → 0.2 ms. A 200-invoice
 * act hashes a few thousand times; @noble's keccak was the largest JavaScript cost in the profile.
 *
 * It is the same function: at registration the binding is checked against @noble on fixed vectors
 * (every length around the 136-byte rate), and a binding that fails to load or to agree is not used
 * (ethers keeps @noble). test/services/native-keccak.test.ts compares the two on random inputs.
 */
import { keccak256 } from "ethers";

interface KeccakState {
  initialize(rate: number, capacity: number): void;
  absorb(data: Buffer): void;
  absorbLastFewBits(bits: number): void;
  squeeze(length: number): Buffer;
}

/** The native keccak-256 of `data`, or null where the binding does not load. */
export const nativeKeccak256: ((data: Uint8Array) => Uint8Array) | null = (() => {
  let state: KeccakState;
  try {
    // The package's native API (not its pure-JavaScript fallback): its hash objects are streams, so
    // one raw state is taken from one and reused (calls are synchronous; the state is re-initialised
    // for each hash).
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- the native binding only
    const create = require("keccak/bindings") as (algorithm: string) => { _state: KeccakState };
    state = create("keccak256")._state;
  } catch {
    return null;
  }
  if (typeof state?.absorb !== "function" || typeof state.squeeze !== "function") return null;
  return (data: Uint8Array): Uint8Array => {
    state.initialize(1088, 512);
    state.absorb(Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength));
    state.absorbLastFewBits(0x01);
    return state.squeeze(32);
  };
})();

/** ethers' own implementation (@noble), which registration replaces. */
export const javascriptKeccak256 = keccak256._;

let registered = false;

/** Registers the native keccak with ethers once per process; false where it is not available or disagrees. */
export function useNativeKeccak(): boolean {
  if (registered) return true;
  const k = nativeKeccak256;
  if (!k) return false;
  try {
    for (let n = 0; n <= 300; n += n < 130 || n > 280 ? 13 : 1) {
      const v = Uint8Array.from({ length: n }, (_, i) => (i * 131 + n * 7) & 0xff);
      if (Buffer.compare(Buffer.from(k(v)), Buffer.from(javascriptKeccak256(v))) !== 0) return false;
    }
  } catch {
    return false; // the package's internals changed shape: keep ethers' own
  }
  keccak256.register(k);
  registered = true;
  return true;
}
