/**
 * Query latency at scale.
 *
 *   npm run bench -- --only query [--receivables 1000000 --events 5000000 --members 2000]
 *                                 [--requests 2000 --connections 10 --reseed --no-doc --cpu-prof DIR]
 *                                 [--before DIR] [--variants "label:KEY=V,KEY=V;…"] [--rounds 4] [--single 500]
 *                                 [--queries byId,list1,list100,history,lineage,audit]
 *
 * 1. Seeds PostgreSQL database `scf_bench_query` (dropped and re-created; the service's own
 *    migrations give it production's schema) in bulk, in the shape the indexer writes
 *    (query-seed.ts). A database already seeded with the same shape is reused unless --reseed;
 *    pending migrations (new indexes) are applied to it and it is analysed again.
 * 2. Boots the real service on it (a `hardhat node` with a fresh deployment for the boot checks;
 *    indexer and sender off, so the seeded data stays as it is), signs in by SIWE as a heavy
 *    supplier and as an auditor (seeded members whose keys the benchmark derives).
 * 3. Captures, per endpoint, the SQL the service actually runs for each request (TypeORM's logger
 *    hooked in an in-process instance; the sign-in guard's session and member look-ups are left
 *    out), then measures over HTTP with autocannon against the service as its own process, and the
 *    captured SQL run directly with `pg` at the same concurrency. EXPLAIN (ANALYZE, BUFFERS) of
 *    each statement of one request per endpoint goes into docs/BENCHMARKS.md with the figures.
 * 4. With --before (the baseline commit's build) and/or --variants (this build with other settings),
 *    every variant runs as its own process and each query's load is sent to them in interleaved rounds.
 * Targets: p95 ≤ 20 ms over HTTP for every query, and ≤ 1.5 × the p95 of the same SQL sent directly.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { cpus } from "node:os";
import { join } from "node:path";
import { PROJECT_ROOT } from "../../platform/project-root";
import { Wallet } from "ethers";
import { DataSource, type Logger as TypeOrmLogger } from "typeorm";
import { getDataSourceToken } from "@nestjs/typeorm";
import autocannon from "autocannon";
import { formatInt, machineDescription, markdownTable, writeBenchmarkSection } from "../lib/bench-doc";
import { startChain, freePort } from "../../test/support/chain";
import { cleanupEnv, prepareEnv, PG_ADMIN_URL } from "../../test/support/app";
import { signIn } from "../../test/support/auth";
import { serviceArgs } from "../../test/support/process";
import { createApp } from "../../services/src/app.factory";
import { loadConfig } from "../../services/src/config/env";
import { dataSourceOptions } from "../../services/src/database/data-source";
import { benchMembers, memberLayout, seedDatabase, type SeedResult } from "./query-seed";
import { commandLine, fmtSeconds, intFlag, loadNote, machineBusy, nowSeconds, profilerPreload, processCpuMs, machineCpu } from "./common";

const ROOT = PROJECT_ROOT;
const DB_NAME = "scf_bench_query";
const TARGET_MS = 20;
/** HTTP p95 at most this many times the p95 of the same SQL sent directly at the same concurrency. */
const RATIO_TARGET = 1.5;

interface PgClient {
  connect(): Promise<void>;
  query(sql: string, params?: unknown[]): Promise<{ rows: Array<Record<string, unknown>> }>;
  end(): Promise<void>;
}
// pg ships no types in this project (TypeORM loads it untyped too).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { Client } = require("pg") as { Client: new (cfg: { connectionString: string }) => PgClient };

interface Captured {
  sql: string;
  params: unknown[];
}

interface Scenario {
  key: string;
  name: string;
  caller: "member" | "auditor";
  /** Request paths, cycled through by the load. */
  paths: string[];
  /** Per path (same order), the SQL statements the service ran for it. */
  sql: Captured[][];
}

interface Result {
  s: Scenario;
  /** This build at `connections` connections. */
  http: Stats;
  /** Every variant (this build among them) by label, same load, rounds interleaved. */
  variants: Record<string, Stats>;
  sql: Stats;
  /** One connection. */
  http1: Stats;
  sql1: Stats;
}

interface Stats {
  /** Wall time of the run, seconds (HTTP only). */
  seconds?: number;
  /** CPU time of the service process per request, ms (HTTP only). */
  serviceCpuMs?: number;
  /** Share of the machine's CPU busy during the run (HTTP only), all processes. */
  machineBusy?: number;
  p50: number;
  p95: number;
  p99: number;
  mean?: number;
  n: number;
  errors: number;
  /** The latencies themselves (when asked for). */
  raw?: number[];
}

const THIS_BUILD = "this build";

/** A service process the HTTP load is sent to: this build, the baseline's, or this build with other settings. */
interface Variant {
  label: string;
  /** Repository root whose dist/services/src/main.js runs. */
  root: string;
  env: Record<string, string>;
}

/**
 * The variants of a run: `--before DIR` (a checkout of the baseline commit with its own `npm run build`,
 * node_modules linked: the same queries against the code before the change) and `--variants
 * "label:KEY=V,KEY=V;label2:…"` (this build with other settings, e.g. DB_POOL_MAX), besides this build.
 */
function parseVariants(flags: Map<string, string>): Variant[] {
  const out: Variant[] = [];
  const before = flags.get("before");
  if (before) {
    if (!existsSync(join(before, "dist", "services", "src", "main.js"))) throw new Error(`--before ${before}: no dist/services/src/main.js there (build it first)`);
    out.push({ label: "before", root: before, env: {} });
  }
  out.push({ label: THIS_BUILD, root: ROOT, env: {} });
  for (const spec of (flags.get("variants") ?? "").split(";").filter(Boolean)) {
    const [label, settings = ""] = spec.split(":");
    const env = Object.fromEntries(settings.split(",").filter(Boolean).map((kv) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)]));
    out.push({ label, root: ROOT, env });
  }
  return out;
}

const quantile = (s: number[], q: number) => (s.length ? s[Math.min(s.length - 1, Math.floor(q * s.length))] : NaN);
function stats(xs: number[], errors = 0): Stats {
  const s = [...xs].sort((a, b) => a - b);
  return { p50: quantile(s, 0.5), p95: quantile(s, 0.95), p99: quantile(s, 0.99), mean: s.reduce((a, b) => a + b, 0) / (s.length || 1), n: s.length, errors };
}

function dbUrl(name: string): string {
  return PG_ADMIN_URL.replace(/\/[^/]*$/, `/${name}`);
}

async function adminQuery(sql: string): Promise<Array<Record<string, unknown>>> {
  const c = new Client({ connectionString: PG_ADMIN_URL });
  await c.connect();
  try {
    return (await c.query(sql)).rows;
  } finally {
    await c.end();
  }
}

