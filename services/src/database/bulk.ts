/**
 * Multi-row INSERT and INSERT … ON CONFLICT DO UPDATE for the indexer's hot tables, as one plain
 * statement per chunk. TypeORM's query builder produces the same SQL but spends more CPU building
 * it (parameter naming and escaping, per value) than SQLite spends running it: indexing 100,000
 * events was 60 % builder. Values still pass through the driver's own preparePersistentValue
 * (column transformers, simple-json, booleans), so rows are stored exactly as the builder stores
 * them. Column and table names come from the entity metadata. On PostgreSQL a chunk is one
 * multi-row statement (one round trip); on SQLite, in process, each row runs one single-row
 * statement prepared once (writeSqliteRows).
 */
import { QueryFailedError, type EntityManager, type EntityTarget, type ObjectLiteral } from "typeorm";
import type { ColumnMetadata } from "typeorm/metadata/ColumnMetadata";

/** Bound parameters per statement: under SQLite's 32,766 and PostgreSQL's 65,535. */
const MAX_PARAMS = 30_000;

interface Plan {
  table: string;
  columns: ColumnMetadata[];
  names: string[];
  postgres: boolean;
  /** better-sqlite3: rows go through writeSqliteRows. */
  sqlite: boolean;
  /** Per column: the property to read as it is, or null to go through getEntityValue and the
   * driver's preparePersistentValue. */
  plain: Array<string | null>;
}

/** Column types both drivers' preparePersistentValue pass through unchanged (no transformer). */
const PASS_THROUGH = new Set<unknown>(["varchar", "character varying", "text", "integer", "int"]);

/**
 * A column whose value the drivers store as the entity holds it: a top-level property of a plain
 * type, without transformer. Reading it directly skips two generic calls per value (1.4 million
 * for 100,000 feed rows).
 */
function plainProperty(c: ColumnMetadata): string | null {
  return !c.transformer && !c.embeddedMetadata && !c.relationMetadata && !c.isArray && PASS_THROUGH.has(c.type) ? c.propertyName : null;
}

const plans = new WeakMap<object, Map<EntityTarget<ObjectLiteral>, Plan>>();

function plan(m: EntityManager, target: EntityTarget<ObjectLiteral>): Plan {
  let byTarget = plans.get(m.connection);
  if (!byTarget) plans.set(m.connection, (byTarget = new Map()));
  let p = byTarget.get(target);
  if (p) return p;
  const meta = m.connection.getMetadata(target);
  const driver = m.connection.driver;
  const columns = meta.columns.filter((c) => !c.isVirtual && !c.isGenerated);
  p = {
    table: driver.escape(meta.tableName),
    columns,
    names: columns.map((c) => driver.escape(c.databaseName)),
    postgres: m.connection.options.type === "postgres",
    sqlite: m.connection.options.type === "better-sqlite3",
    plain: columns.map(plainProperty),
  };
  byTarget.set(target, p);
  return p;
}

/** The part of a better-sqlite3 statement and connection used here (the package ships no types). */
interface SqliteStatement {
  run(params: unknown[]): unknown;
}
interface SqliteConnection {
  prepare(sql: string): SqliteStatement;
  /** better-sqlite3: a transaction is open on the connection. */
  readonly inTransaction: boolean;
}

function sqliteConnection(m: EntityManager): SqliteConnection {
  return (m.connection.driver as unknown as { databaseConnection: SqliteConnection }).databaseConnection;
}

/** Per better-sqlite3 connection, its single-row statements by SQL text, prepared once. */
const sqliteStatements = new WeakMap<object, Map<string, SqliteStatement>>();

/**
 * SQLite (in process): one single-row statement, prepared once per connection and run once per
 * row, instead of multi-row VALUES lists. With no round trip to save, a multi-row statement only
 * costs more: SQLite compiles a program as long as its rows (again for each new row count), and the
 * parameters go through an argument spread. A micro-benchmark of 100,000 feed-shaped rows in
 * transactions of 2,000: 1.04-1.19 s of CPU with 2,300-row statements, 0.71-0.80 s with this. The
 * statements run on the driver's one connection, inside the caller's transaction (TypeORM's
 * better-sqlite3 driver has only that connection); errors are TypeORM's QueryFailedError as before.
 */
function writeSqliteRows(m: EntityManager, p: Plan, rows: readonly ObjectLiteral[], tail: string): void {
  const db = sqliteConnection(m);
  let cache = sqliteStatements.get(db);
  if (!cache) sqliteStatements.set(db, (cache = new Map()));
  const sql = `INSERT INTO ${p.table} (${p.names.join(", ")}) VALUES (${p.columns.map(() => "?").join(", ")})${tail}`;
  const params: unknown[] = new Array(p.columns.length);
  let stmt = cache.get(sql);
  if (!stmt) {
    try {
      stmt = db.prepare(sql);
    } catch (err) {
      throw new QueryFailedError(sql, [], err as Error);
    }
    cache.set(sql, stmt);
  }
  for (const row of rows) {
    rowParams(m, p, row, params, 0);
    try {
      stmt.run(params);
    } catch (err) {
      throw new QueryFailedError(sql, params, err as Error);
    }
  }
}

