/** Tables for people, JSON for scripts, status lines on stderr. */
import { fenToYuan } from "../../../shared/money";

export function printJson(v: unknown): void {
  process.stdout.write(JSON.stringify(v, (_k, x) => (typeof x === "bigint" ? x.toString() : x), 2) + "\n");
}

export function table(head: string[], rows: Array<Array<string | number | null | undefined>>): void {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const Table = require("cli-table3") as typeof import("cli-table3");
  const t = new Table({ head, style: { head: [], border: [] } });
  for (const r of rows) t.push(r.map((c) => (c === null || c === undefined ? "" : String(c))));
  process.stdout.write(t.toString() + "\n");
}

/** Key/value listing of one record. */
export function record(fields: Array<[string, string | number | boolean | null | undefined]>): void {
  const w = Math.max(...fields.map(([k]) => k.length));
  for (const [k, v] of fields) process.stdout.write(`${k.padEnd(w)}  ${v === null || v === undefined ? "—" : String(v)}\n`);
}

/** Fen string to "1,250.50" (or "—" for null). */
export function yuan(fen: string | null | undefined): string {
  return fen === null || fen === undefined ? "—" : fenToYuan(fen);
}

export function short(hex: string | null | undefined, n = 10): string {
  if (!hex) return "—";
  return hex.length > n + 6 ? `${hex.slice(0, n)}…${hex.slice(-4)}` : hex;
}

export function day(iso: string | null | undefined): string {
  return iso ? iso.slice(0, 10) : "—";
}

/** A status line on stderr (suppressed with --json so stdout stays machine-readable, stderr quiet). */
export function status(json: boolean | undefined, line: string): void {
  if (!json) process.stderr.write(line + "\n");
}
