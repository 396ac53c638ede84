/**
 * The service against a second, independent node implementation: anvil (Foundry), next to the
 * hardhat node every other suite uses. What only anvil gives a test here: interval mining with a
 * real block time, a mempool that holds transactions until a block is mined, and `anvil_reorg`,
 * a real reorganisation of several blocks with other transactions. Real service (createApp), real
 * database (SQLite, or PostgreSQL with TEST_DATABASE=postgres), real signatures over JSON-RPC.
 */
import { expect } from "chai";
import request from "supertest";
import { Transaction, Wallet, id as keccakId, sha256, toUtf8Bytes } from "ethers";
import type { HttpException as NestHttpException } from "@nestjs/common";
import { startAnvil } from "../support/anvil";
import { startChain, type TestChain } from "../support/chain";
import { cleanupEnv, prepareEnv, startService, type RunningService, type TestEnv } from "../support/app";
import { runHttpLifecycle } from "../support/http-lifecycle";
import { LedgerDriver, DAY } from "../support/ledger-driver";
import { dataSourceOf, dumpIndex, eventFeed, expectProjectionsMatchChain, expectStoredHashesOnChain, freshIndexDump } from "../support/index-check";
import { fetched, gateLogReads, recordCheckpoints, until as waitUntil } from "../support/indexer-probe";
import { bearer, signIn } from "../support/auth";
import type { LedgerInvoice } from "../support/acts";
import { DbWriter } from "../../services/src/database/db-writer";
import { IndexerService } from "../../services/src/indexer/indexer.service";
import { IndexerStateEntity } from "../../services/src/indexer/entities/indexer-state.entity";
import { OutboxEntity } from "../../services/src/outbox/entities/outbox.entity";
import { ReceivableEntity } from "../../services/src/read-model/entities/projections.entity";
import { TxSenderService, type EnqueueRequest } from "../../services/src/outbox/tx-sender.service";
import { revertDataOf } from "../../services/src/chain/errors";
import { parseLedgerError, revertToHttp } from "../../services/src/acts/revert-to-http";
import { ROLE_BITS } from "../../shared/roles";
import { receivableIdHex } from "../../shared/ids";

const MANUAL = { INDEXER_ENABLED: "false", SENDER_ENABLED: "false" };
const YEAR = 365 * 86_400;

function registerCall(env: TestEnv, account: string, expiry: number, roles = ROLE_BITS.supplier): EnqueueRequest {
  return {
    signer: "operator",
    to: env.ledger.record.contracts.ParticipantRegistry,
    data: env.ledger.registry.interface.encodeFunctionData("register", [account, roles, expiry, "0x434e", keccakId(`entity ${account}`)]),
    kind: "registry.register",
  };
}

function enqueue(s: RunningService, req: EnqueueRequest): Promise<OutboxEntity> {
  return s.app.get(DbWriter).write((m) => s.app.get(TxSenderService).enqueue(m, req));
}

/** Hashes of the transactions on `chain` (from the deployment on) sent by `from` with exactly `data`. */
async function transactionsWith(env: TestEnv, from: string, data: string): Promise<string[]> {
  const hashes: string[] = [];
  const head = await env.chain.provider.getBlockNumber();
  for (let n = env.ledger.record.blockNumber; n <= head; n++) {
    const b = (await env.chain.provider.getBlock(n, true))!;
    for (const tx of b.prefetchedTransactions) if (tx.from === from && tx.data === data) hashes.push(tx.hash);
  }
  return hashes;
}

