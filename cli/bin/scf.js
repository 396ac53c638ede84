#!/usr/bin/env node
// The `scf` command. Runs the TypeScript sources in cli/src directly: each file is transpiled once
// (TypeScript transpileModule, no type checking) and the JavaScript cached under
// node_modules/.cache/scf-cli keyed by the source's hash, so later runs load no compiler at all
// and start in a few hundred milliseconds. SCF_TS_NODE=1 uses ts-node instead.
"use strict";
/* eslint-disable @typescript-eslint/no-require-imports */
const path = require("node:path");
const fs = require("node:fs");
const crypto = require("node:crypto");

// A closed pipe (scf … | head) is not an error.
process.stdout.on("error", (e) => {
  if (e.code === "EPIPE") process.exit(process.exitCode || 0);
  throw e;
});

const ROOT = path.join(__dirname, "..", "..");
if (process.env.SCF_TS_NODE) {
  process.env.TS_NODE_TRANSPILE_ONLY = "true";
  process.env.TS_NODE_PROJECT = process.env.TS_NODE_PROJECT || path.join(ROOT, "tsconfig.json");
  require("ts-node/register/transpile-only");
} else {
  // The CLI's own sources, and shared/: the ledger's facts it shares with the service (ids, roles,
  // money, EIP-712 types, the invoice fingerprint), so the CLI's checks never drift from the
  // service's. The CLI never loads the service's code.
  const SOURCES = [path.join(__dirname, "..", "src") + path.sep, path.join(ROOT, "shared") + path.sep];
  let cacheDir = path.join(ROOT, "node_modules", ".cache", "scf-cli");
  try {
    fs.mkdirSync(cacheDir, { recursive: true });
    fs.accessSync(cacheDir, fs.constants.W_OK);
  } catch {
    cacheDir = path.join(require("node:os").tmpdir(), `scf-cli-cache-${process.getuid ? process.getuid() : "u"}`);
    fs.mkdirSync(cacheDir, { recursive: true });
  }
  let ts = null;
  require.extensions[".ts"] = function (module, filename) {
    if (!SOURCES.some((dir) => filename.startsWith(dir))) throw new Error(`scf: unexpected TypeScript module ${filename}`);
    const source = fs.readFileSync(filename, "utf8");
    const key = crypto.createHash("sha256").update("v1\0" + filename + "\0" + source).digest("hex");
    const cached = path.join(cacheDir, key + ".js");
    let js;
    try {
      js = fs.readFileSync(cached, "utf8");
    } catch {
      ts = ts || require("typescript");
      js = ts.transpileModule(source, {
        fileName: filename,
        compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true, inlineSourceMap: false },
      }).outputText;
      const tmp = `${cached}.${process.pid}.tmp`;
      try {
        fs.writeFileSync(tmp, js);
        fs.renameSync(tmp, cached);
      } catch {
        /* a read-only cache only costs speed */
      }
    }
    module._compile(js, filename);
  };
}
void require("../src/index.ts").main();
