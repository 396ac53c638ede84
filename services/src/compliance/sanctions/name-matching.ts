/**
 * Name matching for sanctions screening: pure functions, no I/O.
 *
 * A name is prepared once into one or more "forms" (lists of Latin tokens):
 * - Han characters: Chinese legal-form words are cut first (有限公司, 集团, …), then each character is
 *   romanised to its pinyin syllable by the `transliteration` package. Romanised Chinese names
 *   group syllables differently ("Hongyuan Maoyi", "Hong Yuan Mao Yi"), so a Han run becomes one
 *   word ("hongyuanmaoyi"; the spaced spellings meet it through the joined comparison below), and a
 *   run of 2–4 characters also gets a second form in the personal-name convention, surname + joined
 *   given name ("wang xiaoming"), which word-order-insensitivity then matches with "Xiaoming Wang".
 *   Syllables are never reordered one by one: 虚鸿 is not 鸿虚.
 * - Other scripts (Cyrillic, Greek, Arabic, …) are transliterated to Latin, then everything is
 *   NFKD-decomposed with diacritics stripped, lower-cased, punctuation removed, and legal-form and
 *   filler words (ltd, llc, ooo, the, and, …) dropped. A few romanisation variants are folded
 *   (final -iy/-yy/-ij/-ii/-yi → -y, kh → h, x → ks) so that Dmitriy, Dmitrii and Dmitrij meet.
 *
 * Before anything else, characters that render as nothing (zero-width spaces and joiners, soft
 * hyphens: `stripInvisible`) are removed and small capitals read as capitals, so "K\u200BORVALEX" and
 * "ᴋᴏʀᴠᴀʟᴇx" are "korvaleks". Every name also gets a look-alike form, its forms rewritten as a reader
 * sees them (`lookalikeLatin`): Cyrillic and Greek letters that look Latin become those Latin letters,
 * letters that look alike in capitals meet (I and l, as UTS #39's confusables table says), and inside
 * a word the digits that the table gives a letter for become it (0 → o, 1 → l). A name is compared
 * form by form of the same kind, plain with plain and look-alike with look-alike, so "NULLРORT
 * MAR1TIME" (Cyrillic Р, digit 1) meets "Nullport Maritime" exactly, while the folding never turns a
 * genuine Cyrillic name into nonsense that replaces its transliteration.
 *
 * Two prepared names are compared word-order-insensitively: tokens are paired one-to-one, best pair
 * first, each pair scored by token similarity (the lower of Jaro-Winkler and an edit-distance
 * ratio: Jaro-Winkler alone rewards a shared prefix so much that "hongyuan" and "hongda" score
 * 0.89), and the pairs are averaged weighted by their length; an unpaired token counts as zero.
 * The tokens joined without spaces are also compared, so "Bei Jing" meets "Beijing". The best over
 * all form pairs is the "full" score; its "weakest" part (least similar pair) tells a spelling
 * variant from a different name that shares a long word.
 *
 * When every token of the shorter name pairs well with a token of the longer one (a listed name
 * contained in a longer one, or a listed person with an extra middle name), the "partial" score
 * averages only the paired tokens. Containment is weak evidence (a generic listed name is contained
 * in many innocent ones), so the screener sends a strong partial match to review, never to fail.
 */
import { transliterate } from "transliteration";
import { foldSmallCapitals, skeleton, stripInvisible } from "../../../../shared/unicode";

/** Latin-script legal-form and filler words, removed wherever they stand. */
const LATIN_DROP = new Set([
  // English and common international legal forms
  "co", "company", "companies", "corp", "corporation", "inc", "incorporated", "ltd", "limited", "llc", "llp", "lp",
  "plc", "group", "holding", "holdings", "pte", "pty", "bhd", "sdn", "gmbh", "ag", "kg", "sa", "sarl", "srl", "spa",
  "bv", "nv", "oy", "ab", "as", "kk", "jsc", "ojsc", "pjsc", "cjsc",
  // transliterated Russian forms (ООО, ОАО, ЗАО, ПАО, АО)
  "ooo", "oao", "zao", "pao", "ao",
  // romanised Chinese forms (youxian gongsi = 有限公司, jituan = 集团, gufen = 股份, zeren = 责任)
  "youxian", "gongsi", "jituan", "gufen", "zeren",
  // fillers
  "the", "and", "of",
]);

/** Chinese legal-form words, longest first so the longer form is cut whole. */
const HAN_DROP = ["股份有限公司", "有限责任公司", "有限公司", "集团", "公司", "控股"];

