/**
 * Verification of the service's database against the chain.
 *
 * The chain is the source of truth and the database only a projection of it, so verification
 * recomputes the projection from nothing but the chain: it reads the four ledger contracts' logs
 * with eth_getLogs from the block the indexer starts at up to the indexer checkpoint, decodes and
 * folds them with the indexer's own code (ledger-log.ts, projector.ts) into a throwaway in-memory
 * SQLite database built by the same migrations, and compares every row and every column of the
 * members, receivables, credit_lines, financings, payments, ledger_events and ledger_event_parties
 * tables with the live database. On request it also reads each live row back from the contracts'
 * view functions at the checkpoint block.
 *
 * Consistency: the live side is read inside one snapshot (a REPEATABLE READ transaction on
 * PostgreSQL; a read transaction on a second, read-only SQLite connection in WAL mode) and the
 * checkpoint is read inside that snapshot too, so rows the indexer writes meanwhile are invisible
 * and cannot show up as false differences. Only an in-memory live database (DATABASE_URL=:memory:)
 * cannot be opened twice; there the checkpoint is re-read at the end and the run refused if it moved.
 * One verification runs at a time.
 */
import { HttpException, HttpStatus, Inject, Injectable, Logger, ServiceUnavailableException } from "@nestjs/common";
import { InjectDataSource } from "@nestjs/typeorm";
import { ZeroAddress } from "ethers";
import { DataSource, type EntityManager, type EntityTarget, type ObjectLiteral, type QueryRunner } from "typeorm";
import { ChainService } from "../chain/chain.service";
import { APP_CONFIG, type AppConfig } from "../config/env";
import { dataSourceOptions, openDatabase } from "../database/data-source";
import { IndexerStateEntity } from "../indexer/entities/indexer-state.entity";
import { LedgerEventEntity, LedgerEventPartyEntity } from "../read-model/entities/ledger-event.entity";
import {
  CreditLineEntity,
  FinancingEntity,
  HeldPaymentEntity,
  MemberEntity,
  PaymentEntity,
  ReceivableEntity,
} from "../read-model/entities/projections.entity";
import {
  LedgerLogDecoder,
  readLogs,
  ReorgDetected,
  appendAndProject,
  indexerStartBlock,
  readRpcBlock,
  type RpcBlock,
} from "../indexer/ledger-log";
import type { TableCountDto, VerifyDifferenceDto, VerifyReportDto } from "./dto/verify-report.dto";

type Value = string | number | boolean | null;

/** Where the live rows are read from; `isolated` when that is a snapshot no concurrent write changes. */
interface Snapshot {
  manager: EntityManager;
  isolated: boolean;
  close(): Promise<void>;
}
type Difference = VerifyDifferenceDto;

/** Compared tables, in report order. */
export const VERIFIED_TABLES: Array<{ table: string; entity: EntityTarget<ObjectLiteral> }> = [
  { table: "members", entity: MemberEntity },
  { table: "receivables", entity: ReceivableEntity },
  { table: "credit_lines", entity: CreditLineEntity },
  { table: "financings", entity: FinancingEntity },
  { table: "payments", entity: PaymentEntity },
  { table: "held_payments", entity: HeldPaymentEntity },
  { table: "ledger_events", entity: LedgerEventEntity },
  { table: "ledger_event_parties", entity: LedgerEventPartyEntity },
];

const PAGE = 1_000;
const VIEW_CONCURRENCY = 25;
const RECEIVABLE_STATUS = ["none", "issued", "accepted", "financed", "paid", "defaulted", "cancelled", "split"];
const FINANCING_STATUS = ["none", "requested", "rejected", "active", "repaid", "written_off"];
const MEMBER_STATUS = ["none", "active", "suspended"];

@Injectable()
export class VerifyService {
  private readonly logger = new Logger(VerifyService.name);
  private running = false;

