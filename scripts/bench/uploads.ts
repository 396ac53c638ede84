/**
 * Memory of the service while non-members upload large KYC submissions at once: `--clients`
 * applicants (default 6) each post one application with a `--mb` MB document (default 100) at the
 * same moment, to the real service as its own OS process (compiled, uncapped heap, so the figure is the
 * upload path's, not the collector's). Prints the process's RSS before, its peak (VmHWM) and the
 * growth of DOCUMENTS_DIR, and rewrites the `uploads` section of docs/BENCHMARKS.md. Nothing
 * asserts.
 *   npm run bench -- --only uploads [--clients 6 --mb 100]
 */
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { Wallet } from "ethers";
import { cleanupEnv, prepareEnv } from "../../test/support/app";
import { signIn } from "../../test/support/auth";
import { startChain } from "../../test/support/chain";
import { freshUscc } from "../../test/support/entity-ids";
import { spawnService, type ServiceProcess } from "../../test/support/process";
import { formatInt, machineDescription, markdownTable, writeBenchmarkSection } from "../lib/bench-doc";
import { commandLine, intFlag, loadNote, machineBusy, mib, procMemory } from "./common";

function dirBytes(dir: string): number {
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) n += statSync(join(e.parentPath, e.name)).size;
  }
  return n;
}

export async function benchUploads(flags: Map<string, string>): Promise<void> {
  const clients = intFlag(flags, "clients", 6);
  const mb = intFlag(flags, "mb", 100);
  const size = mb * 1024 * 1024;
  const busy = await machineBusy();
  const chain = await startChain();
  const env = await prepareEnv(chain, {
    LOG_LEVEL: "error",
    KYC_JOB_INTERVAL_MS: "3600000",
    MAX_UPLOAD_BYTES: String(size + 1024),
    UPLOAD_APPLICANT_MAX_BYTES: String(size + 1024 * 1024),
  });
  let svc: ServiceProcess | null = null;
  try {
    svc = await spawnService(env.env);
    const pid = svc.child.pid!;
    const tokens = await Promise.all(Array.from({ length: clients }, () => signIn(svc!.url, Wallet.createRandom())));
    const document = new Blob([Buffer.alloc(size, 7)]);
    const before = procMemory(pid);
    const docsBefore = dirBytes(env.config.paths.documents);
    const t0 = Date.now();
    const started = new Date();
    const statuses = await Promise.all(
      tokens.map(async (token, i) => {
        const form = new FormData();
        form.set("legalName", `Upload Bench ${i} Co., Ltd.`);
        form.set("entityIdType", "USCC");
        form.set("entityId", freshUscc());
        form.set("jurisdiction", "CN");
        form.set("roles", "supplier");
        form.set("documents", document, `licence-${i}.pdf`);
        const res = await fetch(`${svc!.url}/onboarding/applications`, { method: "POST", headers: { Authorization: `Bearer ${token}` }, body: form });
        await res.text();
        return res.status;
      }),
    );
    const after = procMemory(pid);
    const seconds = (Date.now() - t0) / 1000;
    const grown = dirBytes(env.config.paths.documents) - docsBefore;
    console.log(
      `uploads: ${clients} concurrent applications of ${mib(size)} each in ${seconds.toFixed(1)} s, answers ${statuses.join(",")}; ` +
        `service RSS before ${mib(before.rss)}, peak ${mib(after.hwm)}, after ${mib(after.rss)}; documents folder +${mib(grown)}`,
    );
    writeBenchmarkSection(
      "uploads",
      [
        "## Memory under concurrent KYC uploads",
        "",
        `${started.toISOString()} on ${machineDescription()}; ${process.env.TEST_DATABASE === "postgres" ? "PostgreSQL" : "SQLite"}. ${loadNote(busy)}`,
        `Reproduce: \`${commandLine("uploads", { clients, mb })}\`.`,
        "",
        `${clients} applicants (non-members) each post one application with one ${mib(size)} document at the same moment, to the`,
        "service as its own process, compiled (dist/, as `npm start` runs it), with an uncapped heap. Uploads stream to a staging folder and are moved into the store",
        "only with an accepted application, so the upload path holds no file in memory. (The same script on the commit",
        "before streaming, 85226bd, where multer buffered every file in memory, under ts-node: RSS 255 MiB before, peak 1,150 MiB;",
        "the same script under ts-node on 2026-12-04, streaming: 250 MiB before, peak 286 MiB.)",
        "",
        markdownTable(
          ["answers", "seconds", "RSS before", "peak RSS (VmHWM)", "RSS after", "documents folder growth"],
          [[statuses.join(", "), seconds.toFixed(1), mib(before.rss), mib(after.hwm), mib(after.rss), `${formatInt(Math.round(grown / 2 ** 20))} MiB (identical bytes are stored once)`]],
          ["l", "r", "r", "r", "r", "r"],
        ),
      ].join("\n"),
    );
  } finally {
    await svc?.kill();
    await chain.stop();
    await cleanupEnv(env);
  }
}