const HAN_RUN = /\p{Script=Han}+/gu;

export interface NameForm {
  /** Normalised Latin tokens, in the order written. */
  tokens: string[];
  /** Tokens joined without spaces. */
  compact: string;
  /** A look-alike form (see the file comment); compared only with look-alike forms. */
  lookalike: boolean;
  /**
   * A look-alike form of a screened name whose other digits (3, 5, …) were read as the letters of a
   * listed word they stand in for (see `PreparedSanctionsList`): weaker evidence, a guess.
   */
  digitsRead?: boolean;
}

export interface PreparedName {
  original: string;
  forms: NameForm[];
  /**
   * Count of each character a-z, 0-9 over the name's tokens, per kind of form (index 0: plain,
   * 1: look-alike); the same in every form of one kind.
   */
  bags: [Int16Array, Int16Array];
  /** Length of the joined tokens, per kind of form. */
  lengths: [number, number];
}

/** Folds romanisation variants of one Latin token. */
function fold(token: string): string {
  return token
    .replace(/x/g, "ks")
    .replace(/kh/g, "h")
    .replace(/(iy|yy|ij|ii|yj|yi)$/, "y");
}

/** Latin tokens of a non-Han stretch of text; `lookalike` for text from `lookalikeLatin`. */
function latinTokens(text: string, lookalike = false): string[] {
  const latin = transliterate(text.replace(/ё/g, "е").replace(/Ё/g, "Е"))
    .normalize("NFKD")
    .replace(/\p{M}/gu, "")
    .toLowerCase()
    // Dotted initials are one word: "L.L.C." is llc, "J.P." is jp.
    .replace(/\b(?:[a-z0-9]\.){2,}/g, (m) => m.replace(/\./g, ""))
    .replace(/['’ʼ`]/g, "")
    .replace(/&/g, " and ")
    .replace(/[^a-z0-9]+/g, " ");
  const drop = lookalike ? lookalikeDrop() : LATIN_DROP;
  return latin
    .split(" ")
    .map(lookalike ? lookalikeToken : (t: string) => t)
    .filter((t) => t.length > 0 && !drop.has(t))
    .map(fold);
}

let lookalikeDropWords: ReadonlySet<string> | null = null;
/** The legal-form and filler words as the look-alike form writes them ("limited" is "llmlted"). */
function lookalikeDrop(): ReadonlySet<string> {
  lookalikeDropWords ??= new Set([...LATIN_DROP].map((w) => lookalikeLatin(w)));
  return lookalikeDropWords;
}

/** Pinyin syllables of a run of Han characters, lower case. */
function hanSyllables(run: string): string[] {
  return transliterate(run)
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean)
    .map(fold);
}

function form(tokens: string[], lookalike: boolean): NameForm {
  return { tokens, compact: tokens.join(""), lookalike };
}

const ASCII_WORD = /^[A-Za-z]+$/;
const KEEPS_ITS_LOOK = /[\p{Script=Latin}\p{Script=Common}\p{Script=Inherited}]/u;
const HAN_CHAR = /\p{Script=Han}/u;

/** The ASCII letters a non-Latin letter is confusable with, in either case, or null. */
function latinLookalikeOf(ch: string): string | null {
  for (const candidate of [ch, ch.toUpperCase()]) {
    const s = foldSmallCapitals(skeleton(candidate)).normalize("NFD").replace(/\p{M}/gu, "");
    if (ASCII_WORD.test(s)) return s;
  }
  return null;
}

/**
 * Text as a reader sees it, for comparison only: non-Latin letters that look like Latin ones
 * replaced by them (Cyrillic р, Greek Κ, …; lower case first, since Cyrillic г looks like r but Г
 * does not), then each character's UTS #39 skeleton in upper case, lower-cased. Taking the skeleton
 * in capitals makes matching case-blind and folds I with l (and 1 with them), O with 0; "m" is not
 * read as "rn", which only lower case would do. Han characters are left as they are (they are
 * romanised, not read as shapes). Digits are kept; `lookalikeToken` folds them. Apply it before
 * NFKC, which turns some look-alikes (Greek lunate sigma ϲ, ypogegrammeni ͺ) into letters that no
 * longer look Latin.
 */
export function lookalikeLatin(text: string): string {
  let out = "";
  for (const ch of text) {
    if (HAN_CHAR.test(ch) || (ch >= "0" && ch <= "9")) {
      out += ch;
      continue;
    }
    const latin = KEEPS_ITS_LOOK.test(ch) ? ch : (latinLookalikeOf(ch) ?? ch);
    out += skeleton(latin.toUpperCase()).toLowerCase();
  }
  return out.normalize("NFC");
}

/**
 * Digits the confusables table reads as a letter (0 as O, 1 as l), from the same data. Others (5,
 * 8, …) have no entry there and stay digits here; the screener reads them against the list's own
 * words, as a guess that only reaches review (`PreparedSanctionsList`).
 */
const DIGIT_AS_LETTER: ReadonlyMap<string, string> = new Map(
  [..."0123456789"].flatMap((d) => {
    const s = skeleton(d).toLowerCase();
    return ASCII_WORD.test(s) ? [[d, s] as [string, string]] : [];
  }),
);

/** A word's digits read as letters, when the word has letters too: "k0rvaleks" → "korvaleks"; "360" stays. */
function lookalikeToken(token: string): string {
  if (!/[0-9]/.test(token) || !/[a-z]/.test(token)) return token;
  return token.replace(/[0-9]/g, (d) => DIGIT_AS_LETTER.get(d) ?? d);
}

/**
 * Token lists of a name's text: the whole form and the personal-name form (they differ only where
 * a Han run of 2–4 characters is read as surname + given name).
 */
function tokenLists(normalised: string, lookalike: boolean): [string[], string[]] {
  let text = normalised;
  for (const w of HAN_DROP) text = text.split(w).join(" ");
  const whole: string[] = [];
  const personal: string[] = [];
  let last = 0;
  const latin = (stretch: string) => {
    const t = latinTokens(stretch, lookalike);
    whole.push(...t);
    personal.push(...t);
  };
  for (const m of text.matchAll(HAN_RUN)) {
    if (m.index! > last) latin(text.slice(last, m.index));
    last = m.index! + m[0].length;
    const s = hanSyllables(m[0]);
    if (!s.length) continue;
    whole.push(s.join(""));
    if (s.length >= 2 && s.length <= 4) personal.push(s[0], s.slice(1).join(""));
    else personal.push(s.join(""));
  }
  if (last < text.length) latin(text.slice(last));
  return [whole, personal];
}

/** Normalises a name into its comparable forms (see the file comment). */
export function prepareName(name: string): PreparedName {
  const visible = stripInvisible(foldSmallCapitals(name));
  const lists = [...tokenLists(stripInvisible(visible.normalize("NFKC")), false), ...tokenLists(lookalikeLatin(visible).normalize("NFKC"), true)];
  const forms: NameForm[] = [];
  const seen = new Set<string>();
  lists.forEach((tokens, i) => {
    const lookalike = i >= 2;
    const key = `${lookalike} ${tokens.join(" ")}`;
    if (tokens.length && !seen.has(key)) {
      seen.add(key);
      forms.push(form(tokens, lookalike));
    }
  });
  const first = (lookalike: boolean) => forms.find((f) => f.lookalike === lookalike)?.compact ?? "";
  return {
    original: name,
    forms,
    bags: [charBag(first(false)), charBag(first(true))],
    lengths: [first(false).length, first(true).length],
  };
}

/** Count of each character a-z, 0-9 in `s`. */
export function charBag(s: string): Int16Array {
  const bag = new Int16Array(36);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 97 && c <= 122) bag[c - 97]++;
    else if (c >= 48 && c <= 57) bag[26 + c - 48]++;
  }
  return bag;
}

