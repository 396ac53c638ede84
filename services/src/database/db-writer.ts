/**
 * The one way the service writes to its database. On PostgreSQL each call is a transaction. On
 * SQLite, TypeORM's better-sqlite3 driver shares ONE connection, so two overlapping transactions
 * would collide ("cannot start a transaction within a transaction") and a plain write issued while
 * another transaction is open would silently join it; calls are therefore serialised.
 */
import { Injectable } from "@nestjs/common";
import { InjectDataSource } from "@nestjs/typeorm";
import { Mutex } from "async-mutex";
import { DataSource, type EntityManager } from "typeorm";

@Injectable()
export class DbWriter {
  private readonly lock: Mutex | null;

  constructor(@InjectDataSource() private readonly ds: DataSource) {
    this.lock = ds.options.type === "postgres" ? null : new Mutex();
  }

  /** Runs `fn` in a database transaction (serialised on SQLite). */
  write<T>(fn: (m: EntityManager) => Promise<T>): Promise<T> {
    if (!this.lock) return this.ds.transaction(fn);
    return this.lock.runExclusive(() => this.ds.transaction(fn));
  }

  /**
   * The database's plain manager, outside any transaction: for a read that goes through code written
   * against an EntityManager (a compliance preview evaluates the same rules a write runs in its transaction).
   */
  get manager(): EntityManager {
    return this.ds.manager;
  }

  get isPostgres(): boolean {
    return this.lock === null;
  }
}
