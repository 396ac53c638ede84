/**
 * TypeORM data source for SQLite (embedded default, through better-sqlite3) or PostgreSQL,
 * selected by DATABASE_URL. The schema comes only from migrations, run at boot; `synchronize` is
 * never used.
 */
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { Logger } from "@nestjs/common";
import type pg from "pg";
import { DataSource, type DataSourceOptions } from "typeorm";
import type { AppConfig } from "../config/env";
import { ENTITIES } from "./entities";
import { MIGRATIONS } from "./migrations";

/**
 * pg's Pool, except that every connection keeps an "error" listener for its whole life. PostgreSQL
 * ending a connection (pg_terminate_backend, a restart, a fail-over) makes pg emit "error" on it,
 * sometimes twice; TypeORM listens only while a query runner holds the connection and drops its
 * listener on the first error, and an "error" event nobody listens to kills the process. The pool
 * still discards the broken connection and the query on it still fails; the process lives on.
 */
function resilientPgModule(): typeof pg {
  // pg is loaded only for a PostgreSQL database: the embedded SQLite default never holds its code.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const real = require("pg") as typeof pg;
  class ResilientPool extends real.Pool {
    private static readonly logger = new Logger("Database");

    constructor(options?: pg.PoolConfig) {
      super(options);
      this.on("connect", (client) =>
        client.on("error", (err: Error) => ResilientPool.logger.warn(`database connection lost: ${err.message}`)),
      );
    }
  }
  return Object.assign(Object.create(real) as typeof pg, { Pool: ResilientPool });
}

let resilientPg: typeof pg | undefined;

/**
 * SQLite's page cache per connection, in KiB. better-sqlite3 is built with a 16 MiB default
 * (SQLITE_DEFAULT_CACHE_SIZE=-16000), filled from the process's malloc heap as the database grows
 * and kept for the connection's life; SQLite's own default is 2 MiB. Pages past the cache are read
 * again from the file, which the operating system's page cache holds.
 */
export const SQLITE_CACHE_KIB = 2_000;

export function dataSourceOptions(database: AppConfig["database"]): DataSourceOptions {
  if (database.kind === "postgres") {
    return {
      type: "postgres",
      driver: (resilientPg ??= resilientPgModule()),
      url: database.url,
      entities: ENTITIES,
      migrations: MIGRATIONS,
      migrationsTransactionMode: "each",
      synchronize: false,
      extra: { max: database.poolMax ?? 10 },
    };
  }
  if (database.path !== ":memory:") mkdirSync(dirname(database.path), { recursive: true });
  return {
    type: "better-sqlite3",
    database: database.path,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsTransactionMode: "each",
    synchronize: false,
    enableWAL: true,
    prepareDatabase: (db: { pragma: (s: string) => unknown }) => {
      db.pragma("busy_timeout = 5000");
      db.pragma("synchronous = NORMAL");
      db.pragma(`cache_size = -${SQLITE_CACHE_KIB}`);
    },
  };
}

/** The session advisory lock that serialises migrations on PostgreSQL (any fixed bigint). */
export const MIGRATION_LOCK = 726_1001;

/**
 * Opens the database and brings its schema up to date. On PostgreSQL, processes that start at once
 * (API replicas and the worker of one deployment) take turns under an advisory lock: TypeORM takes
 * none, and two processes migrating one fresh database at the same time fail (duplicate key on
 * pg_type). The one that waited finds nothing left to run.
 */
export async function openDatabase(database: AppConfig["database"]): Promise<DataSource> {
  const ds = new DataSource(dataSourceOptions(database));
  await ds.initialize();
  if (database.kind !== "postgres") {
    await ds.runMigrations({ transaction: "each" });
    return ds;
  }
  // A session lock on one pooled connection; the migrations run on others and wait for nothing.
  const lock = ds.createQueryRunner();
  try {
    await lock.query("SELECT pg_advisory_lock($1)", [MIGRATION_LOCK]);
    try {
      await ds.runMigrations({ transaction: "each" });
    } finally {
      await lock.query("SELECT pg_advisory_unlock($1)", [MIGRATION_LOCK]);
    }
  } catch (err) {
    await ds.destroy().catch(() => undefined);
    throw err;
  } finally {
    await lock.release().catch(() => undefined);
  }
  return ds;
}
