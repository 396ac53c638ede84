/**
 * Sign-in rate limits behind a proxy and across replicas, against the real service: a trusted
 * proxy hop gives each forwarded client its own allowance, an untrusted X-Forwarded-For is
 * ignored, login attempts for one address share one allowance from every IP, and two service
 * instances with one REDIS_URL share one counter (Redis at 127.0.0.1:6379).
 *
 * THROTTLE_LIMIT=30 makes the sign-in allowance 3 per minute, per IP and per address.
 */
import { randomBytes } from "node:crypto";
import { expect } from "chai";
import { Wallet } from "ethers";
import request from "supertest";
import { startChain, type TestChain } from "../support/chain";
import { cleanupEnv, prepareEnv, startService, type RunningService, type TestEnv } from "../support/app";

const STRICT = { THROTTLE_LIMIT: "30", THROTTLE_TTL_MS: "60000" };
const REDIS_URL = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";

/** A client address no other test (or earlier run sharing Redis) uses. */
const clientIp = () => `10.${[...randomBytes(3)].join(".")}`;

describe("Rate limits: proxy hops, per address, shared in Redis", function () {
  let chain: TestChain;
  const running: Array<{ env: TestEnv; svc: RunningService }> = [];

  async function start(overrides: Record<string, string>): Promise<RunningService> {
    const env = await prepareEnv(chain, { ...STRICT, ...overrides });
    const svc = await startService(env);
    running.push({ env, svc });
    return svc;
  }

  const challenge = (svc: RunningService, ip: string, address = Wallet.createRandom().address) =>
    request(svc.url).post("/auth/challenge").set("X-Forwarded-For", ip).send({ address });

  /** A challenge's message for `address`, asked from a client address of its own. */
  async function messageFor(svc: RunningService, address: string): Promise<string> {
    return ((await challenge(svc, clientIp(), address).expect(201)).body as { message: string }).message;
  }

  before(async function () {
    chain = await startChain();
  });
  after(async function () {
    for (const { env, svc } of running) {
      await svc.close();
      await cleanupEnv(env);
    }
    await chain?.stop();
  });

  describe("behind one trusted proxy (TRUST_PROXY_HOPS=1)", function () {
    let svc: RunningService;
    before(async function () {
      svc = await start({ TRUST_PROXY_HOPS: "1" });
    });

    it("gives two clients with different X-Forwarded-For separate allowances", async function () {
      const [a, b] = [clientIp(), clientIp()];
      for (let i = 0; i < 3; i++) await challenge(svc, a).expect(201);
      const refused = await challenge(svc, a).expect(429);
      expect(refused.headers["retry-after"]).to.match(/^\d+$/);
      expect(refused.body.message).to.match(/^too many requests from this client \(3 per 60 s on this route\); try again in \d+ s$/);
      for (let i = 0; i < 3; i++) await challenge(svc, b).expect(201);
      await challenge(svc, b).expect(429);
    });

    it("believes only the hop it trusts: a client cannot pick its address by prepending to X-Forwarded-For", async function () {
      const real = clientIp();
      for (let i = 0; i < 3; i++) await challenge(svc, `${clientIp()}, ${real}`).expect(201);
      await challenge(svc, `${clientIp()}, ${real}`).expect(429);
    });

    it("limits login attempts per address across IPs, while other addresses from the same IP still get through", async function () {
      const victim = Wallet.createRandom();
      const message = await messageFor(svc, victim.address);
      const wrong = await Wallet.createRandom().signMessage(message);
      for (let i = 0; i < 3; i++) {
        const res = await request(svc.url).post("/auth/login").set("X-Forwarded-For", clientIp()).send({ message, signature: wrong }).expect(401);
        expect(res.body.message).to.contain("signature does not match");
      }
      const fresh = clientIp();
      // A fourth IP, even with the right signature: the address's allowance is spent.
      const spent = await request(svc.url)
        .post("/auth/login")
        .set("X-Forwarded-For", fresh)
        .send({ message, signature: await victim.signMessage(message) })
        .expect(429);
      expect(spent.body.message).to.contain(`too many sign-in attempts for address ${victim.address.toLowerCase()} from any client (3 per 60 s)`);

      const other = Wallet.createRandom();
      const c = await request(svc.url).post("/auth/challenge").set("X-Forwarded-For", fresh).send({ address: other.address }).expect(201);
      const ok = await request(svc.url)
        .post("/auth/login")
        .set("X-Forwarded-For", fresh)
        .send({ message: c.body.message, signature: await other.signMessage(c.body.message) })
        .expect(200);
      expect(ok.body.address).to.equal(other.address);
    });
  });

  describe("without a trusted proxy (the default)", function () {
    it("ignores X-Forwarded-For: every forwarded client shares the connection's allowance", async function () {
      const svc = await start({});
      for (let i = 0; i < 3; i++) await challenge(svc, clientIp()).expect(201);
      await challenge(svc, clientIp()).expect(429);
    });
  });

  describe("two instances sharing REDIS_URL", function () {
    it("count one client's sign-ins in one counter, wherever the load balancer sends them", async function () {
      const one = await start({ TRUST_PROXY_HOPS: "1", REDIS_URL });
      const two = await start({ TRUST_PROXY_HOPS: "1", REDIS_URL });
      const ip = clientIp();
      await challenge(one, ip).expect(201);
      await challenge(two, ip).expect(201);
      await challenge(one, ip).expect(201);
      await challenge(two, ip).expect(429);
      await challenge(one, ip).expect(429);
      // Another client is untouched on both.
      const other = clientIp();
      await challenge(two, other).expect(201);
      await challenge(one, other).expect(201);
    });

    it("share the per-address login allowance too", async function () {
      const one = running[running.length - 2].svc;
      const two = running[running.length - 1].svc;
      const w = Wallet.createRandom();
      const message = await messageFor(one, w.address);
      const wrong = await Wallet.createRandom().signMessage(message);
      for (const svc of [one, two, one]) {
        await request(svc.url).post("/auth/login").set("X-Forwarded-For", clientIp()).send({ message, signature: wrong }).expect(401);
      }
      await request(two.url).post("/auth/login").set("X-Forwarded-For", clientIp()).send({ message, signature: wrong }).expect(429);
    });
  });
});
