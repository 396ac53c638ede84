/**
 * The cross-process wake of the transaction sender, on PostgreSQL: an API replica (no sender of its
 * own) sends `NOTIFY scf_outbox` in the transaction that inserts an outbox row, so PostgreSQL
 * delivers it when, and only if, the row commits; the worker LISTENs on a dedicated connection (not
 * one of the pool's, which it would hold forever) and runs a pass on each notification.
 *
 * A lost connection (database restart, fail-over, pg_terminate_backend) is reopened with backoff
 * (0.5 s doubling to 30 s); notifications sent meanwhile are lost, so every (re)connection is
 * followed by a wake, and the sender's idle poll (SENDER_IDLE_POLL_MS) remains the last resort.
 * SQLite runs in one process and keeps the in-process wake only.
 */
import { Logger } from "@nestjs/common";
import type pg from "pg";

/** The channel API replicas notify when they enqueue (a fixed identifier: no quoting needed). */
export const OUTBOX_CHANNEL = "scf_outbox";
/** The listener's application_name in pg_stat_activity. */
export const OUTBOX_LISTENER_NAME = "scf-outbox-listener";

const FIRST_RETRY_MS = 500;
const MAX_RETRY_MS = 30_000;

export class OutboxListener {
  private readonly logger = new Logger(OutboxListener.name);
  private client: pg.Client | null = null;
  private retry: NodeJS.Timeout | null = null;
  private retryMs = FIRST_RETRY_MS;
  private stopped = false;

  constructor(
    private readonly url: string,
    private readonly onNotify: () => void,
  ) {}

  start(): void {
    void this.connect();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retry) clearTimeout(this.retry);
    const client = this.client;
    this.client = null;
    await client?.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    this.retry = null;
    if (this.stopped) return;
    // pg is loaded only here, on PostgreSQL: the embedded SQLite default never holds its code.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { Client } = require("pg") as typeof pg;
    const client = new Client({ connectionString: this.url, application_name: OUTBOX_LISTENER_NAME });
    this.client = client;
    let lost = false;
    const onLost = (err?: Error) => {
      if (lost) return;
      lost = true;
      if (this.client === client) this.client = null;
      client.end().catch(() => undefined);
      if (this.stopped) return;
      this.logger.warn(`outbox listener connection lost (${err?.message ?? "closed"}); reconnecting in ${this.retryMs} ms`);
      this.retry = setTimeout(() => void this.connect(), this.retryMs);
      this.retryMs = Math.min(this.retryMs * 2, MAX_RETRY_MS);
    };
    client.on("error", onLost);
    client.on("end", () => onLost());
    client.on("notification", () => this.onNotify());
    try {
      await client.connect();
      await client.query(`LISTEN ${OUTBOX_CHANNEL}`);
    } catch (err) {
      onLost(err as Error);
      return;
    }
    if (lost || this.stopped) return;
    this.retryMs = FIRST_RETRY_MS;
    // Rows committed while nobody listened were announced to no one.
    this.onNotify();
  }
}
