/**
 * `scf ledger …`: leaving the ledger with everything. `export` writes a member's records (or, for
 * auditors and compliance officers, the whole ledger's) as signed NDJSON files; `replay` loads a
 * whole-ledger export into a fresh deployment on another chain and reports every record reproduced
 * (docs/LEDGER-EXPORT.md).
 */
import { spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { api, type Opts } from "../lib/context";
import { CliError, EXIT } from "../lib/errors";
import { printJson, table } from "../lib/output";
import type { ExitFileName, ExitManifest } from "../../../shared/ledger-export-format";
import { PROJECT_ROOT } from "../../../platform/project-root";

export async function ledgerExport(o: Opts): Promise<number> {
  const fmt = await import("../../../shared/ledger-export-format");
  const res = await api(o).get<{ manifest: ExitManifest; signature: unknown; files: Record<ExitFileName, string> }>("/ledger/export", o.member ? { member: String(o.member) } : {});
  const out = String(o.out);
  mkdirSync(out, { recursive: true });
  for (const f of res.manifest.files) writeFileSync(join(out, f.name), res.files[f.name]);
  // The manifest last: a directory with a manifest is a whole export.
  writeFileSync(join(out, fmt.SIGNATURE_FILE), JSON.stringify(res.signature, null, 2) + "\n");
  writeFileSync(join(out, fmt.MANIFEST_FILE), fmt.canonicalJson(res.manifest));
  const check = fmt.verifyExitDir(out);
  if (!check.ok) throw new CliError(`The export written to ${out} does not check out; run it again:\n${check.problems.join("\n")}`, EXIT.UNREACHABLE);
  const m = res.manifest;
  if (o.json) printJson({ dir: out, manifest: { ...m, files: m.files.map(({ rowSha256: _, ...f }) => f) } });
  else {
    table(["file", "rows", "sha256"], m.files.map((f) => [f.name, f.rows, f.sha256]));
    const scope = m.scope.kind === "ledger" ? "the whole ledger" : `member ${m.scope.member}`;
    process.stdout.write(`Wrote the export of ${scope} at block ${m.block.number} to ${out}, signed by the operator ${m.ledger.operator}.\n`);
  }
  return EXIT.OK;
}

/**
 * Runs the replay exactly as `npm run ledger:replay` does (the compiled scripts/replay-ledger, through
 * platform/compiled.js, which refuses a missing or stale build): it deploys contracts and starts the
 * durable chain, which live outside the CLI. Its target comes from the environment (DATA_DIR, or
 * RPC_URL and the keystores).
 */
export async function ledgerReplay(o: Opts): Promise<number> {
  const root = PROJECT_ROOT;
  const args = [join(root, "platform", "compiled.js"), "scripts/replay-ledger", "--from", String(o.from)];
  if (o.operator) args.push("--operator", String(o.operator));
  const env = { ...process.env, ...(o.dataDir ? { DATA_DIR: String(o.dataDir) } : {}) };
  const code = await new Promise<number | null>((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: root, env, stdio: "inherit" });
    child.on("error", reject);
    child.on("exit", (c) => resolve(c));
  });
  return code === 0 ? EXIT.OK : EXIT.REFUSED;
}
