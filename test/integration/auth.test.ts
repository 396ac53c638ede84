/**
 * Sign-In with Ethereum and the access guard against the real service: a `hardhat node` over
 * JSON-RPC, a fresh deployment and database (SQLite, or PostgreSQL with TEST_DATABASE=postgres).
 */
import { personalSign } from "@metamask/eth-sig-util";
import { expect } from "chai";
import { concat, id as keccakId, Wallet, type HDNodeWallet } from "ethers";
import { SiweMessage } from "siwe";
import request from "supertest";
import { DataSource } from "typeorm";
import { UnauthorizedException } from "@nestjs/common";
import { getDataSourceToken } from "@nestjs/typeorm";
import { MultisigWallet__factory } from "../../typechain-types";
import { AuthService } from "../../services/src/auth/auth.service";
import { AuthChallengeEntity, SessionEntity } from "../../services/src/auth/entities/auth.entity";
import { hashSessionToken } from "../../services/src/auth/session-token";
import { DbWriter } from "../../services/src/database/db-writer";
import { IndexerService } from "../../services/src/indexer/indexer.service";
import { bearer, login, requestChallenge, signIn } from "../support/auth";
import { startChain, type TestChain } from "../support/chain";
import { cleanupEnv, prepareEnv, startService, type RunningService, type TestEnv } from "../support/app";

type AnyWallet = Wallet | HDNodeWallet;

