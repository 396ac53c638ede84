/**
 * Nothing lost: 200 onboarding approvals while the service process is killed with SIGKILL, then
 * restarted on the same database and chain. Every accepted approval must end in exactly one final
 * state on-chain and in the database, with no duplicate transaction and no nonce gap.
 */
import { expect } from "chai";
import { Wallet, id as keccakId } from "ethers";
import { DataSource } from "typeorm";
import { dataSourceOptions } from "../../services/src/database/data-source";
import { OutboxEntity, KeyNonceEntity } from "../../services/src/outbox/entities/outbox.entity";
import { ApplicationEntity } from "../../services/src/onboarding/entities/application.entity";
import { signIn } from "../support/auth";
import { startChain, type TestChain } from "../support/chain";
import { cleanupEnv, prepareEnv, type TestEnv } from "../support/app";
import { freshUscc } from "../support/entity-ids";
import { pool, spawnService, type ServiceProcess } from "../support/process";

const N = 200;

describe("Onboarding survives SIGKILL during 200 approvals", function () {
  this.timeout(600_000);
  let chain: TestChain;
  let env: TestEnv;
  let svc: ServiceProcess | undefined;

  before(async function () {
    chain = await startChain();
    env = await prepareEnv(chain, { SENDER_POLL_MS: "10", LOG_LEVEL: "error", THROTTLE_LIMIT: "1000000" });
  });
  after(async function () {
    await svc?.kill();
    await chain?.stop();
    if (env) await cleanupEnv(env);
  });

  it("ends every accepted approval in exactly one final state, with contiguous nonces and no duplicate", async function () {
    svc = await spawnService(env.env);
    const officer = await chain.fundedWallet();
    await (await env.ledger.registry.connect(chain.account(0)).grantRole(keccakId("COMPLIANCE_OFFICER"), officer.address)).wait();
    const officerToken = await signIn(svc.url, officer);
    const startNonce = await chain.provider.getTransactionCount(env.keys.operator.address);

    const applicants = Array.from({ length: N }, () => Wallet.createRandom());
    const ids: string[] = new Array(N);
    await pool(applicants, 10, async (w, i) => {
      const token = await signIn(svc!.url, w as unknown as Wallet);
      const form = new FormData();
      form.set("legalName", `Crash Test Supplier ${i} Co., Ltd.`);
      form.set("entityIdType", "USCC");
      form.set("entityId", freshUscc());
      form.set("jurisdiction", "CN");
      form.set("roles", "supplier");
      form.set("documents", new Blob([`licence ${i}`]), "licence.pdf");
      const res = await fetch(`${svc!.url}/onboarding/applications`, { method: "POST", headers: { Authorization: `Bearer ${token}` }, body: form });
      expect(res.status, await res.clone().text()).to.equal(201);
      ids[i] = ((await res.json()) as { id: string }).id;
    });

    // Approve all 200 concurrently; kill the process once 80 have been accepted.
    const accepted = new Set<string>();
    const approve = async (base: string, id: string) => {
      const res = await fetch(`${base}/onboarding/applications/${id}/approve`, {
        method: "POST",
        headers: { Authorization: `Bearer ${officerToken}`, "content-type": "application/json" },
        body: "{}",
      });
      if (res.status === 202) accepted.add(id);
      return res.status;
    };
    let killed: Promise<void> | null = null;
    const first = svc;
    await pool(ids, 20, async (id) => {
      if (killed) return;
      try {
        await approve(first.url, id);
      } catch {
        return; // connection cut by the kill: the client does not know whether it was accepted
      }
      if (accepted.size >= 80 && !killed) killed = first.kill("SIGKILL");
    });
    await killed;
    expect(accepted.size).to.be.at.least(80);
    expect(accepted.size).to.be.below(N);

    // Restart on the same database and chain; the client retries what it did not see accepted.
    svc = await spawnService(env.env);
    const token2 = await signIn(svc.url, officer);
    const ds = new DataSource(dataSourceOptions(env.config.database));
    await ds.initialize();
    try {
      const pending = await ds.getRepository(ApplicationEntity).find({ where: { status: "submitted" } });
      for (const a of pending) expect(accepted.has(a.id), `accepted approval ${a.id} was lost`).to.equal(false);
      await pool(pending, 10, async (a) => {
        const res = await fetch(`${svc!.url}/onboarding/applications/${a.id}/approve`, {
          method: "POST",
          headers: { Authorization: `Bearer ${token2}`, "content-type": "application/json" },
          body: "{}",
        });
        expect(res.status).to.equal(202);
      });
      const deadline = Date.now() + 120_000;
      for (;;) {
        const open = await ds.getRepository(ApplicationEntity).count({ where: [{ status: "approving" }, { status: "submitted" }] });
        if (open === 0) break;
        if (Date.now() > deadline) throw new Error(`${open} applications still not final`);
        await new Promise((r) => setTimeout(r, 250));
      }

      const apps = await ds.getRepository(ApplicationEntity).find();
      expect(apps).to.have.length(N);
      expect(apps.filter((a) => a.status !== "approved").map((a) => `${a.id}: ${a.status} ${a.decisionReason}`)).to.deep.equal([]);
      const rows = await ds.getRepository(OutboxEntity).find({ where: { kind: "registry.register" } });
      expect(rows).to.have.length(N, "exactly one outbox transaction per application");
      expect(new Set(rows.map((r) => r.referenceId)).size).to.equal(N);
      expect(rows.every((r) => r.status === "mined")).to.equal(true);
      const nonces = rows.map((r) => r.nonce!).sort((a, b) => a - b);
      expect(nonces).to.deep.equal(Array.from({ length: N }, (_, i) => startNonce + i), "contiguous nonces, no gap");
      const chainCount = await chain.provider.getTransactionCount(env.keys.operator.address);
      expect(chainCount).to.equal(startNonce + N, "no transaction sent twice or outside the outbox");
      const kn = await ds.getRepository(KeyNonceEntity).findOneByOrFail({ address: env.keys.operator.address });
      expect(kn.nextNonce).to.equal(chainCount);
      for (const w of applicants) expect(await env.ledger.registry.isVerified(w.address, 1), w.address).to.equal(true);
      const hashes = new Set(rows.map((r) => r.txHash));
      expect(hashes.size).to.equal(N);
      for (const a of apps) expect(rows.find((r) => r.referenceId === a.id)!.txHash).to.equal(a.txHash);
    } finally {
      await ds.destroy();
    }
  });
});
