/**
 * recoverSigner (services/src/acts/ecdsa.ts) recovers with libsecp256k1's native binding:
 * it must answer exactly what ethers' recoverAddress answers, for every signature form ethers accepts
 * (v 27/28, yParity 0/1, EIP-2098 compact), and refuse what ethers refuses.
 */
import { expect } from "chai";
import fc from "fast-check";
import { Signature, SigningKey, computeAddress, hexlify, recoverAddress } from "ethers";
import { nativeRecovery, recoverSigner, signDigest } from "../../services/src/acts/ecdsa";

const bytes32 = fc.uint8Array({ minLength: 32, maxLength: 32 }).map(hexlify);
const outcome = (f: () => string) => {
  try {
    return f();
  } catch {
    return "refused";
  }
};

describe("recoverSigner", function () {
  it("runs on the native binding on this platform (linux-x64 prebuild)", function () {
    expect(nativeRecovery).to.equal(true);
  });

  it("recovers the signer of any digest in every signature form, as recoverAddress does (property)", function () {
    fc.assert(
      fc.property(bytes32, bytes32, (key, digest) => {
        let signer: SigningKey;
        try {
          signer = new SigningKey(key);
        } catch {
          return; // not a valid private key
        }
        const sig = signer.sign(digest);
        const address = computeAddress(signer.publicKey);
        for (const form of [sig.serialized, sig.compactSerialized, Signature.from({ r: sig.r, s: sig.s, v: sig.yParity }).serialized]) {
          expect(recoverSigner(digest, form)).to.equal(address);
          expect(recoverSigner(digest, form)).to.equal(recoverAddress(digest, form));
        }
      }),
      { numRuns: 200 },
    );
  });

  it("agrees with recoverAddress on tampered and malformed signatures (another key or refused, never a difference)", function () {
    fc.assert(
      fc.property(bytes32, fc.uint8Array({ minLength: 0, maxLength: 70 }), fc.constantFrom(0, 27, 28, 1, 29), (digest, raw, v) => {
        for (const sig of [hexlify(raw), hexlify(raw) + v.toString(16).padStart(2, "0")]) {
          expect(outcome(() => recoverSigner(digest, sig)), sig).to.equal(outcome(() => recoverAddress(digest, sig)));
        }
      }),
      { numRuns: 300 },
    );
    // Well-formed but arbitrary r, s (most recover some key, some none, high s included).
    fc.assert(
      fc.property(bytes32, bytes32, bytes32, fc.constantFrom("1b", "1c"), (digest, r, s, v) => {
        const sig = r + s.slice(2) + v;
        expect(outcome(() => recoverSigner(digest, sig)), sig).to.equal(outcome(() => recoverAddress(digest, sig)));
      }),
      { numRuns: 300 },
    );
  });

  it("signs any digest to the same bytes as SigningKey.sign (RFC 6979, low s), so the attestation stays deterministic (property)", function () {
    fc.assert(
      fc.property(bytes32, bytes32, (key, digest) => {
        let signer: SigningKey;
        try {
          signer = new SigningKey(key);
        } catch {
          return;
        }
        expect(signDigest(signer, digest)).to.equal(signer.sign(digest).serialized);
      }),
      { numRuns: 200 },
    );
  });
});
