/**
 * The documentation's CLI walkthrough, run as written: the commands between the
 * `<!-- cli-walkthrough:start -->` and `<!-- cli-walkthrough:end -->` markers of README.md, then of
 * cli/README.md, each file's block one bash script (`set -euo pipefail`: the first command that
 * fails stops it), against a real `npm start` platform (the launcher as package.json runs it, a
 * temporary DATA_DIR, free ports) with the demo keys it created. Also: the start banner's own lines
 * for the CLI work as printed.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { freePort } from "../support/chain";
import { npmScriptArgs } from "../support/process";

const ROOT = join(__dirname, "..", "..");
const START = npmScriptArgs("start");

/** The bash block between the walkthrough markers of a Markdown file. */
function walkthrough(file: string): string {
  const text = readFileSync(join(ROOT, file), "utf8");
  const m = /<!-- cli-walkthrough:start -->\s*```bash\n([\s\S]*?)```\s*<!-- cli-walkthrough:end -->/.exec(text);
  if (!m) throw new Error(`${file} has no marked CLI walkthrough`);
  return m[1];
}

function bash(script: string, env: Record<string, string>): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn("bash", ["-c", `set -euo pipefail\nset -x\n${script}`], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr!.on("data", (d: Buffer) => (out += d.toString()));
    child.on("exit", (code) => resolve({ code, out }));
  });
}

describe("The README's CLI walkthrough, run as written against npm start", function () {
  this.timeout(600_000);
  let dir: string;
  let platform: ChildProcess | null = null;
  let banner = "";
  let env: Record<string, string>;

  before(async function () {
    dir = mkdtempSync(join(tmpdir(), "scf-walkthrough-"));
    const [port, chainPort] = [await freePort(), await freePort()];
    const url = `http://127.0.0.1:${port}`;
    const dataDir = join(dir, "data");
    platform = spawn(process.execPath, START, {
      cwd: ROOT,
      env: { ...process.env, DATA_DIR: dataDir, PORT: String(port), CHAIN_PORT: String(chainPort), LOG_LEVEL: "warn", RPC_URL: "", DATABASE_URL: "" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    platform.stdout!.on("data", (d: Buffer) => (banner += d.toString()));
    platform.stderr!.on("data", (d: Buffer) => (banner += d.toString()));
    const until = Date.now() + 120_000;
    while (!/Ctrl-C stops the service/.test(banner)) {
      if (platform.exitCode !== null) throw new Error(`npm start exited with ${platform.exitCode}:\n${banner}`);
      if (Date.now() > until) throw new Error(`npm start did not come up:\n${banner}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    // What a user's shell would hold: the platform's URL and data directory, and a home of its own.
    env = { SCF_URL: url, DATA_DIR: dataDir, SCF_HOME: join(dir, "scf-home"), SCF_KEY: "", SCF_KEYS_DIR: "", SCF_PASSWORD: "" };
  });
  after(async function () {
    if (platform && platform.exitCode === null && platform.signalCode === null) {
      const exited = new Promise((r) => platform!.once("exit", r));
      platform.kill("SIGTERM");
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it("the start banner's CLI lines work as printed", async function () {
    const lines = banner.split("\n").map((l) => l.trim());
    const exportLine = lines.find((l) => l.startsWith("export SCF_URL="));
    const tryLine = lines.find((l) => l.startsWith("npx scf keys list"));
    expect(exportLine, banner).to.be.a("string");
    expect(tryLine, banner).to.be.a("string");
    const { code, out } = await bash(`${exportLine}\n${tryLine}`, { SCF_HOME: env.SCF_HOME });
    expect(code, out).to.equal(0);
    for (const k of ["officer", "buyer", "tier1", "tier2", "bank", "auditor"]) expect(out).to.match(new RegExp(`\\b${k}\\b.*0x[0-9a-fA-F]{40}`));
    expect(out).to.match(/compliance officer\s+yes/);
  });

  it("README.md: onboarding, lookups, the example CSV, acceptance, test money, financing, repayment, audit", async function () {
    // The example's dates are fixed; once its first due date is past it can no longer be imported as is.
    const dues = readFileSync(join(ROOT, "cli/examples/invoices.csv"), "utf8").trim().split("\n").slice(1).map((l) => l.split(",")[4].replace(/\//g, "-"));
    for (const due of dues) expect(Date.parse(due), `cli/examples/invoices.csv: due date ${due} has passed; move the example's dates forward`).to.be.above(Date.now() + 86_400_000);
    const { code, out } = await bash(walkthrough("README.md"), env);
    expect(code, out).to.equal(0);
    // Each applicant screened and submitted, then approved by its address.
    expect(out.match(/status\s+submitted/g), out).to.have.length(4);
    expect(out.match(/status\s+approved/g), out).to.have.length(4);
    // The buyer found by its tax id; the example CSV imported whole against the demo's members.
    expect(out, out).to.match(/Northwind Motor Group Co\., Ltd\.\s.*USCC 91330000MA2B000000/);
    expect(out, out).to.include("Confirmed on the ledger: 3 invoice(s), 195,750.50 yuan");
    expect(out.match(/faucet confirmed: 1,000,000\.00 yuan/g), out).to.have.length(2);
    for (const act of ["accept", "open_line", "request_financing", "approve_financing", "pay"]) expect(out, out).to.match(new RegExp(`\\n${act} confirmed`));
    expect(out, out).to.match(/Acme Components Co\., Ltd\.\s.*USCC 91330100MA2B3C4D5N/);
    expect(out, out).to.match(/status\s+paid/);
    expect(out, out).to.match(/OK: the service's records match the chain/);
  });

  it("cli/README.md: its walkthrough, after the README's", async function () {
    const { code, out } = await bash(walkthrough("cli/README.md"), env);
    expect(code, out).to.equal(0);
    expect(out, out).to.match(/Northwind Motor Group Co\., Ltd\./);
    expect(out, out).to.match(/\naccept confirmed/);
    // The second import of the same file signs nothing: its one batch is skipped.
    expect(out, out).to.match(/│ 3\s+│ 0\s+│ 0\s+│ 3\s+│/);
  });
});