/**
 * Upper bound of the similarity of two names' joined forms, from their character bags alone: each
 * edit fixes at most one character missing on either side, so similarity ≤ 1 − edits / longer
 * length ≤ 1 − max(missing from a, missing from b) / longer length. Every form of one kind has the
 * same characters, and forms are compared only with forms of their kind, so the larger of the two
 * kinds' bounds holds for every form pair.
 */
export function compactBound(a: PreparedName, b: PreparedName): number {
  let best = 0;
  for (const k of [0, 1] as const) {
    const longer = Math.max(a.lengths[k], b.lengths[k]);
    if (longer > 0) best = Math.max(best, 1 - bagDistance(a.bags[k], b.bags[k]) / longer);
  }
  return best;
}

/** A lower bound of the edit distance: the larger count of characters one side lacks. */
export function bagDistance(a: Int16Array, b: Int16Array): number {
  let da = 0;
  let db = 0;
  for (let i = 0; i < 36; i++) {
    const d = a[i] - b[i];
    if (d > 0) da += d;
    else db -= d;
  }
  return Math.max(da, db);
}

// Scratch buffers reused across calls: screening compares thousands of names, and per-call arrays
// were most of its time. Single-threaded, and no function below re-enters another's buffer.
let hitA = new Uint8Array(64);
let hitB = new Uint8Array(64);
let rowBefore = new Int32Array(64);
let rowPrev = new Int32Array(64);
let rowCur = new Int32Array(64);

