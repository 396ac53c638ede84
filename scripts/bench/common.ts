/**
 * Shared pieces of the service benchmarks (scripts/bench.ts): command-line flags, a chain with a
 * fresh deployment and registered members, pre-signed tokenisation transactions, timers and the
 * "under load" note. Benchmarks reuse the integration harness (test/support) so they measure the
 * same service the tests exercise; they are scripts, never tests.
 */
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import { id as keccakId, Wallet, type TransactionRequest } from "ethers";
import type { TestChain } from "../../test/support/chain";
import type { TestEnv } from "../../test/support/app";
import { attestInvoices } from "../../test/support/acts";
import { makeUscc } from "../../test/support/entity-ids";
import { entityIdHash } from "../../services/src/onboarding/onboarding.service";
import { ROLE_BITS } from "../../shared/roles";

/** `--name value` and `--flag` pairs of argv; values stay strings. */
export function parseFlags(argv: string[]): Map<string, string> {
  const flags = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith("--")) continue;
    const eq = a.indexOf("=");
    if (eq !== -1) flags.set(a.slice(2, eq), a.slice(eq + 1));
    else if (i + 1 < argv.length && !argv[i + 1].startsWith("--")) flags.set(a.slice(2), argv[++i]);
    else flags.set(a.slice(2), "true");
  }
  return flags;
}

