/**
 * The same invoice accepted by two API replicas at once (issue 15): each replica's check of
 * pending acts passes before the other records its act, so only the database can refuse the second.
 * A tokenising act claims its receivable ids in act_claims (primary key) in the transaction that
 * records it and its outbox row; the second replica finds the claim taken, records nothing and
 * answers 409 DuplicateInvoice. The claim is released in the transaction that settles the act, so an
 * invoice whose act failed on chain can be presented again.
 *
 * Two Nest applications over one database (SQLite file, or PostgreSQL with TEST_DATABASE=postgres)
 * and a `hardhat node`. Both run as API replicas (SENDER_ENABLED=false, INDEXER_ENABLED=false); the
 * test drives replica A's sender and indexer itself (tick, catchUp), so no write of a background
 * worker lands in the middle of a race. The race is made exact by holding replica A's request right
 * after its check of pending acts until replica B has answered: both checked before either recorded.
 * On PostgreSQL the two replicas also race freely, several rounds. (Not on SQLite: the embedded
 * default is one process, and two in one process would wait on each other's file lock while
 * better-sqlite3 blocks the event loop.)
 */
import { createHash } from "node:crypto";
import { expect } from "chai";
import { Wallet } from "ethers";
import { getDataSourceToken } from "@nestjs/typeorm";
import request from "supertest";
import type { DataSource } from "typeorm";
import { ActClaimEntity, ActEntity } from "../../services/src/acts/entities/act.entity";
import { loadConfig } from "../../services/src/config/env";
import { IndexerService } from "../../services/src/indexer/indexer.service";
import { entityIdHash } from "../../services/src/onboarding/onboarding.service";
import { OutboxEntity } from "../../services/src/outbox/entities/outbox.entity";
import { TxSenderService } from "../../services/src/outbox/tx-sender.service";
import { InvoiceChecksService } from "../../services/src/receivables/invoice-checks.service";
import { PROJECT_ROOT } from "../../platform/project-root";
import { ROLE_BITS } from "../../shared/roles";
import { signTypedData, type ActTypedData } from "../../shared/client";
import { bearer, signIn } from "../support/auth";
import { startChain, type TestChain } from "../support/chain";
import { freshUscc } from "../support/entity-ids";
import { cleanupEnv, prepareEnv, startService, usePostgres, type RunningService, type TestEnv } from "../support/app";

