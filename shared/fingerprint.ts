/**
 * Invoice identity: the one definition of what makes two invoices the same invoice, and of the ids
 * receivables get on the ledger. Pure functions, no Nest, so the CLI, the scripts, the indexer and
 * the tests compute exactly what the service computes and attests.
 *
 * An invoice is its seller and its number (a VAT e-invoice number is unique nationally). Amount,
 * dates, debtor and document are its content: presenting the same seller and number again is the
 * same invoice whatever the content, and is refused.
 *
 *   fingerprint   = keccak256(abi.encode(bytes32 FINGERPRINT_SALT, string taxIdKey(sellerTaxId),
 *                                        string invoiceNumberKey(invoiceNumber)))
 *   receivable id = uint256(keccak256(abi.encode(ROOT_ID_TAG, fingerprint)))       (receivableIdOf)
 *   child id      = uint256(keccak256(abi.encode(CHILD_ID_TAG, parentId, index)))  (childIdOf)
 * The two tags put roots and split children in namespaces that cannot meet (the contract computes
 * the same in `receivableIdOf` and `childId`); ids.ts parses and formats them.
 *
 * Keys, because the same invoice reaches the ledger typed by different people on different systems
 * ("inv-001" from an ERP export, "INV 001" typed by hand, "ＩＮＶ－００１" from a full-width input
 * method) and because an attacker types look-alikes on purpose ("INV-001" with a Cyrillic "І"):
 *   - `normaliseInvoiceKey`: NFKC (compatibility forms fold: full-width, ligatures, circled
 *     digits), case folded to upper case (lower then upper, so "ß" and "SS" agree), NFKC again,
 *     then whitespace, invisible format characters (Cf), the dash family and "." "/" "_" removed;
 *     repeated to a fixed point.
 *   - `taxIdKey`: the normalised key, which must then be ASCII capitals and digits only (the
 *     alphabet of USCC and LEI): a Cyrillic or Greek letter in a tax id is refused, never folded.
 *     The service further requires it to be exactly the party's registered entity id.
 *   - `invoiceNumberKey`: the normalised key, refused when it mixes scripts beyond UTS #39's
 *     highly restrictive profile (Latin with Cyrillic or Greek); otherwise its UTS #39 confusable
 *     skeleton (unicode.ts, Unicode's own confusables data) with combining marks removed, so
 *     "INV-001", an all-Cyrillic look-alike, "INV-0O1" and "INV-001" with an accent on a digit are
 *     one identity. The skeleton is for comparison only, never shown.
 *   - `checkInvoiceNumberSpelling` (new tokenisations only): refuses a number holding a character
 *     that reads as another than the key takes it for, since the key folds case before the
 *     skeleton ("INV-00l", a lower-case L, beside "INV-001"), or a Latin letter outside A-Z
 *     (small capitals, "ɑ", "ß"), so no two numbers a reader cannot tell apart get two identities.
 *
 * Changing any of this (or the salt) changes every fingerprint: invoices tokenised before the
 * change could then be tokenised again. Treat it as part of the ledger's rules.
 */
import { AbiCoder, getBytes, id as keccakText, keccak256 } from "ethers";
import { isMixedScript, lookAlikesOf, skeleton } from "./unicode";

// Whitespace, format characters, the dash family and the separators, removed after NFKC + upper case.
const STRIP = /[\s\p{Cf}\u002D\u2010-\u2015\u2212\uFE58\uFE63\uFF0D./_]/gu;
const MARKS = /\p{M}/gu;
const TAX_ID = /^[0-9A-Z]+$/;
const ISO_DAY = /^(\d{4})-(\d{2})-(\d{2})$/;
const ROOT_ID_TAG = keccakText("SCF.receivable.root");
const CHILD_ID_TAG = keccakText("SCF.receivable.child");
const ROOT_ID_TAG_BYTES = Buffer.from(ROOT_ID_TAG.slice(2), "hex");
const abi = AbiCoder.defaultAbiCoder();

/** The seller and number that make an invoice itself. */
export interface InvoiceIdentity {
  sellerTaxId: string;
  invoiceNumber: string;
}

