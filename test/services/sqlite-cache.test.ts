import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { SQLITE_CACHE_KIB } from "../../services/src/database/data-source";

/**
 * In a fresh process (so the scan's cache cannot be served from memory an earlier test freed):
 * writes about 48 MiB of rows, one page each, through a connection with a tiny cache, then opens
 * the service's own connection (dataSourceOptions) and reads every page once; reports its
 * cache_size and how much anonymous resident memory (malloc's heap among it) the scan added.
 */
const CHILD = `
const { readFileSync } = require("node:fs");
const { join } = require("node:path");
const Database = require("better-sqlite3");
const { DataSource } = require("typeorm");
const { dataSourceOptions } = require(${JSON.stringify(join(__dirname, "../../services/src/database/data-source"))});
const rssAnon = () => Number(/RssAnon:\\s+(\\d+) kB/.exec(readFileSync("/proc/self/status", "utf8"))[1]) * 1024;
(async () => {
  const path = join(process.argv[1], "cache.sqlite");
  const raw = new Database(path);
  raw.pragma("cache_size = 16");
  raw.exec("CREATE TABLE t (v TEXT NOT NULL)");
  raw.exec("WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 12000) INSERT INTO t SELECT hex(randomblob(1800)) FROM c");
  raw.close();
  const ds = new DataSource(dataSourceOptions({ kind: "sqlite", path }));
  await ds.initialize();
  const [{ cache_size }] = await ds.query("PRAGMA cache_size");
  const before = rssAnon();
  const [{ n }] = await ds.query("SELECT count(*) AS n FROM t WHERE v LIKE '%zz%'");
  const grown = rssAnon() - before;
  await ds.destroy();
  process.stdout.write(JSON.stringify({ cache_size, n, grown }));
})();
`;

describe("SQLite connection (embedded default)", function () {
  if (process.platform !== "linux") return;
  let dir: string;
  before(() => (dir = mkdtempSync(join(tmpdir(), "scf-sqlite-cache-"))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("keeps a page cache of SQLITE_CACHE_KIB, not better-sqlite3's 16 MiB, however much of the file it reads", () => {
    const child = spawnSync(process.execPath, ["-r", "ts-node/register/transpile-only", "-r", "reflect-metadata", "-e", CHILD, dir], { encoding: "utf8" });
    expect(child.status, child.stderr).to.equal(0);
    const { cache_size, n, grown } = JSON.parse(child.stdout) as { cache_size: number; n: number; grown: number };
    expect(cache_size).to.equal(-SQLITE_CACHE_KIB);
    expect(n).to.equal(0);
    // With better-sqlite3's default (SQLITE_DEFAULT_CACHE_SIZE=-16000) the scan left about 16 MiB resident.
    expect(grown).to.be.below(6 * 2 ** 20);
  });
});
