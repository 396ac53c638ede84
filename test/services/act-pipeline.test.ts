/**
 * The signed-act pipeline against a real chain, database and service: every act route is bound to a
 * registered spec, a spec name registered twice is refused (so boot fails), the typed data handed out
 * unsigned is the digest the signed post verifies and records, a refused signature names that digest,
 * and a replayed signed post answers the recorded act without recording another.
 */
import { expect } from "chai";
import { TypedDataEncoder, Wallet, id as keccakId, type TypedDataField } from "ethers";
import request from "supertest";
import { ActPipeline } from "../../services/src/acts/act-pipeline.service";
import { SIGNED_ACT, defineAct, type ActRoute, type ActSpec } from "../../services/src/acts/act-spec";
import { ActEntity } from "../../services/src/acts/entities/act.entity";
import { FinancingWriteController } from "../../services/src/financing/financing-write.controller";
import { FinancingWriteService } from "../../services/src/financing/financing-write.service";
import { IndexerService } from "../../services/src/indexer/indexer.service";
import { ReceivablesWriteController } from "../../services/src/receivables/receivables-write.controller";
import { SettlementController } from "../../services/src/settlement/settlement.controller";
import { bearer, signIn } from "../support/auth";
import { startChain, type TestChain } from "../support/chain";
import { signTypedData } from "../../shared/client";
import { cleanupEnv, prepareEnv, startService, type RunningService, type TestEnv } from "../support/app";
import { dataSourceOf } from "../support/index-check";

interface Unsigned {
  status: "unsigned";
  kind: string;
  typedData: { domain: Record<string, string>; types: Record<string, TypedDataField[]>; primaryType: string; message: Record<string, string> };
  digest: string;
}

/** The act routes of a controller: method name → the act it names. */
function actRoutes(controller: { prototype: object }): Array<[string, ActRoute]> {
  const proto = controller.prototype as Record<string, unknown>;
  return Object.getOwnPropertyNames(proto)
    .map((m) => [m, Reflect.getMetadata(SIGNED_ACT, proto[m] as object) as ActRoute | undefined] as const)
    .filter((e): e is [string, ActRoute] => e[1] !== undefined);
}

