/**
 * Service benchmarks at scale. Each part runs alone, prints its table and rewrites only its
 * own section of docs/BENCHMARKS.md (the `gas` section belongs to scripts/bench-gas.ts):
 *   npm run bench -- --only indexer --events 100000      indexer catch-up vs raw eth_getLogs
 *   npm run bench -- --only e2e --invoices 500           HTTP tokenisation vs direct transactions
 *   npm run bench -- --only compliance-batch --rounds 2  CPU of a batch act's compliance step (--roots A,B: builds in turn)
 *   npm run bench -- --only query --receivables 1000000  query latency on a seeded PostgreSQL
 *   npm run bench -- --only sanctions                    look-alike detection vs false positives
 *   npm run bench -- --only uploads --clients 6 --mb 100  service RSS under concurrent KYC uploads
 *   npm run bench -- --only memory                        npm start's resident memory, idle and through the demo
 *   npm run bench -- --only sender-wake --txs 200         outbox reads/s idle and under load (PostgreSQL)
 *   npm run bench -- --only restart --invoices 10000,100000  durable chain restart time and memory, before vs after
 *   npm run bench -- --only anvil-state --invoices 10000,100000  anvil state snapshots: dump, load, memory, tail hashes
 *   npm run bench -- --only replicas                      API replicas on PostgreSQL: wake latency, 1,000 tokenisations, reads 1 vs 2
 *   npm run bench -- --only service-memory                the service's RSS under a tokenisation load, and what it holds
 *   npm run bench -- --only node-rpc --reps 20            the chain node's CPU per JSON-RPC method a relayed batch act uses
 * Without --only every part runs in turn. TEST_DATABASE=postgres runs against PostgreSQL instead of
 * SQLite, as the integration tests do. These are scripts, never tests: nothing here asserts.
 */
import { parseFlags } from "./bench/common";
import { benchIndexer } from "./bench/indexer";
import { benchE2e } from "./bench/e2e";
import { benchActSql } from "./bench/act-sql";
import { benchComplianceBatch } from "./bench/compliance-batch";
import { benchQuery } from "./bench/query";
import { benchSanctions } from "./bench/sanctions";
import { benchUploads } from "./bench/uploads";
import { benchMemory } from "./bench/memory";
import { benchSenderWake } from "./bench/sender-wake";
import { benchRestart } from "./bench/restart";
import { benchAnvilState } from "./bench/anvil-state";
import { benchReplicas } from "./bench/replicas";
import { benchServiceMemory } from "./bench/service-memory";
import { benchNodeRpc } from "./bench/node-rpc";

const PARTS: Record<string, (flags: Map<string, string>) => Promise<void>> = {
  indexer: benchIndexer,
  e2e: benchE2e,
  "act-sql": benchActSql,
  "compliance-batch": benchComplianceBatch,
  query: benchQuery,
  sanctions: benchSanctions,
  uploads: benchUploads,
  memory: benchMemory,
  "sender-wake": benchSenderWake,
  restart: benchRestart,
  "anvil-state": benchAnvilState,
  replicas: benchReplicas,
  "service-memory": benchServiceMemory,
  "node-rpc": benchNodeRpc,
};

async function main(): Promise<void> {
  const flags = parseFlags(process.argv.slice(2));
  if (flags.has("db")) process.env.TEST_DATABASE = flags.get("db") === "postgres" ? "postgres" : "sqlite";
  const only = flags.get("only");
  const parts = only ? only.split(",") : Object.keys(PARTS);
  for (const p of parts) {
    const run = PARTS[p];
    if (!run) throw new Error(`unknown part "${p}"; choose from ${Object.keys(PARTS).join(", ")}`);
    await run(flags);
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
