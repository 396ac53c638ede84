/**
 * The durable embedded chain: a SIGKILLed chain process comes back with every block, hash, balance
 * and contract state; torn journal lines are cut off, tampered journals refused, and methods that
 * would make the journal unreplayable answered with JSON-RPC errors.
 */
import { expect } from "chai";
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
  HDNodeWallet,
  JsonRpcProvider,
  Mnemonic,
  Network,
  Transaction,
  Wallet,
  encodeBytes32String,
  id,
  parseEther,
} from "ethers";
import { DEFAULT_PARAMS, deployLedger, type Ledger } from "../../scripts/lib/deploy-ledger";
import { npmScriptArgs } from "../support/process";
import { alwaysShown, startDurableChain, type JournalEntry } from "../../platform/chain/durable-chain";

const ROOT = path.join(__dirname, "..", "..");
const MNEMONIC = "test test test test test test test test test test test junk";
const HD_ROOT = HDNodeWallet.fromMnemonic(Mnemonic.fromPhrase(MNEMONIC), "m/44'/60'/0'/0");
const NETWORK = Network.from(31337);

interface Runner {
  url: string;
  blocksReplayed: number;
  child: ChildProcess;
  output(): string;
  kill(signal: NodeJS.Signals): Promise<void>;
}

/** Starts platform/chain-runner.ts (compiled, as `npm run chain` does) in its own process and waits for its READY line. */
async function startRunner(dataDir: string): Promise<Runner> {
  const child = spawn(
    process.execPath,
    // `npm run chain`'s program (its own --data-dir data replaced by the test's directory).
    [...npmScriptArgs("chain").slice(0, 2), "--data-dir", dataDir, "--port", "0"],
    { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] },
  );
  let out = "";
  const ready = new Promise<{ url: string; blocksReplayed: number }>((resolve, reject) => {
    child.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      const m = /DURABLE_CHAIN_READY (\{.*\})/.exec(out);
      if (m) resolve(JSON.parse(m[1]));
    });
    child.stderr!.on("data", (d: Buffer) => (out += d.toString()));
    child.once("exit", (code) => reject(new Error(`chain runner exited with ${code}:\n${out}`)));
    setTimeout(() => reject(new Error(`chain runner did not start:\n${out}`)), 30_000).unref();
  });
  const info = await ready;
  return {
    ...info,
    child,
    output: () => out,
    async kill(signal) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once("exit", r));
      child.kill(signal);
      await exited;
    },
  };
}

function rpcProvider(url: string): JsonRpcProvider {
  return new JsonRpcProvider(url, NETWORK, { staticNetwork: NETWORK, pollingInterval: 20, cacheTimeout: -1 });
}

async function rawRpc(url: string, body: unknown): Promise<unknown> {
  const res = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  return res.json();
}

interface Snapshot {
  blockNumber: number;
  hashes: string[];
  timestamps: number[];
  balances: string[];
  state: unknown;
}

async function snapshot(url: string, ledger: Ledger, addresses: string[]): Promise<Snapshot> {
  const provider = rpcProvider(url);
  try {
    const blockNumber = await provider.getBlockNumber();
    const batch = Array.from({ length: blockNumber + 1 }, (_, n) => ({
      jsonrpc: "2.0",
      id: n,
      method: "eth_getBlockByNumber",
      params: ["0x" + n.toString(16), false],
    }));
    const blocks = (await rawRpc(url, batch)) as { id: number; result: { hash: string; timestamp: string } }[];
    blocks.sort((a, b) => a.id - b.id);
    const balances = await Promise.all(addresses.map(async (a) => (await provider.getBalance(a)).toString()));
    const registry = ledger.registry.connect(provider);
    const token = ledger.token.connect(provider);
    const state = {
      supply: (await token.totalSupply()).toString(),
      tokens: await Promise.all(addresses.map(async (a) => (await token.balanceOf(a)).toString())),
      members: await Promise.all(addresses.slice(3, 5).map(async (a) => (await registry.member(a)).toString())),
      settlementToken: await ledger.receivables.connect(provider).settlementToken(),
      adminHolds: await ledger.receivables.connect(provider).hasRole("0x" + "00".repeat(32), addresses[0]),
    };
    return {
      blockNumber,
      hashes: blocks.map((b) => b.result.hash),
      timestamps: blocks.map((b) => Number(b.result.timestamp)),
      balances,
      state,
    };
  } finally {
    provider.destroy();
  }
}

function readEntries(dataDir: string): JournalEntry[] {
  return fs
    .readFileSync(path.join(dataDir, "chain", "journal.ndjson"), "utf8")
    .split("\n")
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l) as JournalEntry);
}

