/**
 * `<dataDir>/chain/journal.ndjson`: one line per mined block,
 * `{"n":1,"hash":"0x…","ts":1795736424,"txs":["0x02f8…"]}`, with the raw signed transactions taken
 * from the block itself (so transactions of every client are captured), each checked against its
 * hash before writing. Lines are appended and fsync'ed before any client learns of the block; a
 * torn last line (a crash mid-write) was never acknowledged and is cut off when read.
 */
import * as fs from "node:fs";
import { Transaction, keccak256, type TransactionLike } from "ethers";
import { quantity, type Rpc, type RpcBlock, type RpcTx } from "./rpc";

export interface JournalEntry {
  n: number;
  hash: string;
  ts: number;
  txs: string[];
}

/** How far a stream of the journal has got: bytes up to the end of the last entry yielded, of the file's size. */
export interface JournalPosition {
  size: number;
  offset: number;
}

/** Bytes read from the journal at a time: lines are parsed one by one, never the whole file at once. */
export const JOURNAL_CHUNK_BYTES = 1 << 20;

function isEntry(e: unknown): e is JournalEntry {
  const o = e as JournalEntry | null;
  return (
    typeof o === "object" && o !== null && Number.isInteger(o.n) && typeof o.hash === "string" && Number.isInteger(o.ts) && Array.isArray(o.txs)
  );
}

/**
 * Streams the journal, one entry at a time, reading it in chunks of `chunkBytes` (the caller keeps
 * what it needs: a restart holds one block's line, not the whole file). A torn last line (a write
 * cut short by a crash: no newline, or not JSON) is cut off with a warning once reached; any other
 * damage is an error naming the line. Entries must be numbered 1, 2, 3, … in order. `position`, if
 * given, is kept up to date: the file's size, and the offset just past each entry when it is yielded.
 */
export function* journalEntries(
  file: string,
  log: (l: string) => void,
  chunkBytes = JOURNAL_CHUNK_BYTES,
  position?: JournalPosition,
): Generator<JournalEntry> {
  if (!fs.existsSync(file)) return;
  const fd = fs.openSync(file, "r");
  try {
    const size = fs.fstatSync(fd).size;
    if (position) position.size = size;
    const chunk = Buffer.alloc(chunkBytes);
    let pending: Buffer[] = []; // the start of a line that runs on past the chunks read so far
    let lineStart = 0; // file offset of the line being assembled
    let read = 0; // file offset read up to
    let lineNo = 0;
    while (read < size) {
      const got = fs.readSync(fd, chunk, 0, Math.min(chunkBytes, size - read), read);
      if (got === 0) break;
      const bytes = chunk.subarray(0, got);
      read += got;
      let from = 0;
      for (let nl = bytes.indexOf(10, from); nl >= 0; nl = bytes.indexOf(10, from)) {
        pending.push(bytes.subarray(from, nl));
        const line = pending.length === 1 ? pending[0] : Buffer.concat(pending);
        pending = [];
        from = nl + 1;
        lineNo++;
        const lineEnd = read - got + from; // offset just past this line's newline
        let entry: unknown;
        try {
          entry = JSON.parse(line.toString("utf8"));
        } catch {
          entry = undefined;
        }
        if (!isEntry(entry)) {
          if (lineEnd === size) {
            cutTornLine(file, lineStart, line.length, lineNo, log);
            return;
          }
          throw new Error(`durable chain: journal ${file} is corrupt at line ${lineNo} (not the last line): refusing to start`);
        }
        if (entry.n !== lineNo) {
          throw new Error(`durable chain: journal ${file} line ${lineNo} holds block ${entry.n}, expected block ${lineNo}`);
        }
        lineStart = lineEnd;
        if (position) position.offset = lineEnd;
        yield entry;
      }
      // The chunk is reused by the next read: keep a copy of the unfinished line.
      if (from < got) pending.push(Buffer.from(bytes.subarray(from)));
    }
    if (pending.length > 0) cutTornLine(file, lineStart, size - lineStart, lineNo + 1, log);
  } finally {
    fs.closeSync(fd);
  }
}

