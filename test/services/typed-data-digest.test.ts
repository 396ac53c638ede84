/**
 * typedDataDigest (services/src/acts/typed-data-digest.ts) keeps the domain separator and the
 * types' encoder between calls: it must give exactly ethers' TypedDataEncoder.hash for any message,
 * across domains and types used in turn (a cached separator or encoder never leaks into another).
 */
import { expect } from "chai";
import fc from "fast-check";
import { SignTypedDataVersion, TypedDataUtils } from "@metamask/eth-sig-util";
import { TypedDataEncoder, Wallet, hexlify, type TypedDataField } from "ethers";
import { RECEIVABLES_TYPES, typesForClients } from "../../shared/eip712";
import { typedDataDigest } from "../../services/src/acts/typed-data-digest";
import { invoiceMessage, type Invoice } from "../../services/src/receivables/invoice-checks.service";

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

  /** @metamask/eth-sig-util's V4 digest (a second, independent EIP-712 implementation); uints as decimal strings. */
  function metamaskDigest(d: Record<string, string>, types: Record<string, TypedDataField[]>, primaryType: string, message: Record<string, unknown>): string {
    const plain = JSON.parse(JSON.stringify(message, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v))) as Record<string, unknown>;
    return hexlify(TypedDataUtils.eip712Hash({ domain: d, types: typesForClients(d, types) as never, primaryType, message: plain }, SignTypedDataVersion.V4));
  }

  it("hashes the seller's batch and the attester's batch of the same frozen invoice objects as ethers and eth-sig-util do, in either order (property)", function () {
    fc.assert(
      fc.property(domain, address, fc.array(invoice, { minLength: 1, maxLength: 6 }), uint, uint, fc.boolean(), (d, seller, raw, nonce, deadline, attesterFirst) => {
        // What a tokenising request does: one frozen message per invoice, contained in both digests' messages.
        const invoices = raw.map((i) => invoiceMessage(Object.freeze({ ...i, id: i.fingerprint, sellerTaxId: "", buyerTaxId: "", issueDate: "" }) as Invoice));
        const act = { seller, invoices, nonce, deadline };
        const attestation = { seller, invoices, expiry: deadline };
        const digests = () => [
          typedDataDigest(d, RECEIVABLES_TYPES.TokeniseBatch, act),
          typedDataDigest(d, RECEIVABLES_TYPES.InvoiceBatchAttestation, attestation),
          typedDataDigest(d, RECEIVABLES_TYPES.Tokenise, { seller, invoice: invoices[0], nonce, deadline }),
        ];
        const got = attesterFirst ? [typedDataDigest(d, RECEIVABLES_TYPES.InvoiceBatchAttestation, attestation), ...digests()].slice(1) : digests();
        expect(got).to.deep.equal(digests()); // hashed again from the memo
        expect(got[0]).to.equal(TypedDataEncoder.hash(d, RECEIVABLES_TYPES.TokeniseBatch, act));
        expect(got[1]).to.equal(TypedDataEncoder.hash(d, RECEIVABLES_TYPES.InvoiceBatchAttestation, attestation));
        expect(got[0]).to.equal(metamaskDigest(d, RECEIVABLES_TYPES.TokeniseBatch, "TokeniseBatch", act));
        expect(got[1]).to.equal(metamaskDigest(d, RECEIVABLES_TYPES.InvoiceBatchAttestation, "InvoiceBatchAttestation", attestation));
        expect(got[2]).to.equal(metamaskDigest(d, RECEIVABLES_TYPES.Tokenise, "Tokenise", { seller, invoice: invoices[0], nonce, deadline }));
      }),
      { numRuns: 60 },
    );
  });

  it("keeps one frozen message per frozen invoice, and a new one for an invoice that is not frozen", function () {
    const inv = { id: "0x01", sellerTaxId: "", buyerTaxId: "", debtor: Wallet.createRandom().address, faceValue: 1n, issueDate: "", dueDate: 2n, documentHash: "0x" + "11".repeat(32), fingerprint: "0x" + "22".repeat(32) };
    const frozen = Object.freeze({ ...inv });
    expect(invoiceMessage(frozen)).to.equal(invoiceMessage(frozen));
    expect(Object.isFrozen(invoiceMessage(frozen))).to.equal(true);
    expect(invoiceMessage(inv)).to.not.equal(invoiceMessage(inv));
  });

  it("never reuses a struct hash across types of the same name with other fields, nor for a value that is not frozen", function () {
    const d = { name: "SCF Receivables", version: "1", chainId: "31337", verifyingContract: Wallet.createRandom().address };
    const other = { Tokenise: [{ name: "invoice", type: "Invoice" }], Invoice: [{ name: "debtor", type: "address" }] };
    const value = Object.freeze({ debtor: Wallet.createRandom().address, faceValue: 5n, dueDate: 6n, documentHash: "0x" + "33".repeat(32), fingerprint: "0x" + "44".repeat(32) });
    const real = typedDataDigest(d, RECEIVABLES_TYPES.Tokenise, { seller: value.debtor, invoice: value, nonce: 1n, deadline: 2n });
    expect(real).to.equal(TypedDataEncoder.hash(d, RECEIVABLES_TYPES.Tokenise, { seller: value.debtor, invoice: value, nonce: 1n, deadline: 2n }));
    expect(typedDataDigest(d, other, { invoice: value })).to.equal(TypedDataEncoder.hash(d, other, { invoice: value }));

    const mutable: Record<string, unknown> = { ...value };
    const first = typedDataDigest(d, RECEIVABLES_TYPES.Tokenise, { seller: value.debtor, invoice: mutable, nonce: 1n, deadline: 2n });
    mutable.faceValue = 7n;
    const second = typedDataDigest(d, RECEIVABLES_TYPES.Tokenise, { seller: value.debtor, invoice: mutable, nonce: 1n, deadline: 2n });
    expect(second).to.not.equal(first);
    expect(second).to.equal(TypedDataEncoder.hash(d, RECEIVABLES_TYPES.Tokenise, { seller: value.debtor, invoice: mutable, nonce: 1n, deadline: 2n }));
  });

  it("writes uint256 and bytes32 words as ethers does for every form of value, and refuses what ethers refuses (property)", function () {
    const d = { name: "SCF Receivables", version: "1", chainId: "31337", verifyingContract: Wallet.createRandom().address };
    const types = { Words: [{ name: "amount", type: "uint256" }, { name: "hash", type: "bytes32" }] };
    // Canonical forms (the fast path), other forms ethers accepts (decimal and hex strings, numbers,
    // upper-case hex), and values ethers refuses (negative, 2^256, short or long words, not hex).
    const amount = fc.oneof(
      uint,
      fc.constantFrom(0n, 1n, 2n ** 256n - 1n, 2n ** 256n, -1n),
      uint.map((v) => v.toString()),
      uint.map((v) => "0x" + v.toString(16)),
      fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
    );
    const hash = fc.oneof(
      word,
      word.map((w) => "0x" + w.slice(2).toUpperCase()),
      fc.uint8Array({ minLength: 31, maxLength: 33 }).map(hexlify),
      fc.constantFrom("0x" + "zz".repeat(32), "0x" + "1".repeat(63), ("0x" + "ab".repeat(32)).replace("0x", "")),
    );
    fc.assert(
      fc.property(amount, hash, (a, h) => {
        let expected: string | Error;
        try {
          expected = TypedDataEncoder.hash(d, types, { amount: a, hash: h });
        } catch (err) {
          expected = err as Error;
        }
        if (expected instanceof Error) expect(() => typedDataDigest(d, types, { amount: a, hash: h })).to.throw();
        else expect(typedDataDigest(d, types, { amount: a, hash: h })).to.equal(expected);
      }),
      { numRuns: 300 },
    );
  });

  it("refuses an address with a wrong EIP-55 checksum as ethers does, every time (the address memo keeps only accepted ones)", function () {
    const d = { name: "SCF Receivables", version: "1", chainId: "31337", verifyingContract: Wallet.createRandom().address };
    const good = Wallet.createRandom().address;
    const flipped = good.slice(0, 2) + [...good.slice(2)].map((c) => (/[a-f]/.test(c) ? c.toUpperCase() : /[A-F]/.test(c) ? c.toLowerCase() : c)).join("");
    const types = { Who: [{ name: "who", type: "address" }] };
    expect(typedDataDigest(d, types, { who: good })).to.equal(TypedDataEncoder.hash(d, types, { who: good }));
    for (let i = 0; i < 2; i++) {
      expect(() => TypedDataEncoder.hash(d, types, { who: flipped })).to.throw();
      expect(() => typedDataDigest(d, types, { who: flipped })).to.throw();
    }
  });
});