describe("durable embedded chain", function () {
  this.timeout(90_000);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "durable-chain-"));
  const dataDir = path.join(tmp, "main");
  const runners: Runner[] = [];
  let ledger: Ledger;
  let before: Snapshot;
  let addresses: string[];
  let revertedBlock = 0;

  after(async () => {
    for (const r of runners) await r.kill("SIGKILL");
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it("survives SIGKILL: same blocks, hashes, balances and contract state; new transactions work", async () => {
    const first = await startRunner(dataDir);
    runners.push(first);
    expect(first.blocksReplayed).to.equal(0);
    const provider = rpcProvider(first.url);
    const acct = (i: number) => new Wallet(HD_ROOT.deriveChild(i).privateKey, provider);
    const [admin, operator, compliance] = [acct(0), acct(1), acct(2)];
    const [supplier, buyer] = [acct(3), acct(4)];
    addresses = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9].map((i) => acct(i).address);

    // The real ledger, deployed by one key, then acts signed by several keys.
    ledger = await deployLedger(admin, {
      admin: admin.address,
      onboardingOperator: operator.address,
      complianceOfficer: compliance.address,
      issuer: admin.address,
    }, DEFAULT_PARAMS);
    const kycExpiry = Math.floor(Date.now() / 1000) + 365 * 24 * 3600;
    const cn = "0x434e";
    await (await ledger.registry.connect(operator).register(supplier.address, 1, kycExpiry, cn, id("supplier"))).wait();
    await (await ledger.registry.connect(operator).register(buyer.address, 2, kycExpiry, cn, id("buyer"))).wait();
    await (await ledger.token.connect(admin).mint(buyer.address, 1_000_000_00n)).wait();
    await (await ledger.token.connect(buyer).transfer(supplier.address, 250_000_00n)).wait();
    await (await ledger.registry.connect(compliance).suspend(supplier.address, encodeBytes32String("test"))).wait();
    await (await ledger.registry.connect(compliance).reinstate(supplier.address)).wait();

    // A contract refusal reaches ethers with its revert data, as from `hardhat node`.
    const refusal = await ledger.registry.connect(operator).register(supplier.address, 1, kycExpiry, cn, id("again")).catch((e: unknown) => e);
    const decoded = ledger.registry.interface.parseError((refusal as { data: string }).data);
    expect(decoded?.name).to.equal("RegistryMemberExists");
    expect(decoded?.args[0]).to.equal(supplier.address);

    // Several keys at once (automine: one block each).
    await Promise.all([5, 6, 7, 8].map(async (i) => (await acct(i).sendTransaction({ to: acct(9).address, value: parseEther(String(i)) })).wait()));
    // A transaction signed by the node (eth_sendTransaction) and an empty block.
    const h = (await provider.send("eth_sendTransaction", [{ from: acct(9).address, to: acct(5).address, value: "0x1000" }])) as string;
    await provider.waitForTransaction(h);
    await provider.send("evm_mine", []);
    // A transaction that reverts is still mined, although its request answers an error: journaled too.
    const heightBefore = await provider.getBlockNumber();
    const failed = await ledger.token
      .connect(acct(8))
      .transfer(supplier.address, 1n, { gasLimit: 200_000 })
      .catch((e: unknown) => e);
    expect(failed).to.be.instanceOf(Error);
    revertedBlock = heightBefore + 1;
    expect(await provider.getBlockNumber()).to.equal(revertedBlock);
    provider.destroy();

    before = await snapshot(first.url, ledger, addresses);
    expect(readEntries(dataDir)).to.have.length(before.blockNumber);

    await first.kill("SIGKILL");
    const second = await startRunner(dataDir);
    runners.push(second);
    expect(second.blocksReplayed).to.equal(before.blockNumber);
    expect(second.output()).to.match(/replayed \d+ blocks .* blocks\/s/);
    const after = await snapshot(second.url, ledger, addresses);
    expect(after).to.deep.equal(before);

    // New transactions work, and block time keeps going forward on the wall clock.
    const p2 = rpcProvider(second.url);
    const tx = await new Wallet(HD_ROOT.deriveChild(3).privateKey, p2).sendTransaction({ to: addresses[6], value: 1n });
    const receipt = (await tx.wait())!;
    expect(receipt.blockNumber).to.equal(before.blockNumber + 1);
    const block = (await p2.getBlock(receipt.blockNumber))!;
    const last = before.timestamps[before.timestamps.length - 1];
    const now = Math.floor(Date.now() / 1000);
    expect(block.timestamp).to.be.greaterThan(last);
    expect(block.timestamp).to.be.within(Math.max(now, last + 1) - 2, Math.max(now, last + 1) + 1);
    for (let i = 1; i < before.timestamps.length; i++) expect(before.timestamps[i]).to.be.greaterThan(before.timestamps[i - 1]);

    // SIGKILL in the middle of a burst from several keys: every transaction whose hash came back to
    // its sender (i.e. was mined and journaled) is on the restarted chain.
    const keys = [10, 11, 12, 13].map((i) => new Wallet(HD_ROOT.deriveChild(i).privateKey));
    const signed = await Promise.all(
      keys.map(async (w) => {
        const nonce = await p2.getTransactionCount(w.address);
        return Promise.all(
          Array.from({ length: 100 }, (_, j) =>
            w.signTransaction({
              type: 2, chainId: 31337n, nonce: nonce + j, to: addresses[9], value: 1n, gasLimit: 21_000,
              maxFeePerGas: 10_000_000_000n, maxPriorityFeePerGas: 1n,
            }),
          ),
        );
      }),
    );
    p2.destroy();
    const acked: string[] = [];
    const bursts = signed.map(async (list) => {
      for (const raw of list) {
        const answer = (await rawRpc(second.url, { jsonrpc: "2.0", id: 1, method: "eth_sendRawTransaction", params: [raw] }).catch(
          () => undefined,
        )) as { result?: string } | undefined;
        if (answer?.result === undefined) return;
        acked.push(answer.result);
      }
    });
    while (acked.length < 40) await new Promise((r) => setTimeout(r, 5));
    await second.kill("SIGKILL");
    await Promise.all(bursts);
    expect(acked.length).to.be.lessThan(400);

    const third = await startRunner(dataDir);
    runners.push(third);
    expect(third.blocksReplayed).to.be.at.least(before.blockNumber + 1 + acked.length);
    const receipts = (await rawRpc(
      third.url,
      acked.map((h, i) => ({ jsonrpc: "2.0", id: i, method: "eth_getTransactionReceipt", params: [h] })),
    )) as { result: { status: string } | null }[];
    expect(receipts.filter((r) => r.result?.status === "0x1")).to.have.length(acked.length);
    await third.kill("SIGTERM");
    expect(third.child.exitCode).to.equal(0);
  });

  it("cuts off a torn last journal line with a warning", async () => {
    const dir = path.join(tmp, "torn");
    fs.cpSync(dataDir, dir, { recursive: true });
    fs.rmSync(path.join(dir, "chain", "LOCK"), { force: true });
    const journal = path.join(dir, "chain", "journal.ndjson");
    const size = fs.statSync(journal).size;
    const blocks = readEntries(dir).length;
    fs.appendFileSync(journal, `{"n":${blocks + 1},"hash":"0x12`);
    const lines: string[] = [];
    const chain = await startDurableChain({ dataDir: dir, port: 0, log: (l) => lines.push(l) });
    try {
      expect(chain.blocksReplayed).to.equal(blocks);
      expect(lines.join("\n")).to.match(/WARNING: the last journal line .* is torn/);
      expect(fs.statSync(journal).size).to.equal(size);
    } finally {
      await chain.stop();
    }
  });

  it("says it is replaying, and how far it has got, while a restart replays the journal", async () => {
    const dir = path.join(tmp, "progress");
    fs.cpSync(dataDir, dir, { recursive: true });
    fs.rmSync(path.join(dir, "chain", "LOCK"), { force: true });
    const blocks = readEntries(dir).length;
    const mib = (fs.statSync(path.join(dir, "chain", "journal.ndjson")).size / 1024 / 1024).toFixed(1);
    const lines: string[] = [];
    // A progress line after every block (the default is every 10 s).
    const chain = await startDurableChain({ dataDir: dir, port: 0, log: (l) => lines.push(l), replayProgressMs: 0 });
    try {
      expect(chain.blocksReplayed).to.equal(blocks);
      expect(lines[0]).to.equal(
        `durable chain: replaying the journal (${mib} MiB) into a fresh network; the chain serves once it is done (progress every 0 s)`,
      );
      const progress = lines.filter((l) => l.startsWith("durable chain: replaying the journal: "));
      expect(progress).to.have.length(blocks);
      const shares = progress.map((l) => Number(/, (\d+) % of /.exec(l)![1]));
      expect(shares).to.deep.equal([...shares].sort((a, b) => a - b));
      expect(progress.at(-1)).to.match(new RegExp(`^durable chain: replaying the journal: block ${blocks.toLocaleString("en-US")}, 100 % of ${mib} MiB read, [\\d,]+ blocks/s, nearly done$`));
      // npm start and the ledger tools show these lines although they hide the chain's other lines.
      expect(lines.filter(alwaysShown)).to.include.members([lines[0], ...progress]);
      expect(alwaysShown(lines.find((l) => l.startsWith("durable chain: serving"))!)).to.equal(false);
    } finally {
      await chain.stop();
    }
  });

  it("refuses a journal whose raw transaction was altered, naming the block", async () => {
    const dir = path.join(tmp, "tampered");
    fs.cpSync(dataDir, dir, { recursive: true });
    fs.rmSync(path.join(dir, "chain", "LOCK"), { force: true });
    const journal = path.join(dir, "chain", "journal.ndjson");
    const entries = readEntries(dir);
    // Change the amount of the transfer mined in block `target`, keeping its signature.
    const target = revertedBlock - 3;
    const tx = Transaction.from(entries[target - 1].txs[0]);
    const forged = tx.clone();
    forged.value = tx.value + 1n;
    forged.signature = tx.signature;
    entries[target - 1].txs[0] = forged.serialized;
    fs.writeFileSync(journal, entries.map((e) => JSON.stringify(e) + "\n").join(""));
    const error = await startDurableChain({ dataDir: dir, port: 0, log: () => {} }).then(
      async (c) => {
        await c.stop();
        return undefined;
      },
      (e: Error) => e,
    );
    expect(error?.message).to.match(new RegExp(`block ${target}\\b`));
  });

  it("refuses a journal whose block time was altered, naming the block whose hash diverges", async () => {
    const dir = path.join(tmp, "retimed");
    fs.cpSync(dataDir, dir, { recursive: true });
    fs.rmSync(path.join(dir, "chain", "LOCK"), { force: true });
    const journal = path.join(dir, "chain", "journal.ndjson");
    const entries = readEntries(dir);
    const target = entries.length - 1;
    entries[target - 1].ts += 1;
    fs.writeFileSync(journal, entries.map((e) => JSON.stringify(e) + "\n").join(""));
    const error = await startDurableChain({ dataDir: dir, port: 0, log: () => {} }).then(
      async (c) => {
        await c.stop();
        return undefined;
      },
      (e: Error) => e,
    );
    expect(error?.message).to.match(new RegExp(`replay diverged at block ${target}\\b`));
  });

  /** A copy of the main data directory whose journal entries `alter` changed; the start's error. */
  async function startAltered(name: string, alter: (entries: JournalEntry[]) => void, replayCheckEvery?: number): Promise<Error | undefined> {
    const dir = path.join(tmp, name);
    fs.cpSync(dataDir, dir, { recursive: true });
    fs.rmSync(path.join(dir, "chain", "LOCK"), { force: true });
    const entries = readEntries(dir);
    alter(entries);
    fs.writeFileSync(path.join(dir, "chain", "journal.ndjson"), entries.map((e) => JSON.stringify(e) + "\n").join(""));
    return startDurableChain({ dataDir: dir, port: 0, log: () => {}, replayCheckEvery }).then(
      async (c) => {
        await c.stop();
        return undefined;
      },
      (e: Error) => e,
    );
  }

  /** Moves block `from` and every later block one second later: each still replays, with other hashes. */
  const retimeFrom = (from: number) => (entries: JournalEntry[]) => {
    for (const e of entries) if (e.n >= from) e.ts += 1;
  };

  it("names the first differing block although only the head's hash is compared (bisection)", async () => {
    const total = readEntries(dataDir).length;
    const target = Math.floor(total / 3);
    expect(total).to.be.lessThan(1000); // one window: the only check is at the last block
    const error = await startAltered("retimed-early", retimeFrom(target), 1000);
    expect(error?.message).to.match(new RegExp(`replay diverged at block ${target}\\b`));
  });

  it("names the first differing block with periodic checks, the difference between two of them", async () => {
    const target = 11;
    // Checks after blocks 4, 8, 12, …: block 11 differs, the check at block 12 fails.
    const error = await startAltered("retimed-window", retimeFrom(target), 4);
    expect(error?.message).to.match(new RegExp(`replay diverged at block ${target}\\b`));
  });

  it("names an earlier differing block rather than a later block that cannot be replayed", async () => {
    const forgedAt = revertedBlock - 3;
    const first = 5;
    const error = await startAltered("retimed-then-forged", (entries) => {
      retimeFrom(first)(entries);
      const tx = Transaction.from(entries[forgedAt - 1].txs[0]);
      const forged = tx.clone();
      forged.value = tx.value + 1n;
      forged.signature = tx.signature;
      entries[forgedAt - 1].txs[0] = forged.serialized;
    });
    expect(forgedAt).to.be.greaterThan(first);
    expect(error?.message).to.match(new RegExp(`replay diverged at block ${first}\\b`));
  });

  it("refuses methods that would make the journal unreplayable, with JSON-RPC errors; serves batches", async () => {
    const chain = await startDurableChain({ dataDir: path.join(tmp, "fresh"), port: 0, log: () => {} });
    try {
      const refused: [string, unknown[]][] = [
        ["hardhat_setBalance", [addresses[0], "0x1"]],
        ["hardhat_setCode", [addresses[0], "0x00"]],
        ["hardhat_setStorageAt", [addresses[0], "0x0", "0x" + "00".repeat(32)]],
        ["hardhat_impersonateAccount", [addresses[0]]],
        ["hardhat_reset", []],
        ["hardhat_mine", ["0x10"]],
        ["evm_snapshot", []],
        ["evm_revert", ["0x1"]],
        ["evm_increaseTime", [3600]],
        ["evm_setNextBlockTimestamp", [2_000_000_000]],
        ["evm_setAutomine", [false]],
        ["evm_setIntervalMining", [100]],
        ["evm_mine", [2_000_000_000]],
      ];
      const batch = [
        { jsonrpc: "2.0", id: "a", method: "eth_chainId", params: [] },
        ...refused.map(([method, params], i) => ({ jsonrpc: "2.0", id: i, method, params })),
        { jsonrpc: "2.0", id: "b", method: "eth_blockNumber", params: [] },
      ];
      const answers = (await rawRpc(chain.url, batch)) as { id: unknown; result?: string; error?: { code: number; message: string } }[];
      expect(answers).to.have.length(batch.length);
      expect(answers[0]).to.deep.include({ id: "a", result: "0x7a69" });
      refused.forEach(([method], i) => {
        const a = answers[i + 1];
        expect(a.id).to.equal(i);
        expect(a.error?.code, method).to.equal(-32004);
        expect(a.error?.message, method).to.match(/refused by the durable embedded chain/);
      });
      expect(answers[answers.length - 1]).to.deep.include({ id: "b", result: "0x0" });
      // Nothing was mined by the refused calls; a plain evm_mine is served and journaled.
      const single = (await rawRpc(chain.url, { jsonrpc: "2.0", id: 7, method: "evm_mine", params: [] })) as { id: number; error?: unknown };
      expect(single).to.include({ id: 7 }).and.not.have.property("error");
      expect(readEntries(path.join(tmp, "fresh"))).to.have.length(1);
    } finally {
      await chain.stop();
    }
  });

  it("follows the wall clock after downtime (genesis long ago)", async () => {
    const dir = path.join(tmp, "old");
    const c1 = await startDurableChain({ dataDir: dir, port: 0, log: () => {} });
    await c1.stop();
    // Pretend the chain was created ten days ago and has been down since.
    const genesisFile = path.join(dir, "chain", "genesis.json");
    const g = JSON.parse(fs.readFileSync(genesisFile, "utf8"));
    g.initialDate = new Date(Date.now() - 10 * 24 * 3600 * 1000).toISOString();
    delete g.genesisHash;
    fs.writeFileSync(genesisFile, JSON.stringify(g));
    const c2 = await startDurableChain({ dataDir: dir, port: 0, log: () => {} });
    try {
      const p = rpcProvider(c2.url);
      const pending = Number(((await p.send("eth_getBlockByNumber", ["pending", false])) as { timestamp: string }).timestamp);
      await p.send("evm_mine", []);
      const mined = (await p.getBlock("latest"))!;
      const now = Math.floor(Date.now() / 1000);
      expect(pending).to.be.within(now - 2, now + 1);
      expect(mined.timestamp).to.be.within(now - 2, now + 1);
      p.destroy();
    } finally {
      await c2.stop();
    }
  });

  it("refuses to start from a genesis whose journal is missing", async () => {
    const dir = path.join(tmp, "lost");
    fs.cpSync(dataDir, dir, { recursive: true });
    fs.rmSync(path.join(dir, "chain", "journal.ndjson"));
    const err = await startDurableChain({ dataDir: dir, port: 0, log: () => {} }).catch((e: Error) => e);
    expect((err as Error).message).to.match(/journal\.ndjson is missing/);
  });

  it("refuses a second process on the same data directory", async () => {
    const dir = path.join(tmp, "fresh");
    const c = await startDurableChain({ dataDir: dir, port: 0, log: () => {} });
    try {
      const err = await startDurableChain({ dataDir: dir, port: 0, log: () => {} }).catch((e: Error) => e);
      expect((err as Error).message).to.match(/already served by this process|in use by process/);
    } finally {
      await c.stop();
    }
  });
});
