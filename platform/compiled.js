#!/usr/bin/env node
/**
 * Runs the compiled JavaScript of the project's TypeScript, never the TypeScript itself:
 *
 *   node platform/compiled.js platform/start [args…]    runs dist/platform/start.js with args
 *   require("platform/compiled").load("cli/src/index")   the module exports of dist/cli/src/index.js
 *   node platform/compiled.js --stamp                    records the build (the last step of `npm run build`)
 *
 * `npm run build` (also run by `npm install`) compiles what tsconfig.build.json includes into
 * dist/, then records the SHA-256 of every input file in dist/build-stamp.json, with its size,
 * mtime and ctime. Before running anything the inputs are listed and stat()ed again; a file whose
 * size, mtime and ctime are those recorded keeps its recorded hash, any other is hashed again (as
 * git trusts its index). ctime cannot be set back by a program, so an edit that keeps the size and
 * restores the mtime is still seen; a file recorded less than RACY_MS before the stamp is hashed
 * every time, for file systems whose timestamps are too coarse to tell a later edit apart. So a
 * missing or stale build fails with the files that changed and the command that fixes it, instead
 * of running old code. A copy of dist/ without the sources beside it (no tsconfig.build.json) is
 * run as it is.
 *
 * Plain JavaScript on purpose: this file is what runs before any compiled code exists.
 */
"use strict";
/* eslint-disable @typescript-eslint/no-require-imports */
const crypto = require("node:crypto");
const fs = require("node:fs");
const path = require("node:path");

const ROOT = path.join(__dirname, "..");
const DIST = path.join(ROOT, "dist");
const STAMP = path.join(DIST, "build-stamp.json");
const BUILD_CONFIG = path.join(ROOT, "tsconfig.build.json");
const FIX = "run `npm run build` (it compiles the TypeScript into dist/; `npm install` runs it too)";

/** Timestamp granularity of the coarsest file systems (FAT: 2 s): nearer the stamp, a stat proves nothing. */
const RACY_MS = 2_000;

const DIRECTORY = { isFile: () => false, isDirectory: () => true };

/** Every file the build reads, relative to the root, with its stat (null: no sources here). */
function listInputs() {
  if (!fs.existsSync(BUILD_CONFIG)) return null;
  const config = JSON.parse(fs.readFileSync(BUILD_CONFIG, "utf8"));
  const excluded = new Set(config.exclude || []);
  const files = new Map();
  for (const rel of ["tsconfig.json", "tsconfig.build.json"]) files.set(rel, fs.statSync(path.join(ROOT, rel)));
  // Paths are joined by hand: path.join's normalising is most of the cost of a walk of cached stats.
  const walk = (rel, abs, st) => {
    if (st.isFile()) {
      if (rel.endsWith(".ts") && !excluded.has(rel)) files.set(rel, st);
      return;
    }
    if (!st.isDirectory()) return;
    for (const entry of fs.readdirSync(abs, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      if (entry.name === "node_modules") continue;
      // Only what may be an input is stat()ed: directories are walked, other files need a .ts name.
      if (!entry.isDirectory() && !entry.isSymbolicLink() && !entry.name.endsWith(".ts")) continue;
      const childAbs = abs + path.sep + entry.name;
      walk(rel === "." ? entry.name : `${rel}/${entry.name}`, childAbs, entry.isDirectory() ? DIRECTORY : fs.statSync(childAbs));
    }
  };
  for (const dir of config.include) {
    const rel = path.posix.normalize(dir).replace(/\/+$/, "");
    const abs = path.join(ROOT, rel);
    if (fs.existsSync(abs)) walk(rel, abs, fs.statSync(abs));
  }
  return files;
}

const statOf = (st) => [st.size, st.mtimeMs, st.ctimeMs];
const sha256 = (rel) => crypto.createHash("sha256").update(fs.readFileSync(path.join(ROOT, rel))).digest("hex");

/**
 * The SHA-256 and stat of every input. `stamp` (the last build's record) lends its hash to a file
 * whose size, mtime and ctime are unchanged since it was recorded, at least RACY_MS before it.
 */
function hashInputs(stamp) {
  const files = listInputs();
  if (files === null) return null;
  const known = (stamp && stamp.inputs) || {};
  const stats = (stamp && stamp.stats) || {};
  const stampedAt = (stamp && stamp.stampedAt) || 0;
  const inputs = {};
  const recorded = {};
  for (const [rel, st] of files) {
    const now = statOf(st);
    const was = stats[rel];
    const same = was && known[rel] && was[0] === now[0] && was[1] === now[1] && was[2] === now[2] && now[1] < stampedAt - RACY_MS && now[2] < stampedAt - RACY_MS;
    inputs[rel] = same ? known[rel] : sha256(rel);
    recorded[rel] = now;
  }
  return { inputs, stats: recorded };
}

/** Why dist/ cannot be run as it is, or null when it matches the sources. */
function staleness() {
  if (!fs.existsSync(BUILD_CONFIG)) return null;
  if (!fs.existsSync(STAMP)) return `the compiled runtime is missing (no ${path.relative(process.cwd(), STAMP) || STAMP})`;
  const stamp = JSON.parse(fs.readFileSync(STAMP, "utf8"));
  const now = hashInputs(stamp).inputs;
  const built = stamp.inputs || {};
  const changed = [];
  for (const [file, hash] of Object.entries(now)) if (built[file] !== hash) changed.push(built[file] ? `${file} (changed)` : `${file} (new)`);
  for (const file of Object.keys(built)) if (!(file in now)) changed.push(`${file} (removed)`);
  if (changed.length === 0) return null;
  const shown = changed.slice(0, 5).join(", ") + (changed.length > 5 ? `, and ${changed.length - 5} more` : "");
  return `the compiled runtime in dist/ is stale: ${changed.length} source file(s) differ from the last build: ${shown}`;
}

/**
 * The exports of the compiled `entry` (a path like "cli/src/index", relative to the root, no
 * extension); exits with the reason if the build is missing or stale. `run = false` only checks.
 */
function load(entry, run = true) {
  const why = staleness();
  if (why !== null) {
    process.stderr.write(`${why}.\nTo fix it: ${FIX}.\n`);
    process.exit(1);
  }
  const file = path.join(DIST, `${entry.replace(/\.(ts|js)$/, "")}.js`);
  if (!fs.existsSync(file)) {
    process.stderr.write(`${path.relative(ROOT, file)} is not in the build (is ${entry}.ts included by tsconfig.build.json?).\nTo fix it: ${FIX}.\n`);
    process.exit(1);
  }
  return run ? require(file) : undefined;
}

module.exports = { load, staleness };

if (require.main === module) {
  const [entry, ...args] = process.argv.slice(2);
  if (entry === "--stamp") {
    fs.mkdirSync(DIST, { recursive: true });
    // Stamped at the time taken before anything is read: a file changed after its stat is "racy".
    const stampedAt = Date.now();
    const { inputs, stats } = hashInputs(null) || { inputs: null, stats: null };
    fs.writeFileSync(STAMP, JSON.stringify({ builtAt: new Date(stampedAt).toISOString(), stampedAt, inputs, stats }, null, 1) + "\n");
  } else if (!entry || entry.startsWith("-")) {
    process.stderr.write("usage: node platform/compiled.js <entry, e.g. platform/start> [args…] | --stamp\n");
    process.exit(64);
  } else {
    load(entry, false);
    // The entry runs as the main module, with the command line it would see if started directly
    // (node <file> args…), so `require.main === module` holds in it.
    process.argv = [process.argv[0], path.join(DIST, `${entry}.js`), ...args];
    require("node:module").runMain();
  }
}