export async function benchQuery(flags: Map<string, string>): Promise<void> {
  const shape = {
    receivables: intFlag(flags, "receivables", 1_000_000),
    events: intFlag(flags, "events", 5_000_000),
    members: intFlag(flags, "members", 2_000),
  };
  if (shape.members < 100) throw new Error("--members must be at least 100");
  const requests = intFlag(flags, "requests", 2_000);
  const connections = intFlag(flags, "connections", 10);
  const single = intFlag(flags, "single", 500);
  const reseed = flags.has("reseed");
  const started = new Date();
  const runStart = nowSeconds();
  const loadAtStart = await machineBusy();
  const marker = `scf-bench-query seed v1 r=${shape.receivables} e=${shape.events} m=${shape.members}`;
  const url = dbUrl(DB_NAME);
  console.log(`query: ${formatInt(shape.receivables)} receivables, ${formatInt(shape.events)} events, ${formatInt(shape.members)} members`);

  // --- 1. the database ---
  const members = benchMembers(shape.members);
  const existing = await adminQuery(
    `SELECT shobj_description(oid, 'pg_database') AS d FROM pg_database WHERE datname = '${DB_NAME}'`,
  );
  let seed: SeedResult | null = null;
  let seededAt: string | null = null;
  const now = Math.floor(Date.now() / 1000);
  if (!reseed && existing.length && String(existing[0].d ?? "").startsWith(marker)) {
    seededAt = String(existing[0].d).slice(marker.length + 1);
    console.log(`query: reusing ${DB_NAME} (${marker}, seeded ${seededAt}); --reseed to rebuild`);
    const ds = new DataSource(dataSourceOptions({ kind: "postgres", url }));
    await ds.initialize();
    const pending = await ds.showMigrations();
    if (pending) {
      const m0 = nowSeconds();
      await ds.runMigrations({ transaction: "each" });
      await ds.query("ANALYZE");
      console.log(`query: applied pending migrations and analysed in ${fmtSeconds(nowSeconds() - m0)} s`);
    }
    await ds.destroy();
  } else {
    await adminQuery(`DROP DATABASE IF EXISTS ${DB_NAME} WITH (FORCE)`);
    await adminQuery(`CREATE DATABASE ${DB_NAME}`);
    const ds = new DataSource(dataSourceOptions({ kind: "postgres", url }));
    await ds.initialize();
    await ds.runMigrations({ transaction: "each" });
    seed = await seedDatabase(ds, shape, members, now, (s) => console.log(`query: ${s}`));
    await ds.destroy();
    seededAt = new Date().toISOString();
    await adminQuery(`COMMENT ON DATABASE ${DB_NAME} IS '${marker} ${seededAt} ${seed.seconds.toFixed(0)}s'`);
    console.log(`query: seeded in ${fmtSeconds(seed.seconds)} s: ${JSON.stringify({ ...seed, steps: undefined })}`);
  }
  const seedInfo = await adminQuery(`SELECT shobj_description(oid, 'pg_database') AS d FROM pg_database WHERE datname = '${DB_NAME}'`);
  const sizes = await withPg(url, async (c) => {
    const r = await c.query(
      `SELECT (SELECT count(*) FROM receivables) AS receivables, (SELECT count(*) FROM ledger_events) AS events,
              (SELECT count(*) FROM ledger_event_parties) AS parties, (SELECT count(*) FROM members) AS members,
              (SELECT count(*) FROM financings) AS financings, (SELECT count(*) FROM payments) AS payments,
              pg_size_pretty(pg_database_size(current_database())) AS size`,
    );
    return r.rows[0] as Record<string, string>;
  });

  // --- 2. the chain, the service, the callers ---
  const layout = memberLayout(shape.members);
  const member = members[0]; // rank-1 seller: the heaviest supplier
  const auditor = members[layout.auditors.from];
  const chain = await startChain();
  const env = await prepareEnv(chain, {
    DATABASE_URL: url,
    INDEXER_ENABLED: "false",
    SENDER_ENABLED: "false",
    KYC_JOB_INTERVAL_MS: "3600000",
    SESSION_TTL_SECONDS: "86400",
    LOG_LEVEL: "error",
  });
  const children: ChildProcess[] = [];
  try {
    const config = loadConfig(env.env, ROOT);
    const app = await createApp(config);
    await app.listen(0, "127.0.0.1");
    const inUrl = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
    const ds = app.get<DataSource>(getDataSourceToken());
    const tokens = {
      member: await signIn(inUrl, new Wallet(member.privateKey)),
      auditor: await signIn(inUrl, new Wallet(auditor.privateKey)),
    };

    // Request lists.
    const pick = async (sql: string, n: number) =>
      ((await ds.query(sql.replace("$N", String(n)))) as Array<{ id: string }>).map((r) => r.id);
    const ownIds = await pick(`SELECT id FROM receivables WHERE seller = '${member.address}' ORDER BY md5(id) LIMIT $N`, 500);
    const anyIds = await pick("SELECT id FROM receivables TABLESAMPLE SYSTEM (1) REPEATABLE (7) ORDER BY md5(id) LIMIT $N", 500);
    const leafIds = await pick(
      "SELECT c.id FROM receivables c JOIN receivables p ON p.id = c.parent_id WHERE p.parent_id IS NOT NULL ORDER BY md5(c.id) LIMIT $N",
      300,
    );
    const [{ lo, hi }] = (await ds.query("SELECT min(timestamp) AS lo, max(timestamp) AS hi FROM ledger_events")) as Array<{ lo: string; hi: string }>;
    const windows: string[] = [];
    const week = 7 * 86400;
    for (let i = 0; i < 200; i++) {
      const from = Number(lo) + Math.floor(((Number(hi) - Number(lo) - week) * ((i * 7919) % 200)) / 200);
      windows.push(`/audit/events?from=${iso(from)}&to=${iso(from + week)}`);
    }
    const listPath = "/receivables?status=accepted&sort=dueDate";
    // Walk to page 100 by cursor.
    let cursor: string | null = null;
    let page = 1;
    for (; page < 100; page++) {
      const r = (await getJson(inUrl + listPath + (cursor ? `&cursor=${cursor}` : ""), tokens.member)) as { nextCursor: string | null };
      if (!r.nextCursor) break;
      cursor = r.nextCursor;
    }
    const page100 = `${listPath}&cursor=${cursor}`;
    console.log(`query: ${listPath} has ${page} pages of 50 for the member${page < 100 ? " (fewer than 100: the last is used)" : ""}`);

    const scenarios: Scenario[] = [
      { key: "byId", name: "GET /receivables/:id (member, own receivables)", caller: "member", paths: ownIds.map((id) => `/receivables/${id}`), sql: [] },
      { key: "list1", name: "GET /receivables?status=accepted&sort=dueDate, first page (member)", caller: "member", paths: [listPath], sql: [] },
      { key: "list100", name: `GET /receivables?status=accepted&sort=dueDate, page ${page} by cursor (member)`, caller: "member", paths: [page100], sql: [] },
      { key: "history", name: "GET /receivables/:id/history (auditor)", caller: "auditor", paths: anyIds.map((id) => `/receivables/${id}/history`), sql: [] },
      { key: "lineage", name: "GET /receivables/:id/lineage, three levels (auditor)", caller: "auditor", paths: leafIds.map((id) => `/receivables/${id}/lineage`), sql: [] },
      { key: "audit", name: "GET /audit/events, a 7-day window, first page of 100 (auditor)", caller: "auditor", paths: windows, sql: [] },
    ];

    // --queries: only these (by key), e.g. while comparing variants of one change.
    const wanted = flags.get("queries")?.split(",").filter(Boolean);
    if (wanted) {
      const unknown = wanted.filter((k) => !scenarios.some((s) => s.key === k));
      if (unknown.length) throw new Error(`--queries: no query ${unknown.join(", ")} (have ${scenarios.map((s) => s.key).join(", ")})`);
      scenarios.splice(0, scenarios.length, ...scenarios.filter((s) => wanted.includes(s.key)));
    }

    // --- 3. capture the SQL of each request (also warms the caches) ---
    const captured: Captured[] = [];
    let capturing = false;
    const original = ds.logger;
    const hook: TypeOrmLogger = {
      logQuery: (query, parameters) => {
        if (capturing && !/"(sessions|members|auth_challenges)"/.test(query)) captured.push({ sql: query, params: parameters ?? [] });
      },
      logQueryError: (...a) => original.logQueryError(...a),
      logQuerySlow: (...a) => original.logQuerySlow(...a),
      logSchemaBuild: (...a) => original.logSchemaBuild(...a),
      logMigration: (...a) => original.logMigration(...a),
      log: (...a) => original.log(...a),
    };
    Object.defineProperty(ds, "logger", { value: hook, configurable: true, writable: true });
    for (const s of scenarios) {
      for (const p of s.paths) {
        captured.length = 0;
        capturing = true;
        await getJson(inUrl + p, tokens[s.caller]);
        capturing = false;
        s.sql.push([...captured]);
      }
      console.log(`query: captured ${s.key}: ${s.sql[0].length} statements per request`);
    }
    Object.defineProperty(ds, "logger", { value: original, configurable: true, writable: true });
    await app.close();

    // --- 4. plans ---
    const plans = new Map<string, string[]>();
    await withPg(url, async (c) => {
      for (const s of scenarios) {
        const out: string[] = [];
        for (const q of s.sql[0]) {
          const r = await c.query(`EXPLAIN (ANALYZE, BUFFERS) ${q.sql}`, q.params);
          out.push(condense(q.sql, r.rows.map((x) => String(x["QUERY PLAN"]))));
        }
        plans.set(s.key, out);
      }
    });

    // --- 5. HTTP (service as its own process) and direct SQL ---
    // Every variant (this build; --before DIR, a compiled checkout of the baseline; --variants, this
    // build with other settings) runs as its own process, all up at once; each query's requests are
    // sent in rounds, one round per variant in turn, so a change in the machine's load falls on all.
    // --cpu-prof DIR: this build's process writes a V8 CPU profile there when it exits.
    const profDir = flags.get("cpu-prof");
    const variants = parseVariants(flags);
    const services: Array<{ v: Variant; url: string; child: ChildProcess }> = [];
    for (const v of variants) {
      const prof: Record<string, string> = profDir && v.label === THIS_BUILD ? { NODE_OPTIONS: `--require ${profilerPreload(profDir)}` } : {};
      try {
        const svc = await spawnQuiet({ ...env.env, ...v.env, ...prof }, v.root);
        services.push({ v, ...svc });
        children.push(svc.child);
      } catch (err) {
        if (v.label === THIS_BUILD) throw err;
        console.log(`query: variant ${v.label} did not start, left out: ${(err as Error).message.slice(0, 2000)}`);
      }
    }
    const rounds = services.length > 1 ? intFlag(flags, "rounds", 4) : 1;
    const results: Result[] = [];
    for (const s of scenarios) {
      const byVariant = new Map<string, { lat: number[]; errors: number; cpuMs: number; seconds: number; busy: number }>();
      for (const svc of services) {
        await runAutocannon(svc.url, s.paths, tokens[s.caller], Math.min(requests, 200), connections); // warm-up
        byVariant.set(svc.v.label, { lat: [], errors: 0, cpuMs: 0, seconds: 0, busy: 0 });
      }
      for (let r = 0; r < rounds; r++) {
        const amount = Math.floor(requests / rounds) + (r < requests % rounds ? 1 : 0);
        for (const svc of r % 2 ? [...services].reverse() : services) {
          const acc = byVariant.get(svc.v.label)!;
          const cpu0 = processCpuMs(svc.child.pid!);
          const m0 = machineCpu();
          const h0 = nowSeconds();
          const run = await runAutocannon(svc.url, s.paths, tokens[s.caller], amount, connections, true);
          const secs = nowSeconds() - h0;
          acc.seconds += secs;
          acc.busy += machineCpu(m0) * secs;
          acc.cpuMs += processCpuMs(svc.child.pid!) - cpu0;
          acc.lat.push(...run.raw!);
          acc.errors += run.errors;
        }
      }
      const http: Record<string, Stats> = {};
      for (const [label, acc] of byVariant) {
        http[label] = { ...stats(acc.lat, acc.errors), seconds: acc.seconds, serviceCpuMs: acc.cpuMs / acc.lat.length, machineBusy: acc.busy / acc.seconds };
      }
      const sql = await runSql(url, s.sql, requests, connections);
      // The same with one connection: the latency of a request alone, without queueing behind others.
      const main = services.find((x) => x.v.label === THIS_BUILD)!;
      const http1 = await runAutocannon(main.url, s.paths, tokens[s.caller], single, 1);
      const sql1 = await runSql(url, s.sql, single, 1);
      results.push({ s, http: http[THIS_BUILD], variants: http, sql, http1, sql1 });
      for (const [label, h] of Object.entries(http)) {
        console.log(
          `query: ${s.key.padEnd(8)} ${label.padEnd(12)} HTTP p50/p95/p99 ${ms(h.p50)}/${ms(h.p95)}/${ms(h.p99)} ms` +
            ` (${h.errors} errors) CPU ${h.serviceCpuMs!.toFixed(2)} ms/req, ${Math.round(h.n / h.seconds!)}/s, busy ${Math.round(100 * h.machineBusy!)}%`,
        );
      }
      console.log(`query: ${s.key.padEnd(8)} SQL p50/p95/p99 ${ms(sql.p50)}/${ms(sql.p95)}/${ms(sql.p99)} ms`);
    }
    for (const c of children.splice(0)) await killChild(c);

    const totalSeconds = nowSeconds() - runStart;
    const doc = report({
      shape, sizes, seed, seedInfo: String(seedInfo[0]?.d ?? ""), results, plans, requests, connections,
      loadAtStart, started, totalSeconds, page, single, member: member.address, auditor: auditor.address,
      extraFlags: Object.fromEntries(["single", "rounds", "before", "variants", "queries"].filter((k) => flags.has(k)).map((k) => [k, k === "variants" ? JSON.stringify(flags.get(k)) : flags.get(k)!])),
    });
    console.log(doc.table);
    if (!flags.has("no-doc")) {
      writeBenchmarkSection("query", doc.body);
      console.log("query: docs/BENCHMARKS.md section `query` rewritten");
    }
    console.log(`query: total run time ${fmtSeconds(totalSeconds)} s`);
  } finally {
    for (const c of children) await killChild(c);
    // The benchmark database is kept for the next run; cleanupEnv drops only the env's own files
    // (and its unused test database under TEST_DATABASE=postgres).
    await cleanupEnv(env).catch(() => undefined);
    await chain.stop();
  }
}

