/**
 * No key stuck, no act twice: a burst of signed acts, each under its own Idempotency-Key, while
 * the service process is killed with SIGKILL; then the service is started again on the same
 * database and chain and the client retries every key (honouring 409's Retry-After) until it has
 * an answer. Every act must end in exactly one final state with one relay transaction, every key
 * must answer with its act, and no key may stay held past its lease. Prints the counts.
 */
import { expect } from "chai";
import { id as keccakId } from "ethers";
import { DataSource, IsNull } from "typeorm";
import { ActEntity, IdempotencyKeyEntity } from "../../services/src/acts/entities/act.entity";
import { dataSourceOptions } from "../../services/src/database/data-source";
import { OutboxEntity } from "../../services/src/outbox/entities/outbox.entity";
import { signTypedData, type ActTypedData } from "../../shared/client";
import { cleanupEnv, prepareEnv, type TestEnv } from "../support/app";
import { signIn } from "../support/auth";
import { startChain, type TestChain } from "../support/chain";
import { pool, spawnService, type ServiceProcess } from "../support/process";

const N = 120;
const KILL_AFTER = 40;
// Longer than a restart takes (ts-node compiles at boot, slow on a loaded machine), so retries meet
// keys still leased to the dead process and must wait for them.
const LEASE_MS = 40_000;
const DAY_MS = 86_400_000;

