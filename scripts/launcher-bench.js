#!/usr/bin/env node
/**
 * What the build check of platform/compiled.js costs every `npm start`, CLI call and benchmark:
 * this tree's compiled.js against a baseline version of it from git (default: the commit before
 * the stat-first check), in the same run, alternating, on this tree's sources and build stamp.
 *
 *   node scripts/launcher-bench.js [--base REV] [--runs N] [--write]
 *
 * Per run and version: `staleness()` timed (wall and CPU) inside a fresh node process, and the wall time of the
 * whole process (`node -e` loading compiled.js and checking the build, as the CLI's launcher does).
 * Prints medians and the machine's load; --write puts the section into docs/BENCHMARKS.md.
 * Needs a current build (`npm run build`): a stale one is hashed through by both versions.
 */
"use strict";
/* eslint-disable @typescript-eslint/no-require-imports */
const { execFileSync, spawnSync } = require("node:child_process");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");

const ROOT = path.join(__dirname, "..");
const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const BASE = arg("--base", "f2271bc");
const RUNS = Number(arg("--runs", "20"));

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

// compiled.js finds the project as its parent folder: the baseline copy sits in a folder of the root.
const tmp = fs.mkdtempSync(path.join(ROOT, ".launcher-bench-"));
try {
  fs.writeFileSync(path.join(tmp, "compiled.js"), execFileSync("git", ["show", `${BASE}:platform/compiled.js`], { cwd: ROOT }));
  const versions = { [`baseline (${BASE})`]: path.join(tmp, "compiled.js"), "this tree": path.join(ROOT, "platform", "compiled.js") };
  const probe = (file) =>
    `const m=require(${JSON.stringify(file)});const c=process.cpuUsage();const t=process.hrtime.bigint();const w=m.staleness();` +
    "const u=process.cpuUsage(c);" +
    "process.stdout.write(JSON.stringify({ms:Number(process.hrtime.bigint()-t)/1e6,cpu:(u.user+u.system)/1e3,stale:w}))";
  const ms = Object.fromEntries(Object.keys(versions).map((v) => [v, { check: [], cpu: [], wall: [] }]));
  const loadBefore = os.loadavg()[0];
  for (let i = 0; i < RUNS; i++) {
    for (const [name, file] of Object.entries(versions)) {
      const started = process.hrtime.bigint();
      const r = spawnSync(process.execPath, ["-e", probe(file)], { cwd: ROOT, encoding: "utf8" });
      const wall = Number(process.hrtime.bigint() - started) / 1e6;
      if (r.status !== 0) throw new Error(`${name}: ${r.stderr}`);
      const out = JSON.parse(r.stdout);
      if (out.stale) throw new Error(`${name}: the build is stale (${out.stale}); run npm run build first`);
      ms[name].check.push(out.ms);
      ms[name].cpu.push(out.cpu);
      ms[name].wall.push(wall);
    }
  }
  const loadAfter = os.loadavg()[0];
  const stamp = JSON.parse(fs.readFileSync(path.join(ROOT, "dist", "build-stamp.json"), "utf8"));
  const files = Object.keys(stamp.inputs).length;
  const rows = Object.entries(ms).map(([name, m]) => `| ${name} | ${median(m.check).toFixed(1)} | ${median(m.cpu).toFixed(1)} | ${median(m.wall).toFixed(1)} |`);
  const [base, ours] = Object.values(ms).map((m) => median(m.check));
  const [baseCpu, oursCpu] = Object.values(ms).map((m) => median(m.cpu));
  const section = [
    "<!-- launcher:start -->",
    "## Build check of the compiled launcher",
    "",
    `What platform/compiled.js spends checking that dist/ matches its ${files} input files before every \`npm start\`,`,
    "CLI call and benchmark. The baseline hashes every input each time; this tree stats them and hashes only",
    "files whose size, mtime or ctime differ from the build stamp (or were stamped within 2 s of it).",
    `Medians of ${RUNS} runs each, alternating, in fresh node processes; milliseconds.`,
    "",
    "| version | staleness() wall | staleness() CPU (user+sys) | whole `node -e` process wall |",
    "|---|--:|--:|--:|",
    ...rows,
    "",
    `Check ${(base / ours).toFixed(1)}× faster in wall time, ${(baseCpu / oursCpu).toFixed(1)}× less CPU. Load average ${loadBefore.toFixed(1)} before, ${loadAfter.toFixed(1)} after, on ${os.cpus().length} cores`,
    "shared with other engineers' builds, tests and benchmarks: absolute figures are noisy, the same-run ratio less so.",
    "",
    `Command: \`npm run build && node scripts/launcher-bench.js --base ${BASE} --runs ${RUNS} --write\``,
    "<!-- launcher:end -->",
  ].join("\n");
  process.stdout.write(section + "\n");
  if (process.argv.includes("--write")) {
    const doc = path.join(ROOT, "docs", "BENCHMARKS.md");
    const text = fs.readFileSync(doc, "utf8");
    const re = /<!-- launcher:start -->[\s\S]*<!-- launcher:end -->/;
    fs.writeFileSync(doc, re.test(text) ? text.replace(re, section) : `${text.trimEnd()}\n\n${section}\n`);
  }
} finally {
  fs.rmSync(tmp, { recursive: true, force: true });
}
