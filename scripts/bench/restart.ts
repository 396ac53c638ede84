/**
 * Restart of the durable embedded chain on a ledger that holds N invoices, before and after a
 * change, in the same run.
 *
 * One chain (`npm run chain`, this build) gets the real ledger deployed, a few suppliers and a buyer
 * registered, then `tokeniseBatch` transactions of 200 invoices (each attested by the ledger's
 * attester key) from the suppliers at once, one block each, until it holds the first size of
 * `--invoices`; its resident memory is read at idle (the chain as it ran). Then it is stopped and
 * started again on the same data directory, alternately by the baseline build (`--before DIR`: a
 * project directory whose dist/ holds the build to compare with, run as `node DIR/dist/platform/
 * chain-runner.js`) and by this one, `--runs` times each: launch to the READY line (module loading,
 * journal read, replay, listen), VmRSS 3 s after READY and VmHWM (the peak since launch, replay
 * included), from /proc/<pid>/status. The chain then grows to the next size, and so on.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { HDNodeWallet, JsonRpcProvider, Mnemonic, Network, Wallet, id } from "ethers";
import { PROJECT_ROOT } from "../../platform/project-root";
import { DEFAULT_PARAMS, deployLedger, type Ledger } from "../lib/deploy-ledger";
import { formatInt, machineDescription, markdownTable, writeBenchmarkSection } from "../lib/bench-doc";
import { npmScriptArgs } from "../../test/support/process";
import { attestInvoices } from "../../test/support/acts";
import { ROLE_BITS } from "../../shared/roles";
import { commandLine, fmtSeconds, intFlag, invoice, loadNote, machineBusy, mib, nowSeconds, procMemory } from "./common";

const BATCH = 200;
const SUPPLIERS = 4;
const MNEMONIC = "test test test test test test test test test test test junk";
const NETWORK = Network.from(31337);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Runner {
  url: string;
  pid: number;
  readySeconds: number;
  output(): string;
  stop(): Promise<void>;
}

/** Starts a chain runner (`args` after `node`) on `dataDir` and waits for its READY line. */
async function startRunner(args: string[], dataDir: string): Promise<Runner> {
  const t0 = nowSeconds();
  const child = spawn(process.execPath, [...args, "--data-dir", dataDir, "--port", "0"], { cwd: PROJECT_ROOT, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      const m = /DURABLE_CHAIN_READY (\{.*\})/.exec(out);
      if (m) resolve((JSON.parse(m[1]) as { url: string }).url);
    });
    child.stderr!.on("data", (d: Buffer) => (out += d.toString()));
    child.once("exit", (code) => reject(new Error(`chain runner exited with ${code}:\n${out}`)));
  });
  const readySeconds = nowSeconds() - t0;
  return {
    url,
    pid: child.pid!,
    readySeconds,
    output: () => out,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      await exited;
    },
  };
}

interface Grower {
  /** Tokenises invoices on the chain at `url` until the ledger holds `total`. */
  growTo(url: string, total: number): Promise<number>;
}

const connect = (url: string) => new JsonRpcProvider(url, NETWORK, { staticNetwork: NETWORK, cacheTimeout: -1, pollingInterval: 20 });

/** Deploys the ledger and registers the members on a running chain; returns what adds invoices. */
export async function ledgerOn(url: string): Promise<Grower> {
  const provider = connect(url);
  const root = HDNodeWallet.fromMnemonic(Mnemonic.fromPhrase(MNEMONIC), "m/44'/60'/0'/0");
  const acct = (i: number) => new Wallet(root.deriveChild(i).privateKey, provider);
  const [admin, operator, compliance] = [acct(0), acct(1), acct(2)];
  const ledger: Ledger = await deployLedger(
    admin,
    { admin: admin.address, onboardingOperator: operator.address, complianceOfficer: compliance.address, issuer: admin.address },
    DEFAULT_PARAMS,
  );
  const suppliers = Array.from({ length: SUPPLIERS }, (_, i) => acct(3 + i));
  const buyer = acct(3 + SUPPLIERS);
  const now = (await provider.getBlock("latest"))!.timestamp;
  for (const [w, roles] of [...suppliers.map((s) => [s, ROLE_BITS.supplier] as const), [buyer, ROLE_BITS.buyer] as const]) {
    await (await ledger.registry.connect(operator).register(w.address, roles, now + 3 * 365 * 86400, "0x434e", id(w.address))).wait();
  }
  const receivables = await ledger.receivables.getAddress();
  const iface = ledger.receivables.interface;
  const due = now + 180 * 86400;
  let made = 0;
  let gasLimit: bigint | undefined;
  provider.destroy();
  return {
    async growTo(at, total) {
      const p = connect(at);
      try {
        while (made < total) {
          // One round: a batch from each supplier, signed, sent at once, all receipts waited for.
          const round = await Promise.all(
            suppliers.map(async (w) => {
              const s = w.connect(p);
              const n = Math.min(BATCH, total - made);
              if (n <= 0) return undefined;
              const batch = Array.from({ length: n }, (_, i) => invoice(buyer.address, `restart-${made + i}`, due));
              made += n;
              const att = await attestInvoices(compliance, { chainId: 31337n, receivables }, s.address, batch, true);
              const data = iface.encodeFunctionData("tokeniseBatch", [batch, att]);
              // Every full batch has the same shape: estimate once, with a margin.
              gasLimit ??= ((await p.estimateGas({ from: s.address, to: receivables, data })) * 12n) / 10n;
              return s.sendTransaction({ to: receivables, data, gasLimit });
            }),
          );
          for (const tx of round) if (tx) await tx.wait();
        }
        return made;
      } finally {
        p.destroy();
      }
    },
  };
}

