/**
 * Fails (exit 1) when contract coverage is below the agreed floor: 95% of lines, 90% of branches.
 * Reads coverage/coverage-summary.json written by `npm run coverage`.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";

const FLOOR = { lines: 95, branches: 90 } as const;

const summary = JSON.parse(readFileSync(join(__dirname, "..", "coverage", "coverage-summary.json"), "utf8")) as {
  total: Record<keyof typeof FLOOR | "statements" | "functions", { pct: number }>;
};
const t = summary.total;
console.log(
  `contract coverage: lines ${t.lines.pct}%, branches ${t.branches.pct}%, statements ${t.statements.pct}%, functions ${t.functions.pct}%`,
);
let ok = true;
for (const [k, min] of Object.entries(FLOOR) as Array<[keyof typeof FLOOR, number]>) {
  if (t[k].pct < min) {
    console.error(`coverage of ${k} is ${t[k].pct}%, below the floor of ${min}%`);
    ok = false;
  }
}
process.exit(ok ? 0 : 1);
