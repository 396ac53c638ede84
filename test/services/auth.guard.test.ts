/**
 * The global access guard on its own: a fake ExecutionContext over routes declared here with the
 * real decorators, fake session and member repositories, a fake compliance-role reader. Also the
 * compliance-role reader's cache, with a fake registry.
 */
import { expect } from "chai";
import { ForbiddenException, HttpException, UnauthorizedException } from "@nestjs/common";
import { Reflector } from "@nestjs/core";
import { ExecutionContextHost } from "@nestjs/core/helpers/execution-context-host";
import { Wallet, keccak256, toUtf8Bytes } from "ethers";
import { Public, RequireRoles, type AuthUser } from "../../services/src/auth/auth.decorators";
import { AuthGuard } from "../../services/src/auth/auth.guard";
import { CallerCache } from "../../services/src/auth/caller-cache";
import { COMPLIANCE_OFFICER_ROLE, ComplianceRoleReader } from "../../services/src/auth/compliance-role.reader";
import type { SessionEntity } from "../../services/src/auth/entities/auth.entity";
import { hashSessionToken, newSessionToken } from "../../services/src/auth/session-token";
import type { ChainService } from "../../services/src/chain/chain.service";
import type { MemberEntity } from "../../services/src/read-model/entities/projections.entity";
import type { IndexerService } from "../../services/src/indexer/indexer.service";

class Routes {
  @Public()
  open() {}

  anyCaller() {}

  @RequireRoles("financier")
  financierOnly() {}

  @RequireRoles("compliance", "auditor")
  complianceOrAuditor() {}

  @RequireRoles("member")
  membersOnly() {}
}

@RequireRoles("auditor")
class AuditRoutes {
  read() {}

  @RequireRoles("supplier")
  supplierHere() {}

  @Public()
  openHere() {}
}

/** Finds rows whose fields equal every given field; counts lookups. */
class FakeRepo<T extends object> {
  lookups = 0;
  constructor(public rows: T[] = []) {}
  async findOneBy(where: object): Promise<T | null> {
    this.lookups++;
    return this.rows.find((r) => Object.entries(where).every(([k, v]) => (r as Record<string, unknown>)[k] === v)) ?? null;
  }
  /** The members reader's lookup (the guard reads members through it). */
  byAddress(address: string): Promise<T | null> {
    return this.findOneBy({ address });
  }
}

class FakeOfficers {
  readonly officers = new Set<string>();
  async isComplianceOfficer(address: string): Promise<boolean> {
    return this.officers.has(address);
  }
}

/** The indexer's membership-change notifications, sent by hand. */
class FakeIndexer {
  private listeners: Array<(accounts: string[] | null) => void> = [];
  onMembersChanged(l: (accounts: string[] | null) => void): void {
    this.listeners.push(l);
  }
  changed(accounts: string[] | null): void {
    for (const l of this.listeners) l(accounts);
  }
}

const nowSec = () => Math.floor(Date.now() / 1000);
const YEAR = 365 * 86400;

function member(address: string, over: Partial<MemberEntity> = {}): MemberEntity {
  return {
    address,
    roles: 1,
    status: "active",
    kycExpiry: nowSec() + YEAR,
    jurisdiction: "CN",
    entityIdHash: "0x" + "11".repeat(32),
    suspensionReason: null,
    registeredBlock: 1,
    updatedBlock: 1,
    ...over,
  } as MemberEntity;
}

interface Outcome {
  allowed?: boolean;
  error?: HttpException;
  user?: AuthUser;
  headers: Record<string, string>;
}

