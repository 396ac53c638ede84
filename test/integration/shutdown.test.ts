/**
 * Graceful shutdown is bounded and loses nothing (a regression test for a shutdown stall): a client whose
 * request was still waiting (`?wait=true`) when the service got SIGTERM used to keep the process
 * alive indefinitely — Nest stopped the sender first, so the request could never finish, and the
 * HTTP server waited for it. Now the server stops accepting, gives requests in flight
 * SHUTDOWN_GRACE_MS, cuts them, then stops the workers; the accepted act stays pending in the
 * database and is relayed by the next start.
 */
import { expect } from "chai";
import { Wallet, id as keccakId } from "ethers";
import { signIn, bearer } from "../support/auth";
import { startChain, type TestChain } from "../support/chain";
import { cleanupEnv, prepareEnv, type TestEnv } from "../support/app";
import { spawnService, type ServiceProcess } from "../support/process";
import { signTypedData, type ActTypedData } from "../../shared/client";
import { entityIdHash } from "../../services/src/onboarding/onboarding.service";

const DAY_MS = 86_400_000;

type TypedData = ActTypedData;

describe("Graceful shutdown (service process, SIGTERM)", function () {
  this.timeout(300_000);
  let chain: TestChain;
  let env: TestEnv;
  let svc: ServiceProcess | undefined;

  before(async function () {
    chain = await startChain();
    env = await prepareEnv(chain, { LOG_LEVEL: "error", SHUTDOWN_GRACE_MS: "1500", KYC_JOB_INTERVAL_MS: "3600000" });
  });
  after(async function () {
    await svc?.kill();
    await chain?.stop();
    if (env) await cleanupEnv(env);
  });

  it("answers with Keep-Alive longer than clients' idle timeouts (no ECONNRESET race on reused sockets)", async function () {
    svc = await spawnService(env.env);
    const res = await fetch(`${svc.url}/health`);
    expect(res.headers.get("keep-alive")).to.equal("timeout=65");
    await svc.kill();
  });

  it("exits within the grace period while a ?wait=true request is still waiting; the act is relayed after the restart", async function () {
    // The sender is off in the first run, so the waiting request can never complete by itself.
    svc = await spawnService({ ...env.env, SENDER_ENABLED: "false" });
    const supplier = Wallet.createRandom();
    const buyer = Wallet.createRandom();
    const operator = env.ledger.registry.connect(env.keys.operator);
    const year = Math.floor(Date.now() / 1000) + 365 * 86_400;
    // Invoices name the parties' registered entity ids: register both with a unified social credit code.
    await (await operator.register(supplier.address, 1, year, "0x434e", entityIdHash("USCC", "91330100MA2B3C4D5E"))).wait();
    await (await operator.register(buyer.address, 2, year, "0x434e", entityIdHash("USCC", "91310000MA1FL5XY2K"))).wait();
    let token = "";
    for (let i = 0; !token; i++) {
      try {
        token = await signIn(svc.url, supplier);
      } catch (err) {
        if (i > 100) throw err; // the indexer has not seen the registration yet
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    const body = {
      debtor: buyer.address,
      invoiceNumber: "SHUTDOWN-1",
      sellerTaxId: "91330100MA2B3C4D5E",
      buyerTaxId: "91310000MA1FL5XY2K",
      issueDate: new Date().toISOString().slice(0, 10),
      dueDate: new Date(Date.now() + 60 * DAY_MS).toISOString().slice(0, 10),
      amount: "1000000",
      documentHash: keccakId("shutdown invoice"),
    };
    const post = (path: string, b: object, t = token) =>
      fetch(`${svc!.url}${path}`, { method: "POST", headers: { ...bearer(t), "content-type": "application/json" }, body: JSON.stringify(b) });
    const unsigned = (await (await post("/receivables", body)).json()) as { typedData: TypedData };
    const td = unsigned.typedData;
    const signature = await signTypedData(supplier, td);
    const signed = { ...body, nonce: td.message.nonce, deadline: td.message.deadline, signature };

    // Accepted (202) and then waited on: the act is durable before the answer.
    const waiting = post("/receivables?wait=true", signed).then(
      (r) => `answered ${r.status}`,
      (err: Error) => `cut: ${(err.cause as { code?: string } | undefined)?.code ?? err.message}`,
    );
    await new Promise((r) => setTimeout(r, 1500)); // the request is in the handler, polling the outbox

    const t0 = Date.now();
    await svc.kill("SIGTERM");
    const took = Date.now() - t0;
    expect(svc.child.exitCode, svc.output()).to.equal(0);
    expect(took, "shutdown took longer than grace + margin").to.be.lessThan(1500 + 8_000);
    expect(await waiting).to.match(/^cut|^answered/);

    // Restart with the sender on: the accepted act reaches the chain exactly once.
    svc = await spawnService(env.env);
    token = await signIn(svc.url, supplier);
    const again = (await (await post("/receivables?wait=true", signed)).json()) as { status: string; receivableId: string; txHash: string };
    expect(again.status).to.equal("confirmed");
    const onChain = await env.ledger.receivables.receivable(again.receivableId);
    expect(onChain.holder).to.equal(supplier.address);
    // The replayed post answered the stored act: one relayed transaction, not two.
    const relayed = await chain.provider.getTransactionCount(env.keys.relayer.address);
    expect(relayed).to.equal(1);
  });
});
