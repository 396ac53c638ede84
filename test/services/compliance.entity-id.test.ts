/**
 * Legal entity identifiers: LEI (ISO 17442, ISO 7064 MOD 97-10) and China's unified social credit
 * code (GB 32100-2015). Valid examples are built here from invented prefixes by computing their
 * check characters with an independent implementation (BigInt arithmetic), not copied from any
 * real company; tampered variants must fail.
 */
import { expect } from "chai";
import { plainToInstance } from "class-transformer";
import { IsIn, validateSync } from "class-validator";
import fc from "fast-check";
import {
  describeEntityIdProblem,
  IsEntityId,
  isValidLei,
  isValidUscc,
  leiCheckDigits,
  USCC_ALPHABET,
  usccCheckChar,
} from "../../services/src/compliance/entity-id";

/** ISO 7064 MOD 97-10 check digits, computed on the whole number at once. */
function referenceLeiCheck(prefix18: string): string {
  const digits = [...(prefix18 + "00")].map((c) => parseInt(c, 36).toString()).join("");
  return String(98n - (BigInt(digits) % 97n)).padStart(2, "0");
}

const WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];
function referenceUsccCheck(prefix17: string): string {
  const sum = [...prefix17].reduce((s, c, i) => s + USCC_ALPHABET.indexOf(c) * WEIGHTS[i], 0);
  return USCC_ALPHABET[(31 - (sum % 31)) % 31];
}

const LEI_CHARS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const leiPrefix = fc.string({ unit: fc.constantFrom(...LEI_CHARS), minLength: 18, maxLength: 18 });
const usccPrefix = fc.string({ unit: fc.constantFrom(...USCC_ALPHABET), minLength: 17, maxLength: 17 });

