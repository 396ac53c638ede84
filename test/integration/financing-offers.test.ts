/**
 * Financing in one transaction through the service: the holder's signed request kept off-chain as an
 * offer in the line's financier's queue (POST /financings with settle "with-approval"), approved by
 * the financier with its own signature and relayed with the holder's in one transaction
 * (Financing.financeSignedRequestBySig), or withdrawn by the holder (its nonce consumed on-chain).
 * Real service, `hardhat node` and database (SQLite, or PostgreSQL with TEST_DATABASE=postgres).
 * Every refusal is checked for its status, its `code`, and that it wrote nothing.
 */
import { expect } from "chai";
import { MaxUint256, hexlify, id as keccakId, randomBytes, type Wallet } from "ethers";
import request from "supertest";
import { DataSource } from "typeorm";
import { getDataSourceToken } from "@nestjs/typeorm";
import { ActEntity } from "../../services/src/acts/entities/act.entity";
import { ChainService } from "../../services/src/chain/chain.service";
import { revertDataOf } from "../../services/src/chain/errors";
import { receivableIdHex } from "../../shared/ids";
import { FinancingOfferEntity } from "../../services/src/financing/entities/financing-offer.entity";

import { IndexerService } from "../../services/src/indexer/indexer.service";
import { OutboxEntity } from "../../services/src/outbox/entities/outbox.entity";
import { receivableIdOf } from "../../shared/fingerprint";
import { bearer, signIn } from "../support/auth";
import { startChain, type TestChain } from "../support/chain";
import { cleanupEnv, prepareEnv, startService, type RunningService, type TestEnv } from "../support/app";
import { attestInvoices, termsOf } from "../support/acts";
import { type ActTypedData, proposedFields, signTypedData } from "../../shared/client";
import { ROLE_BITS } from "../../shared/roles";

const DAY = 86_400;
const ACTIVE = 3n;
const REG = "04411234000567890123";

type Name = "financier" | "financier2" | "supplier" | "supplier2" | "buyer";
const NAMES: Record<Name, number> = {
  financier: ROLE_BITS.financier,
  financier2: ROLE_BITS.financier,
  supplier: ROLE_BITS.supplier,
  supplier2: ROLE_BITS.supplier,
  buyer: ROLE_BITS.buyer,
};

interface Offer {
  id: string;
  kind: string;
  receivableId: string;
  lineId: number;
  supplier: string;
  financier: string;
  minPaid: string;
  maxDiscount: string;
  nonce: string;
  status: string;
  actId: string | null;
}

