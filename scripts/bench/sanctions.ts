/**
 * Sanctions screening: detection of look-alike spellings against false positives on real names.
 *
 *   npm run bench -- --only sanctions [--list FILE[,FILE…]] [--no-doc]
 *
 * 1. Loads each list (default: the two shipped samples, services/data/sanctions/) and prepares it
 *    as the service does, at the default thresholds (0.90 match, 0.80 review).
 * 2. Detection: every name of every entry (low-quality aliases aside, which the screen only ever
 *    reviews) is rewritten in each kind of look-alike spelling of test/support/lookalike-variants.ts
 *    and screened; a variant is "matched" when the screen fails it as that entry, "flagged" when it
 *    at least reviews it.
 * 3. False positives: the real company names of test/fixtures/company-names.txt are screened; any
 *    result (fail or review) is a false positive, since none of them is on any shipped list.
 * 4. Prints both tables and rewrites the `sanctions` section of docs/BENCHMARKS.md (unless --no-doc).
 * A script, never a test: it asserts nothing; the tests pin behaviour, this reports rates.
 */
import { join } from "node:path";
import { PROJECT_ROOT } from "../../platform/project-root";
import { formatInt, machineDescription, markdownTable, writeBenchmarkSection } from "../lib/bench-doc";
import { loadSanctionsList } from "../../services/src/compliance/sanctions/sanctions-list";
import { PreparedSanctionsList, type SanctionsMatch } from "../../services/src/compliance/sanctions/sanctions-screener";
import { ALL_KINDS, CONFUSABLE_KINDS, realCompanyNames, variant, type VariantKind } from "../../test/support/lookalike-variants";
import { commandLine, loadNote, machineBusy, nowSeconds } from "./common";

const ROOT = PROJECT_ROOT;
const DEFAULT_LISTS = ["services/data/sanctions/un-consolidated-sample.xml", "services/data/sanctions/ofac-sdn-sample.csv"];
const THRESHOLDS = { match: 0.9, review: 0.8 };

interface Tally {
  variants: number;
  matched: number;
  flagged: number;
  missed: string[];
}

const pct = (n: number, d: number) => (d === 0 ? "—" : `${((100 * n) / d).toFixed(1)} %`);

function percentile(sorted: number[], p: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] : 0;
}

