/**
 * Checks of the indexer's output against the chain itself, for integration tests:
 * - the projections against the contracts' view functions (receivable, creditLine, financing,
 *   member) read at the indexed block, and the payments against the ReceivablePaid logs;
 * - the event feed against eth_getLogs, decoded here independently of the indexer;
 * - a canonical dump of every indexer table, to compare two databases (a resumed or reorged index
 *   against a fresh index of the same chain).
 */
import { expect } from "chai";
import { getDataSourceToken } from "@nestjs/typeorm";
import type { INestApplication } from "@nestjs/common";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Interface, type Block, type Log } from "ethers";
import type { DataSource, EntityTarget, ObjectLiteral } from "typeorm";
import {
  Financing__factory,
  ParticipantRegistry__factory,
  Receivables__factory,
  SettlementToken__factory,
} from "../../typechain-types";
import { createApp } from "../../services/src/app.factory";
import { loadConfig } from "../../services/src/config/env";
import { IndexerService } from "../../services/src/indexer/indexer.service";
import { IndexedBlockEntity, IndexerStateEntity } from "../../services/src/indexer/entities/indexer-state.entity";
import { LedgerEventEntity, LedgerEventPartyEntity } from "../../services/src/read-model/entities/ledger-event.entity";
import {
  CreditLineEntity,
  FinancingEntity,
  MemberEntity,
  PaymentEntity,
  ReceivableEntity,
} from "../../services/src/read-model/entities/projections.entity";
import { createTestDatabase, type TestDatabase, type TestEnv } from "./app";
import { PROJECT_ROOT } from "../../platform/project-root";
import { receivableIdHex } from "../../shared/ids";

const ZERO = "0x0000000000000000000000000000000000000000";
const RECEIVABLE_STATUS = ["none", "issued", "accepted", "financed", "paid", "defaulted", "cancelled", "split"];
const FINANCING_STATUS = ["none", "requested", "rejected", "active", "repaid", "written_off"];
const MEMBER_STATUS = ["none", "active", "suspended"];


export function dataSourceOf(app: INestApplication): DataSource {
  return app.get<DataSource>(getDataSourceToken());
}

