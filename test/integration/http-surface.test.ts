/**
 * The HTTP surface of the foundation as a whole: every endpoint called anonymously and by every
 * kind of caller (only the intended ones succeed; cross-member reads are 403), fast-check
 * generated bodies on every write endpoint (never a 5xx, nothing written), and the operational
 * basics (OpenAPI, body size limit, request ids).
 */
import { expect } from "chai";
import fc from "fast-check";
import { Wallet, id as keccakId } from "ethers";
import request from "supertest";
import { DataSource } from "typeorm";
import { getDataSourceToken } from "@nestjs/typeorm";
import { IndexerService } from "../../services/src/indexer/indexer.service";
import { OutboxEntity } from "../../services/src/outbox/entities/outbox.entity";
import { ApplicationEntity } from "../../services/src/onboarding/entities/application.entity";
import { ParticipantActionEntity } from "../../services/src/participants/entities/participant-action.entity";
import { AuthChallengeEntity, SessionEntity } from "../../services/src/auth/entities/auth.entity";
import { signIn } from "../support/auth";
import { startChain, type TestChain } from "../support/chain";
import { cleanupEnv, prepareEnv, startService, type RunningService, type TestEnv } from "../support/app";
import { freshUscc } from "../support/entity-ids";
import { ROLE_BITS } from "../../shared/roles";

type Caller = "anonymous" | "outsider" | "supplier" | "buyer" | "financier" | "auditor" | "compliance";
const CALLERS: Caller[] = ["anonymous", "outsider", "supplier", "buyer", "financier", "auditor", "compliance"];

