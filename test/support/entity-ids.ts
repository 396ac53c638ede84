/** Valid, invented legal-entity identifiers for tests (check characters computed, not copied). */

/** An LEI (ISO 17442) with correct MOD 97-10 check digits for an 18-character prefix. */
export function makeLei(prefix18: string): string {
  if (!/^[0-9A-Z]{18}$/.test(prefix18)) throw new Error("LEI prefix must be 18 alphanumerics");
  const digits = (prefix18 + "00").replace(/[A-Z]/g, (c) => String(c.charCodeAt(0) - 55));
  const check = 98n - (BigInt(digits) % 97n);
  return prefix18 + check.toString().padStart(2, "0");
}

const USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY";
const USCC_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];

/** A unified social credit code (GB 32100-2015) with its check character. */
export function makeUscc(prefix17: string): string {
  let sum = 0;
  for (let i = 0; i < 17; i++) {
    const v = USCC_ALPHABET.indexOf(prefix17[i]);
    if (v < 0) throw new Error(`invalid USCC character ${prefix17[i]}`);
    sum += v * USCC_WEIGHTS[i];
  }
  const c = 31 - (sum % 31);
  return prefix17 + USCC_ALPHABET[c === 31 ? 0 : c];
}

let counter = 0;
/** A fresh valid USCC for each call. */
export function freshUscc(): string {
  counter += 1;
  const body = (Date.now().toString(36).toUpperCase() + counter.toString().padStart(6, "0"))
    .replace(/[IOSVZ]/g, "1")
    .slice(-15)
    .padStart(15, "0");
  return makeUscc("91" + body);
}