describe("compliance: entity identifiers", function () {
  describe("isValidLei()", function () {
    // Invented prefix; check digits worked out by hand with the MOD 97-10 rule and pinned here.
    const LEI = "TEST00FICTIONAL12353";

    it("accepts an LEI whose check digits were computed for an invented prefix", function () {
      expect(referenceLeiCheck("TEST00FICTIONAL123")).to.equal("53");
      expect(isValidLei(LEI)).to.equal(true);
      expect(leiCheckDigits("TEST00FICTIONAL123")).to.equal("53");
    });

    it("rejects a changed check digit, a changed body character and swapped neighbours", function () {
      expect(isValidLei("TEST00FICTIONAL12354")).to.equal(false);
      expect(isValidLei("TEST00FICTIONAL22353")).to.equal(false);
      expect(isValidLei("TEST00FICTIONAL21353")).to.equal(false);
      expect(isValidLei("TEST00FICTIONBL12353")).to.equal(false);
    });

    it("rejects a wrong length, lower case, letters in the check digits and other characters", function () {
      expect(isValidLei(LEI.slice(0, 19))).to.equal(false);
      expect(isValidLei(LEI + "0")).to.equal(false);
      expect(isValidLei(LEI.toLowerCase())).to.equal(false);
      expect(isValidLei("TEST00FICTIONAL1235A")).to.equal(false);
      expect(isValidLei("TEST00FICTIONAL-2353")).to.equal(false);
      expect(isValidLei("")).to.equal(false);
    });

    it("accepts every prefix with its computed check digits (property)", function () {
      fc.assert(
        fc.property(leiPrefix, (p) => {
          expect(leiCheckDigits(p)).to.equal(referenceLeiCheck(p));
          expect(isValidLei(p + referenceLeiCheck(p))).to.equal(true);
        }),
      );
    });

    it("detects every substitution of a digit by a digit or a letter by a letter (property)", function () {
      fc.assert(
        fc.property(leiPrefix, fc.nat(19), fc.nat(35), (p, at, pick) => {
          const lei = p + referenceLeiCheck(p);
          const isDigit = /[0-9]/.test(lei[at]);
          const pool = isDigit ? "0123456789" : "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
          const c = pool[pick % pool.length];
          fc.pre(c !== lei[at]);
          expect(isValidLei(lei.slice(0, at) + c + lei.slice(at + 1))).to.equal(false);
        }),
      );
    });
  });

  describe("isValidUscc()", function () {
    // Invented prefixes; check characters worked out by hand and pinned here.
    const USCC = "91330106MA2CHK7T11";
    const LETTERS = "12100000HJKLMNPQR9";

    it("accepts codes whose check character was computed for invented prefixes", function () {
      expect(referenceUsccCheck("91330106MA2CHK7T1")).to.equal("1");
      expect(referenceUsccCheck("12100000HJKLMNPQR")).to.equal("9");
      expect(isValidUscc(USCC)).to.equal(true);
      expect(isValidUscc(LETTERS)).to.equal(true);
      expect(usccCheckChar("91330106MA2CHK7T1")).to.equal("1");
    });

    it("maps a weighted sum of 0 (mod 31) to the check character 0, not 31", function () {
      fc.assert(
        fc.property(usccPrefix, (p) => {
          const sum = [...p].reduce((s, c, i) => s + USCC_ALPHABET.indexOf(c) * WEIGHTS[i], 0);
          fc.pre(sum % 31 === 0);
          expect(usccCheckChar(p)).to.equal("0");
        }),
        { numRuns: 20, examples: [["00000000000000000"]] },
      );
    });

    it("rejects a changed check character, a changed body character and swapped neighbours", function () {
      expect(isValidUscc("91330106MA2CHK7T12")).to.equal(false);
      expect(isValidUscc("91330106MA2CHK7T21")).to.equal(false);
      expect(isValidUscc("91330106AM2CHK7T11")).to.equal(false);
      expect(isValidUscc("92330106MA2CHK7T11")).to.equal(false);
    });

    it("rejects letters outside the alphabet (I, O, S, V, Z), lower case and wrong lengths", function () {
      for (const bad of ["I", "O", "S", "V", "Z"]) {
        const p = "91330106MA2CHK7T" + bad;
        expect(isValidUscc(p + "0"), bad).to.equal(false);
      }
      expect(isValidUscc(USCC.toLowerCase())).to.equal(false);
      expect(isValidUscc(USCC.slice(0, 17))).to.equal(false);
      expect(isValidUscc(USCC + "1")).to.equal(false);
    });

    it("accepts every prefix with its computed check character and detects every substitution (property)", function () {
      fc.assert(
        fc.property(usccPrefix, fc.nat(17), fc.nat(30), (p, at, pick) => {
          const code = p + referenceUsccCheck(p);
          expect(isValidUscc(code)).to.equal(true);
          const c = USCC_ALPHABET[pick];
          fc.pre(c !== code[at]);
          expect(isValidUscc(code.slice(0, at) + c + code.slice(at + 1))).to.equal(false);
        }),
      );
    });

    it("detects every swap of two different neighbouring body characters (property)", function () {
      fc.assert(
        fc.property(usccPrefix, fc.nat(15), (p, at) => {
          fc.pre(p[at] !== p[at + 1]);
          const code = p + referenceUsccCheck(p);
          const swapped = code.slice(0, at) + code[at + 1] + code[at] + code.slice(at + 2);
          expect(isValidUscc(swapped)).to.equal(false);
        }),
      );
    });
  });

  describe("describeEntityIdProblem()", function () {
    it("says whether the format or the check character is wrong", function () {
      expect(describeEntityIdProblem("LEI", "TEST00FICTIONAL12353")).to.equal(null);
      expect(describeEntityIdProblem("LEI", "SHORT")).to.match(/20 characters/);
      expect(describeEntityIdProblem("LEI", "TEST00FICTIONAL12354")).to.match(/check digits do not match/);
      expect(describeEntityIdProblem("USCC", "91330106MA2CHK7T11")).to.equal(null);
      expect(describeEntityIdProblem("USCC", "91330106MA2CHK7TS1")).to.match(/no I, O, S, V, Z/);
      expect(describeEntityIdProblem("USCC", "91330106MA2CHK7T12")).to.match(/check character does not match/);
      expect(describeEntityIdProblem("DUNS", "123")).to.match(/"LEI" or "USCC"/);
    });
  });

  describe("@IsEntityId(typeField)", function () {
    class Dto {
      @IsIn(["LEI", "USCC"])
      entityIdType!: string;

      @IsEntityId("entityIdType")
      entityId!: string;
    }
    const errorsOf = (o: object) => validateSync(plainToInstance(Dto, o)).flatMap((e) => Object.values(e.constraints ?? {}));

    it("validates the id against the type named by the sibling field", function () {
      expect(errorsOf({ entityIdType: "LEI", entityId: "TEST00FICTIONAL12353" })).to.deep.equal([]);
      expect(errorsOf({ entityIdType: "USCC", entityId: "91330106MA2CHK7T11" })).to.deep.equal([]);
    });

    it("refuses a valid id of the other type, and says why", function () {
      const lei = errorsOf({ entityIdType: "USCC", entityId: "TEST00FICTIONAL12353" });
      expect(lei).to.have.length(1);
      expect(lei[0]).to.match(/^entityId: a unified social credit code is 18 characters/);
      const uscc = errorsOf({ entityIdType: "LEI", entityId: "91330106MA2CHK7T11" });
      expect(uscc[0]).to.match(/^entityId: an LEI is 20 characters/);
    });

    it("refuses a tampered id with the check-character message", function () {
      expect(errorsOf({ entityIdType: "LEI", entityId: "TEST00FICTIONAL12354" })[0]).to.match(/check digits do not match/);
    });

    it("refuses a non-string id", function () {
      expect(errorsOf({ entityIdType: "LEI", entityId: 12345 })).to.have.length(1);
    });
  });
});