async function until<T>(what: string, probe: () => Promise<T | null | undefined | false>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function txpool(chain: TestChain): Promise<{ pending: number; queued: number }> {
  const s = (await chain.provider.send("txpool_status", [])) as { pending: string; queued: string };
  return { pending: Number(s.pending), queued: Number(s.queued) };
}

describe("The service on anvil (a second node implementation)", function () {
  this.timeout(180_000);

  describe("interval mining (--block-time 1)", function () {
    let chain: TestChain;
    let env: TestEnv;
    let svc: RunningService;
    before(async function () {
      chain = await startAnvil({ mining: { blockTimeMs: 1000 } });
      // The deployment is set-up, not the subject: mined at once, then back to a block a second.
      await chain.provider.send("evm_setAutomine", [true]);
      env = await prepareEnv(chain);
      svc = await startService(env);
      await chain.provider.send("evm_setIntervalMining", [1]);
      // The test's blocks start after the first one the interval mined: the last automined block and
      // the first interval block may share a second, and only the interval's blocks are the subject.
      const automined = await chain.provider.getBlockNumber();
      await until("the first block mined by the interval", async () => ((await chain.provider.getBlockNumber()) > automined ? true : undefined), 15_000);
    });
    after(async function () {
      await svc?.close();
      if (env) await cleanupEnv(env);
      await chain?.stop();
    });

    it("takes a tokenisation and a financing lifecycle to their final states through the sender and the indexer", async function () {
      const from = await chain.provider.getBlockNumber();
      await runHttpLifecycle(chain, env, svc);
      // Interval mining indeed: a block a second, whether or not it holds a transaction.
      const head = await chain.provider.getBlockNumber();
      const blocks = await Promise.all(Array.from({ length: head - from + 1 }, (_, i) => chain.provider.getBlock(from + i)));
      for (let i = 1; i < blocks.length; i++) expect(blocks[i]!.timestamp, `block ${blocks[i]!.number}`).to.be.greaterThan(blocks[i - 1]!.timestamp);
      // A block with no transaction comes along by itself (the lifecycle may have kept every block of
      // its own run busy on a loaded machine, so look past its end): only interval mining makes one.
      const empty = await until(
        "an empty block mined by the interval",
        async () => {
          const b = await chain.provider.getBlock("latest");
          return b !== null && b.number > head && b.transactions.length === 0 ? b : undefined;
        },
        15_000,
      );
      expect(empty.transactions).to.have.length(0);
    });
  });

  describe("a mempool, refusals and reorgs (--no-mining, automine switched on for set-up)", function () {
    let chain: TestChain;
    let env: TestEnv | null = null;
    let svc: RunningService | null = null;
    before(async function () {
      chain = await startAnvil({ mining: "manual" });
      await chain.provider.send("evm_setAutomine", [true]);
    });
    after(async function () {
      await chain?.stop();
    });
    afterEach(async function () {
      await chain.provider.send("evm_setAutomine", [true]);
      await svc?.close();
      svc = null;
      if (env) await cleanupEnv(env);
      env = null;
    });

    async function start(overrides: Record<string, string> = {}): Promise<RunningService> {
      env = await prepareEnv(chain, { ...MANUAL, ...overrides });
      svc = await startService(env);
      return svc;
    }

    it("holds several relayed transactions pending at once, then mines them once each, nonces contiguous", async function () {
      const s = await start({ SENDER_ENABLED: "true" });
      const e = env!;
      const sender = s.app.get(TxSenderService);
      const operator = e.keys.operator.address;
      const expiry = (await chain.provider.getBlock("latest"))!.timestamp + YEAR;
      const chainNonce = await chain.provider.getTransactionCount(operator, "latest");
      await chain.provider.send("evm_setAutomine", [false]);
      const accounts = Array.from({ length: 8 }, () => Wallet.createRandom().address);
      const rows = await Promise.all(accounts.map((a) => enqueue(s, registerCall(e, a, expiry))));
      const ids = rows.map((r) => r.id);
      const ds = dataSourceOf(s.app);
      await until("all rows sent", async () => (await ds.getRepository(OutboxEntity).findBy(ids.map((id) => ({ id })))).every((r) => r.status === "sent"));
      // Many sender passes while they wait: nothing is signed again or sent under another nonce.
      await new Promise((r) => setTimeout(r, 500));
      expect(await txpool(chain)).to.deep.equal({ pending: 8, queued: 0 });
      const content = (await chain.provider.send("txpool_content", [])) as { pending: Record<string, Record<string, { hash: string }>> };
      const mine = Object.entries(content.pending).find(([a]) => a.toLowerCase() === operator.toLowerCase())![1];
      expect(Object.keys(mine).map(Number).sort((a, b) => a - b)).to.deep.equal(Array.from({ length: 8 }, (_, i) => chainNonce + i));
      expect(await chain.provider.getTransactionCount(operator, "latest")).to.equal(chainNonce);

      await chain.provider.send("evm_mine", []);
      const done = await Promise.all(ids.map((id) => sender.waitFor(id, 30_000)));
      expect(done.map((r) => r.status)).to.deep.equal(Array(8).fill("mined"));
      expect(new Set(done.map((r) => r.blockNumber)).size, "one block holds them all").to.equal(1);
      expect(done.map((r) => r.nonce!).sort((a, b) => a - b)).to.deep.equal(Array.from({ length: 8 }, (_, i) => chainNonce + i));
      expect(await chain.provider.getTransactionCount(operator, "latest")).to.equal(chainNonce + 8);
      for (const r of done) expect(await transactionsWith(e, operator, r.data), r.id).to.deep.equal([r.txHash]);
      expect(await txpool(chain)).to.deep.equal({ pending: 0, queued: 0 });
    });

    it("answers the ledger's refusals as anvil reports them with the same problem codes as on hardhat", async function () {
      const hardhat = await startChain();
      try {
        const onHardhat = await refusals(hardhat);
        const onAnvil = await refusals(chain);
        expect(onAnvil).to.deep.equal(onHardhat);
        // Decoded indeed, not the same fallback on both.
        expect(onHardhat.map((r) => r.code)).to.deep.equal([
          "ReceivableDuplicate",
          "ReceivableDuplicate",
          "ReceivableUnverifiedParty",
          "ReceivableUnauthorized",
          "Forbidden", // the service's own role and party checks answer these two before the chain
          "Forbidden",
          "RegistryMemberExists",
        ]);
      } finally {
        await hardhat.stop();
      }
    });

    it("follows a reorg of several blocks (anvil_reorg) while indexing: the projection equals a fresh index of the new chain and /audit/verify is clean", async function () {
      const s = await start({ INDEXER_ENABLED: "true", INDEXER_BATCH_BLOCKS: "3" });
      const e = env!;
      const d = await LedgerDriver.onboard(e);
      const ds = dataSourceOf(s.app);
      const { supplier, supplier2, buyer, financier, auditor } = d.p;
      const r0 = await d.tokenise(supplier, buyer);
      await d.accept(buyer, r0);
      const forkBase = await d.head();

      // The fork that will be abandoned, followed by the indexer as it grows.
      const [a1] = await d.split(supplier, r0, [300_000_00n, 700_000_00n]);
      const lineA = await d.openLine(financier, buyer);
      await d.request(supplier, a1, lineA);
      await d.register(Wallet.createRandom().address, ROLE_BITS.supplier, (await d.now()) + YEAR);
      await d.tokenise(supplier2, buyer);
      const headA = await d.head();
      await indexedTo(s, chain, headA);
      const abandoned = await ds.query(`SELECT tx_hash FROM ledger_events WHERE block_number > ${forkBase}`);
      expect(abandoned.length).to.be.greaterThan(5);

      // The new chain: the same height, the issuer's mints in its first and third block instead.
      const admin = chain.account(0);
      const nonce = await chain.provider.getTransactionCount(admin.address, "latest");
      const gasPrice = BigInt(await chain.provider.send("eth_gasPrice", [])) * 2n;
      const mint = (to: string, amount: bigint, n: number) =>
        admin.signTransaction({
          type: 0,
          chainId: chain.chainId,
          nonce: n,
          to: e.ledger.record.contracts.SettlementToken,
          data: e.ledger.token.interface.encodeFunctionData("mint", [to, amount]),
          gasLimit: 200_000n,
          gasPrice,
        });
      const replacements = [await mint(supplier.address, 123_00n, nonce), await mint(supplier2.address, 456_00n, nonce + 1)];
      const depth = headA - forkBase;
      expect(depth).to.be.at.least(5);
      await chain.provider.send("anvil_reorg", [depth, [[replacements[0], 0], [replacements[1], 2]]]);
      expect(await d.head()).to.equal(headA);
      const included = await Promise.all(replacements.map((raw) => chain.provider.getTransactionReceipt(Transaction.from(raw).hash!)));
      expect(included.map((r) => r?.blockNumber)).to.deep.equal([forkBase + 1, forkBase + 3]);

      const head = await d.head();
      await indexedTo(s, chain, head);
      const feed = await ds.query(`SELECT tx_hash FROM ledger_events WHERE block_number > ${forkBase}`);
      expect([...new Set(feed.map((r: { tx_hash: string }) => r.tx_hash))].sort(), "events above the fork point").to.deep.equal(included.map((r) => r!.hash).sort());
      await expectStoredHashesOnChain(ds, e);
      await expectProjectionsMatchChain(ds, e, head);
      expect(await dumpIndex(ds)).to.deep.equal(await freshIndexDump(e));
      const token = await signIn(s.url, auditor);
      const verify = await request(s.url).get("/audit/verify").set(bearer(token)).expect(200);
      expect(verify.body.differences, JSON.stringify(verify.body.differences)).to.deep.equal([]);
      expect(verify.body.ok).to.equal(true);
    });

    it("anvil_reorg of a block inside a committed grouped write: rolls back to the fork point within the group and ends equal to a fresh index", async function () {
      // One block per range; the first range is answered once the next two have been fetched, so one
      // write groups blocks cp0+1 … cp0+3, and the reorg replaces cp0+3 only.
      const s = await start({ INDEXER_BATCH_BLOCKS: "1" });
      const e = env!;
      const d = await LedgerDriver.onboard(e);
      const indexer = s.app.get(IndexerService);
      const ds = dataSourceOf(s.app);
      const { supplier, buyer } = d.p;
      await indexer.catchUp();
      const cp0 = (await indexer.checkpoint()).blockNumber;
      const r0 = await d.tokenise(supplier, buyer);
      await d.accept(buyer, r0);
      const forkBase = await d.head();
      expect(forkBase).to.equal(cp0 + 2);
      await d.split(supplier, r0, [300_000_00n, 700_000_00n]);
      const headA = await d.head();
      const ungate = gateLogReads(indexer, (from) =>
        from === cp0 + 1 ? waitUntil("ranges cp0+2 and cp0+3 fetched", () => fetched(indexer, cp0 + 2) && fetched(indexer, cp0 + 3)) : Promise.resolve(),
      );
      const rec = recordCheckpoints(s.app.get(DbWriter), indexer);
      try {
        expect(await indexer.catchUp()).to.equal(headA);
      } finally {
        ungate();
        rec.restore();
      }
      expect(rec.after.map((c) => c.blockNumber), "one write over the fork point").to.include(headA).and.not.include(forkBase).and.not.include(cp0 + 1);
      const kept = (await eventFeed(ds)).filter((x) => x.blockNumber <= forkBase);

      // The split's block is replaced by a mint of the issuer.
      const admin = chain.account(0);
      const raw = await admin.signTransaction({
        type: 0,
        chainId: chain.chainId,
        nonce: await chain.provider.getTransactionCount(admin.address, "latest"),
        to: e.ledger.record.contracts.SettlementToken,
        data: e.ledger.token.interface.encodeFunctionData("mint", [supplier.address, 789_00n]),
        gasLimit: 200_000n,
        gasPrice: BigInt(await chain.provider.send("eth_gasPrice", [])) * 2n,
      });
      await chain.provider.send("anvil_reorg", [1, [[raw, 0]]]);
      expect(await d.head()).to.equal(headA);
      expect((await chain.provider.getTransactionReceipt(Transaction.from(raw).hash!))?.blockNumber).to.equal(headA);

      // One step: the checkpoint's block is gone; the rollback stops at the fork point, keeping the
      // group's first two blocks.
      expect(await indexer.step()).to.equal(true);
      const cp = await indexer.checkpoint();
      expect([cp.blockNumber, cp.blockHash]).to.deep.equal([forkBase, (await chain.provider.getBlock(forkBase))!.hash]);
      expect(await eventFeed(ds)).to.deep.equal(kept);

      expect(await indexer.catchUp()).to.equal(headA);
      expect(await ds.getRepository(ReceivableEntity).countBy({ parentId: receivableIdHex(r0) }), "children of the replaced split").to.equal(0);
      await expectStoredHashesOnChain(ds, e);
      await expectProjectionsMatchChain(ds, e, headA);
      expect(await dumpIndex(ds)).to.deep.equal(await freshIndexDump(e));
    });

    it("broadcasts again a relayed transaction that a reorg took off the chain before it was CONFIRMATIONS deep: it ends mined once", async function () {
      const s = await start({ SENDER_ENABLED: "true", CONFIRMATIONS: "3" });
      const e = env!;
      const sender = s.app.get(TxSenderService);
      const ds = dataSourceOf(s.app);
      const operator = e.keys.operator.address;
      const account = Wallet.createRandom().address;
      const chainNonce = await chain.provider.getTransactionCount(operator, "latest");
      const expiry = (await chain.provider.getBlock("latest"))!.timestamp + YEAR;
      await chain.provider.send("evm_setAutomine", [false]);
      const row = await enqueue(s, registerCall(e, account, expiry));
      const sent = await until("the row sent", async () => {
        const r = await ds.getRepository(OutboxEntity).findOneByOrFail({ id: row.id });
        return r.status === "sent" ? r : null;
      });
      await chain.provider.send("evm_mine", []);
      const first = (await chain.provider.getTransactionReceipt(sent.txHash!))!;
      expect(first.status).to.equal(1);
      await chain.provider.send("evm_mine", []);
      // Two blocks deep, one short of final: the sender has seen it and waits.
      await new Promise((r) => setTimeout(r, 300));
      expect((await ds.getRepository(OutboxEntity).findOneByOrFail({ id: row.id })).status).to.equal("sent");

      await chain.provider.send("anvil_reorg", [2, []]);
      expect(await chain.provider.getTransactionReceipt(sent.txHash!), "off the chain").to.equal(null);
      // anvil drops a reorged transaction; the sender puts the same bytes back in the mempool.
      await until("the transaction broadcast again", async () => (await txpool(chain)).pending === 1, 10_000);
      for (let i = 0; i < 4; i++) await chain.provider.send("evm_mine", []);
      const done = await sender.waitFor(row.id, 30_000);
      expect([done.status, done.txHash, done.nonce]).to.deep.equal(["mined", sent.txHash, chainNonce]);
      expect(done.blockNumber, "mined again in the new chain").to.be.greaterThan(first.blockNumber);
      expect(await transactionsWith(e, operator, done.data)).to.deep.equal([sent.txHash]);
      expect(await chain.provider.getTransactionCount(operator, "latest")).to.equal(chainNonce + 1);
      expect(await e.ledger.registry.isVerified(account, ROLE_BITS.supplier)).to.equal(true);
    });
  });
});

/** Waits until the service's indexer has indexed `block` as the chain has it now (its hash: after a
 * reorg to the same height the number alone is already there). */
async function indexedTo(s: RunningService, chain: TestChain, block: number): Promise<void> {
  const ds = dataSourceOf(s.app);
  const hash = (await chain.provider.getBlock(block))!.hash;
  await until(`the indexer at block ${block} ${hash}`, async () => {
    const cp = await ds.getRepository(IndexerStateEntity).findOneBy({ id: "ledger" });
    return cp !== null && cp.blockNumber === block && cp.blockHash === hash;
  });
}

/**
 * The answers a node's refusals get from the service, by the service's own decoding: a duplicate
 * invoice (by eth_call as the act pipeline simulates, and by eth_estimateGas), a party without
 * the role, the wrong party; two refused acts over HTTP (problem+json); and the sender's failure
 * reason for a service transaction the ledger refuses. Status and problem code only: addresses
 * differ between deployments.
 */
async function refusals(node: TestChain): Promise<Array<{ status: number; code: string }>> {
  const e = await prepareEnv(node, { ...MANUAL, SENDER_ENABLED: "true" });
  const s = await startService(e);
  try {
    const d = await LedgerDriver.onboard(e);
    const { supplier, supplier2, buyer, financier } = d.p;
    const receivables = e.ledger.receivables;
    const to = e.ledger.record.contracts.Receivables;
    const answer = (err: unknown) => {
      const ex = revertToHttp(parseLedgerError(revertDataOf(err)), "undecoded") as NestHttpException;
      return { status: ex.getStatus(), code: String((ex.getResponse() as { error?: string }).error) };
    };
    const refusal = async (attempt: () => Promise<unknown>) => {
      try {
        await attempt();
        return { status: 0, code: "not refused" };
      } catch (err) {
        return answer(err);
      }
    };
    const call = (from: Wallet, data: string) => refusal(() => node.provider.call({ from: from.address, to, data }));
    const estimate = (from: Wallet, data: string) => refusal(() => node.provider.estimateGas({ from: from.address, to, data }));
    const inv: LedgerInvoice = {
      debtor: buyer.address,
      faceValue: 1_000_00n,
      dueDate: (await d.now()) + 30 * DAY,
      documentHash: sha256(toUtf8Bytes(`refusals ${Math.random()}`)),
      fingerprint: keccakId(`refusals ${Math.random()}`),
    };
    const attestation = await d.attest(supplier.address, [inv]);
    await (await receivables.connect(supplier).tokenise(inv, attestation)).wait();
    const again = receivables.interface.encodeFunctionData("tokenise", [inv, attestation]);
    const r = await d.tokenise(supplier, buyer);
    const out = [
      await call(supplier, again),
      await estimate(supplier, again),
      await call(financier, receivables.interface.encodeFunctionData("tokenise", [{ ...inv, fingerprint: keccakId(`other ${Math.random()}`) }, attestation])),
      await call(supplier2, receivables.interface.encodeFunctionData("accept", [r, d.termsOf(r)])),
    ];
    // Over HTTP, as a participant meets them: problem+json with the same status and code.
    await s.app.get(IndexerService).catchUp();
    const http = async (who: Wallet, path: string, body: Record<string, unknown>) => {
      const res = await request(s.url).post(path).set(bearer(await signIn(s.url, who))).send(body);
      expect(res.headers["content-type"], path).to.match(/^application\/problem\+json/);
      return { status: res.status, code: String(res.body.code) };
    };
    out.push(await http(supplier2, `/receivables/${receivableIdHex(r)}/accept`, {}));
    out.push(
      await http(buyer, "/credit-lines", {
        debtor: buyer.address,
        limit: "500000000",
        maxAdvanceBps: 9000,
        discountBps: 500,
        expiry: new Date(Date.now() + 300 * 86400_000).toISOString(),
      }),
    );
    const row = await enqueue(s, registerCall(e, supplier.address, (await d.now()) + YEAR));
    const failed = await s.app.get(TxSenderService).waitFor(row.id, 30_000);
    expect(failed.status).to.equal("failed");
    out.push({ status: 0, code: /^reverted: (\w+)\(/.exec(failed.failureReason ?? "")?.[1] ?? String(failed.failureReason) });
    return out;
  } finally {
    await s.close();
    await cleanupEnv(e);
  }
}
