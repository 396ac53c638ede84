import { expect } from "chai";
import { foldSmallCapitals, isMixedScript, scriptsOf, skeleton, stripInvisible } from "../../shared/unicode";

describe("shared/unicode (UTS #39)", () => {
  describe("skeleton", () => {
    const same: Array<[string, string, string]> = [
      ["Cyrillic І in an invoice number", "INV-\u0406001", "INV-I001"],
      ["Cyrillic а and о in a name", "B\u0430nk \u043Ef Ch\u0430\u043Es", "Bank of Chaos"],
      ["Greek Α", "\u0391CME", "ACME"],
      ["zero-width space between letters", "AC\u200BME", "ACME"],
      ["soft hyphen and BOM", "AC\u00ADM\uFEFFE", "ACME"],
      ["combining accent composed or not", "Caf\u00E9", "Cafe\u0301"],
    ];
    for (const [name, a, b] of same) {
      it(`treats ${name} as the same`, () => expect(skeleton(a)).to.equal(skeleton(b)));
    }
    it("keeps different letters apart", () => {
      expect(skeleton("INV-001")).to.not.equal(skeleton("INV-002"));
      expect(skeleton("ACME")).to.not.equal(skeleton("ACNE"));
    });
  });

  it("stripInvisible removes zero-width and format characters only", () => {
    expect(stripInvisible("A\u200B\u200C\u200D\u2060B\uFE0F C")).to.equal("AB C");
  });

  describe("foldSmallCapitals", () => {
    it("reads every small capital letter as its capital, from the Unicode names", () => {
      expect(foldSmallCapitals("\u1D00\u0299\u1D04\u1D05\u1D07\uA730\u0262\u029C\u026A\u1D0A\u1D0B\u029F\u1D0D\u0274\u1D0F\u1D18\uA7AF\u0280\uA731\u1D1B\u1D1C\u1D20\u1D21\u028F\u1D22")).to.equal(
        "ABCDEFGHIJKLMNOPQRSTUVWYZ",
      );
      expect(foldSmallCapitals("\u1D01 \u0276")).to.equal("AE OE");
    });
    it("leaves other letters, and turned or reversed small capitals, as they are", () => {
      expect(foldSmallCapitals("Korvalex 鸿虚 Ветер")).to.equal("Korvalex 鸿虚 Ветер");
      expect(foldSmallCapitals("\u1D1A\u1D0E")).to.equal("\u1D1A\u1D0E");
    });
  });

  describe("scripts", () => {
    it("names the scripts of the letters, not of digits or punctuation", () => {
      expect([...scriptsOf("INV-001")]).to.deep.equal(["Latin"]);
      expect([...scriptsOf("INV-\u0406001")].sort()).to.deep.equal(["Cyrillic", "Latin"]);
      expect(scriptsOf("2026-001").size).to.equal(0);
    });
    it("refuses Latin with Cyrillic or Greek, allows Latin with Chinese", () => {
      expect(isMixedScript("INV-\u0406001")).to.equal(true);
      expect(isMixedScript("\u0391CME Ltd")).to.equal(true);
      expect(isMixedScript("华为 Technologies")).to.equal(false);
      expect(isMixedScript("Газпром")).to.equal(false);
      expect(isMixedScript("ACME")).to.equal(false);
    });
  });
});
