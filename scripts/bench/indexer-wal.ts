/**
 * A catch-up's database writes alone (no chain), for the WAL checkpointing worker's A/B: 100,000
 * tokenisation-shaped events (Transfer + ReceivableTokenised, 200 per block) through appendAndProject()
 * in transactions of 10,000 on a fresh SQLite file with the deferred indexes off, the WAL
 * checkpointed in the commits (A) or by WalCheckpointer's worker (B), alternating, `rounds` times.
 * Prints the main thread's CPU (/proc/self/task) and its write calls and bytes (/proc/self/task/<tid>/io).
 * Not a part of `npm run bench` (it writes no section of docs/BENCHMARKS.md):
 *   npx ts-node --transpile-only scripts/bench/indexer-wal.ts [rounds]
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { DataSource } from "typeorm";
import { dataSourceOptions } from "../../services/src/database/data-source";
import { LedgerEventEntity } from "../../services/src/read-model/entities/ledger-event.entity";
import { appendAndProject } from "../../services/src/indexer/ledger-log";
import { WalCheckpointer } from "../../services/src/database/wal-checkpointer";
import { dropDeferrableIndexes, restoreDeferrableIndexes } from "../../services/src/indexer/deferred-indexes";

const main = () => { const f = readFileSync(`/proc/self/task/${process.pid}/stat`, "utf8").split(") ")[1].split(" "); return (Number(f[11]) + Number(f[12])) / 100; };
const io = () => Object.fromEntries(readFileSync(`/proc/self/task/${process.pid}/io`, "utf8").trim().split("\n").map((l) => { const [k, v] = l.split(": "); return [k, Number(v)]; }));
const hex = (n: number) => "0x" + randomBytes(n).toString("hex");
const addr = () => "0x" + randomBytes(20).toString("hex").replace(/^(..)/, "Ab");
const sellers = [addr(), addr(), addr(), addr()];
const buyer = addr();
function events(total: number): LedgerEventEntity[] {
  const out: LedgerEventEntity[] = [];
  let block = 100;
  for (let i = 0; i < total / 2; i++) {
    if (i % 200 === 0) block++;
    const tx = "0x" + block.toString(16).padStart(64, "0");
    const id = hex(32);
    const seller = sellers[block % 4];
    for (const [k, name] of [[0, "Transfer"], [1, "ReceivableTokenised"]] as const) {
      const e = new LedgerEventEntity();
      Object.assign(e, { txHash: tx, logIndex: 2 * (i % 200) + k, blockNumber: block, blockHash: "0x" + (block + 7).toString(16).padStart(64, "0"), txIndex: 0, timestamp: 1_800_000_000 + block, contract: "Receivables", address: "0x5FbDB2315678afecb367f032d93F642f64180aa3", eventName: name, txFrom: seller, lineId: null, receivableId: id });
      e.args = k === 0 ? { from: "0x0000000000000000000000000000000000000000", to: seller, tokenId: BigInt(id).toString() } : { id: BigInt(id).toString(), seller, debtor: buyer, faceValue: "1000000000", dueDate: String(1_815_000_000), documentHash: hex(32), fingerprint: hex(32) };
      e.actor = seller;
      out.push(e);
    }
  }
  return out;
}
async function run(worker: boolean, evs: LedgerEventEntity[]): Promise<string> {
  const dir = mkdtempSync("/tmp/s24wb/db-");
  const ds = new DataSource(dataSourceOptions({ kind: "sqlite", path: join(dir, "l.sqlite") }));
  await ds.initialize();
  await ds.runMigrations({ transaction: "each" });
  await ds.transaction((m) => dropDeferrableIndexes(m));
  const c0 = main(); const t0 = performance.now(); const io0 = io();
  const cp = worker ? WalCheckpointer.start(ds) : null;
  for (let i = 0; i < evs.length; i += 10_000) await ds.transaction((m) => appendAndProject(m, evs.slice(i, i + 10_000)));
  const c1 = main(); const io1 = io();
  await ds.transaction((m) => restoreDeferrableIndexes(m));
  const copied = cp ? await cp.stop() : 0;
  const c2 = main(); const t2 = performance.now();
  await ds.destroy(); rmSync(dir, { recursive: true });
  return `${worker ? "B worker" : "A commits"}: main-thread CPU writes ${(c1 - c0).toFixed(2)} s, +index builds ${(c2 - c0).toFixed(2)} s, wall ${((t2 - t0) / 1000).toFixed(2)} s, pages by worker ${copied}, main thread during the writes: ${((io1.wchar - io0.wchar) / 2 ** 20).toFixed(0)} MiB written in ${io1.syscw - io0.syscw} write calls, load ${readFileSync("/proc/loadavg", "utf8").split(" ")[0]}`;
}
void (async () => {
  const rounds = Number(process.argv[2] ?? 3);
  for (let r = 0; r < rounds; r++) for (const w of [false, true]) console.log(await run(w, events(100_000)));
})();
