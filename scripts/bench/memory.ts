/**
 * Resident memory of the running platform, compiled against ts-node in the same run: `npm start`
 * (the launcher process runs the durable chain and the service) on a fresh temporary DATA_DIR,
 * once as `npm start` runs it (the compiled JavaScript in dist/) and once as it ran before the
 * compiled runtime (`ts-node --transpile-only platform/start.ts`, the same sources). Each is read
 * from /proc/<pid>/status at idle after boot, right after `npm run demo` has run against it, and at
 * idle again: VmRSS is the resident set at that moment, VmHWM its peak since the process started.
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

function child(args: string[], env: Record<string, string>): { proc: ChildProcess; output(): string } {
  const proc = spawn(process.execPath, args, { cwd: PROJECT_ROOT, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  proc.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  proc.stderr!.on("data", (d: Buffer) => (out += d.toString()));
  return { proc, output: () => out };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Sample {
  idle: { hwm: number; rss: number };
  afterDemo: { hwm: number; rss: number };
  idleAfter: { hwm: number; rss: number };
  /** Launch to banner, measured from outside (module loading included). */
  readySeconds: number;
  steps: string;
}

async function measure(args: string[], idleMs: number): Promise<Sample> {
  const dir = mkdtempSync(join(tmpdir(), "scf-bench-memory-"));
  const [port, chainPort] = [await freePort(), await freePort()];
  const t0 = Date.now();
  const start = child(args, { DATA_DIR: dir, PORT: String(port), CHAIN_PORT: String(chainPort) });
  try {
    while (!start.output().includes("SCF ledger is running")) {
      if (start.proc.exitCode !== null) throw new Error(`npm start exited with ${start.proc.exitCode}:\n${start.output()}`);
      if (Date.now() - t0 > 300_000) throw new Error(`npm start did not start:\n${start.output()}`);
      await sleep(50);
    }
    const readySeconds = (Date.now() - t0) / 1000;
    const pid = start.proc.pid!;
    await sleep(idleMs);
    const idle = procMemory(pid);
    const demo = child([...npmScriptArgs("demo"), "--url", `http://127.0.0.1:${port}`, "--keys", join(dir, "demo-keys")], {});
    const demoCode = await new Promise<number | null>((r) => demo.proc.once("exit", r));
    if (demoCode !== 0) throw new Error(`the demo failed (exit ${demoCode}):\n${demo.output()}`);
    const afterDemo = procMemory(pid);
    await sleep(idleMs);
    const idleAfter = procMemory(pid);
    return { idle, afterDemo, idleAfter, readySeconds, steps: /All (\d+) steps/.exec(demo.output())?.[1] ?? "?" };
  } finally {
    if (start.proc.exitCode === null && start.proc.signalCode === null) {
      const exited = new Promise((r) => start.proc.once("exit", r));
      start.proc.kill("SIGTERM");
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Each figure's median over the runs (GC timing moves a single reading by tens of MiB). */
function median(samples: Sample[]): Sample {
  const mid = <T>(xs: T[], key: (x: T) => number) => xs.map(key).sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
  const mem = (k: "idle" | "afterDemo" | "idleAfter") => ({ hwm: mid(samples, (s) => s[k].hwm), rss: mid(samples, (s) => s[k].rss) });
  return { idle: mem("idle"), afterDemo: mem("afterDemo"), idleAfter: mem("idleAfter"), readySeconds: mid(samples, (s) => s.readySeconds), steps: samples[0].steps };
}

export async function benchMemory(flags: Map<string, string>): Promise<void> {
  const idleMs = intFlag(flags, "idle-ms", 10_000);
  const busy = await machineBusy();
  const runs = intFlag(flags, "runs", 3);
  const tsNodeRuns: Sample[] = [];
  const compiledRuns: Sample[] = [];
  // Alternating, so a change in the machine's load falls on both alike.
  for (let i = 0; i < runs; i++) {
    tsNodeRuns.push(await measure([join(PROJECT_ROOT, "node_modules", ".bin", "ts-node"), "--transpile-only", "platform/start.ts"], idleMs));
    compiledRuns.push(await measure(npmScriptArgs("start"), idleMs));
  }
  const tsNode = median(tsNodeRuns);
  const compiled = median(compiledRuns);
  const row = (label: string, m: Sample) => [
    label,
    mib(m.idle.rss),
    mib(m.afterDemo.rss),
    mib(m.idleAfter.rss),
    mib(m.idleAfter.hwm),
    `${m.readySeconds.toFixed(1)} s`,
  ];
  const table = markdownTable(
    ["npm start runs", "idle after boot", "after the demo", "idle after the demo", "peak (VmHWM)", "launch to banner"],
    [
      row("under ts-node (`ts-node --transpile-only platform/start.ts`)", tsNode),
      row("compiled (`node platform/compiled.js platform/start`)", compiled),
    ],
    ["l", "r", "r", "r", "r", "r"],
  );
  const less = (a: number, b: number) => `${mib(a - b)} (${Math.round((100 * (a - b)) / a)} %)`;
  const body = [
    "## Memory of the running platform",
    "",
    "Resident memory of the `npm start` process (the durable chain and the service share it) on a fresh data",
    "directory, the same sources run compiled (as `npm start` runs them) and under ts-node (as they ran before the",
    `compiled runtime), alternately, ${runs} run(s) each, each figure the median: VmRSS at idle ${idleMs / 1000} s after the banner, right after \`npm run demo\``,
    `has run its ${compiled.steps} steps against it, and at idle ${idleMs / 1000} s later; VmHWM is the peak since the process`,
    "started, boot included. Launch to banner is a first start (chain, keys, funding, deployment) with module loading",
    "included: under ts-node every TypeScript file is transpiled at each start.",
    "",
    table,
    "",
    `Compiled, the idle process is ${less(tsNode.idle.rss, compiled.idle.rss)} smaller and its peak ${less(tsNode.idleAfter.hwm, compiled.idleAfter.hwm)}`,
    "lower: the TypeScript compiler (which ts-node loads even with --transpile-only) and the sources it transpiles",
    "and keeps are no longer in the process.",
    "",
    `Command: \`${commandLine("memory", { runs })}\`. ${loadNote(busy)}`,
    `Machine: ${machineDescription()}.`,
  ].join("\n");
  console.log(body);
  writeBenchmarkSection("memory", body);
}
