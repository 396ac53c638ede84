/**
 * Idempotency-Key leases against the real service (SQLite, or PostgreSQL with
 * TEST_DATABASE=postgres) and a `hardhat node`: concurrent posts under one key, a key whose holder
 * is gone, a retry after the act was recorded but its answer never stored, and pruning. The act
 * used throughout is a financier opening a credit line, signed by the financier's own key.
 */
import { createHash } from "node:crypto";
import { expect } from "chai";
import { id as keccakId, type Wallet } from "ethers";
import { getDataSourceToken } from "@nestjs/typeorm";
import request from "supertest";
import { DataSource } from "typeorm";
import { ActEntity, IdempotencyKeyEntity } from "../../services/src/acts/entities/act.entity";
import { IdempotencyKeys } from "../../services/src/acts/idempotency-keys";
import { IndexerService } from "../../services/src/indexer/indexer.service";
import { OutboxEntity } from "../../services/src/outbox/entities/outbox.entity";
import { bearer, signIn } from "../support/auth";
import { startChain, type TestChain } from "../support/chain";
import { cleanupEnv, prepareEnv, startService, type RunningService, type TestEnv } from "../support/app";
import { signTypedData, type ActTypedData } from "../../shared/client";

const LEASE_MS = 2_000;
const DAY_MS = 86_400_000;