describe("Idempotency keys survive SIGKILL in the middle of a burst of acts", function () {
  this.timeout(600_000);
  let chain: TestChain;
  let env: TestEnv;
  let svc: ServiceProcess | undefined;

  before(async function () {
    chain = await startChain();
    env = await prepareEnv(chain, {
      SENDER_POLL_MS: "10",
      LOG_LEVEL: "error",
      THROTTLE_LIMIT: "1000000",
      KYC_JOB_INTERVAL_MS: "3600000",
      IDEMPOTENCY_LEASE_MS: String(LEASE_MS),
    });
  });
  after(async function () {
    await svc?.kill();
    await chain?.stop();
    if (env) await cleanupEnv(env);
  });

  it("answers every key with its one act after the restart, with no duplicate and no key stuck past its lease", async function () {
    const behind = Math.floor(Date.now() / 1000) - (await chain.provider.getBlock("latest"))!.timestamp;
    if (behind > 0) {
      await chain.provider.send("evm_increaseTime", [behind]);
      await chain.provider.send("evm_mine", []);
    }
    const financier = await chain.fundedWallet();
    const supplier = await chain.fundedWallet();
    const kyc = Math.floor(Date.now() / 1000) + 365 * 86_400;
    await (await env.ledger.registry.connect(env.keys.operator).register(financier.address, 4, kyc, "0x434e", keccakId("crash-financier"))).wait();
    await (await env.ledger.registry.connect(env.keys.operator).register(supplier.address, 1, kyc, "0x434e", keccakId("crash-supplier"))).wait();
    svc = await spawnService(env.env);
    let token = await signIn(svc.url, financier);

    const post = (base: string, body: object, key?: string) =>
      fetch(`${base}/credit-lines`, {
        method: "POST",
        headers: { Authorization: `Bearer ${token}`, "content-type": "application/json", ...(key ? { "Idempotency-Key": key } : {}) },
        body: JSON.stringify(body),
      });

    // The new process indexes the registrations on its own time: wait until it knows the financier.
    for (let waited = 0; (await fetch(`${svc.url}/participants/${financier.address}`, { headers: { Authorization: `Bearer ${token}` } })).status !== 200; waited += 200) {
      if (waited > 60_000) throw new Error("the service never indexed the financier");
      await new Promise((r) => setTimeout(r, 200));
    }
    await new Promise((r) => setTimeout(r, Number(env.config.CALLER_CACHE_MS) + 100)); // past the guard's cached member row

    // Every act signed up front, as a client would before sending a batch.
    const signed: Array<Record<string, unknown>> = [];
    for (let i = 0; i < N; i++) {
      const body = { supplier: supplier.address, limit: String(1_000_000 + i), maxAdvanceBps: 8000, discountBps: 500, expiry: new Date(Date.now() + 90 * DAY_MS).toISOString() };
      const res = await post(svc.url, body);
      expect(res.status).to.equal(200);
      const td = ((await res.json()) as { typedData: ActTypedData }).typedData;
      signed.push({ ...body, nonce: td.message.nonce, deadline: td.message.deadline, signature: await signTypedData(financier, td) });
    }
    const startNonce = await chain.provider.getTransactionCount(env.keys.relayer.address);

    // The burst: kill the process once KILL_AFTER acts have been answered 202.
    const accepted = new Map<number, string>();
    let killed: Promise<void> | null = null;
    const first = svc;
    await pool(signed, 20, async (body, i) => {
      if (killed) return;
      try {
        const res = await post(first.url, body, `crash-${i}`);
        if (res.status === 202) accepted.set(i, ((await res.json()) as { id: string }).id);
      } catch {
        return; // cut by the kill: the client does not know whether the act was recorded
      }
      if (accepted.size >= KILL_AFTER && !killed) killed = first.kill("SIGKILL");
    });
    await killed;
    const killedAt = Date.now();

    const ds = new DataSource(dataSourceOptions(env.config.database));
    await ds.initialize();
    try {
      const keys = ds.getRepository(IdempotencyKeyEntity);
      const heldAtKill = await keys.count({ where: { statusCode: IsNull() } });
      const boundUnanswered = (await keys.find({ where: { statusCode: IsNull() } })).filter((k) => k.actId !== null).length;

      // Restart and retry every key until it answers, as a client that never saw its answers would.
      svc = await spawnService(env.env);
      const restarted = Date.now();
      const restartMs = restarted - killedAt;
      token = await signIn(svc.url, financier);
      const answers = new Map<number, string>();
      let conflicts = 0;
      await pool(signed, 10, async (body, i) => {
        for (;;) {
          const res = await post(svc!.url, body, `crash-${i}`);
          const text = await res.text();
          if (res.status === 202) {
            answers.set(i, (JSON.parse(text) as { id: string }).id);
            return;
          }
          expect(res.status, text).to.equal(409);
          conflicts++;
          const wait = Number(res.headers.get("retry-after"));
          expect(wait).to.be.within(1, LEASE_MS / 1000);
          await new Promise((r) => setTimeout(r, wait * 1000));
        }
      });
      const recoveredMs = Date.now() - killedAt;

      const deadline = Date.now() + 120_000;
      for (;;) {
        const pending = await ds.getRepository(ActEntity).count({ where: { status: "pending" } });
        if (pending === 0) break;
        if (Date.now() > deadline) throw new Error(`${pending} acts still pending`);
        await new Promise((r) => setTimeout(r, 250));
      }
      const acts = await ds.getRepository(ActEntity).find({ where: { kind: "open_line" } });
      const outbox = await ds.getRepository(OutboxEntity).find({ where: { kind: "financing.open_line" } });
      const relayed = (await chain.provider.getTransactionCount(env.keys.relayer.address)) - startNonce;
      const stuck = await keys.count({ where: { statusCode: IsNull() } });
      const confirmed = acts.filter((a) => a.status === "confirmed").length;
      const duplicated = acts.length - new Set(acts.map((a) => a.nonce)).size + (relayed - acts.length);

      console.log(
        `      acts sent ${N}; answered 202 before the kill ${accepted.size}; keys held at the kill ${heldAtKill} ` +
          `(${boundUnanswered} with their act recorded but no answer); after restart: confirmed ${confirmed}, ` +
          `duplicated ${duplicated}, keys stuck ${stuck}, 409s while leases lapsed ${conflicts}, ` +
          `time to recover ${(recoveredMs / 1000).toFixed(1)} s from the kill (restart ${(restartMs / 1000).toFixed(1)} s, lease ${LEASE_MS / 1000} s)`,
      );

      expect(accepted.size).to.be.at.least(KILL_AFTER);
      expect(answers.size).to.equal(N);
      expect(acts).to.have.length(N, "one act per signed act");
      expect(confirmed).to.equal(N);
      expect(outbox).to.have.length(N, "one relay transaction per act");
      expect(outbox.every((r) => r.status === "mined")).to.equal(true);
      expect(relayed).to.equal(N, "nothing relayed twice");
      expect(duplicated).to.equal(0);
      expect(stuck).to.equal(0);
      for (const [i, id] of accepted) expect(answers.get(i), `key crash-${i}`).to.equal(id);
      for (const [i, id] of answers) expect(acts.find((a) => a.id === id)?.nonce, `key crash-${i}`).to.equal(signed[i].nonce);
      expect(recoveredMs).to.be.below(Math.max(LEASE_MS, restartMs) + 60_000);
    } finally {
      await ds.destroy();
    }
  });
});
