import { expect } from "chai";
import { isMixedScript, scriptsOf, skeleton, stripInvisible } from "../../services/src/common/unicode";

describe("common/unicode (UTS #39)", () => {
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
