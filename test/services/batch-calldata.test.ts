/**
 * encodeTokeniseBatchBySig (services/src/receivables/batch-calldata.ts) writes the batch calldata
 * itself: it must be byte for byte ethers' Interface.encodeFunctionData for any batch, and refuse
 * values the ABI cannot hold rather than write wrong bytes.
 */
import { expect } from "chai";
import fc from "fast-check";
import { getAddress, hexlify } from "ethers";
import { encodeTokeniseBatchBySig } from "../../services/src/receivables/batch-calldata";
import { IFACE } from "../../services/src/receivables/receivable-lifecycle.service";

const address = fc.uint8Array({ minLength: 20, maxLength: 20 }).map((b) => getAddress(hexlify(b)));
const word = fc.uint8Array({ minLength: 32, maxLength: 32 }).map(hexlify);
const uint = fc.oneof(fc.bigInt({ min: 0n, max: 2n ** 256n - 1n }), fc.bigInt({ min: 0n, max: 2n ** 64n }));
const bytes = fc.uint8Array({ minLength: 0, maxLength: 130 }).map(hexlify);
const invoice = fc.record({ debtor: address, faceValue: uint, dueDate: uint, documentHash: word, fingerprint: word });

describe("encodeTokeniseBatchBySig", function () {
  it("equals Interface.encodeFunctionData('tokeniseBatchBySig') for random batches and signatures (property)", function () {
    fc.assert(
      fc.property(
        address,
        fc.array(invoice, { minLength: 0, maxLength: 40 }),
        fc.record({ expiry: uint, signature: bytes }),
        fc.record({ nonce: uint, deadline: uint, signature: bytes }),
        (seller, invoices, attestation, auth) => {
          expect(encodeTokeniseBatchBySig(seller, invoices, attestation, auth)).to.equal(
            IFACE.encodeFunctionData("tokeniseBatchBySig", [seller, invoices, attestation, auth]),
          );
        },
      ),
      { numRuns: 150 },
    );
  });

  it("equals it for a full batch of 200 invoices with 65-byte signatures", function () {
    const [invoices] = fc.sample(fc.array(invoice, { minLength: 200, maxLength: 200 }), 1);
    const sig = "0x" + "ab".repeat(65);
    const seller = getAddress("0x" + "12".repeat(20));
    expect(encodeTokeniseBatchBySig(seller, invoices, { expiry: 9n, signature: sig }, { nonce: 3n, deadline: 4n, signature: sig })).to.equal(
      IFACE.encodeFunctionData("tokeniseBatchBySig", [seller, invoices, { expiry: 9n, signature: sig }, { nonce: 3n, deadline: 4n, signature: sig }]),
    );
  });

  it("refuses values the ABI cannot hold", function () {
    const seller = getAddress("0x" + "12".repeat(20));
    const inv = { debtor: seller, faceValue: 1n, dueDate: 2n, documentHash: "0x" + "00".repeat(32), fingerprint: "0x" + "00".repeat(32) };
    const att = { expiry: 1n, signature: "0x" };
    const auth = { nonce: 1n, deadline: 2n, signature: "0x" };
    expect(() => encodeTokeniseBatchBySig(seller, [{ ...inv, faceValue: 2n ** 256n }], att, auth)).to.throw(RangeError);
    expect(() => encodeTokeniseBatchBySig(seller, [{ ...inv, faceValue: -1n }], att, auth)).to.throw(RangeError);
    expect(() => encodeTokeniseBatchBySig(seller, [{ ...inv, documentHash: "0x1234" }], att, auth)).to.throw(TypeError);
    expect(() => encodeTokeniseBatchBySig("0x1234", [inv], att, auth)).to.throw(TypeError);
    expect(() => encodeTokeniseBatchBySig(seller, [inv], att, { ...auth, signature: "0xabc" })).to.throw(TypeError);
  });
});
