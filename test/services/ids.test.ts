import { expect } from "chai";
import { BadRequestException } from "@nestjs/common";
import { problemMessage } from "../../shared/client";
import { parseReceivableId, ReceivableIdError, receivableIdHex } from "../../shared/ids";
import { normaliseReceivableId, receivableIdParam } from "../../services/src/audit/read-scope";
import { ReceivableIdPipe } from "../../services/src/receivables/dto/receivable-write.dto";

const HEX_1 = "0x" + "0".repeat(63) + "1";
const MAX = (1n << 256n) - 1n;

describe("shared/ids: the receivable-id parser and formatter", () => {
  it("formats an id as 0x and 64 lower-case hex digits, from a bigint or decimal text", () => {
    expect(receivableIdHex(1n)).to.equal(HEX_1);
    expect(receivableIdHex("255")).to.equal("0x" + "0".repeat(62) + "ff");
    expect(receivableIdHex(MAX)).to.equal("0x" + "f".repeat(64));
  });

  it("parses the full hex form and decimals below 2^256", () => {
    expect(parseReceivableId(HEX_1)).to.equal(1n);
    expect(parseReceivableId("0x" + "F".repeat(64))).to.equal(MAX);
    expect(parseReceivableId(MAX.toString())).to.equal(MAX);
  });

  it("takes short hex only when asked (request bodies and the CLI)", () => {
    expect(() => parseReceivableId("0x1")).to.throw(ReceivableIdError).with.property("reason", "form");
    expect(parseReceivableId("0x1", { shortHex: true })).to.equal(1n);
  });

  it("refuses other text as a form error and 2^256 or more as a range error", () => {
    for (const bad of ["", " 1", "1 ", "-1", "0b1", "0o7", "1e3", "0x", "0x" + "0".repeat(65), "x1", "1".repeat(79)]) {
      expect(() => parseReceivableId(bad, { shortHex: true }), JSON.stringify(bad)).to.throw(ReceivableIdError).with.property("reason", "form");
    }
    expect(() => parseReceivableId((MAX + 1n).toString())).to.throw(ReceivableIdError).with.property("reason", "range");
  });

  it("the service's path parameters keep their answers: canonical hex, or a 400 naming the forms", () => {
    expect(normaliseReceivableId("1")).to.equal(HEX_1);
    expect(normaliseReceivableId("0x1")).to.equal(null);
    expect(receivableIdParam("1")).to.equal(HEX_1);
    expect(() => receivableIdParam("nope", "receivableId")).to.throw(BadRequestException, /receivableId must be a receivable id: 0x followed by 64 hex digits/);
    const pipe = new ReceivableIdPipe();
    expect(pipe.transform("0x" + "AB".repeat(32))).to.equal("0x" + "ab".repeat(32));
    expect(() => pipe.transform((MAX + 1n).toString())).to.throw(BadRequestException, /below 2\^256/);
  });
});

describe("shared/client: problem documents", () => {
  it("reads the message of a problem document, a list of messages, a bare error name or text", () => {
    expect(problemMessage({ type: "urn:x", detail: "d", message: "m" }, 400)).to.equal("m");
    expect(problemMessage({ detail: "only detail" }, 400)).to.equal("only detail");
    expect(problemMessage({ message: ["a", "b"] }, 400)).to.equal("a; b");
    expect(problemMessage({ error: "Nope" }, 403)).to.equal("Nope");
    expect(problemMessage("  plain text ", 502)).to.equal("plain text");
    expect(problemMessage(null, 503)).to.equal("HTTP 503");
  });
});
