/**
 * The durable chain's journal read as a stream (platform/chain/journal.ts): lines that run across
 * read chunks, a torn last line cut off wherever it starts, damage elsewhere refused by line.
 */
import { expect } from "chai";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { journalEntries, readJournal, type JournalEntry, type JournalPosition } from "../../platform/chain/journal";
import { progressLine } from "../../platform/chain/replay";

const entry = (n: number, txs: number): JournalEntry => ({
  n,
  hash: "0x" + n.toString(16).padStart(64, "0"),
  ts: 1_800_000_000 + n,
  txs: Array.from({ length: txs }, (_, i) => "0x02" + "ab".repeat(40 + i * 7 + n)),
});
const line = (e: JournalEntry) => JSON.stringify(e) + "\n";

describe("durable chain journal, streamed", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "journal-stream-"));
  const file = path.join(dir, "journal.ndjson");
  const entries = Array.from({ length: 40 }, (_, i) => entry(i + 1, i % 4));
  const whole = entries.map(line).join("");

  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("yields every entry in order whatever the chunk size (lines spanning several chunks)", () => {
    fs.writeFileSync(file, whole);
    for (const chunk of [7, 64, 333, 1 << 20]) {
      const logs: string[] = [];
      expect([...journalEntries(file, (l) => logs.push(l), chunk)], `chunk ${chunk}`).to.deep.equal(entries);
      expect(logs).to.deep.equal([]);
    }
    expect(fs.readFileSync(file, "utf8")).to.equal(whole);
  });

  it("keeps the stream's position: the file's size, and the offset just past each entry yielded", () => {
    fs.writeFileSync(file, whole);
    for (const chunk of [7, 333, 1 << 20]) {
      const position: JournalPosition = { size: 0, offset: 0 };
      let expected = 0;
      for (const e of journalEntries(file, () => {}, chunk, position)) {
        expected += Buffer.byteLength(line(e));
        expect(position, `chunk ${chunk}, block ${e.n}`).to.deep.equal({ size: Buffer.byteLength(whole), offset: expected });
      }
      expect(position.offset).to.equal(Buffer.byteLength(whole));
    }
  });

  it("words a replay's progress line: blocks, share of the journal read, rate and time left", () => {
    const position = { size: 48 * 1024 * 1024, offset: 12 * 1024 * 1024 };
    // A quarter in 10 s: three quarters left at that pace is 30 s.
    expect(progressLine(4000, position, 10_000)).to.equal(
      "durable chain: replaying the journal: block 4,000, 25 % of 48.0 MiB read, 400 blocks/s, about 30 s left",
    );
    expect(progressLine(12_345, { size: 100, offset: 10 }, 60_000)).to.match(/block 12,345, 10 % of .* 206 blocks\/s, about 9 min left$/);
    expect(progressLine(500, { size: 1000, offset: 10 }, 72_000)).to.match(/about 2\.0 h left$/);
    expect(progressLine(0, { size: 1000, offset: 0 }, 10_000)).to.match(/about an unknown time left$/);
  });

  it("reads nothing from a missing or empty journal", () => {
    expect([...journalEntries(path.join(dir, "none.ndjson"), () => {})]).to.deep.equal([]);
    fs.writeFileSync(file, "");
    expect(readJournal(file, () => {})).to.deep.equal([]);
  });

  for (const [name, torn] of [
    ["without its newline", `{"n":41,"hash":"0x12`],
    ["ending in a newline but not JSON", `{"n":41,"hash":"0x12\n`],
    ["a complete entry without its newline", JSON.stringify(entry(41, 2))],
  ] as const) {
    it(`cuts off a torn last line (${name}) across chunk borders, with a warning`, () => {
      for (const chunk of [5, 100, 1 << 20]) {
        fs.writeFileSync(file, whole + torn);
        const logs: string[] = [];
        expect([...journalEntries(file, (l) => logs.push(l), chunk)], `chunk ${chunk}`).to.deep.equal(entries);
        expect(logs.join("\n")).to.match(new RegExp(`WARNING: the last journal line \\(${Buffer.byteLength(torn.replace(/\n$/, ""))} bytes, line 41\\) is torn`));
        expect(fs.readFileSync(file, "utf8")).to.equal(whole);
      }
    });
  }

  it("refuses a damaged line that is not the last, naming it, and leaves the file as it is", () => {
    const lines = entries.map(line);
    lines[9] = lines[9].slice(0, 20) + "\n";
    const damaged = lines.join("");
    fs.writeFileSync(file, damaged);
    expect(() => [...journalEntries(file, () => {}, 64)]).to.throw(/corrupt at line 10 \(not the last line\)/);
    expect(fs.readFileSync(file, "utf8")).to.equal(damaged);
  });

  it("refuses entries out of order, naming the line and the block expected", () => {
    const lines = entries.map(line);
    [lines[4], lines[5]] = [lines[5], lines[4]];
    fs.writeFileSync(file, lines.join(""));
    expect(() => readJournal(file, () => {})).to.throw(/line 5 holds block 6, expected block 5/);
  });

  it("streams: the entries before a damaged line are handed out before the damage is reached", () => {
    const lines = entries.map(line);
    lines[9] = "not json\n";
    fs.writeFileSync(file, lines.join(""));
    const got: JournalEntry[] = [];
    expect(() => {
      for (const e of journalEntries(file, () => {}, 64)) got.push(e);
    }).to.throw(/corrupt at line 10/);
    expect(got).to.deep.equal(entries.slice(0, 9));
  });
});
