/**
 * freePort (test/support/chain.ts) across the suites `npm test` runs side by side: a port handed out
 * is reserved for a minute in a file shared by every test process, so no other suite is given it
 * before the child it was asked for binds it.
 */
import { expect } from "chai";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, utimesSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, reservePort } from "../support/chain";

describe("freePort: one port, one test process, while the child binds it", function () {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), "scf-ports-"))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("reserves a port once: a second reservation within the minute, from any process, is refused", function () {
    expect(reservePort(40001, dir)).to.equal(true);
    expect(reservePort(40001, dir)).to.equal(false);
    const other = spawnSync(
      process.execPath,
      ["-r", "ts-node/register/transpile-only", "-e", `process.stdout.write(String(require("./test/support/chain").reservePort(40001, ${JSON.stringify(dir)})))`],
      { cwd: join(__dirname, "..", ".."), encoding: "utf8" },
    );
    expect(other.stdout).to.equal("false");
    expect(reservePort(40002, dir)).to.equal(true);
  });

  it("takes over a reservation older than a minute (the port was bound and freed since, or never used)", function () {
    expect(reservePort(40003, dir)).to.equal(true);
    const old = new Date(Date.now() - 61_000);
    utimesSync(join(dir, "40003"), old, old);
    expect(reservePort(40003, dir)).to.equal(true);
    expect(reservePort(40003, dir)).to.equal(false);
  });

  it("hands out distinct ports to concurrent callers", async function () {
    const ports = await Promise.all(Array.from({ length: 20 }, () => freePort()));
    expect(new Set(ports).size).to.equal(20);
  });
});