describe("ActPipeline: one protocol for every signed act", function () {
  this.timeout(300_000);
  let chain: TestChain;
  let env: TestEnv;
  let svc: RunningService;
  const bank = Wallet.createRandom() as unknown as Wallet;
  const buyer = Wallet.createRandom() as unknown as Wallet;
  const other = Wallet.createRandom() as unknown as Wallet;
  let token: string;

  before(async function () {
    chain = await startChain();
    env = await prepareEnv(chain);
    const expiry = Math.floor(Date.now() / 1000) + 365 * 86400;
    const reg = env.ledger.registry.connect(env.keys.operator);
    for (const [w, bits, name] of [[bank, 4, "bank"], [buyer, 2, "buyer"]] as const) {
      await (await reg.register(w.address, bits, expiry, "0x434e", keccakId(name))).wait();
    }
    svc = await startService(env);
    await svc.app.get(IndexerService).catchUp();
    token = await signIn(svc.url, bank);
  });
  after(async function () {
    await svc?.close();
    if (env) await cleanupEnv(env);
    await chain?.stop();
  });

  describe("registration", function () {
    it("binds every act route of receivables, financing and settlement to a registered spec", function () {
      const pipeline = svc.app.get(ActPipeline);
      const routes = [ReceivablesWriteController, FinancingWriteController, SettlementController].flatMap(actRoutes);
      expect(routes.length).to.equal(20); // 8 receivables acts + the dispute statement, 10 financing, settlement.claim
      const named = routes.flatMap(([, r]) =>
        typeof r === "string" ? [r] : [r({ body: { settle: "with-approval" } } as never), r({ body: {} } as never)],
      );
      for (const name of named) expect(() => pipeline.spec(name), name).not.to.throw();
      // Every registered spec is reachable from a route: none is dead.
      expect([...new Set(named)].sort()).to.deep.equal(pipeline.names());
    });

    it("refuses a spec name registered twice, so a module that does it fails at boot", function () {
      const pipeline = svc.app.get(ActPipeline);
      const before = pipeline.names();
      const again: ActSpec = defineAct({
        name: "financing.open_line",
        kind: "x",
        contract: "Financing",
        primaryType: "OpenCreditLine",
        plan: () => ({ message: {}, encode: () => "0x" }),
      });
      expect(() => pipeline.register(again)).to.throw("signed act financing.open_line is registered twice");
      // The feature's own registration, run again as a second module instance would at boot.
      expect(() => svc.app.get(FinancingWriteService).onModuleInit()).to.throw(/is registered twice/);
      expect(pipeline.names()).to.deep.equal(before);
      expect(pipeline.spec("financing.open_line").kind).to.equal("open_line");
    });

    it("fails boot when a route names an act no feature registered", function () {
      const pipeline = svc.app.get(ActPipeline);
      const proto = SettlementController.prototype as unknown as Record<string, object>;
      Reflect.defineMetadata(SIGNED_ACT, "settlement.nothing", proto.claim);
      try {
        expect(() => pipeline.onApplicationBootstrap()).to.throw("routes bound to unregistered signed acts: SettlementController.claim → settlement.nothing");
      } finally {
        Reflect.defineMetadata(SIGNED_ACT, "settlement.claim", proto.claim);
      }
      expect(() => pipeline.onApplicationBootstrap()).not.to.throw();
    });

    it("refuses to run an act no feature registered", async function () {
      const pipeline = svc.app.get(ActPipeline);
      await pipeline.run("nobody.nothing", { user: {} as never, body: {} }).then(
        () => expect.fail("ran an unregistered act"),
        (err: Error) => expect(err.message).to.equal("no signed act nobody.nothing is registered"),
      );
    });
  });

  describe("the unsigned and the signed post of one act", function () {
    const body = () => ({ debtor: buyer.address, limit: "1000000", maxAdvanceBps: 8000, discountBps: 100, expiry: new Date(Date.now() + 30 * 86400_000).toISOString() });
    let fixed: ReturnType<typeof body>;
    let unsigned: Unsigned;

    it("answers typed data whose types carry EIP712Domain and whose digest is the EIP-712 hash of what it shows", async function () {
      fixed = body();
      const res = await request(svc.url).post("/credit-lines").set(bearer(token)).send(fixed).expect(200);
      unsigned = res.body as Unsigned;
      expect(unsigned.status).to.equal("unsigned");
      expect(unsigned.kind).to.equal("open_line");
      expect(unsigned.typedData.primaryType).to.equal("OpenCreditLine");
      expect(unsigned.typedData.types).to.have.property("EIP712Domain");
      const types = { ...unsigned.typedData.types };
      delete types.EIP712Domain;
      expect(TypedDataEncoder.hash(unsigned.typedData.domain, types, unsigned.typedData.message)).to.equal(unsigned.digest);
    });

    it("a signature by another key is refused (422) naming the same digest the unsigned post showed", async function () {
      const { nonce, deadline } = unsigned.typedData.message;
      const signature = await signTypedData(other, unsigned.typedData);
      const res = await request(svc.url).post("/credit-lines").set(bearer(token)).send({ ...fixed, nonce, deadline, signature });
      expect(res.status).to.equal(422);
      expect(res.body.digest).to.equal(unsigned.digest);
      expect(res.body.detail).to.include(unsigned.digest);
    });

    it("the signed post is recorded under the unsigned post's digest; posting it again answers the same act and records nothing", async function () {
      const { nonce, deadline } = unsigned.typedData.message;
      const signature = await signTypedData(bank, unsigned.typedData);
      const signed = { ...fixed, nonce, deadline, signature };
      const first = await request(svc.url).post("/credit-lines").set(bearer(token)).send(signed).expect(202);
      const acts = dataSourceOf(svc.app).getRepository(ActEntity);
      const row = await acts.findOneByOrFail({ id: first.body.id as string });
      expect(row.typedDataHash).to.equal(unsigned.digest);
      expect(row.kind).to.equal("open_line");
      const count = await acts.count();
      const again = await request(svc.url).post("/credit-lines?wait=true").set(bearer(token)).send(signed).expect(202);
      expect(again.body.id).to.equal(first.body.id);
      expect(again.body.status).to.equal("confirmed");
      expect(await acts.count()).to.equal(count);
    });
  });
});