/** Every projected row equals the contracts' view of it at `atBlock`, and no row is missing or extra. */
export async function expectProjectionsMatchChain(ds: DataSource, env: TestEnv, atBlock: number): Promise<void> {
  const { registry, receivables, financing } = env.ledger;
  const at = { blockTag: atBlock };

  // Members
  const registered = await registry.queryFilter(registry.filters.MemberRegistered(), 0, atBlock);
  const memberRows = await ds.getRepository(MemberEntity).find();
  expect(memberRows.map((m) => m.address).sort(), "projected members").to.deep.equal(
    [...new Set(registered.map((l) => l.args.account))].sort(),
  );
  for (const row of memberRows) {
    const m = await registry.member(row.address, at);
    expect(
      {
        roles: row.roles,
        status: row.status,
        kycExpiry: row.kycExpiry,
        jurisdiction: row.jurisdiction,
        entityIdHash: row.entityIdHash,
      },
      `member ${row.address}`,
    ).to.deep.equal({
      roles: Number(m.roles),
      status: MEMBER_STATUS[Number(m.status)],
      kycExpiry: Number(m.kycExpiry),
      jurisdiction: Buffer.from(m.jurisdiction.slice(2), "hex").toString("latin1"),
      entityIdHash: m.entityIdHash,
    });
  }

  // Receivables, split children included
  const tokenised = await receivables.queryFilter(receivables.filters.ReceivableTokenised(), 0, atBlock);
  const splits = await receivables.queryFilter(receivables.filters.ReceivableSplit(), 0, atBlock);
  const ids = [...tokenised.map((l) => l.args.id), ...splits.map((l) => l.args.childId)].map(receivableIdHex).sort();
  const receivableRows = await ds.getRepository(ReceivableEntity).find();
  expect(receivableRows.map((r) => r.id).sort(), "projected receivables").to.deep.equal(ids);
  // A receivable's financier is its financing record's line's financier (a line's never changes).
  const lineFinancier = new Map<bigint, string>();
  const financierOnChain = async (id: bigint): Promise<string | null> => {
    const f = await financing.financing(id, at);
    if (Number(f.status) === 0) return null;
    if (!lineFinancier.has(f.lineId)) lineFinancier.set(f.lineId, (await financing.creditLine(f.lineId, at)).financier);
    return lineFinancier.get(f.lineId)!;
  };
  for (const row of receivableRows) {
    const v = await receivables.receivable(BigInt(row.id), at);
    expect(
      {
        financier: row.financier,
        holder: row.holder,
        debtor: row.debtor,
        faceValue: row.faceValue,
        outstanding: row.outstanding,
        dueDate: row.dueDate,
        status: row.status,
        financed: row.financed,
        parentId: row.parentId,
      },
      `receivable ${row.id}`,
    ).to.deep.equal({
      financier: await financierOnChain(BigInt(row.id)),
      holder: v.holder === ZERO ? null : v.holder,
      debtor: v.debtor,
      faceValue: v.faceValue,
      outstanding: v.outstanding,
      dueDate: Number(v.dueDate),
      status: RECEIVABLE_STATUS[Number(v.status)],
      financed: v.financed,
      parentId: v.parentId === 0n ? null : receivableIdHex(v.parentId),
    });
  }

  // Credit lines
  const lineCount = Number(await financing.creditLineCount(at));
  const lineRows = await ds.getRepository(CreditLineEntity).find({ order: { id: "ASC" } });
  expect(lineRows.map((l) => l.id), "projected credit lines").to.deep.equal(Array.from({ length: lineCount }, (_, i) => i + 1));
  for (const row of lineRows) {
    const v = await financing.creditLine(row.id, at);
    expect(
      {
        financier: row.financier,
        debtor: row.debtor,
        supplier: row.supplier,
        limit: row.limit,
        utilised: row.utilised,
        maxAdvanceBps: row.maxAdvanceBps,
        discountBps: row.discountBps,
        expiry: row.expiry,
        open: row.open,
      },
      `credit line ${row.id}`,
    ).to.deep.equal({
      financier: v.financier,
      debtor: v.debtor === ZERO ? null : v.debtor,
      supplier: v.supplier === ZERO ? null : v.supplier,
      limit: v.limit,
      utilised: v.utilised,
      maxAdvanceBps: Number(v.maxAdvanceBps),
      discountBps: Number(v.discountBps),
      expiry: Number(v.expiry),
      open: v.open,
    });
  }

  // Financings: one row per receivable whose financing exists on-chain
  const financingRows = await ds.getRepository(FinancingEntity).find();
  const onChainFinanced: string[] = [];
  for (const id of ids) {
    const f = await financing.financing(BigInt(id), at);
    if (Number(f.status) !== 0) onChainFinanced.push(id);
  }
  expect(financingRows.map((f) => f.receivableId).sort(), "projected financings").to.deep.equal(onChainFinanced.sort());
  for (const row of financingRows) {
    const v = await financing.financing(BigInt(row.receivableId), at);
    expect(
      { supplier: row.supplier, lineId: row.lineId, status: row.status, principal: row.principal },
      `financing ${row.receivableId}`,
    ).to.deep.equal({
      supplier: v.supplier,
      lineId: Number(v.lineId),
      status: FINANCING_STATUS[Number(v.status)],
      principal: v.principal,
    });
  }

  // Payments: one row per ReceivablePaid log
  const paid = await receivables.queryFilter(receivables.filters.ReceivablePaid(), 0, atBlock);
  const paymentRows = await ds.getRepository(PaymentEntity).find();
  const key = (p: { txHash: string; logIndex: number }) => `${p.txHash}:${p.logIndex}`;
  const expected = await Promise.all(
    paid.map(async (l) => ({
      txHash: l.transactionHash,
      logIndex: l.index,
      receivableId: receivableIdHex(l.args.id),
      debtor: l.args.debtor,
      holder: l.args.holder,
      amount: l.args.amount,
      outstandingAfter: l.args.outstanding,
      blockNumber: l.blockNumber,
      timestamp: (await l.getBlock()).timestamp,
    })),
  );
  expect(
    paymentRows.map((p) => ({ ...p })).sort((a, b) => key(a).localeCompare(key(b))),
    "projected payments",
  ).to.deep.equal(expected.sort((a, b) => key(a).localeCompare(key(b))));
}

const DECODERS: Array<[string, Interface]> = [
  ["ParticipantRegistry", new Interface(ParticipantRegistry__factory.abi)],
  ["SettlementToken", new Interface(SettlementToken__factory.abi)],
  ["Receivables", new Interface(Receivables__factory.abi)],
  ["Financing", new Interface(Financing__factory.abi)],
];

export interface ChainEvent {
  txHash: string;
  logIndex: number;
  blockNumber: number;
  blockHash: string;
  txIndex: number;
  timestamp: number;
  contract: string;
  address: string;
  eventName: string;
  args: Record<string, string | boolean>;
  txFrom: string;
}

