/**
 * Shared helpers of the benchmark scripts: number formatting, padded Markdown tables, a one-line
 * description of the machine, and the writer of docs/BENCHMARKS.md. Each benchmark owns one section
 * of that file, fenced by `<!-- <key>:start -->` and `<!-- <key>:end -->`, and rewrites only its own
 * section, so the sections written by other benchmark scripts survive every run.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, totalmem, type as osType, release as osRelease, arch as osArch } from "node:os";
import { dirname, join } from "node:path";
import { PROJECT_ROOT } from "../../platform/project-root";

export const BENCHMARKS_FILE = join(PROJECT_ROOT, "docs", "BENCHMARKS.md");

const HEADER = [
  "# Benchmarks",
  "",
  "Measured numbers of the ledger, each section written by the script named in it. Re-run a script",
  "to refresh its section; the other sections are left as they are.",
  "",
].join("\n");

/** 1234567 → "1,234,567". */
export function formatInt(n: bigint | number): string {
  const s = (typeof n === "bigint" ? n : BigInt(Math.round(n))).toString();
  const neg = s.startsWith("-");
  const digits = neg ? s.slice(1) : s;
  return (neg ? "-" : "") + digits.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

/** Column alignment of {@link markdownTable}: left or right. */
export type Align = "l" | "r";

/** A Markdown table with padded columns, readable both as plain text and rendered. */
export function markdownTable(headers: string[], rows: string[][], align: Align[] = []): string {
  const widths = headers.map((h, i) => Math.max(h.length, 3, ...rows.map((r) => (r[i] ?? "").length)));
  const pad = (cell: string, i: number) =>
    align[i] === "r" ? cell.padStart(widths[i]) : cell.padEnd(widths[i]);
  const line = (cells: string[]) => `| ${cells.map((c, i) => pad(c, i)).join(" | ")} |`;
  const rule = `|${widths.map((w, i) => (align[i] === "r" ? `${"-".repeat(w + 1)}:` : `${"-".repeat(w + 2)}`)).join("|")}|`;
  return [line(headers), rule, ...rows.map((r) => line(headers.map((_, i) => r[i] ?? "")))].join("\n");
}

/** "linux 6.8.0 x64, 2 cores (Intel Xeon …), 23.4 GiB RAM". */
export function machineDescription(): string {
  const cores = cpus();
  const model = cores[0]?.model.trim().replace(/\s+/g, " ") ?? "unknown CPU";
  const gib = (totalmem() / 2 ** 30).toFixed(1);
  return `${osType().toLowerCase()} ${osRelease()} ${osArch()}, ${cores.length} cores (${model}), ${gib} GiB RAM`;
}

/**
 * Replaces the section `key` of the benchmarks file with `body` (markers kept). Creates the file
 * with a short header when missing, and appends the section when the file has no markers for it.
 */
export function writeBenchmarkSection(key: string, body: string, file: string = BENCHMARKS_FILE): void {
  const start = `<!-- ${key}:start -->`;
  const end = `<!-- ${key}:end -->`;
  const section = `${start}\n${body.trim()}\n${end}`;
  const current = existsSync(file) ? readFileSync(file, "utf8") : HEADER;
  const from = current.indexOf(start);
  const to = current.indexOf(end, from);
  let next: string;
  if (from !== -1 && to !== -1) {
    next = current.slice(0, from) + section + current.slice(to + end.length);
  } else if (from !== -1 || current.includes(end)) {
    throw new Error(`${file}: unbalanced markers for section "${key}"; fix them by hand before re-running`);
  } else {
    next = `${current.replace(/\s*$/, "")}\n\n${section}\n`;
  }
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, next);
}
