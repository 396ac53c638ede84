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
  /** Callbacks to run once the transaction of the manager they were registered on has committed. */
  private readonly commitHooks = new WeakMap<EntityManager, Array<() => void>>();

  constructor(@InjectDataSource() private readonly ds: DataSource) {
    this.lock = ds.options.type === "postgres" ? null : new Mutex();
  }

  /** Runs `fn` in a database transaction (serialised on SQLite). */
  write<T>(fn: (m: EntityManager) => Promise<T>): Promise<T> {
    const hooks: Array<() => void> = [];
    const run = () =>
      this.ds.transaction((m) => {
        this.commitHooks.set(m, hooks);
        return fn(m);
      });
    const done = this.lock ? this.lock.runExclusive(run) : run();
    return done.then((result) => {
      for (const hook of hooks) hook();
      return result;
    });
  }

  /**
   * Runs `hook` after `m`'s transaction commits (never if it rolls back). `m` outside a transaction
   * has already committed its writes: the hook runs now. A transaction not opened by `write` has no
   * commit to wait for here: false, and the caller must rely on something else (a poll).
   */
  afterCommit(m: EntityManager, hook: () => void): boolean {
    const hooks = this.commitHooks.get(m);
    if (hooks) {
      hooks.push(hook);
      return true;
    }
    if (m.queryRunner?.isTransactionActive) return false;
    hook();
    return true;
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
