/**
 * The secondary indexes a long catch-up leaves off while it writes, and puts back before it ends.
 *
 * Maintaining the event feed's and the receivables' query indexes row by row was most of what a
 * catch-up from far behind spent in SQLite; building each once at the end (a sort of the whole
 * table) is cheaper when the rows written outnumber the rows already there. Only plain
 * (non-unique, unconditional) indexes that the indexer itself never reads while it writes are
 * dropped: unique indexes are constraints (and the targets of ON CONFLICT), and the projector's
 * lookups go by primary key.
 *
 * No state records that indexes are off: the entities declare every index, so "an index the
 * entities declare is missing from the database" is the state, read back from the catalogue. A
 * crash while they are off leaves the rows and the checkpoint exactly as committed; the next
 * catchUp() (or a rollback) creates whatever is missing before it ends. Reads served meanwhile are
 * correct, only slower.
 */
import type { EntityManager } from "typeorm";
import { LedgerEventEntity, LedgerEventPartyEntity } from "../read-model/entities/ledger-event.entity";
import { ReceivableEntity } from "../read-model/entities/projections.entity";

/** The tables whose plain indexes a long catch-up defers: the ones it writes a row (or more) per event into. */
const DEFERRED_TABLES = [LedgerEventEntity, LedgerEventPartyEntity, ReceivableEntity];

interface IndexDefinition {
  name: string;
  table: string;
  columns: string[];
}

/** The deferrable indexes, as the entities declare them (the migrations create the same). */
export function deferrableIndexes(m: EntityManager): IndexDefinition[] {
  return DEFERRED_TABLES.flatMap((target) => {
    const meta = m.connection.getMetadata(target);
    return meta.indices
      .filter((i) => !i.isUnique && !i.where && !i.isSpatial && !i.isFulltext && i.name)
      .map((i) => ({ name: i.name, table: meta.tableName, columns: i.columns.map((c) => c.databaseName) }));
  });
}

/** Names of the deferrable indexes the database has now. */
export async function presentIndexes(m: EntityManager): Promise<Set<string>> {
  const names = deferrableIndexes(m).map((d) => d.name);
  const rows = (m.connection.options.type === "postgres"
    ? await m.query("SELECT indexname AS name FROM pg_indexes WHERE schemaname = current_schema() AND indexname = ANY($1)", [names])
    : await m.query(`SELECT name FROM sqlite_master WHERE type = 'index' AND name IN (${names.map(() => "?").join(", ")})`, names)) as Array<{ name: string }>;
  return new Set(rows.map((r) => r.name));
}

/** Drops the deferrable indexes (those present). Returns how many were dropped. */
export async function dropDeferrableIndexes(m: EntityManager): Promise<number> {
  const present = await presentIndexes(m);
  const driver = m.connection.driver;
  let n = 0;
  for (const d of deferrableIndexes(m)) {
    if (!present.has(d.name)) continue;
    await m.query(`DROP INDEX IF EXISTS ${driver.escape(d.name)}`);
    n++;
  }
  return n;
}

/** Creates the deferrable indexes that are missing. Returns how many were created. */
export async function restoreDeferrableIndexes(m: EntityManager): Promise<number> {
  const present = await presentIndexes(m);
  const driver = m.connection.driver;
  let n = 0;
  for (const d of deferrableIndexes(m)) {
    if (present.has(d.name)) continue;
    const cols = d.columns.map((c) => driver.escape(c)).join(", ");
    await m.query(`CREATE INDEX IF NOT EXISTS ${driver.escape(d.name)} ON ${driver.escape(d.table)} (${cols})`);
    n++;
  }
  return n;
}
