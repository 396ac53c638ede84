/**
 * Feasibility of state snapshots with anvil (issue 15: restart in ≤ 10 s at 1M invoices), measured
 * with real ledger blocks: the ledger of scripts/bench/restart.ts (`tokeniseBatch` of 200 attested
 * invoices from 4 suppliers at once) built on anvil 1.7.1 (the devDependency's binary), pinned as
 * the durable chain pins its genesis (chain id, mnemonic, hardfork, genesis `--timestamp`).
 *
 * anvil runs with `--no-mining` and this script mines each pending transaction with `evm_mine`:
 * anvil's automine left transactions pending for good when the four suppliers sent at once (see the
 * notes in docs/BENCHMARKS.md). For each size: the live node's RSS; `anvil_dumpState` streamed
 * (hex → gunzip → temporary file → fsync → rename: what a runner would keep as its snapshot) with
 * its time, size and anvil's peak; a fresh anvil started with `--load-state` on that file: launch to
 * the first JSON-RPC answer, RSS 3 s after and VmHWM, and whether history (blocks, receipts,
 * eth_getLogs from block 1) survived; then a tail: 8 more batches on the loaded node, the node
 * SIGKILLed, another fresh anvil loaded from the same snapshot and the tail's raw transactions
 * replayed (evm_setNextBlockTimestamp, eth_sendRawTransaction, evm_mine): how many block hashes
 * match. Finally anvil's own `--state FILE --state-interval 1` is SIGKILLed while it writes its dump
 * (seen shorter than whole), to see whether that dump is atomic on disk. A script, not a test: nothing here asserts.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, copyFileSync, createWriteStream, fsyncSync, mkdtempSync, openSync, readFileSync, renameSync, rmSync, statSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Transform, pipeline } from "node:stream";
import { createGunzip } from "node:zlib";
import { ANVIL_BIN } from "../../test/support/anvil";
import { freePort, HARDHAT_MNEMONIC } from "../../test/support/chain";
import { formatInt, machineDescription, markdownTable, writeBenchmarkSection } from "../lib/bench-doc";
import { commandLine, fmtSeconds, loadNote, machineBusy, mib, nowSeconds, procMemory } from "./common";
import { ledgerOn } from "./restart";

const GENESIS_TIME = 1_790_000_000;
const TAIL_BATCHES = 8;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function rpc<T = unknown>(url: string, method: string, params: unknown[] = []): Promise<T> {
  const res = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }) });
  const j = (await res.json()) as { result?: T; error?: unknown };
  if (j.error !== undefined) throw new Error(`${method}: ${JSON.stringify(j.error)}`);
  return j.result as T;
}

interface Anvil {
  url: string;
  child: ChildProcess;
  /** Launch to the first JSON-RPC answer. */
  upSeconds: number;
  /** Mines whatever is pending, one block at a time, until stopped. */
  mineContinuously(): void;
  kill(signal: NodeJS.Signals): Promise<number>;
}

async function startAnvil(extra: string[]): Promise<Anvil> {
  const port = await freePort();
  const t0 = nowSeconds();
  const args = ["--host", "127.0.0.1", "--port", String(port), "--chain-id", "31337", "--mnemonic", HARDHAT_MNEMONIC, "--accounts", "20"];
  args.push("--hardfork", "cancun", "--order", "fifo", "--timestamp", String(GENESIS_TIME), "--no-mining", "--silent", ...extra);
  let out = "";
  const child = spawn(ANVIL_BIN, args, { stdio: ["ignore", "pipe", "pipe"] });
  child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (out += d.toString()));
  const url = `http://127.0.0.1:${port}`;
  for (;;) {
    try {
      await rpc(url, "eth_blockNumber");
      break;
    } catch {
      if (child.exitCode !== null) throw new Error(`anvil exited: ${out}`);
      await sleep(10);
    }
  }
  const upSeconds = nowSeconds() - t0;
  let miner: NodeJS.Timeout | undefined;
  return {
    url,
    child,
    upSeconds,
    mineContinuously() {
      let busy = false;
      miner = setInterval(() => {
        if (busy) return;
        busy = true;
        rpc<{ pending: string }>(url, "txpool_status")
          .then((s) => (Number(s.pending) > 0 ? rpc(url, "evm_mine") : undefined))
          .catch(() => undefined)
          .finally(() => (busy = false));
      }, 20);
    },
    async kill(signal) {
      clearInterval(miner);
      const t = nowSeconds();
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once("exit", r));
        child.kill(signal);
        await exited;
      }
      return nowSeconds() - t;
    },
  };
}