export function intFlag(flags: Map<string, string>, name: string, dflt: number): number {
  const v = flags.get(name);
  if (v === undefined) return dflt;
  const n = Number(v.replace(/[_,]/g, ""));
  if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name} must be a positive integer, got "${v}"`);
  return n;
}

/** The command line that reproduces this run, for the document. */
export function commandLine(part: string, flags: Record<string, string | number>): string {
  const extra = Object.entries(flags).map(([k, v]) => ` --${k} ${v}`).join("");
  const db = process.env.TEST_DATABASE === "postgres" ? "TEST_DATABASE=postgres " : "";
  return `${db}npm run bench -- --only ${part}${extra}`;
}

/** CPU busy fraction of the whole machine over `ms`, from /proc/stat, measured before a run starts
 * anything of its own: what other processes are using. */
export async function machineBusy(ms = 3_000): Promise<number> {
  const read = () => {
    const f = readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).slice(1).map(Number);
    const idle = f[3] + (f[4] ?? 0);
    return { idle, total: f.reduce((a, b) => a + b, 0) };
  };
  const a = read();
  await new Promise((r) => setTimeout(r, ms));
  const b = read();
  return b.total === a.total ? 0 : 1 - (b.idle - a.idle) / (b.total - a.total);
}

/** A note on the machine's load at the start of a run, so figures taken under load are marked. */
export function loadNote(busy: number): string {
  const cores = cpus().length;
  const pct = `${(busy * 100).toFixed(0)}% of ${cores} cores busy and 1-minute load average ${loadavg()[0].toFixed(2)}`;
  return busy > 0.25
    ? `**Taken under load**: ${pct} just before the run started (another process was working), so these figures are pessimistic.`
    : `Machine idle when the run started (${pct}, the load average still decaying from earlier work).`;
}

export const nowSeconds = (): number => Number(process.hrtime.bigint()) / 1e9;

export function fmtRate(n: number): string {
  return n >= 100 ? Math.round(n).toLocaleString("en-US") : n.toFixed(1);
}

export function fmtSeconds(s: number): string {
  return s >= 10 ? s.toFixed(1) : s.toFixed(2);
}

export function mib(bytes: number): string {
  return `${Math.round(bytes / 2 ** 20).toLocaleString("en-US")} MiB`;
}

/** Samples this process's RSS every `ms` and keeps the peak. */
export function rssSampler(ms = 50): { peak(): number; stop(): number } {
  let peak = process.memoryUsage().rss;
  const t = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, ms);
  t.unref();
  return {
    peak: () => peak,
    stop: () => {
      clearInterval(t);
      return Math.max(peak, process.memoryUsage().rss);
    },
  };
}

/** The time on the chain, for due dates and KYC expiries that the contracts accept. */
export async function chainNow(chain: TestChain): Promise<number> {
  return (await chain.provider.getBlock("latest"))!.timestamp;
}

/** The unified social credit code a benchmark member is registered with (derived from its address). */
export function benchTaxId(address: string): string {
  const alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY";
  const n = BigInt(address);
  return makeUscc("91" + Array.from({ length: 15 }, (_, i) => alphabet[Number((n >> BigInt(5 * i)) % 31n)]).join(""));
}

/** The ledger's invoice attester (the compliance key of `env`) attests `invoices` of `seller`. */
export function attest(env: TestEnv, seller: string, invoices: InvoiceTuple[]): Promise<{ expiry: bigint; signature: string }> {
  const ledger = { chainId: env.chain.chainId, receivables: env.ledger.record.contracts.Receivables };
  return attestInvoices(env.keys.compliance, ledger, seller, invoices, invoices.length > 1);
}

/** Registers each wallet with `roles` through the onboarding operator key of `env`. */
export async function registerMembers(env: TestEnv, members: { address: string; roles: number }[]): Promise<void> {
  const kycExpiry = (await chainNow(env.chain)) + 2 * 365 * 86400;
  const registry = env.ledger.registry.connect(env.keys.operator);
  let nonce = await env.chain.provider.getTransactionCount(env.keys.operator.address, "pending");
  const sent = [];
  for (const m of members) {
    sent.push(await registry.register(m.address, m.roles, kycExpiry, "0x434e", entityIdHash("USCC", benchTaxId(m.address)), { nonce: nonce++ }));
  }
  await Promise.all(sent.map((tx) => tx.wait()));
}

/** Funded supplier wallets and one buyer, all registered. */
export async function makeParticipants(env: TestEnv, suppliers: number): Promise<{ suppliers: Wallet[]; buyer: Wallet }> {
  const ws: Wallet[] = [];
  // fundedWallet() waits for each funding transfer; run them a few at a time.
  for (let i = 0; i < suppliers; i += 4) {
    ws.push(...(await Promise.all(Array.from({ length: Math.min(4, suppliers - i) }, () => env.chain.fundedWallet()))));
  }
  const buyer = await env.chain.fundedWallet();
  await registerMembers(env, [...ws.map((w) => ({ address: w.address, roles: ROLE_BITS.supplier })), { address: buyer.address, roles: ROLE_BITS.buyer }]);
  return { suppliers: ws, buyer };
}

export interface InvoiceTuple {
  debtor: string;
  faceValue: bigint;
  dueDate: bigint;
  documentHash: string;
  fingerprint: string;
}

/** A distinct valid invoice; `tag` makes the fingerprint (and so the token id) unique. */
/**
 * The JSON body of one invoice for POST /receivables: numbered `<prefix>-<seq>` (7 digits), issued today,
 * due in 90 days, a distinct amount and document per `seq`.
 */
export function httpInvoice(o: { prefix: string; seq: number; debtor: string; sellerTaxId: string }): Record<string, unknown> {
  const day = (d: number) => new Date(Date.now() + d * 86_400_000).toISOString().slice(0, 10);
  return {
    debtor: o.debtor,
    invoiceNumber: `${o.prefix}-${String(o.seq).padStart(7, "0")}`,
    sellerTaxId: o.sellerTaxId,
    buyerTaxId: benchTaxId(o.debtor),
    issueDate: day(0),
    dueDate: day(90),
    amount: String(1_000_000 + o.seq),
    documentHash: "0x" + createHash("sha256").update(`${o.prefix} invoice ${o.seq}`).digest("hex"),
  };
}

export function invoice(debtor: string, tag: string, dueDate: number): InvoiceTuple {
  return {
    debtor,
    faceValue: 1_000_00n + BigInt(tag.length),
    dueDate: BigInt(dueDate),
    documentHash: keccakId(`doc-${tag}`),
    fingerprint: keccakId(`fp-${tag}`),
  };
}

/**
 * Signs `calls` (calldata to `to`) as consecutive transactions of `wallet` starting at its pending
 * nonce. Fees are fixed and generous so no transaction waits for a fee estimate.
 */
export async function presign(
  wallet: Wallet,
  chain: TestChain,
  to: string,
  calls: { data: string; gasLimit: bigint }[],
): Promise<string[]> {
  let nonce = await chain.provider.getTransactionCount(wallet.address, "pending");
  const out: string[] = [];
  for (const c of calls) {
    const tx: TransactionRequest = {
      type: 2,
      chainId: chain.chainId,
      to,
      data: c.data,
      nonce: nonce++,
      gasLimit: c.gasLimit,
      maxFeePerGas: 50_000_000_000n,
      maxPriorityFeePerGas: 1_000_000_000n,
    };
    out.push(await wallet.signTransaction(tx));
  }
  return out;
}

/** Sends each wallet's raw transactions in nonce order, all wallets at once; returns the hashes. */
export async function sendRawConcurrently(chain: TestChain, perWallet: string[][]): Promise<string[]> {
  const hashes: string[][] = await Promise.all(
    perWallet.map(async (raws) => {
      const hs: string[] = [];
      for (const raw of raws) hs.push((await chain.provider.send("eth_sendRawTransaction", [raw])) as string);
      return hs;
    }),
  );
  return hashes.flat();
}

/** Waits until every hash has a receipt; throws on a revert. */
export async function waitReceipts(chain: TestChain, hashes: string[], pollMs = 50): Promise<number> {
  const pending = new Set(hashes);
  let lastBlock = 0;
  while (pending.size) {
    for (const h of [...pending]) {
      const r = (await chain.provider.send("eth_getTransactionReceipt", [h])) as { status: string; blockNumber: string } | null;
      if (!r) continue;
      if (r.status !== "0x1") throw new Error(`transaction ${h} reverted`);
      lastBlock = Math.max(lastBlock, Number(r.blockNumber));
      pending.delete(h);
    }
    if (pending.size) await new Promise((res) => setTimeout(res, pollMs));
  }
  return lastBlock;
}

/**
 * Writes a preload script that profiles the process it is loaded into (V8 inspector) and saves the
 * profile to `dir` on SIGTERM; NODE_OPTIONS does not accept --cpu-prof itself.
 */
export function profilerPreload(dir: string): string {
  return writePreload(dir, "preload-profiler.js", [
      "const inspector = require('node:inspector');",
      "const fs = require('node:fs');",
      "const session = new inspector.Session();",
      "session.connect();",
      "session.post('Profiler.enable', () => session.post('Profiler.start'));",
      "process.once('SIGTERM', () => {",
      "  session.post('Profiler.stop', (err, res) => {",
      `    if (!err) fs.writeFileSync(${JSON.stringify(dir)} + '/service-' + process.pid + '.cpuprofile', JSON.stringify(res.profile));`,
      "    process.exit(0);",
      "  });",
      "});",
  ]);
}

/** Writes `lines` as the preload script `name` in `dir` (created if missing); returns its path. */
function writePreload(dir: string, name: string, lines: string[]): string {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, name);
  writeFileSync(file, lines.join("\n"));
  return file;
}

/** CPU time (user + system) a process has used so far, ms. */
export function processCpuMs(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  return (Number(f[11]) + Number(f[12])) * 10;
}

/** Machine CPU counters, or the busy share since `since`. */
export function machineCpu(): { idle: number; total: number };
export function machineCpu(since: { idle: number; total: number }): number;
export function machineCpu(since?: { idle: number; total: number }): { idle: number; total: number } | number {
  const f = readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).slice(1).map(Number);
  const now = { idle: f[3] + (f[4] ?? 0), total: f.reduce((a, b) => a + b, 0) };
  if (!since) return now;
  return now.total === since.total ? 0 : 1 - (now.idle - since.idle) / (now.total - since.total);
}

/** VmHWM (peak resident set) and VmRSS of a process, in bytes. */
export function procMemory(pid: number): { hwm: number; rss: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? 0) * 1024;
  return { hwm: kb("VmHWM"), rss: kb("VmRSS") };
}

/**
 * A preload (NODE_OPTIONS --require) that counts every SQLite statement the process runs through
 * better-sqlite3 (TypeORM's driver): per statement text (multi-row VALUES lists folded to one
 * tuple), the calls, the rows they bound as VALUES tuples, the rows read and the rows changed. On
 * SIGUSR2 it writes the counts since the last dump to `<dir>/sql-<pid>-<n>.json` and starts again,
 * so a harness can cut the counts at act boundaries. Counting only: statements run unchanged.
 */
export function sqlCounterPreload(dir: string): string {
  return writePreload(dir, "preload-sql-counter.js", [
      "const fs = require('node:fs');",
      `const Database = require(${JSON.stringify(require.resolve("better-sqlite3"))});`,
      "let counts = new Map(); let n = 0;",
      "const norm = (sql) => sql.replace(/\\(\\s*(?:\\?|\\$\\d+)(?:\\s*,\\s*(?:\\?|\\$\\d+))*\\s*\\)(?:\\s*,\\s*\\(\\s*(?:\\?|\\$\\d+)(?:\\s*,\\s*(?:\\?|\\$\\d+))*\\s*\\))*/g, '(…)').replace(/\\s+/g, ' ').slice(0, 400);",
      "const tuples = (sql) => { const m = sql.match(/VALUES\\s*(\\(.*)/is); return m ? (m[1].match(/\\)\\s*,\\s*\\(/g) || []).length + 1 : 0; };",
      "const rec = (sql) => { const k = norm(sql); let c = counts.get(k); if (!c) counts.set(k, (c = { calls: 0, tuples: 0, read: 0, changed: 0, ms: 0, t: tuples(sql) })); c.calls++; c.tuples += c.t; return c; };",
      "const prepare = Database.prototype.prepare;",
      "Database.prototype.prepare = function (sql) {",
      "  const st = prepare.call(this, sql);",
      "  const run = st.run, all = st.all, get = st.get;",
      "  const now = () => Number(process.hrtime.bigint()) / 1e6;",
      "  st.run = function (...a) { const t = now(); const r = run.apply(this, a); const c = rec(sql); c.ms += now() - t; c.changed += r.changes; return r; };",
      "  st.all = function (...a) { const t = now(); const r = all.apply(this, a); const c = rec(sql); c.ms += now() - t; c.read += r.length; return r; };",
      "  st.get = function (...a) { const t = now(); const r = get.apply(this, a); const c = rec(sql); c.ms += now() - t; c.read += r ? 1 : 0; return r; };",
      "  return st;",
      "};",
      "process.on('SIGUSR2', () => {",
      `  fs.writeFileSync(${JSON.stringify(dir)} + '/sql-' + process.pid + '-' + (n++) + '.json', JSON.stringify(Object.fromEntries(counts)));`,
      "  counts = new Map();",
      "});",
  ]);
}