type Body = Record<string, unknown>;
const DAY_MS = 86_400_000;
const day = (offset: number) => new Date(Date.now() + offset * DAY_MS).toISOString().slice(0, 10);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("Duplicate invoices across two API replicas (act claims in the database)", function () {
  this.timeout(300_000);
  let chain: TestChain;
  let env: TestEnv;
  let a: RunningService;
  let b: RunningService;
  let ds: DataSource;
  let checksA: InvoiceChecksService;
  const supplier = new Wallet(Wallet.createRandom().privateKey);
  const buyer = new Wallet(Wallet.createRandom().privateKey);
  const taxId = { supplier: freshUscc(), buyer: freshUscc() };
  let token: string;
  let seq = 0;
  const prefix = `DUP${Date.now() % 1_000_000}`;

  before(async function () {
    chain = await startChain();
    const wall = Math.floor(Date.now() / 1000);
    if ((await chain.provider.getBlock("latest"))!.timestamp < wall) {
      await chain.provider.send("evm_setNextBlockTimestamp", [wall]);
      await chain.provider.send("evm_mine", []);
    }
    env = await prepareEnv(chain, { KYC_JOB_INTERVAL_MS: "3600000", SENDER_ENABLED: "false", INDEXER_ENABLED: "false" });
    a = await startService(env); // migrates the database
    b = await startService({ ...env, config: loadConfig(env.env, PROJECT_ROOT) });
    ds = a.app.get<DataSource>(getDataSourceToken());
    checksA = a.app.get(InvoiceChecksService);
    const expiry = Math.floor(Date.now() / 1000) + 365 * 86_400;
    const registry = env.ledger.registry.connect(env.keys.operator);
    await (await registry.register(supplier.address, ROLE_BITS.supplier, expiry, "0x434e", entityIdHash("USCC", taxId.supplier))).wait();
    await (await registry.register(buyer.address, ROLE_BITS.buyer, expiry, "0x434e", entityIdHash("USCC", taxId.buyer))).wait();
    await a.app.get(IndexerService).catchUp();
    token = await signIn(a.url, supplier);
  });

  after(async function () {
    await b?.close();
    await a?.close();
    if (env) await cleanupEnv(env);
    await chain?.stop();
  });

  const invoice = (): Body => {
    seq += 1;
    return {
      debtor: buyer.address,
      invoiceNumber: `${prefix}-${String(seq).padStart(4, "0")}`,
      sellerTaxId: taxId.supplier,
      buyerTaxId: taxId.buyer,
      issueDate: day(0),
      dueDate: day(90),
      amount: "1250000",
      documentHash: "0x" + createHash("sha256").update(`${prefix} invoice ${seq}`).digest("hex"),
    };
  };

  const post = (svc: RunningService, path: string, body: Body) => request(svc.url).post(path).set(bearer(token)).send(body);

  /** The supplier's signed act for `body` on `path`, typed data asked of replica A (each ask proposes a new nonce). */
  async function signed(path: string, body: Body): Promise<Body> {
    const unsigned = await post(a, path, body);
    expect(unsigned.status, JSON.stringify(unsigned.body)).to.equal(200);
    const td = unsigned.body.typedData as ActTypedData;
    return { ...body, nonce: td.message.nonce, deadline: td.message.deadline, signature: await signTypedData(supplier, td) };
  }

  /**
   * Posts `first` to replica A and holds it right after its check of pending acts (which passes),
   * posts `second` to replica B meanwhile, then lets A go on: both checked before either recorded.
   */
  async function race(first: { path: string; body: Body }, second: { path: string; body: Body }) {
    const original = checksA.refuseIfPending.bind(checksA);
    let reached!: () => void;
    let go!: () => void;
    const atCheck = new Promise<void>((r) => (reached = r));
    const gate = new Promise<void>((r) => (go = r));
    checksA.refuseIfPending = async (ids: string[]) => {
      await original(ids);
      checksA.refuseIfPending = original;
      reached();
      await gate;
    };
    try {
      const fromA = post(a, first.path, first.body).then((r) => r);
      await Promise.race([atCheck, fromA.then((r) => Promise.reject(new Error(`A answered before its check: ${r.status} ${JSON.stringify(r.body)}`)))]);
      const fromB = await post(b, second.path, second.body);
      go();
      return { a: await fromA, b: fromB };
    } finally {
      checksA.refuseIfPending = original;
      go();
    }
  }

  /** Acts holding receivable `id` (single or batch), their outbox rows, and the claims on it. */
  async function rowsFor(id: string) {
    const acts = (await ds.getRepository(ActEntity).find()).filter(
      (x) => x.receivableId === id || ((x.result?.receivableIds as string[] | undefined) ?? []).includes(id),
    );
    const outbox = acts.length ? await ds.getRepository(OutboxEntity).findBy(acts.map((x) => ({ referenceId: x.id }))) : [];
    const claims = await ds.getRepository(ActClaimEntity).findBy({ key: `receivable:${id}` });
    return { acts, outbox, claims };
  }

  function expectDuplicate(res: request.Response): void {
    expect(res.status, JSON.stringify(res.body)).to.equal(409);
    expect(res.body.code, JSON.stringify(res.body)).to.equal("DuplicateInvoice");
    expect(res.body.message).to.match(/already being tokenised .* pending act/);
    expect(res.headers["content-type"]).to.match(/application\/problem\+json/);
  }

  /** Ticks replica A's sender until the act is final; then its indexer catches up. */
  async function settle(actId: string): Promise<ActEntity> {
    const sender = a.app.get(TxSenderService);
    for (let i = 0; i < 200; i++) {
      await sender.tick();
      const act = await ds.getRepository(ActEntity).findOneByOrFail({ id: actId });
      if (act.status !== "pending") {
        await a.app.get(IndexerService).catchUp();
        return act;
      }
      await sleep(25);
    }
    throw new Error(`act ${actId} still pending`);
  }

  it("the same invoice under another nonce, checked by both replicas before either records: one 202, one 409, one act and one outbox row", async function () {
    const body = invoice();
    const [one, two] = [await signed("/receivables", body), await signed("/receivables", body)];
    expect(one.nonce).to.not.equal(two.nonce);
    const res = await race({ path: "/receivables", body: one }, { path: "/receivables", body: two });
    expect(res.b.status, JSON.stringify(res.b.body)).to.equal(202);
    expectDuplicate(res.a);
    const id = res.b.body.receivableId as string;
    const rows = await rowsFor(id);
    expect(rows.acts.map((x) => x.id)).to.deep.equal([res.b.body.id]);
    expect(rows.outbox.map((x) => x.referenceId)).to.deep.equal([res.b.body.id]);
    expect(rows.claims.map((c) => c.actId)).to.deep.equal([res.b.body.id]);
    // The loser's nonce was not spent: nothing of its act was kept, and it is unused on-chain.
    expect(await ds.getRepository(ActEntity).existsBy({ signer: supplier.address, nonce: String(one.nonce) })).to.equal(false);
    expect(await env.ledger.receivables.isNonceUsed(supplier.address, BigInt(one.nonce as string))).to.equal(false);
    expect((await settle(res.b.body.id as string)).status).to.equal("confirmed");
    expect((await rowsFor(id)).claims, "a confirmed act's claim is released").to.deep.equal([]);
  });

  it("a batch holding the invoice against the single act, checked by both before either records: the batch is refused whole", async function () {
    const body = invoice();
    const others = [invoice(), invoice()];
    const batch = await signed("/receivables/batch", { invoices: [others[0], body, others[1]] });
    const single = await signed("/receivables", body);
    const res = await race({ path: "/receivables/batch", body: batch }, { path: "/receivables", body: single });
    expect(res.b.status, JSON.stringify(res.b.body)).to.equal(202);
    expectDuplicate(res.a);
    const id = res.b.body.receivableId as string;
    const rows = await rowsFor(id);
    expect(rows.acts.map((x) => x.id)).to.deep.equal([res.b.body.id]);
    expect(rows.outbox).to.have.length(1);
    // Nothing of the batch: no act, and none of its other invoices claimed.
    expect(await ds.getRepository(ActEntity).existsBy({ signer: supplier.address, nonce: String(batch.nonce) })).to.equal(false);
    expect(await ds.getRepository(ActClaimEntity).count()).to.equal(1);
    expect((await settle(res.b.body.id as string)).status).to.equal("confirmed");
    // Its other invoices are free: the batch without the duplicate is accepted.
    const rest = await post(b, "/receivables/batch", await signed("/receivables/batch", { invoices: others }));
    expect(rest.status, JSON.stringify(rest.body)).to.equal(202);
    expect((await settle(rest.body.id as string)).status).to.equal("confirmed");
  });

  it("one signed act posted to both replicas, checked by both before either records: one act, every 202 naming it", async function () {
    const act = await signed("/receivables", invoice());
    const res = await race({ path: "/receivables", body: act }, { path: "/receivables", body: act });
    expect(res.b.status, JSON.stringify(res.b.body)).to.equal(202);
    // A's post is the same signed act: answered as the act recorded (ActsService finds it by nonce).
    expect(res.a.status, JSON.stringify(res.a.body)).to.equal(202);
    expect(res.a.body.id).to.equal(res.b.body.id);
    const rows = await rowsFor(res.b.body.receivableId as string);
    expect(rows.acts).to.have.length(1);
    expect(rows.outbox).to.have.length(1);
    expect((await settle(res.b.body.id as string)).status).to.equal("confirmed");
  });

  it("releases the claim of an act that fails on chain, in the transaction that marks it failed; the invoice is then accepted again", async function () {
    const body = invoice();
    // Signed with a deadline 20 s out; the chain's clock then passes it before the relayer sends.
    const unsigned = await post(a, "/receivables", { ...body, deadline: String(Math.floor(Date.now() / 1000) + 20) });
    expect(unsigned.status, JSON.stringify(unsigned.body)).to.equal(200);
    const td = unsigned.body.typedData as ActTypedData;
    const doomed = await post(b, "/receivables", { ...body, nonce: td.message.nonce, deadline: td.message.deadline, signature: await signTypedData(supplier, td) });
    expect(doomed.status, JSON.stringify(doomed.body)).to.equal(202);
    const id = doomed.body.receivableId as string;
    expect((await rowsFor(id)).claims.map((c) => c.actId)).to.deep.equal([doomed.body.id]);
    // While it is pending, the other replica refuses the invoice on both steps.
    expectDuplicate(await post(a, "/receivables", body));
    const rival = { ...td, message: { ...td.message, nonce: String(BigInt(td.message.nonce as string) + 1000n), deadline: String(Math.floor(Date.now() / 1000) + 3600) } };
    expectDuplicate(await post(a, "/receivables", { ...body, nonce: rival.message.nonce, deadline: rival.message.deadline, signature: await signTypedData(supplier, rival) }));

    await chain.provider.send("evm_increaseTime", [120]);
    await chain.provider.send("evm_mine", []);
    const failed = await settle(doomed.body.id as string);
    expect(failed.status).to.equal("failed");
    expect(failed.failureReason).to.be.a("string").and.not.equal("");
    expect((await rowsFor(id)).claims, "the failed act's claim").to.deep.equal([]);

    const again = await post(a, "/receivables", await signed("/receivables", body));
    expect(again.status, JSON.stringify(again.body)).to.equal(202);
    expect(again.body.receivableId).to.equal(id);
    expect((await settle(again.body.id as string)).status).to.equal("confirmed");
    expect(await env.ledger.receivables.ownerOf(BigInt(id))).to.equal(supplier.address);
    expect(await ds.getRepository(ActClaimEntity).count(), "claims of settled acts").to.equal(0);
  });

  if (usePostgres()) {
    it("PostgreSQL: the same invoice under two nonces posted to both replicas at the same moment, 6 rounds: each round one 202 and one 409", async function () {
      for (let round = 0; round < 6; round++) {
        const body = invoice();
        const [one, two] = [await signed("/receivables", body), await signed("/receivables", body)];
        const answers = await Promise.all([post(a, "/receivables", one), post(b, "/receivables", two)]);
        const ok = answers.filter((r) => r.status === 202);
        expect(ok, `round ${round}: ${answers.map((r) => `${r.status} ${JSON.stringify(r.body)}`).join(" | ")}`).to.have.length(1);
        expectDuplicate(answers.find((r) => r.status !== 202)!);
        const rows = await rowsFor(ok[0].body.receivableId as string);
        expect(rows.acts.map((x) => x.id)).to.deep.equal([ok[0].body.id]);
        expect(rows.outbox).to.have.length(1);
      }
    });

    it("PostgreSQL: two batches holding the same two invoices in opposite orders, posted to both replicas at the same moment, 4 rounds: one 202, one 409, never a deadlock", async function () {
      for (let round = 0; round < 4; round++) {
        const [x, y] = [invoice(), invoice()];
        const one = await signed("/receivables/batch", { invoices: [x, y] });
        const two = await signed("/receivables/batch", { invoices: [y, x] });
        const answers = await Promise.all([post(a, "/receivables/batch", one), post(b, "/receivables/batch", two)]);
        const what = `round ${round}: ${answers.map((r) => `${r.status} ${JSON.stringify(r.body)}`).join(" | ")}`;
        expect(answers.map((r) => r.status).sort(), what).to.deep.equal([202, 409]);
        expectDuplicate(answers.find((r) => r.status !== 202)!);
        const ok = answers.find((r) => r.status === 202)!;
        const claims = await ds.getRepository(ActClaimEntity).findBy({ actId: ok.body.id as string });
        expect(claims, what).to.have.length(2);
      }
    });
  }
});
