/**
 * Payments held for a recipient that could not receive them, through the real service and chain:
 * the debtor pays a suspended supplier, the money waits in the ledger (GET /settlement/held, the
 * held_payments projection, /audit/verify reconciling the ledger's token balance and the supply),
 * and the supplier claims it with a relayed ClaimHeld act once reinstated. A recipient that cannot
 * receive (suspended, or its KYC lapsed) still reads what is held for it, and cannot claim it. Each
 * refusal says why and changes nothing.
 */
import { expect } from "chai";
import { Wallet, id as keccakId, type TypedDataField } from "ethers";
import request from "supertest";
import { getDataSourceToken } from "@nestjs/typeorm";
import type { DataSource } from "typeorm";
import { HeldPaymentEntity } from "../../services/src/read-model/entities/projections.entity";
import { IndexerService } from "../../services/src/indexer/indexer.service";
import { bearer, signIn } from "../support/auth";
import { startChain, type TestChain } from "../support/chain";
import { cleanupEnv, prepareEnv, startService, type RunningService, type TestEnv } from "../support/app";
import { attestInvoices, termsOf } from "../support/acts";
import { signTypedData } from "../../shared/client";
import { receivableIdOf } from "../../shared/fingerprint";
interface TypedData {
  domain: Record<string, unknown>;
  types: Record<string, TypedDataField[]>;
  primaryType: string;
  message: Record<string, string>;
}

const FACE = 1_234_567_89n;

