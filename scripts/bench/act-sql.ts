/**
 * The SQLite statements and rows one 200-invoice tokenise act costs the service, from its unsigned
 * POST to its confirmed and indexed state (POST /receivables/batch?wait=true), and the service CPU
 * of the same window. The service runs compiled as its own process with a counting preload
 * (common.ts sqlCounterPreload); the counts are cut at act boundaries with SIGUSR2. `--roots A,B`
 * runs builds of other worktrees (their dist/) in turn on the same chain and database, A then B,
 * `--rounds` times, for an A/B of CPU per act that alternates under the same load.
 *
 *   npm run bench -- --only act-sql --acts 5 --rounds 2 [--roots /path/a,/path/b] [--sql-dir DIR]
 */
import { readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Wallet } from "ethers";
import { startChain } from "../../test/support/chain";
import { cleanupEnv, prepareEnv } from "../../test/support/app";
import { signIn } from "../../test/support/auth";
import { spawnService, type ServiceProcess } from "../../test/support/process";
import { ApiClient, signTypedData, type ActTypedData } from "../../shared/client";
import { ROLE_BITS } from "../../shared/roles";
import { benchTaxId, httpInvoice, intFlag, processCpuMs, registerMembers, sqlCounterPreload } from "./common";

type Body = Record<string, unknown>;
interface Count { calls: number; tuples: number; read: number; changed: number; ms: number }
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function benchActSql(flags: Map<string, string>): Promise<void> {
  const nActs = intFlag(flags, "acts", 3);
  const rounds = intFlag(flags, "rounds", 1);
  const roots = (flags.get("roots") ?? "").split(",").filter(Boolean);
  const runs = roots.length ? roots : [undefined];
  const dir = flags.get("sql-dir") ?? join(tmpdir(), `act-sql-${process.pid}`);
  const preload = sqlCounterPreload(dir);
  const chain = await startChain({ intervalMs: 200 });
  const env = await prepareEnv(chain, { KYC_JOB_INTERVAL_MS: "3600000", LOG_LEVEL: "error", RELAYER_KEYS: "1" });
  let svc: ServiceProcess | null = null;
  let seq = 0;
  const cpu: Record<string, number[]> = {};
  try {
    const supplier = await chain.fundedWallet();
    const buyer = Wallet.createRandom();
    await registerMembers(env, [{ address: supplier.address, roles: ROLE_BITS.supplier }, { address: buyer.address, roles: ROLE_BITS.buyer }]);
    for (let r = 0; r < rounds; r++) {
      for (const root of runs) {
        const label = root ?? "this worktree";
        svc = await spawnService({ ...env.env, NODE_OPTIONS: `--require ${preload}` }, undefined, root);
        const pid = svc.child.pid!;
        const api = new ApiClient(svc.url);
        let token = "";
        for (let i = 0; !token; i++) {
          try {
            token = await signIn(svc.url, supplier);
          } catch (err) {
            if (i > 100) throw err;
            await sleep(200);
          }
        }
        // One act untimed (warm-up: statement caches, JIT), then the counted ones.
        for (let a = 0; a <= nActs; a++) {
          const invoices = Array.from({ length: 200 }, () => ({ ...httpInvoice({ prefix: "SQL", seq: ++seq, debtor: buyer.address, sellerTaxId: benchTaxId(supplier.address) }) }));
          await sleep(500);
          const dumps = () => readdirSync(dir).filter((f) => f.startsWith(`sql-${pid}-`)).length;
          const before = dumps();
          process.kill(pid, "SIGUSR2");
          while (dumps() === before) await sleep(20);
          const c0 = processCpuMs(pid);
          const first = await api.request<Body>("POST", "/receivables/batch", { token, body: { invoices } });
          if (first.status !== 200) throw new Error(`unsigned: ${first.status} ${JSON.stringify(first.body)}`);
          const td = first.body.typedData as ActTypedData;
          const signed = { invoices, nonce: td.message.nonce, deadline: td.message.deadline, signature: await signTypedData(supplier, td) };
          const res = await api.request<Body>("POST", "/receivables/batch?wait=true", { token, body: signed });
          if (res.status !== 202 || res.body.status !== "confirmed") throw new Error(`signed: ${res.status} ${JSON.stringify(res.body)}`);
          // Whatever the act still sets off after it is confirmed (projection of later blocks, outbox tidy-up).
          await sleep(1_000);
          const ms = processCpuMs(pid) - c0;
          process.kill(pid, "SIGUSR2");
          while (dumps() === before + 1) await sleep(20);
          if (a === 0) continue;
          (cpu[label] ??= []).push(ms);
          const counts = JSON.parse(readFileSync(join(dir, `sql-${pid}-${before + 1}.json`), "utf8")) as Record<string, Count & { t: number }>;
          print(`${label}, act ${a}, ${ms} ms service CPU`, counts, r === rounds - 1 && a === nActs);
        }
        await svc.kill("SIGTERM");
        svc = null;
      }
    }
    for (const [label, ms] of Object.entries(cpu)) {
      const sorted = [...ms].sort((x, y) => x - y);
      console.log(`cpu per act (ms, includes 1 s idle tail) ${label}: median ${sorted[Math.floor(sorted.length / 2)]} [${ms.join(", ")}]`);
    }
  } finally {
    await svc?.kill("SIGTERM");
    await cleanupEnv(env).catch(() => undefined);
    await chain.stop();
  }
}

function print(label: string, counts: Record<string, Count>, detail: boolean): void {
  const rows = Object.entries(counts).sort((a, b) => b[1].ms - a[1].ms);
  const sum = (k: keyof Count) => rows.reduce((s, [, c]) => s + c[k], 0);
  console.log(`${detail ? "\n" : ""}${label}: ${sum("calls")} statements, ${sum("tuples")} VALUES rows, ${sum("read")} rows read, ${sum("changed")} rows changed, ${sum("ms").toFixed(1)} ms in the driver`);
  if (detail) for (const [sql, c] of rows) console.log(`${c.ms.toFixed(1).padStart(7)} ms ${String(c.calls).padStart(5)} ×  tuples ${String(c.tuples).padStart(5)}  read ${String(c.read).padStart(5)}  changed ${String(c.changed).padStart(5)}  ${sql.slice(0, 220)}`);
}
