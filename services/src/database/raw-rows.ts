/**
 * Entities from a query builder's raw rows, without TypeORM's relational result transformer.
 *
 * `getMany`/`getRawAndEntities` pass every row through RawSqlResultsToEntityTransformer, which groups
 * rows by primary key (to fold joined one-to-many rows), resolves relation metadata and builds
 * alias names per column; on the hot read routes, whose rows are one entity each (at most a
 * one-to-one join), that is CPU spent per request for nothing. `entitiesOf` hydrates each row's
 * `${alias}_${column}` values with the driver's own `prepareHydratedValue` (the same conversions
 * and column transformers TypeORM applies: SQLite booleans, simple-json, bigint columns as numbers,
 * amounts as bigint), so the entities are identical. Only for plain column selections: no relations.
 */
import type { ObjectLiteral, Repository } from "typeorm";

/** The entities of `repo` in `rows` (as `getRawMany` returns them), read under `alias`; a row whose
 * primary key is null under that alias (an unmatched LEFT JOIN) gives null. */
export function entitiesOf<T extends ObjectLiteral>(repo: Repository<T>, rows: Array<Record<string, unknown>>, alias: string): Array<T | null> {
  const meta = repo.metadata;
  const driver = repo.manager.connection.driver;
  const columns = meta.columns.map((c) => ({ c, key: `${alias}_${c.databaseName}` }));
  const primary = `${alias}_${meta.primaryColumns[0].databaseName}`;
  return rows.map((row) => {
    if (row[primary] === null || row[primary] === undefined) return null;
    const entity = meta.create() as T;
    for (const { c, key } of columns) c.setEntityValue(entity, driver.prepareHydratedValue(row[key], c));
    return entity;
  });
}

/**
 * `column IN (…)` with one bound parameter per value, in the placeholder style of `m`'s driver
 * ($1… on PostgreSQL, ? on SQLite), numbered from `first`: for plain hot-path queries that skip the
 * query builder.
 */
export function inList(m: { connection: { options: { type: string } } }, values: readonly unknown[], first = 1): string {
  const pg = m.connection.options.type === "postgres";
  return `(${values.map((_, i) => (pg ? `$${first + i}` : "?")).join(", ")})`;
}