describe("Held payments: GET /settlement/held and POST /settlement/claim", function () {
  this.timeout(300_000);
  let chain: TestChain;
  let env: TestEnv;
  let svc: RunningService;
  let supplier: Wallet;
  let buyer: Wallet;
  /** A supplier whose KYC lapses between acceptance and payment. */
  let lapsing: Wallet;
  let lapsesAt: bigint;
  const auditor = Wallet.createRandom() as unknown as Wallet;
  const outsider = Wallet.createRandom() as unknown as Wallet;
  const t = {} as Record<"supplier" | "buyer" | "auditor" | "outsider" | "lapsing", string>;

  before(async function () {
    chain = await startChain();
    env = await prepareEnv(chain, {});
    supplier = await chain.fundedWallet();
    buyer = await chain.fundedWallet();
    const expiry = Math.floor(Date.now() / 1000) + 365 * 86400;
    const reg = env.ledger.registry.connect(env.keys.operator);
    for (const [who, bits, name] of [[supplier, 1, "supplier"], [buyer, 2, "buyer"], [auditor, 8, "auditor"]] as const) {
      await (await reg.register(who.address, bits, expiry, "0x434e", keccakId(name))).wait();
    }
    const { token, receivables } = env.ledger;
    await (await token.connect(chain.account(0)).mint(buyer.address, 2n * FACE)).wait();
    await (await token.connect(buyer).approve(await receivables.getAddress(), 2n * FACE)).wait();
    const now = BigInt((await chain.provider.getBlock("latest"))!.timestamp);
    const ledger = { chainId: chain.chainId, receivables: await receivables.getAddress() };
    /** An accepted receivable of `seller` owed by the buyer. */
    const accepted = async (seller: Wallet) => {
      const inv = {
        debtor: buyer.address,
        faceValue: FACE,
        dueDate: now + 90n * 86400n,
        documentHash: keccakId(`document ${Math.random()}`),
        fingerprint: keccakId(`held payment ${Math.random()}`),
      };
      await (await receivables.connect(seller).tokenise(inv, await attestInvoices(env.keys.compliance, ledger, seller.address, [inv], false))).wait();
      const id = receivableIdOf(inv.fingerprint);
      await (await receivables.connect(buyer).accept(id, termsOf(seller.address, inv))).wait();
      return id;
    };
    // A second supplier whose KYC lapses a few seconds from now, once its receivable is accepted.
    lapsing = await chain.fundedWallet();
    lapsesAt = now + 12n;
    await (await reg.register(lapsing.address, 1, lapsesAt, "0x434e", keccakId("lapsing"))).wait();
    const lapsingId = await accepted(lapsing);
    const id = await accepted(supplier);
    // The supplier is suspended when the buyer pays: the payment counts and waits in the ledger.
    await (await env.ledger.registry.connect(env.keys.compliance).suspend(supplier.address, keccakId("review"))).wait();
    await (await receivables.connect(buyer).pay(id, FACE)).wait();
    // The other's KYC has lapsed when the buyer pays it: held too.
    while (BigInt(Math.floor(Date.now() / 1000)) <= lapsesAt) await new Promise((r) => setTimeout(r, 250));
    await (await receivables.connect(buyer).pay(lapsingId, FACE)).wait();
    expect(await receivables.heldFor(lapsing.address)).to.equal(FACE);
    svc = await startService(env);
    await svc.app.get(IndexerService).catchUp();
    t.supplier = await signIn(svc.url, supplier);
    t.buyer = await signIn(svc.url, buyer);
    t.auditor = await signIn(svc.url, auditor);
    t.outsider = await signIn(svc.url, outsider);
    t.lapsing = await signIn(svc.url, lapsing);
  });
  after(async function () {
    await svc?.close();
    if (env) await cleanupEnv(env);
    await chain?.stop();
  });

  const api = () => request(svc.url);
  const heldOnChain = () => env.ledger.receivables.heldFor(supplier.address);

  async function claimTypedData(): Promise<TypedData> {
    const res = await api().post("/settlement/claim").set(bearer(t.supplier)).send({});
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    expect(res.body.typedData.primaryType).to.equal("ClaimHeld");
    expect(res.body.typedData.message.recipient).to.equal(supplier.address);
    return res.body.typedData as TypedData;
  }

  describe("while the supplier is suspended", function () {
    it("GET /settlement/held (auditor, ?address=) shows the payment held for it; the projection and verify agree", async function () {
      const res = await api().get("/settlement/held").query({ address: supplier.address }).set(bearer(t.auditor)).expect(200);
      expect(res.body).to.deep.equal({ address: supplier.address, held: FACE.toString() });
      const row = await svc.app.get<DataSource>(getDataSourceToken()).getRepository(HeldPaymentEntity).findOneByOrFail({ recipient: supplier.address });
      expect(row.amount).to.equal(FACE);
      const verify = await api().get("/audit/verify").query({ contracts: true }).set(bearer(t.auditor)).expect(200);
      expect(verify.body.differences).to.deep.equal([]);
      expect(verify.body.counts.held_payments).to.deep.equal({ expected: 2, actual: 2 }); // the suspended and the KYC-lapsed supplier
    });

    it("another member may not read it (403)", async function () {
      const refused = await api().get("/settlement/held").query({ address: supplier.address }).set(bearer(t.buyer)).expect(403);
      expect(refused.body.message).to.match(/Only auditors and compliance officers/);
    });

    it("the suspended supplier reads what is held for it (GET /settlement/held, 200), but nobody else's (403)", async function () {
      const own = await api().get("/settlement/held").set(bearer(t.supplier));
      expect(own.status, JSON.stringify(own.body)).to.equal(200);
      expect(own.body).to.deep.equal({ address: supplier.address, held: FACE.toString() });
      const other = await api().get("/settlement/held").query({ address: buyer.address }).set(bearer(t.supplier)).expect(403);
      expect(other.body.code).to.equal("Forbidden");
      expect(other.body.message).to.match(/Only auditors and compliance officers/);
    });

    it("a supplier whose KYC lapsed reads what is held for it too", async function () {
      const own = await api().get("/settlement/held").set(bearer(t.lapsing));
      expect(own.status, JSON.stringify(own.body)).to.equal(200);
      expect(own.body).to.deep.equal({ address: lapsing.address, held: FACE.toString() });
      // The guard would refuse it any member route: it is not a verified member.
      const me = await api().get("/auth/me").set(bearer(t.lapsing)).expect(200);
      expect(me.body.verifiedMember).to.equal(false);
    });

    it("without a session GET /settlement/held and POST /settlement/claim are 401", async function () {
      const held = await api().get("/settlement/held").expect(401);
      expect(held.body.code).to.equal("Unauthorized");
      const claim = await api().post("/settlement/claim").send({}).expect(401);
      expect(claim.body.code).to.equal("Unauthorized");
    });

    it("POST /settlement/claim is refused with 403 ReceivableUnverifiedParty while suspended or KYC-lapsed; the money stays held", async function () {
      for (const [who, token] of [[supplier, t.supplier], [lapsing, t.lapsing]] as const) {
        const res = await api().post("/settlement/claim").set(bearer(token)).send({});
        expect(res.status, JSON.stringify(res.body)).to.equal(403);
        expect(res.body.code).to.equal("ReceivableUnverifiedParty");
        expect(res.body.message).to.match(/cannot receive the settlement token yet.*stays held/);
        expect(await env.ledger.receivables.heldFor(who.address)).to.equal(FACE);
      }
    });

    it("a claim signed while suspended is refused by the ledger when relayed (the contract checks again); nothing moves", async function () {
      // The typed data a client builds itself (GET /eip712), signed by the suspended supplier.
      const eip = await api().get("/eip712").expect(200);
      const { domain, types } = eip.body.receivables as { domain: Record<string, unknown>; types: Record<string, Record<string, TypedDataField[]>> };
      const deadline = String(Math.floor(Date.now() / 1000) + 600);
      const message = { recipient: supplier.address, nonce: "987654321", deadline };
      const signature = await supplier.signTypedData(domain, types.ClaimHeld, message);
      const res = await api().post("/settlement/claim").set(bearer(t.supplier)).send({ nonce: message.nonce, deadline, signature });
      expect(res.status, JSON.stringify(res.body)).to.be.within(400, 499);
      expect(res.body.code).to.equal("ReceivableUnverifiedParty");
      expect(await heldOnChain()).to.equal(FACE);
    });
  });

  describe("once the supplier is reinstated", function () {
    before(async function () {
      await (await env.ledger.registry.connect(env.keys.compliance).reinstate(supplier.address)).wait();
      await svc.app.get(IndexerService).catchUp();
    });

    it("refuses a ClaimHeld signed by another key and a malformed signature (422, naming the digest); nothing moves", async function () {
      const td = await claimTypedData();
      const forged = await signTypedData(outsider, td);
      const res = await api()
        .post("/settlement/claim")
        .set(bearer(t.supplier))
        .send({ nonce: td.message.nonce, deadline: td.message.deadline, signature: forged });
      // The session is valid: a bad act signature is the act's fault, not the sign-in's.
      expect(res.status, JSON.stringify(res.body)).to.equal(422);
      expect(res.body).to.include({ code: "InvalidSignature" });
      expect(res.body.digest).to.match(/^0x[0-9a-f]{64}$/);
      const malformed = await api()
        .post("/settlement/claim")
        .set(bearer(t.supplier))
        .send({ nonce: td.message.nonce, deadline: td.message.deadline, signature: "0x12" });
      expect(malformed.status, JSON.stringify(malformed.body)).to.be.oneOf([400, 422]);
      expect(await heldOnChain()).to.equal(FACE);
    });

    it("relays the supplier's signed claim: the money reaches it, nothing is held, the projection and verify agree", async function () {
      const before = await env.ledger.token.balanceOf(supplier.address);
      const td = await claimTypedData();
      const signature = await signTypedData(supplier, td);
      const res = await api()
        .post("/settlement/claim?wait=true")
        .set(bearer(t.supplier))
        .send({ nonce: td.message.nonce, deadline: td.message.deadline, signature });
      expect(res.status, JSON.stringify(res.body)).to.equal(202);
      expect(res.body).to.include({ kind: "claim_held", status: "confirmed" });
      expect(await env.ledger.token.balanceOf(supplier.address)).to.equal(before + FACE);
      expect(await heldOnChain()).to.equal(0n);
      await svc.app.get(IndexerService).catchUp();
      const held = await api().get("/settlement/held").set(bearer(t.supplier)).expect(200);
      expect(held.body.held).to.equal("0");
      const row = await svc.app.get<DataSource>(getDataSourceToken()).getRepository(HeldPaymentEntity).findOneByOrFail({ recipient: supplier.address });
      expect(row.amount).to.equal(0n);
      const verify = await api().get("/audit/verify").query({ contracts: true }).set(bearer(t.auditor)).expect(200);
      expect(verify.body.differences).to.deep.equal([]);
    });

    it("the supplier reads its own held amount; a second claim is refused with 409 ReceivableNothingHeld", async function () {
      await api().get("/settlement/held").set(bearer(t.supplier)).expect(200);
      const res = await api().post("/settlement/claim").set(bearer(t.supplier)).send({});
      expect(res.status).to.equal(409);
      expect(res.body.code).to.equal("ReceivableNothingHeld");
      expect(res.body.message).to.match(/Nothing is held/);
    });
  });
});
