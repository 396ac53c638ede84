/**
 * secp256k1 for the signed-act path on libsecp256k1 (the `secp256k1` package's prebuilt native
 * binding) instead of @noble's JavaScript, with the same answers as ethers:
 * - `recoverSigner`: the address that signed a digest, as `recoverAddress`. Every signed post
 *   recovers its signer; in JavaScript that was the largest single cost of a single act (about 3 ms
 *   of CPU under load, against well under 0.3 ms). The signature is parsed by ethers exactly as
 *   before (65 bytes with v 27/28 or 0/1, or EIP-2098 compact): the same inputs are accepted and refused.
 * - `signDigest`: the service's own signature (the invoice attestation), as `SigningKey.sign`.
 * Where the binding cannot load (another platform, no prebuild) ethers' own code runs; never the
 * package's slower pure-JavaScript fallback.
 */
import { Signature, SigningKey, dataSlice, getAddress, getBytes, hexlify, keccak256, recoverAddress } from "ethers";

interface NativeSecp256k1 {
  ecdsaRecover(signature: Uint8Array, recid: number, message: Uint8Array, compressed: boolean): Uint8Array;
  ecdsaSign(message: Uint8Array, privateKey: Uint8Array): { signature: Uint8Array; recid: number };
}

const native: NativeSecp256k1 | null = (() => {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- the native binding only, not the JS fallback
    return require("secp256k1/bindings") as NativeSecp256k1;
  } catch {
    return null;
  }
})();

/** Whether recovery runs natively in this process. */
export const nativeRecovery = native !== null;

/** `recoverAddress(digest, signature)`: throws on a malformed signature or one that recovers no key. */
export function recoverSigner(digest: string, signature: string): string {
  if (!native) return recoverAddress(digest, signature);
  const sig = Signature.from(signature);
  const message = getBytes(digest);
  if (message.length !== 32) throw new Error("digest must be 32 bytes");
  const compact = getBytes(sig.r + sig.s.slice(2));
  const pub = native.ecdsaRecover(compact, sig.yParity, message, false);
  return getAddress(dataSlice(keccak256(pub.subarray(1)), 12));
}

/**
 * `new SigningKey(privateKey).sign(digest).serialized`, natively: libsecp256k1 and @noble both take
 * the nonce from RFC 6979 and give the low-s form, so the signature is the same bytes (the invoice
 * attestation must be deterministic: a retried act encodes to the same calldata).
 */
export function signDigest(key: SigningKey, digest: string): string {
  if (!native) return key.sign(digest).serialized;
  const message = getBytes(digest);
  if (message.length !== 32) throw new Error("digest must be 32 bytes");
  const { signature, recid } = native.ecdsaSign(message, getBytes(key.privateKey));
  return hexlify(signature) + (27 + recid).toString(16);
}

/**
 * The parts of the same signature for a raw private key and a 32-byte digest (the outbox's
 * transactions, outbox/legacy-tx.ts), or null where the native binding is not loaded.
 */
export function signDigestParts(privateKey: Uint8Array, digest: string): { r: Uint8Array; s: Uint8Array; recid: number } | null {
  if (!native) return null;
  const message = getBytes(digest);
  if (message.length !== 32) throw new Error("digest must be 32 bytes");
  const { signature, recid } = native.ecdsaSign(message, privateKey);
  return { r: signature.subarray(0, 32), s: signature.subarray(32, 64), recid };
}
