/**
 * Invoice fingerprints (services/src/receivables/fingerprint.ts): the exact ABI layout the ledger
 * relies on, normalisation of look-alike invoice numbers and tax ids, what must change the
 * fingerprint, malformed input; and the due-date and amount parsers of the write DTOs.
 */
import { expect } from "chai";
import fc from "fast-check";
import { keccak256 } from "ethers";
import { invoiceFingerprint, isIsoDay, normaliseInvoiceKey, receivableIdOf, type InvoiceIdentity } from "../../services/src/receivables/fingerprint";
import { isFen, parseIsoInstant } from "../../services/src/receivables/dto/receivable-write.dto";

const SALT = "0x" + "11".repeat(32);
const BASE: InvoiceIdentity = {
  sellerTaxId: "91330100MA2B3C4D5E",
  buyerTaxId: "91310000MA1FL5XY2K",
  invoiceNumber: "INV-2026-0001",
  issueDate: "2026-03-01",
  amount: 1_250_000n,
};

/** abi.encode(bytes32, string×4, uint256) laid out by hand: an oracle independent of ethers' coder. */
function manualFingerprint(salt: string, strings: string[], amount: bigint): string {
  const word = (n: bigint | number) => BigInt(n).toString(16).padStart(64, "0");
  let head = salt.slice(2);
  let tail = "";
  let offset = 6 * 32;
  for (const s of strings) {
    head += word(offset);
    const bytes = Buffer.from(s, "utf8");
    const padded = Math.ceil(bytes.length / 32) * 32;
    tail += word(bytes.length) + bytes.toString("hex").padEnd(padded * 2, "0");
    offset += 32 + padded;
  }
  return keccak256("0x" + head + word(amount) + tail);
}

const SEPARATORS = [
  " ", "\t", "\u00A0", "\u3000", "\u2003", "\u200B", "\u00AD", "\uFEFF",
  "-", "\u2010", "\u2011", "\u2012", "\u2013", "\u2014", "\u2015", "\u2212", "\uFE58", "\uFE63", "\uFF0D",
  ".", "/", "_", "\uFF0E", "\uFF0F", "\uFF3F",
];