/** Jaro-Winkler similarity in [0, 1] (prefix scale 0.1, prefix up to 4 characters). */
export function jaroWinkler(a: string, b: string): number {
  if (a === b) return 1;
  if (!a.length || !b.length) return 0;
  if (hitA.length < a.length) hitA = new Uint8Array(a.length * 2);
  if (hitB.length < b.length) hitB = new Uint8Array(b.length * 2);
  hitA.fill(0, 0, a.length);
  hitB.fill(0, 0, b.length);
  const window = Math.max(0, Math.floor(Math.max(a.length, b.length) / 2) - 1);
  let matches = 0;
  for (let i = 0; i < a.length; i++) {
    const lo = Math.max(0, i - window);
    const hi = Math.min(b.length - 1, i + window);
    const c = a.charCodeAt(i);
    for (let j = lo; j <= hi; j++) {
      if (hitB[j] || c !== b.charCodeAt(j)) continue;
      hitA[i] = hitB[j] = 1;
      matches++;
      break;
    }
  }
  if (matches === 0) return 0;
  let transpositions = 0;
  for (let i = 0, j = 0; i < a.length; i++) {
    if (!hitA[i]) continue;
    while (!hitB[j]) j++;
    if (a.charCodeAt(i) !== b.charCodeAt(j)) transpositions++;
    j++;
  }
  const m = matches;
  const jaro = (m / a.length + m / b.length + (m - transpositions / 2) / m) / 3;
  let prefix = 0;
  while (prefix < 4 && prefix < a.length && prefix < b.length && a[prefix] === b[prefix]) prefix++;
  return jaro + prefix * 0.1 * (1 - jaro);
}

/**
 * Edit distance counting an insertion, a deletion, a substitution or a swap of two adjacent
 * characters as one edit (optimal string alignment): "petorv" is one typing slip from "petrov".
 */
export function editDistance(a: string, b: string): number {
  if (a === b) return 0;
  if (!a.length) return b.length;
  if (!b.length) return a.length;
  const n = b.length + 1;
  if (rowPrev.length < n) {
    rowBefore = new Int32Array(n * 2);
    rowPrev = new Int32Array(n * 2);
    rowCur = new Int32Array(n * 2);
  }
  let before = rowBefore;
  let prev = rowPrev;
  let cur = rowCur;
  for (let j = 0; j < n; j++) prev[j] = j;
  for (let i = 1; i <= a.length; i++) {
    cur[0] = i;
    const ca = a.charCodeAt(i - 1);
    for (let j = 1; j < n; j++) {
      const cb = b.charCodeAt(j - 1);
      let d = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca === cb ? 0 : 1));
      if (i > 1 && j > 1 && ca === b.charCodeAt(j - 2) && a.charCodeAt(i - 2) === cb) d = Math.min(d, before[j - 2] + 1);
      cur[j] = d;
    }
    const t = before;
    before = prev;
    prev = cur;
    cur = t;
  }
  return prev[b.length];
}

/**
 * Similarity of two tokens or strings in [0, 1]: the stricter of Jaro-Winkler and 1 − edits/length.
 * Jaro-Winkler alone over-rewards a shared prefix (hongyuan/hongda 0.89, petrenko/petrov 0.88);
 * the edit ratio alone misses that characters far out of place are not a typing slip.
 */
export function similarity(a: string, b: string): number {
  if (a === b) return 1;
  const len = Math.max(a.length, b.length);
  if (len === 0) return 1;
  const lev = 1 - editDistance(a, b) / len;
  if (lev <= 0) return 0;
  return Math.min(jaroWinkler(a, b), lev);
}

/**
 * Memoises token similarities within one screening (listed tokens repeat across names). Keyed by
 * the token strings themselves, two levels deep: V8 caches a string's hash in the string, so a
 * lookup with the prepared tokens costs no hashing, unlike a concatenated key.
 */
export class SimilarityCache {
  private readonly memo = new Map<string, Map<string, number>>();

