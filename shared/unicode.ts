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
import confusables from "unhomoglyph/data.json";

const INVISIBLE = /[\p{Default_Ignorable_Code_Point}\p{Cf}]/gu;

/** Removes characters that render as nothing (Default_Ignorable_Code_Point and Cf). */
export function stripInvisible(value: string): string {
  return value.replace(INVISIBLE, "");
}

/** UTS #39 skeleton: equal skeletons mean the two strings are confusable. Not for display. */
export function skeleton(value: string): string {
  return unhomoglyph(stripInvisible(value.normalize("NFD"))).normalize("NFD");
}

/**
 * The single characters whose skeleton is `proto`'s skeleton: the inverse of the confusables table,
 * e.g. for "1": "l", "I", "|", "ℓ", "𝟏", … (and "1" itself). Built on the first call; a few thousand entries.
 */
export function lookAlikesOf(proto: string): string[] {
  if (!inverseConfusables) {
    inverseConfusables = new Map();
    for (const [ch, target] of Object.entries(confusables as Record<string, string>)) {
      if ([...ch].length !== 1) continue;
      const key = skeleton(target);
      const list = inverseConfusables.get(key);
      if (list) list.push(ch);
      else inverseConfusables.set(key, [ch]);
    }
  }
  const key = skeleton(proto);
  const found = new Set(inverseConfusables.get(key) ?? []);
  if ([...key].length === 1) found.add(key);
  found.add(proto);
  return [...found];
}
let inverseConfusables: Map<string, string[]> | null = null;

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
//
// The names are read in a short-lived worker thread: `unicode-name` holds every Unicode name (about
// 11 MB of heap once loaded, and a module cannot be unloaded), while the table kept here is a few
// dozen letters. The caller waits for the worker (Atomics.wait), so the function stays synchronous.
let smallCapitals: Map<string, string> | null = null;
const SMALL_CAPITAL_NAME = /^(?:LATIN|MODIFIER) (?:CAPITAL |SMALL )?(?:LETTER )?SMALL CAPITAL (?:LETTER )?([A-Z]{1,2})(?: WITH [A-Z ]+)?$/;

/** Runs in the worker: every [letter, capital] pair, read from `unicode-name` at `modulePath`. */
const SMALL_CAPITAL_WORKER = `
const { workerData } = require("node:worker_threads");
const state = new Int32Array(workerData.shared, 0, 2);
const bytes = new Uint8Array(workerData.shared, 8);
let out;
try {
  const { unicodeName } = require(workerData.modulePath);
  const name = new RegExp(workerData.pattern);
  const latin = /\\p{Script=Latin}/u;
  const pairs = [];
  for (let cp = 0x80; cp <= 0x1ffff; cp++) {
    if (cp >= 0xd800 && cp <= 0xdfff) continue;
    const ch = String.fromCodePoint(cp);
    if (!latin.test(ch)) continue;
    const m = name.exec(unicodeName(ch) ?? "");
    if (m) pairs.push([ch, m[1]]);
  }
  out = { pairs };
} catch (err) {
  out = { error: String(err && err.stack || err) };
}
let encoded = new TextEncoder().encode(JSON.stringify(out));
if (encoded.length > bytes.length) encoded = new TextEncoder().encode(JSON.stringify({ error: "result too large" }));
bytes.set(encoded);
state[1] = encoded.length;
Atomics.store(state, 0, 1);
Atomics.notify(state, 0);
`;

function smallCapitalTable(): Map<string, string> {
  if (smallCapitals) return smallCapitals;
  // Loaded here, not at the top: most users of this module never fold small capitals.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { Worker } = require("node:worker_threads") as typeof import("node:worker_threads");
  const shared = new SharedArrayBuffer(8 + 64 * 1024);
  const state = new Int32Array(shared, 0, 2);
  const worker = new Worker(SMALL_CAPITAL_WORKER, {
    eval: true,
    workerData: { shared, modulePath: require.resolve("unicode-name"), pattern: SMALL_CAPITAL_NAME.source },
    // The worker needs none of the parent's preloads or heap settings.
    execArgv: [],
    env: {},
    stdout: false,
    stderr: false,
  });
  worker.unref();
  const waited = Atomics.wait(state, 0, 0, 60_000);
  void worker.terminate();
  if (waited === "timed-out") throw new Error("reading Unicode names for small capitals timed out");
  const out = JSON.parse(new TextDecoder().decode(new Uint8Array(shared, 8, state[1]))) as { pairs?: [string, string][]; error?: string };
  if (!out.pairs) throw new Error(`reading Unicode names for small capitals failed: ${out.error}`);
  smallCapitals = new Map(out.pairs);
  return smallCapitals;
}

/** Replaces each small-capital letter by the capital it stands for ("ᴋᴏʀᴠᴀʟᴇx" → "KORVALEx"). */
export function foldSmallCapitals(value: string): string {
  const table = smallCapitalTable();
  let out = "";
  for (const ch of value) out += table.get(ch) ?? ch;
  return out;
}