describe("Financing offers: a signed request approved in one relayed transaction", function () {
  this.timeout(600_000);
  let chain: TestChain;
  let env: TestEnv;
  let svc: RunningService;
  let ds: DataSource;
  const w = {} as Record<Name, Wallet>;
  const t = {} as Record<Name, string>;
  let lineId: number;

  const now = async () => (await chain.provider.getBlock("latest"))!.timestamp;
  const indexed = () => svc.app.get(IndexerService).catchUp();
  const post = (who: Name, path: string, body: object) => request(svc.url).post(path).set(bearer(t[who])).send(body);
  const get = (who: Name, path: string) => request(svc.url).get(path).set(bearer(t[who]));
  const counts = async () => [await ds.getRepository(ActEntity).count(), await ds.getRepository(OutboxEntity).count(), await ds.getRepository(FinancingOfferEntity).count()];
  async function writesNothing<T>(fn: () => Promise<T>): Promise<T> {
    const before = await counts();
    const out = await fn();
    expect(await counts(), "acts, outbox rows and offers").to.deep.equal(before);
    return out;
  }

  /** Posts without a signature (typed data), signs with `signer` (default: the caller), posts signed. */
  async function signed(who: Name, path: string, body: object, opts: { wait?: boolean; signer?: Wallet } = {}) {
    const unsigned = await post(who, path, body);
    expect(unsigned.status, `${path} unsigned: ${JSON.stringify(unsigned.body)}`).to.equal(200);
    const td = unsigned.body.typedData as ActTypedData;
    const signature = await signTypedData(opts.signer ?? w[who], td);
    const signedBody = { ...proposedFields(td.primaryType, td.message), ...body, nonce: td.message.nonce, deadline: td.message.deadline, signature };
    const res = await post(who, `${path}${opts.wait === false ? "" : "?wait=true"}`, signedBody);
    return { res, td, signedBody };
  }

  /** An accepted receivable of `seller` owed by the buyer, directly on-chain. */
  async function receivable(seller: Name = "supplier") {
    const { receivables } = env.ledger;
    const fingerprint = hexlify(randomBytes(32));
    const inv = { debtor: w.buyer.address, faceValue: 1_000_000n, dueDate: (await now()) + 90 * DAY, documentHash: keccakId(`invoice ${fingerprint}`), fingerprint };
    const ledger = { chainId: env.chain.chainId, receivables: await receivables.getAddress() };
    await (await receivables.connect(w[seller]).tokenise(inv, await attestInvoices(env.keys.compliance, ledger, w[seller].address, [inv], false))).wait();
    const id = receivableIdOf(fingerprint);
    await (await receivables.connect(w.buyer).accept(id, termsOf(w[seller].address, inv))).wait();
    await indexed();
    return { id, hex: receivableIdHex(id) };
  }

  /** The supplier's signed request, kept as an offer (201). */
  async function offer(hex: string, terms: Record<string, string> = {}, who: Name = "supplier"): Promise<Offer> {
    const { res } = await signed(who, "/financings", { receivableId: hex, lineId, settle: "with-approval", ...terms }, { wait: false });
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    return res.body as Offer;
  }

  before(async function () {
    chain = await startChain();
    env = await prepareEnv(chain, { KYC_JOB_INTERVAL_MS: "3600000" });
    svc = await startService(env);
    ds = svc.app.get<DataSource>(getDataSourceToken());
    const behind = Math.floor(Date.now() / 1000) - (await now());
    if (behind > 0) {
      await chain.provider.send("evm_increaseTime", [behind]);
      await chain.provider.send("evm_mine", []);
    }
    const { registry, token, financing } = env.ledger;
    const kycExpiry = (await now()) + 365 * DAY;
    for (const n of Object.keys(NAMES) as Name[]) {
      w[n] = await chain.fundedWallet();
      await (await registry.connect(env.keys.operator).register(w[n].address, NAMES[n], kycExpiry, "0x434e", keccakId(n))).wait();
      if (NAMES[n] === ROLE_BITS.financier) {
        await (await token.connect(chain.account(0)).mint(w[n].address, 100_000_000_00n)).wait();
        await (await token.connect(w[n]).approve(await financing.getAddress(), MaxUint256)).wait();
      }
    }
    await indexed();
    for (const n of Object.keys(NAMES) as Name[]) t[n] = await signIn(svc.url, w[n]);
    const line = await signed("financier", "/credit-lines", {
      debtor: w.buyer.address,
      limit: "50000000",
      maxAdvanceBps: 8000,
      discountBps: 1200,
      expiry: new Date(Date.now() + 180 * DAY * 1000).toISOString(),
    });
    expect(line.res.body.status, JSON.stringify(line.res.body)).to.equal("confirmed");
    lineId = line.res.body.result.lineId as number;
  });
  after(async function () {
    await svc?.close();
    if (env) await cleanupEnv(env);
    await chain?.stop();
  });

  it("documents the offer routes in the OpenAPI document", async function () {
    const doc = (await request(svc.url).get("/docs-json").expect(200)).body;
    expect(doc.paths["/financing-offers"]).to.have.property("get");
    expect(doc.paths["/financing-offers/{id}"]).to.have.property("get");
    expect(doc.paths["/financing-offers/{id}/approve"]).to.have.property("post");
    expect(doc.paths["/financing-offers/{id}/withdraw"]).to.have.property("post");
    expect(doc.paths["/financings"].post.responses).to.have.property("201");
  });

  it("refuses offers (409 LedgerFeatureUnavailable) on a ledger whose deployment record predates them, and writes nothing", async function () {
    // A ledger deployed by this software records the feature; one deployed before it (a version-2
    // record without "features") has no financeSignedRequestBySig, so the service must not take offers.
    const { deployment } = svc.app.get(ChainService);
    expect(deployment.features).to.include("financing-offers");
    const r = await receivable();
    const recorded = deployment.features;
    deployment.features = undefined;
    try {
      const res = await writesNothing(() => post("supplier", "/financings", { receivableId: r.hex, lineId, settle: "with-approval" }));
      expect(res.status, JSON.stringify(res.body)).to.equal(409);
      expect(res.body.code).to.equal("LedgerFeatureUnavailable");
      expect(res.body.detail).to.match(/without "settle"/);
    } finally {
      deployment.features = recorded;
    }
  });

  it("keeps the signed request off-chain as an offer in the financier's queue; the approval relays both signatures in one transaction", async function () {
    const { financing, token, receivables } = env.ledger;
    const r = await receivable();
    const o = await writesNothing(async () => {
      const unsigned = await post("supplier", "/financings", { receivableId: r.hex, lineId, settle: "with-approval" });
      expect(unsigned.status, JSON.stringify(unsigned.body)).to.equal(200);
      expect(unsigned.body.typedData.primaryType).to.equal("RequestFinancing");
      // The signature lives as long as the offer (the request lapses in 7 days), not the hour of other acts.
      const { deadline, terms } = unsigned.body.typedData.message as { deadline: string; terms: { expiresAt: string } };
      expect(Number(deadline)).to.be.at.most(Number(terms.expiresAt)).and.at.least(Math.floor(Date.now() / 1000) + 6 * DAY);
      return unsigned;
    });
    expect(o.status).to.equal(200);
    const offered = await signed("supplier", "/financings", { receivableId: r.hex, lineId, settle: "with-approval" }, { wait: false });
    expect(offered.res.status, JSON.stringify(offered.res.body)).to.equal(201);
    const made = offered.res.body as Offer;
    expect(made).to.include({ kind: "financing_offer", status: "open", receivableId: r.hex, lineId, supplier: w.supplier.address, financier: w.financier.address });
    expect(made, "the supplier's signature is never shown").to.not.have.property("signature");
    // Nothing on-chain yet, no act, no outbox row.
    expect((await financing.financing(r.id)).status).to.equal(0n);
    expect(await financing.isNonceUsed(w.supplier.address, BigInt(made.nonce))).to.equal(false);
    expect(await ds.getRepository(ActEntity).countBy({ receivableId: r.hex })).to.equal(0);

    // The queue: the line's financier and the supplier see it; another financier and supplier do not; a buyer may not ask.
    const queue = (await get("financier", "/financing-offers?status=open").expect(200)).body.items as Offer[];
    expect(queue.map((x) => x.id)).to.include(made.id);
    expect(((await get("supplier", "/financing-offers").expect(200)).body.items as Offer[]).map((x) => x.id)).to.include(made.id);
    expect(((await get("financier2", "/financing-offers").expect(200)).body.items as Offer[]).map((x) => x.id)).to.not.include(made.id);
    expect(((await get("supplier2", "/financing-offers").expect(200)).body.items as Offer[]).map((x) => x.id)).to.not.include(made.id);
    const other = await get("financier2", `/financing-offers/${made.id}`).expect(403);
    expect(other.body.code).to.equal("Forbidden");
    expect((await get("buyer", "/financing-offers").expect(403)).body.code).to.equal("Forbidden");

    // The financier, not yet party to the receivable, reads what approving now would advance and pay.
    const quoted = (await get("financier", `/financing-offers/${made.id}`).expect(200)).body as { advanceNow: string; paidNow: string };
    expect(BigInt(quoted.advanceNow)).to.equal((1_000_000n * 8000n) / 10_000n);
    const before = await token.balanceOf(w.supplier.address);
    const { res, td, signedBody: approvalBody } = await signed("financier", `/financing-offers/${made.id}/approve`, { registrationNumber: REG });
    expect(td.primaryType).to.equal("ApproveSignedRequest");
    expect(td.message).to.deep.include({ financier: w.financier.address, supplier: w.supplier.address });
    expect(res.status, JSON.stringify(res.body)).to.equal(202);
    expect(res.body).to.include({ kind: "approve_offer", status: "confirmed" });
    const paid = BigInt(res.body.result.paid as string);
    expect(paid > 0n).to.equal(true);
    expect(await receivables.ownerOf(r.id)).to.equal(w.financier.address);
    expect((await financing.financing(r.id)).status).to.equal(ACTIVE);
    expect((await token.balanceOf(w.supplier.address)) - before).to.equal(paid);
    // One transaction carried the request and the approval.
    const receipt = (await chain.provider.getTransactionReceipt(res.body.txHash as string))!;
    const names = receipt.logs.map((l) => { try { return financing.interface.parseLog(l)?.name; } catch { return undefined; } }).filter(Boolean);
    expect(names).to.include.members(["FinancingRequested", "FinancingApproved"]);
    expect(receipt.to).to.equal(await financing.getAddress());
    expect(((await get("supplier", `/financing-offers/${made.id}`).expect(200)).body as Offer).status).to.equal("financed");

    // Replays: the same signed offer answers the same offer; the same signed approval the same act; a new approval is refused.
    const sameOffer = await writesNothing(() => post("supplier", "/financings", offered.signedBody));
    expect(sameOffer.status, JSON.stringify(sameOffer.body)).to.equal(201);
    expect(sameOffer.body).to.include({ id: made.id, status: "financed" });
    const sameAct = await writesNothing(() => post("financier", `/financing-offers/${made.id}/approve`, approvalBody));
    expect(sameAct.status, JSON.stringify(sameAct.body)).to.equal(202);
    expect(sameAct.body.id).to.equal(res.body.id);
    const again = await post("supplier", "/financings", { receivableId: r.hex, lineId, settle: "with-approval" });
    expect(again.status, "a new unsigned offer of a financed receivable is refused").to.be.within(400, 499);
    const approveAgain = await post("financier", `/financing-offers/${made.id}/approve`, { registrationNumber: REG });
    expect(approveAgain.status, JSON.stringify(approveAgain.body)).to.equal(409);
    expect(approveAgain.body.code).to.equal("FinancingOfferFinanced");
  });

  it("refuses an approval by a financier that does not own the line (403 CreditLineUnauthorized) and by other roles (403); nothing written", async function () {
    const r = await receivable();
    const o = await offer(r.hex);
    const wrong = await writesNothing(() => post("financier2", `/financing-offers/${o.id}/approve`, { registrationNumber: REG }));
    expect(wrong.status, JSON.stringify(wrong.body)).to.equal(403);
    expect(wrong.body.code).to.equal("CreditLineUnauthorized");
    expect(wrong.body.message).to.match(new RegExp(`only that financier can approve it`));
    for (const who of ["supplier", "buyer"] as const) {
      const res = await writesNothing(() => post(who, `/financing-offers/${o.id}/approve`, { registrationNumber: REG }));
      expect(res.status, who).to.equal(403);
      expect(res.body.message).to.match(/requires the role financier/);
    }
    // Offers are made by holders only (a financier may not), and settle takes two values.
    const byFinancier = await writesNothing(() => post("financier", "/financings", { receivableId: r.hex, lineId, settle: "with-approval" }));
    expect(byFinancier.status).to.equal(403);
    const bad = await writesNothing(() => post("supplier", "/financings", { receivableId: r.hex, lineId, settle: "later" }));
    expect(bad.status).to.equal(400);
    expect(bad.body.code).to.equal("ValidationFailed");
    // Another supplier may not withdraw it.
    const notYours = await writesNothing(() => post("supplier2", `/financing-offers/${o.id}/withdraw`, {}));
    expect(notYours.status).to.equal(403);
    expect(notYours.body.code).to.equal("FinancingNotHolder");
    const unknown = await post("financier", "/financing-offers/00000000-0000-4000-8000-000000000000/approve", { registrationNumber: REG });
    expect(unknown.status).to.equal(404);
    expect(unknown.body.code).to.equal("FinancingOfferNotFound");
  });

  it("refuses an approval that pays less than the offer's terms (422 FinancingTermsNotMet); nothing written", async function () {
    const r = await receivable();
    const expiresAt = new Date((Math.floor(Date.now() / 1000) + 3 * DAY) * 1000).toISOString();
    const o = await offer(r.hex, { minPaid: "999999", maxDiscount: "0", expiresAt });
    const res = await writesNothing(() => post("financier", `/financing-offers/${o.id}/approve`, { registrationNumber: REG }));
    expect(res.status, JSON.stringify(res.body)).to.equal(422);
    expect(res.body.code).to.equal("FinancingTermsNotMet");
    expect(res.body.message).to.match(/at least 999999 fen now/);
    expect((await env.ledger.financing.financing(r.id)).status).to.equal(0n);
  });

  it("refuses an expired offer (422 FinancingOfferExpired) and lists it as expired", async function () {
    const r = await receivable();
    const lapse = Math.max(await now(), Math.floor(Date.now() / 1000)) + 8;
    const o = await offer(r.hex, { minPaid: "0", maxDiscount: "1000000", expiresAt: new Date(lapse * 1000).toISOString() });
    while (Math.floor(Date.now() / 1000) <= lapse) await new Promise((res) => setTimeout(res, 250));
    const res = await writesNothing(() => post("financier", `/financing-offers/${o.id}/approve`, { registrationNumber: REG }));
    expect(res.status, JSON.stringify(res.body)).to.equal(422);
    expect(res.body.code).to.equal("FinancingOfferExpired");
    const listed = (await get("financier", "/financing-offers?status=expired").expect(200)).body.items as Offer[];
    expect(listed.map((x) => x.id)).to.include(o.id);
    const withdraw = await writesNothing(() => post("supplier", `/financing-offers/${o.id}/withdraw`, {}));
    expect(withdraw.body.code).to.equal("FinancingOfferExpired");
  });

  it("a withdrawn offer consumes its nonce on-chain: the service refuses the approval (409 FinancingOfferWithdrawn) and the ledger refuses the signature", async function () {
    const { financing } = env.ledger;
    const r = await receivable();
    const o = await offer(r.hex);
    const { res, td } = await signed("supplier", `/financing-offers/${o.id}/withdraw`, {});
    expect(td.primaryType).to.equal("WithdrawFinancingOffer");
    expect(td.message.nonce, "signed with the offer's own nonce").to.equal(o.nonce);
    expect(res.status, JSON.stringify(res.body)).to.equal(202);
    expect(res.body).to.include({ kind: "withdraw_offer", status: "confirmed" });
    expect(await financing.isNonceUsed(w.supplier.address, BigInt(o.nonce))).to.equal(true);
    expect(((await get("financier", `/financing-offers/${o.id}`).expect(200)).body as Offer).status).to.equal("withdrawn");

    const approve = await writesNothing(() => post("financier", `/financing-offers/${o.id}/approve`, { registrationNumber: REG }));
    expect(approve.status).to.equal(409);
    expect(approve.body.code).to.equal("FinancingOfferWithdrawn");
    const twice = await writesNothing(() => post("supplier", `/financing-offers/${o.id}/withdraw`, {}));
    expect(twice.status).to.equal(409);
    expect(twice.body.code).to.equal("FinancingOfferWithdrawn");
    // Even with the supplier's signature in hand, the financier cannot finance it directly any more.
    const row = await ds.getRepository(FinancingOfferEntity).findOneByOrFail({ id: o.id });
    const terms = { lineId: BigInt(row.lineId), minPaid: row.minPaid, maxDiscount: row.maxDiscount, expiresAt: BigInt(row.expiresAt) };
    const q = await financing.quote(row.lineId, 1_000_000n, (await env.ledger.receivables.receivable(r.id)).dueDate);
    const nonceUsed = financing.interface.encodeErrorResult("SignedActionNonceUsed", [w.supplier.address, BigInt(row.nonce)]);
    const data = financing.interface.encodeFunctionData("financeSignedRequest", [
      w.supplier.address,
      r.id,
      terms,
      { nonce: BigInt(row.nonce), deadline: BigInt(row.deadline), signature: row.signature },
      { lineId: BigInt(row.lineId), advance: q.advance, paid: q.paid, registrationHash: keccakId(REG) },
    ]);
    const err = await chain.provider.call({ from: w.financier.address, to: await financing.getAddress(), data }).then(() => null, (e: unknown) => e);
    expect(revertDataOf(err)).to.equal(nonceUsed);
  });

  it("an approval and a withdrawal posted at once: exactly one is accepted, the other refused (409) and writes nothing", async function () {
    const r = await receivable();
    const o = await offer(r.hex);
    // Both signed first, then posted together.
    const a = await post("financier", `/financing-offers/${o.id}/approve`, { registrationNumber: REG });
    const atd = a.body.typedData as ActTypedData;
    const approveBody = { ...proposedFields(atd.primaryType, atd.message), registrationNumber: REG, nonce: atd.message.nonce, deadline: atd.message.deadline, signature: await signTypedData(w.financier, atd) };
    const wd = await post("supplier", `/financing-offers/${o.id}/withdraw`, {});
    const wtd = wd.body.typedData as ActTypedData;
    const withdrawBody = { nonce: wtd.message.nonce, deadline: wtd.message.deadline, signature: await signTypedData(w.supplier, wtd) };
    const before = await ds.getRepository(ActEntity).count();
    const [ra, rw] = await Promise.all([post("financier", `/financing-offers/${o.id}/approve`, approveBody), post("supplier", `/financing-offers/${o.id}/withdraw`, withdrawBody)]);
    const statuses = [ra.status, rw.status].sort();
    expect(statuses, `${JSON.stringify(ra.body)} ${JSON.stringify(rw.body)}`).to.deep.equal([202, 409]);
    expect(await ds.getRepository(ActEntity).count()).to.equal(before + 1);
    const loser = ra.status === 409 ? ra : rw;
    expect(loser.body.code).to.be.oneOf(["FinancingOfferTaken", "FinancingOfferApproving", "FinancingOfferWithdrawn"]);
    // Once an approval is being relayed the supplier can no longer withdraw, and the reverse.
    const row = await ds.getRepository(FinancingOfferEntity).findOneByOrFail({ id: o.id });
    expect(row.status).to.equal(ra.status === 202 ? "approving" : "withdrawn");
  });
});
