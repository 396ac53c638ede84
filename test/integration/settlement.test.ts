/**
 * Settlement API against a real chain and the real service: balance and allowances, relayed
 * EIP-2612 permits (typed data, v/r/s and compact signatures, ?wait, Idempotency-Key, replay) and
 * the faucet; every refusal with its status and message, and nothing changes on a refusal.
 * A second service without FAUCET_ENABLED shows the faucet does not exist there (404).
 */
import { expect } from "chai";
import { Signature, Wallet, id as keccakId, type TypedDataField } from "ethers";
import request from "supertest";
import { IndexerService } from "../../services/src/indexer/indexer.service";
import { writeKeystore } from "../../services/src/chain/keys";
import { bearer, signIn } from "../support/auth";
import { startChain, type TestChain } from "../support/chain";
import { TEST_PASSWORD, cleanupEnv, prepareEnv, startService, type RunningService, type TestEnv } from "../support/app";
import { join } from "node:path";
import { loadConfig } from "../../services/src/config/env";
import { signTypedData } from "../../shared/client";

interface TypedData {
  domain: Record<string, unknown>;
  types: Record<string, TypedDataField[]>;
  message: Record<string, string>;
}

describe("Settlement API: balances, relayed permits, faucet", function () {
  this.timeout(300_000);
  let chain: TestChain;
  let env: TestEnv;
  let svc: RunningService;
  const w = {
    buyer: Wallet.createRandom() as unknown as Wallet,
    bank: Wallet.createRandom() as unknown as Wallet,
    auditor: Wallet.createRandom() as unknown as Wallet,
    officer: Wallet.createRandom() as unknown as Wallet,
    outsider: Wallet.createRandom() as unknown as Wallet,
    suspended: Wallet.createRandom() as unknown as Wallet,
  };
  const t = {} as Record<keyof typeof w, string>;

  before(async function () {
    chain = await startChain();
    env = await prepareEnv(chain, { FAUCET_ENABLED: "true", ISSUER_KEYSTORE: "issuer.json" });
    // The faucet's issuer key: its own key, granted ISSUER by the admin.
    const issuer = await chain.fundedWallet();
    writeKeystore(join(env.dir, "keys", "issuer.json"), issuer, TEST_PASSWORD, true);
    await (await env.ledger.token.connect(chain.account(0)).grantRole(keccakId("ISSUER"), issuer.address)).wait();
    const expiry = Math.floor(Date.now() / 1000) + 365 * 86400;
    const reg = env.ledger.registry.connect(env.keys.operator);
    for (const [name, bits] of [["buyer", 2], ["bank", 4], ["auditor", 8], ["suspended", 1]] as const) {
      await (await reg.register(w[name].address, bits, expiry, "0x434e", keccakId(name))).wait();
    }
    await (await env.ledger.registry.connect(env.keys.compliance).suspend(w.suspended.address, keccakId("test"))).wait();
    await (await env.ledger.registry.connect(chain.account(0)).grantRole(keccakId("COMPLIANCE_OFFICER"), w.officer.address)).wait();
    svc = await startService(env);
    await svc.app.get(IndexerService).catchUp();
    for (const k of Object.keys(w) as Array<keyof typeof w>) t[k] = await signIn(svc.url, w[k]);
  });
  after(async function () {
    await svc?.close();
    if (env) await cleanupEnv(env);
    await chain?.stop();
  });

  const api = () => request(svc.url);
  const balanceOf = (a: string) => env.ledger.token.balanceOf(a);
  const allowance = (a: string, spender: "Receivables" | "Financing") => env.ledger.token.allowance(a, env.ledger.record.contracts[spender]);

  async function draft(who: keyof typeof w, body: Record<string, unknown>): Promise<TypedData> {
    const res = await api().post("/settlement/permits").set(bearer(t[who])).send(body);
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    expect(res.body.status).to.equal("unsigned");
    return res.body.typedData as TypedData;
  }
  const sign = (wallet: Wallet, td: TypedData) => signTypedData(wallet, td);
  async function faucet(to: string, amount: string, who: keyof typeof w = "officer") {
    return api().post("/settlement/faucet?wait=true").set(bearer(t[who])).send({ to, amount });
  }

  describe("faucet", function () {
    it("GET /settlement/faucet tells a compliance officer it is enabled (and its ceiling); members are refused", async function () {
      const info = await api().get("/settlement/faucet").set(bearer(t.officer)).expect(200);
      expect(info.body).to.deep.equal({ enabled: true, maxAmount: "10000000000" });
      await api().get("/settlement/faucet").set(bearer(t.bank)).expect(403);
      await api().get("/settlement/faucet").expect(401);
    });

    it("a compliance officer funds a verified member; the balance shows it", async function () {
      const res = await faucet(w.buyer.address, "1000000000");
      expect(res.status, JSON.stringify(res.body)).to.equal(202);
      expect(res.body).to.include({ kind: "mint", status: "confirmed", account: w.buyer.address, value: "1000000000", spender: null });
      expect(res.body.txHash).to.match(/^0x[0-9a-f]{64}$/);
      expect(await balanceOf(w.buyer.address)).to.equal(1_000_000_000n);
      const bal = await api().get("/settlement/balance").set(bearer(t.buyer)).expect(200);
      expect(bal.body).to.deep.equal({ address: w.buyer.address, balance: "1000000000", allowances: { Receivables: "0", Financing: "0" } });
      const op = await api().get(`/settlement/operations/${res.body.id}`).set(bearer(t.buyer)).expect(200);
      expect(op.body.status).to.equal("confirmed");
      await api().get(`/settlement/operations/${res.body.id}`).set(bearer(t.bank)).expect(403);
    });

    it("honours Idempotency-Key: the same key and body mint once", async function () {
      const before = await balanceOf(w.bank.address);
      const send = () => api().post("/settlement/faucet?wait=true").set(bearer(t.officer)).set("Idempotency-Key", "fund-bank-1").send({ to: w.bank.address, amount: "500" });
      const a = await send();
      const b = await send();
      expect(a.status).to.equal(202);
      expect(b.status).to.equal(202);
      expect(b.body.id).to.equal(a.body.id);
      expect((await balanceOf(w.bank.address)) - before).to.equal(500n);
      const other = await api().post("/settlement/faucet").set(bearer(t.officer)).set("Idempotency-Key", "fund-bank-1").send({ to: w.bank.address, amount: "501" });
      expect(other.status).to.equal(422);
    });

    const refusals: Array<[string, () => Promise<request.Response>, number, RegExp]> = [
      ["a member who is not a compliance officer", () => faucet(w.bank.address, "100", "bank"), 403, /Only compliance officers can use the faucet/],
      ["a recipient that is not a member", () => faucet(w.outsider.address, "100"), 422, /is not a verified member/],
      ["a suspended recipient", () => faucet(w.suspended.address, "100"), 422, /is not a verified member/],
      ["more than 10^10 fen", () => faucet(w.bank.address, "10000000001"), 400, /at most 10000000000 fen/],
      ["zero", () => faucet(w.bank.address, "0"), 400, /at least 1 fen/],
      ["an amount that is a number, not a string", () => api().post("/settlement/faucet").set(bearer(t.officer)).send({ to: w.bank.address, amount: 100 }), 400, /amount must be a decimal string/],
      ["a decimal amount", () => faucet(w.bank.address, "1.50"), 400, /amount must be a decimal string of fen/],
      ["a malformed address", () => faucet("0x1234", "100"), 400, /to must be a 0x-prefixed 20-byte hex address/],
    ];
    for (const [what, call, status, message] of refusals) {
      it(`refuses ${what} (${status}) and mints nothing`, async function () {
        const supply = await env.ledger.token.totalSupply();
        const res = await call();
        expect(res.status, JSON.stringify(res.body)).to.equal(status);
        expect(JSON.stringify(res.body.message)).to.match(message);
        expect(await env.ledger.token.totalSupply()).to.equal(supply);
      });
    }
  });

  describe("permits", function () {
    it("returns the EIP-2612 typed data, relays the signed permit (v, r, s) and the allowance is set", async function () {
      const deadline = String(Math.floor(Date.now() / 1000) + 600);
      const td = await draft("buyer", { spender: "Receivables", value: "250000", deadline });
      expect(td.domain).to.include({ verifyingContract: env.ledger.record.contracts.SettlementToken, chainId: "31337" });
      expect(td.message).to.include({ owner: w.buyer.address, spender: env.ledger.record.contracts.Receivables, value: "250000", nonce: "0", deadline });
      const sig = Signature.from(await sign(w.buyer, td));
      const res = await api()
        .post("/settlement/permits?wait=true")
        .set(bearer(t.buyer))
        .send({ spender: "Receivables", value: "250000", deadline, v: sig.v, r: sig.r, s: sig.s });
      expect(res.status, JSON.stringify(res.body)).to.equal(202);
      expect(res.body).to.include({ kind: "permit", status: "confirmed", account: w.buyer.address, spender: "Receivables", value: "250000" });
      expect(await allowance(w.buyer.address, "Receivables")).to.equal(250_000n);
      const bal = await api().get("/settlement/balance").set(bearer(t.buyer)).expect(200);
      expect(bal.body.allowances).to.deep.equal({ Receivables: "250000", Financing: "0" });
      // The same signed permit again: the first relay, not a second transaction.
      const again = await api().post("/settlement/permits").set(bearer(t.buyer)).send({ spender: "Receivables", value: "250000", deadline, v: sig.v, r: sig.r, s: sig.s });
      expect(again.status).to.equal(202);
      expect(again.body.id).to.equal(res.body.id);
    });

    it("accepts a compact signature, answers 202 pending without ?wait, and honours Idempotency-Key", async function () {
      const td = await draft("bank", { spender: "Financing", value: "999999999999" });
      const body = { spender: "Financing", value: "999999999999", deadline: td.message.deadline, signature: await sign(w.bank, td) };
      const first = await api().post("/settlement/permits").set(bearer(t.bank)).set("Idempotency-Key", "bank-permit").send(body);
      expect(first.status, JSON.stringify(first.body)).to.equal(202);
      expect(["pending", "confirmed"]).to.include(first.body.status);
      const second = await api().post("/settlement/permits").set(bearer(t.bank)).set("Idempotency-Key", "bank-permit").send(body);
      expect(second.status).to.equal(202);
      expect(second.body).to.deep.equal(first.body);
      for (let i = 0; i < 100; i++) {
        const op = await api().get(`/settlement/operations/${first.body.id}`).set(bearer(t.bank)).expect(200);
        if (op.body.status === "confirmed") break;
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(await allowance(w.bank.address, "Financing")).to.equal(999_999_999_999n);
    });

    it("an auditor reads any member's balance; a member only its own", async function () {
      const a = await api().get(`/settlement/balance?address=${w.buyer.address}`).set(bearer(t.auditor)).expect(200);
      expect(a.body.balance).to.equal("1000000000");
      const o = await api().get(`/settlement/balance?address=${w.buyer.address}`).set(bearer(t.officer)).expect(200);
      expect(o.body.address).to.equal(w.buyer.address);
      const r = await api().get(`/settlement/balance?address=${w.buyer.address}`).set(bearer(t.bank)).expect(403);
      expect(r.body.message).to.match(/Only auditors and compliance officers/);
      await api().get(`/settlement/balance?address=${w.bank.address}`).set(bearer(t.bank)).expect(200);
      const bad = await api().get("/settlement/balance?address=nope").set(bearer(t.auditor)).expect(400);
      expect(JSON.stringify(bad.body.message)).to.match(/address must be a 0x-prefixed/);
      await api().get("/settlement/balance").expect(401);
    });

    describe("refusals change nothing", function () {
      const future = () => String(Math.floor(Date.now() / 1000) + 600);
      async function expectRefused(who: keyof typeof w, body: Record<string, unknown>, status: number, message: RegExp) {
        const owner = w[who].address;
        const [r, f, n] = await Promise.all([allowance(owner, "Receivables"), allowance(owner, "Financing"), env.ledger.token.nonces(owner)]);
        const res = await api().post("/settlement/permits?wait=true").set(bearer(t[who])).send(body);
        expect(res.status, JSON.stringify(res.body)).to.equal(status);
        expect(JSON.stringify(res.body.message)).to.match(message);
        expect(await allowance(owner, "Receivables")).to.equal(r);
        expect(await allowance(owner, "Financing")).to.equal(f);
        expect(await env.ledger.token.nonces(owner)).to.equal(n);
      }

      it("an unverified caller (not a member; suspended member): 403", async function () {
        await expectRefused("outsider", { spender: "Receivables", value: "1" }, 403, /requires the role member/);
        await expectRefused("suspended", { spender: "Receivables", value: "1" }, 403, /not a verified member/);
      });
      it("a bad spender: 400", async function () {
        await expectRefused("buyer", { spender: "Treasury", value: "1" }, 400, /spender must be Receivables or Financing/);
      });
      it("a malformed value (decimal point, number, negative, too big): 400", async function () {
        await expectRefused("buyer", { spender: "Receivables", value: "12.5" }, 400, /value must be a decimal string of fen/);
        await expectRefused("buyer", { spender: "Receivables", value: 125 }, 400, /value must be a decimal string of fen/);
        await expectRefused("buyer", { spender: "Receivables", value: "-1" }, 400, /value must be a decimal string/);
        await expectRefused("buyer", { spender: "Receivables", value: (2n ** 256n).toString() }, 400, /value does not fit uint256/);
      });
      it("an expired deadline: 422 on both steps", async function () {
        const past = String(Math.floor(Date.now() / 1000) - 10);
        await expectRefused("buyer", { spender: "Receivables", value: "1", deadline: past }, 422, /deadline .* has passed/);
        const td = await draft("buyer", { spender: "Receivables", value: "1", deadline: future() });
        const sig = await sign(w.buyer, { ...td, message: { ...td.message, deadline: past } });
        await expectRefused("buyer", { spender: "Receivables", value: "1", deadline: past, signature: sig }, 422, /deadline .* has passed/);
      });
      it("a signed permit without its deadline: 400", async function () {
        const td = await draft("buyer", { spender: "Receivables", value: "1" });
        await expectRefused("buyer", { spender: "Receivables", value: "1", signature: await sign(w.buyer, td) }, 400, /needs the deadline/);
      });
      it("a bad signature (another key; another value; malformed; both forms): 422 / 400", async function () {
        const deadline = future();
        const td = await draft("buyer", { spender: "Receivables", value: "77", deadline });
        await expectRefused("buyer", { spender: "Receivables", value: "77", deadline, signature: await sign(w.bank, td) }, 422, /is not 0x[0-9a-fA-F]{40}'s signature of this permit/);
        await expectRefused("buyer", { spender: "Receivables", value: "78", deadline, signature: await sign(w.buyer, td) }, 422, /signature of this permit/);
        await expectRefused("buyer", { spender: "Receivables", value: "77", deadline, signature: "0x" + "11".repeat(64) + "05" }, 400, /not a well-formed ECDSA signature/);
        await expectRefused("buyer", { spender: "Receivables", value: "77", deadline, signature: "0x" + "00".repeat(65) }, 422, /signature of this permit/);
        await expectRefused("buyer", { spender: "Receivables", value: "77", deadline, v: 27, r: "0x" + "11".repeat(32) }, 400, /not a well-formed/);
        const s = Signature.from(await sign(w.buyer, td));
        await expectRefused("buyer", { spender: "Receivables", value: "77", deadline, signature: s.serialized, v: s.v, r: s.r, s: s.s }, 400, /either signature or v, r and s/);
        await expectRefused("buyer", { spender: "Receivables", value: "77", deadline, v: 29, r: s.r, s: s.s }, 400, /v must be 27 or 28/);
      });
    });
  });

  describe("where the faucet is not enabled", function () {
    it("POST /settlement/faucet does not exist (404)", async function () {
      const plain = await startService({ ...env, config: loadConfig({ ...env.env, FAUCET_ENABLED: "false" }, join(__dirname, "..", "..")) });
      try {
        const supply = await env.ledger.token.totalSupply();
        const res = await request(plain.url).post("/settlement/faucet").set(bearer(t.officer)).send({ to: w.bank.address, amount: "100" });
        expect(res.status).to.equal(404);
        expect(await env.ledger.token.totalSupply()).to.equal(supply);
        await request(plain.url).get("/settlement/balance").set(bearer(t.buyer)).expect(200);
        const info = await request(plain.url).get("/settlement/faucet").set(bearer(t.officer)).expect(200);
        expect(info.body).to.deep.equal({ enabled: false, maxAmount: "10000000000" });
      } finally {
        await plain.close();
      }
    });
  });
});
