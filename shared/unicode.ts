/**
 * Look-alike handling for identifiers and names that people type (invoice numbers, tax ids,
 * company names), following Unicode's security mechanisms (UTS #39). Two strings that a reader
 * cannot tell apart must compare equal here, whatever code points they were written with.
 *
 * - `stripInvisible` removes default-ignorable and format characters (zero-width spaces and
 *   joiners, soft hyphens, BOM, variation selectors), which render as nothing.
 * - `skeleton` is UTS #39's skeleton: NFD, invisible characters removed, each character replaced
 *   by its prototype from Unicode's confusables table (data from the `unhomoglyph` package, never a
 *   hand-written table), NFD again. `skeleton(a) === skeleton(b)` means "a and b look alike". The
 *   result is for comparison only, never for display ("m" becomes "rn", "0" becomes "O").
 * - `scriptsOf` / `isMixedScript` implement UTS #39's "highly restrictive" profile: a string may
 *   use one script, or Latin together with the scripts of Chinese, Japanese or Korean writing.
 *   Anything else (Latin with Cyrillic or Greek letters, say) is mixed.
 */
import unhomoglyph from "unhomoglyph";

const INVISIBLE = /[\p{Default_Ignorable_Code_Point}\p{Cf}]/gu;

/** Removes characters that render as nothing (Default_Ignorable_Code_Point and Cf). */
export function stripInvisible(value: string): string {
  return value.replace(INVISIBLE, "");
}

/** UTS #39 skeleton: equal skeletons mean the two strings are confusable. Not for display. */
export function skeleton(value: string): string {
  return unhomoglyph(stripInvisible(value.normalize("NFD"))).normalize("NFD");
}

// Scripts checked by name; a letter in none of them counts as "Other". Common and Inherited
// (digits, punctuation, combining marks) belong to no script and never make a string mixed.
const SCRIPTS = [
  "Latin",
  "Cyrillic",
  "Greek",
  "Han",
  "Hiragana",
  "Katakana",
  "Bopomofo",
  "Hangul",
  "Arabic",
  "Hebrew",
  "Armenian",
  "Georgian",
  "Cherokee",
  "Thai",
  "Devanagari",
] as const;
const SCRIPT_RE = new Map(SCRIPTS.map((s) => [s, new RegExp(`\\p{Script=${s}}`, "u")]));
const NO_SCRIPT = /[\p{Script=Common}\p{Script=Inherited}]/u;

/** The scripts the string's characters are written in, Common and Inherited left out. */
export function scriptsOf(value: string): Set<string> {
  const found = new Set<string>();
  for (const ch of value.normalize("NFD")) {
    if (NO_SCRIPT.test(ch)) continue;
    let named = false;
    for (const [name, re] of SCRIPT_RE) {
      if (re.test(ch)) {
        found.add(name);
        named = true;
        break;
      }
    }
    if (!named) found.add("Other");
  }
  return found;
}

// The script combinations UTS #39's highly restrictive profile accepts in one string.
const ALLOWED_TOGETHER: ReadonlyArray<ReadonlySet<string>> = [
  new Set(["Latin", "Han", "Hiragana", "Katakana"]),
  new Set(["Latin", "Han", "Bopomofo"]),
  new Set(["Latin", "Han", "Hangul"]),
];

/** True when the string mixes scripts beyond UTS #39's highly restrictive profile. */
export function isMixedScript(value: string): boolean {
  const scripts = scriptsOf(value);
  if (scripts.size <= 1) return false;
  return !ALLOWED_TOGETHER.some((allowed) => [...scripts].every((s) => allowed.has(s)));
}

// Small capitals (ᴀ U+1D00, ʀ U+0280, ꜱ U+A731, …) are Latin letters with no case or compatibility
// mapping and mostly absent from the confusables table, yet read as capitals. Which code points
// they are, and which capital each stands for, comes from their Unicode names
// ("LATIN LETTER SMALL CAPITAL R"), read once from the `unicode-name` package's data; turned,
// reversed and inverted forms do not look like the letter and are left alone.
let smallCapitals: Map<string, string> | null = null;
const SMALL_CAPITAL_NAME = /^(?:LATIN|MODIFIER) (?:CAPITAL |SMALL )?(?:LETTER )?SMALL CAPITAL (?:LETTER )?([A-Z]{1,2})(?: WITH [A-Z ]+)?$/;
const LATIN_LETTER = /\p{Script=Latin}/u;

function smallCapitalTable(): Map<string, string> {
  if (smallCapitals) return smallCapitals;
  // unicode-name is an ES module; Node 20.19+ loads it through require.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { unicodeName } = require("unicode-name") as { unicodeName(ch: string): string | undefined };
  const table = new Map<string, string>();
  for (let cp = 0x80; cp <= 0x1ffff; cp++) {
    if (cp >= 0xd800 && cp <= 0xdfff) continue;
    const ch = String.fromCodePoint(cp);
    if (!LATIN_LETTER.test(ch)) continue;
    const m = SMALL_CAPITAL_NAME.exec(unicodeName(ch) ?? "");
    if (m) table.set(ch, m[1]);
  }
  smallCapitals = table;
  return table;
}

/** Replaces each small-capital letter by the capital it stands for ("ᴋᴏʀᴠᴀʟᴇx" → "KORVALEx"). */
export function foldSmallCapitals(value: string): string {
  const table = smallCapitalTable();
  let out = "";
  for (const ch of value) out += table.get(ch) ?? ch;
  return out;
}
