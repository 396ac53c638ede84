/**
 * The indexer's projection of a sealed import (a version-1 ledger carried into version 2): logs
 * encoded with the contracts' own ABI are decoded by the indexer's decoder and folded into the projections, on SQLite or PostgreSQL
 * (TEST_DATABASE=postgres). Each import event gives the row a first event would, with the record as
 * v1 held it; the feed marks them as imported from version 1.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { AbiCoder, Interface, Wallet, ZeroAddress, keccak256, toUtf8Bytes } from "ethers";
import type { DataSource } from "typeorm";
import { LedgerEventDto } from "../../services/src/audit/dto/ledger-event.dto";
import { loadConfig } from "../../services/src/config/env";
import { openDatabase } from "../../services/src/database/data-source";
import { LedgerEventEntity } from "../../services/src/read-model/entities/ledger-event.entity";
import { CreditLineEntity, FinancingEntity, MemberEntity, PaymentEntity, ReceivableEntity } from "../../services/src/read-model/entities/projections.entity";
import { LedgerLogDecoder, appendAndProject, type ChainLog, type RpcBlock } from "../../services/src/indexer/ledger-log";
import { Financing__factory, ParticipantRegistry__factory, Receivables__factory, SettlementToken__factory } from "../../typechain-types";
import { createTestDatabase, type TestDatabase } from "../support/app";

const ROOT = join(__dirname, "..", "..");
const CONTRACTS = {
  ParticipantRegistry: Wallet.createRandom().address,
  SettlementToken: Wallet.createRandom().address,
  Receivables: Wallet.createRandom().address,
  Financing: Wallet.createRandom().address,
};
const hex = (id: bigint) => "0x" + id.toString(16).padStart(64, "0");
const h32 = (s: string) => keccak256(toUtf8Bytes(s));

describe("indexer: projection of a sealed import of a v1 ledger", function () {
  let dir: string;
  let db: TestDatabase;
  let ds: DataSource;
  const decoder = new LedgerLogDecoder(CONTRACTS);
  const migrator = Wallet.createRandom().address;
  const [seller, tier2, debtor, bank, suspended] = Array.from({ length: 5 }, () => Wallet.createRandom().address);
  let logIndex = 0;
  let block = 100;

  before(async function () {
    dir = mkdtempSync(join(tmpdir(), "scf-import-projector-"));
    db = await createTestDatabase(dir);
    ds = await openDatabase(loadConfig({ NODE_ENV: "test", DATABASE_URL: db.url }, ROOT).database);
  });
  after(async function () {
    await ds?.destroy();
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Encodes `event` of `contract` as a log, decodes it with the indexer's decoder and projects it. */
  async function emit(contract: keyof typeof CONTRACTS, abi: ConstructorParameters<typeof Interface>[0], event: string, args: unknown[]): Promise<LedgerEventEntity> {
    const iface = new Interface(abi);
    const { data, topics } = iface.encodeEventLog(event, args);
    const txHash = h32(`tx ${block} ${logIndex}`);
    const log: ChainLog = {
      address: CONTRACTS[contract],
      topics,
      data,
      blockNumber: block,
      blockHash: h32(`block ${block}`),
      transactionHash: txHash,
      transactionIndex: 0,
      index: logIndex++,
    };
    const rpcBlock = { number: "0x" + block.toString(16), hash: log.blockHash, parentHash: h32(`block ${block - 1}`), timestamp: "0x70000000", transactions: [{ hash: txHash, from: migrator }] } as unknown as RpcBlock;
    const e = decoder.decode(log, rpcBlock);
    expect(e, `${contract}.${event} is decoded`).to.not.equal(null);
    await ds.transaction((m) => appendAndProject(m, [e!]));
    block++;
    return e!;
  }

  const root = BigInt(h32("v1 fingerprint of invoice A"));
  const cancelled = BigInt(h32("v1 fingerprint of invoice C"));
  const child0 = BigInt(keccak256(AbiCoder.defaultAbiCoder().encode(["uint256", "uint256"], [root, 0])));
  const child1 = BigInt(keccak256(AbiCoder.defaultAbiCoder().encode(["uint256", "uint256"], [root, 1])));
  const docA = h32("invoice A.pdf");
  const docC = h32("invoice C.pdf");

  it("projects MemberImported as the member v1 held, active or suspended, KYC lapsed or not", async function () {
    const e = await emit("ParticipantRegistry", ParticipantRegistry__factory.abi, "MemberImported", [seller, 1, 1, 1_900_000_000, "0x434e", h32("seller")]);
    expect(e.args).to.include({ account: seller, roles: "1", status: "1", kycExpiry: "1900000000", jurisdiction: "0x434e" });
    await emit("ParticipantRegistry", ParticipantRegistry__factory.abi, "MemberImported", [suspended, 2, 2, 1_000, "0x484b", h32("suspended")]);
    const s = await ds.getRepository(MemberEntity).findOneByOrFail({ address: seller });
    expect(s).to.include({ roles: 1, status: "active", kycExpiry: 1_900_000_000, jurisdiction: "CN", entityIdHash: h32("seller"), suspensionReason: null });
    const x = await ds.getRepository(MemberEntity).findOneByOrFail({ address: suspended });
    expect(x).to.include({ roles: 2, status: "suspended", kycExpiry: 1_000, jurisdiction: "HK" });
  });

  const receivable = (o: Partial<Record<string, unknown>>) => ({
    id: root,
    parentId: 0n,
    seller,
    holder: ZeroAddress,
    debtor,
    faceValue: 100_000_00n,
    outstanding: 100_000_00n,
    dueDate: 1_900_000_000n,
    status: 7,
    financed: false,
    documentHash: docA,
    fingerprint: "0x" + "0".repeat(64),
    ...o,
  });

  type R = ReturnType<typeof receivable>;
  const flat = (r: R) => [r.id, r.parentId, r.holder, r.seller, r.debtor, r.faceValue, r.outstanding, r.dueDate, r.status, r.financed, r.documentHash, r.fingerprint];

  it("projects ReceivableImported: a split root as a tombstone, its children with lineage and the root's document", async function () {
    const r = receivable({});
    const e = await emit("Receivables", Receivables__factory.abi, "ReceivableImported", flat(r));
    expect(e.receivableId).to.equal(hex(root));
    expect(e.args).to.include({ seller, debtor, faceValue: "10000000", documentHash: docA, status: "7" });
    const c0 = receivable({ id: child0, parentId: root, holder: bank, faceValue: 60_000_00n, outstanding: 60_000_00n, status: 3, financed: true, documentHash: "0x" + "0".repeat(64) });
    const c1 = receivable({ id: child1, parentId: root, seller, holder: tier2, faceValue: 40_000_00n, outstanding: 15_000_00n, status: 2, documentHash: "0x" + "0".repeat(64) });
    for (const c of [c0, c1]) await emit("Receivables", Receivables__factory.abi, "ReceivableImported", flat(c));

    const repo = ds.getRepository(ReceivableEntity);
    expect(await repo.findOneByOrFail({ id: hex(root) })).to.include({ status: "split", holder: null, parentId: null, documentHash: docA, faceValue: 100_000_00n, seller, debtor });
    expect(await repo.findOneByOrFail({ id: hex(child0) })).to.include({ status: "financed", financed: true, holder: bank, parentId: hex(root), documentHash: docA, faceValue: 60_000_00n, outstanding: 60_000_00n });
    expect(await repo.findOneByOrFail({ id: hex(child1) })).to.include({ status: "accepted", financed: false, holder: tier2, parentId: hex(root), outstanding: 15_000_00n, dueDate: 1_900_000_000 });
  });

  it("projects a cancelled v1 receivable as a cancelled row without holder, keeping its document", async function () {
    const r = receivable({ id: cancelled, status: 6, documentHash: docC });
    await emit("Receivables", Receivables__factory.abi, "ReceivableImported", flat(r));
    expect(await ds.getRepository(ReceivableEntity).findOneByOrFail({ id: hex(cancelled) })).to.include({ status: "cancelled", holder: null, documentHash: docC });
  });

  it("projects CreditLineImported with its utilisation, scope and whether it is open", async function () {
    const line = { id: 1n, financier: bank, debtor, supplier: ZeroAddress, limit: 500_000_00n, utilised: 54_000_00n, maxAdvanceBps: 9000n, discountBps: 500n, expiry: 1_950_000_000n, open: true };
    const lineArgs = (l: typeof line) => [l.id, l.financier, l.debtor, l.supplier, l.limit, l.utilised, l.maxAdvanceBps, l.discountBps, l.expiry, l.open];
    await emit("Financing", Financing__factory.abi, "CreditLineImported", lineArgs(line));
    const closed = { ...line, id: 2n, debtor: ZeroAddress, supplier: seller, utilised: 0n, open: false };
    await emit("Financing", Financing__factory.abi, "CreditLineImported", lineArgs(closed));
    const repo = ds.getRepository(CreditLineEntity);
    expect(await repo.findOneByOrFail({ id: 1 })).to.include({ financier: bank, debtor, supplier: null, limit: 500_000_00n, utilised: 54_000_00n, maxAdvanceBps: 9000, discountBps: 500, expiry: 1_950_000_000, open: true });
    expect(await repo.findOneByOrFail({ id: 2 })).to.include({ debtor: null, supplier: seller, open: false });
  });

  it("projects FinancingImported: an active one with its principal (the line's utilisation follows), a v1 request as one whose terms lapsed", async function () {
    const active = { receivableId: child0, supplier: seller, lineId: 1n, status: 3, principal: 54_000_00n };
    await emit("Financing", Financing__factory.abi, "FinancingImported", [active.receivableId, active.lineId, active.supplier, active.status, active.principal]);
    const pending = { receivableId: child1, supplier: tier2, lineId: 1n, status: 1, principal: 0n };
    const e = await emit("Financing", Financing__factory.abi, "FinancingImported", [pending.receivableId, pending.lineId, pending.supplier, pending.status, pending.principal]);
    expect(e.receivableId).to.equal(hex(child1));
    expect(e.lineId).to.equal(1);

    const repo = ds.getRepository(FinancingEntity);
    expect(await repo.findOneByOrFail({ receivableId: hex(child0) })).to.include({ status: "active", principal: 54_000_00n, financier: bank, supplier: seller, lineId: 1, minPaid: null });
    expect(await repo.findOneByOrFail({ receivableId: hex(child1) })).to.include({ status: "requested", principal: 0n, financier: bank, supplier: tier2, minPaid: 0n, maxDiscount: 0n, expiresAt: 0 });
    expect((await ds.getRepository(CreditLineEntity).findOneByOrFail({ id: 1 })).utilised).to.equal(54_000_00n);
  });

  it("projects PaymentImported as a payment row of this ledger's import, dated when the older ledger was paid, and changes nothing else", async function () {
    const before = await ds.getRepository(ReceivableEntity).findOneByOrFail({ id: hex(child1) });
    const originalTx = h32("v1 payment tx");
    const e = await emit("Receivables", Receivables__factory.abi, "PaymentImported", [child1, debtor, tier2, 25_000_00n, 15_000_00n, 1_800_000_000n, 4_321n, originalTx, 2n]);
    expect(e.receivableId).to.equal(hex(child1));
    expect(e.args).to.include({ originalTxHash: originalTx, originalBlock: "4321", originalLogIndex: "2", paidAt: "1800000000" });
    const row = await ds.getRepository(PaymentEntity).findOneByOrFail({ txHash: e.txHash, logIndex: e.logIndex });
    expect(row).to.deep.include({ receivableId: hex(child1), debtor, holder: tier2, amount: 25_000_00n, outstandingAfter: 15_000_00n, blockNumber: e.blockNumber, timestamp: 1_800_000_000 });
    // History only: the receivable was imported as it ended.
    expect(await ds.getRepository(ReceivableEntity).findOneByOrFail({ id: hex(child1) })).to.deep.equal(before);
  });

  it("keeps BalanceImported and ImportSealed in the feed (nothing to project) and marks every imported record as from version 1, not the seal", async function () {
    await emit("SettlementToken", SettlementToken__factory.abi, "BalanceImported", [seller, 1_234_00n]);
    await emit("Receivables", Receivables__factory.abi, "ImportSealed", [migrator]);
    const feed = await ds.getRepository(LedgerEventEntity).find({ order: { blockNumber: "ASC", logIndex: "ASC" } });
    const names = feed.map((e) => e.eventName);
    expect(names).to.include.members(["MemberImported", "ReceivableImported", "PaymentImported", "CreditLineImported", "FinancingImported", "BalanceImported", "ImportSealed"]);
    // Every ledger emits ImportSealed (at construction when nothing is imported): it carries no record.
    for (const e of feed) expect(LedgerEventDto.from(e).importedFrom, e.eventName).to.equal(e.eventName === "ImportSealed" ? null : 1);
    expect(feed.find((e) => e.eventName === "BalanceImported")!.args).to.include({ holder: seller, amount: "123400" });
  });
});
