/**
 * Invoice fingerprints: the id an invoice gets on the ledger, and what stops it being tokenised
 * (and so financed) twice. Pure functions, no Nest, so the CLI, the scripts and the tests compute
 * exactly what the service computes.
 *
 *   fingerprint = keccak256(abi.encode(bytes32 FINGERPRINT_SALT, string sellerTaxId,
 *                                      string buyerTaxId, string invoiceNumber,
 *                                      string issueDate, uint256 amount))
 *   receivable id = uint256(fingerprint)
 *
 * The tax ids and the invoice number are normalised first, because the same invoice reaches the
 * ledger typed by different people on different systems ("inv-001" from an ERP export,
 * "INV 001" typed by hand, "ＩＮＶ－００１" from a full-width Chinese input method). Normalisation,
 * in this order:
 *   1. Unicode NFKC: compatibility forms fold to their plain form (full-width letters, digits and
 *      punctuation become ASCII; ligatures split; circled and super-script digits become digits);
 *   2. case folded to upper case, locale independent: lower case first, then upper case, so letters
 *      whose upper case is a different length still agree ("ß", "ẞ" and "SS" are the same);
 *   3. NFKC again, so a character whose case mapping is not in NFKC form is folded too (this makes
 *      normalisation idempotent);
 *   4. removed: every whitespace character (Unicode White_Space: spaces of any width, tabs, line
 *      breaks, U+3000 ideographic space), every invisible format character (Unicode Cf: zero-width
 *      spaces and joiners, soft hyphen, BOM), every dash or hyphen (U+002D, U+2010–U+2015, U+2212,
 *      U+FE58, U+FE63, U+FF0D) and the separators "." "/" "_";
 *   5. NFKC once more, and the whole repeated until nothing changes: a removed space can let a
 *      combining mark compose with the letter before it (rare, but the result must be a fixed
 *      point, so normalising a normalised key changes nothing).
 * The issue date is the canonical "YYYY-MM-DD" string and the amount the face value in fen; both
 * are validated before they get here, so they need no normalisation.
 *
 * Changing any of this (or the salt) changes every fingerprint: invoices tokenised before the
 * change could then be tokenised again. Treat it as part of the ledger's rules.
 */
import { AbiCoder, keccak256 } from "ethers";

// Whitespace, format characters, the dash family and the separators, removed after NFKC + upper case.
const STRIP = /[\s\p{Cf}\u002D\u2010-\u2015\u2212\uFE58\uFE63\uFF0D./_]/gu;
const ISO_DAY = /^(\d{4})-(\d{2})-(\d{2})$/;
const MAX_AMOUNT = 2n ** 64n - 1n;

export interface InvoiceIdentity {
  sellerTaxId: string;
  buyerTaxId: string;
  invoiceNumber: string;
  /** "YYYY-MM-DD". */
  issueDate: string;
  /** Face value in fen. */
  amount: bigint;
}

/** The normalised form of a tax id or invoice number (see the file comment); may be empty. */
export function normaliseInvoiceKey(value: string): string {
  let v = value;
  for (let i = 0; i < 8; i++) {
    const next = v.normalize("NFKC").toLowerCase().toUpperCase().normalize("NFKC").replace(STRIP, "").normalize("NFKC");
    if (next === v) break;
    v = next;
  }
  return v;
}

/** True for a real calendar day written as YYYY-MM-DD. */
export function isIsoDay(value: string): boolean {
  const m = ISO_DAY.exec(value);
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const t = new Date(Date.UTC(y, mo - 1, d));
  return t.getUTCFullYear() === y && t.getUTCMonth() === mo - 1 && t.getUTCDate() === d;
}

/** The invoice fingerprint as 0x-prefixed 32-byte hex. Throws on malformed input. */
export function invoiceFingerprint(salt: string, inv: InvoiceIdentity): string {
  if (!/^0x[0-9a-fA-F]{64}$/.test(salt)) throw new Error("fingerprint salt must be 32 bytes as 0x-prefixed hex");
  if (!isIsoDay(inv.issueDate)) throw new Error(`issue date must be YYYY-MM-DD, got "${inv.issueDate}"`);
  if (inv.amount <= 0n || inv.amount > MAX_AMOUNT) throw new Error(`amount ${inv.amount} is outside 1..2^64-1`);
  const seller = normaliseInvoiceKey(inv.sellerTaxId);
  const buyer = normaliseInvoiceKey(inv.buyerTaxId);
  const number = normaliseInvoiceKey(inv.invoiceNumber);
  if (!seller || !buyer || !number) throw new Error("tax ids and invoice number must keep at least one character once normalised");
  return keccak256(
    AbiCoder.defaultAbiCoder().encode(
      ["bytes32", "string", "string", "string", "string", "uint256"],
      [salt, seller, buyer, number, inv.issueDate, inv.amount],
    ),
  );
}

/** The receivable id a fingerprint becomes on-chain (the token id), as a bigint. */
export function receivableIdOf(fingerprint: string): bigint {
  return BigInt(fingerprint);
}
