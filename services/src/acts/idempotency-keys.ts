/**
 * Idempotency-Key rows and their leases. A request claims its key with one
 * `INSERT … ON CONFLICT DO UPDATE … WHERE` statement: it inserts the key, or takes over a key whose
 * earlier holder let its lease lapse, for the same request only; concurrent claims of one key
 * serialise on the primary key, so exactly one wins and none fails with a unique violation.
 * The holder renews its lease while it runs and stores the answer when done; only the holder may
 * write the key (every update names it), so a holder that lost its lease cannot overwrite the
 * answer of the request that took over.
 * The act a request records is bound to its key in the act's own database transaction (through
 * the request's async context), so a retry after a crash between recording the act and storing the
 * answer returns that act instead of running again.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { randomUUID } from "node:crypto";
import { Inject, Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from "@nestjs/common";
import { SchedulerRegistry } from "@nestjs/schedule";
import { IsNull, type EntityManager, type FindOptionsWhere } from "typeorm";
import { APP_CONFIG, type AppConfig } from "../config/env";
import { DbWriter } from "../database/db-writer";
import { IdempotencyKeyEntity } from "./entities/act.entity";

export interface KeyHold {
  address: string;
  key: string;
  holder: string;
}

/** What a claim found. */
export type Claim =
  | { outcome: "claimed"; hold: KeyHold; actId: string | null }
  | { outcome: "answered"; statusCode: number; responseBody: string }
  | { outcome: "in_progress"; retryAfterSeconds: number }
  | { outcome: "other_request" };

const held = new AsyncLocalStorage<KeyHold>();

/** Runs `fn` (and everything it starts) as the holder of `hold`. */
export function runHoldingKey<T>(hold: KeyHold, fn: () => T): T {
  return held.run(hold, fn);
}

/**
 * Binds the act being recorded in transaction `m` to the Idempotency-Key of the request that
 * records it, if that request came with a key. Called inside the act's transaction, so the act and
 * the binding commit together.
 */
export async function bindActToRequestKey(m: EntityManager, actId: string): Promise<void> {
  const hold = held.getStore();
  if (!hold) return;
  await m.update(IdempotencyKeyEntity, { address: hold.address, key: hold.key, holder: hold.holder }, { actId });
}

const PRUNE_JOB = "idempotency-keys.prune";

@Injectable()
export class IdempotencyKeys implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(IdempotencyKeys.name);
  readonly leaseMs: number;

  constructor(
    private readonly db: DbWriter,
    private readonly scheduler: SchedulerRegistry,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    this.leaseMs = config.IDEMPOTENCY_LEASE_MS;
  }

  onModuleInit(): void {
    const timer = setInterval(() => {
      this.prune().catch((err: Error) => this.logger.warn(`pruning idempotency keys failed: ${err.message}`));
    }, this.config.IDEMPOTENCY_PRUNE_INTERVAL_MS);
    timer.unref();
    this.scheduler.addInterval(PRUNE_JOB, timer);
  }

  onModuleDestroy(): void {
    if (this.scheduler.doesExist("interval", PRUNE_JOB)) this.scheduler.deleteInterval(PRUNE_JOB);
  }

  /** Claims `key` of `address` for the request hashing to `requestHash`, or says why not. */
  async claim(address: string, key: string, requestHash: string, now = Date.now()): Promise<Claim> {
    const holder = randomUUID();
    for (;;) {
      const got = await this.db.write(async (m) => {
        const rows = (await m.query(
          this.sql(
            `INSERT INTO idempotency_keys (address, idem_key, request_hash, status_code, response_body, holder, lease_until, act_id, created_at)
             VALUES (?, ?, ?, NULL, NULL, ?, ?, NULL, ?)
             ON CONFLICT (address, idem_key) DO UPDATE SET holder = excluded.holder, lease_until = excluded.lease_until
             WHERE idempotency_keys.status_code IS NULL
               AND idempotency_keys.request_hash = excluded.request_hash
               AND (idempotency_keys.lease_until IS NULL OR idempotency_keys.lease_until <= ?)
             RETURNING holder, act_id`,
          ),
          [address, key, requestHash, holder, now + this.leaseMs, now, now],
        )) as Array<{ holder: string; act_id: string | null }>;
        if (rows[0]?.holder === holder) return { outcome: "claimed", hold: { address, key, holder }, actId: rows[0].act_id } as const;
        return m.findOneBy(IdempotencyKeyEntity, { address, key });
      });
      if (got === null) continue; // pruned between the two statements: claim again
      if ("outcome" in got) return got;
      if (got.requestHash !== requestHash) return { outcome: "other_request" };
      if (got.statusCode !== null) return { outcome: "answered", statusCode: got.statusCode, responseBody: got.responseBody ?? "null" };
      const left = Math.min((got.leaseUntil ?? 0) - Date.now(), this.leaseMs);
      return { outcome: "in_progress", retryAfterSeconds: Math.max(1, Math.ceil(left / 1000)) };
    }
  }

  /** Extends the lease; false once the key is no longer this holder's. */
  async renew(hold: KeyHold): Promise<boolean> {
    const res = await this.db.write((m) =>
      m.update(IdempotencyKeyEntity, { ...this.where(hold), statusCode: IsNull() }, { leaseUntil: Date.now() + this.leaseMs }),
    );
    return (res.affected ?? 0) > 0;
  }

  /** Stores the answer for replay and ends the lease. */
  async answer(hold: KeyHold, statusCode: number, body: unknown): Promise<void> {
    const res = await this.db.write((m) =>
      m.update(IdempotencyKeyEntity, this.where(hold), { statusCode, responseBody: JSON.stringify(body ?? null), leaseUntil: null }),
    );
    if (!res.affected) this.logger.warn(`Idempotency-Key ${hold.key} of ${hold.address} was taken over before its answer was stored`);
  }

  /**
   * After a server error: a key with no act is forgotten (the request may run again, or the key
   * serve another request); a key with an act keeps it and ends its lease at once, so the retry
   * takes it over and answers with the act.
   */
  async release(hold: KeyHold): Promise<void> {
    await this.db.write(async (m) => {
      await m.delete(IdempotencyKeyEntity, { ...this.where(hold), actId: IsNull() });
      await m.update(IdempotencyKeyEntity, this.where(hold), { leaseUntil: 0 });
    });
  }

  /** Deletes keys older than the retention period, unless a live holder still runs under one. */
  async prune(now = Date.now()): Promise<number> {
    const before = now - this.config.IDEMPOTENCY_RETENTION_HOURS * 3_600_000;
    return this.db.write(async (m) => {
      const res = await m
        .createQueryBuilder()
        .delete()
        .from(IdempotencyKeyEntity)
        .where("created_at < :before", { before })
        .andWhere("(status_code IS NOT NULL OR lease_until IS NULL OR lease_until <= :now)", { now })
        .execute();
      return res.affected ?? 0;
    });
  }

  private where(hold: KeyHold): FindOptionsWhere<IdempotencyKeyEntity> {
    return { address: hold.address, key: hold.key, holder: hold.holder };
  }

  /** `?` placeholders as the engine wants them. */
  private sql(text: string): string {
    if (!this.db.isPostgres) return text;
    let i = 0;
    return text.replace(/\?/g, () => `$${++i}`);
  }
}