/** Which field of an invoice's identity is unusable, and why, in words a client can act on. */
export class InvoiceIdentityError extends Error {
  constructor(
    readonly field: "sellerTaxId" | "buyerTaxId" | "invoiceNumber",
    message: string,
  ) {
    super(message);
  }
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

/** A tax id as compared with registered entity ids: normalised, ASCII capitals and digits only. */
export function taxIdKey(value: string, field: "sellerTaxId" | "buyerTaxId" = "sellerTaxId"): string {
  const key = normaliseInvoiceKey(value);
  if (!key) throw new InvoiceIdentityError(field, `${field} is empty once spaces and separators are removed.`);
  if (!TAX_ID.test(key)) {
    throw new InvoiceIdentityError(
      field,
      `${field} "${value}" holds characters outside 0-9 and A-Z once normalised (NFKC): a unified social credit code or LEI ` +
        "is ASCII letters and digits only, so a look-alike letter from another script is refused.",
    );
  }
  return key;
}

/** An invoice number as compared for identity: its confusable skeleton; mixed scripts refused. */
export function invoiceNumberKey(value: string): string {
  const key = normaliseInvoiceKey(value);
  if (!key) throw new InvoiceIdentityError("invoiceNumber", "invoiceNumber is empty once spaces and separators are removed.");
  if (isMixedScript(key)) {
    throw new InvoiceIdentityError(
      "invoiceNumber",
      `invoiceNumber "${value}" mixes writing systems (for example Latin with Cyrillic or Greek letters that look alike); ` +
        "type it in one script as printed on the invoice.",
    );
  }
  return skeleton(key).replace(MARKS, "").normalize("NFC");
}

/**
 * Refuses an invoice number, presented for tokenisation, that holds a character reading as another
 * than the one it is keyed as:
 * - a character that looks like one of 0-9 or A-Z (Unicode's confusables data) but keys otherwise:
 *   invoiceNumberKey folds case before taking the skeleton, so a look-alike that exists only in lower
 *   case keeps an identity of its own ("INV-00l", a lower-case L, beside "INV-001"); in practice the
 *   lower-case L and its compatibility forms, and a few letters of other scripts (Cyrillic "б" for 6);
 * - a Latin letter outside A-Z once accents are removed (small capitals "ɪɴᴠ", "ᴏ", the Latin alpha
 *   "ɑ", "ß"), which reads as a letter of A-Z and is mostly absent from the confusables data.
 * Refused, never folded: folding would change the key, so the fingerprint, of invoices already on the
 * ledger under it. Only a new tokenisation is checked; look-ups and reservations of identities that
 * exist key their numbers as before (invoiceNumberKey).
 */
export function checkInvoiceNumberSpelling(value: string): void {
  for (const ch of value.normalize("NFKC")) {
    const readsAs = misleadingCharacters().get(ch);
    if (readsAs) {
      const capital = ch.toUpperCase() !== ch ? ` (a letter is written as a capital: "${ch.toUpperCase()}")` : "";
      throw new InvoiceIdentityError(
        "invoiceNumber",
        `invoiceNumber "${value}" holds ${describeChar(ch)}, which reads as ${readsAs.map((t) => `"${t}"`).join(" or ")} ` +
          `but is another character once case is ignored; type the character printed on the invoice${capital}.`,
      );
    }
    if (LETTER.test(ch) && LATIN.test(ch) && !PLAIN_LATIN.test(ch.normalize("NFD").replace(MARKS, ""))) {
      throw new InvoiceIdentityError(
        "invoiceNumber",
        `invoiceNumber "${value}" holds ${describeChar(ch)}, a Latin letter outside A-Z that reads as another letter; ` +
          "type the number with the letters A-Z as printed on the invoice.",
      );
    }
  }
}

const LETTER = /\p{L}/u;
const LATIN = /\p{Script=Latin}/u;
const PLAIN_LATIN = /^[A-Za-z]$/;

function describeChar(ch: string): string {
  return `"${ch}" (U+${ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0")})`;
}

/** Each character (NFKC) that looks like one of 0-9 or A-Z but keys otherwise, with what it reads as. */
function misleadingCharacters(): Map<string, string[]> {
  if (misleading) return misleading;
  const found = new Map<string, string[]>();
  for (const target of "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ") {
    const targetKey = invoiceNumberKey(target);
    for (const alike of lookAlikesOf(target)) {
      const ch = alike.normalize("NFKC");
      if ([...ch].length !== 1) continue;
      let key: string;
      try {
        key = invoiceNumberKey(ch);
      } catch {
        continue; // a separator or an invisible character: removed from the key, not a look-alike
      }
      if (key === targetKey) continue;
      const list = found.get(ch);
      if (!list) found.set(ch, [target]);
      else if (!list.includes(target)) list.push(target);
    }
  }
  misleading = found;
  return found;
}
let misleading: Map<string, string[]> | null = null;

/** True for a real calendar day written as YYYY-MM-DD. */
export function isIsoDay(value: string): boolean {
  const m = ISO_DAY.exec(value);
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const t = new Date(Date.UTC(y, mo - 1, d));
  return t.getUTCFullYear() === y && t.getUTCMonth() === mo - 1 && t.getUTCDate() === d;
}

/** The invoice fingerprint as 0x-prefixed 32-byte hex. Throws InvoiceIdentityError on unusable input. */
export function invoiceFingerprint(salt: string, inv: InvoiceIdentity): string {
  if (!/^0x[0-9a-fA-F]{64}$/.test(salt)) throw new Error("fingerprint salt must be 32 bytes as 0x-prefixed hex");
  return keccak256(encodeFingerprintInput(salt, taxIdKey(inv.sellerTaxId), invoiceNumberKey(inv.invoiceNumber)));
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * abi.encode(bytes32 salt, string a, string b), laid out directly: the salt, the two offsets, then
 * each string's length and UTF-8 bytes padded to whole words. ethers' ABI coder produced the same
 * bytes at several times the CPU (every invoice of every POST is fingerprinted). A string that is
 * not well-formed UTF-16 goes through the coder, which refuses it as before.
 */
function encodeFingerprintInput(salt: string, a: string, b: string): Uint8Array {
  if (LONE_SURROGATE.test(a) || LONE_SURROGATE.test(b)) return getBytes(abi.encode(["bytes32", "string", "string"], [salt, a, b]));
  const A = Buffer.from(a, "utf8");
  const B = Buffer.from(b, "utf8");
  const pa = Math.ceil(A.length / 32) * 32;
  const pb = Math.ceil(B.length / 32) * 32;
  const out = Buffer.alloc(5 * 32 + pa + pb);
  Buffer.from(salt.slice(2), "hex").copy(out, 0);
  out.writeUInt32BE(0x60, 60);
  out.writeUInt32BE(0x60 + 32 + pa, 92);
  out.writeUInt32BE(A.length, 124);
  A.copy(out, 128);
  out.writeUInt32BE(B.length, 128 + pa + 28);
  B.copy(out, 128 + pa + 32);
  return out;
}

/** The receivable id a fingerprint becomes on-chain (the token id), as the contract's `receivableIdOf`. */
export function receivableIdOf(fingerprint: string): bigint {
  // abi.encode(bytes32, bytes32) is the two words side by side; concatenating them skips the ABI
  // coder, which cost as much as the hash (each POST of a 200-invoice batch derives 200 ids).
  // Remembered: the service derives each invoice's id on both posts of an act, in its compliance
  // facts and in the duplicate rule (a pure function of the fingerprint).
  const known = ROOT_IDS.get(fingerprint);
  if (known !== undefined) return known;
  if (!/^0x[0-9a-fA-F]{64}$/.test(fingerprint)) throw new Error("fingerprint must be 32 bytes as 0x-prefixed hex");
  // As bytes: ethers' concat and keccak256 would parse both hex strings again, byte by byte in
  // JavaScript (more CPU than the native hash of 64 bytes, for the 200 new ids of every batch).
  const id = BigInt(keccak256(Buffer.concat([ROOT_ID_TAG_BYTES, Buffer.from(fingerprint.slice(2), "hex")])));
  if (ROOT_IDS.size >= 10_000) ROOT_IDS.clear();
  ROOT_IDS.set(fingerprint, id);
  return id;
}
const ROOT_IDS = new Map<string, bigint>();

/** The id of the `index`-th child of a split of `parentId`, as the contract's `childId`. */
export function childIdOf(parentId: bigint | string, index: number | bigint): bigint {
  return BigInt(keccak256(abi.encode(["bytes32", "uint256", "uint256"], [CHILD_ID_TAG, BigInt(parentId), BigInt(index)])));
}
