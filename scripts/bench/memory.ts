/**
 * Resident memory of the running platform: `npm start` (the launcher process runs the durable chain
 * and the service) on a fresh temporary DATA_DIR, read from /proc/<pid>/status at idle after boot,
 * after `npm run demo` has run against it, and at idle again. VmRSS is the resident set at that
 * moment; VmHWM its peak since the process started (boot included).
 *
 * The reference row was taken by the same procedure on commit 430d0e6, the last to run the
 * platform under ts-node (`ts-node --transpile-only scripts/start.ts`), so the two can be compared.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PROJECT_ROOT } from "../../platform/project-root";
import { freePort } from "../../test/support/chain";
import { npmScriptArgs } from "../../test/support/process";
import { machineDescription, markdownTable, writeBenchmarkSection } from "../lib/bench-doc";
import { commandLine, intFlag, loadNote, machineBusy, mib, procMemory } from "./common";

/** MiB measured on commit 430d0e6 under ts-node, by this procedure (idle wait 10 s). */
const TS_NODE_REFERENCE = { idle: 449, afterDemo: 481, idleAfter: 462, peak: 500, startSeconds: 6.1 };

function child(args: string[], env: Record<string, string>): { proc: ChildProcess; output(): string } {
  const proc = spawn(process.execPath, args, { cwd: PROJECT_ROOT, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  proc.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  proc.stderr!.on("data", (d: Buffer) => (out += d.toString()));
  return { proc, output: () => out };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function benchMemory(flags: Map<string, string>): Promise<void> {
  const idleMs = intFlag(flags, "idle-ms", 10_000);
  const busy = await machineBusy();
  const dir = mkdtempSync(join(tmpdir(), "scf-bench-memory-"));
  const [port, chainPort] = [await freePort(), await freePort()];
  const start = child(npmScriptArgs("start"), { DATA_DIR: dir, PORT: String(port), CHAIN_PORT: String(chainPort) });
  try {
    const t0 = Date.now();
    while (!start.output().includes("SCF ledger is running")) {
      if (start.proc.exitCode !== null) throw new Error(`npm start exited with ${start.proc.exitCode}:\n${start.output()}`);
      if (Date.now() - t0 > 180_000) throw new Error(`npm start did not start:\n${start.output()}`);
      await sleep(100);
    }
    const startSeconds = (Date.now() - t0) / 1000;
    const pid = start.proc.pid!;
    await sleep(idleMs);
    const idle = procMemory(pid);
    const demo = child([...npmScriptArgs("demo"), "--url", `http://127.0.0.1:${port}`, "--keys", join(dir, "demo-keys")], {});
    const demoCode = await new Promise<number | null>((r) => demo.proc.once("exit", r));
    if (demoCode !== 0) throw new Error(`the demo failed (exit ${demoCode}):\n${demo.output()}`);
    const afterDemo = procMemory(pid);
    await sleep(idleMs);
    const idleAfter = procMemory(pid);
    const MB = 1024 * 1024;
    const rows = [
      [
        "ts-node (`ts-node --transpile-only scripts/start.ts`, commit 430d0e6)",
        `${TS_NODE_REFERENCE.idle} MiB`,
        `${TS_NODE_REFERENCE.afterDemo} MiB`,
        `${TS_NODE_REFERENCE.idleAfter} MiB`,
        `${TS_NODE_REFERENCE.peak} MiB`,
        `${TS_NODE_REFERENCE.startSeconds.toFixed(1)} s`,
      ],
      [
        "compiled (`node platform/compiled.js platform/start`, this run)",
        mib(idle.rss),
        mib(afterDemo.rss),
        mib(idleAfter.rss),
        mib(idleAfter.hwm),
        `${startSeconds.toFixed(1)} s`,
      ],
    ];
    const saved = (a: number, b: number) => `${a - Math.round(b / MB)} MiB (${Math.round((100 * (a - b / MB)) / a)} %)`;
    const table = markdownTable(
      ["npm start runs", "idle after boot", "after the demo", "idle after the demo", "peak (VmHWM)", "ready in"],
      rows,
      ["l", "r", "r", "r", "r", "r"],
    );
    const body = [
      "## Memory of the running platform",
      "",
      "Resident memory of the `npm start` process (the durable chain and the service share it) on a fresh data",
      `directory: VmRSS at idle ${idleMs / 1000} s after the banner, right after \`npm run demo\` has run its ${demo.output().match(/All (\d+) steps/)?.[1] ?? "?"} steps`,
      `against it, and at idle ${idleMs / 1000} s later; VmHWM is the peak since the process started, boot included. "Ready in"`,
      "is launch to banner (SQLite, first start: keys, funding and deployment included).",
      "",
      table,
      "",
      `Compiled, the idle process is ${saved(TS_NODE_REFERENCE.idle, idle.rss)} smaller and its peak ${saved(TS_NODE_REFERENCE.peak, idleAfter.hwm)} lower:`,
      "the TypeScript compiler that ts-node loads, and the type information it keeps, are no longer in the process.",
      "",
      `Command: \`${commandLine("memory", {})}\`. ${loadNote(busy)}`,
      `Machine: ${machineDescription()}.`,
    ].join("\n");
    console.log(body);
    writeBenchmarkSection("memory", body);
  } finally {
    if (start.proc.exitCode === null && start.proc.signalCode === null) {
      const exited = new Promise((r) => start.proc.once("exit", r));
      start.proc.kill("SIGTERM");
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  }
}