describe("AuthGuard", function () {
  let sessions: FakeRepo<SessionEntity>;
  let members: FakeRepo<MemberEntity>;
  let officers: FakeOfficers;
  let guard: AuthGuard;
  let cache: CallerCache;
  let indexer: FakeIndexer;

  beforeEach(function () {
    sessions = new FakeRepo<SessionEntity>();
    members = new FakeRepo<MemberEntity>();
    officers = new FakeOfficers();
    indexer = new FakeIndexer();
    cache = new CallerCache({ CALLER_CACHE_MS: 2_000 }, indexer as unknown as IndexerService);
    cache.onModuleInit();
    guard = new AuthGuard(new Reflector(), sessions, members, officers, cache);
  });

  /** A live session for a fresh address; returns the token and address. */
  function session(expiresIn = 60): { token: string; address: string } {
    const token = newSessionToken();
    const address = Wallet.createRandom().address;
    sessions.rows.push({ tokenHash: hashSessionToken(token), address, expiresAt: nowSec() + expiresIn, createdAt: nowSec() });
    return { token, address };
  }

  async function call(cls: new () => object, method: string, authorization?: string): Promise<Outcome> {
    const req: { headers: Record<string, string>; user?: AuthUser } = { headers: {} };
    if (authorization !== undefined) req.headers.authorization = authorization;
    const headers: Record<string, string> = {};
    const res = { setHeader: (k: string, v: string) => (headers[k.toLowerCase()] = v) };
    const handler = (cls.prototype as Record<string, () => void>)[method];
    const ctx = new ExecutionContextHost([req, res, () => undefined], cls as never, handler);
    try {
      const allowed = await guard.canActivate(ctx);
      return { allowed, user: req.user, headers };
    } catch (err) {
      if (!(err instanceof HttpException)) throw err;
      return { error: err, user: req.user, headers };
    }
  }

  describe("caller cache (CALLER_CACHE_MS)", function () {
    it("reads a token's session and its member row once, then serves further requests from memory", async function () {
      const { token, address } = session();
      members.rows.push(member(address, { roles: 4 }));
      for (let i = 0; i < 3; i++) expect((await call(Routes, "financierOnly", `Bearer ${token}`)).allowed).to.equal(true);
      expect(sessions.lookups).to.equal(1);
      expect(members.lookups).to.equal(1);
    });

    it("still refuses a cached session once it has expired", async function () {
      const { token } = session(1);
      expect((await call(Routes, "anyCaller", `Bearer ${token}`)).allowed).to.equal(true);
      // Cached now; its expiry passes within the cache's 2 s.
      while (nowSec() < sessions.rows[0].expiresAt) await new Promise((r) => setTimeout(r, 50));
      const out = await call(Routes, "anyCaller", `Bearer ${token}`);
      expect(out.error).to.be.instanceOf(UnauthorizedException);
      expect(out.error!.message).to.contain("bearer token expired");
      expect(sessions.lookups).to.equal(1);
    });

    it("does not remember unknown tokens: a session created a moment later works at once", async function () {
      const token = newSessionToken();
      expect((await call(Routes, "anyCaller", `Bearer ${token}`)).error).to.be.instanceOf(UnauthorizedException);
      sessions.rows.push({ tokenHash: hashSessionToken(token), address: Wallet.createRandom().address, expiresAt: nowSec() + 60, createdAt: nowSec() });
      expect((await call(Routes, "anyCaller", `Bearer ${token}`)).allowed).to.equal(true);
    });

    it("forgets a session signed out here, and a member the indexer reports changed", async function () {
      const { token, address } = session();
      members.rows.push(member(address, { roles: 4 }));
      expect((await call(Routes, "financierOnly", `Bearer ${token}`)).allowed).to.equal(true);

      members.rows[0].status = "suspended";
      indexer.changed([Wallet.createRandom().address]); // someone else: still cached
      expect((await call(Routes, "financierOnly", `Bearer ${token}`)).allowed).to.equal(true);
      indexer.changed([address]);
      expect((await call(Routes, "financierOnly", `Bearer ${token}`)).error).to.be.instanceOf(ForbiddenException);

      members.rows[0].status = "active";
      indexer.changed(null); // a rollback: everything is read again
      expect((await call(Routes, "financierOnly", `Bearer ${token}`)).allowed).to.equal(true);

      sessions.rows.length = 0;
      cache.forgetSession(hashSessionToken(token));
      expect((await call(Routes, "anyCaller", `Bearer ${token}`)).error).to.be.instanceOf(UnauthorizedException);
    });

    it("does not cache a member read that a change overtook", async function () {
      const { token, address } = session();
      members.rows.push(member(address, { roles: 4 }));
      const slow = members.findOneBy.bind(members);
      members.findOneBy = async (where: object) => {
        const row = { ...(await slow(where))! };
        members.rows[0].status = "suspended";
        indexer.changed([address]); // indexed while the read was in flight
        return row as MemberEntity;
      };
      expect((await call(Routes, "financierOnly", `Bearer ${token}`)).allowed).to.equal(true);
      members.findOneBy = slow;
      expect((await call(Routes, "financierOnly", `Bearer ${token}`)).error).to.be.instanceOf(ForbiddenException);
    });

    it("with CALLER_CACHE_MS=0 reads both on every request", async function () {
      guard = new AuthGuard(new Reflector(), sessions, members, officers, new CallerCache({ CALLER_CACHE_MS: 0 }));
      const { token, address } = session();
      members.rows.push(member(address));
      for (let i = 0; i < 3; i++) await call(Routes, "anyCaller", `Bearer ${token}`);
      expect(sessions.lookups).to.equal(3);
      expect(members.lookups).to.equal(3);
    });
  });

  describe("authentication", function () {
    it("lets a @Public() route through without a token and without reading sessions", async function () {
      const out = await call(Routes, "open");
      expect(out.allowed).to.equal(true);
      expect(sessions.lookups).to.equal(0);
      // Public on the method wins over a role requirement on its class.
      expect((await call(AuditRoutes, "openHere")).allowed).to.equal(true);
    });

    it("refuses a request without Authorization: 401 with a bare Bearer challenge", async function () {
      const out = await call(Routes, "anyCaller");
      expect(out.error).to.be.instanceOf(UnauthorizedException);
      expect(out.error!.message).to.contain("missing bearer token");
      expect(out.headers["www-authenticate"]).to.equal('Bearer realm="scf-ledger"');
    });

    for (const header of ["Basic dXNlcjpwYXNz", "Bearer", "Bearer short", "Bearer " + "x".repeat(44), "Token abc"]) {
      it(`refuses "${header.slice(0, 20)}" as invalid_token without a database lookup`, async function () {
        const out = await call(Routes, "anyCaller", header);
        expect(out.error).to.be.instanceOf(UnauthorizedException);
        expect(out.headers["www-authenticate"]).to.match(/^Bearer realm="scf-ledger", error="invalid_token", error_description="[^"]+"$/);
        expect(sessions.lookups).to.equal(0);
      });
    }

    it("refuses a well-formed token that has no session", async function () {
      const out = await call(Routes, "anyCaller", `Bearer ${newSessionToken()}`);
      expect(out.error).to.be.instanceOf(UnauthorizedException);
      expect(out.error!.message).to.contain("not valid");
      expect(out.headers["www-authenticate"]).to.contain('error="invalid_token"');
      expect(sessions.lookups).to.equal(1);
    });

    it("refuses an expired session, and one expiring this very second", async function () {
      for (const expiresIn of [-10, 0]) {
        const { token } = session(expiresIn);
        const out = await call(Routes, "anyCaller", `Bearer ${token}`);
        expect(out.error).to.be.instanceOf(UnauthorizedException);
        expect(out.error!.message).to.contain("bearer token expired");
        expect(out.user).to.equal(undefined);
      }
    });

    it("accepts a live session, with the scheme in any case, and attaches the caller to the request", async function () {
      const { token, address } = session();
      for (const scheme of ["Bearer", "bearer", "BEARER"]) {
        const out = await call(Routes, "anyCaller", `${scheme} ${token}`);
        expect(out.allowed).to.equal(true);
        expect(out.user).to.deep.equal({ address, roles: 0, verifiedMember: false, complianceOfficer: false });
      }
    });

    it("refuses non-HTTP contexts instead of waving them through", async function () {
      const ctx = new ExecutionContextHost([], Routes as never, Routes.prototype.anyCaller);
      ctx.setType("rpc");
      expect(await guard.canActivate(ctx)).to.equal(false);
    });
  });

  describe("the caller's roles", function () {
    async function userFor(m: Partial<MemberEntity> | null, officer = false): Promise<AuthUser> {
      const { token, address } = session();
      if (m) members.rows.push(member(address, m));
      if (officer) officers.officers.add(address);
      const out = await call(Routes, "anyCaller", `Bearer ${token}`);
      expect(out.allowed).to.equal(true);
      return out.user!;
    }

    it("an address that is not a member has no roles", async function () {
      expect(await userFor(null)).to.include({ roles: 0, verifiedMember: false, complianceOfficer: false });
    });

    it("an active member with KYC in the future is verified with its role mask", async function () {
      expect(await userFor({ roles: 1 | 8 })).to.include({ roles: 9, verifiedMember: true });
    });

    it("a member whose KYC expired, or expires this second, has no roles", async function () {
      expect(await userFor({ roles: 4, kycExpiry: nowSec() - 1 })).to.include({ roles: 0, verifiedMember: false });
      expect(await userFor({ roles: 4, kycExpiry: nowSec() })).to.include({ roles: 0, verifiedMember: false });
    });

    it("a suspended member has no roles even with valid KYC", async function () {
      expect(await userFor({ roles: 2, status: "suspended" })).to.include({ roles: 0, verifiedMember: false });
    });

    it("complianceOfficer comes from the registry role, independent of membership", async function () {
      expect(await userFor(null, true)).to.include({ complianceOfficer: true, verifiedMember: false, roles: 0 });
      expect(await userFor({ roles: 1 }, true)).to.include({ complianceOfficer: true, verifiedMember: true, roles: 1 });
    });
  });

  describe("@RequireRoles", function () {
    async function as(m: Partial<MemberEntity> | null, cls: new () => object, method: string, officer = false) {
      const { token, address } = session();
      if (m) members.rows.push(member(address, m));
      if (officer) officers.officers.add(address);
      return { address, ...(await call(cls, method, `Bearer ${token}`)) };
    }

    it("lets any authenticated caller through a route without requirements", async function () {
      expect((await as(null, Routes, "anyCaller")).allowed).to.equal(true);
    });

    it("lets a verified financier through a financier route", async function () {
      expect((await as({ roles: 4 }, Routes, "financierOnly")).allowed).to.equal(true);
    });

    it("refuses a supplier on a financier route: 403 naming the role needed and the roles held", async function () {
      const out = await as({ roles: 1 }, Routes, "financierOnly");
      expect(out.error).to.be.instanceOf(ForbiddenException);
      expect(out.error!.getStatus()).to.equal(403);
      expect(out.error!.message).to.contain("requires the role financier");
      expect(out.error!.message).to.contain(`${out.address} holds supplier, member`);
    });

    it("refuses a suspended financier, saying it is not a verified member", async function () {
      const out = await as({ roles: 4, status: "suspended" }, Routes, "financierOnly");
      expect(out.error).to.be.instanceOf(ForbiddenException);
      expect(out.error!.message).to.contain("holds none");
      expect(out.error!.message).to.contain("not a verified member");
    });

    it("accepts any one of several listed roles", async function () {
      expect((await as(null, Routes, "complianceOrAuditor", true)).allowed).to.equal(true);
      expect((await as({ roles: 8 }, Routes, "complianceOrAuditor")).allowed).to.equal(true);
      const out = await as({ roles: 1 | 2 | 4 }, Routes, "complianceOrAuditor");
      expect(out.error).to.be.instanceOf(ForbiddenException);
      expect(out.error!.message).to.contain("requires the role compliance or auditor");
    });

    it('"member" needs verified membership, whatever the roles', async function () {
      expect((await as({ roles: 2 }, Routes, "membersOnly")).allowed).to.equal(true);
      expect((await as({ roles: 2, kycExpiry: nowSec() - 1 }, Routes, "membersOnly")).error).to.be.instanceOf(ForbiddenException);
      expect((await as(null, Routes, "membersOnly", true)).error).to.be.instanceOf(ForbiddenException);
    });

    it("applies a class-level requirement to its routes, and a method-level one overrides it", async function () {
      expect((await as({ roles: 8 }, AuditRoutes, "read")).allowed).to.equal(true);
      expect((await as({ roles: 1 }, AuditRoutes, "read")).error).to.be.instanceOf(ForbiddenException);
      expect((await as({ roles: 1 }, AuditRoutes, "supplierHere")).allowed).to.equal(true);
      expect((await as({ roles: 8 }, AuditRoutes, "supplierHere")).error).to.be.instanceOf(ForbiddenException);
    });

    it("authenticates before judging roles: no token on a role route is 401, not 403", async function () {
      const out = await call(Routes, "financierOnly");
      expect(out.error).to.be.instanceOf(UnauthorizedException);
    });
  });
});

