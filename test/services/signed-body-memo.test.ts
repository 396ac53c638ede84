/**
 * The global validation pipe validates a batch tokenisation's invoices once per body: on the unsigned
 * post. The signed post of the same body (plus nonce, deadline and signature) has only its signature
 * fields validated; any other difference takes the full path, and every refusal is the one a pipe
 * that never saw the body gives (common/signed-body-memo.ts).
 */
import { expect } from "chai";
import { createHash } from "node:crypto";
import { BadRequestException, type ArgumentMetadata } from "@nestjs/common";
import { ProblemValidationPipe } from "../../services/src/common/validation.pipe";
import { signedBodyKey } from "../../services/src/common/signed-body-memo";
import { BatchInvoiceDto, TokeniseBatchDto, TokeniseReceivableDto } from "../../services/src/receivables/dto/receivable-write.dto";

type Body = Record<string, unknown>;
const body = (meta: ArgumentMetadata["metatype"] = TokeniseBatchDto): ArgumentMetadata => ({ type: "body", metatype: meta, data: undefined });
const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;
let seq = 0;

function batch(n = 200): Body {
  const s = ++seq;
  const day = (d: number) => new Date(Date.UTC(2027, 0, 1) + d * 86_400_000).toISOString().slice(0, 10);
  return {
    invoices: Array.from({ length: n }, (_, i) => ({
      debtor: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
      invoiceNumber: `MEMO-${s}-${String(i).padStart(5, "0")}`,
      sellerTaxId: "91330100MA2B3C4D5E",
      buyerTaxId: "91310000MA1FL5XY2K",
      issueDate: day(0),
      dueDate: day(90),
      amount: String(1_000_000 + i),
      documentHash: "0x" + createHash("sha256").update(`memo ${s} ${i}`).digest("hex"),
    })),
  };
}
const signed = (b: Body, extra: Body = {}): Body => ({ ...clone(b), nonce: "42", deadline: "1900000000", signature: "0x" + "ab".repeat(65), ...extra });

async function outcome(pipe: ProblemValidationPipe, value: Body, meta = body()): Promise<{ ok: unknown } | { refused: unknown }> {
  try {
    return { ok: await pipe.transform(clone(value), meta) };
  } catch (err) {
    expect(err).to.be.instanceOf(BadRequestException);
    return { refused: (err as BadRequestException).getResponse() };
  }
}

describe("Validation pipe: a signed batch body's invoices are validated once (signed-body-memo)", function () {
  it("validates the signed post of an unsigned body it accepted in its signature fields only, and answers the same DTO", async function () {
    const pipe = new ProblemValidationPipe();
    const unsigned = batch();
    await pipe.transform(clone(unsigned), body());
    expect(pipe.signedBodies).to.include({ hits: 0, misses: 1 });
    const out = (await pipe.transform(signed(unsigned), body())) as TokeniseBatchDto;
    expect(pipe.signedBodies).to.include({ hits: 1, misses: 1 });
    const fresh = (await new ProblemValidationPipe().transform(signed(unsigned), body())) as TokeniseBatchDto;
    expect(out).to.be.instanceOf(TokeniseBatchDto);
    expect(out.invoices[199]).to.be.instanceOf(BatchInvoiceDto);
    expect(out).to.deep.equal(fresh);
    // A retried signed post, and the same body under another signature, are served too.
    await pipe.transform(signed(unsigned, { nonce: "43" }), body());
    expect(pipe.signedBodies.hits).to.equal(2);
  });

  it("refuses every variant of a remembered body exactly as a pipe that never saw it, and remembers no refused body", async function () {
    const pipe = new ProblemValidationPipe();
    const unsigned = batch(20);
    await pipe.transform(clone(unsigned), body());
    const variants: Array<[string, (b: Body) => Body]> = [
      ["a nested amount", (b) => ((b.invoices as Body[])[7].amount = "12x", b)],
      ["a nested amount of zero", (b) => ((b.invoices as Body[])[19].amount = "0", b)],
      ["a nested number for a string", (b) => ((b.invoices as Body[])[3].invoiceNumber = 17, b)],
      ["a nested unknown property", (b) => ((b.invoices as Body[])[0].memo = "x", b)],
      ["a nested date", (b) => ((b.invoices as Body[])[5].issueDate = "2027-02-30", b)],
      ["a missing invoice field", (b) => (delete (b.invoices as Body[])[2].documentHash, b)],
      ["an unknown top-level property", (b) => ((b.extra = 1), b)],
      ["a bad nonce", (b) => ((b.nonce = "12a"), b)],
      ["a bad deadline and signature", (b) => ((b.deadline = "-1"), (b.signature = "0xabc"), b)],
      ["a signature that is an object", (b) => ((b.signature = { r: "0x1" }), b)],
      ["an invoice too many", (b) => ((b.invoices = [...(b.invoices as Body[]), ...(batch(181).invoices as Body[])]), b)],
      ["invoices as an object", (b) => ((b.invoices = { 0: (b.invoices as Body[])[0] }), b)],
    ];
    for (const [what, change] of variants) {
      const value = change(signed(unsigned));
      const expected = await outcome(new ProblemValidationPipe(), value);
      expect(expected, what).to.have.property("refused");
      expect(await outcome(pipe, value), what).to.deep.equal(expected);
      // Refused twice in a row: a refusal is never remembered as a pass.
      expect(await outcome(pipe, value), what).to.deep.equal(expected);
    }
    expect(pipe.signedBodies.hits, "only the signature-field variants hit").to.equal(6);
  });

  it("does not remember a body it refused, nor bodies of classes that did not opt in", async function () {
    const pipe = new ProblemValidationPipe();
    const bad = batch(3);
    (bad.invoices as Body[])[1].amount = "-5";
    const first = await outcome(pipe, bad);
    expect(await outcome(pipe, signed(bad)), "refused again, in full").to.deep.equal(await outcome(new ProblemValidationPipe(), signed(bad)));
    expect(first).to.have.property("refused");
    expect(pipe.signedBodies.hits).to.equal(0);
    const single = { ...(batch(1).invoices as Body[])[0] };
    await pipe.transform(clone(single), body(TokeniseReceivableDto));
    await pipe.transform(signed(single), body(TokeniseReceivableDto));
    expect(pipe.signedBodies).to.include({ hits: 0, misses: 2 });
  });

  it("keys only what JSON holds as it is: undefined, functions, dates, -0 and NaN leave a body unkeyed", function () {
    const base = { invoices: [{ amount: "1" }], nonce: "1" };
    expect(signedBodyKey(base)).to.equal(signedBodyKey({ invoices: [{ amount: "1" }], signature: "0x00" }));
    expect(signedBodyKey(base)).to.not.equal(signedBodyKey({ invoices: [{ amount: "2" }] }));
    expect(signedBodyKey({ invoices: [{ amount: "1" }], nested: { nonce: "1" } })).to.not.equal(signedBodyKey({ invoices: [{ amount: "1" }], nested: {} }));
    for (const odd of [undefined, () => 1, new Date(0), -0, NaN, Infinity, 1n, new Map(), Symbol("x")]) {
      expect(signedBodyKey({ invoices: [{ amount: odd }] }), String(typeof odd)).to.equal(null);
    }
  });
});
