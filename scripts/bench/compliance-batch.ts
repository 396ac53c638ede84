/**
 * The CPU of the compliance step of one 200-invoice tokenise act, on its own: ComplianceService's
 * checkInvoices as the unsigned POST runs it (a preview; the seller's book is all on one debtor, so
 * every run asks for review and is kept: 1,800 rows) and then as the signed POST runs it (every run
 * stored: 1,800 rows more), on a SQLite file migrated as at boot, in a fresh process per build.
 * `--roots A,B` measures the compiled builds (dist/) of other worktrees in turn, `--rounds` times,
 * for an A/B that alternates under the same load; without it, this worktree's build.
 *
 *   npm run bench -- --only compliance-batch --batches 40 --rounds 2 [--roots /path/a,/path/b]
 */
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { intFlag } from "./common";

/** Runs in the child (plain JavaScript, `node -e`): the modules of the build under ROOT. */
const CHILD = String.raw`
const [root, batches] = [process.env.BENCH_ROOT, Number(process.env.BENCH_BATCHES)];
const r = (p) => require(root + "/dist/" + p);
const { ComplianceRecords } = r("services/src/compliance/compliance.records.js");
const { ComplianceService } = r("services/src/compliance/compliance.service.js");
const { ComplianceCheckEntity } = r("services/src/compliance/entities/compliance-check.entity.js");
const { SanctionsScreener } = r("services/src/compliance/sanctions/sanctions-screener.js");
const { loadConfig } = r("services/src/config/env.js");
const { openDatabase } = r("services/src/database/data-source.js");
const { DbWriter } = r("services/src/database/db-writer.js");
const { ReceivableEntity } = r("services/src/read-model/entities/projections.entity.js");
const fs = require("node:fs");
(async () => {
  const dir = fs.mkdtempSync(require("node:os").tmpdir() + "/compliance-batch-");
  const config = loadConfig({ NODE_ENV: "test", LOG_LEVEL: "error", DATABASE_URL: "sqlite:" + dir + "/l.sqlite", ALLOWED_JURISDICTIONS: "CN" }, root);
  const ds = await openDatabase(config.database);
  const screener = new SanctionsScreener(config);
  screener.onModuleInit();
  const svc = new ComplianceService(config, screener, new ComplianceRecords(ds.getRepository(ComplianceCheckEntity)), new DbWriter(ds));
  const seller = "0x" + "5e".repeat(20), debtor = "0x" + "de".repeat(20);
  const now = new Date("2030-06-01T00:00:00Z"), day = 86400000;
  await ds.getRepository(ReceivableEntity).insert({ id: "0x" + "ab".repeat(32), seller, debtor, holder: seller, faceValue: 10n ** 12n,
    outstanding: 10n ** 12n, dueDate: Math.floor(now.getTime() / 1000) + 60 * 86400, status: "accepted", financed: false, parentId: null,
    documentHash: null, createdBlock: 1, createdTx: "0x" + "11".repeat(32), updatedBlock: 1 });
  let n = 0;
  const cpu = [];
  for (let b = 0; b < batches + 5; b++) {
    const batch = Array.from({ length: 200 }, () => ({ subjectId: "inv-" + ++n, seller, debtor, faceValue: 123456789n,
      issueDate: new Date(now.getTime() - day), dueDate: new Date(now.getTime() + 90 * day), fingerprint: "0x" + (++n).toString(16).padStart(64, "0"), now }));
    const c0 = process.cpuUsage();
    const preview = await svc.checkInvoices(null, batch);
    await svc.checkInvoices(null, batch, { storePassing: true });
    const c = process.cpuUsage(c0);
    if (preview.some((run) => run.overall !== "review")) throw new Error("expected every preview run to ask for review (and be kept)");
    if (b >= 5) cpu.push((c.user + c.system) / 1000);
  }
  await ds.destroy();
  fs.rmSync(dir, { recursive: true, force: true });
  process.stdout.write(JSON.stringify(cpu) + "\n");
})().catch((e) => { console.error(e); process.exit(1); });
`;

const median = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1];

export async function benchComplianceBatch(flags: Map<string, string>): Promise<void> {
  const batches = intFlag(flags, "batches", 40);
  const rounds = intFlag(flags, "rounds", 1);
  const here = join(__dirname, "..", "..", "..");
  const roots = (flags.get("roots") ?? "").split(",").filter(Boolean);
  const runs = roots.length ? roots : [here];
  console.log(`compliance-batch: ${batches} acts of 200 invoices per build and round (5 more untimed first), ${rounds} round(s)`);
  const all = new Map<string, number[]>();
  for (let r = 0; r < rounds; r++) {
    for (const root of runs) {
      const out = execFileSync(process.execPath, ["-e", CHILD], {
        cwd: root,
        env: { ...process.env, BENCH_ROOT: root, BENCH_BATCHES: String(batches), NODE_OPTIONS: "" },
        encoding: "utf8",
        stdio: ["ignore", "pipe", "inherit"],
      });
      const cpu = JSON.parse(out.trim().split("\n").at(-1)!) as number[];
      all.set(root, [...(all.get(root) ?? []), ...cpu]);
      console.log(`${root}, round ${r + 1}: median ${median(cpu).toFixed(1)} ms of CPU per act (preview + stored)`);
    }
  }
  for (const [root, cpu] of all) {
    console.log(`compliance CPU per 200-invoice act, ${root}: median ${median(cpu).toFixed(1)} ms over ${cpu.length} acts`);
  }
  await Promise.resolve();
}
