/**
 * The readiness checks behind GET /health/ready: database, chain, indexer and outbox, and Redis
 * where rate-limit counters live there (without it sign-in cannot be counted). Each check
 * answers within HEALTH_CHECK_TIMEOUT_MS whatever its dependency does (a frozen node, a pool whose
 * connections were cut), and never throws: a failure is a "down" result naming what failed, so
 * Terminus answers 503 with every part's state instead of hanging or answering 500.
 *
 * The chain's head is read by one request at a time: while a node is frozen, probes every few
 * seconds share the one pending read instead of piling up requests that each wait RPC_TIMEOUT_MS.
 */
import { Inject, Injectable } from "@nestjs/common";
import { HealthIndicatorService, type HealthIndicatorResult } from "@nestjs/terminus";
import { ThrottlerStorage } from "@nestjs/throttler";
import { InjectDataSource, InjectRepository } from "@nestjs/typeorm";
import { In, type DataSource, type Repository } from "typeorm";
import { isRedisStorage } from "../auth/auth.throttle";
import { ChainService } from "../chain/chain.service";
import { describeError } from "../chain/errors";
import { APP_CONFIG, type AppConfig } from "../config/env";
import { IndexerService } from "../indexer/indexer.service";
import { OutboxEntity, type OutboxStatus } from "../outbox/entities/outbox.entity";

const PENDING: OutboxStatus[] = ["queued", "signed", "sent"];

class CheckTimeout extends Error {}

/** `work`'s result, or CheckTimeout after `ms` (the work itself is left to finish or fail alone). */
function within<T>(ms: number, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new CheckTimeout(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}

function reason(err: unknown): string {
  return err instanceof CheckTimeout ? err.message : describeError(err);
}

@Injectable()
export class ReadinessChecks {
  private headRead: Promise<number> | null = null;
  private lastHead: { number: number; at: number } | null = null;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    // The database probe pings the connection itself, not a feature's table.
    @InjectDataSource() private readonly ds: DataSource,
    @InjectRepository(OutboxEntity) private readonly outboxRows: Repository<OutboxEntity>,
    private readonly node: ChainService,
    private readonly indexing: IndexerService,
    private readonly indicators: HealthIndicatorService,
    @Inject(ThrottlerStorage) private readonly rateLimitStore: unknown,
  ) {}

  /** Whether rate-limit counters live in Redis (REDIS_URL), which readiness then checks too. */
  get usesRedis(): boolean {
    return isRedisStorage(this.rateLimitStore);
  }

  private get timeoutMs(): number {
    return this.config.HEALTH_CHECK_TIMEOUT_MS;
  }

  async database(): Promise<HealthIndicatorResult> {
    const check = this.indicators.check("database");
    const started = Date.now();
    try {
      await within(this.timeoutMs, this.ds.query("SELECT 1"));
      return check.up({ ms: Date.now() - started });
    } catch (err) {
      return check.down({ message: `database did not answer a ping: ${reason(err)}` });
    }
  }

  async chain(): Promise<HealthIndicatorResult> {
    const check = this.indicators.check("chain");
    const chainId = this.node.chainId.toString();
    try {
      const head = await within(this.timeoutMs, this.readHead());
      return check.up({ chainId, head });
    } catch (err) {
      return check.down({ chainId, message: `chain node did not return its head block: ${reason(err)}` });
    }
  }

  /**
   * How many confirmed blocks the indexer has not projected yet, against the latest head this
   * process read (the chain check reads it; when the node is down the lag is against the last head
   * seen, and `headAgeMs` says how old that is).
   */
  async indexer(): Promise<HealthIndicatorResult> {
    const check = this.indicators.check("indexer");
    const maxLag = this.config.HEALTH_MAX_INDEXER_LAG_BLOCKS;
    try {
      const [cp] = await Promise.all([
        within(this.timeoutMs, this.indexing.checkpoint()),
        within(this.timeoutMs, this.readHead()).catch(() => null),
      ]);
      const seen = this.lastHead;
      if (!seen) return check.down({ checkpoint: cp.blockNumber, maxLag, message: "lag unknown: the chain's head was never read" });
      const lag = Math.max(0, seen.number - this.config.CONFIRMATIONS - cp.blockNumber);
      const data = { checkpoint: cp.blockNumber, head: seen.number, lag, maxLag, headAgeMs: Date.now() - seen.at };
      if (lag > maxLag) return check.down({ ...data, message: `indexer is ${lag} blocks behind the confirmed head (threshold ${maxLag})` });
      return check.up(data);
    } catch (err) {
      return check.down({ maxLag, message: `indexer checkpoint unreadable: ${reason(err)}` });
    }
  }

  /** Age of the oldest transaction the service accepted and has not yet seen mined or failed. */
  async outbox(): Promise<HealthIndicatorResult> {
    const check = this.indicators.check("outbox");
    const maxAgeMs = this.config.HEALTH_MAX_OUTBOX_AGE_MS;
    try {
      const [oldest, pending] = await within(
        this.timeoutMs,
        Promise.all([
          this.outboxRows.minimum("createdAt", { status: In(PENDING) }),
          this.outboxRows.countBy({ status: In(PENDING) }),
        ]),
      );
      const oldestPendingAgeMs = oldest === null ? 0 : Math.max(0, Date.now() - Number(oldest));
      const data = { pending, oldestPendingAgeMs, maxAgeMs };
      if (oldestPendingAgeMs > maxAgeMs) {
        return check.down({ ...data, message: `oldest pending transaction waits for ${oldestPendingAgeMs} ms (threshold ${maxAgeMs} ms)` });
      }
      return check.up(data);
    } catch (err) {
      return check.down({ maxAgeMs, message: `outbox unreadable: ${reason(err)}` });
    }
  }

  async redis(): Promise<HealthIndicatorResult> {
    const check = this.indicators.check("redis");
    const started = Date.now();
    try {
      const store = this.rateLimitStore;
      await within(this.timeoutMs, isRedisStorage(store) ? store.redis.ping() : Promise.reject(new Error("rate-limit counters are not kept in Redis")));
      return check.up({ ms: Date.now() - started });
    } catch (err) {
      return check.down({ message: `Redis (rate-limit counters) did not answer a ping: ${reason(err)}` });
    }
  }

  private readHead(): Promise<number> {
    this.headRead ??= this.node
      .headNumber()
      .then((number) => {
        this.lastHead = { number, at: Date.now() };
        return number;
      })
      .finally(() => {
        this.headRead = null;
      });
    return this.headRead;
  }
}
