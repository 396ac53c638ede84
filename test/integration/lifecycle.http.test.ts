/**
 * The HTTP lifecycle (test/support/http-lifecycle.ts) against `hardhat node` under automine. Runs
 * on SQLite and (TEST_DATABASE=postgres) PostgreSQL; test/integration/anvil.test.ts runs the same
 * story on anvil under interval mining.
 */
import { startChain, type TestChain } from "../support/chain";
import { cleanupEnv, prepareEnv, startService, type RunningService, type TestEnv } from "../support/app";
import { runHttpLifecycle } from "../support/http-lifecycle";

describe("Lifecycle over HTTP with participant-held keys", function () {
  this.timeout(600_000);
  let chain: TestChain;
  let env: TestEnv;
  let svc: RunningService;

  before(async function () {
    chain = await startChain();
    env = await prepareEnv(chain);
    svc = await startService(env);
  });
  after(async function () {
    await svc?.close();
    if (env) await cleanupEnv(env);
    await chain?.stop();
  });

  it("onboards, tokenises, accepts, splits to tier 2, finances, repays, and audits cleanly", async function () {
    await runHttpLifecycle(chain, env, svc);
  });
});
