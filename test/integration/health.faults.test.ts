/**
 * /health under faults, against real processes: a `hardhat node` frozen with SIGSTOP, PostgreSQL
 * backends killed with pg_terminate_backend, an indexer left behind, an outbox that is not sent.
 * Readiness must answer within HEALTH_CHECK_TIMEOUT_MS with 503 naming the failing part, liveness
 * must stay 200, and readiness must come back by itself once the fault ends.
 */
import { expect } from "chai";
import { id as keccakId } from "ethers";
import { DataSource } from "typeorm";
import { getDataSourceToken } from "@nestjs/typeorm";
import { indexerStartBlock } from "../../services/src/indexer/ledger-log";
import { TxSenderService } from "../../services/src/outbox/tx-sender.service";
import { freePort, startChain, type TestChain } from "../support/chain";
import { PG_ADMIN_URL, cleanupEnv, prepareEnv, startService, type RunningService, type TestEnv } from "../support/app";

const TIMEOUT_MS = 1_000;
/** What a probe may take beyond the check timeout: HTTP, JSON and a busy 2-core machine. */
const SLACK_MS = 700;

interface Probe {
  status: number;
  ms: number;
  body: { status: string | number; code?: string; info?: Record<string, Record<string, unknown>>; error?: Record<string, { message?: string }> };
}

async function probe(url: string, path: string): Promise<Probe> {
  const started = Date.now();
  const res = await fetch(`${url}${path}`);
  const body = (await res.json()) as Probe["body"];
  return { status: res.status, ms: Date.now() - started, body };
}

