/**
 * Runs the service as a separate OS process (as `npm start` would), so tests can kill it with
 * SIGKILL and start it again on the same database and chain.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { PROJECT_ROOT } from "../../platform/project-root";
import { freePort } from "./chain";

const ROOT = PROJECT_ROOT;

/**
 * The node arguments that run the service the way the caller itself runs: the compiled service
 * (dist/services/src/main.js) when the caller is compiled (a benchmark run from dist/), the
 * TypeScript sources through ts-node when the caller is (a test under mocha).
 */
export function serviceArgs(): string[] {
  const main = join(__dirname, "..", "..", "services", "src", "main");
  return __filename.endsWith(".js") ? [`${main}.js`] : ["-r", "ts-node/register/transpile-only", `${main}.ts`];
}

/**
 * The node arguments of a package.json script of the form `node …` (e.g. "start": `node
 * platform/compiled.js platform/start`), for spawning exactly what `npm run <name>` runs but
 * without npm in between, so a signal reaches the program itself. These run the compiled build
 * (dist/), and fail with "run `npm run build`" when it is missing or older than the sources.
 */
export function npmScriptArgs(name: string): string[] {
  const scripts = (JSON.parse(readFileSync(join(PROJECT_ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> }).scripts;
  const words = (scripts[name] ?? "").split(/\s+/);
  if (words[0] !== "node") throw new Error(`package.json script "${name}" is not a plain \`node …\` command: ${scripts[name]}`);
  return words.slice(1);
}

export interface ServiceProcess {
  url: string;
  child: ChildProcess;
  output(): string;
  /** Milliseconds from spawn to the first healthy answer. */
  readyMs: number;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/** Spawns `node args…` in the project root and waits until `${url}/health` answers 200 (or the child exits). */
async function spawnHealthy(args: string[], env: NodeJS.ProcessEnv, url: string, timeoutMs: number, what: string, cwd = ROOT): Promise<ServiceProcess> {
  const t0 = Date.now();
  const child = spawn(process.execPath, args, { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (out += d.toString()));
  const deadline = t0 + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${what} exited with ${child.exitCode}:\n${out}`);
    try {
      const res = await fetch(`${url}/health`);
      if (res.status === 200) break;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`${what} did not become healthy:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    url,
    child,
    output: () => out,
    readyMs: Date.now() - t0,
    async kill(signal: NodeJS.Signals = "SIGKILL") {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once("exit", r));
      child.kill(signal);
      await exited;
    },
  };
}

/**
 * Spawns the service on `port` (a free one by default). `root` runs the compiled service of another
 * checkout instead (its dist/services/src/main.js, from that directory): a benchmark's "before".
 */
export async function spawnService(env: Record<string, string>, port?: number, root?: string): Promise<ServiceProcess> {
  const p = port ?? (await freePort());
  const url = `http://127.0.0.1:${p}`;
  const args = root ? [join(root, "dist", "services", "src", "main.js")] : serviceArgs();
  return spawnHealthy(args, { ...process.env, ...env, PORT: String(p), HOST: "127.0.0.1", TS_NODE_TRANSPILE_ONLY: "true" }, url, 90_000, "service", root ?? ROOT);
}

/**
 * The compiled service alone, as a production replica or worker runs it (`node platform/compiled.js
 * services/src/main`, i.e. dist/services/src/main.js, docs/DEPLOYMENT.md section 4), with `env` on
 * top of this process's; resolves once `/health` answers 200.
 */
export async function spawnCompiledService(env: Record<string, string>, port?: number, what = "service"): Promise<ServiceProcess> {
  const p = port ?? (await freePort());
  const url = `http://127.0.0.1:${p}`;
  const args = [join(ROOT, "platform", "compiled.js"), "services/src/main"];
  return spawnHealthy(args, { ...process.env, ...env, PORT: String(p), HOST: "127.0.0.1" }, url, 90_000, what);
}

/**
 * The whole platform exactly as `npm start` runs it (package.json "start", the compiled build,
 * without npm in between so a signal reaches the launcher itself), with `env` on top of this
 * process's (DATA_DIR, PORT, CHAIN_PORT…); resolves once `${url}/health` answers.
 */
export function startPlatform(env: Record<string, string>, url: string, timeoutMs = 120_000): Promise<ServiceProcess> {
  return spawnHealthy(npmScriptArgs("start"), { ...process.env, ...env }, url, timeoutMs, "the launcher (npm start)");
}

/** Runs `fn` over `items` with at most `width` calls in flight, as a client with `width` connections would. */
export async function pool<T>(items: T[], width: number, fn: (t: T, i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) {
        const i = next++;
        await fn(items[i], i);
      }
    }),
  );
}
