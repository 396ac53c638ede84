/**
 * The platform as a newcomer runs it: the launcher started exactly as `npm start` does (the same
 * command, a child process, a temporary DATA_DIR and free ports), the demo run against it as a
 * child process, then a real SIGKILL and a start on the same DATA_DIR. Every member, receivable,
 * credit line and financing the demo created must still be there through the API, the chain's
 * block hashes must be identical, /audit/verify must find no difference, and new acts must work
 * (the demo runs a second time, with fresh keys, on the restarted platform).
 */
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { Wallet } from "ethers";
import { LEDGER_VERSION } from "../../services/src/chain/deployment";
import { bearer, signIn } from "../support/auth";
import { freePort } from "../support/chain";
import { npmScriptArgs, startPlatform, type ServiceProcess } from "../support/process";

const ROOT = join(__dirname, "..", "..");
/** package.json "start", without npm in between (so SIGKILL reaches the launcher itself). */
const START = npmScriptArgs("start");

function runDemo(url: string, keysDir: string): Promise<{ code: number | null; output: string; ms: number }> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...npmScriptArgs("demo"), "--url", url, "--keys", keysDir], {
      cwd: ROOT,
      env: { ...process.env, NO_COLOR: "1" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr!.on("data", (d: Buffer) => (out += d.toString()));
    child.on("exit", (code) => resolve({ code, output: out, ms: Date.now() - t0 }));
  });
}

async function rpc<T>(url: string, method: string, params: unknown[]): Promise<T> {
  const res = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }) });
  const body = (await res.json()) as { result: T; error?: unknown };
  if (body.error) throw new Error(`${method}: ${JSON.stringify(body.error)}`);
  return body.result;
}

async function blockHashes(chainUrl: string): Promise<string[]> {
  const head = Number(await rpc<string>(chainUrl, "eth_blockNumber", []));
  const hashes: string[] = [];
  for (let n = 0; n <= head; n++) {
    hashes.push((await rpc<{ hash: string }>(chainUrl, "eth_getBlockByNumber", ["0x" + n.toString(16), false])).hash);
  }
  return hashes;
}

/** Every item of a cursor-paginated list. */
async function all(url: string, token: string, path: string): Promise<unknown[]> {
  const items: unknown[] = [];
  let cursor: string | null = null;
  for (;;) {
    const sep = path.includes("?") ? "&" : "?";
    const res = await fetch(`${url}${path}${sep}limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`, { headers: bearer(token) });
    const body = (await res.json()) as { items: unknown[]; nextCursor: string | null };
    expect(res.status, `${path}: ${JSON.stringify(body)}`).to.equal(200);
    items.push(...body.items);
    if (!body.nextCursor) return items;
    cursor = body.nextCursor;
  }
}

async function snapshot(url: string, token: string) {
  return {
    participants: await all(url, token, "/participants"),
    receivables: await all(url, token, "/receivables"),
    creditLines: await all(url, token, "/credit-lines"),
    financings: await all(url, token, "/financings"),
  };
}