/** `row`'s column values as the driver stores them, into `params` from `at`. */
function rowParams(m: EntityManager, p: Plan, row: ObjectLiteral, params: unknown[], at: number): void {
  const driver = m.connection.driver;
  for (let k = 0; k < p.columns.length; k++) {
    const c = p.columns[k];
    const prop = p.plain[k];
    const raw: unknown = prop !== null ? row[prop] : c.getEntityValue(row);
    if (raw === undefined && !c.isNullable) {
      throw new Error(`bulk insert into ${p.table}: column ${c.propertyName} has no value`);
    }
    params[at + k] = raw === undefined ? null : prop !== null ? raw : (driver.preparePersistentValue(raw, c) ?? null);
  }
}

async function write(
  m: EntityManager,
  target: EntityTarget<ObjectLiteral>,
  rows: readonly ObjectLiteral[],
  tail: (p: Plan) => string,
  stored: readonly string[] = [],
  returning = false,
): Promise<unknown[]> {
  const out: unknown[] = [];
  if (rows.length === 0) return out;
  const p = storedAsIs(plan(m, target), stored);
  // Row by row only inside a transaction: outside one, each row would commit alone and a failing row
  // would leave the rows before it stored, where one multi-row statement stores all or none.
  if (p.sqlite && !returning && (rows.length === 1 || sqliteConnection(m).inTransaction)) {
    writeSqliteRows(m, p, rows, tail(p));
    return out;
  }
  const perStatement = Math.max(1, Math.floor(MAX_PARAMS / p.columns.length));
  for (let i = 0; i < rows.length; i += perStatement) {
    const params: unknown[] = [];
    const sqliteTuple = `(${p.columns.map(() => "?").join(", ")})`;
    const tuples = rows.slice(i, i + perStatement).map((row) => {
      rowParams(m, p, row, params, params.length);
      if (!p.postgres) return sqliteTuple;
      const first = params.length - p.columns.length;
      return `(${p.columns.map((_, k) => `$${first + k + 1}`).join(", ")})`;
    });
    const res: unknown = await m.query(`INSERT INTO ${p.table} (${p.names.join(", ")}) VALUES ${tuples.join(", ")}${tail(p)}`, params);
    if (Array.isArray(res)) out.push(...(res as unknown[]));
  }
  return out;
}

/**
 * The plan with the properties in `stored` read as they are: their rows hold the column's stored
 * form already (for a simple-json column the JSON text the driver would write), not the value the
 * driver would convert.
 */
function storedAsIs(p: Plan, stored: readonly string[]): Plan {
  if (stored.length === 0) return p;
  const plain = p.columns.map((c, k) => (stored.includes(c.propertyName) ? c.propertyName : p.plain[k]));
  for (const name of stored) {
    if (!p.columns.some((c) => c.propertyName === name)) throw new Error(`bulk insert into ${p.table}: no column ${name}`);
  }
  return { ...p, plain };
}

/**
 * INSERT of every row (a conflict is an error, as with the builder's insert). `stored` names
 * properties whose values are the column's stored form already (see storedAsIs).
 */
export async function insertRows(
  m: EntityManager,
  target: EntityTarget<ObjectLiteral>,
  rows: readonly ObjectLiteral[],
  stored: readonly string[] = [],
): Promise<void> {
  await write(m, target, rows, () => "", stored);
}

/**
 * INSERT of one row whose primary key the database generates (an auto-increment id), as the
 * repository's `save` of a new entity does, in one plain INSERT … RETURNING without the
 * persistence machinery: sets the generated key on `row` and returns it.
 */
export async function insertGenerated<T extends ObjectLiteral>(m: EntityManager, target: EntityTarget<T>, row: T): Promise<T> {
  const meta = m.connection.getMetadata(target);
  const key = meta.primaryColumns[0];
  const driver = m.connection.driver;
  const res = (await write(m, target, [row], () => ` RETURNING ${driver.escape(key.databaseName)}`, [], true)) as Array<Record<string, unknown>>;
  const value = res[0]?.[key.databaseName];
  if (value === undefined) throw new Error(`insert into ${meta.tableName}: no ${key.databaseName} came back`);
  key.setEntityValue(row, driver.prepareHydratedValue(value, key));
  return row;
}

/**
 * Insert-or-replace keyed on `keys` (property names of a unique constraint): a row that exists gets
 * every other column from the new row. No two rows of one call may share a key.
 */
export async function upsertRows(
  m: EntityManager,
  target: EntityTarget<ObjectLiteral>,
  rows: readonly ObjectLiteral[],
  keys: readonly string[],
): Promise<void> {
  await write(m, target, rows, (p) => {
    const key = new Set(keys);
    const driver = m.connection.driver;
    const conflict = p.columns.filter((c) => key.has(c.propertyName)).map((c) => driver.escape(c.databaseName));
    const updates = p.columns.filter((c) => !key.has(c.propertyName)).map((c) => `${driver.escape(c.databaseName)} = excluded.${driver.escape(c.databaseName)}`);
    return ` ON CONFLICT (${conflict.join(", ")}) DO ${updates.length ? `UPDATE SET ${updates.join(", ")}` : "NOTHING"}`;
  });
}
