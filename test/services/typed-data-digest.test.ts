/**
 * typedDataDigest (services/src/acts/typed-data-digest.ts) keeps the domain separator and the
 * types' encoder between calls: it must give exactly ethers' TypedDataEncoder.hash for any message,
 * across domains and types used in turn (a cached separator or encoder never leaks into another).
 */
import { expect } from "chai";
import fc from "fast-check";
import { TypedDataEncoder, Wallet, hexlify } from "ethers";
import { RECEIVABLES_TYPES } from "../../shared/eip712";
import { typedDataDigest } from "../../services/src/acts/typed-data-digest";

const address = fc.uint8Array({ minLength: 20, maxLength: 20 }).map((b) => Wallet.createRandom().address.slice(0, 2) + hexlify(b).slice(2));
const word = fc.uint8Array({ minLength: 32, maxLength: 32 }).map(hexlify);
const uint = fc.bigInt({ min: 0n, max: 2n ** 256n - 1n });
const invoice = fc.record({ debtor: address, faceValue: uint, dueDate: uint, documentHash: word, fingerprint: word });
const domain = fc.record({
  name: fc.constantFrom("SCF Receivables", "SCF Financing"),
  version: fc.constantFrom("1", "2"),
  chainId: fc.constantFrom("31337", "1337", "20261205"),
  verifyingContract: address,
});

describe("typedDataDigest", function () {
  it("equals TypedDataEncoder.hash for any Tokenise / TokeniseBatch / attestation message and domain (property)", function () {
    fc.assert(
      fc.property(
        domain,
        address,
        fc.array(invoice, { minLength: 1, maxLength: 5 }),
        uint,
        uint,
        fc.constantFrom("Tokenise", "TokeniseBatch", "InvoiceAttestation", "InvoiceBatchAttestation"),
        (d, seller, invoices, nonce, deadline, kind) => {
          const types = RECEIVABLES_TYPES[kind as keyof typeof RECEIVABLES_TYPES];
          const message: Record<string, unknown> =
            kind === "Tokenise" ? { seller, invoice: invoices[0], nonce, deadline }
            : kind === "TokeniseBatch" ? { seller, invoices, nonce, deadline }
            : kind === "InvoiceAttestation" ? { seller, invoice: invoices[0], expiry: deadline }
            : { seller, invoices, expiry: deadline };
          expect(typedDataDigest(d, types, message)).to.equal(TypedDataEncoder.hash(d, types, message));
        },
      ),
      { numRuns: 100 },
    );
  });
});
