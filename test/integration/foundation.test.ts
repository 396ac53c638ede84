import { expect } from "chai";
import { id as keccakId } from "ethers";
import request from "supertest";
import { DataSource } from "typeorm";
import { getDataSourceToken } from "@nestjs/typeorm";
import { TxSenderService } from "../../services/src/outbox/tx-sender.service";
import { IndexerService } from "../../services/src/indexer/indexer.service";
import { MemberEntity } from "../../services/src/read-model/entities/projections.entity";
import { startChain, type TestChain } from "../support/chain";
import { cleanupEnv, prepareEnv, startService, type RunningService, type TestEnv } from "../support/app";

describe("Service foundation (hardhat node over JSON-RPC, real database)", function () {
  let chain: TestChain;
  let env: TestEnv;
  let svc: RunningService;

  before(async function () {
    chain = await startChain();
  });
  after(async function () {
    await chain?.stop();
  });
  beforeEach(async function () {
    env = await prepareEnv(chain);
    svc = await startService(env);
  });
  afterEach(async function () {
    await svc?.close();
    if (env) await cleanupEnv(env);
  });

  it("reports database, chain and indexer health", async function () {
    const res = await request(svc.url).get("/health").expect(200);
    expect(res.body.status).to.equal("ok");
    expect(res.body.info.chain.chainId).to.equal("31337");
    expect(res.body.info.indexer).to.have.property("lag");
  });

  it("sends an operator transaction through the outbox and indexes the resulting event", async function () {
    const ds = svc.app.get<DataSource>(getDataSourceToken());
    const sender = svc.app.get(TxSenderService);
    const member = await chain.fundedWallet();
    const kycExpiry = (await chain.provider.getBlock("latest"))!.timestamp + 365 * 86400;
    const data = env.ledger.registry.interface.encodeFunctionData("register", [
      member.address,
      1,
      kycExpiry,
      "0x434e",
      keccakId("entity"),
    ]);
    const row = await ds.transaction((m) =>
      sender.enqueue(m, { signer: "operator", to: env.ledger.record.contracts.ParticipantRegistry, data, kind: "registry.register" }),
    );
    const done = await sender.waitFor(row.id, 20_000);
    expect(done.status).to.equal("mined");
    expect(await env.ledger.registry.isVerified(member.address, 1)).to.equal(true);
    await svc.app.get(IndexerService).catchUp();
    const m = await ds.getRepository(MemberEntity).findOneByOrFail({ address: member.address });
    expect(m.roles).to.equal(1);
    expect(m.jurisdiction).to.equal("CN");
    expect(m.kycExpiry).to.equal(kycExpiry);
  });
});