/** utime + stime of a process, ms (USER_HZ = 100). */

const iso = (s: number) => new Date(s * 1000).toISOString().replace(".000Z", "Z");
const ms = (x: number) => (x >= 10 ? x.toFixed(1) : x.toFixed(2));

async function withPg<T>(url: string, f: (c: PgClient) => Promise<T>): Promise<T> {
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    return await f(c);
  } finally {
    await c.end();
  }
}

async function getJson(url: string, token: string): Promise<unknown> {
  const res = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`GET ${url}: ${res.status} ${text.slice(0, 300)}`);
  return JSON.parse(text);
}

/** The service as its own process; ready once it answers HTTP at all (health is 503 with the indexer off). */
async function spawnQuiet(env: Record<string, string>, root = ROOT): Promise<{ url: string; child: ChildProcess }> {
  const port = await freePort();
  const args = root === ROOT ? serviceArgs() : [join(root, "dist", "services", "src", "main.js")];
  const child = spawn(process.execPath, args, {
    cwd: root,
    env: { ...process.env, ...env, PORT: String(port), HOST: "127.0.0.1", TS_NODE_TRANSPILE_ONLY: "true" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout!.on("data", (d: Buffer) => (out = (out + d.toString()).slice(-20_000)));
  child.stderr!.on("data", (d: Buffer) => (out = (out + d.toString()).slice(-20_000)));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`service exited with ${child.exitCode}:\n${out}`);
    try {
      await fetch(`${url}/health`);
      return { url, child };
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`service did not start:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function killChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once("exit", r));
  child.kill("SIGTERM");
  await exited;
}

/** `amount` GETs over `connections` connections, cycling through `paths`; latency of each response. */
async function runAutocannon(base: string, paths: string[], token: string, amount: number, connections: number, keep = false): Promise<Stats> {
  let i = 0;
  const lat: number[] = [];
  let errors = 0;
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: base,
        connections,
        amount,
        timeout: 30,
        headers: { authorization: `Bearer ${token}` },
        requests: [{ method: "GET", setupRequest: (req) => ({ ...req, path: paths[i++ % paths.length] }) }],
      },
      (err, res) => (err ? reject(err) : resolve(res)),
    );
    instance.on("response", (_client, status: number, _bytes: number, time: number) => {
      if (status !== 200) errors++;
      lat.push(time);
    });
  });
  return { ...stats(lat, errors + result.errors + result.timeouts), raw: keep ? lat : undefined };
}

/** The captured statements of each request run directly, `connections` clients at once. */
async function runSql(url: string, perRequest: Captured[][], amount: number, connections: number): Promise<Stats> {
  const lat: number[] = [];
  let next = 0;
  const clients = await Promise.all(
    Array.from({ length: connections }, async () => {
      const c = new Client({ connectionString: url });
      await c.connect();
      return c;
    }),
  );
  try {
    // Warm-up as for HTTP.
    for (let w = 0; w < Math.min(amount, 200); w++) for (const q of perRequest[w % perRequest.length]) await clients[0].query(q.sql, q.params);
    await Promise.all(
      clients.map(async (c) => {
        for (;;) {
          const k = next++;
          if (k >= amount) return;
          const t = process.hrtime.bigint();
          for (const q of perRequest[k % perRequest.length]) await c.query(q.sql, q.params);
          lat.push(Number(process.hrtime.bigint() - t) / 1e6);
        }
      }),
    );
  } finally {
    await Promise.all(clients.map((c) => c.end()));
  }
  return stats(lat);
}

/** A plan in a few lines: node types with their relations, index conditions, rows and times. */
function condense(sql: string, plan: string[]): string {
  const keep = plan.filter(
    (l) =>
      /(Scan|Sort|Join|Loop|Limit|Aggregate|Append|Unique|Result|SubPlan|InitPlan|Gather|Merge|Hash|Materialize|CTE|Execution Time|Planning Time)/.test(l) ||
      /(Index Cond|Sort Key|Sort Method|Rows Removed|Filter|Recheck)/.test(l),
  );
  const short = sql.replace(/\s+/g, " ").replace(/SELECT .*? FROM/, "SELECT … FROM").slice(0, 400);
  return [`-- ${short}`, ...keep.map((l) => l.replace(/\(cost=[^)]*\) /, "").slice(0, 220))].join("\n");
}

function report(r: {
  shape: { receivables: number; events: number; members: number };
  sizes: Record<string, string>;
  seed: SeedResult | null;
  seedInfo: string;
  results: Result[];
  single: number;
  plans: Map<string, string[]>;
  requests: number;
  connections: number;
  loadAtStart: number;
  started: Date;
  totalSeconds: number;
  page: number;
  member: string;
  auditor: string;
  /** Flags beyond the shape that change what is measured (variants, rounds, single), as given. */
  extraFlags: Record<string, string>;
}): { table: string; body: string } {
  const requests = r.requests;
  const trio = (s: Stats) => `${ms(s.p50)} / ${ms(s.p95)} / ${ms(s.p99)}`;
  const rows = r.results.map(({ s, http, sql, http1, sql1 }) => [
    s.name,
    trio(http),
    trio(sql),
    `${(http.p50 / sql.p50).toFixed(1)}× / ${(http.p95 / sql.p95).toFixed(1)}×`,
    `${ms(http1.p50)} / ${ms(http1.p95)} · ${ms(sql1.p50)} / ${ms(sql1.p95)}`,
    `${((http.serviceCpuMs ?? NaN)).toFixed(1)} ms, ${Math.round(requests / (http.seconds ?? NaN))}/s, ${Math.round(100 * (http.machineBusy ?? NaN))}%`,
    http.errors ? `NO (${http.errors} non-200)` : http.p95 <= TARGET_MS ? "yes" : "**NO**",
    http.p95 <= RATIO_TARGET * sql.p95 ? "yes" : "**NO**",
  ]);
  const table = markdownTable(
    ["query", "HTTP p50 / p95 / p99 (ms)", "SQL p50 / p95 / p99 (ms)", "ratio HTTP/SQL p50 / p95", "1 connection: HTTP p50 / p95 · SQL p50 / p95", "service CPU/request, req/s, machine busy", `p95 ≤ ${TARGET_MS} ms`, `p95 ≤ ${RATIO_TARGET} × SQL p95`],
    rows,
    ["l", "r", "r", "r", "r", "r", "l", "l"],
  );
  const labels = Object.keys(r.results[0]?.variants ?? {});
  const cores = cpus().length;
  const compare = markdownTable(
    ["query", ...labels.map((l) => `${l}: HTTP p50 / p95 (ms) · service CPU/request · req/s · machine busy`)],
    r.results.map(({ s, variants }) =>
      [s.name, ...labels.map((l) => {
        const h = variants[l];
        return `${ms(h.p50)} / ${ms(h.p95)} · ${h.serviceCpuMs!.toFixed(2)} ms · ${Math.round(h.n / h.seconds!)}/s · ${Math.round(100 * h.machineBusy!)}%`;
      })]),
    ["l", ...labels.map((): "r" => "r")],
  );
  // Little's law: with the cores saturated, `connections` requests in flight wait on average
  // connections × (machine CPU per request) / cores, whatever the code does with its own share.
  const capacity = markdownTable(
    ["query", "machine CPU/request (all processes)", "of it the service", `${r.connections} × machine CPU/request ÷ ${cores} cores`, "measured HTTP p50 / mean"],
    r.results.map(({ s, http }) => {
      const machineMs = (http.machineBusy! * cores * http.seconds! * 1000) / http.n;
      return [s.name, `${machineMs.toFixed(2)} ms`, `${http.serviceCpuMs!.toFixed(2)} ms`, `${((r.connections * machineMs) / cores).toFixed(1)} ms`, `${ms(http.p50)} / ${ms(http.mean ?? NaN)} ms`];
    }),
    ["l", "r", "r", "r", "r"],
  );
  const seedLine = r.seed
    ? `seeded in this run in ${fmtSeconds(r.seed.seconds)} s (${r.seed.steps.map((s) => `${s.step} ${fmtSeconds(s.seconds)} s`).join("; ")})`
    : `seeded by an earlier run and reused (${r.seedInfo})`;
  const sqlP95s = r.results.map(({ sql }) => sql.p95);
  const sqlP95Range = `${ms(Math.min(...sqlP95s))}-${ms(Math.max(...sqlP95s))}`;
  const cpus_ = r.results.map(({ http }) => http.serviceCpuMs!);
  const cpuRange = `${Math.min(...cpus_).toFixed(1)}-${Math.max(...cpus_).toFixed(1)}`;
  const queueRange = `${((r.connections * Math.min(...cpus_)) / cpus().length).toFixed(0)}-${((r.connections * Math.max(...cpus_)) / cpus().length).toFixed(0)}`;
  const lines = [
    "## Query latency at scale",
    "",
    "Written by `scripts/bench/query.ts` (seeding in `scripts/bench/query-seed.ts`). PostgreSQL database",
    "`scf_bench_query` with the service's own migrations, bulk-filled inside PostgreSQL (generate_series,",
    "INSERT … SELECT; indexes rebuilt after the load, then VACUUM ANALYZE) in the shape the indexer writes:",
    "one transaction per act, four per block, events with their decoded arguments, actor, receivable and line",
    "ids, a party row for every address argument, and the projections (receivables with split lineage,",
    "financings, credit lines, payments, members) consistent with them. Sellers are drawn with a Zipf-like",
    "skew (the heaviest supplier has tens of thousands of receivables, several have ~10k), debtors skewed too;",
    "statuses issued 8% / accepted 30% / financed 17% / paid 36% / defaulted 3% / cancelled 3%, one original",
    "in 25 split in two, one in 100 split again (three-level trees); due dates over two years; amounts as the",
    "schema's 20-digit zero-padded strings.",
    "",
    "The real service (`createApp`, indexer and sender off, a `hardhat node` with a fresh deployment only for",
    "its boot checks) runs as its own process; callers sign in by SIWE as seeded members: the heaviest",
    `supplier (${r.member}) and an auditor (${r.auditor}).`,
    `HTTP: autocannon, ${formatInt(r.requests)} requests per query over ${r.connections} connections, after 200 warm-up`,
    "requests, ids cycled per request (500 of the member's own receivables; 500 sampled receivables for the",
    "history; 300 leaves of three-level trees for the lineage; 200 different 7-day windows for the audit feed).",
    "SQL: the statements the service ran for each of those same requests (captured from TypeORM's query",
    "logger in an in-process instance; the sign-in guard's session and member look-ups excluded), run",
    `in the same order through \`pg\` by ${r.connections} clients at once, ${formatInt(r.requests)} requests; a request's SQL time is`,
    "the sum of its statements' round trips. The ratio is what the service adds: HTTP, the auth guard,",
    "validation, TypeORM's entity mapping, serialisation.",
    `"1 connection": ${formatInt(r.single)} more requests of each query by a single client (HTTP and SQL), the latency of a`,
    "request alone, without queueing behind the other nine. \"Service CPU/request\": user + system CPU time of the service",
    "process over the 10-connection run divided by the requests; req/s: that run's throughput; machine busy: share of",
    "both cores in use during it, by every process on the machine (load generator, PostgreSQL, the other users).",
    "",
    `- Date: ${r.started.toISOString()}`,
    `- Machine: ${machineDescription()}; PostgreSQL 15 (default settings: shared_buffers 128 MB), service, load generator and database share it.`,
    `- Command: \`${commandLine("query", { receivables: r.shape.receivables, events: r.shape.events, members: r.shape.members, requests: r.requests, ...r.extraFlags })}\``,
    `- ${loadNote(r.loadAtStart)}`,
    `- Database: ${formatInt(Number(r.sizes.receivables))} receivables, ${formatInt(Number(r.sizes.events))} ledger events, ${formatInt(Number(r.sizes.parties))} party rows,`,
    `  ${formatInt(Number(r.sizes.members))} members, ${formatInt(Number(r.sizes.financings))} financings, ${formatInt(Number(r.sizes.payments))} payments; ${r.sizes.size} on disk.`,
    `- Seeding: ${seedLine}.`,
    `- Whole run (seeding, boot, capture, plans, measurements): ${fmtSeconds(r.totalSeconds)} s.`,
    r.page < 100 ? `- The member's list has only ${r.page} pages at this size: the "100th page" row is page ${r.page}.` : "",
    "",
    table,
    "",
    ...(labels.length > 1
      ? [
          `Each query's ${formatInt(r.requests)} requests at ${r.connections} connections, sent to every variant in turn (${labels.join(", ")}),`,
          "in interleaved rounds within this run, each its own process on the same database (\"before\": the build",
          "of the commit before this change, `--before DIR`: `git archive` of that commit, node_modules linked, `npm run build`):",
          "",
          compare,
          "",
        ]
      : []),
    `Where a request's time goes at ${r.connections} connections on ${cores} cores (this build): the whole machine's CPU per request`,
    "(service, PostgreSQL, load generator, other users) and the mean latency that CPU alone implies when the",
    "cores are saturated (Little's law): no change to the service below that line can bring the mean under it.",
    "",
    capacity,
    "",
    ...r.results.flatMap(({ s, http, sql }) => [
      ...(http.p95 > TARGET_MS || http.errors
        ? [`- **TARGET MISSED: ${s.name}: HTTP p95 ${ms(http.p95)} ms > ${TARGET_MS} ms${http.errors ? `, ${http.errors} non-200 answers` : ""}**`]
        : [`- Target met: ${s.name}: HTTP p95 ${ms(http.p95)} ms ≤ ${TARGET_MS} ms`]),
      http.p95 > RATIO_TARGET * sql.p95
        ? `- **TARGET MISSED: ${s.name}: HTTP p95 ${ms(http.p95)} ms > ${RATIO_TARGET} × SQL p95 ${ms(sql.p95)} ms**`
        : `- Target met: ${s.name}: HTTP p95 ${ms(http.p95)} ms ≤ ${RATIO_TARGET} × SQL p95 ${ms(sql.p95)} ms`,
    ]),
    "",
    "### What was slow, and what changed",
    "",
    "Measured on this database with EXPLAIN ANALYZE of the SQL the service ran before the change (one run each,",
    "machine under the same load), against the plans below:",
    "",
    "- **A member's list** (`GET /receivables`): \"party to\" was one predicate `seller = me OR debtor = me OR holder = me",
    "  OR EXISTS (financing with financier = me)`. No index serves an OR with a sub-select, so PostgreSQL read every",
    "  receivable of the status (bitmap on `ix_receivables_holder`'s status column: 330,174 rows, 321,222 thrown away)",
    "  plus a parallel sequential scan of financings, then sorted: **1,045 ms** for the first page (JIT included). Now",
    "  each alternative is its own branch, ordered and limited on its own index (`ix_receivables_seller/debtor/holder`",
    "  as index-only scans; financier branch through the new `ix_financings_financier`), keyset by row comparison",
    "  `(due_date, id) > (…)` so the 100th page seeks straight to its position; the page is the union's first 51:",
    "  **~0.3-0.6 ms** alone. Without the new index the financier branch was a parallel sequential scan of financings",
    "  (49 ms); with it but planned blind for an average financier PostgreSQL still launched a parallel worker for an",
    "  empty result (5-40 ms under load), so the branch runs only when the caller finances something (one indexed",
    "  probe; since 2026-12-06 a one-time filter inside the page's statement, no longer a statement of its own: below).",
    "- **History**: `receivable_id = :id OR (ReceivableSplit AND receivable_id IN (SELECT children))` became a",
    "  BitmapOr with `ix_ledger_events_name` that read all 90,906 ReceivableSplit events of the ledger and filtered them",
    "  against a hashed sub-plan: **233 ms**. Now the children's ids are read first (`ix_receivables_parent`) and passed as",
    "  a list: both arms are `ix_ledger_events_receivable` look-ups, **~0.1 ms**.",
    "- **Audit feed in a time range**: `timestamp` bounds with ORDER BY chain position made PostgreSQL walk",
    "  `ix_ledger_events_order` from the start of the chain and discard 1,367,428 rows before the window (a window",
    "  a third of the way in): **4,539 ms**, growing with the ledger. Block times strictly increase along the chain (a",
    "  consensus rule), so the time bounds are now turned into block bounds by one `ix_ledger_events_time` probe each",
    "  and the page is a range scan of `ix_ledger_events_order`: **0.19 ms**. The keyset condition after a cursor is a",
    "  row comparison `(block, tx, log) > (…)` that the same index seeks to (the export uses it too).",
    "- **Round trips** (2026-11-27): a V8 profile of the service under this load (`--cpu-prof DIR`) showed 16 % of all its",
    "  samples in `writev` of the `pg` client: with both cores busy, every statement sent wakes a PostgreSQL backend",
    "  that takes the core. So the statements per request were cut: the access guard reuses a session and member row",
    "  for `CALLER_CACHE_MS` (2 s; sign-outs and indexed membership changes apply at once) instead of two look-ups per",
    "  request; a receivable, its financing and its creation time are one statement (were three); a list page takes",
    "  the creation time as a scalar subquery (was a second query); the lineage is one recursive query up to the root",
    "  and down (was ten). By id 4 + 2 statements → 2, list 3 + 2 → 2, history 4 + 2 → 3, lineage 10 + 2 → 2, audit",
    "  1 + 2 → 1. Before (1,000 requests per query, same machine): p95 byId 58 ms, list 75/50 ms, history 34 ms, lineage 62 ms, audit 49 ms.",
    "- **Per-request CPU** (2026-12-05). A V8 profile of the service under this load (`--cpu-prof DIR`, 1,000",
    "  requests per query) had 24.5 s of its samples in `writev` (socket writes: on loopback the writer runs the",
    "  peer's receive path, and on a saturated machine it then waits for a core) against 39.1 s of everything else,",
    "  split (boot included): node core (HTTP, streams, buffers) 19.7 %, TypeORM 17.8 % (query building",
    "  `getQuery` 5.3 % inclusive, its relational result transformer), GC 11.1 %, Express and its router 7.1 %, `pg`",
    "  6.2 %, our code 5.5 %, boot 4.9 %, class-validator/-transformer 3.6 %, Nest core 3.3 %, throttler 2.1 %, pino 1.9 %.",
    "  Nothing of ours dominates. Changed: the hot reads (one receivable, list page, history, lineage, audit feed)",
    "  take `getRawMany` rows and hydrate them with the driver's own `prepareHydratedValue` (database/raw-rows.ts)",
    "  instead of TypeORM's transformer, which groups rows by key and resolves relations for single-entity rows.",
    "  Measured against the build before it, interleaved (`--before DIR`, 2026-12-05 02:30, 600 requests per query): service CPU/request by id −11 %, list −11 % / −7 %,",
    "  history −38 %, audit −10 %, lineage +25 %. Other users saturated the machine during the run (load average",
    "  ~23 on 2 cores): the Fastify column runs the same read code and its lineage was −28 %, so differences of",
    "  this size are within the run's noise; the direction is consistent, the size is not established.",
    "- **Per-request CPU, second pass** (2026-12-05 21:20-21:50; a 200,000-receivable seed, which per-request CPU barely",
    "  depends on; other engineers' work on the machine: load average 6-12 on 2 cores). A profile of the service under",
    "  this load (`--cpu-prof`) still had TypeORM at 10.8 % of its busy samples, most of it building the same SQL again on",
    "  every request (`getQueryAndParameters`, ~0.1 ms per statement timed alone), and `writev` (one per statement, one per",
    "  response) at 28 %. Changed: (1) fewer statements: a receivable's dispute is a LEFT JOIN of the receivable's own",
    "  statement (one at most: `ux_receivable_disputes_receivable`) and the history's children's ids come with the",
    "  receivable (`r.id = :id OR r.parent_id = :id`, a second index arm): by id 3 → 2 statements, history 3 → 2;",
    "  (2) SQL kept per shape (`compiledRaw`, database/compiled-select.ts): the hot selects (one receivable, its payments,",
    "  history, lineage, list page and its financier probe, audit page) have TypeORM build their SQL once per shape, with",
    "  markers in place of the values, and afterwards only bind the values and run it; the database receives the same",
    "  statements as before (on SQLite numbers are bound instead of written into the text); (3) no ETag on API responses:",
    "  Express hashed every JSON body with SHA-1 (a whole 100-event page each time) for a validator this API's clients do",
    "  not send back (~1 % of the profile; too small to see in these runs). Measured against the build before, interleaved",
    "  (`--before DIR`, 1,000 requests per query in 4 rounds, load average ~11): service CPU/request by id 2.51 → 1.69 ms",
    "  (−33 %), list 2.48 → 2.16 (−13 %) and 1.72 → 1.29 (−25 %) by cursor, history 1.67 → 1.17 (−30 %), lineage",
    "  1.12 → 0.86 (−23 %), audit 2.76 → 2.52 (−9 %). Step by step, each against the build before in its own run: the",
    "  merged statements alone by id −13 %, history −29 %; with the SQL kept per shape by id −29 %, history −18 %, lineage −17 %.",
    "  Measured and left as they are: helmet, pino-http (its child logger per request, also with `quietReqLogger`), the",
    "  throttler guard and the ETag, each switched off in a variant of one run (by id and audit, 900 requests, six",
    "  processes at once, load ~8): none moved CPU/request beyond that run's noise (±15 %); each is 1-3 % of the profile.",
    "  class-validator on the list and audit query DTOs costs ~0.15 ms a request and stays (its messages are the API's",
    "  400s). What is left is spread thin: node's HTTP and stream code ~20 % of the samples, GC ~7 %, Express and its",
    "  router ~5 %, JSON.stringify of the body, pg's row parsing, and on the 50- and 100-row pages the rows themselves",
    "  (hydration, DTOs, `args` parsed and serialised again: ~20 µs a row).",
    "- **Per-request CPU, third pass** (2026-12-06 00:50-01:40, this database; other users' work on the machine, load",
    "  average 5-10 on 2 cores). A profile of the service under the list and audit loads (`--cpu-prof`) had `writev` at 33 %",
    "  of its busy samples, 59 % of it sending statements to PostgreSQL and 41 % writing responses (a list page is 33 kB",
    "  of JSON, an audit page 76 kB); the rows' hydration (`entitiesOf`) 3.1 % inclusive and their DTOs 1.9 %;",
    "  class-validator 1.3 %. Changed: (1) **a list page is one statement** (was two): the financier probe is now a",
    "  one-time filter on the financier branch, `… ) b3 WHERE EXISTS (SELECT 1 FROM financings fx WHERE fx.financier = $1)`,",
    "  placed outside the branch's LIMIT, where PostgreSQL evaluates it once (an InitPlan: one `ix_financings_financier`",
    "  probe) above the branch's Gather Merge, so for a caller who finances nothing the branch never starts (EXPLAIN",
    "  ANALYZE: 0.4-1.0 ms, \"Workers Launched: 0\"). Inside the LIMIT the same filter sat under the Gather Merge and a",
    "  worker was launched for an empty result (6.9 ms). (2) **rows to JSON without entities**: list pages, the audit",
    "  feed and histories map raw rows straight to the response (`ReceivableDto.fromRaw`, `LedgerEventDto.fromRaw`: the",
    "  entity's column conversions written out for the values pg and SQLite return); on real rows of this database",
    "  3.3 → 1.3 µs a row (list) and 2.7 → 1.2 µs (audit), mapping alone; the integration tests compare every mapped row",
    "  with the entity path on both databases. (3) **class-validator's rules looked up once per DTO class**",
    "  (common/validation-metadata.ts): each `validate` walked every class with rules (`instanceof` each, for inherited",
    "  ones) and regrouped them; the answer is now kept per class and options, and dropped whenever a rule is added. The",
    "  pipe on the list query costs 13-15 µs a call instead of 29-32 µs (a loop of 20,000 calls; the ~0.15 ms above was",
    "  a profile's share under load); validation itself is still class-validator's, and the 400 bodies of representative",
    "  bad list and audit queries are pinned in test/services/validation-pipe.test.ts as the build before gave them.",
    "  Measured against the build before, interleaved, in two runs on a machine saturated by other users (load average",
    "  7-10, so p95 is mostly their queueing; service CPU/request is the measure): the table above (`--before DIR`, all",
    "  six queries) list 1.93 → 1.54 ms (−20 %), by cursor 1.71 → 1.56 (−9 %), audit 1.94 → 1.74 (−10 %), history",
    "  0.89 → 0.84, and by id 1.38 → 1.32 and lineage 0.94 → 0.89, which this change does not touch (the run's noise,",
    "  ±5 %); an earlier run (`--queries list1,list100,audit,history`) list 2.39 → 2.00 (−16 %), by cursor 1.84 → 1.61",
    "  (−12 %), history 0.99 → 0.95, audit 1.98 → 1.91 (−4 %). On the quiet machine of the previous run (load 2.07,",
    "  2026-12-05 22:58) the p95s were list 32.7 / 25.3 ms and audit 28.7 ms at 1.5 / 1.4 / 2.0 ms of service CPU. Checked",
    "  and left: no query counts a total (pages are keyset, limit + 1 rows), and every sort and cursor is an index range",
    "  (plans below). What the audit page still costs is mostly its 76 kB: pg parsing 101 rows of 14 columns,",
    "  JSON.stringify and the socket write; the API's shape fixes the body.",
    "  Noticed and left then: a financier's own list ran the financier branch, which read every financing of the caller",
    "  and its receivable before sorting (a Parallel Bitmap Heap Scan; 240 ms for a financier with 1,703 financings, under",
    "  load). Changed since (below).",
    "- **A financier's list as an index range** (2026-12-06, migration ReceivableFinancier). The financier of a",
    "  receivable's financing (financings has one row per receivable; a new request replaces a rejected, withdrawn or",
    "  lapsed one, perhaps with another financier's line) is copied onto the receivable, `receivables.financier`, by the",
    "  projector wherever financings.financier is written (FinancingRequested and FinancingImported: one more update by",
    "  primary key; an approval through the ReceivableAssigned update it already made), and read by a partial index",
    "  `ix_receivables_financier (financier, status, due_date, id) WHERE financier IS NOT NULL`, the seller/debtor/holder",
    "  indexes' shape (a tokenisation adds no entry to it). The financier branch is `r.financier = $1` like the others, and",
    "  `role=<own role>` is that role's condition alone, without the union (which implies it). The migration backfills",
    "  the column from financings on both engines; a reorg rebuilds it with every projection, and the index checks compare",
    "  it with the chain (the financing record's line's financier). EXPLAIN (ANALYZE, BUFFERS) of the list statement before",
    "  and after, on a database seeded by query-seed.ts (200,000 receivables, 57,620 financings, 100 members; the",
    "  heaviest financier has 6,552 financings, all of which it also holds), medians of 9 interleaved runs, load average",
    "  5-6 on the 2 cores: first page by due date 150 → 2.9 ms; status=paid, due date, a cursor page 1,000 rows in",
    "  95 → 0.87 ms (12,670 → 526 buffers: the old branch hashed the financier's financings against a parallel sequential",
    "  scan of receivables); status=financed, due date descending 93 → 1.1 ms; role=financier&status=financed 50 →",
    "  0.5 ms; by amount descending 140 → 34 ms, by creation 145 → 22 ms. The same pages each time. What is left: without",
    "  a status filter, or sorted by amount or creation, every branch (as for sellers) reads all the caller's entries in",
    "  its index and sorts them (a financier's holder branch is as large as its financier branch), since the indexes",
    "  order by status then due date; an index per sort key and party would fix that, at a write for each on every",
    "  tokenisation. Projector cost: a FinancingRequested costs 49.5 → 64.2 µs of CPU (SQLite, medians of 6 interleaved",
    "  runs of 3,000 events); the catch-up benchmark (`npm run bench -- --only indexer --events 100000 --batch-blocks 5`,",
    "  tokenisations only, which the partial index skips) is unchanged within its noise: process CPU per catch-up",
    "  3.60 / 4.10 / 3.94 s before, 3.97 / 4.06 / 3.57 s after (three interleaved pairs, load average 2.5-6; wall-clock",
    "  rates 11,142-19,601 events/s before and 10,725-23,563 after, all the other users' load).",
    "- **Fastify** (`@nestjs/platform-fastify` 11.2.8, the newest 11.x; not a dependency): the same AppModule on",
    "  Nest's Fastify adapter (`scripts/bench/query-fastify.cjs`, preloaded; install command in that file) beside",
    "  Express in the same run: service CPU/request audit −18 %, lineage −28 %, by id +1 %, lists +4 % / +16 %,",
    "  history +13 %. No consistent gain; adopting it would mean replacing multer uploads, the Express `Response`",
    "  streaming of exports, the console's static serving, helmet and `trust proxy`. Express stays.",
    "- **Pool size** (`DB_POOL_MAX`, new, default 10 as before): 4 and 2 connections measured beside 10 on the",
    "  by-id query (`--variants \"pool4:DB_POOL_MAX=4;pool2:DB_POOL_MAX=2\"`, an earlier run, 1,000 requests,",
    "  machine saturated by other users): p95 671 ms at 10, 857 ms at 4, 1,495 ms at 2; CPU/request 3.9 / 4.5 / 4.5 ms. With",
    "  the service, PostgreSQL and the client on the same two cores a smaller pool only moves the queue into the",
    "  service; the default stays 10. `--max-semi-space-size=64` (fewer scavenges) in the same run: no gain (p95 1,272 ms, 4.3 ms/request).",
    "",
    "Where the remaining time goes: every statement is about a millisecond or less alone (plans below). At",
    `${r.connections} connections the figures are queueing on ${cores} cores shared by the service, the load generator and PostgreSQL`,
    `(and, in this run, whatever else was running: see machine busy): the same SQL sent directly by ${r.connections} clients, with no`,
    `service at all, has a p95 of ${sqlP95Range} ms here. The service's own CPU per request was ${cpuRange} ms in this run`,
    "(1.8-2.7 ms on an idle machine, 2026-11-27); with the cores saturated, " + `${r.connections} requests in flight queue behind`,
    `${r.connections} × that ÷ ${cores} cores = ${queueRange} ms of the service's CPU alone, before PostgreSQL's and the client's share (Little's law,`,
    "table above). A p95 of 20 ms at 10 connections, which is about twice the mean, needs the whole machine's CPU per",
    `request (service + PostgreSQL + client) under about ${((TARGET_MS / 2) * cores / r.connections).toFixed(1)} ms; the service alone already uses about that, so the target is out of`,
    "reach on two shared cores whatever the code does; it needs more cores, or API replicas on their own cores",
    "(docs/DEPLOYMENT.md). The ratio target (HTTP p95 ≤ 1.5 × the same SQL's p95) fails for the same reason: the",
    "direct SQL run has no service CPU to queue behind.",
    "",
    "### Query plans",
    "",
    "EXPLAIN (ANALYZE, BUFFERS) of every statement of one request of each query, condensed to the plan nodes,",
    "their index conditions and filters, and the timings.",
    "",
    ...r.results.flatMap(({ s }) => [`**${s.name}**`, "", "```", ...(r.plans.get(s.key) ?? []).map((p) => p + "\n"), "```", ""]),
  ];
  return { table, body: lines.filter((l, i, a) => !(l === "" && a[i - 1] === "")).join("\n") };
}
