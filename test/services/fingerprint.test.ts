/**
 * Invoice identity (shared/fingerprint.ts): the exact ABI layout the ledger
 * relies on, a table of look-alike invoice numbers (Latin/Cyrillic/Greek, combining marks,
 * compatibility forms, full width) that are one invoice or refused, tax ids that must be ASCII,
 * the id namespaces; and the due-date and amount parsers of the write DTOs.
 */
import { expect } from "chai";
import fc from "fast-check";
import { AbiCoder, hexlify, keccak256, toBeHex, toUtf8Bytes } from "ethers";
import { checkInvoiceNumberSpelling, childIdOf, invoiceFingerprint, type InvoiceIdentity, InvoiceIdentityError, invoiceNumberKey, isIsoDay, normaliseInvoiceKey, receivableIdOf, taxIdKey } from "../../shared/fingerprint";
import { receivableIdHex } from "../../shared/ids";
import { isFen, parseIsoInstant } from "../../services/src/receivables/dto/receivable-write.dto";

const SALT = "0x" + "11".repeat(32);
const BASE: InvoiceIdentity = { sellerTaxId: "91330100MA2B3C4D5E", invoiceNumber: "INV-2026-0001" };
const fp = (over: Partial<InvoiceIdentity> = {}) => invoiceFingerprint(SALT, { ...BASE, ...over });

/** abi.encode(bytes32, string, string) laid out by hand: an oracle independent of ethers' coder. */
function manualFingerprint(salt: string, strings: string[]): string {
  const word = (n: bigint | number) => BigInt(n).toString(16).padStart(64, "0");
  let head = salt.slice(2);
  let tail = "";
  let offset = (1 + strings.length) * 32;
  for (const s of strings) {
    head += word(offset);
    const bytes = Buffer.from(s, "utf8");
    const padded = Math.ceil(bytes.length / 32) * 32;
    tail += word(bytes.length) + bytes.toString("hex").padEnd(padded * 2, "0");
    offset += 32 + padded;
  }
  return keccak256("0x" + head + tail);
}

const SEPARATORS = [
  " ", "\t", "\u00A0", "\u3000", "\u2003", "\u200B", "\u00AD", "\uFEFF",
  "-", "\u2010", "\u2011", "\u2012", "\u2013", "\u2014", "\u2015", "\u2212", "\uFE58", "\uFE63", "\uFF0D",
  ".", "/", "_", "\uFF0E", "\uFF0F", "\uFF3F",
];

/**
 * Look-alike invoice numbers: [what, presented, as written on the invoice]. Each must be the same
 * identity as the plain number, or be refused when it mixes scripts; never a new invoice.
 */
const CONFUSABLES: Array<[string, string, string | "refused"]> = [
  ["Latin with one Cyrillic І (U+0406)", "\u0406NV-2026-0001", "refused"],
  ["Latin with a Cyrillic А and О", "INV-\u0410\u041E-1", "refused"],
  ["Latin with a Greek Ι (U+0399)", "\u0399NV-2026-0001", "refused"],
  ["Latin with a Greek Ν and Cyrillic Т", "I\u039DV-\u0422-1", "refused"],
  ["all Cyrillic look-alikes of ABC", "\u0410\u0412\u0421-001", "ABC-001"],
  ["all Greek look-alikes of ABE", "\u0391\u0392\u0395-7", "ABE-7"],
  ["a combining acute on a digit", "INV-2026-0001\u0301", "INV-2026-0001"],
  ["a combining diaeresis on a letter", "IN\u0308V-2026-0001", "INV-2026-0001"],
  ["a precomposed É", "INV\u00C9-1", "INVE-1"],
  ["a combining grave and a dot below stacked", "INV-1\u0300\u0323", "INV-1"],
  ["full width (compatibility forms)", "\uFF29\uFF2E\uFF36\uFF0D\uFF12\uFF10\uFF12\uFF16\uFF0D\uFF10\uFF10\uFF10\uFF11", "INV-2026-0001"],
  ["a ligature ﬁ", "\uFB01-1", "FI-1"],
  ["a circled digit", "INV-\u2460", "INV-1"],
  ["a superscript digit", "INV-\u00B2", "INV-2"],
  ["a Roman numeral Ⅳ", "INV-\u2163", "INV-IV"],
  ["letter O for digit 0", "INV-2O26-OOO1", "INV-2026-0001"],
  ["Cyrillic О for digit 0 in an all-digit number", "2026-\u041E\u041E01", "2026-0001"],
  ["a zero-width joiner", "INV-20\u200D26-0001", "INV-2026-0001"],
  ["lower case with spaces", "inv 2026 0001", "INV-2026-0001"],
];