/** Decodes the `result` hex string of a JSON-RPC answer to bytes as the answer streams in. */
function hexResult(): Transform {
  let state: "prefix" | "hex" | "done" = "prefix";
  let head = "";
  let odd = "";
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      let s = chunk.toString("latin1");
      if (state === "prefix") {
        head += s;
        const i = head.indexOf('"result":"0x');
        if (i < 0) return head.includes('"error"') ? cb(new Error(head.slice(0, 500))) : cb();
        s = head.slice(i + '"result":"0x'.length);
        state = "hex";
      }
      if (state === "hex") {
        const q = s.indexOf('"');
        if (q >= 0) {
          s = s.slice(0, q);
          state = "done";
        }
        s = odd + s;
        odd = s.length % 2 === 1 ? s.slice(-1) : "";
        this.push(Buffer.from(odd ? s.slice(0, -1) : s, "hex"));
      }
      cb();
    },
  });
}

/** anvil_dumpState (gzip, hex in JSON) streamed to `file` as plain JSON, whole or absent. */
function dumpTo(url: string, file: string): Promise<void> {
  const u = new URL(url);
  const tmp = `${file}.tmp`;
  return new Promise<void>((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, method: "POST", headers: { "content-type": "application/json" } }, (res) =>
      pipeline(res, hexResult(), createGunzip(), createWriteStream(tmp), (err) => (err ? reject(err) : resolve())),
    );
    req.on("error", reject);
    req.end(JSON.stringify({ jsonrpc: "2.0", id: 1, method: "anvil_dumpState", params: [] }));
  }).then(() => {
    const fd = openSync(tmp, "r");
    fsyncSync(fd);
    closeSync(fd);
    renameSync(tmp, file);
  });
}

interface Tail {
  n: number;
  hash: string;
  ts: string;
  raws: string[];
}

async function blocksAfter(url: string, from: number): Promise<Tail[]> {
  const head = Number(await rpc(url, "eth_blockNumber"));
  const out: Tail[] = [];
  for (let n = from + 1; n <= head; n++) {
    const b = await rpc<{ hash: string; timestamp: string; transactions: string[] }>(url, "eth_getBlockByNumber", ["0x" + n.toString(16), false]);
    const raws: string[] = [];
    for (const h of b.transactions) raws.push(await rpc<string>(url, "eth_getRawTransactionByHash", [h]));
    out.push({ n, hash: b.hash, ts: b.timestamp, raws });
  }
  return out;
}

/**
 * anvil's own `--state FILE --state-interval 1`: watches the file every 2 ms and SIGKILLs anvil the
 * moment the file is seen shorter than the whole dump (a write in progress, which an atomic
 * temporary-file-and-rename would never show), then checks whether the file left parses.
 */
async function anvilOwnDumpTorn(snapshot: string, dir: string, tries: number): Promise<{ torn: number; caught: number; tries: number }> {
  const file = join(dir, "anvil-own-state.json");
  const whole = statSync(snapshot).size;
  let torn = 0;
  let caught = 0;
  for (let i = 0; i < tries; i++) {
    copyFileSync(snapshot, file);
    const a = await startAnvil(["--state", file, "--state-interval", "1"]);
    const deadline = nowSeconds() + 5;
    while (nowSeconds() < deadline) {
      let size = -1;
      try {
        size = statSync(file).size;
      } catch {
        size = -1;
      }
      if (size !== whole) {
        caught++;
        break;
      }
      await sleep(2);
    }
    await a.kill("SIGKILL");
    try {
      JSON.parse(readFileSync(file, "utf8"));
    } catch {
      torn++;
    }
  }
  return { torn, caught, tries };
}