describe("HTTP surface: access matrix, fuzzed bodies, operations", function () {
  this.timeout(600_000);
  let chain: TestChain;
  let env: TestEnv;
  let svc: RunningService;
  let ds: DataSource;
  const wallets = {} as Record<Exclude<Caller, "anonymous">, Wallet>;
  const tokens = {} as Record<Caller, string | null>;

  before(async function () {
    chain = await startChain();
    env = await prepareEnv(chain);
    svc = await startService(env);
    ds = svc.app.get<DataSource>(getDataSourceToken());
    const expiry = Math.floor(Date.now() / 1000) + 365 * 86400;
    for (const c of CALLERS) {
      if (c === "anonymous") continue;
      wallets[c] = Wallet.createRandom() as unknown as Wallet;
      if (c in ROLE_BITS) {
        const bit = ROLE_BITS[c as keyof typeof ROLE_BITS];
        await (
          await env.ledger.registry.connect(env.keys.operator).register(wallets[c].address, bit, expiry, "0x434e", keccakId(c))
        ).wait();
      }
    }
    await (await env.ledger.registry.connect(chain.account(0)).grantRole(keccakId("COMPLIANCE_OFFICER"), wallets.compliance.address)).wait();
    await svc.app.get(IndexerService).catchUp();
    tokens.anonymous = null;
    for (const c of CALLERS) if (c !== "anonymous") tokens[c] = await signIn(svc.url, wallets[c]);
  });
  after(async function () {
    await svc?.close();
    if (env) await cleanupEnv(env);
    await chain?.stop();
  });

  function call(c: Caller, method: "get" | "post", path: string, body?: object) {
    let r = request(svc.url)[method](path);
    if (tokens[c]) r = r.set("Authorization", `Bearer ${tokens[c]}`);
    return body ? r.send(body) : r;
  }

  async function newApplication(): Promise<{ id: string; applicant: Wallet; token: string }> {
    const applicant = Wallet.createRandom() as unknown as Wallet;
    const token = await signIn(svc.url, applicant);
    const res = await request(svc.url)
      .post("/onboarding/applications")
      .set("Authorization", `Bearer ${token}`)
      .field("legalName", "Jiaxing Example Fasteners Co., Ltd.")
      .field("entityIdType", "USCC")
      .field("entityId", freshUscc())
      .field("jurisdiction", "CN")
      .field("roles", "supplier")
      .attach("documents", Buffer.from("licence"), "licence.pdf")
      .expect(201);
    return { id: res.body.id, applicant, token };
  }

  async function counts(): Promise<number[]> {
    return Promise.all([
      ds.getRepository(ApplicationEntity).count(),
      ds.getRepository(OutboxEntity).count(),
      ds.getRepository(ParticipantActionEntity).count(),
    ]);
  }

  describe("access matrix", function () {
    const reads: Array<{ name: string; path: string | (() => Promise<string> | string); allowed: Caller[] }> = [
      { name: "GET /health", path: "/health", allowed: CALLERS },
      { name: "GET /auth/me", path: "/auth/me", allowed: CALLERS.filter((c) => c !== "anonymous") },
      { name: "GET /onboarding/applications", path: "/onboarding/applications", allowed: CALLERS.filter((c) => c !== "anonymous") },
      {
        name: "GET /onboarding/applications/:id (someone else's)",
        path: async () => `/onboarding/applications/${(await newApplication()).id}`,
        allowed: ["auditor", "compliance"],
      },
      { name: "GET /participants", path: "/participants", allowed: CALLERS.filter((c) => c !== "anonymous") },
      {
        name: "GET /participants/:address (the supplier)",
        path: () => `/participants/${wallets.supplier.address}`,
        allowed: ["supplier", "auditor", "compliance"],
      },
      {
        name: "GET /compliance/checks",
        path: async () => `/compliance/checks?subject=application:${(await newApplication()).id}`,
        allowed: ["auditor", "compliance"],
      },
      { name: "GET /audit/pack", path: "/audit/pack?fromBlock=0&toBlock=1", allowed: ["auditor", "compliance"] },
      { name: "GET /audit/pack/files/:name", path: "/audit/pack/files/vouchers.csv?fromBlock=0&toBlock=1", allowed: ["auditor", "compliance"] },
      { name: "GET /ledger/export (a member: its own)", path: "/ledger/export", allowed: ["supplier", "buyer", "financier", "auditor", "compliance"] },
      { name: "GET /ledger/export?member= (the supplier)", path: () => `/ledger/export?member=${wallets.supplier.address}`, allowed: ["supplier", "auditor", "compliance"] },
    ];
    for (const r of reads) {
      it(`${r.name}: only ${r.allowed.join(", ")} may read`, async function () {
        const path = typeof r.path === "function" ? await r.path() : r.path;
        for (const c of CALLERS) {
          const res = await call(c, "get", path);
          const want = r.allowed.includes(c) ? 200 : c === "anonymous" ? 401 : 403;
          expect(res.status, `${c} → ${res.status} ${JSON.stringify(res.body)}`).to.equal(want);
        }
      });
    }

    it("GET /participants returns only yourself unless you are compliance or an auditor", async function () {
      for (const c of ["supplier", "buyer", "financier", "outsider"] as const) {
        const res = await call(c, "get", "/participants").expect(200);
        const own = c === "outsider" ? [] : [wallets[c].address];
        expect(res.body.items.map((x: { address: string }) => x.address), c).to.deep.equal(own);
      }
      const all = await call("auditor", "get", "/participants?limit=200").expect(200);
      expect(all.body.items.length).to.be.at.least(4);
    });

    const decisions = ["approve", "reject"] as const;
    for (const d of decisions) {
      it(`POST /onboarding/applications/:id/${d}: only a compliance officer succeeds, refusals change nothing`, async function () {
        const app = await newApplication();
        const body = d === "reject" ? { reason: "documents unreadable" } : {};
        for (const c of CALLERS.filter((x) => x !== "compliance")) {
          const before = await counts();
          const res = await call(c, "post", `/onboarding/applications/${app.id}/${d}`, body);
          expect(res.status, c).to.equal(c === "anonymous" ? 401 : 403);
          expect(await counts()).to.deep.equal(before);
        }
        const ok = await call("compliance", "post", `/onboarding/applications/${app.id}/${d}`, body);
        expect(ok.status).to.equal(d === "approve" ? 202 : 200);
      });
    }

    it("POST /participants/:address/suspend and /reinstate: only a compliance officer succeeds", async function () {
      const target = wallets.buyer.address;
      for (const action of ["suspend", "reinstate"] as const) {
        const body = action === "suspend" ? { reason: "adverse media" } : { reason: "cleared" };
        for (const c of CALLERS.filter((x) => x !== "compliance")) {
          const before = await counts();
          const res = await call(c, "post", `/participants/${target}/${action}`, body);
          expect(res.status, `${action} by ${c}`).to.equal(c === "anonymous" ? 401 : 403);
          expect(await counts()).to.deep.equal(before);
        }
        await call("compliance", "post", `/participants/${target}/${action}`, body).expect(202);
        const want = action === "suspend" ? 2n : 1n;
        for (let i = 0; i < 200 && (await env.ledger.registry.member(target)).status !== want; i++) await new Promise((r) => setTimeout(r, 25));
        expect((await env.ledger.registry.member(target)).status).to.equal(want);
        await svc.app.get(IndexerService).catchUp();
      }
    });

    it("POST /onboarding/applications: members are told they need no application (409), anonymous 401", async function () {
      for (const c of ["supplier", "buyer", "financier", "auditor"] as const) {
        const res = await request(svc.url)
          .post("/onboarding/applications")
          .set("Authorization", `Bearer ${tokens[c]}`)
          .field("legalName", "Member Co., Ltd.")
          .field("entityIdType", "USCC")
          .field("entityId", freshUscc())
          .field("jurisdiction", "CN")
          .field("roles", "supplier")
          .attach("documents", Buffer.from("x"), "x.pdf");
        expect(res.status, c).to.equal(409);
      }
      await call("anonymous", "post", "/onboarding/applications", {}).expect(401);
    });
  });

  describe("fuzzed bodies on every write endpoint", function () {
    const anyBody = fc.oneof(
      fc.jsonValue(),
      fc.dictionary(
        fc.constantFrom("legalName", "entityIdType", "entityId", "jurisdiction", "roles", "reason", "reasonCode", "kycValidityDays", "address", "message", "signature", "status", "__proto__", "constructor"),
        fc.jsonValue(),
      ),
    );

    async function fuzz(caller: Caller, path: () => string, runs = 60): Promise<void> {
      await fc.assert(
        fc.asyncProperty(anyBody, async (body) => {
          const before = await counts();
          const r = request(svc.url).post(path()).set("content-type", "application/json");
          if (tokens[caller]) r.set("Authorization", `Bearer ${tokens[caller]}`);
          const res = await r.send(JSON.stringify(body));
          expect(res.status, `${path()} ${JSON.stringify(body)} → ${res.status} ${JSON.stringify(res.body)}`).to.be.below(500);
          if (res.status >= 400) expect(await counts()).to.deep.equal(before);
        }),
        { numRuns: runs },
      );
    }

    it("POST /onboarding/applications", async function () {
      const applicant = Wallet.createRandom() as unknown as Wallet;
      tokens.outsider = await signIn(svc.url, applicant);
      await fuzz("outsider", () => "/onboarding/applications");
    });

    it("POST /onboarding/applications/:id/approve and /reject", async function () {
      const app = await newApplication();
      await fuzz("compliance", () => `/onboarding/applications/${app.id}/reject`);
      const app2 = await newApplication();
      await fuzz("compliance", () => `/onboarding/applications/${app2.id}/approve`, 30);
    });

    it("POST /participants/:address/suspend and /reinstate", async function () {
      await fuzz("compliance", () => `/participants/${wallets.financier.address}/suspend`);
      await fuzz("compliance", () => `/participants/${wallets.auditor.address}/reinstate`);
    });

    it("POST /auth/challenge and /auth/login", async function () {
      const sessions = await ds.getRepository(SessionEntity).count();
      await fuzz("anonymous", () => "/auth/login");
      expect(await ds.getRepository(SessionEntity).count()).to.equal(sessions);
      const challenges = await ds.getRepository(AuthChallengeEntity).count();
      await fuzz("anonymous", () => "/auth/challenge", 20);
      expect(await ds.getRepository(AuthChallengeEntity).count()).to.be.at.least(challenges);
    });
  });

  describe("operations", function () {
    it("serves the OpenAPI document at /docs", async function () {
      const res = await request(svc.url).get("/docs-json").expect(200);
      for (const p of ["/onboarding/applications", "/participants/{address}/suspend", "/auth/login", "/health", "/compliance/checks"]) {
        expect(res.body.paths, p).to.have.property(p);
      }
    });

    it("refuses a JSON body over the size limit with 413", async function () {
      const big = { legalName: "x".repeat(2 * 1024 * 1024) };
      const res = await call("outsider", "post", "/onboarding/applications", big);
      expect(res.status).to.equal(413);
    });

    it("answers API reads with the security headers and without an ETag (no body is hashed per request)", async function () {
      for (const path of ["/receivables", "/audit/events", "/participants"]) {
        const res = await call("auditor", "get", path).expect(200);
        expect(res.headers, path).to.not.have.property("etag");
        expect(res.headers, path).to.include({ "x-content-type-options": "nosniff", "x-frame-options": "SAMEORIGIN" });
        expect(res.headers["content-security-policy"], path).to.match(/default-src 'self'/);
      }
    });

    it("echoes a request id, or makes one", async function () {
      const given = await request(svc.url).get("/health").set("x-request-id", "trace-abc-123").expect(200);
      expect(given.headers["x-request-id"]).to.equal("trace-abc-123");
      const made = await request(svc.url).get("/health").expect(200);
      expect(made.headers["x-request-id"]).to.match(/^[0-9a-f-]{36}$/);
    });
  });
});