describe("invoice identity and fingerprint", function () {
  it("is keccak256 of abi.encode(salt, normalised seller tax id, invoice number skeleton)", function () {
    const f = fp();
    expect(f).to.equal(manualFingerprint(SALT, ["91330100MA2B3C4D5E", invoiceNumberKey("INV-2026-0001")]));
    expect(invoiceNumberKey("INV-2026-0001")).to.equal("lNV2O26OOOl");
    // Pinned: a change to the encoding or the normalisation changes every id on the ledger.
    expect(f).to.equal("0x9b24e65adbb2ba96de777d83479a9893420d3335ba989b8ed9bfefd5de9b5fbf");
  });

  it("encodes any identity exactly as abi.encode(bytes32, string, string) does (property, multi-byte and long keys)", function () {
    fc.assert(
      fc.property(
        fc.stringMatching(/^[0-9A-Z]{1,80}$/),
        fc.oneof(fc.string({ unit: "grapheme", minLength: 1, maxLength: 70 }), fc.stringMatching(/^[A-Z0-9\u4e00-\u4e20]{1,70}$/)),
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        (taxId, number, saltBytes) => {
          const salt = hexlify(saltBytes);
          let f: string;
          try {
            f = invoiceFingerprint(salt, { sellerTaxId: taxId, invoiceNumber: number });
          } catch (err) {
            if (err instanceof InvoiceIdentityError) return; // refused identities are never hashed
            throw err;
          }
          const coded = keccak256(AbiCoder.defaultAbiCoder().encode(["bytes32", "string", "string"], [salt, taxIdKey(taxId), invoiceNumberKey(number)]));
          expect(f).to.equal(coded);
          expect(f).to.equal(manualFingerprint(salt, [taxIdKey(taxId), invoiceNumberKey(number)]));
        },
      ),
      { numRuns: 1000 },
    );
  });

  it("is the seller and the number only: another debtor, amount, date or document is the same invoice", function () {
    // The type has no other field; what the service passes is exactly this.
    expect(Object.keys(BASE).sort()).to.deep.equal(["invoiceNumber", "sellerTaxId"]);
    expect(fp({ sellerTaxId: "91330100MA2B3C4D5F" })).to.not.equal(fp());
    expect(fp({ invoiceNumber: "INV-2026-0002" })).to.not.equal(fp());
    // Field boundaries are kept: moving characters between fields changes the fingerprint.
    expect(fp({ sellerTaxId: "91330100MA2B3C4D5EINV", invoiceNumber: "2026-0001" })).to.not.equal(fp());
    expect(invoiceFingerprint("0x" + "22".repeat(32), BASE)).to.not.equal(fp());
  });

  describe("look-alike invoice numbers (UTS #39 confusables)", function () {
    for (const [what, presented, written] of CONFUSABLES) {
      if (written === "refused") {
        it(`refuses ${what} as mixed-script`, function () {
          expect(() => fp({ invoiceNumber: presented }))
            .to.throw(InvoiceIdentityError, /mixes writing systems/)
            .with.property("field", "invoiceNumber");
        });
      } else {
        it(`takes ${what} as the same invoice as ${JSON.stringify(written)}`, function () {
          expect(fp({ invoiceNumber: presented })).to.equal(fp({ invoiceNumber: written }));
        });
      }
    }

    // Found by the review of 2026-12-06: the key folds case before taking the skeleton, so a look-alike
    // that exists only in lower case, or a Latin letter outside A-Z, got a fingerprint of its own and
    // could be tokenised beside the number it imitates. Such spellings are refused when tokenised
    // (checkInvoiceNumberSpelling, called by the service before the fingerprint); never folded, which
    // would change the key of numbers already on the ledger.
    const SAME_LOOKING: ReadonlyArray<[what: string, presented: string, imitated: string, message: RegExp]> = [
      ["a lower-case l for the digit 1", "INV-00l", "INV-001", /"l" \(U\+006C\), which reads as "1" or "I" .*a capital: "L"/],
      ["a script small l (NFKC: l)", "INV-00\u2113", "INV-001", /"l" \(U\+006C\)/],
      ["small capitals", "\u026A\u0274\u1D20-001", "INV-001", /"\u026A" \(U\+026A\), a Latin letter outside A-Z/],
      ["a small capital O for 0", "INV-\u1D0F\u1D0F1", "INV-001", /"\u1D0F" \(U\+1D0F\), a Latin letter outside A-Z/],
      ["a Latin alpha", "INV-\u025101", "INV-a01", /"\u0251" \(U\+0251\), a Latin letter outside A-Z/],
      ["a Cyrillic be for 6 among digits", "00\u0431", "006", /"\u0431" \(U\+0431\), which reads as "6"/],
    ];
    for (const [what, presented, imitated, message] of SAME_LOOKING) {
      it(`refuses ${what} (${JSON.stringify(presented)}), which reads as ${JSON.stringify(imitated)} yet keys otherwise`, function () {
        // The attack: without the refusal it is another invoice than the one it imitates.
        expect(fp({ invoiceNumber: presented })).to.not.equal(fp({ invoiceNumber: imitated }));
        expect(() => checkInvoiceNumberSpelling(presented))
          .to.throw(InvoiceIdentityError, message)
          .with.property("field", "invoiceNumber");
        expect(() => checkInvoiceNumberSpelling(imitated)).to.not.throw();
      });
    }

    it("lets every plain letter and digit through except the lower-case l, and accented letters, Han and full width", function () {
      const plain = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
      for (const ch of plain) expect(() => checkInvoiceNumberSpelling(`INV-${ch}01`), ch).to.not.throw();
      for (const n of ["INV-2026-0001", "inv-001", "INV-L01", "\u53D1\u7968INV-1", "FACTURE-\u00C9T\u00C9-7", "ＩＮＶ－００１", "2402 3300 0000 1234 5678"]) {
        expect(() => checkInvoiceNumberSpelling(n), n).to.not.throw();
      }
      expect(() => checkInvoiceNumberSpelling("INV-l01")).to.throw(InvoiceIdentityError);
    });

    it("accepts Latin with Han (a Chinese prefix) as one script set", function () {
      expect(fp({ invoiceNumber: "\u53D1\u7968INV-1" })).to.match(/^0x[0-9a-f]{64}$/);
    });

    it("gives case, spaces, Unicode hyphens, full width and separators the same fingerprint", function () {
      const same = [
        "inv-001", "INV 001", "INV\u2010001", "ＩＮＶ－００１", "Inv_001", "inv.001", "inv/001", " INV001 ", "I N V 0 0 1",
        "INV\u2212001", "INV\uFE58001", "INV\uFE63001", "INV\u2011001", "INV\u00A0001", "INV\u3000001", "inv\u200B001", "ｉｎｖ　００１",
      ];
      expect(new Set(same.map((n) => fp({ invoiceNumber: n })))).to.deep.equal(new Set([fp({ invoiceNumber: "INV001" })]));
    });
  });

  describe("tax ids", function () {
    it("normalises spaces, dashes, case and full width", function () {
      for (const v of ["9133 0100-ma2b3c4d5e", "９１３３０１００ＭＡ２Ｂ３Ｃ４Ｄ５Ｅ", "91330100\u200BMA2B3C4D5E"]) {
        expect(taxIdKey(v), v).to.equal("91330100MA2B3C4D5E");
        expect(fp({ sellerTaxId: v }), v).to.equal(fp());
      }
    });

    for (const [what, v] of [
      ["a Cyrillic М and А", "91330100\u041C\u04102B3C4D5E"],
      ["a Greek Β", "91330100MA2\u03923C4D5E"],
      ["a combining mark", "91330100MA2B3C4D5E\u0301"],
      ["a Han character", "91330100MA2B3C4D5\u4E00"],
    ] as const) {
      it(`refuses ${what} in a tax id (ASCII only after NFKC), naming the field`, function () {
        expect(() => fp({ sellerTaxId: v }))
          .to.throw(InvoiceIdentityError, /outside 0-9 and A-Z/)
          .with.property("field", "sellerTaxId");
        expect(() => taxIdKey(v, "buyerTaxId")).to.throw(InvoiceIdentityError).with.property("field", "buyerTaxId");
      });
    }
  });

  it("keeps distinct letters and digits distinct in the normalised key (the skeleton folds them for identity only)", function () {
    expect(normaliseInvoiceKey("INVO01")).to.not.equal(normaliseInvoiceKey("INV001"));
    expect(invoiceNumberKey("INVO01")).to.equal(invoiceNumberKey("INV001"));
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
    expect(() => fp({ invoiceNumber: " - / _ ." })).to.throw(InvoiceIdentityError, /empty/);
    expect(() => fp({ sellerTaxId: " - " })).to.throw(InvoiceIdentityError, /empty/);
  });

  it("derives a root id as the contract does, keccak256(abi.encode(ROOT_ID_TAG, fingerprint)), for any fingerprint", function () {
    const tag = keccak256(toUtf8Bytes("SCF.receivable.root"));
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), (bytes) => {
        const fingerprint = hexlify(bytes);
        expect(receivableIdOf(fingerprint)).to.equal(BigInt(keccak256(AbiCoder.defaultAbiCoder().encode(["bytes32", "bytes32"], [tag, fingerprint]))));
      }),
      { numRuns: 200 },
    );
    expect(() => receivableIdOf("0x1234")).to.throw(/32 bytes/);
  });

  it("puts root ids and split-child ids in namespaces that never meet", function () {
    const parent = 7n;
    const child = childIdOf(parent, 0);
    expect(receivableIdOf(toBeHex(child, 32))).to.not.equal(child);
    expect(child).to.not.equal(BigInt(keccak256(AbiCoder.defaultAbiCoder().encode(["uint256", "uint256"], [parent, 0n]))));
    expect(receivableIdOf(fp())).to.not.equal(BigInt(fp()));
    expect(receivableIdHex(1n)).to.equal("0x" + "0".repeat(63) + "1");
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