describe("npm start: the embedded platform survives SIGKILL with nothing lost", function () {
  this.timeout(240_000);
  let dir: string;
  let launcher: ServiceProcess | null = null;

  before(function () {
    dir = mkdtempSync(join(tmpdir(), "scf-platform-"));
  });
  after(async function () {
    if (launcher) await launcher.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  });

  it("starts, runs the demo, is killed, restarts with every record, identical blocks and a clean verification", async function () {
    const [port, chainPort] = [await freePort(), await freePort()];
    const url = `http://127.0.0.1:${port}`;
    const chainUrl = `http://127.0.0.1:${chainPort}`;
    const env = { DATA_DIR: dir, PORT: String(port), CHAIN_PORT: String(chainPort), LOG_LEVEL: "warn", RPC_URL: "", DATABASE_URL: "" };
    const keysDir = join(dir, "demo-keys");

    launcher = await startPlatform(env, url, 90_000);
    expect(launcher.output()).to.match(/SCF ledger is running/).and.to.match(/contracts\s+deployed/);
    const firstStartMs = launcher.readyMs;

    const demo = await runDemo(url, keysDir);
    expect(demo.code, demo.output).to.equal(0);
    expect(demo.output).to.match(/All \d+ steps behaved as expected/);

    const officer = await Wallet.fromEncryptedJson(readFileSync(join(keysDir, "officer.json"), "utf8"), readFileSync(join(keysDir, "password.txt"), "utf8").trim());
    let token = await signIn(url, officer);
    const before = await snapshot(url, token);
    expect(before.participants.length).to.be.at.least(5);
    expect(before.receivables.length).to.be.at.least(4); // two invoices and the two parts of one
    expect(before.creditLines.length).to.be.at.least(1);
    expect(before.financings.length).to.be.at.least(1);
    const hashes = await blockHashes(chainUrl);

    await launcher.kill("SIGKILL");
    launcher = await startPlatform(env, url, 90_000);
    const restartMs = launcher.readyMs;
    expect(launcher.output()).to.match(/contracts\s+reused/);
    expect(launcher.output()).to.match(new RegExp(`${hashes.length - 1} blocks replayed`));
    console.log(`      first start ${firstStartMs} ms, demo ${demo.ms} ms, restart after SIGKILL ${restartMs} ms, ${hashes.length} blocks`);

    expect((await blockHashes(chainUrl)).slice(0, hashes.length)).to.deep.equal(hashes);
    token = await signIn(url, officer);
    expect(await snapshot(url, token)).to.deep.equal(before);
    const verify = await fetch(`${url}/audit/verify`, { headers: bearer(token) });
    const report = (await verify.json()) as { ok: boolean; differences: unknown[] };
    expect(verify.status).to.equal(200);
    expect(report.differences, JSON.stringify(report.differences)).to.deep.equal([]);
    expect(report.ok).to.equal(true);

    // New acts on the restarted platform: the whole demo again, with fresh keys.
    const again = await runDemo(url, keysDir);
    expect(again.code, again.output).to.equal(0);
  });

  it("refuses a data directory deployed by an earlier ledger version before starting its chain, naming the upgrade command, and changes nothing", async function () {
    if (launcher) await launcher.kill("SIGTERM");
    launcher = null;
    const file = join(dir, "deployment.json");
    const record = JSON.parse(readFileSync(file, "utf8")) as { ledgerVersion?: number };
    expect(record.ledgerVersion).to.equal(LEDGER_VERSION);
    // A record written before the version existed has no field: it reads as version 1.
    const older = { ...record, ledgerVersion: 1 };
    writeFileSync(file, JSON.stringify(older, null, 2) + "\n");
    const journal = statSync(join(dir, "chain", "journal.ndjson")).size;

    const [port, chainPort] = [await freePort(), await freePort()];
    const child = spawn(process.execPath, START, {
      cwd: ROOT,
      env: { ...process.env, DATA_DIR: dir, PORT: String(port), CHAIN_PORT: String(chainPort), LOG_LEVEL: "warn", RPC_URL: "", DATABASE_URL: "" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr!.on("data", (d: Buffer) => (out += d.toString()));
    const code = await new Promise<number | null>((r) => child.on("exit", r));

    expect(code, out).to.equal(1);
    expect(out).to.include(`This data directory (${dir}) holds ledger version 1`);
    expect(out).to.include(`run \`DATA_DIR=${dir} npm run ledger:upgrade\``).and.to.include("It keeps everything");
    expect(out).to.not.include("deployed", "nothing was deployed");
    expect(JSON.parse(readFileSync(file, "utf8"))).to.deep.equal(older);
    expect(statSync(join(dir, "chain", "journal.ndjson")).size, "no block was added to the old chain").to.equal(journal);
  });

  describe("a start that cannot complete leaves nothing half-created", function () {
    /** Runs the launcher to its exit; returns the code and everything it printed. */
    function runToExit(env: Record<string, string>): Promise<{ code: number | null; out: string }> {
      const child = spawn(process.execPath, START, {
        cwd: ROOT,
        env: { ...process.env, LOG_LEVEL: "warn", RPC_URL: "", DATABASE_URL: "", ...env },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let out = "";
      child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
      child.stderr!.on("data", (d: Buffer) => (out += d.toString()));
      return new Promise((r) => child.on("exit", (code) => r({ code, out })));
    }

    async function holdPort(): Promise<{ server: Server; port: number }> {
      const server = createServer();
      await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
      return { server, port: (server.address() as { port: number }).port };
    }

    for (const [taken, what] of [
      ["PORT", "the service"],
      ["CHAIN_PORT", "the embedded chain"],
    ] as const) {
      it(`refuses ${taken} in use in one line naming ${taken}, exits 1, and creates no data directory`, async function () {
        const held = await holdPort();
        const dataDir = join(mkdtempSync(join(tmpdir(), "scf-port-")), "data");
        try {
          const free = await freePort();
          const env = { DATA_DIR: dataDir, PORT: String(taken === "PORT" ? held.port : free), CHAIN_PORT: String(taken === "CHAIN_PORT" ? held.port : free) };
          const { code, out } = await runToExit(env);
          expect(code, out).to.equal(1);
          expect(out.trim().split("\n"), out).to.have.length(1);
          expect(out).to.include(`port ${held.port} on 127.0.0.1 (${what}) is already in use`).and.to.include(`${taken}=<port> npm start`);
          expect(out).to.not.match(/\n\s+at /, "no stack trace");
          expect(existsSync(dataDir), "no data directory").to.equal(false);
        } finally {
          held.server.close();
          rmSync(join(dataDir, ".."), { recursive: true, force: true });
        }
      });
    }

    it("removes what a failed first start created (a configuration refused after the chain and keys were made)", async function () {
      const dataDir = join(mkdtempSync(join(tmpdir(), "scf-first-")), "data");
      try {
        const [port, chainPort] = [await freePort(), await freePort()];
        const { code, out } = await runToExit({ DATA_DIR: dataDir, PORT: String(port), CHAIN_PORT: String(chainPort), THROTTLE_LIMIT: "none" });
        expect(code, out).to.equal(78);
        expect(out).to.match(/THROTTLE_LIMIT/);
        expect(existsSync(dataDir), "the half-created data directory is removed").to.equal(false);
      } finally {
        rmSync(join(dataDir, ".."), { recursive: true, force: true });
      }
    });
  });
});