describe("invoice fingerprint", function () {
  it("is keccak256 of abi.encode(salt, normalised seller tax id, buyer tax id, invoice number, issue date, amount)", function () {
    const fp = invoiceFingerprint(SALT, BASE);
    expect(fp).to.equal(manualFingerprint(SALT, ["91330100MA2B3C4D5E", "91310000MA1FL5XY2K", "INV20260001", "2026-03-01"], 1_250_000n));
    // Pinned: a change to the encoding or the normalisation changes every id on the ledger.
    expect(fp).to.equal("0x3e8c09f4f871b38c996b42f02a3f160d188cbf099870f600e8f049e0c7673e17");
    expect(receivableIdOf(fp)).to.equal(BigInt(fp));
  });

  it("gives look-alike invoice numbers the same fingerprint: case, spaces, Unicode hyphens, full width, separators", function () {
    const same = [
      "inv-001", "INV 001", "INV\u2010001", "ＩＮＶ－００１", "Inv_001", "inv.001", "inv/001", " INV001 ", "I N V 0 0 1",
      "INV\u2212001", "INV\uFE58001", "INV\uFE63001", "INV\u2011001", "INV\u00A0001", "INV\u3000001", "inv\u200B001", "ｉｎｖ　００１",
    ];
    const fps = new Set(same.map((n) => invoiceFingerprint(SALT, { ...BASE, invoiceNumber: n })));
    expect(fps.size).to.equal(1);
    expect([...fps][0]).to.equal(invoiceFingerprint(SALT, { ...BASE, invoiceNumber: "INV001" }));
  });

  it("normalises the tax ids the same way", function () {
    const a = invoiceFingerprint(SALT, { ...BASE, sellerTaxId: "9133 0100-ma2b3c4d5e", buyerTaxId: "９１３１００００ＭＡ１ＦＬ５ＸＹ２Ｋ" });
    expect(a).to.equal(invoiceFingerprint(SALT, BASE));
  });

  it("changes with every identifying field and with the salt", function () {
    const base = invoiceFingerprint(SALT, BASE);
    const variants: InvoiceIdentity[] = [
      { ...BASE, invoiceNumber: "INV-2026-0002" },
      { ...BASE, sellerTaxId: "91330100MA2B3C4D5F" },
      { ...BASE, buyerTaxId: "91310000MA1FL5XY2L" },
      { ...BASE, issueDate: "2026-03-02" },
      { ...BASE, amount: 1_250_001n },
      // Swapping seller and buyer is another invoice.
      { ...BASE, sellerTaxId: BASE.buyerTaxId, buyerTaxId: BASE.sellerTaxId },
      // Field boundaries are kept: moving characters between fields changes the fingerprint.
      { ...BASE, sellerTaxId: "91330100MA2B3C4D5EINV", invoiceNumber: "20260001" },
    ];
    for (const v of variants) expect(invoiceFingerprint(SALT, v), JSON.stringify(v, (_k, x) => (typeof x === "bigint" ? String(x) : x))).to.not.equal(base);
    expect(invoiceFingerprint("0x" + "22".repeat(32), BASE)).to.not.equal(base);
  });

  it("keeps distinct letters and digits distinct (O is not 0, I is not 1)", function () {
    expect(normaliseInvoiceKey("INVO01")).to.not.equal(normaliseInvoiceKey("INV001"));
    expect(normaliseInvoiceKey("INVI01")).to.not.equal(normaliseInvoiceKey("INV101"));
  });

  it("folds case fully and stays a fixed point on awkward Unicode (ß/ẞ/SS, a space removed before a combining mark)", function () {
    expect(normaliseInvoiceKey("ẞ-1")).to.equal("SS1");
    expect(normaliseInvoiceKey("ß 1")).to.equal("SS1");
    const odd = "\u00D4\u0384";
    expect(normaliseInvoiceKey(normaliseInvoiceKey(odd))).to.equal(normaliseInvoiceKey(odd));
    expect(normaliseInvoiceKey(odd.toLowerCase())).to.equal(normaliseInvoiceKey(odd));
  });

  it("normalisation is idempotent and ignores case and inserted separators (property)", function () {
    fc.assert(
      fc.property(
        fc.oneof(fc.string({ unit: "grapheme", maxLength: 24 }), fc.string({ unit: "binary", maxLength: 24 })),
        fc.array(fc.tuple(fc.nat(), fc.constantFrom(...SEPARATORS)), { maxLength: 6 }),
        (s, inserts) => {
          const n = normaliseInvoiceKey(s);
          expect(normaliseInvoiceKey(n)).to.equal(n);
          expect(normaliseInvoiceKey(s.toLowerCase())).to.equal(normaliseInvoiceKey(s.toUpperCase()));
          expect(normaliseInvoiceKey(n.toLowerCase())).to.equal(n);
          let t = n;
          for (const [at, sep] of inserts) {
            const i = at % (t.length + 1);
            t = t.slice(0, i) + sep + t.slice(i);
          }
          expect(normaliseInvoiceKey(t)).to.equal(n);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it("refuses malformed input instead of hashing it", function () {
    expect(() => invoiceFingerprint("0x1234", BASE)).to.throw(/salt/);
    expect(() => invoiceFingerprint(SALT, { ...BASE, issueDate: "2026-02-30" })).to.throw(/issue date/);
    expect(() => invoiceFingerprint(SALT, { ...BASE, issueDate: "01/03/2026" })).to.throw(/issue date/);
    expect(() => invoiceFingerprint(SALT, { ...BASE, amount: 0n })).to.throw(/amount/);
    expect(() => invoiceFingerprint(SALT, { ...BASE, amount: 2n ** 64n })).to.throw(/amount/);
    expect(() => invoiceFingerprint(SALT, { ...BASE, invoiceNumber: " - / _ ." })).to.throw(/at least one character/);
    expect(invoiceFingerprint(SALT, { ...BASE, amount: 2n ** 64n - 1n })).to.match(/^0x[0-9a-f]{64}$/);
  });

  it("isIsoDay accepts real calendar days only", function () {
    expect(isIsoDay("2028-02-29")).to.equal(true);
    expect(isIsoDay("2026-02-29")).to.equal(false);
    expect(isIsoDay("2026-13-01")).to.equal(false);
    expect(isIsoDay("2026-1-01")).to.equal(false);
    expect(isIsoDay("2026-01-01T00:00:00Z")).to.equal(false);
  });
});

describe("write DTO parsers", function () {
  it("parseIsoInstant reads a date as 00:00 UTC and a date-time with or without offset", function () {
    expect(parseIsoInstant("2026-09-01")).to.equal(Date.UTC(2026, 8, 1) / 1000);
    expect(parseIsoInstant("2026-09-01T08:00:00+08:00")).to.equal(Date.UTC(2026, 8, 1) / 1000);
    expect(parseIsoInstant("2026-09-01T00:00")).to.equal(Date.UTC(2026, 8, 1) / 1000);
    expect(parseIsoInstant("2026-09-01T00:00:00.999Z")).to.equal(Date.UTC(2026, 8, 1) / 1000);
    for (const bad of ["2026-09-31", "2026-09-01T24:00:00Z", "tomorrow", "1767225600", "2026-09-01 00:00:00", ""]) {
      expect(parseIsoInstant(bad), bad).to.equal(null);
    }
  });

  it("isFen accepts 1 to 2^64-1 as plain decimal strings only", function () {
    for (const ok of ["1", "1250000", "18446744073709551615"]) expect(isFen(ok), ok).to.equal(true);
    for (const bad of ["0", "01", "-1", "1.5", "1e3", "18446744073709551616", " 1", 1, null]) expect(isFen(bad), String(bad)).to.equal(false);
  });
});