function cutTornLine(file: string, offset: number, length: number, lineNo: number, log: (l: string) => void): void {
  log(
    `durable chain: WARNING: the last journal line (${length} bytes, line ${lineNo}) is torn ` +
      `(a write cut short by a crash); it was never acknowledged and is cut off`,
  );
  fs.truncateSync(file, offset);
}

/** The whole journal in memory (for tests and tools on small journals; a restart streams it). */
export function readJournal(file: string, log: (l: string) => void): JournalEntry[] {
  return [...journalEntries(file, log)];
}

/** Raw signed transaction of a block's transaction object, checked against its hash. */
export function rawTransaction(tx: RpcTx): string {
  const type = Number(tx.type);
  const like: TransactionLike = {
    type,
    to: tx.to ?? null,
    nonce: Number(tx.nonce),
    gasLimit: BigInt(tx.gas),
    data: tx.input,
    value: BigInt(tx.value),
    signature: { r: tx.r, s: tx.s, v: type === 0 ? Number(tx.v) : 27 + Number(tx.yParity ?? tx.v) },
  };
  // A legacy transaction signed without EIP-155 replay protection (v = 27 / 28) has no chain id.
  const preEip155 = type === 0 && (Number(tx.v) === 27 || Number(tx.v) === 28);
  if (tx.chainId !== undefined && tx.chainId !== null && !preEip155) like.chainId = BigInt(tx.chainId);
  if (type === 0 || type === 1) like.gasPrice = BigInt(tx.gasPrice!);
  if (type >= 1) like.accessList = tx.accessList ?? [];
  if (type >= 2) {
    like.maxFeePerGas = BigInt(tx.maxFeePerGas!);
    like.maxPriorityFeePerGas = BigInt(tx.maxPriorityFeePerGas!);
  }
  if (type === 3) {
    like.maxFeePerBlobGas = BigInt(tx.maxFeePerBlobGas!);
    like.blobVersionedHashes = tx.blobVersionedHashes ?? [];
  }
  if (type > 3) throw new Error(`transaction ${tx.hash} has type ${type}, which the journal cannot record`);
  const raw = Transaction.from(like).serialized;
  if (keccak256(raw) !== tx.hash) {
    throw new Error(`transaction ${tx.hash} (type ${type}) does not re-serialize to its own hash`);
  }
  return raw;
}

/** Appends the blocks mined since the last append, durably, in order. */
export class JournalWriter {
  private readonly fd: number;

  /** `lastNumber` / `lastTs`: the newest block already in the journal (or the genesis). */
  constructor(
    file: string,
    private lastNumber: number,
    private lastTs: number,
  ) {
    this.fd = fs.openSync(file, "a");
  }

  /** Time of the newest journaled block (the next block must be later). */
  get lastTimestamp(): number {
    return this.lastTs;
  }

  get lastBlock(): number {
    return this.lastNumber;
  }

  /**
   * Journals every block above the last one journaled, then fsyncs. `sentRaw` is the raw
   * transaction just sent, if any: it is written as received instead of being re-serialized.
   */
  async appendNewBlocks(rpc: Rpc, sentRaw: string | undefined): Promise<void> {
    const head = Number(await rpc("eth_blockNumber"));
    if (head === this.lastNumber) return;
    if (head < this.lastNumber) throw new Error(`the chain went back from block ${this.lastNumber} to ${head}`);
    let lines = "";
    let ts = this.lastTs;
    for (let n = this.lastNumber + 1; n <= head; n++) {
      const block = (await rpc("eth_getBlockByNumber", [quantity(n), true])) as RpcBlock;
      const txs = (block.transactions as RpcTx[]).map((tx) =>
        sentRaw !== undefined && keccak256(sentRaw) === tx.hash ? sentRaw : rawTransaction(tx),
      );
      ts = Number(block.timestamp);
      const entry: JournalEntry = { n, hash: block.hash, ts, txs };
      lines += JSON.stringify(entry) + "\n";
    }
    const bytes = Buffer.from(lines, "utf8");
    for (let off = 0; off < bytes.length; ) off += fs.writeSync(this.fd, bytes, off);
    fs.fsyncSync(this.fd);
    this.lastNumber = head;
    this.lastTs = ts;
  }

  close(): void {
    fs.closeSync(this.fd);
  }
}