describe("Idempotency-Key leases", function () {
  this.timeout(300_000);
  let chain: TestChain;
  let env: TestEnv;
  let svc: RunningService;
  let ds: DataSource;
  let financier: Wallet;
  let supplier: Wallet;
  let token: string;
  let seq = 0;

  before(async function () {
    chain = await startChain();
    env = await prepareEnv(chain, { IDEMPOTENCY_LEASE_MS: String(LEASE_MS), KYC_JOB_INTERVAL_MS: "3600000" });
    svc = await startService(env);
    ds = svc.app.get<DataSource>(getDataSourceToken());
    const behind = Math.floor(Date.now() / 1000) - (await chain.provider.getBlock("latest"))!.timestamp;
    if (behind > 0) {
      await chain.provider.send("evm_increaseTime", [behind]);
      await chain.provider.send("evm_mine", []);
    }
    financier = await chain.fundedWallet();
    supplier = await chain.fundedWallet();
    const expiry = Math.floor(Date.now() / 1000) + 365 * 86_400;
    await (await env.ledger.registry.connect(env.keys.operator).register(financier.address, 4, expiry, "0x434e", keccakId(`f${Date.now()}`))).wait();
    await (await env.ledger.registry.connect(env.keys.operator).register(supplier.address, 1, expiry, "0x434e", keccakId(`s${Date.now()}`))).wait();
    await svc.app.get(IndexerService).catchUp();
    token = await signIn(svc.url, financier);
  });
  after(async function () {
    await svc?.close();
    if (env) await cleanupEnv(env);
    await chain?.stop();
  });

  const lineBody = () => ({
    supplier: supplier.address,
    limit: String(1_000_000 + ++seq),
    maxAdvanceBps: 8000,
    discountBps: 500,
    expiry: new Date(Date.now() + 90 * DAY_MS).toISOString(),
  });

  const post = (body: object, key?: string, query = "") => {
    const r = request(svc.url).post(`/credit-lines${query}`).set(bearer(token));
    if (key) r.set("Idempotency-Key", key);
    return r.send(body);
  };

  /** A credit line act signed by the financier, ready to post (`deadline` in seconds from now). */
  async function signedLine(deadlineIn?: number): Promise<Record<string, unknown>> {
    const body = lineBody();
    const extra = deadlineIn === undefined ? {} : { deadline: String(Math.floor(Date.now() / 1000) + deadlineIn) };
    const unsigned = await post({ ...body, ...extra });
    expect(unsigned.status, JSON.stringify(unsigned.body)).to.equal(200);
    const td = unsigned.body.typedData as ActTypedData;
    const signature = await signTypedData(financier, td);
    return { ...body, nonce: td.message.nonce, deadline: td.message.deadline, signature };
  }

  const counts = async () => ({ acts: await ds.getRepository(ActEntity).count(), outbox: await ds.getRepository(OutboxEntity).count() });
  const keyRow = (key: string) => ds.getRepository(IdempotencyKeyEntity).findOneBy({ address: financier.address, key });

  it("30 concurrent posts with one key record exactly one act: every answer is that act or 409 with Retry-After, never a 5xx", async function () {
    const body = await signedLine();
    const before = await counts();
    const key = `burst-${Date.now()}`;
    const answers = await Promise.all(Array.from({ length: 30 }, () => post(body, key)));
    const statuses = answers.map((a) => a.status);
    expect(statuses.filter((s) => s !== 202 && s !== 409), JSON.stringify(statuses)).to.deep.equal([]);
    const accepted = answers.filter((a) => a.status === 202);
    expect(accepted.length).to.be.at.least(1);
    expect(new Set(accepted.map((a) => a.body.id)).size).to.equal(1);
    for (const a of answers.filter((x) => x.status === 409)) {
      expect(a.body.message).to.match(new RegExp(`^A request with Idempotency-Key ${key} is still in progress; retry after \\d+ s\\.$`));
      const retryAfter = Number(a.headers["retry-after"]);
      expect(retryAfter).to.be.within(1, Math.ceil(LEASE_MS / 1000));
    }
    expect(await counts()).to.deep.equal({ acts: before.acts + 1, outbox: before.outbox + 1 });
    const again = await post(body, key);
    expect(again.status).to.equal(202);
    expect(again.body.id).to.equal(accepted[0].body.id);
    expect((await keyRow(key))!.actId).to.equal(accepted[0].body.id);
  });

  it("a key held by a live request answers 409 with the seconds left on its lease, and changes nothing", async function () {
    const body = await signedLine();
    const key = `live-${Date.now()}`;
    // Claim the key as another request would, and keep renewing it.
    const claim = await svc.app.get(IdempotencyKeys).claim(financier.address, key, requestHashOf(body));
    expect(claim.outcome).to.equal("claimed");
    const before = await counts();
    const res = await post(body, key);
    expect(res.status).to.equal(409);
    expect(res.headers["retry-after"]).to.equal(String(Math.ceil(LEASE_MS / 1000)));
    expect(await counts()).to.deep.equal(before);
  });

  it("a key whose holder is gone is taken over once its lease lapses, and the act is recorded once", async function () {
    const body = await signedLine();
    const key = `orphaned-${Date.now()}`;
    const claim = await svc.app.get(IdempotencyKeys).claim(financier.address, key, requestHashOf(body));
    expect(claim.outcome).to.equal("claimed");
    const before = await counts();
    expect((await post(body, key)).status).to.equal(409);
    await new Promise((r) => setTimeout(r, LEASE_MS + 200));
    const res = await post(body, key);
    expect(res.status, JSON.stringify(res.body)).to.equal(202);
    expect(res.body.kind).to.equal("open_line");
    expect(await counts()).to.deep.equal({ acts: before.acts + 1, outbox: before.outbox + 1 });
    const row = (await keyRow(key))!;
    expect(row.statusCode).to.equal(202);
    expect(row.actId).to.equal(res.body.id);
  });

  it("a lapsed key is taken over only by the same request: another body under it is refused (422)", async function () {
    const body = await signedLine();
    const key = `other-${Date.now()}`;
    await svc.app.get(IdempotencyKeys).claim(financier.address, key, requestHashOf(body), Date.now() - LEASE_MS - 1);
    const before = await counts();
    const res = await post({ ...body, limit: "7" }, key);
    expect(res.status).to.equal(422);
    expect(res.body.message).to.equal(`Idempotency-Key ${key} was already used for a different request.`);
    expect(await counts()).to.deep.equal(before);
  });

  it("a retry after the act was recorded but its answer never stored returns that act, even past the signature's deadline", async function () {
    // (The node's clock runs some seconds ahead of the wall clock: the deadline leaves room for it.)
    const body = await signedLine(25);
    const key = `crashed-${Date.now()}`;
    const first = await post(body, key, "?wait=true");
    expect(first.status, JSON.stringify(first.body)).to.equal(202);
    // What a crash between the act's commit and the answer's leaves behind: the key bound to the
    // act, unanswered, its lease lapsed.
    await ds
      .getRepository(IdempotencyKeyEntity)
      .update({ address: financier.address, key }, { statusCode: null, responseBody: null, holder: "gone", leaseUntil: Date.now() - 1 });
    // Past the signature's deadline, running the request again would be refused.
    await new Promise((r) => setTimeout(r, Number(body.deadline) * 1000 - Date.now() + 1_000));
    const before = await counts();
    const res = await post(body, key, "?wait=true");
    expect(res.status, JSON.stringify(res.body)).to.equal(202);
    expect(res.body.id).to.equal(first.body.id);
    expect(res.body.status).to.equal("confirmed");
    expect(await counts()).to.deep.equal(before);
    const row = (await keyRow(key))!;
    expect(row.statusCode).to.equal(202);
    expect(JSON.parse(row.responseBody!).id).to.equal(first.body.id);
  });

  it("after a server error, a key without an act is forgotten, and a key with its act is free at once for the retry, which answers with the act", async function () {
    const keys = svc.app.get(IdempotencyKeys);
    const body = await signedLine();
    const first = await post(body);
    expect(first.status).to.equal(202);

    const bare = await keys.claim(financier.address, `released-${Date.now()}`, requestHashOf(body));
    if (bare.outcome !== "claimed") throw new Error(bare.outcome);
    await keys.release(bare.hold);
    expect(await keyRow(bare.hold.key)).to.equal(null);

    const key = `released-act-${Date.now()}`;
    const held = await keys.claim(financier.address, key, requestHashOf(body));
    if (held.outcome !== "claimed") throw new Error(held.outcome);
    await ds.getRepository(IdempotencyKeyEntity).update({ address: financier.address, key }, { actId: first.body.id });
    await keys.release(held.hold);
    const before = await counts();
    const res = await post(body, key);
    expect(res.status, JSON.stringify(res.body)).to.equal(202);
    expect(res.body.id).to.equal(first.body.id);
    expect(await counts()).to.deep.equal(before);
  });

  it("prunes keys past the retention period, but not recent ones or one a live request holds", async function () {
    const repo = ds.getRepository(IdempotencyKeyEntity);
    const old = Date.now() - 25 * 3_600_000;
    const base = { address: financier.address, requestHash: "0".repeat(64), actId: null };
    await repo.insert([
      { ...base, key: "prune-answered", statusCode: 202, responseBody: "{}", holder: "h1", leaseUntil: null, createdAt: old },
      { ...base, key: "prune-abandoned", statusCode: null, responseBody: null, holder: "h2", leaseUntil: old + LEASE_MS, createdAt: old },
      { ...base, key: "prune-live", statusCode: null, responseBody: null, holder: "h3", leaseUntil: Date.now() + 60_000, createdAt: old },
      { ...base, key: "prune-recent", statusCode: 202, responseBody: "{}", holder: "h4", leaseUntil: null, createdAt: Date.now() },
    ]);
    const pruned = await svc.app.get(IdempotencyKeys).prune();
    expect(pruned).to.be.at.least(2);
    const left = (await repo.find({ where: { address: financier.address } })).map((r) => r.key).filter((k) => k.startsWith("prune-"));
    expect(left.sort()).to.deep.equal(["prune-live", "prune-recent"]);
  });
});

/** The request fingerprint the interceptor computes for POST /credit-lines with `body`. */
function requestHashOf(body: object): string {
  return createHash("sha256").update(`POST /credit-lines\n${JSON.stringify(body)}`).digest("hex");
}
