/**
 * Sanctions screening against look-alike spellings: every name of every entry in the shipped
 * lists, rewritten with Cyrillic or Greek letters, zero-width characters, digits for letters, small
 * capitals, another word order and these combined, is still a match; real company names (the
 * fixture of a few hundred) still raise nothing.
 */
import { join } from "node:path";
import { expect } from "chai";
import { prepareName, scoreNames } from "../../services/src/compliance/sanctions/name-matching";
import { loadSanctionsList } from "../../services/src/compliance/sanctions/sanctions-list";
import { PreparedSanctionsList } from "../../services/src/compliance/sanctions/sanctions-screener";
import { CONFUSABLE_KINDS, realCompanyNames, variant } from "../support/lookalike-variants";

const DATA = join(__dirname, "..", "..", "services", "data", "sanctions");
const DEFAULTS = { match: 0.9, review: 0.8 };
const LISTS = ["un-consolidated-sample.xml", "ofac-sdn-sample.csv"];

describe("compliance: sanctions screening against look-alikes", function () {
  const lists = new Map<string, PreparedSanctionsList>();
  before(function () {
    for (const f of LISTS) lists.set(f, new PreparedSanctionsList(loadSanctionsList(join(DATA, f)), DEFAULTS));
  });
  const un = () => lists.get("un-consolidated-sample.xml")!;

  /** `lookalike`: whether only the look-alike reading matches (undefined: transliteration may do). */
  const expectMatch = (name: string, reference: string, lookalike?: boolean) => {
    const m = un().screen(name)[0];
    expect(m, JSON.stringify(name)).to.not.equal(undefined);
    expect(m).to.include({ reference, result: "fail", score: 1 }, JSON.stringify(name));
    if (lookalike !== undefined) expect(m.lookalike, JSON.stringify(name)).to.equal(lookalike);
  };

  describe("written out by hand", function () {
    it("matches a name with one Cyrillic letter (р for p, е for e, х for x)", function () {
      expectMatch("Null\u0440ort Maritime Logistics", "XXe.002", true);
      expectMatch("Korval\u0435x", "XXe.004");
      expectMatch("Korvale\u0445", "XXe.004", true);
    });

    it("matches a name written in Cyrillic and Greek capitals that look Latin", function () {
      expectMatch("\u041A\u041ERV\u0410L\u0415\u0425", "XXe.004");
      expectMatch("\u039A\u039FRV\u0391L\u0395\u03A7", "XXe.004");
      expectMatch("\u039DULLP\u039FRT M\u0391RITIME L\u039FGISTICS", "XXe.002");
    });

    it("matches a name with zero-width spaces, joiners, word joiners and soft hyphens between letters", function () {
      expectMatch("K\u200BO\u200CR\u200DV\u2060A\u00ADL\uFEFFEX", "XXe.004", false);
      expectMatch("Null\u200Bport Mari\u200Dtime Logis\u00ADtics", "XXe.002", false);
    });

    it("matches digits for letters: 0 for O, 1 for I and l, in any case", function () {
      expectMatch("K0RVALEX", "XXe.004", true);
      expectMatch("Nu11port Mar1t1me Logistics", "XXe.002", true);
      expectMatch("ZORVAN KETT1EBY QUI11FEATHER", "XXi.001", true);
    });

    it("reviews, never fails, digits the confusables table does not read (3 for E, 4 for A, 7 for T)", function () {
      for (const [name, reference] of [
        ["KORV4L3X", "XXe.004"],
        ["NULLPOR7 M4RI7IM3 LOGI57IC5 LLC", "XXe.002"],
      ]) {
        const m = un().screen(name)[0];
        expect(m, name).to.include({ reference, result: "review", score: 1, lookalike: true });
      }
      // A word needs two letters besides its digits, and a listed word with the same letters around.
      expect(un().screen("K4")).to.deep.equal([]);
      expect(un().screen("Route 66 Tr4ders")).to.deep.equal([]);
    });

    it("keeps a match that needs no guessed digit as a match", function () {
      expect(un().screen("Nullport Mar1time Logistic5")[0]).to.include({ reference: "XXe.002", result: "fail" });
    });

    it("matches small capitals", function () {
      expectMatch("\u1D0B\u1D0F\u0280\u1D20\u1D00\u029F\u1D07x", "XXe.004", false);
      expectMatch("\u1D22\u1D0F\u0280\u1D20\u1D00\u0274 \u1D0B\u1D07\u1D1B\u1D1B\u029F\u1D07\u0299\u028F \uA7AF\u1D1C\u026A\u029F\u029F\uA730\u1D07\u1D00\u1D1B\u029C\u1D07\u0280", "XXi.001", false);
    });

    it("matches another word order combined with all of these", function () {
      expectMatch("L0g\u200Bistics Mar1time Null\u0440ort", "XXe.002", true);
      expectMatch("Qu\u0456llfeather Z\u200Bo\u0280van Kett1eby", "XXi.001", true);
    });

    it("keeps the plain form: digits stay digits there, and a Cyrillic name is still transliterated", function () {
      const forms = prepareName("K0RVALEX").forms.map((f) => `${f.lookalike ? "look-alike" : "plain"}: ${f.tokens.join(" ")}`);
      expect(forms).to.deep.equal(["plain: k0rvaleks", "look-alike: korvaleks"]);
      expect(prepareName("Plant 360").forms.find((f) => f.lookalike)!.tokens).to.deep.equal(["plant", "360"]);
      expect(un().screen("Призрачный Ветер")[0]).to.include({ reference: "XXe.003", result: "fail", lookalike: false });
    });

    it("compares look-alike forms only with look-alike forms", function () {
      // The plain "k0rvaleks" against the listed look-alike "korvaleks" would be one changed letter;
      // it is the look-alike pair that matches, exactly.
      const s = scoreNames(prepareName("K0RVALEX"), prepareName("KORVALEX"));
      expect(s).to.include({ full: 1, lookalike: true });
      expect(scoreNames(prepareName("KORVALEX"), prepareName("KORVALEX"))).to.include({ full: 1, lookalike: false });
    });
  });

  describe("every shipped entry, every kind of look-alike", function () {
    for (const file of LISTS) {
      for (const kind of CONFUSABLE_KINDS) {
        it(`${file}: ${kind}`, function () {
          const list = lists.get(file)!;
          let screened = 0;
          for (const entry of list.list.entries) {
            for (const name of entry.names) {
              if (name.lowQuality) continue;
              const v = variant(name.name, kind);
              if (v === null) continue;
              screened++;
              const m = list.screen(v).find((x) => x.reference === entry.reference);
              expect(m?.result, `${JSON.stringify(v)} (${kind} of "${name.name}"): ${JSON.stringify(list.screen(v))}`).to.equal("fail");
            }
          }
          expect(screened).to.be.above(0);
        });
      }
    }
  });

  describe("every shipped entry with digits the confusables table does not read", function () {
    for (const file of LISTS) {
      it(`${file}: at least reviewed`, function () {
        const list = lists.get(file)!;
        for (const entry of list.list.entries) {
          for (const name of entry.names) {
            const v = name.lowQuality ? null : variant(name.name, "other digits (3/E, 4/A, 5/S, 7/T, 8/B)");
            if (v === null) continue;
            const m = list.screen(v).find((x) => x.reference === entry.reference);
            expect(m?.result, `${JSON.stringify(v)}: ${JSON.stringify(list.screen(v))}`).to.be.oneOf(["fail", "review"]);
          }
        }
      });
    }
  });

  describe("real company names", function () {
    it("ships a few hundred, Chinese and international, in Latin, Han, Cyrillic, Greek and other scripts", function () {
      const names = realCompanyNames();
      expect(names.length).to.be.within(300, 1000);
      expect(new Set(names).size).to.equal(names.length);
      for (const script of [/\p{Script=Han}/u, /\p{Script=Cyrillic}/u, /\p{Script=Greek}/u, /\p{Script=Hangul}/u]) {
        expect(names.some((n) => script.test(n)), String(script)).to.equal(true);
      }
    });

    it("raises nothing against either shipped list", function () {
      for (const file of LISTS) {
        const list = lists.get(file)!;
        const raised = realCompanyNames()
          .map((n) => ({ n, m: list.screen(n) }))
          .filter((x) => x.m.length);
        expect(raised, `${file}: ${JSON.stringify(raised)}`).to.deep.equal([]);
      }
    });
  });

  it("finds exactly the entries an exhaustive comparison finds for look-alike names (the candidate index loses nothing)", function () {
    const names = ["K0RVALEX", "C0RVALEX", "Null\u0440oint Maritime Logistics", "\u1D0B\u1D0F\u0280\u1D20\u1D00\u029F\u1D07x \uA731\u029C\u026A\u1D18\u1D18\u026A\u0274\u0262", "H0ngxu Tr\u0430ding Sh\u0435nzh\u0435n", "Qu1llfeather Z0rvan"];
    for (const n of names) {
      const q = prepareName(n);
      const brute = un()
        .list.entries.filter((e) =>
          e.names.some((x) => {
            const s = scoreNames(q, prepareName(x.name));
            return Math.round(s.full * 1000) / 1000 >= 0.8 || Math.round(s.partial * 1000) / 1000 >= 0.9;
          }),
        )
        .map((e) => e.reference)
        .sort();
      expect(un().screen(n).map((m) => m.reference).sort(), n).to.deep.equal(brute);
      expect(brute.length, n).to.be.above(0);
    }
  });
});