  constructor(
    // A verification reads every projection table in one snapshot (a query runner on the whole database).
    @InjectDataSource() private readonly ds: DataSource,
    private readonly chain: ChainService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async verify(opts: { contracts?: boolean } = {}): Promise<VerifyReportDto> {
    if (this.running) {
      throw new HttpException("a verification is already running; retry when it has finished", HttpStatus.TOO_MANY_REQUESTS);
    }
    this.running = true;
    let snapshot: Snapshot | null = null;
    let fold: DataSource | null = null;
    try {
      snapshot = await this.openSnapshot();
      const cp = await snapshot.manager.findOneBy(IndexerStateEntity, { id: "ledger" });
      if (!cp) throw new ServiceUnavailableException("the indexer has not started yet: there is nothing to verify");
      const fromBlock = indexerStartBlock(this.chain.deployment.blockNumber) + 1;
      fold = await openDatabase({ kind: "sqlite", path: ":memory:" });
      const logs = await this.foldChain(fold, fromBlock, cp.blockNumber, cp.blockHash);

      const differences: Difference[] = [];
      const counts: Record<string, TableCountDto> = {};
      for (const { table, entity } of VERIFIED_TABLES) {
        counts[table] = await compareTable(table, entity, fold.manager, snapshot.manager, differences);
      }
      await this.compareHeldMoney(snapshot.manager, cp.blockNumber, !!opts.contracts, differences);
      if (opts.contracts) await this.compareWithContracts(snapshot.manager, cp.blockNumber, differences);

      if (!snapshot.isolated) {
        const now = await this.ds.manager.findOneBy(IndexerStateEntity, { id: "ledger" });
        if (now?.blockNumber !== cp.blockNumber || now.blockHash !== cp.blockHash) {
          throw new ServiceUnavailableException(
            "the indexer moved on while the database was being compared (in-memory databases cannot be read in a snapshot); retry",
          );
        }
      }
      return {
        checkedAt: new Date().toISOString(),
        checkpointBlock: cp.blockNumber,
        checkpointHash: cp.blockHash,
        fromBlock,
        logs,
        contractsChecked: !!opts.contracts,
        counts,
        differences,
        ok: differences.length === 0,
      };
    } catch (err) {
      if (err instanceof ReorgDetected) {
        throw new ServiceUnavailableException(`the chain reorganised under the indexer checkpoint (${err.message}); retry once the indexer has caught up`);
      }
      throw err;
    } finally {
      if (snapshot) await snapshot.close();
      if (fold) await fold.destroy();
      this.running = false;
    }
  }

  /** Reads the ledger logs of blocks [from, to] in batches and folds them into `fold` exactly as the
   * indexer does. Returns the number of logs read. */
  private async foldChain(fold: DataSource, from: number, to: number, toHash: string): Promise<number> {
    const decoder = new LedgerLogDecoder(this.chain.addresses);
    const provider = this.chain.provider;
    let count = 0;
    for (let start = from; start <= to; start += this.config.INDEXER_BATCH_BLOCKS) {
      const end = Math.min(to, start + this.config.INDEXER_BATCH_BLOCKS - 1);
      const logs = await readLogs(provider, decoder.addresses, start, end);
      const numbers = [...new Set(logs.map((l) => l.blockNumber))];
      const blocks = new Map<number, RpcBlock>();
      const fetched = await Promise.all(numbers.map((n) => readRpcBlock(provider, n, true)));
      numbers.forEach((n, i) => blocks.set(n, fetched[i]));
      for (const log of logs) {
        if (blocks.get(log.blockNumber)!.hash !== log.blockHash) throw new ReorgDetected(`a log of block ${log.blockNumber} is from another fork`);
      }
      const events = logs.map((l) => decoder.decode(l, blocks.get(l.blockNumber)!)).filter((e) => e !== null);
      await fold.transaction((m) => appendAndProject(m, events));
      count += logs.length;
    }
    const head = await readRpcBlock(provider, to, false);
    if (head.hash !== toHash) throw new ReorgDetected(`block ${to} is now ${head.hash}, the checkpoint says ${toHash}`);
    return count;
  }

  /**
   * Money the ledger holds: the Receivables contract's token balance at the checkpoint must equal the
   * held_payments projection's total. With `supply`, also token supply = members' balances + held,
   * reading each projected member's balance (only members and the ledger can hold the token).
   */
  private async compareHeldMoney(live: EntityManager, block: number, supply: boolean, out: Difference[]): Promise<void> {
    const { token } = this.chain.contracts;
    const at = { blockTag: block };
    const held = (await live.find(HeldPaymentEntity)).reduce((sum, r) => sum + r.amount, 0n);
    const ledgerBalance = await token.balanceOf(this.chain.addresses.Receivables, at);
    if (ledgerBalance !== held) {
      out.push({ table: "held_payments", key: "(total)", field: "amount", expected: ledgerBalance.toString(), actual: held.toString(), source: "contracts" });
    }
    if (!supply) return;
    let balances = 0n;
    for (const m of await live.find(MemberEntity, { select: { address: true } })) balances += await token.balanceOf(m.address, at);
    const total = await token.totalSupply(at);
    if (total !== balances + ledgerBalance) {
      out.push({
        table: "settlement_token",
        key: "totalSupply",
        field: "members' balances + held",
        expected: total.toString(),
        actual: (balances + ledgerBalance).toString(),
        source: "contracts",
      });
    }
  }

  /** Reads every live member, receivable, credit line and financing back from the contracts. */
  private async compareWithContracts(live: EntityManager, block: number, out: Difference[]): Promise<void> {
    const { registry, receivables, financing } = this.chain.contracts;
    const at = { blockTag: block };
    const check = async <T extends ObjectLiteral>(
      table: string,
      entity: EntityTarget<T>,
      keyOf: (row: T) => string,
      read: (row: T) => Promise<Record<string, Value> | null>,
      project: (row: T) => Record<string, Value>,
    ) => {
      for await (const page of pagesByKey(live, entity)) {
        for (let i = 0; i < page.length; i += VIEW_CONCURRENCY) {
          const slice = page.slice(i, i + VIEW_CONCURRENCY);
          const onChain = await Promise.all(slice.map(read));
          slice.forEach((row, j) => {
            const key = keyOf(row);
            const expected = onChain[j];
            if (!expected) {
              out.push({ table, key, field: "(row)", expected: "absent", actual: "present", source: "contracts" });
              return;
            }
            const actual = project(row);
            for (const [field, value] of Object.entries(expected)) {
              if (value !== actual[field]) out.push({ table, key, field, expected: value, actual: actual[field], source: "contracts" });
            }
          });
        }
      }
    };
    const orNull = (a: string) => (a === ZeroAddress ? null : a);

    await check(
      "members",
      MemberEntity,
      (m) => m.address,
      async (m) => {
        const v = await registry.member(m.address, at);
        if (v.status === 0n) return null;
        return {
          roles: Number(v.roles),
          status: MEMBER_STATUS[Number(v.status)],
          kyc_expiry: Number(v.kycExpiry),
          jurisdiction: Buffer.from(v.jurisdiction.slice(2), "hex").toString("latin1"),
          entity_id_hash: v.entityIdHash,
        };
      },
      (m) => ({ roles: m.roles, status: m.status, kyc_expiry: m.kycExpiry, jurisdiction: m.jurisdiction, entity_id_hash: m.entityIdHash }),
    );
    await check(
      "receivables",
      ReceivableEntity,
      (r) => r.id,
      async (r) => {
        const v = await receivables.receivable(r.id, at).catch(() => null);
        if (!v) return null;
        return {
          holder: orNull(v.holder),
          debtor: v.debtor,
          face_value: v.faceValue.toString(),
          outstanding: v.outstanding.toString(),
          due_date: Number(v.dueDate),
          status: RECEIVABLE_STATUS[Number(v.status)],
          financed: v.financed,
          parent_id: v.parentId === 0n ? null : "0x" + v.parentId.toString(16).padStart(64, "0"),
        };
      },
      (r) => ({
        holder: r.holder,
        debtor: r.debtor,
        face_value: r.faceValue.toString(),
        outstanding: r.outstanding.toString(),
        due_date: r.dueDate,
        status: r.status,
        financed: r.financed,
        parent_id: r.parentId,
      }),
    );
    await check(
      "credit_lines",
      CreditLineEntity,
      (l) => String(l.id),
      async (l) => {
        const v = await financing.creditLine(l.id, at).catch(() => null);
        if (!v) return null;
        return {
          financier: v.financier,
          debtor: orNull(v.debtor),
          supplier: orNull(v.supplier),
          limit_amount: v.limit.toString(),
          utilised: v.utilised.toString(),
          max_advance_bps: Number(v.maxAdvanceBps),
          discount_bps: Number(v.discountBps),
          expiry: Number(v.expiry),
          open: v.open,
        };
      },
      (l) => ({
        financier: l.financier,
        debtor: l.debtor,
        supplier: l.supplier,
        limit_amount: l.limit.toString(),
        utilised: l.utilised.toString(),
        max_advance_bps: l.maxAdvanceBps,
        discount_bps: l.discountBps,
        expiry: l.expiry,
        open: l.open,
      }),
    );
    await check(
      "financings",
      FinancingEntity,
      (f) => f.receivableId,
      async (f) => {
        const v = await financing.financing(f.receivableId, at);
        if (v.status === 0n) return null;
        return {
          supplier: v.supplier,
          line_id: Number(v.lineId),
          status: FINANCING_STATUS[Number(v.status)],
          principal: v.principal.toString(),
        };
      },
      (f) => ({ supplier: f.supplier, line_id: f.lineId, status: f.status, principal: f.principal.toString() }),
    );
  }

  /** A read-only view of the live database frozen at its first read. */
  private async openSnapshot(): Promise<Snapshot> {
    const database = this.config.database;
    let qr: QueryRunner;
    let own: DataSource | null = null;
    if (database.kind === "postgres") {
      qr = this.ds.createQueryRunner();
      await qr.connect();
      await qr.startTransaction("REPEATABLE READ");
    } else if (database.path !== ":memory:") {
      // better-sqlite3 shares one connection inside TypeORM: a transaction there would capture the
      // indexer's writes. A second read-only connection gets its own WAL snapshot instead.
      own = new DataSource({ ...dataSourceOptions(database), readonly: true, enableWAL: false, migrations: [] } as never);
      await own.initialize();
      qr = own.createQueryRunner();
      await qr.startTransaction();
    } else {
      return { manager: this.ds.manager, isolated: false, close: async () => undefined };
    }
    return {
      manager: qr.manager,
      isolated: true,
      close: async () => {
        try {
          if (qr.isTransactionActive) await qr.rollbackTransaction();
          await qr.release();
        } catch (err) {
          this.logger.warn(`closing the verification snapshot: ${(err as Error).message}`);
        }
        if (own) await own.destroy();
      },
    };
  }
}

/** Compares one table row by row and column by column; returns its row counts. The recomputed side
 * is held in memory (it is an in-memory database already); the live side is read page by page. */
async function compareTable(
  table: string,
  entity: EntityTarget<ObjectLiteral>,
  expectedSide: EntityManager,
  liveSide: EntityManager,
  out: Difference[],
): Promise<TableCountDto> {
  const meta = liveSide.connection.getMetadata(entity);
  const keyOf = (row: ObjectLiteral) => meta.primaryColumns.map((c) => String(c.getEntityValue(row))).join(":");
  const expected = new Map<string, ObjectLiteral>();
  for await (const page of pagesByKey(expectedSide, entity)) for (const row of page) expected.set(keyOf(row), row);
  const counts = { expected: expected.size, actual: 0 };
  for await (const page of pagesByKey(liveSide, entity)) {
    for (const row of page) {
      counts.actual += 1;
      const key = keyOf(row);
      const want = expected.get(key);
      if (!want) {
        out.push({ table, key, field: "(row)", expected: "absent", actual: "present", source: "logs" });
        continue;
      }
      expected.delete(key);
      for (const c of meta.columns) {
        const e = normalise(c.getEntityValue(want));
        const a = normalise(c.getEntityValue(row));
        if (e !== a) out.push({ table, key, field: c.databaseName, expected: e, actual: a, source: "logs" });
      }
    }
  }
  for (const key of expected.keys()) out.push({ table, key, field: "(row)", expected: "present", actual: "absent", source: "logs" });
  return counts;
}

/** All rows of `entity`, in primary-key order, a page at a time (keyset, no OFFSET). */
async function* pagesByKey<T extends ObjectLiteral>(m: EntityManager, entity: EntityTarget<T>): AsyncGenerator<T[]> {
  const pk = m.connection.getMetadata(entity).primaryColumns;
  let last: unknown[] | null = null;
  for (;;) {
    const qb = m.createQueryBuilder(entity, "t");
    pk.forEach((c) => qb.addOrderBy(`t.${c.databaseName}`, "ASC"));
    if (last) {
      // (k1 > v1) OR (k1 = v1 AND k2 > v2) OR …
      const params: Record<string, unknown> = {};
      const ors = pk.map((c, i) => {
        params[`k${i}`] = last![i];
        const eq = pk.slice(0, i).map((p, j) => `t.${p.databaseName} = :k${j}`);
        return "(" + [...eq, `t.${c.databaseName} > :k${i}`].join(" AND ") + ")";
      });
      qb.where(ors.join(" OR "), params);
    }
    const rows = await qb.limit(PAGE).getMany();
    if (rows.length) yield rows;
    if (rows.length < PAGE) return;
    last = pk.map((c) => c.getEntityValue(rows[rows.length - 1]));
  }
}

/** A column value in a form equal on both engines, and readable in a report. */
function normalise(v: unknown): Value {
  if (v === null || v === undefined) return null;
  if (typeof v === "bigint") return v.toString();
  if (typeof v === "object") return canonicalJson(v);
  return v as string | number | boolean;
}

function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(",")}]`;
  if (v && typeof v === "object") {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`)
      .join(",")}}`;
  }
  return JSON.stringify(v);
}