/** The ledger contracts' events up to `upTo`, straight from eth_getLogs, decoded here. */
export async function chainEvents(env: TestEnv, upTo: number): Promise<ChainEvent[]> {
  const c = env.ledger.record.contracts;
  const byAddress = new Map<string, [string, Interface]>();
  DECODERS.forEach(([name, iface]) => byAddress.set(c[name as keyof typeof c].toLowerCase(), [name, iface]));
  const logs: Log[] = await env.chain.provider.getLogs({ address: [...byAddress.keys()], fromBlock: 0, toBlock: upTo });
  const blocks = new Map<number, Block>();
  const out: ChainEvent[] = [];
  for (const log of logs) {
    if (!blocks.has(log.blockNumber)) blocks.set(log.blockNumber, (await env.chain.provider.getBlock(log.blockNumber, true))!);
    const block = blocks.get(log.blockNumber)!;
    const [contract, iface] = byAddress.get(log.address.toLowerCase())!;
    const parsed = iface.parseLog({ topics: [...log.topics], data: log.data })!;
    const args: Record<string, string | boolean> = {};
    parsed.fragment.inputs.forEach((input, i) => {
      const v: unknown = parsed.args[i];
      args[input.name] = typeof v === "boolean" ? v : String(v);
    });
    const tx = block.prefetchedTransactions.find((t) => t.hash === log.transactionHash)!;
    out.push({
      txHash: log.transactionHash,
      logIndex: log.index,
      blockNumber: log.blockNumber,
      blockHash: block.hash!,
      txIndex: log.transactionIndex,
      timestamp: block.timestamp,
      contract,
      address: log.address,
      eventName: parsed.name,
      args,
      txFrom: tx.from,
    });
  }
  return out.sort((a, b) => a.blockNumber - b.blockNumber || a.txIndex - b.txIndex || a.logIndex - b.logIndex);
}

/** The event feed in its documented order: (block, tx index, log index). */
export async function eventFeed(ds: DataSource): Promise<LedgerEventEntity[]> {
  return ds
    .getRepository(LedgerEventEntity)
    .createQueryBuilder("e")
    .orderBy("e.block_number", "ASC")
    .addOrderBy("e.tx_index", "ASC")
    .addOrderBy("e.log_index", "ASC")
    .getMany();
}

/** Every event of the chain up to `upTo` is in the feed exactly once, in order, with its block,
 * time and sender; its parties are exactly the non-zero addresses among its arguments. */
export async function expectEventFeedMatchesChain(ds: DataSource, env: TestEnv, upTo: number): Promise<LedgerEventEntity[]> {
  const expected = await chainEvents(env, upTo);
  const feed = await eventFeed(ds);
  const dupes = await ds
    .getRepository(LedgerEventEntity)
    .createQueryBuilder("e")
    .select("e.tx_hash", "tx")
    .addSelect("e.log_index", "li")
    .addSelect("COUNT(*)", "n")
    .groupBy("e.tx_hash")
    .addGroupBy("e.log_index")
    .having("COUNT(*) > 1")
    .getRawMany();
  expect(dupes, "events stored more than once").to.deep.equal([]);
  expect(
    feed.map((e) => ({
      txHash: e.txHash,
      logIndex: e.logIndex,
      blockNumber: e.blockNumber,
      blockHash: e.blockHash,
      txIndex: e.txIndex,
      timestamp: e.timestamp,
      contract: e.contract,
      address: e.address,
      eventName: e.eventName,
      args: e.args,
      txFrom: e.txFrom,
    })),
    "event feed",
  ).to.deep.equal(expected);

  const parties = await ds.getRepository(LedgerEventPartyEntity).find();
  const byEvent = new Map<string, string[]>();
  for (const p of parties) {
    const k = `${p.txHash}:${p.logIndex}`;
    byEvent.set(k, [...(byEvent.get(k) ?? []), p.address]);
    expect(p.blockNumber).to.equal(feed.find((e) => e.txHash === p.txHash && e.logIndex === p.logIndex)?.blockNumber);
  }
  for (const e of feed) {
    const addresses = [
      ...new Set(
        Object.values(e.args).filter((v): v is string => typeof v === "string" && /^0x[0-9a-fA-F]{40}$/.test(v) && v !== ZERO),
      ),
    ].sort();
    expect((byEvent.get(`${e.txHash}:${e.logIndex}`) ?? []).sort(), `parties of ${e.eventName} ${e.txHash}:${e.logIndex}`).to.deep.equal(
      addresses,
    );
  }
  expect(parties.length).to.equal([...byEvent.values()].reduce((s, a) => s + a.length, 0));
  return feed;
}

