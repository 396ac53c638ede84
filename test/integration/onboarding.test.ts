import { createHash } from "node:crypto";
import { expect } from "chai";
import { Wallet, id as keccakId } from "ethers";
import request from "supertest";
import { ComplianceService } from "../../services/src/compliance/compliance.service";
import { IndexerService } from "../../services/src/indexer/indexer.service";
import { ParticipantsService } from "../../services/src/participants/participants.service";
import { TxSenderService } from "../../services/src/outbox/tx-sender.service";
import { signIn } from "../support/auth";
import { startChain, type TestChain } from "../support/chain";
import { cleanupEnv, prepareEnv, startService, type RunningService, type TestEnv } from "../support/app";
import { freshUscc, makeLei } from "../support/entity-ids";

const COMPLIANCE_OFFICER = keccakId("COMPLIANCE_OFFICER");

describe("Onboarding and participants over HTTP", function () {
  let chain: TestChain;
  let env: TestEnv;
  let svc: RunningService;
  let officer: Wallet;
  let officerToken: string;

  before(async function () {
    chain = await startChain();
  });
  after(async function () {
    await chain?.stop();
  });
  beforeEach(async function () {
    env = await prepareEnv(chain);
    svc = await startService(env);
    officer = await chain.fundedWallet();
    await (await env.ledger.registry.connect(chain.account(0)).grantRole(COMPLIANCE_OFFICER, officer.address)).wait();
    officerToken = await signIn(svc.url, officer);
  });
  afterEach(async function () {
    await svc?.close();
    if (env) await cleanupEnv(env);
  });

  const api = () => request(svc.url);
  const bearer = (t: string) => ({ Authorization: `Bearer ${t}` });

  async function applicant(): Promise<{ wallet: Wallet; token: string }> {
    const wallet = Wallet.createRandom() as unknown as Wallet;
    return { wallet, token: await signIn(svc.url, wallet) };
  }

  /** A complete application: multipart fields plus one KYC document. */
  function apply(token: string, overrides: Record<string, string | string[]> = {}) {
    const fields: Record<string, string | string[]> = {
      legalName: "Ningbo Example Components Co., Ltd.",
      entityIdType: "USCC",
      entityId: freshUscc(),
      jurisdiction: "CN",
      roles: ["supplier"],
      ...overrides,
    };
    let req = api().post("/onboarding/applications").set(bearer(token));
    for (const [k, v] of Object.entries(fields)) req = req.field(k, Array.isArray(v) ? v.join(",") : v);
    return req.attach("documents", Buffer.from(`licence of ${fields.legalName}`), "licence.pdf");
  }

  async function indexed(): Promise<void> {
    await svc.app.get(IndexerService).catchUp();
  }

  describe("POST /onboarding/applications", function () {
    it("stores the application with its documents and their SHA-256, and screens it", async function () {
      const a = await applicant();
      const res = await api()
        .post("/onboarding/applications")
        .set(bearer(a.token))
        .field("legalName", "Shaoxing Example Dyeing Co., Ltd.")
        .field("entityIdType", "LEI")
        .field("entityId", makeLei("5493001KJTIIGC8Y1R"))
        .field("jurisdiction", "cn")
        .field("roles", "supplier,buyer")
        .attach("documents", Buffer.from("business licence scan"), "licence.pdf")
        .attach("documents", Buffer.from("articles of association"), "articles.pdf")
        .expect(201);
      expect(res.body).to.include({ applicant: a.wallet.address, status: "submitted", screeningResult: "pass", jurisdiction: "CN" });
      expect(res.body.roles).to.deep.equal(["supplier", "buyer"]);
      expect(res.body.documents.map((d: { sha256: string }) => d.sha256)).to.have.members([
        createHash("sha256").update("business licence scan").digest("hex"),
        createHash("sha256").update("articles of association").digest("hex"),
      ]);
      expect(res.body.checks.map((c: { code: string }) => c.code)).to.include("SANCTIONS_SCREENING");
      const own = await api().get(`/onboarding/applications/${res.body.id}`).set(bearer(a.token)).expect(200);
      expect(own.body.id).to.equal(res.body.id);
    });

    it("rejects an application without KYC documents automatically, saying what to upload", async function () {
      const a = await applicant();
      const res = await api()
        .post("/onboarding/applications")
        .set(bearer(a.token))
        .send({ legalName: "Ningbo Example Components Co., Ltd.", entityIdType: "USCC", entityId: freshUscc(), jurisdiction: "CN", roles: ["supplier"] })
        .expect(201);
      expect(res.body.status).to.equal("rejected");
      expect(res.body.decisionReason).to.match(/KYC_DOCUMENTS_PRESENT: No KYC document is attached/);
    });

    it("rejects a sanctioned name automatically, with the screening reason", async function () {
      const a = await applicant();
      const res = await apply(a.token, { legalName: "Hongxu Trading Company Limited" }).expect(201);
      expect(res.body.status).to.equal("rejected");
      expect(res.body.screeningResult).to.equal("fail");
      expect(res.body.decisionReason).to.match(/SANCTIONS_SCREENING/);
    });

    it("refuses malformed bodies, unknown fields and client-set status with 400 and stores nothing", async function () {
      const a = await applicant();
      for (const body of [
        { legalName: "X Co", entityIdType: "USCC", entityId: "91330000000000000X", jurisdiction: "CN", roles: ["supplier"] },
        { legalName: "X Co", entityIdType: "LEI", entityId: freshUscc(), jurisdiction: "CN", roles: ["supplier"] },
        { legalName: "X Co", entityIdType: "USCC", entityId: freshUscc(), jurisdiction: "CHN", roles: ["supplier"] },
        { legalName: "X Co", entityIdType: "USCC", entityId: freshUscc(), jurisdiction: "CN", roles: ["admin"] },
        { legalName: "X Co", entityIdType: "USCC", entityId: freshUscc(), jurisdiction: "CN", roles: [] },
        { legalName: "X Co", entityIdType: "USCC", entityId: freshUscc(), jurisdiction: "CN", roles: ["supplier"], status: "approved" },
        { legalName: "X Co", entityIdType: "USCC", entityId: freshUscc(), jurisdiction: "CN", roles: ["supplier"], isAdmin: true },
      ]) {
        const res = await api().post("/onboarding/applications").set(bearer(a.token)).send(body);
        expect(res.status, JSON.stringify(body)).to.equal(400);
        expect(res.body.message).to.not.equal(undefined);
      }
      const list = await api().get("/onboarding/applications").set(bearer(a.token)).expect(200);
      expect(list.body.items).to.have.length(0);
    });

    it("refuses a second open application by the same address (409)", async function () {
      const a = await applicant();
      await apply(a.token).expect(201);
      const res = await apply(a.token).expect(409);
      expect(res.body.message).to.match(/already has an open application/);
    });

    it("refuses anonymous callers (401)", async function () {
      await api().post("/onboarding/applications").send({}).expect(401);
      await api().get("/onboarding/applications").expect(401);
    });
  });

  describe("approval", function () {
    it("registers the applicant on-chain and the member appears once indexed", async function () {
      const a = await applicant();
      const created = await apply(a.token, { roles: ["supplier", "buyer"] }).expect(201);
      const res = await api()
        .post(`/onboarding/applications/${created.body.id}/approve?wait=true`)
        .set(bearer(officerToken))
        .send({ kycValidityDays: 30 })
        .expect(202);
      expect(res.body.status).to.equal("approved");
      expect(res.body.decidedBy).to.equal(officer.address);
      expect(res.body.txHash).to.match(/^0x[0-9a-f]{64}$/);
      expect(await env.ledger.registry.isVerified(a.wallet.address, 3)).to.equal(true);
      await indexed();
      const me = await api().get(`/participants/${a.wallet.address}`).set(bearer(a.token)).expect(200);
      expect(me.body).to.include({ address: a.wallet.address, status: "active", verified: true, jurisdiction: "CN" });
      expect(me.body.roles).to.deep.equal(["supplier", "buyer"]);
    });

    it("refuses approval by anyone but a compliance officer (403) and changes nothing", async function () {
      const a = await applicant();
      const other = await applicant();
      const created = await apply(a.token).expect(201);
      for (const t of [a.token, other.token]) {
        await api().post(`/onboarding/applications/${created.body.id}/approve`).set(bearer(t)).send({}).expect(403);
      }
      const after = await api().get(`/onboarding/applications/${created.body.id}`).set(bearer(officerToken)).expect(200);
      expect(after.body.status).to.equal("submitted");
    });

    it("refuses to decide twice (409) and to approve a rejected application", async function () {
      const a = await applicant();
      const created = await apply(a.token).expect(201);
      const url = `/onboarding/applications/${created.body.id}`;
      await api().post(`${url}/approve?wait=true`).set(bearer(officerToken)).send({}).expect(202);
      await api().post(`${url}/approve`).set(bearer(officerToken)).send({}).expect(409);
      await api().post(`${url}/reject`).set(bearer(officerToken)).send({ reason: "too late" }).expect(409);
      const b = await applicant();
      const second = await apply(b.token).expect(201);
      await api().post(`/onboarding/applications/${second.body.id}/reject`).set(bearer(officerToken)).send({ reason: "documents unreadable" }).expect(200);
      await api().post(`/onboarding/applications/${second.body.id}/approve`).set(bearer(officerToken)).send({}).expect(409);
      const seen = await api().get(`/onboarding/applications/${second.body.id}`).set(bearer(b.token)).expect(200);
      expect(seen.body).to.include({ status: "rejected", decisionReason: "documents unreadable" });
    });

    it("refuses another applicant's application to a non-officer (403) and unknown ids (404)", async function () {
      const a = await applicant();
      const b = await applicant();
      const created = await apply(a.token).expect(201);
      await api().get(`/onboarding/applications/${created.body.id}`).set(bearer(b.token)).expect(403);
      await api().get(`/onboarding/applications/00000000-0000-4000-8000-000000000000`).set(bearer(a.token)).expect(404);
      await api().get(`/onboarding/applications/not-a-uuid`).set(bearer(a.token)).expect(400);
      const mine = await api().get("/onboarding/applications").set(bearer(b.token)).expect(200);
      expect(mine.body.items).to.have.length(0);
      const all = await api().get("/onboarding/applications").set(bearer(officerToken)).expect(200);
      expect(all.body.items.map((x: { id: string }) => x.id)).to.include(created.body.id);
    });

    it("refuses the same legal entity under a second address (409)", async function () {
      const a = await applicant();
      const b = await applicant();
      const entityId = freshUscc();
      const first = await apply(a.token, { entityId }).expect(201);
      await api().post(`/onboarding/applications/${first.body.id}/approve?wait=true`).set(bearer(officerToken)).send({}).expect(202);
      const res = await apply(b.token, { entityId }).expect(409);
      expect(res.body.message).to.match(/legal entity is already/);
    });
  });

  describe("participants: suspend, reinstate, KYC expiry", function () {
    async function member(roles = ["supplier"]): Promise<{ wallet: Wallet; token: string }> {
      const a = await applicant();
      const created = await apply(a.token, { roles }).expect(201);
      await api().post(`/onboarding/applications/${created.body.id}/approve?wait=true`).set(bearer(officerToken)).send({ kycValidityDays: 1 }).expect(202);
      await indexed();
      return a;
    }

    it("suspends and reinstates on-chain through the compliance key", async function () {
      const m = await member();
      const sender = svc.app.get(TxSenderService);
      const res = await api()
        .post(`/participants/${m.wallet.address}/suspend`)
        .set(bearer(officerToken))
        .send({ reason: "adverse media under review", reasonCode: "ADVERSE_MEDIA" })
        .expect(202);
      expect(res.body.actions[0]).to.include({ action: "suspend", status: "pending", reasonCode: "ADVERSE_MEDIA" });
      const ds = svc.app.get(ParticipantsService);
      for (let i = 0; i < 100 && (await env.ledger.registry.member(m.wallet.address)).status !== 2n; i++) await new Promise((r) => setTimeout(r, 50));
      expect((await env.ledger.registry.member(m.wallet.address)).status).to.equal(2n);
      await sender.tick();
      await indexed();
      const after = await api().get(`/participants/${m.wallet.address}`).set(bearer(officerToken)).expect(200);
      expect(after.body).to.include({ status: "suspended", verified: false });
      expect(after.body.actions[0]).to.include({ action: "suspend", status: "done" });
      await api().post(`/participants/${m.wallet.address}/suspend`).set(bearer(officerToken)).send({ reason: "again" }).expect(409);
      await api().post(`/participants/${m.wallet.address}/reinstate`).set(bearer(m.token)).send({}).expect(403);
      await api().post(`/participants/${m.wallet.address}/reinstate`).set(bearer(officerToken)).send({ reason: "cleared" }).expect(202);
      for (let i = 0; i < 100 && (await env.ledger.registry.member(m.wallet.address)).status !== 1n; i++) await new Promise((r) => setTimeout(r, 50));
      expect(await env.ledger.registry.isVerified(m.wallet.address, 1)).to.equal(true);
      expect(ds).to.not.equal(undefined);
    });

    it("refuses cross-member reads (403), unknown members (404) and bad reason codes (400)", async function () {
      const m1 = await member();
      const m2 = await member(["buyer"]);
      await api().get(`/participants/${m2.wallet.address}`).set(bearer(m1.token)).expect(403);
      const list = await api().get("/participants").set(bearer(m1.token)).expect(200);
      expect(list.body.items.map((x: { address: string }) => x.address)).to.deep.equal([m1.wallet.address]);
      await api().get(`/participants/${Wallet.createRandom().address}`).set(bearer(officerToken)).expect(404);
      await api().post(`/participants/${m1.wallet.address}/suspend`).set(bearer(officerToken)).send({ reason: "x y z", reasonCode: "lower case" }).expect(400);
    });

    it("the KYC sweep suspends members whose KYC expired and flags those about to expire", async function () {
      const m = await member();
      const svcP = svc.app.get(ParticipantsService);
      const warnedOnly = await svcP.kycSweep(new Date(Date.now() + 3600_000));
      expect(warnedOnly.suspended).to.deep.equal([]);
      expect(warnedOnly.warned).to.include(m.wallet.address);
      // The warning is listed under the member (through its run's row, compliance_runs).
      const listed = await svc.app.get(ComplianceService).listChecks("member", m.wallet.address);
      expect(listed.map((c) => c.ruleCode)).to.include("KYC_EXPIRY_WARNING");
      const swept = await svcP.kycSweep(new Date(Date.now() + 2 * 86400_000));
      expect(swept.suspended).to.include(m.wallet.address);
      for (let i = 0; i < 100 && (await env.ledger.registry.member(m.wallet.address)).status !== 2n; i++) await new Promise((r) => setTimeout(r, 50));
      expect((await env.ledger.registry.member(m.wallet.address)).status).to.equal(2n);
      const again = await svcP.kycSweep(new Date(Date.now() + 2 * 86400_000));
      expect(again.suspended).to.deep.equal([]);
    });

    it("warns a member whose KYC is about to expire once a day, not once ever", async function () {
      const m = await member();
      const svcP = svc.app.get(ParticipantsService);
      const expiry = Number((await env.ledger.registry.member(m.wallet.address)).kycExpiry) * 1000;
      // Two moments before the expiry on two calendar days (UTC): the hour before the expiry day
      // starts, and half way from its midnight to the expiry.
      const midnight = Math.floor((expiry - 1) / 86400_000) * 86400_000;
      const dayBefore = new Date(midnight - 3600_000);
      const sameDay = new Date(midnight + Math.floor((expiry - midnight) / 2));
      expect((await svcP.kycSweep(dayBefore)).warned).to.include(m.wallet.address);
      expect((await svcP.kycSweep(dayBefore)).warned, "twice the same day").to.not.include(m.wallet.address);
      expect((await svcP.kycSweep(sameDay)).warned, "the next day").to.include(m.wallet.address);
      const listed = await svc.app.get(ComplianceService).listChecks("member", m.wallet.address);
      expect(listed.filter((c) => c.ruleCode === "KYC_EXPIRY_WARNING")).to.have.length(2);
    });
  });
});
