/**
 * The durable chain's journal read as a stream (platform/chain/journal.ts): lines that run across
 * read chunks, a torn last line cut off wherever it starts, damage elsewhere refused by line.
 */
import { expect } from "chai";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { journalEntries, readJournal, type JournalEntry } from "../../platform/chain/journal";

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