interface Sample {
  seconds: number;
  rss: number;
  hwm: number;
  replayLine: string;
  memoryLine: string;
}

async function restartOnce(args: string[], dataDir: string): Promise<Sample> {
  const r = await startRunner(args, dataDir);
  try {
    await sleep(3_000);
    const mem = procMemory(r.pid);
    const out = r.output();
    return {
      seconds: r.readySeconds,
      rss: mem.rss,
      hwm: mem.hwm,
      replayLine: /replayed .*/.exec(out)?.[0] ?? "",
      memoryLine: /memory after the replay: (.*)/.exec(out)?.[1] ?? "",
    };
  } finally {
    await r.stop();
  }
}

function writeSection(rows: string[][], notes: string[], sizes: number[], runs: number, beforeDir: string, busy: number): void {
  const table = markdownTable(
    ["invoices", "build", "launch to READY", "RSS 3 s after", "peak (VmHWM)", "live chain, idle"],
    rows,
    ["r", "l", "r", "r", "r", "r"],
  );
  const cmd = commandLine("restart", { invoices: sizes.join(","), runs, before: beforeDir });
  const body = [
    "## Restart of the durable embedded chain",
    "",
    `scripts/bench/restart.ts: the real ledger on \`npm run chain\`, ${SUPPLIERS} suppliers sending \`tokeniseBatch\` transactions of`,
    `${BATCH} attested invoices at once (one block each), then the chain restarted on the same data directory by the`,
    "baseline build (`before`) and this one (`after`), alternately, each figure the median of the runs. Launch to",
    "READY includes module loading, the journal read and the replay; RSS is read 3 s after READY; the peak is",
    "VmHWM since launch. `live chain, idle` is the chain that mined the blocks, at idle before it was stopped.",
    "",
    table,
    "",
    ...notes,
    "",
    `Command: \`${cmd}\`. ${loadNote(busy)} Other engineers' work shared the machine.`,
    `Machine: ${machineDescription()}.`,
  ].join("\n");
  console.log(body);
  writeBenchmarkSection("restart", body);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export async function benchRestart(flags: Map<string, string>): Promise<void> {
  const sizes = (flags.get("invoices") ?? "10000,100000").split(",").map((s) => Number(s.replace(/[_]/g, "")));
  const runs = intFlag(flags, "runs", 2);
  const beforeDir = flags.get("before") ?? "/work/main";
  const before = [join(beforeDir, "dist", "platform", "chain-runner.js")];
  const after = npmScriptArgs("chain").slice(0, 2);
  statSync(before[0]);
  const busy = await machineBusy();
  const dataDir = mkdtempSync(join(tmpdir(), "restart-bench-"));
  const rows: string[][] = [];
  const notes: string[] = [];
  let live: Runner | undefined;
  try {
    live = await startRunner(after, dataDir);
    const grower = await ledgerOn(live.url);
    for (const size of sizes) {
      const g0 = nowSeconds();
      const invoices = await grower.growTo(live.url, size);
      const genSeconds = nowSeconds() - g0;
      await sleep(3_000);
      const liveMem = procMemory(live.pid);
      await live.stop();
      const journal = statSync(join(dataDir, "chain", "journal.ndjson")).size;
      console.log(`restart: ${formatInt(invoices)} invoices built in ${fmtSeconds(genSeconds)} s; journal ${mib(journal)}; live chain idle RSS ${mib(liveMem.rss)}`);
      const samples: Record<"before" | "after", Sample[]> = { before: [], after: [] };
      for (let i = 0; i < runs; i++) {
        for (const [name, args] of [["before", before], ["after", after]] as const) {
          const s = await restartOnce(args, dataDir);
          samples[name].push(s);
          console.log(`restart: ${formatInt(invoices)} invoices, ${name}: ready in ${fmtSeconds(s.seconds)} s, RSS ${mib(s.rss)}, peak ${mib(s.hwm)}; ${s.replayLine} ${s.memoryLine}`);
        }
      }
      for (const name of ["before", "after"] as const) {
        const ss = samples[name];
        rows.push([
          formatInt(invoices),
          name,
          `${fmtSeconds(median(ss.map((s) => s.seconds)))} s`,
          mib(median(ss.map((s) => s.rss))),
          mib(median(ss.map((s) => s.hwm))),
          name === "after" ? mib(liveMem.rss) : "",
        ]);
      }
      const last = samples.after[samples.after.length - 1];
      notes.push(
        `- ${formatInt(invoices)} invoices: journal ${mib(journal)}, built in ${fmtSeconds(genSeconds)} s (signing, attesting and mining ` +
          `the batches live, each block journaled); after: ${last.replayLine}; ${last.memoryLine}.`,
      );
      // Written after each size, so a long run leaves its figures even if a later size is cut short.
      writeSection(rows, notes, sizes, runs, beforeDir, busy);
      live = await startRunner(after, dataDir);
    }
  } finally {
    await live?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