export async function benchAnvilState(flags: Map<string, string>): Promise<void> {
  const sizes = (flags.get("invoices") ?? "10000,100000").split(",").map((s) => Number(s.replace(/[_]/g, "")));
  const busy = await machineBusy();
  const dir = mkdtempSync(join(tmpdir(), "anvil-state-"));
  const rows: string[][] = [];
  const notes: string[] = [];
  let live = await startAnvil([]);
  live.mineContinuously();
  try {
    const grower = await ledgerOn(live.url);
    let made = 0;
    for (const size of sizes) {
      const g0 = nowSeconds();
      made = await grower.growTo(live.url, size);
      const genSeconds = nowSeconds() - g0;
      await sleep(3_000);
      const liveRss = procMemory(live.child.pid!).rss;
      const head = Number(await rpc(live.url, "eth_blockNumber"));
      const snap = join(dir, `snapshot-${size}.json`);
      const d0 = nowSeconds();
      await dumpTo(live.url, snap);
      const dumpSeconds = nowSeconds() - d0;
      const dumpPeak = procMemory(live.child.pid!).hwm;
      await live.kill("SIGKILL");
      // Load twice; keep the second (the file is in the page cache either way after the dump).
      let loaded!: Anvil;
      let rss = 0;
      let hwm = 0;
      for (let i = 0; i < 2; i++) {
        loaded = await startAnvil(["--load-state", snap]);
        await sleep(3_000);
        ({ rss, hwm } = procMemory(loaded.child.pid!));
        if (i === 0) await loaded.kill("SIGKILL");
      }
      const loadedHead = Number(await rpc(loaded.url, "eth_blockNumber"));
      const logs = await rpc<unknown[]>(loaded.url, "eth_getLogs", [{ fromBlock: "0x1", toBlock: "0x" + head.toString(16) }]);
      const lastTx = (await rpc<{ transactions: string[] }>(loaded.url, "eth_getBlockByNumber", ["0x" + head.toString(16), false])).transactions[0];
      const receipt = lastTx ? await rpc<{ logs: unknown[] } | null>(loaded.url, "eth_getTransactionReceipt", [lastTx]) : null;
      // The tail: blocks mined after the snapshot, lost with a SIGKILL, replayed into a fresh anvil.
      loaded.mineContinuously();
      made = await grower.growTo(loaded.url, made + TAIL_BATCHES * 200);
      const tail = await blocksAfter(loaded.url, loadedHead);
      await loaded.kill("SIGKILL");
      const replayer = await startAnvil(["--load-state", snap]);
      let same = 0;
      const r0 = nowSeconds();
      for (const b of tail) {
        await rpc(replayer.url, "evm_setNextBlockTimestamp", [b.ts]);
        for (const raw of b.raws) await rpc(replayer.url, "eth_sendRawTransaction", [raw]);
        await rpc(replayer.url, "evm_mine");
        const got = await rpc<{ hash: string }>(replayer.url, "eth_getBlockByNumber", ["0x" + b.n.toString(16), false]);
        if (got.hash === b.hash) same++;
      }
      const perBlock = (nowSeconds() - r0) / Math.max(tail.length, 1);
      console.log(`anvil-state: ${formatInt(size)} invoices, ${head} blocks: dump ${fmtSeconds(dumpSeconds)} s ${mib(statSync(snap).size)}, load ${fmtSeconds(loaded.upSeconds)} s, RSS ${mib(rss)}; tail ${same}/${tail.length}`);
      rows.push([
        formatInt(size),
        formatInt(head),
        mib(liveRss),
        mib(statSync(snap).size),
        `${fmtSeconds(dumpSeconds)} s`,
        mib(dumpPeak),
        `${fmtSeconds(loaded.upSeconds)} s`,
        mib(rss),
        mib(hwm),
        `${same} / ${tail.length}`,
      ]);
      notes.push(
        `- ${formatInt(size)} invoices: built in ${fmtSeconds(genSeconds)} s; after the load, head ${loadedHead} of ${head}, eth_getLogs from block 1 ` +
          `returned ${formatInt(logs.length)} logs, the last batch's receipt ${receipt ? `has ${receipt.logs.length} logs` : "is MISSING"}; ` +
          `the tail of ${tail.length} blocks (${TAIL_BATCHES} batches) replayed at ${fmtSeconds(perBlock)} s per block.`,
      );
      // Continue growing on the node that holds the tail.
      live = replayer;
      live.mineContinuously();
    }
    const torn = await anvilOwnDumpTorn(join(dir, `snapshot-${sizes[0]}.json`), dir, 6);
    notes.push(
      `- anvil's own \`--state FILE --state-interval 1\` (on the ${formatInt(sizes[0])}-invoice snapshot), watched every 2 ms: ` +
        `the file was seen shorter than the whole dump (a write in progress) in ${torn.caught} of ${torn.tries} runs, anvil was SIGKILLed at ` +
        `that moment, and ${torn.torn} of ${torn.tries} files left were unreadable (anvil refuses to start on such a file).`,
    );
  } finally {
    await live.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  }
  const table = markdownTable(
    ["invoices", "blocks", "live anvil RSS", "snapshot (JSON)", "dump", "anvil peak in dump", "load to 1st answer", "RSS 3 s after", "peak (VmHWM)", "tail hashes equal"],
    rows,
    ["r", "r", "r", "r", "r", "r", "r", "r", "r", "r"],
  );
  const body = [
    "## State snapshots with anvil (feasibility)",
    "",
    "scripts/bench/anvil-state.ts: the restart benchmark's ledger (4 suppliers, `tokeniseBatch` of 200 attested invoices) on",
    "anvil 1.7.1 with a pinned genesis; `anvil_dumpState` streamed to a JSON file (temporary file, fsync, rename); a fresh",
    "anvil launched with `--load-state` on it; then 8 more batches, a SIGKILL, and the lost tail replayed into another",
    "fresh anvil loaded from the same snapshot, comparing block hashes.",
    "",
    table,
    "",
    ...notes,
    "",
    `Command: \`${commandLine("anvil-state", { invoices: sizes.join(",") })}\`. ${loadNote(busy)} Other engineers' work shared the machine.`,
    `Machine: ${machineDescription()}.`,
  ].join("\n");
  console.log(body);
  writeBenchmarkSection("anvil-state", body);
}