  get(a: string, b: string): number {
    let inner = this.memo.get(a);
    if (!inner) {
      inner = new Map();
      this.memo.set(a, inner);
    }
    let s = inner.get(b);
    if (s === undefined) {
      s = similarity(a, b);
      inner.set(b, s);
    }
    return s;
  }
}

export interface FormScore {
  /** Whole-name similarity, word order ignored. */
  full: number;
  /**
   * The weakest part of the full score: the least similar token pair (0 if a token is left
   * unpaired); when the joined forms gave the full score, 1 if they are equal, else 0. A high full
   * score with one weak pair ("chen jiaming" / "zhen jiaming": 0.91, surnames 0.75) is a different
   * name sharing a long one, not a spelling variant.
   */
  weakest: number;
  /** Similarity of the shorter name's tokens to their partners in the longer one; 0 when not applicable. */
  partial: number;
}

const len = (tokens: string[]) => tokens.reduce((s, t) => s + t.length, 0);

/**
 * Scores a queried form against a listed one. A one-token name counts as contained in a longer one
 * only when it is the listed name (a listed single word inside a company name), never the other
 * way round (a surname alone is no evidence against a listed person).
 */
export function scoreForms(query: NameForm, listed: NameForm, cache?: SimilarityCache): FormScore {
  const a = query.tokens;
  const b = listed.tokens;
  // Best one-to-one pairing, greedily from the most similar pair (names have few tokens).
  const pairs: Array<{ i: number; j: number; s: number }> = [];
  for (let i = 0; i < a.length; i++) for (let j = 0; j < b.length; j++) pairs.push({ i, j, s: cache ? cache.get(a[i], b[j]) : similarity(a[i], b[j]) });
  pairs.sort((x, y) => y.s - x.s || x.i - y.i || x.j - y.j);
  const usedA = new Set<number>();
  const usedB = new Set<number>();
  let weighted = 0;
  let pairedChars = 0;
  let weakest = a.length === b.length ? 1 : 0;
  for (const p of pairs) {
    if (usedA.has(p.i) || usedB.has(p.j)) continue;
    usedA.add(p.i);
    usedB.add(p.j);
    const w = a[p.i].length + b[p.j].length;
    weighted += p.s * w;
    pairedChars += w;
    weakest = Math.min(weakest, p.s);
  }
  const total = len(a) + len(b);
  const aligned = total ? weighted / total : 0;
  let full = aligned;
  // The joined forms matter only where spacing differs; their length gap caps what they can add.
  const qc = query.compact;
  const lc = listed.compact;
  const cap = 1 - Math.abs(qc.length - lc.length) / Math.max(qc.length, lc.length, 1);
  if (cap > aligned) {
    const joined = similarity(qc, lc);
    if (joined > aligned) {
      full = joined;
      // Ignoring spaces erases word boundaries, so a fuzzy joined match cannot tell a spelling
      // variant from a different word ("hongxi maoyi" / "hongxumaoyi"): only an exact one is strong.
      weakest = joined === 1 ? 1 : 0;
    }
  }

  let partial = 0;
  const shorter = a.length <= b.length ? a : b;
  const longer = shorter === a ? b : a;
  const containedMayCount = shorter.length >= 2 || shorter === b;
  if (longer.length > shorter.length && containedMayCount && len(shorter) >= 4 && pairedChars > 0) {
    partial = weighted / pairedChars;
  }
  return { full, weakest, partial };
}

export interface NameScore extends FormScore {
  /** The full score came from the look-alike forms only: the plain spellings scored less. */
  lookalike: boolean;
  /** The full score came from a form whose digits were read as letters of a listed word. */
  digitsRead: boolean;
}

/**
 * Best scores over every pair of forms of the same kind of two prepared names (the full score with
 * its weakest part). On a tie the plain forms win, so `lookalike` means the folding was needed.
 */
export function scoreNames(query: PreparedName, listed: PreparedName, cache?: SimilarityCache): NameScore {
  const best: NameScore = { full: 0, weakest: 0, partial: 0, lookalike: false, digitsRead: false };
  for (const q of query.forms) {
    for (const l of listed.forms) {
      if (q.lookalike !== l.lookalike) continue;
      const s = scoreForms(q, l, cache);
      if (s.full > best.full || (s.full === best.full && s.weakest > best.weakest)) {
        best.full = s.full;
        best.weakest = s.weakest;
        best.lookalike = q.lookalike;
        best.digitsRead = q.digitsRead === true;
      }
      if (s.partial > best.partial) best.partial = s.partial;
    }
  }
  return best;
}