describe("Auth: Sign-In with Ethereum and the access guard", function () {
  let chain: TestChain;
  let env: TestEnv;
  let svc: RunningService;
  let ds: DataSource;

  before(async function () {
    chain = await startChain();
    // A short caller cache, so edits made behind the service's back (below) are seen quickly.
    env = await prepareEnv(chain, { SESSION_TTL_SECONDS: "60", CALLER_CACHE_MS: "300" });
    svc = await startService(env);
    ds = svc.app.get<DataSource>(getDataSourceToken());
  });
  after(async function () {
    await svc?.close();
    if (env) await cleanupEnv(env);
    await chain?.stop();
  });

  /** Signs `message` with `signer`'s key, posts it to /auth/login and expects `status`. */
  async function postLogin(message: string, signer: AnyWallet, status: number) {
    const signature = await signer.signMessage(message);
    return request(svc.url).post("/auth/login").send({ message, signature }).expect(status);
  }

  /** The challenge's message with some fields changed, as a client could forge it. */
  function alter(message: string, fields: Partial<SiweMessage>): string {
    const m = new SiweMessage(message);
    Object.assign(m, fields);
    return m.prepareMessage();
  }

  function dbWrite<T>(fn: Parameters<DbWriter["write"]>[0]): Promise<T> {
    return svc.app.get(DbWriter).write(fn) as Promise<T>;
  }

  const nowSec = () => Math.floor(Date.now() / 1000);

  describe("signing in", function () {
    it("issues a challenge that is an EIP-4361 message bound to this service, chain and address", async function () {
      const w = Wallet.createRandom();
      const before = Date.now();
      const res = await request(svc.url).post("/auth/challenge").send({ address: w.address.toLowerCase() }).expect(201);
      const { message, nonce, expiresAt } = res.body as { message: string; nonce: string; expiresAt: string };
      const m = new SiweMessage(message);
      expect(m.domain).to.equal("localhost:3000");
      expect(m.uri).to.equal("http://localhost:3000");
      expect(m.chainId).to.equal(31337);
      expect(m.version).to.equal("1");
      expect(m.statement).to.equal("Sign in to the SCF ledger.");
      expect(m.address).to.equal(w.address); // checksummed although asked in lower case
      expect(m.nonce).to.equal(nonce);
      expect(m.expirationTime).to.equal(expiresAt);
      expect(Date.parse(m.issuedAt!)).to.be.within(before - 1000, Date.now() + 1000);
      // CHALLENGE_TTL_SECONDS defaults to 300
      expect(Date.parse(expiresAt) - Date.parse(m.issuedAt!)).to.be.within(299_000, 301_000);
      const row = await ds.getRepository(AuthChallengeEntity).findOneByOrFail({ nonce });
      expect(row.address).to.equal(w.address);
      expect(row.usedAt).to.equal(null);
      expect(row.expiresAt * 1000).to.equal(Date.parse(expiresAt));
      expect(row.message).to.equal(message);
    });

    it("hands out a fresh nonce on every challenge", async function () {
      const w = Wallet.createRandom();
      const a = await requestChallenge(svc.url, w.address);
      const b = await requestChallenge(svc.url, w.address);
      expect(a.nonce).to.not.equal(b.nonce);
      expect(a.nonce).to.match(/^[A-Za-z0-9]{8,}$/);
    });

    it("signs in with personal_sign and returns the caller from /auth/me", async function () {
      const w = Wallet.createRandom();
      const { message, nonce } = await requestChallenge(svc.url, w.address);
      const res = await postLogin(message, w, 200);
      expect(res.body.tokenType).to.equal("Bearer");
      expect(res.body.address).to.equal(w.address);
      expect(res.body.accessToken).to.match(/^[A-Za-z0-9_-]{43}$/); // 32 random bytes, base64url
      // SESSION_TTL_SECONDS=60 in this suite
      expect(Date.parse(res.body.expiresAt) - Date.now()).to.be.within(55_000, 61_000);

      const sessions = await ds.getRepository(SessionEntity).findBy({ address: w.address });
      expect(sessions).to.have.length(1);
      expect(sessions[0].tokenHash).to.equal(hashSessionToken(res.body.accessToken));
      expect(sessions[0].tokenHash).to.not.contain(res.body.accessToken);
      const challenge = await ds.getRepository(AuthChallengeEntity).findOneByOrFail({ nonce });
      expect(challenge.usedAt).to.be.a("number");

      const me = await request(svc.url).get("/auth/me").set(bearer(res.body.accessToken)).expect(200);
      expect(me.body).to.deep.equal({
        address: w.address,
        roles: 0,
        roleNames: [],
        verifiedMember: false,
        complianceOfficer: false,
        access: [],
      });
    });

    it("signs in with the issued message signed by a second library (@metamask/eth-sig-util)", async function () {
      const w = Wallet.createRandom();
      const { message } = await requestChallenge(svc.url, w.address);
      const signature = personalSign({ privateKey: Buffer.from(w.privateKey.slice(2), "hex"), data: message });
      const res = await request(svc.url).post("/auth/login").send({ message, signature }).expect(200);
      expect(res.body.address).to.equal(w.address);
    });

    it("gives every sign-in its own token, and the support helper signs in over HTTP", async function () {
      const w = Wallet.createRandom();
      const t1 = await signIn(svc.url, w);
      const t2 = await signIn(svc.url, w);
      expect(t1).to.not.equal(t2);
      for (const t of [t1, t2]) {
        const me = await request(svc.url).get("/auth/me").set(bearer(t)).expect(200);
        expect(me.body.address).to.equal(w.address);
      }
    });

    it("accepts a contract wallet's signature through ERC-1271 and refuses one the wallet rejects", async function () {
      const [a, b] = [Wallet.createRandom(), Wallet.createRandom()].sort((x, y) =>
        x.address.toLowerCase() < y.address.toLowerCase() ? -1 : 1,
      );
      const deployer = await chain.fundedWallet();
      const multisig = await new MultisigWallet__factory(deployer).deploy([a.address, b.address], 2);
      await multisig.waitForDeployment();
      const walletAddress = await multisig.getAddress();

      const first = await requestChallenge(svc.url, walletAddress);
      const both = concat([await a.signMessage(first.message), await b.signMessage(first.message)]);
      const ok = await request(svc.url).post("/auth/login").send({ message: first.message, signature: both }).expect(200);
      expect(ok.body.address).to.equal(walletAddress);
      const me = await request(svc.url).get("/auth/me").set(bearer(ok.body.accessToken)).expect(200);
      expect(me.body.address).to.equal(walletAddress);

      // One owner of a 2-of-2 is not enough: the wallet answers "invalid".
      const second = await requestChallenge(svc.url, walletAddress);
      const res = await postLogin(second.message, a, 401);
      expect(res.body.message).to.contain("signature does not match the address");
    });
  });

  describe("refused sign-ins (401, naming the cause)", function () {
    it("a signature by another key", async function () {
      const w = Wallet.createRandom();
      const { message, nonce } = await requestChallenge(svc.url, w.address);
      const res = await postLogin(message, Wallet.createRandom(), 401);
      expect(res.body.message).to.contain("signature does not match the address");
      // The refused attempt does not burn the challenge: the owner can still use it.
      expect((await ds.getRepository(AuthChallengeEntity).findOneByOrFail({ nonce })).usedAt).to.equal(null);
      await postLogin(message, w, 200);
    });

    it("a nonce used before", async function () {
      const w = Wallet.createRandom();
      const { message } = await requestChallenge(svc.url, w.address);
      await postLogin(message, w, 200);
      const res = await postLogin(message, w, 401);
      expect(res.body.message).to.contain("nonce already used");
    });

    it("all but one of four concurrent HTTP logins with one nonce", async function () {
      const w = Wallet.createRandom();
      const { message } = await requestChallenge(svc.url, w.address);
      const signature = await w.signMessage(message);
      const results = await Promise.all(
        [0, 1, 2, 3].map(() => request(svc.url).post("/auth/login").send({ message, signature })),
      );
      const statuses = results.map((r) => r.status).sort();
      expect(statuses).to.deep.equal([200, 401, 401, 401]);
      for (const r of results.filter((x) => x.status === 401)) expect(r.body.message).to.contain("nonce already used");
      expect(await ds.getRepository(SessionEntity).countBy({ address: w.address })).to.equal(1);
    });

    it("all but one of eight logins racing in-process on one nonce (every one past the unused check)", async function () {
      const w = Wallet.createRandom();
      const { message, nonce } = await requestChallenge(svc.url, w.address);
      const signature = await w.signMessage(message);
      const auth = svc.app.get(AuthService);
      // Started in one tick, all eight read the challenge as unused before any of them writes, so
      // only the conditional consumption can keep them apart.
      const results = await Promise.allSettled(Array.from({ length: 8 }, () => auth.login(message, signature)));
      const won = results.filter((r) => r.status === "fulfilled");
      const lost = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
      expect(won).to.have.length(1);
      expect(lost).to.have.length(7);
      for (const r of lost) {
        expect(r.reason).to.be.instanceOf(UnauthorizedException);
        expect((r.reason as Error).message).to.contain("nonce already used");
      }
      expect(await ds.getRepository(SessionEntity).countBy({ address: w.address })).to.equal(1);
      expect((await ds.getRepository(AuthChallengeEntity).findOneByOrFail({ nonce })).usedAt).to.be.a("number");
    });

    it("a message whose Expiration Time has passed, although correctly signed", async function () {
      const w = Wallet.createRandom();
      const { message } = await requestChallenge(svc.url, w.address);
      const expired = alter(message, {
        issuedAt: new Date(Date.now() - 120_000).toISOString(),
        expirationTime: new Date(Date.now() - 60_000).toISOString(),
      });
      const res = await postLogin(expired, w, 401);
      expect(res.body.message).to.contain("message expired");
    });

    it("a message whose challenge expired in the database", async function () {
      const w = Wallet.createRandom();
      const { message, nonce } = await requestChallenge(svc.url, w.address);
      await dbWrite((m) => m.update(AuthChallengeEntity, { nonce }, { expiresAt: nowSec() - 1 }));
      const res = await postLogin(message, w, 401);
      expect(res.body.message).to.contain("message expired");
    });

    it("a message for another domain", async function () {
      const w = Wallet.createRandom();
      const { message } = await requestChallenge(svc.url, w.address);
      const res = await postLogin(alter(message, { domain: "evil.example.com" }), w, 401);
      expect(res.body.message).to.contain("wrong domain");
    });

    it("a message for another chain id", async function () {
      const w = Wallet.createRandom();
      const { message } = await requestChallenge(svc.url, w.address);
      const res = await postLogin(alter(message, { chainId: 1 }), w, 401);
      expect(res.body.message).to.contain("wrong chain id");
    });

    it("a message for another URI", async function () {
      const w = Wallet.createRandom();
      const { message } = await requestChallenge(svc.url, w.address);
      const res = await postLogin(alter(message, { uri: "https://evil.example.com" }), w, 401);
      expect(res.body.message).to.contain("wrong uri");
    });

    // Each of these is correctly signed by the address's own key over the altered text: only the
    // comparison with the issued message can refuse them.
    const tamperings: Array<[string, string, (m: SiweMessage) => Partial<SiweMessage>]> = [
      ["a changed statement", "statement", () => ({ statement: "I transfer all my receivables to the bearer." })],
      ["added resources", "Resources", () => ({ resources: ["https://evil.example.com/admin"] })],
      ["no expiry", "Expiration Time", () => ({ expirationTime: undefined })],
      ["an issue time in 2099", "Issued At", () => ({ issuedAt: "2099-01-01T00:00:00.000Z" })],
      ["a request id", "Request ID", () => ({ requestId: "let-me-in" })],
      ["a Not Before", "Not Before", (m) => ({ notBefore: m.issuedAt })],
    ];
    for (const [what, field, change] of tamperings) {
      it(`a message with ${what}, naming the field, and the challenge stays usable`, async function () {
        const w = Wallet.createRandom();
        const { message, nonce } = await requestChallenge(svc.url, w.address);
        const res = await postLogin(alter(message, change(new SiweMessage(message))), w, 401);
        expect(res.body.message).to.contain("message differs from the one issued for this nonce");
        expect(res.body.message).to.contain(`${field} is `);
        expect(await ds.getRepository(SessionEntity).countBy({ address: w.address })).to.equal(0);
        expect((await ds.getRepository(AuthChallengeEntity).findOneByOrFail({ nonce })).usedAt).to.equal(null);
        await postLogin(message, w, 200);
      });
    }

    it("a message that gained a scheme in front of its domain, which EIP-4361 allows but the service did not issue", async function () {
      const w = Wallet.createRandom();
      const { message } = await requestChallenge(svc.url, w.address);
      const res = await postLogin(`https://${message}`, w, 401);
      expect(res.body.message).to.contain('scheme is "https" where the service issued absent');
    });

    it("a nonce this service never issued", async function () {
      const w = Wallet.createRandom();
      const { message } = await requestChallenge(svc.url, w.address);
      const res = await postLogin(alter(message, { nonce: "NeverIssued12345" }), w, 401);
      expect(res.body.message).to.contain("unknown nonce");
    });

    it("a nonce issued for another address", async function () {
      const victim = Wallet.createRandom();
      const attacker = Wallet.createRandom();
      const { message } = await requestChallenge(svc.url, victim.address);
      const res = await postLogin(alter(message, { address: attacker.address }), attacker, 401);
      expect(res.body.message).to.contain("nonce was issued for another address");
    });
  });

  describe("malformed requests (400)", function () {
    const badChallenges: Array<[string, unknown]> = [
      ["an empty body", {}],
      ["a short address", { address: "0x1234" }],
      ["a non-hex address", { address: "0xzz" + "0".repeat(38) }],
      ["a mixed-case address with a wrong checksum", { address: "0x70997970c51812dc3A010C7d01b50e0d17dc79C8" }],
      ["an address that is a number", { address: 12 }],
      ["an unknown field", { address: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8", role: "admin" }],
    ];
    for (const [what, body] of badChallenges) {
      it(`challenge with ${what}`, async function () {
        const res = await request(svc.url).post("/auth/challenge").send(body as object).expect(400);
        expect(res.body.errors).to.be.an("array").that.is.not.empty;
      });
    }

    it("login with a missing signature, a non-hex signature, an unknown field, or an empty message", async function () {
      const w = Wallet.createRandom();
      const { message } = await requestChallenge(svc.url, w.address);
      const signature = await w.signMessage(message);
      const bodies = [{ message }, { message, signature: "not-hex" }, { message, signature, extra: 1 }, { message: "", signature }];
      for (const body of bodies) {
        const res = await request(svc.url).post("/auth/login").send(body).expect(400);
        expect(res.body.errors).to.be.an("array").that.is.not.empty;
      }
      // None of them consumed the challenge.
      await request(svc.url).post("/auth/login").send({ message, signature }).expect(200);
    });

    it("login with a message that is not EIP-4361", async function () {
      const w = Wallet.createRandom();
      const text = "please let me in";
      const res = await postLogin(text, w, 400);
      expect(res.body.message).to.contain("not an EIP-4361");
    });
  });

  describe("bearer tokens", function () {
    it("refuses a missing token with 401 and a WWW-Authenticate challenge", async function () {
      const res = await request(svc.url).get("/auth/me").expect(401);
      expect(res.headers["www-authenticate"]).to.equal('Bearer realm="scf-ledger"');
      expect(res.body.message).to.contain("missing bearer token");
    });

    it("refuses garbage, another scheme and unknown tokens with 401 invalid_token", async function () {
      const headers = ["Bearer garbage", "Basic dXNlcjpwYXNz", "Bearer " + "A".repeat(43), "Bearer"];
      for (const h of headers) {
        const res = await request(svc.url).get("/auth/me").set("Authorization", h).expect(401);
        expect(res.headers["www-authenticate"]).to.match(/^Bearer realm="scf-ledger", error="invalid_token"/);
      }
    });

    it("refuses an expired session", async function () {
      const w = Wallet.createRandom();
      const { accessToken } = await login(svc.url, w);
      await request(svc.url).get("/auth/me").set(bearer(accessToken)).expect(200);
      await dbWrite((m) => m.update(SessionEntity, { tokenHash: hashSessionToken(accessToken) }, { expiresAt: nowSec() - 1 }));
      // An edit this process did not make (another replica, an operator) is seen within CALLER_CACHE_MS.
      await new Promise((r) => setTimeout(r, env.config.CALLER_CACHE_MS + 50));
      const res = await request(svc.url).get("/auth/me").set(bearer(accessToken)).expect(401);
      expect(res.body.message).to.contain("bearer token expired");
      expect(res.headers["www-authenticate"]).to.contain('error="invalid_token"');
    });

    it("logout ends only that session", async function () {
      const w = Wallet.createRandom();
      const t1 = await signIn(svc.url, w);
      const t2 = await signIn(svc.url, w);
      await request(svc.url).post("/auth/logout").set(bearer(t1)).expect(204);
      const res = await request(svc.url).get("/auth/me").set(bearer(t1)).expect(401);
      expect(res.body.message).to.contain("not valid");
      await request(svc.url).post("/auth/logout").set(bearer(t1)).expect(401);
      await request(svc.url).get("/auth/me").set(bearer(t2)).expect(200);
    });

    it("logout without a token is 401", async function () {
      await request(svc.url).post("/auth/logout").expect(401);
    });
  });

  describe("roles from the ledger", function () {
    async function register(member: string, roles: number): Promise<void> {
      const kycExpiry = (await chain.provider.getBlock("latest"))!.timestamp + 365 * 86400;
      const registry = env.ledger.registry.connect(env.keys.operator);
      await (await registry.register(member, roles, kycExpiry, "0x434e", keccakId(`entity-${member}`))).wait();
      await svc.app.get(IndexerService).catchUp();
    }

    it("shows a registered member's roles", async function () {
      const w = Wallet.createRandom();
      await register(w.address, 1 | 4); // supplier + financier
      const token = await signIn(svc.url, w);
      const me = await request(svc.url).get("/auth/me").set(bearer(token)).expect(200);
      expect(me.body).to.deep.equal({
        address: w.address,
        roles: 5,
        roleNames: ["supplier", "financier"],
        verifiedMember: true,
        complianceOfficer: false,
        access: ["supplier", "financier", "member"],
      });
    });

    it("drops verifiedMember and the roles of a member suspended on-chain, on the next request", async function () {
      const w = Wallet.createRandom();
      await register(w.address, 2); // buyer
      const token = await signIn(svc.url, w);
      const before = await request(svc.url).get("/auth/me").set(bearer(token)).expect(200);
      expect(before.body.verifiedMember).to.equal(true);
      expect(before.body.roles).to.equal(2);

      const registry = env.ledger.registry.connect(env.keys.compliance);
      await (await registry.suspend(w.address, keccakId("SANCTIONS_HIT"))).wait();
      await svc.app.get(IndexerService).catchUp();

      const after = await request(svc.url).get("/auth/me").set(bearer(token)).expect(200);
      expect(after.body).to.include({ verifiedMember: false, roles: 0 });
      expect(after.body.roleNames).to.deep.equal([]);
      expect(after.body.access).to.deep.equal([]);
    });

    it("marks an address granted COMPLIANCE_OFFICER by the admin as complianceOfficer", async function () {
      const w = Wallet.createRandom();
      const registry = env.ledger.registry.connect(chain.account(0));
      await (await registry.grantRole(keccakId("COMPLIANCE_OFFICER"), w.address)).wait();
      const token = await signIn(svc.url, w);
      const me = await request(svc.url).get("/auth/me").set(bearer(token)).expect(200);
      expect(me.body).to.include({ complianceOfficer: true, verifiedMember: false, roles: 0 });
      expect(me.body.access).to.deep.equal(["compliance"]);
    });

    it("recognises the service's compliance key, granted the role by the registry's constructor", async function () {
      const token = await signIn(svc.url, env.keys.compliance);
      const me = await request(svc.url).get("/auth/me").set(bearer(token)).expect(200);
      expect(me.body).to.include({ address: env.keys.compliance.address, complianceOfficer: true });
    });
  });

  describe("throttling", function () {
    let strictEnv: TestEnv;
    let strictSvc: RunningService;

    before(async function () {
      // Default: 30 requests per minute per route; sign-in routes get a tenth of it.
      strictEnv = await prepareEnv(chain, { THROTTLE_LIMIT: "30", THROTTLE_TTL_MS: "60000" });
      strictSvc = await startService(strictEnv);
    });
    after(async function () {
      await strictSvc?.close();
      if (strictEnv) await cleanupEnv(strictEnv);
    });

    it("answers 429 to the fourth challenge within the window while other routes still answer", async function () {
      const address = Wallet.createRandom().address;
      for (let i = 0; i < 3; i++) await request(strictSvc.url).post("/auth/challenge").send({ address }).expect(201);
      await request(strictSvc.url).post("/auth/challenge").send({ address }).expect(429);
      for (let i = 0; i < 5; i++) await request(strictSvc.url).get("/health").expect(200);
    });
  });
});
