#!/usr/bin/env node
/**
 * Runs the compiled JavaScript of the project's TypeScript, never the TypeScript itself:
 *
 *   node platform/compiled.js platform/start [args…]    runs dist/platform/start.js with args
 *   require("platform/compiled").load("cli/src/index")   the module exports of dist/cli/src/index.js
 *   node platform/compiled.js --stamp                    records the build (the last step of `npm run build`)
 *
 * `npm run build` (also run by `npm install`) compiles what tsconfig.build.json includes into
 * dist/, then records the SHA-256 of every input file in dist/build-stamp.json. Before running
 * anything the inputs are hashed again (a few milliseconds), so a missing or stale build fails
 * with the files that changed and the command that fixes it, instead of running old code. A copy
 * of dist/ without the sources beside it (no tsconfig.build.json) is run as it is.
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

/** Every file the build reads, relative to the root, with its SHA-256 (null: no sources here). */
function hashInputs() {
  if (!fs.existsSync(BUILD_CONFIG)) return null;
  const config = JSON.parse(fs.readFileSync(BUILD_CONFIG, "utf8"));
  const excluded = new Set(config.exclude || []);
  const files = ["tsconfig.json", "tsconfig.build.json"];
  const walk = (rel) => {
    const abs = path.join(ROOT, rel);
    if (!fs.existsSync(abs)) return;
    if (fs.statSync(abs).isFile()) {
      if (rel.endsWith(".ts") && !excluded.has(rel)) files.push(rel);
      return;
    }
    for (const entry of fs.readdirSync(abs).sort()) {
      if (entry !== "node_modules") walk(path.posix.join(rel, entry));
    }
  };
  for (const dir of config.include) walk(dir);
  const inputs = {};
  for (const rel of files) inputs[rel] = crypto.createHash("sha256").update(fs.readFileSync(path.join(ROOT, rel))).digest("hex");
  return inputs;
}

/** Why dist/ cannot be run as it is, or null when it matches the sources. */
function staleness() {
  const now = hashInputs();
  if (now === null) return null;
  if (!fs.existsSync(STAMP)) return `the compiled runtime is missing (no ${path.relative(process.cwd(), STAMP) || STAMP})`;
  const built = JSON.parse(fs.readFileSync(STAMP, "utf8")).inputs || {};
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
    fs.writeFileSync(STAMP, JSON.stringify({ builtAt: new Date().toISOString(), inputs: hashInputs() }, null, 1) + "\n");
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
