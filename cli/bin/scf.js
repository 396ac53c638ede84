#!/usr/bin/env node
// The `scf` command: runs the compiled CLI (dist/cli/src, built by `npm run build`, which
// `npm install` runs). A missing or stale build is refused with the command that fixes it
// (platform/compiled.js), so the CLI never runs code older than its sources.
"use strict";
/* eslint-disable @typescript-eslint/no-require-imports */

// A closed pipe (scf … | head) is not an error.
process.stdout.on("error", (e) => {
  if (e.code === "EPIPE") process.exit(process.exitCode || 0);
  throw e;
});

void require("../../platform/compiled").load("cli/src/index").main();
