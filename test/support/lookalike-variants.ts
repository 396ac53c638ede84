/**
 * Look-alike spellings of a name, written the way someone evading a sanctions screen would write
 * them: Latin letters swapped for Cyrillic or Greek ones that look the same, zero-width characters
 * between letters, digits for letters, small capitals, another word order, and these combined.
 * Shared by the sanctions tests and `npm run bench -- --only sanctions`, with the real company
 * names that measure false positives.
 *
 * The substitutions come from Unicode data, not from a table typed here: a Cyrillic or Greek letter
 * replaces a Latin one when UTS #39's skeleton says they look alike, and a small capital replaces
 * a letter when its Unicode name says it is that letter's small capital. The one exception is
 * "other digits" (3 for E, 5 for S, …): the confusables table has no such entries, so the screen
 * can only guess them and is expected to review, not fail, them.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { foldSmallCapitals, skeleton } from "../../shared/unicode";
import { PROJECT_ROOT } from "../../platform/project-root";

/** The real company names of test/fixtures/company-names.txt, which no sanctions screen should flag. */
export function realCompanyNames(): string[] {
  return readFileSync(join(PROJECT_ROOT, "test", "fixtures", "company-names.txt"), "utf8")
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith("#"));
}

export type VariantKind =
  | "one Cyrillic letter"
  | "Cyrillic letters"
  | "Greek letters"
  | "zero-width characters"
  | "digits for letters (0/O, 1/I/l)"
  | "small capitals"
  | "word order"
  | "combined"
  | "other digits (3/E, 4/A, 5/S, 7/T, 8/B)";

/** Kinds whose every variant the screen is expected to fail as a match. */
export const CONFUSABLE_KINDS: readonly VariantKind[] = [
  "one Cyrillic letter",
  "Cyrillic letters",
  "Greek letters",
  "zero-width characters",
  "digits for letters (0/O, 1/I/l)",
  "small capitals",
  "word order",
  "combined",
];

export const ALL_KINDS: readonly VariantKind[] = [...CONFUSABLE_KINDS, "other digits (3/E, 4/A, 5/S, 7/T, 8/B)"];

function lookalikesIn(from: number, to: number): Map<string, string> {
  const byLatin = new Map<string, string>();
  for (let cp = from; cp <= to; cp++) {
    const ch = String.fromCodePoint(cp);
    if (!/\p{L}/u.test(ch)) continue;
    for (const latin of "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") {
      if (!byLatin.has(latin) && skeleton(ch) === skeleton(latin)) byLatin.set(latin, ch);
    }
  }
  return byLatin;
}

const CYRILLIC = lookalikesIn(0x400, 0x4ff);
const GREEK = lookalikesIn(0x370, 0x3ff);

const SMALL_CAPITAL = (() => {
  const out = new Map<string, string>();
  for (let cp = 0x80; cp <= 0xffff; cp++) {
    const ch = String.fromCodePoint(cp);
    const capital = foldSmallCapitals(ch);
    if (capital !== ch && /^[A-Z]$/.test(capital) && !out.has(capital)) out.set(capital, ch);
  }
  return out;
})();

const DIGIT_FOR = (() => {
  const out = new Map<string, string>();
  for (const d of "0123456789") {
    for (const latin of "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") {
      if (skeleton(latin) === skeleton(d) || skeleton(latin.toUpperCase()) === skeleton(d)) out.set(latin, d);
    }
  }
  return out;
})();

const OTHER_DIGITS = new Map(Object.entries({ E: "3", e: "3", A: "4", a: "4", S: "5", s: "5", T: "7", t: "7", B: "8" }));

const INVISIBLE = ["\u200B", "\u200C", "\u200D", "\u2060", "\uFEFF", "\u00AD"];

function substitute(name: string, table: ReadonlyMap<string, string>): string {
  return [...name].map((c) => table.get(c) ?? c).join("");
}

/** One letter replaced, the replaceable letter nearest the middle of the name. */
function substituteOne(name: string, table: ReadonlyMap<string, string>): string {
  const chars = [...name];
  const at = chars.map((c, i) => (table.has(c) ? i : -1)).filter((i) => i >= 0);
  if (!at.length) return name;
  const mid = chars.length / 2;
  const i = at.reduce((best, j) => (Math.abs(j - mid) < Math.abs(best - mid) ? j : best));
  chars[i] = table.get(chars[i])!;
  return chars.join("");
}

function zeroWidth(name: string): string {
  let n = 0;
  return [...name].map((c, i, all) => (/\p{L}/u.test(c) && /\p{L}/u.test(all[i + 1] ?? "") ? c + INVISIBLE[n++ % INVISIBLE.length] : c)).join("");
}

function smallCapitals(name: string): string {
  return [...name].map((c) => SMALL_CAPITAL.get(c.toUpperCase()) ?? c).join("");
}

function reordered(name: string): string {
  const words = name.split(/[\s,]+/).filter(Boolean);
  return words.length < 2 ? name : [...words.slice(1), words[0]].join(" ");
}

/** The variant of `name` of one kind; null when the kind changes nothing in it. */
export function variant(name: string, kind: VariantKind): string | null {
  let v: string;
  switch (kind) {
    case "one Cyrillic letter":
      v = substituteOne(name, CYRILLIC);
      break;
    case "Cyrillic letters":
      v = substitute(name, CYRILLIC);
      break;
    case "Greek letters":
      v = substitute(name, GREEK);
      break;
    case "zero-width characters":
      v = zeroWidth(name);
      break;
    case "digits for letters (0/O, 1/I/l)":
      v = substitute(name, DIGIT_FOR);
      break;
    case "small capitals":
      v = smallCapitals(name);
      break;
    case "word order":
      v = reordered(name);
      break;
    case "combined": {
      const r = reordered(name);
      v = zeroWidth(substitute(substituteOne(r, CYRILLIC), DIGIT_FOR));
      break;
    }
    case "other digits (3/E, 4/A, 5/S, 7/T, 8/B)":
      v = substitute(name, OTHER_DIGITS);
      break;
  }
  return v === name ? null : v;
}
