/**
 * Selects whose SQL TypeORM builds once per shape instead of once per request.
 *
 * Building a select with the query builder and turning it into SQL (`getQueryAndParameters`:
 * column lists, alias and property-path rewriting, parameter escaping, all by regular expressions
 * over the whole statement) cost about 0.1 ms of CPU per statement on the bench machine, the same
 * for every request of a route. `compiledRaw` builds the statement once per data source and `key`
 * with a marker in place of each parameter value, notes which parameter each placeholder of the
 * driver's SQL stands for, and afterwards only fills the values in and runs the SQL (through the
 * data source's own `query`, so logging and the pool are as before). The rows are `getRawMany`'s
 * for the same builder; hydrate them with `entitiesOf` (raw-rows.ts).
 *
 * The caller's `key` must name everything that shapes the SQL apart from the parameter values:
 * two builders under one key must differ only in their parameters. An array parameter (`:...ids`)
 * gives one placeholder per element, so its length is part of the shape (added to the key here).
 * Values are bound as the driver expects them: on SQLite, booleans as 1/0 and integers as
 * integers (TypeORM's SQLite driver writes numbers into the SQL text; bound they compare the same).
 */
import { LRUCache } from "lru-cache";
import type { DataSource, ObjectLiteral, Repository, SelectQueryBuilder } from "typeorm";

type Params = Record<string, unknown>;
interface Compiled {
  sql: string;
  /** For each placeholder in order: the parameter's name, and the element for an array parameter. */
  slots: Array<{ name: string; index: number | null }>;
}

const MARK = "\u0000scf-param\u0000";
/** Shapes kept per data source: a client choosing filters, list lengths and page sizes makes new
 * shapes, so the least recently used are dropped (and built again when asked for). */
const MAX_SHAPES = 1_000;
const compiledBySource = new WeakMap<DataSource, LRUCache<string, Compiled>>();

function shapeKey(key: string, params: Params): string {
  let k = key;
  for (const [name, value] of Object.entries(params)) if (Array.isArray(value)) k += `|${name}:${value.length}`;
  return k;
}

function compile(build: (p: Params) => SelectQueryBuilder<ObjectLiteral>, params: Params): Compiled {
  const marked: Params = {};
  for (const [name, value] of Object.entries(params)) {
    marked[name] = Array.isArray(value) ? value.map((_, i) => `${MARK}${name}\u0000${i}`) : `${MARK}${name}`;
  }
  const [sql, values] = build(marked).getQueryAndParameters();
  const slots = values.map((v) => {
    if (typeof v !== "string" || !v.startsWith(MARK)) {
      throw new Error(`compiledRaw: a parameter of the statement is not among those given (${String(v).slice(0, 40)}): ${sql.slice(0, 200)}`);
    }
    const [name, index] = v.slice(MARK.length).split("\u0000");
    return { name, index: index === undefined ? null : Number(index) };
  });
  return { sql, slots };
}

/** The raw rows of the select `build` makes with `params` (see above). */
export async function compiledRaw<T = Record<string, unknown>>(
  table: Repository<ObjectLiteral>,
  key: string,
  params: Params,
  build: (p: Params) => SelectQueryBuilder<ObjectLiteral>,
): Promise<T[]> {
  // A feature hands in a repository of its own tables (the module rule: schema.test.ts); the
  // compiled statement may still join others, as the query builder it replaces did.
  const ds = table.manager.connection;
  let cache = compiledBySource.get(ds);
  if (!cache) compiledBySource.set(ds, (cache = new LRUCache({ max: MAX_SHAPES })));
  const k = shapeKey(key, params);
  let c = cache.get(k);
  if (!c) cache.set(k, (c = compile(build, params)));
  const sqlite = ds.options.type === "better-sqlite3" || ds.options.type === "sqlite";
  const values = c.slots.map(({ name, index }) => {
    const v = index === null ? params[name] : (params[name] as unknown[])[index];
    if (sqlite && typeof v === "boolean") return v ? 1 : 0;
    if (sqlite && typeof v === "number" && Number.isSafeInteger(v)) return BigInt(v);
    return v;
  });
  return (await ds.query(c.sql, values)) as T[];
}
