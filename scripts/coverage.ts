/**
 * `npm run coverage`: solidity-coverage over the contract suite, in a private copy of the project.
 *
 * solidity-coverage compiles instrumented contracts, and the typechain hook then rewrites
 * typechain-types/ with their bytecode (over the 24 KB contract size limit of a real node). Run in
 * the checkout, that would break every service, platform and CLI test that deploys the ledger at
 * the same time, and leave the checkout needing `hardhat clean && hardhat compile` afterwards. So the
 * sources are copied to a temporary directory (node_modules linked, build outputs left out), the
 * coverage run happens there, and only its report comes back into ./coverage. That lets
 * `npm test` run coverage beside the service suites, and this checkout's artifacts/ and
 * typechain-types/ are never touched.
 *
 * Arguments after `--` go to `hardhat coverage` (default: the whole contract suite).
 * PROPERTY_RUNS (default here 100) sets the property tests' runs, as before.
 */
import { spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative, sep } from "node:path";

const ROOT = join(__dirname, "..");
/** Generated or installed, not sources: never copied (node_modules is linked instead). */
const LEFT_OUT = new Set(["node_modules", ".git", "artifacts", "cache", "typechain-types", "dist", "coverage", "coverage.json", "data", "test-output", "deployments"]);

function main(): number {
  const work = mkdtempSync(join(tmpdir(), "scf-coverage-"));
  try {
    cpSync(ROOT, work, {
      recursive: true,
      filter: (src) => {
        const rel = relative(ROOT, src);
        if (rel === "") return true;
        const parts = rel.split(sep);
        // console/dist is the built web console; nothing else named dist is a source either.
        return !LEFT_OUT.has(parts[0]) && !parts.includes("dist") && !parts.includes("node_modules");
      },
    });
    symlinkSync(join(ROOT, "node_modules"), join(work, "node_modules"), "dir");

    const args = process.argv.slice(2);
    const run = spawnSync(join(ROOT, "node_modules", ".bin", "hardhat"), ["coverage", ...(args.length ? args : ["--testfiles", "test/contracts/*.test.ts"])], {
      cwd: work,
      stdio: "inherit",
      env: { ...process.env, PROPERTY_RUNS: process.env.PROPERTY_RUNS ?? "100" },
    });
    // The report comes back even when a test failed: it shows what ran.
    rmSync(join(ROOT, "coverage"), { recursive: true, force: true });
    try {
      cpSync(join(work, "coverage"), join(ROOT, "coverage"), { recursive: true });
      // The report names files by absolute path: point them at this checkout, not the copy.
      for (const file of readdirSync(join(ROOT, "coverage"))) {
        if (!/\.(info|json)$/.test(file)) continue;
        const path = join(ROOT, "coverage", file);
        writeFileSync(path, readFileSync(path, "utf8").split(work + sep).join(ROOT + sep));
      }
    } catch {
      console.error("coverage: the run left no report (see its output above)");
    }
    if (run.error) throw run.error;
    return run.status ?? 1;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

process.exit(main());