async function untilReady(url: string, limitMs: number): Promise<number> {
  const started = Date.now();
  for (;;) {
    const p = await probe(url, "/health/ready");
    if (p.status === 200) return Date.now() - started;
    if (Date.now() - started > limitMs) throw new Error(`not ready after ${limitMs} ms: ${JSON.stringify(p.body)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const failing = (p: Probe) => Object.keys(p.body.error ?? {}).sort();

describe("Health: liveness and readiness under faults", function () {
  let chain: TestChain;
  let env: TestEnv;
  let svc: RunningService;

  before(async function () {
    chain = await startChain();
    env = await prepareEnv(chain, { HEALTH_CHECK_TIMEOUT_MS: String(TIMEOUT_MS) });
    svc = await startService(env);
  });
  after(async function () {
    chain?.process.kill("SIGCONT");
    await svc?.close();
    if (env) await cleanupEnv(env);
    await chain?.stop();
  });

  it("reports every part up, with the indexer's lag and the outbox's oldest pending age against their thresholds", async function () {
    const ready = await probe(svc.url, "/health/ready");
    expect(ready.status).to.equal(200);
    expect(ready.body.status).to.equal("ok");
    expect(Object.keys(ready.body.info!).sort()).to.deep.equal(["chain", "database", "indexer", "outbox"]);
    expect(ready.body.info!.chain).to.include({ status: "up", chainId: "31337" });
    expect(ready.body.info!.indexer).to.include({ status: "up", maxLag: 100 });
    expect(ready.body.info!.indexer.lag).to.be.a("number");
    expect(ready.body.info!.outbox).to.include({ status: "up", pending: 0, oldestPendingAgeMs: 0, maxAgeMs: 300_000 });
    const legacy = await probe(svc.url, "/health");
    expect(legacy.status).to.equal(200);
    expect(Object.keys(legacy.body.info!).sort()).to.deep.equal(["chain", "database", "indexer", "outbox"]);
    const live = await probe(svc.url, "/health/live");
    expect(live).to.deep.include({ status: 200, body: { status: "ok" } });
  });

  it("declares liveness and readiness in OpenAPI, readiness with its 503", async function () {
    const doc = (await (await fetch(`${svc.url}/docs-json`)).json()) as { paths: Record<string, { get?: { responses: object } }> };
    expect(doc.paths["/health/live"].get!.responses).to.include.keys(["200"]).and.not.to.have.property("503");
    for (const path of ["/health/ready", "/health"]) expect(doc.paths[path].get!.responses).to.include.keys(["200", "503"]);
  });

  it("is never rate-limited: orchestrators probe more often than THROTTLE_LIMIT allows", async function () {
    const e = await prepareEnv(chain, { THROTTLE_LIMIT: "5", THROTTLE_TTL_MS: "60000" });
    const s = await startService(e);
    try {
      for (let i = 0; i < 8; i++) {
        expect((await probe(s.url, "/health/ready")).status).to.equal(200);
        expect((await probe(s.url, "/health/live")).status).to.equal(200);
      }
    } finally {
      await s.close();
      await cleanupEnv(e);
    }
  });

  it("with the chain process stopped (SIGSTOP): readiness 503 naming the chain within the timeout, liveness 200, ready again after SIGCONT", async function () {
    chain.process.kill("SIGSTOP");
    let ready: Probe, legacy: Probe, live: Probe;
    try {
      ready = await probe(svc.url, "/health/ready");
      legacy = await probe(svc.url, "/health");
      live = await probe(svc.url, "/health/live");
    } finally {
      chain.process.kill("SIGCONT");
    }
    const recoveredMs = await untilReady(svc.url, 15_000);
    console.log(`      [fault] chain SIGSTOP: /health/ready ${ready.status} in ${ready.ms} ms ${JSON.stringify(ready.body.error)}; ` +
      `/health ${legacy.status} in ${legacy.ms} ms; /health/live ${live.status} in ${live.ms} ms; ready ${recoveredMs} ms after SIGCONT`);

    for (const p of [ready, legacy]) {
      expect(p.status).to.equal(503);
      // A problem document (one error shape), the terminus report kept in its members.
      expect(p.body).to.include({ status: 503, code: "ServiceUnavailable" });
      expect(failing(p)).to.deep.equal(["chain"]);
      expect(p.body.error!.chain.message).to.contain(`no answer within ${TIMEOUT_MS} ms`);
      expect(p.body.info).to.have.keys(["database", "indexer", "outbox"]);
      expect(p.ms).to.be.below(TIMEOUT_MS + SLACK_MS);
    }
    expect(live.status).to.equal(200);
    expect(live.ms).to.be.below(SLACK_MS);
  });

  it("with the indexer further behind than HEALTH_MAX_INDEXER_LAG_BLOCKS: 503 naming the indexer and its lag", async function () {
    // The indexer is off, so its checkpoint stays below the deployment while blocks are mined.
    const e = await prepareEnv(chain, { INDEXER_ENABLED: "false", HEALTH_CHECK_TIMEOUT_MS: String(TIMEOUT_MS) });
    const lag0 = (await chain.provider.getBlockNumber()) - indexerStartBlock(e.ledger.record.blockNumber);
    const maxLag = lag0 + 2;
    e.config = { ...e.config, HEALTH_MAX_INDEXER_LAG_BLOCKS: maxLag };
    const s = await startService(e);
    try {
      const before = await probe(s.url, "/health/ready");
      expect(before.status, JSON.stringify(before.body)).to.equal(200);
      expect(before.body.info!.indexer).to.include({ lag: lag0, maxLag });
      for (let i = 0; i < 3; i++) await chain.provider.send("evm_mine", []);
      const behind = await probe(s.url, "/health/ready");
      expect(behind.status).to.equal(503);
      expect(failing(behind)).to.deep.equal(["indexer"]);
      expect(behind.body.error!.indexer).to.include({ status: "down", lag: lag0 + 3, maxLag });
      expect(behind.body.error!.indexer.message).to.contain(`indexer is ${lag0 + 3} blocks behind the confirmed head (threshold ${maxLag})`);
    } finally {
      await s.close();
      await cleanupEnv(e);
    }
  });

  it("with a transaction pending longer than HEALTH_MAX_OUTBOX_AGE_MS: 503 naming the outbox and the age", async function () {
    const e = await prepareEnv(chain, { SENDER_ENABLED: "false", HEALTH_MAX_OUTBOX_AGE_MS: "1000", HEALTH_CHECK_TIMEOUT_MS: String(TIMEOUT_MS) });
    const s = await startService(e);
    try {
      const ds = s.app.get<DataSource>(getDataSourceToken());
      const data = e.ledger.registry.interface.encodeFunctionData("register", [chain.account(3).address, 1, 4_000_000_000, "0x434e", keccakId("x")]);
      await ds.transaction((m) =>
        s.app.get(TxSenderService).enqueue(m, { signer: "operator", to: e.ledger.record.contracts.ParticipantRegistry, data, kind: "registry.register" }),
      );
      const fresh = await probe(s.url, "/health/ready");
      expect(fresh.status).to.equal(200);
      expect(fresh.body.info!.outbox).to.include({ pending: 1 });
      await new Promise((r) => setTimeout(r, 1_200));
      const stale = await probe(s.url, "/health/ready");
      expect(stale.status).to.equal(503);
      expect(failing(stale)).to.deep.equal(["outbox"]);
      expect(stale.body.error!.outbox).to.include({ status: "down", pending: 1, maxAgeMs: 1000 });
      expect(stale.body.error!.outbox.message).to.match(/oldest pending transaction waits for \d+ ms \(threshold 1000 ms\)/);
    } finally {
      await s.close();
      await cleanupEnv(e);
    }
  });

  it("checks Redis too where rate-limit counters live there, and names it when it does not answer", async function () {
    const up = await prepareEnv(chain, { REDIS_URL: process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379", HEALTH_CHECK_TIMEOUT_MS: String(TIMEOUT_MS) });
    const down = await prepareEnv(chain, { REDIS_URL: `redis://127.0.0.1:${await freePort()}`, HEALTH_CHECK_TIMEOUT_MS: String(TIMEOUT_MS) });
    const withRedis = await startService(up);
    const withoutRedis = await startService(down);
    try {
      const ok = await probe(withRedis.url, "/health/ready");
      expect(ok.status).to.equal(200);
      expect(ok.body.info!.redis).to.include({ status: "up" });
      const refused = await probe(withoutRedis.url, "/health/ready");
      console.log(`      [fault] Redis unreachable: /health/ready ${refused.status} in ${refused.ms} ms ${JSON.stringify(refused.body.error)}`);
      expect(refused.status).to.equal(503);
      expect(failing(refused)).to.deep.equal(["redis"]);
      expect(refused.body.error!.redis.message).to.contain("Redis (rate-limit counters) did not answer a ping");
      expect(refused.ms).to.be.below(TIMEOUT_MS + SLACK_MS);
      // Rate limits fail closed: a sign-in that cannot be counted is refused, not let through.
      const started = Date.now();
      const signIn = await fetch(`${withoutRedis.url}/auth/challenge`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ address: chain.account(1).address }),
      });
      console.log(`      [fault] Redis unreachable: POST /auth/challenge ${signIn.status} in ${Date.now() - started} ms`);
      expect(signIn.status).to.be.at.least(500);
      // Without REDIS_URL (the embedded default) there is no Redis to check.
      expect((await probe(svc.url, "/health/ready")).body.info).to.not.have.property("redis");
    } finally {
      await withRedis.close();
      await withoutRedis.close();
      await cleanupEnv(up);
      await cleanupEnv(down);
    }
  });

  it("with PostgreSQL terminating the service's connections: readiness answers 200 or 503 naming database parts, in time, and recovers", async function () {
    // pg_terminate_backend is PostgreSQL's: this service runs on PostgreSQL whatever TEST_DATABASE says.
    const pgEnv = await prepareEnv(chain, { HEALTH_CHECK_TIMEOUT_MS: String(TIMEOUT_MS) }, { postgres: true });
    const pg = await startService(pgEnv);
    const dbName = new URL(pgEnv.db.url).pathname.slice(1);
    const admin = new DataSource({ type: "postgres", url: PG_ADMIN_URL });
    await admin.initialize();
    const probes: Probe[] = [];
    let killed = 0;
    let recoveredMs: number;
    try {
      const until = Date.now() + 4_000;
      const killer = (async () => {
        while (Date.now() < until) {
          const rows = (await admin.query(
            "SELECT pg_terminate_backend(pid) AS t FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
            [dbName],
          )) as unknown[];
          killed += rows.length;
          await new Promise((r) => setTimeout(r, 150));
        }
      })();
      while (Date.now() < until) probes.push(await probe(pg.url, "/health/ready"));
      await killer;
      await admin.destroy();
      recoveredMs = await untilReady(pg.url, 10_000);
    } finally {
      if (admin.isInitialized) await admin.destroy();
      await pg.close();
      await cleanupEnv(pgEnv);
    }
    const refused = probes.filter((p) => p.status !== 200);
    console.log(`      [fault] pg_terminate_backend x${killed}: ${probes.length} probes, ${probes.length - refused.length} answered 200, ` +
      `${refused.length} answered ${[...new Set(refused.map((p) => p.status))].join("/") || "-"} naming ` +
      `${[...new Set(refused.flatMap(failing))].join(", ") || "-"}; slowest ${Math.max(...probes.map((p) => p.ms))} ms; ` +
      `ready ${recoveredMs} ms after the last termination; e.g. ${JSON.stringify(refused[0]?.body.error ?? null)}`);

    expect(killed).to.be.greaterThan(0);
    for (const p of probes) {
      expect(p.status).to.be.oneOf([200, 503]);
      expect(p.ms).to.be.below(TIMEOUT_MS + SLACK_MS);
      if (p.status === 503) {
        expect(failing(p)).to.not.be.empty;
        for (const part of failing(p)) expect(["database", "indexer", "outbox"]).to.include(part);
        expect(p.body.info).to.have.property("chain");
      }
    }
    expect(recoveredMs).to.be.below(5_000);
  });
});
