/**
 * Copies a SQLite database's write-ahead log into the database file from a worker thread while a
 * long run of big write transactions (the indexer's catch-up from far behind) goes on.
 *
 * better-sqlite3 is synchronous: the connection that commits also runs SQLite's automatic
 * checkpoint (every commit that leaves the WAL above wal_autocheckpoint pages, 1,000 by default),
 * which copies every page the transaction wrote into the database file and fsyncs both, on the
 * service's one JavaScript thread. A catch-up's transactions of ~10,000 events write ~19 MB each, so
 * every commit checkpointed; the copy and its fsyncs were the largest single item of its write
 * time, during which nothing was read from the node or decoded.
 *
 * While started, the main connection's automatic checkpoint is raised to a safety net
 * (NET_PAGES) and a second connection, on a worker thread, runs PASSIVE checkpoints in a loop:
 * they copy what is committed without waiting on (or blocking) the writer or any reader, so
 * transactions, their atomicity and what a reader sees are unchanged; only where the copy runs
 * moves. WAL mode already lets a checkpoint run on any connection at any time, and a crash during
 * one is recovered from the WAL when the database is next opened. stop() runs a last checkpoint,
 * closes the worker's connection and puts the main connection's setting back.
 */
import { Worker } from "node:worker_threads";
import type { DataSource } from "typeorm";

/** The main connection's automatic checkpoint while the worker checkpoints (~200 MB of WAL): reached
 * only if the worker falls behind, so the WAL cannot grow without bound. */
const NET_PAGES = 50_000;
/** Pause between two checkpoints that found nothing to copy. */
const IDLE_MS = 20;

/** The worker: a loop of PASSIVE checkpoints on its own connection, counting the frames it copied. */
const WORKER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const Database = require(workerData.driver);
const db = new Database(workerData.path, { fileMustExist: true });
db.pragma("busy_timeout = 0");
let stopping = false;
let copied = 0;
let lastLog = 0;
let lastDone = 0;
function checkpoint() {
  try {
    const r = db.pragma("wal_checkpoint(PASSIVE)")[0];
    // The log restarted (a writer reused the WAL from its start): counts begin again.
    if (r.log < lastLog || r.checkpointed < lastDone) lastDone = 0;
    const n = Math.max(0, r.checkpointed - lastDone);
    copied += n;
    lastLog = r.log;
    lastDone = r.checkpointed;
    return n;
  } catch {
    return 0; // busy (another checkpoint running): try again later
  }
}
function loop() {
  if (stopping) return;
  const n = checkpoint();
  setTimeout(loop, n > 0 ? 0 : ${IDLE_MS});
}
parentPort.on("message", () => {
  stopping = true;
  checkpoint();
  db.close();
  parentPort.postMessage({ copied });
});
loop();
`;

interface RawSqlite {
  pragma(source: string, options?: { simple?: boolean }): unknown;
}

/** Per connection: the checkpointers running on it and the automatic checkpoint it had before the
 * first (two overlapping catch-ups must not leave the safety net behind as the setting). */
const running = new WeakMap<RawSqlite, { count: number; restore: number }>();

export class WalCheckpointer {
  private exited = false;
  private released = false;

  private constructor(
    private readonly main: RawSqlite,
    private readonly worker: Worker,
    private failed: Error | null,
  ) {
    worker.once("exit", () => (this.exited = true));
  }

  /**
   * Starts checkpointing `ds`'s WAL on a worker thread, or returns null where there is nothing to
   * move: PostgreSQL, an in-memory SQLite database, or a connection not in WAL mode.
   */
  static start(ds: DataSource): WalCheckpointer | null {
    if (ds.options.type !== "better-sqlite3") return null;
    const path = ds.options.database;
    const main = (ds.driver as unknown as { databaseConnection?: RawSqlite }).databaseConnection;
    if (!main || typeof path !== "string" || path === ":memory:" || path === "") return null;
    if (String(main.pragma("journal_mode", { simple: true })).toLowerCase() !== "wal") return null;
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { path, driver: require.resolve("better-sqlite3") } });
    const self = new WalCheckpointer(main, worker, null);
    const state = running.get(main);
    if (state) state.count++;
    else running.set(main, { count: 1, restore: Number(main.pragma("wal_autocheckpoint", { simple: true })) });
    main.pragma(`wal_autocheckpoint = ${NET_PAGES}`);
    // A worker that fails leaves the checkpoints to the main connection, as before.
    worker.once("error", (err) => {
      self.failed = err;
      self.release();
    });
    return self;
  }

  /** This checkpointer no longer stands in for the connection's own: the last one gives it back. */
  private release(): void {
    if (this.released) return;
    this.released = true;
    const state = running.get(this.main);
    if (!state || --state.count > 0) return;
    running.delete(this.main);
    this.main.pragma(`wal_autocheckpoint = ${state.restore}`);
  }

  /**
   * Runs a last checkpoint on the worker, ends it and gives the main connection its automatic
   * checkpoint back. Returns the WAL frames (pages) the worker copied into the database file.
   */
  async stop(): Promise<number> {
    try {
      if (this.failed || this.exited) return 0;
      const done = new Promise<number>((resolve, reject) => {
        this.worker.once("message", (m: { copied: number }) => resolve(m.copied));
        this.worker.once("error", reject);
        this.worker.once("exit", () => resolve(0));
      });
      this.worker.postMessage("stop");
      return await done;
    } finally {
      this.release();
      await this.worker.terminate();
    }
  }
}