export async function benchSanctions(flags: Map<string, string>): Promise<void> {
  const files = (flags.get("list")?.split(",") ?? DEFAULT_LISTS).map((f) => (f.startsWith("/") ? f : join(ROOT, f)));
  const busy = await machineBusy(1_000);
  const started = new Date();
  const names = realCompanyNames();

  const byKind = new Map<VariantKind, Tally>(ALL_KINDS.map((k) => [k, { variants: 0, matched: 0, flagged: 0, missed: [] }]));
  const fpRows: string[][] = [];
  const listRows: string[][] = [];
  const falsePositives: string[] = [];
  const timings: number[] = [];
  let fpAny = 0;
  let fpFail = 0;

  for (const file of files) {
    const t0 = nowSeconds();
    const list = new PreparedSanctionsList(loadSanctionsList(file), THRESHOLDS);
    const prepSeconds = nowSeconds() - t0;
    // One screening before the clock: the first one loads the Unicode data the look-alike form reads.
    list.screen("warm-up");
    const listedNames = list.list.entries.reduce((n, e) => n + e.names.length, 0);
    listRows.push([list.list.source, list.list.format, formatInt(list.entryCount), formatInt(listedNames), `${(prepSeconds * 1000).toFixed(0)} ms`]);

    for (const entry of list.list.entries) {
      for (const name of entry.names) {
        if (name.lowQuality) continue;
        for (const kind of ALL_KINDS) {
          const v = variant(name.name, kind);
          if (v === null) continue;
          const t = byKind.get(kind)!;
          t.variants++;
          const hit = list.screen(v).find((m) => m.reference === entry.reference);
          if (hit?.result === "fail") t.matched++;
          if (hit) t.flagged++;
          else t.missed.push(`${JSON.stringify(v)} (${list.list.source} ${entry.reference})`);
        }
      }
    }

    let fails = 0;
    let reviews = 0;
    for (const n of names) {
      const s = nowSeconds();
      const found: SanctionsMatch[] = list.screen(n);
      timings.push((nowSeconds() - s) * 1000);
      if (!found.length) continue;
      if (found[0].result === "fail") fails++;
      else reviews++;
      falsePositives.push(`${JSON.stringify(n)} → ${found[0].result} ${found[0].reference} "${found[0].matchedName}" ${found[0].score}`);
    }
    fpAny += fails + reviews;
    fpFail += fails;
    fpRows.push([list.list.source, formatInt(names.length), formatInt(fails), formatInt(reviews), pct(fails + reviews, names.length)]);
  }

  const sum = (kinds: readonly VariantKind[], f: (t: Tally) => number) => kinds.reduce((n, k) => n + f(byKind.get(k)!), 0);
  const kindRows = ALL_KINDS.map((k) => {
    const t = byKind.get(k)!;
    return [k, formatInt(t.variants), `${formatInt(t.matched)} (${pct(t.matched, t.variants)})`, `${formatInt(t.flagged)} (${pct(t.flagged, t.variants)})`, formatInt(t.variants - t.flagged)];
  });
  const confVariants = sum(CONFUSABLE_KINDS, (t) => t.variants);
  const confMatched = sum(CONFUSABLE_KINDS, (t) => t.matched);
  const confFlagged = sum(CONFUSABLE_KINDS, (t) => t.flagged);
  const allVariants = sum(ALL_KINDS, (t) => t.variants);
  const allMatched = sum(ALL_KINDS, (t) => t.matched);
  const allFlagged = sum(ALL_KINDS, (t) => t.flagged);
  kindRows.push(
    ["**confusable kinds together**", formatInt(confVariants), `${formatInt(confMatched)} (${pct(confMatched, confVariants)})`, `${formatInt(confFlagged)} (${pct(confFlagged, confVariants)})`, formatInt(confVariants - confFlagged)],
    ["**every kind**", formatInt(allVariants), `${formatInt(allMatched)} (${pct(allMatched, allVariants)})`, `${formatInt(allFlagged)} (${pct(allFlagged, allVariants)})`, formatInt(allVariants - allFlagged)],
  );
  const screenings = names.length * files.length;
  const among = lookalikeOnlyAmongRealNames(names);
  const sorted = [...timings].sort((a, b) => a - b);

  const kindTable = markdownTable(["look-alike kind", "variants", "matched (fail)", "flagged (fail or review)", "missed"], kindRows, ["l", "r", "r", "r", "r"]);
  const fpTable = markdownTable(["list", "real names", "fail", "review", "false-positive rate"], fpRows, ["l", "r", "r", "r", "r"]);
  const listTable = markdownTable(["list", "format", "entries", "names and aliases", "prepared in"], listRows, ["l", "l", "r", "r", "r"]);
  const detection = pct(confMatched, confVariants);
  const fpRate = pct(fpAny, screenings);
  console.log(listTable);
  console.log(kindTable);
  console.log(fpTable);
  console.log(`detection (confusable kinds, matched): ${detection}; false positives: ${fpRate} of ${screenings} screenings (${fpFail} fail)`);
  for (const f of falsePositives) console.log(`  false positive: ${f}`);
  console.log(`real names against each other: ${among.plain} results from spelling, ${among.lookalike.length} more from the look-alike reading`);
  for (const f of among.lookalike) console.log(`  look-alike only: ${f}`);

  if (flags.has("no-doc")) return;
  const missed = ALL_KINDS.flatMap((k) => byKind.get(k)!.missed.map((m) => `${k}: ${m}`));
  const body = [
    "## Sanctions screening: look-alikes against real names",
    "",
    "Written by `scripts/bench/sanctions.ts`. Each list is prepared as the service prepares it, at the default",
    `thresholds (${THRESHOLDS.match.toFixed(2)} match, ${THRESHOLDS.review.toFixed(2)} review). **Detection**: every name and alias of every entry`,
    "(low-quality aliases aside: the screen only ever reviews those) is rewritten in each kind of look-alike",
    "spelling of `test/support/lookalike-variants.ts` (substitutions taken from Unicode's confusables and",
    "character names) and screened; *matched* means the screen fails it as that entry, *flagged* that it at",
    "least sends it to review. **False positives**: the real company names of `test/fixtures/company-names.txt`",
    `(${formatInt(names.length)} names: Chinese and international banks, manufacturers, shippers and traders, in Latin, Han,`,
    "Cyrillic, Greek, Hebrew, Arabic, Japanese and Korean writing), none of them listed, are screened; any",
    "result is a false positive.",
    "",
    `- Date: ${started.toISOString()}`,
    `- Machine: ${machineDescription()}`,
    `- Command: \`${commandLine("sanctions", flags.has("list") ? { list: flags.get("list")! } : {})}\``,
    `- ${loadNote(busy)}`,
    "",
    listTable,
    "",
    `**Detection rate ${detection}** (confusable kinds, matched) against **false-positive rate ${fpRate}**`,
    `(${formatInt(fpAny)} of ${formatInt(screenings)} screenings of real names raised anything, ${formatInt(fpFail)} as a match).`,
    "",
    kindTable,
    "",
    fpTable,
    "",
    `Screening time per real name: mean ${(timings.reduce((a, b) => a + b, 0) / Math.max(1, timings.length)).toFixed(2)} ms,`,
    `p95 ${percentile(sorted, 95).toFixed(2)} ms, max ${percentile(sorted, 100).toFixed(2)} ms.`,
    "",
    "**The look-alike reading among real names.** The shipped lists are too small to show what the",
    "look-alike reading costs, so the real names are also screened against each other (a list of the",
    `${formatInt(names.length)} names, each screened against all the others): spelling alone gives ${formatInt(among.plain)} results (a pair`,
    "can count from both sides: the same company under two names, sister companies sharing a name); the",
    `look-alike reading (I read as l, 0 as O, confusable letters, digits read as letters) adds ${formatInt(among.lookalike.length)}${among.lookalike.length ? ":" : "."}`,
    ...among.lookalike.map((m) => `- ${m}`),
    "",
    "Digits that the confusables table does not read as letters (3, 4, 5, 7, 8) are read against the list's",
    "own words, as a guess that is only ever reviewed, hence *flagged* rather than *matched* in that row.",
    `Variants of any kind that nothing flagged in this run${missed.length ? ":" : ": none."}`,
    ...missed.map((m) => `- ${m}`),
    "",
    "The shipped lists are small and invented, so few real names can come near them; against the real UN",
    "list the false-positive rate is measured by rerunning with `--list data/sanctions/consolidated.xml` where",
    "it is installed (services/src/compliance/README.md says how to fetch it).",
  ].join("\n");
  writeBenchmarkSection("sanctions", body);
  console.log("sanctions: docs/BENCHMARKS.md section `sanctions` rewritten");
}

/**
 * Screens every real name against a list made of the others and counts the results, separating
 * those that only the look-alike reading produced (a match marked `lookalike`, or a review from
 * digits read as letters): what the folding adds to ordinary spelling similarity among real names.
 */
function lookalikeOnlyAmongRealNames(names: string[]): { plain: number; lookalike: string[] } {
  const list = new PreparedSanctionsList(
    {
      format: "un-xml",
      source: "company-names.txt",
      generatedAt: null,
      entries: names.map((n, i) => ({ reference: String(i), type: "entity", primaryName: n, names: [{ name: n, kind: "primary", lowQuality: false }], programme: null })),
    },
    THRESHOLDS,
  );
  let plain = 0;
  const lookalike: string[] = [];
  names.forEach((n, i) => {
    for (const m of list.screen(n)) {
      if (m.reference === String(i)) continue;
      if (m.lookalike) lookalike.push(`${JSON.stringify(n)} → ${m.result} "${m.matchedName}" ${m.score}`);
      else plain++;
    }
  });
  return { plain, lookalike };
}
