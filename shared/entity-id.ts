/**
 * Legal entity identifiers and their check characters, as pure functions (no imports), so the
 * service, the CLI and the web console check a tax id the same way. Both validators take the
 * canonical form only (upper case, no spaces): a DTO trims and upper-cases before validating, and
 * the ledger hashes exactly what was validated.
 *
 * - LEI (ISO 17442): 18 alphanumerics then 2 check digits; with letters mapped A=10 … Z=35 the
 *   whole string read as a number is ≡ 1 (mod 97) (ISO 7064 MOD 97-10, as IBAN).
 * - USCC, China's unified social credit code (GB 32100-2015): 18 characters from a 31-character
 *   alphabet (digits and capitals without I, O, S, V, Z); the 18th is the check character
 *   31 − (Σ value × weight mod 31), with 31 read as 0.
 */
export type EntityIdType = "LEI" | "USCC";

const LEI_FORMAT = /^[0-9A-Z]{18}[0-9]{2}$/;

/** Remainder mod 97 of an alphanumeric string read as digits with A=10 … Z=35. */
function mod97(s: string): number {
  let r = 0;
  for (const ch of s) {
    const v = parseInt(ch, 36);
    // Letters contribute two digits, digits one; the remainder stays below 97 × 100.
    r = v < 10 ? (r * 10 + v) % 97 : (r * 100 + v) % 97;
  }
  return r;
}

/** Check digits for an 18-character LEI prefix (two digits, "02" … "98"). */
export function leiCheckDigits(prefix18: string): string {
  if (!/^[0-9A-Z]{18}$/.test(prefix18)) throw new RangeError("an LEI prefix is 18 characters 0-9 A-Z");
  return String(98 - mod97(prefix18 + "00")).padStart(2, "0");
}

/** ISO 17442 LEI: format and MOD 97-10 check digits. */
export function isValidLei(s: string): boolean {
  return typeof s === "string" && LEI_FORMAT.test(s) && mod97(s) === 1;
}

export const USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY";
const USCC_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];
const USCC_FORMAT = new RegExp(`^[${USCC_ALPHABET}]{18}$`);

/** Check character for a 17-character USCC prefix. */
export function usccCheckChar(prefix17: string): string {
  if (prefix17.length !== 17 || !USCC_FORMAT.test(prefix17 + "0")) {
    throw new RangeError(`a USCC prefix is 17 characters from ${USCC_ALPHABET}`);
  }
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += USCC_ALPHABET.indexOf(prefix17[i]) * USCC_WEIGHTS[i];
  return USCC_ALPHABET[(31 - (sum % 31)) % 31];
}

/** GB 32100-2015 unified social credit code: alphabet, length and check character. */
export function isValidUscc(s: string): boolean {
  return typeof s === "string" && USCC_FORMAT.test(s) && usccCheckChar(s.slice(0, 17)) === s[17];
}

/** Validates `value` as the given identifier type. */
export function isValidEntityId(type: unknown, value: unknown): boolean {
  if (typeof value !== "string") return false;
  if (type === "LEI") return isValidLei(value);
  if (type === "USCC") return isValidUscc(value);
  return false;
}

/** Why an identifier is invalid, in words an applicant can act on; null when it is valid. */
export function describeEntityIdProblem(type: unknown, value: unknown): string | null {
  if (typeof value !== "string") return "the entity id must be a string";
  if (type === "LEI") {
    if (!LEI_FORMAT.test(value)) {
      return "an LEI is 20 characters: 18 digits or capital letters followed by 2 check digits";
    }
    return mod97(value) === 1 ? null : "the LEI's check digits do not match (ISO 17442, MOD 97-10): check it for a typing error";
  }
  if (type === "USCC") {
    if (!USCC_FORMAT.test(value)) {
      return "a unified social credit code is 18 characters from 0-9 and the capitals A-H J-N P-R T-U W-Y (no I, O, S, V, Z)";
    }
    const expected = usccCheckChar(value.slice(0, 17));
    return expected === value[17]
      ? null
      : `the unified social credit code's check character does not match (GB 32100-2015): check it for a typing error`;
  }
  return 'the entity id type must be "LEI" or "USCC"';
}
