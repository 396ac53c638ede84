/**
 * The service registers a native keccak-256 with ethers (services/src/common/native-keccak.ts): it
 * must be the same function as ethers' own (@noble) for every input.
 */
import { expect } from "chai";
import fc from "fast-check";
import { hexlify, keccak256, id, TypedDataEncoder, getAddress } from "ethers";
import { javascriptKeccak256, nativeKeccak256, useNativeKeccak } from "../../services/src/common/native-keccak";

describe("native keccak256", function () {
  it("loads in this process and is registered with ethers", function () {
    expect(nativeKeccak256).to.not.equal(null);
    expect(useNativeKeccak()).to.equal(true);
    // The known answers, now through the registered function.
    expect(keccak256("0x")).to.equal("0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470");
    expect(id("hello")).to.equal("0x1c8aff950685c2ed4bc3174f3472287b56d9517b9c948127319a09a7a36deac8");
  });

  it("equals @noble's keccak256 for random inputs of every length around the 136-byte rate and beyond (property)", function () {
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 300 }), fc.uint8Array({ minLength: 60_000, maxLength: 70_000 })), (data) => {
        expect(hexlify(nativeKeccak256!(data))).to.equal(hexlify(javascriptKeccak256(data)));
        // Sub-arrays of a larger buffer hash only their own bytes.
        const framed = new Uint8Array(data.length + 10);
        framed.set(data, 5);
        expect(hexlify(nativeKeccak256!(framed.subarray(5, 5 + data.length)))).to.equal(hexlify(javascriptKeccak256(data)));
      }),
      { numRuns: 400 },
    );
  });

  it("gives ethers' answers for checksums and EIP-712 digests once registered", function () {
    useNativeKeccak();
    expect(getAddress("0xfb6916095ca1df60bb79ce92ce3ea74c37c5d359")).to.equal("0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359");
    // EIP-712's own example (the "Mail" message of the EIP).
    const domain = { name: "Ether Mail", version: "1", chainId: 1, verifyingContract: "0xCcCCccccCCCCcCCCCCCcCcCccCcCCCcCcccccccC" };
    const types = {
      Person: [
        { name: "name", type: "string" },
        { name: "wallet", type: "address" },
      ],
      Mail: [
        { name: "from", type: "Person" },
        { name: "to", type: "Person" },
        { name: "contents", type: "string" },
      ],
    };
    const message = {
      from: { name: "Cow", wallet: "0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826" },
      to: { name: "Bob", wallet: "0xbBbBBBBbbBBBbbbBbbBbbbbBBbBbbbbBbBbbBBbB" },
      contents: "Hello, Bob!",
    };
    expect(TypedDataEncoder.hash(domain, types, message)).to.equal("0xbe609aee343fb3c4b28e1df9e632fca64fcfaede20f02e86244efddf30957bd2");
  });
});