type Row = Record<string, unknown>;

function normalise(row: ObjectLiteral, drop: string[] = []): Row {
  const out: Row = {};
  for (const [k, v] of Object.entries(row)) {
    if (drop.includes(k)) continue;
    out[k] = typeof v === "bigint" ? v.toString() : v;
  }
  return out;
}

async function sortedRows<T extends ObjectLiteral>(ds: DataSource, entity: EntityTarget<T>, drop: string[] = []): Promise<Row[]> {
  const rows = (await ds.getRepository(entity).find()).map((r) => normalise(r, drop));
  return rows.sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
}

export interface IndexDump {
  checkpoint: { blockNumber: number; blockHash: string } | null;
  events: Row[];
  parties: Row[];
  members: Row[];
  receivables: Row[];
  creditLines: Row[];
  financings: Row[];
  payments: Row[];
}

/** The indexer's tables in a canonical order (indexed_blocks aside: which hashes a run keeps
 * depends on its batch boundaries). */
export async function dumpIndex(ds: DataSource): Promise<IndexDump> {
  const state = await ds.getRepository(IndexerStateEntity).findOneBy({ id: "ledger" });
  return {
    checkpoint: state ? { blockNumber: state.blockNumber, blockHash: state.blockHash } : null,
    events: (await eventFeed(ds)).map((e) => normalise(e)),
    parties: await sortedRows(ds, LedgerEventPartyEntity),
    members: await sortedRows(ds, MemberEntity),
    receivables: await sortedRows(ds, ReceivableEntity),
    creditLines: await sortedRows(ds, CreditLineEntity),
    financings: await sortedRows(ds, FinancingEntity),
    payments: await sortedRows(ds, PaymentEntity),
  };
}

/** Every stored block hash is the chain's hash at that height (nothing from an abandoned fork). */
export async function expectStoredHashesOnChain(ds: DataSource, env: TestEnv): Promise<void> {
  for (const b of await ds.getRepository(IndexedBlockEntity).find()) {
    const onChain = await env.chain.provider.getBlock(b.number);
    expect(b.hash, `indexed block ${b.number}`).to.equal(onChain?.hash);
  }
  for (const e of await eventFeed(ds)) {
    const onChain = await env.chain.provider.getBlock(e.blockNumber);
    expect(e.blockHash, `event ${e.txHash}:${e.logIndex}`).to.equal(onChain?.hash);
  }
}

export interface SecondService {
  app: INestApplication;
  ds: DataSource;
  indexer: IndexerService;
  db: TestDatabase;
  close(): Promise<void>;
}

/** The service against the same chain and deployment but a brand-new empty database, with its
 * background loops off. */
export async function startOnFreshDatabase(env: TestEnv, overrides: Record<string, string> = {}): Promise<SecondService> {
  const dir = mkdtempSync(join(tmpdir(), "scf-svc-fresh-"));
  const db = await createTestDatabase(dir);
  const config = loadConfig(
    { ...env.env, DATABASE_URL: db.url, INDEXER_ENABLED: "false", SENDER_ENABLED: "false", ...overrides },
    PROJECT_ROOT,
  );
  const app = await createApp(config);
  await app.init();
  return {
    app,
    ds: dataSourceOf(app),
    indexer: app.get(IndexerService),
    db,
    async close() {
      await app.close();
      await db.drop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * The index at `head` is the chain's: the event feed and every projection equal what the chain says,
 * and the whole index equals a fresh index of the chain built on an empty database.
 */
export async function expectIndexEqualsChain(ds: DataSource, env: TestEnv, head: number): Promise<void> {
  await expectEventFeedMatchesChain(ds, env, head);
  await expectProjectionsMatchChain(ds, env, head);
  expect(await dumpIndex(ds)).to.deep.equal(await freshIndexDump(env));
}

/** What a fresh index of the chain as it is now looks like. */
export async function freshIndexDump(env: TestEnv, overrides: Record<string, string> = {}): Promise<IndexDump> {
  const fresh = await startOnFreshDatabase(env, { LOG_LEVEL: "error", ...overrides });
  try {
    expect(await fresh.ds.getRepository(LedgerEventEntity).count(), "the fresh database is empty").to.equal(0);
    await fresh.indexer.catchUp();
    return await dumpIndex(fresh.ds);
  } finally {
    await fresh.close();
  }
}
