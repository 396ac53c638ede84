/**
 * TypeORM data source for SQLite (embedded default, through better-sqlite3) or PostgreSQL,
 * selected by DATABASE_URL. The schema comes only from migrations, run at boot; `synchronize` is
 * never used.
 */
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { DataSource, type DataSourceOptions } from "typeorm";
import type { AppConfig } from "../config/env";
import { ENTITIES } from "./entities";
import { MIGRATIONS } from "./migrations";

export function dataSourceOptions(database: AppConfig["database"]): DataSourceOptions {
  if (database.kind === "postgres") {
    return {
      type: "postgres",
      url: database.url,
      entities: ENTITIES,
      migrations: MIGRATIONS,
      migrationsTransactionMode: "each",
      synchronize: false,
      extra: { max: 10 },
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
    },
  };
}

/** Opens the database and brings its schema up to date. */
export async function openDatabase(database: AppConfig["database"]): Promise<DataSource> {
  const ds = new DataSource(dataSourceOptions(database));
  await ds.initialize();
  await ds.runMigrations({ transaction: "each" });
  return ds;
}