describe("ComplianceRoleReader", function () {
  let calls: Array<[string, string]>;
  let answer: (account: string) => Promise<boolean>;
  let reader: ComplianceRoleReader;
  let clock: number;
  let warnings: string[];

  beforeEach(function () {
    calls = [];
    answer = async () => true;
    const chain = {
      contracts: {
        registry: {
          hasRole: (role: string, account: string) => {
            calls.push([role, account]);
            return answer(account);
          },
        },
      },
    };
    reader = new ComplianceRoleReader(chain as unknown as ChainService);
    clock = 1_000_000;
    reader.now = () => clock;
    warnings = [];
    (reader as unknown as { logger: { warn(m: string): void } }).logger = { warn: (m) => warnings.push(m) };
  });

  it("asks the registry for keccak256('COMPLIANCE_OFFICER') of the address", async function () {
    const a = Wallet.createRandom().address;
    expect(await reader.isComplianceOfficer(a)).to.equal(true);
    expect(calls).to.deep.equal([[COMPLIANCE_OFFICER_ROLE, a]]);
    expect(COMPLIANCE_OFFICER_ROLE).to.equal(keccak256(toUtf8Bytes("COMPLIANCE_OFFICER")));
  });

  it("caches each address's answer for TTL_MS, then reads again", async function () {
    const a = Wallet.createRandom().address;
    const b = Wallet.createRandom().address;
    await reader.isComplianceOfficer(a);
    clock += ComplianceRoleReader.TTL_MS - 1;
    await reader.isComplianceOfficer(a);
    expect(calls).to.have.length(1);
    await reader.isComplianceOfficer(b);
    expect(calls).to.have.length(2);
    answer = async () => false; // revoked on-chain
    clock += 1;
    expect(await reader.isComplianceOfficer(a)).to.equal(false);
    expect(calls).to.have.length(3);
  });

  it("shares one chain read among concurrent requests for one address", async function () {
    const a = Wallet.createRandom().address;
    const results = await Promise.all([1, 2, 3, 4].map(() => reader.isComplianceOfficer(a)));
    expect(results).to.deep.equal([true, true, true, true]);
    expect(calls).to.have.length(1);
  });

  it("fails closed when the chain cannot be read, and does not ask again within the TTL", async function () {
    const a = Wallet.createRandom().address;
    answer = async () => {
      throw new Error("connect ECONNREFUSED 127.0.0.1:8545");
    };
    expect(await reader.isComplianceOfficer(a)).to.equal(false);
    expect(await reader.isComplianceOfficer(a)).to.equal(false);
    expect(calls).to.have.length(1);
    expect(warnings).to.have.length(1);
    expect(warnings[0]).to.contain("ECONNREFUSED");
  });
});
