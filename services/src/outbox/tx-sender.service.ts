/**
 * Transaction sender with a transactional outbox, for the service's own keys.
 *
 * A request that needs a transaction writes its own row and an outbox row in one database
 * transaction (`enqueue`). This worker then moves each outbox row through
 * queued -> signed -> sent -> mined | failed:
 * - signing allocates the key's next nonce from the database and stores the raw signed
 *   transaction in the same database transaction, so a crash never loses a nonce or signs twice;
 * - sending re-broadcasts the stored raw transaction until the node has it ("already known" is
 *   success), so a crash between send and bookkeeping sends nothing twice: it is the same bytes;
 * - the receipt settles the row once its block is CONFIRMATIONS deep (at once under QBFT's 0), and
 *   the row's completion handler runs in the same database transaction as the final state; a
 *   transaction that a reorg takes off the chain before that is broadcast again.
 * Retryable errors (transport) are retried with backoff for as long as they last (a node outage
 * must not fail requests already accepted); reverts and refusals are final, with a decoded reason.
 * If a signed transaction can never be broadcast, its nonce is filled with a zero-value
 * self-transfer so later transactions are not stuck behind a gap.
 * Each key's queue is strictly FIFO: a row that must wait (backoff) holds back the rows behind it,
 * so a request that depends on an earlier one of the same key is never signed or sent first.
 * A completion handler that throws leaves its row where it was (the whole transaction rolls back)
 * and is retried on the next pass; it never stalls the other rows or keys.
 *
 * The worker is woken, not polling: `enqueue` wakes it when the caller's transaction commits, and a
 * pass that moved a row runs again at once. It polls every SENDER_POLL_MS only while rows are in
 * flight (receipts to wait for, backoff), and every SENDER_IDLE_POLL_MS when it found nothing: the
 * fallback. On PostgreSQL a row another process wrote (API replicas share the database with one
 * worker) wakes the worker too: the replica NOTIFYs in the enqueueing transaction and the worker
 * LISTENs (./outbox-listener.ts). A wake that arrives while a pass runs causes another pass, so no
 * wake-up is lost.
 */
import { randomUUID } from "node:crypto";
import { EventEmitter } from "node:events";
import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from "@nestjs/common";
import { InjectRepository } from "@nestjs/typeorm";
import { Mutex } from "async-mutex";
import { Transaction, type Wallet } from "ethers";
import { In, type EntityManager, type Repository } from "typeorm";
import { ChainService } from "../chain/chain.service";
import { insertGenerated } from "../database/bulk";
import { DbWriter } from "../database/db-writer";
import { decodeRevertData, describeError, isAlreadySubmitted, isRetryable, isRevert, revertDataOf } from "../chain/errors";
import { SERVICE_KEYS } from "../chain/keys";
import { APP_CONFIG, type AppConfig } from "../config/env";
import { KeyNonceEntity, OutboxEntity, type ServiceKey } from "./entities/outbox.entity";
import { signLegacyTransaction } from "./legacy-tx";
import { OUTBOX_CHANNEL, OutboxListener } from "./outbox-listener";

export interface EnqueueRequest {
  signer: ServiceKey;
  to: string;
  data: string;
  kind: string;
  referenceType?: string;
  referenceId?: string;
  /** eth_estimateGas of this call, when the caller already simulated it. */
  gasEstimate?: bigint;
  /**
   * The participant whose signed act this relays (signer "relayer" only): picks the key of the relayer
   * pool that sends it (ChainService.relayerFor), so one participant's acts keep their order.
   */
  relayFor?: string;
}

/** What the sender reads of a mined transaction's receipt. */
interface SentReceipt {
  blockNumber: number;
  gasUsed: bigint;
  /** 1 success, 0 reverted (post-Byzantium receipts). */
  status: number;
}

/** One key's queue: the rows of `signer` sent from `fromAddress` (one nonce sequence). */
interface KeyQueue {
  signer: ServiceKey;
  fromAddress: string;
}

/** Runs in the database transaction that makes `row` final (mined or failed). */
export type CompletionHandler = (row: OutboxEntity, manager: EntityManager) => Promise<void>;

const FINAL = ["mined", "failed"] as const;
const BATCH = 50;
const REBROADCAST_AFTER_MS = 15_000;

/**
 * The gas limit signed for an estimate: 20 % headroom plus 10k, for state that moved meanwhile, but
 * never above the block gas limit `cap` when given (no node mines such a transaction; the headroom
 * is a margin, the estimate itself is what must fit).
 */
export function gasLimitFor(estimate: bigint, cap?: bigint): bigint {
  const limit = (estimate * 12n) / 10n + 10_000n;
  return cap !== undefined && limit > cap ? cap : limit;
}

function backoff(attempts: number): number {
  return Math.min(30_000, 200 * 2 ** attempts) + Math.floor(Math.random() * 100);
}

@Injectable()
export class TxSenderService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(TxSenderService.name);
  private readonly handlers = new Map<string, CompletionHandler>();
  private timer: NodeJS.Timeout | null = null;
  private ticking: Promise<void> | null = null;
  private stopped = false;
  private gasPrice: { value: bigint; at: number } | null = null;
  private readonly tickLock = new Mutex();
  /** A wake arrived since the current (or next) pass started: run another pass when it ends. */
  private wakeRequested = false;
  /** Rows this pass moved (signed, sent, made final), and whether it saw any row not final. */
  private moved = 0;
  private seen = false;
  /** Rows whose transaction this process has seen in a block not yet CONFIRMATIONS deep. */
  private readonly included = new Set<string>();
  /** Relayer keys outside the pool that still had signed rows when last looked at. */
  private relayerOrphans: string[] = [];
  private relayerOrphansChecked = false;
  /** Emits a row's id when it becomes final in this process, for `waitFor`. */
  private readonly finals = new EventEmitter().setMaxListeners(0);
  /** The worker's LISTEN connection for rows API replicas enqueue (PostgreSQL only). */
  private listener: OutboxListener | null = null;

  constructor(
    @InjectRepository(OutboxEntity) private readonly outbox: Repository<OutboxEntity>,
    @InjectRepository(KeyNonceEntity) private readonly keyNonces: Repository<KeyNonceEntity>,
    private readonly db: DbWriter,
    private readonly chain: ChainService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** Registers what to do when a row with this reference type becomes final. */
  onCompletion(referenceType: string, handler: CompletionHandler): void {
    this.handlers.set(referenceType, handler);
  }

  /** Adds a transaction to the outbox inside the caller's database transaction. */
  async enqueue(manager: EntityManager, req: EnqueueRequest): Promise<OutboxEntity> {
    const now = Date.now();
    const row = manager.create(OutboxEntity, {
      id: randomUUID(),
      signer: req.signer,
      fromAddress: req.signer === "relayer" ? this.chain.relayerFor(req.relayFor).address : this.wallet(req.signer).address,
      toAddress: req.to,
      data: req.data,
      kind: req.kind,
      referenceType: req.referenceType ?? null,
      referenceId: req.referenceId ?? null,
      status: "queued",
      nonce: null,
      gasLimit: req.gasEstimate !== undefined ? gasLimitFor(req.gasEstimate).toString() : null,
      txHash: null,
      rawTx: null,
      attempts: 0,
      lastError: null,
      failureReason: null,
      blockNumber: null,
      gasUsed: null,
      nextAttemptAt: 0,
      createdAt: now,
      updatedAt: now,
    });
    // One INSERT … RETURNING seq (bulk.ts); the repository's save first SELECTs the new row by key.
    const saved = await insertGenerated(manager, OutboxEntity, row);
    // This process's sender is woken in-process at commit; a replica without one wakes the worker
    // through PostgreSQL, which delivers the notification only if this transaction commits.
    if (this.config.SENDER_ENABLED) this.db.afterCommit(manager, () => this.wake());
    else if (this.db.isPostgres && this.config.OUTBOX_NOTIFY) await manager.query(`NOTIFY ${OUTBOX_CHANNEL}`);
    return saved;
  }

  /**
   * Asks for a pass as soon as possible. If a pass is running, another one follows it (the running
   * one may already have read the outbox before the row that prompted this wake committed).
   */
  wake(): void {
    if (this.stopped || !this.config.SENDER_ENABLED) return;
    this.wakeRequested = true;
    if (this.ticking) return; // the running pass reschedules itself at once when it ends
    this.schedule(0);
  }

  /** Resolves when the row is final, or after `timeoutMs` with its current state. */
  async waitFor(id: string, timeoutMs = 30_000): Promise<OutboxEntity> {
    const until = Date.now() + timeoutMs;
    // This process's own sender announces the row when it is final; another process's (an API
    // replica waiting on the worker) is only seen by reading the row again.
    const pollMs = this.config.SENDER_ENABLED ? 1_000 : 50;
    for (;;) {
      let onFinal: (() => void) | undefined;
      const announced = new Promise<void>((resolve) => {
        onFinal = resolve;
        this.finals.once(id, resolve);
      });
      try {
        const row = await this.outbox.findOneByOrFail({ id });
        if ((FINAL as readonly string[]).includes(row.status) || Date.now() >= until) return row;
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([announced, new Promise((r) => (timer = setTimeout(r, Math.min(pollMs, until - Date.now()))))]);
        clearTimeout(timer);
      } finally {
        this.finals.off(id, onFinal!);
      }
    }
  }

  async onApplicationBootstrap(): Promise<void> {
    if (!this.config.SENDER_ENABLED) return;
    await this.rehomeQueued();
    if (this.config.database.kind === "postgres" && this.config.OUTBOX_NOTIFY) {
      this.listener = new OutboxListener(this.config.database.url, () => this.wake());
      this.listener.start();
    }
    this.schedule(0);
  }

  /**
   * Queued relayer rows of a key no longer in the pool (RELAYER_KEYS lowered) move to the first key:
   * they have no nonce yet, so nothing was signed with the old key. (Rows it already signed are still
   * broadcast and settled: see keysOf.)
   */
  private async rehomeQueued(): Promise<void> {
    const pool = this.chain.wallets.relayers.map((w) => w.address);
    const moved = await this.db.write((m) =>
      m
        .createQueryBuilder()
        .update(OutboxEntity)
        .set({ fromAddress: pool[0], updatedAt: Date.now() })
        .where("signer = 'relayer' AND status = 'queued' AND from_address NOT IN (:...pool)", { pool })
        .execute(),
    );
    if (moved.affected) this.logger.warn(`${moved.affected} queued relayer transactions of keys outside RELAYER_KEYS moved to ${pool[0]}`);
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    await this.listener?.stop();
    if (this.timer) clearTimeout(this.timer);
    await this.ticking;
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      // Cleared before the pass reads anything: a wake from here on asks for the next pass.
      this.wakeRequested = false;
      let next = this.config.SENDER_POLL_MS;
      this.ticking = this.pass()
        .then((outcome) => {
          next = outcome === "moved" ? 0 : outcome === "busy" ? this.config.SENDER_POLL_MS : this.config.SENDER_IDLE_POLL_MS;
        })
        .catch((err: unknown) => this.logger.error(`sender tick failed: ${describeError(err)}`))
        .finally(() => {
          this.ticking = null;
          this.schedule(this.wakeRequested ? 0 : next);
        });
    }, ms);
  }

  /** One pass over every key: settle, broadcast, sign, broadcast. Exposed for tests. */
  async tick(): Promise<void> {
    await this.pass();
  }

  /** A pass, and what it found: rows it moved, rows still in flight, or nothing to do. */
  private pass(): Promise<"moved" | "busy" | "idle"> {
    return this.tickLock.runExclusive(async () => {
      this.moved = 0;
      this.seen = false;
      await this.tickUnlocked();
      return this.moved > 0 ? "moved" : this.seen ? "busy" : "idle";
    });
  }

  private async tickUnlocked(): Promise<void> {
    const signers: ServiceKey[] = this.chain.wallets.issuer ? [...SERVICE_KEYS, "issuer"] : [...SERVICE_KEYS];
    const inFlight = await this.keysInFlight();
    for (const signer of signers) {
      for (const from of await this.keysOf(signer)) {
        if (this.stopped) return;
        // A key without a queued, signed or sent row has nothing for the four steps to find: they
        // read only such rows of their key. A row enqueued after the read above wakes the worker,
        // which runs another pass (as for a row committed after any step's own read).
        if (!inFlight.has(`${signer} ${from}`)) continue;
        const q = { signer, fromAddress: from };
        await this.settleSent(q);
        await this.broadcastSigned(q);
        await this.signQueued(q);
        await this.broadcastSigned(q);
      }
    }
  }

  /**
   * "<signer> <from address>" of every key with a row still to sign, broadcast or settle, in one
   * statement on the pending index: the pass reads each such key's rows, and skips the others
   * (the sender's idle keys cost a pass four statements each otherwise, every SENDER_POLL_MS
   * while any row is in flight).
   */
  private async keysInFlight(): Promise<Set<string>> {
    const rows = (await this.outbox.query(
      "SELECT DISTINCT signer, from_address FROM outbox WHERE status IN ('queued', 'signed', 'sent')",
    )) as Array<{ signer: string; from_address: string }>;
    return new Set(rows.map((r) => `${r.signer} ${r.from_address}`));
  }

  /**
   * The addresses `signer` sends from: its key; for the relayer every key of the pool, plus any key
   * that left the pool (RELAYER_KEYS lowered) while it still has signed transactions to see through.
   */
  private async keysOf(signer: ServiceKey): Promise<string[]> {
    if (signer !== "relayer") return [this.wallet(signer).address];
    const pool = this.chain.wallets.relayers.map((w) => w.address);
    if (!this.relayerOrphansChecked) {
      const rows: Array<{ from: string }> = await this.outbox
        .createQueryBuilder("o")
        .select("DISTINCT o.from_address", "from")
        .where("o.signer = 'relayer' AND o.status IN ('signed', 'sent') AND o.from_address NOT IN (:...pool)", { pool })
        .getRawMany();
      this.relayerOrphans = rows.map((r) => r.from);
      this.relayerOrphansChecked = this.relayerOrphans.length === 0;
    }
    return [...pool, ...this.relayerOrphans];
  }

  private wallet(signer: ServiceKey): Wallet {
    const w = this.chain.wallets[signer];
    if (!w) throw new Error(`The ${signer} key is not configured (set ${signer.toUpperCase()}_KEYSTORE).`);
    return w;
  }

  /** The key a row of `signer` is sent from: its own, or the relayer pool's key at `address`. */
  private walletAt(signer: ServiceKey, address: string): Wallet | null {
    if (signer !== "relayer") return this.wallet(signer);
    return this.chain.wallets.relayers.find((w) => w.address === address) ?? null;
  }

  // ---------------------------------------------------------------- queued -> signed

  private async signQueued(key: KeyQueue): Promise<void> {
    const repo = this.outbox;
    const wallet = this.walletAt(key.signer, key.fromAddress);
    if (!wallet) return; // a key that left the pool signs nothing more (its queued rows were re-homed)
    // Not filtered on next_attempt_at: a head still in backoff must hold back the rows behind it.
    const rows = await repo.find({ where: { ...key, status: "queued" }, order: { seq: "ASC" }, take: BATCH });
    if (rows.length > 0) this.seen = true;
    if (rows.length === 0 || rows[0].nextAttemptAt > Date.now()) return;
    let gasPrice: bigint;
    let blockGas: bigint;
    try {
      await this.ensureNonceRow(wallet.address);
      [gasPrice, blockGas] = await Promise.all([this.currentGasPrice(), this.chain.blockGasLimit()]);
    } catch (err) {
      if (!isRetryable(err)) throw err;
      await this.defer(rows[0], describeError(err)); // the node is unwell: say so on the head row
      return;
    }
    // Estimate the whole run at once (one JSON-RPC batch), then handle the answers in FIFO order:
    // the first row that must wait stops the pass, exactly as if they had been estimated one by one.
    const estimates = await Promise.all(
      rows.map((row) =>
        // A limit measured when the request was accepted (enqueue's gasEstimate) saves a second
        // estimate: for a batch of 200 invoices each estimate re-executes the whole batch.
        // Either way the limit signed is at most the block gas limit.
        row.gasLimit !== null
          ? { gas: BigInt(row.gasLimit) > blockGas ? blockGas : BigInt(row.gasLimit), err: null as unknown }
          : this.chain.provider.estimateGas({ from: wallet.address, to: row.toAddress, data: row.data }).then(
              (gas) => ({ gas: gasLimitFor(gas, blockGas), err: null as unknown }),
              (err: unknown) => ({ gas: 0n, err }),
            ),
      ),
    );
    const ready: Array<{ row: OutboxEntity; gasLimit: bigint }> = [];
    for (const [i, row] of rows.entries()) {
      if (this.stopped || row.nextAttemptAt > Date.now()) break;
      const { gas, err } = estimates[i];
      if (err !== null) {
        // Rows before this one are signed first: they keep their place in the queue.
        await this.signRows(wallet, gasPrice, ready.splice(0));
        if (isRevert(err)) {
          // It may depend on one of this key's transactions still in flight: wait for those.
          const inFlight = await repo.count({ where: { ...key, status: In(["signed", "sent"]) } });
          if (inFlight > 0 && row.attempts < this.config.SENDER_MAX_ATTEMPTS) {
            await this.defer(row, describeError(err));
            return;
          }
          if (!(await this.finalize(row, "failed", { failureReason: describeError(err) }))) return;
          continue;
        }
        if (isRetryable(err)) {
          await this.defer(row, describeError(err));
          return; // the node is unwell: stop this key's pass
        }
        if (!(await this.finalize(row, "failed", { failureReason: describeError(err) }))) return;
        continue;
      }
      ready.push({ row, gasLimit: gas });
    }
    await this.signRows(wallet, gasPrice, ready);
  }

  /** Signs `items` in order with consecutive nonces, in one database transaction. */
  private async signRows(wallet: Wallet, gasPrice: bigint, items: Array<{ row: OutboxEntity; gasLimit: bigint }>): Promise<void> {
    if (items.length === 0) return;
    await this.db.write(async (m) => {
      const nonceRow = await this.lockNonce(m, wallet.address);
      let nonce = nonceRow.nextNonce;
      for (const { row, gasLimit } of items) {
        // Encoded and signed by hand (legacy-tx.ts: the bytes ethers' Wallet.signTransaction gives,
        // property-tested); the hash is the keccak of the signed encoding.
        const { raw, hash } = signLegacyTransaction(wallet, {
          chainId: BigInt(this.chain.chainId),
          nonce,
          to: row.toAddress,
          data: row.data,
          gasLimit,
          gasPrice,
          value: 0n,
        });
        const claimed = await m
          .createQueryBuilder()
          .update(OutboxEntity)
          .set({
            status: "signed",
            nonce,
            gasLimit: gasLimit.toString(),
            txHash: hash,
            rawTx: raw,
            // Attempts count per stage: waiting for the node before signing must not use up the
            // broadcast's tries.
            attempts: 0,
            nextAttemptAt: 0,
            updatedAt: Date.now(),
          })
          .where("id = :id AND status = 'queued'", { id: row.id })
          .execute();
        if (claimed.affected) {
          nonce += 1;
          this.moved += 1;
        } // else another worker took it: the nonce stays free
      }
      if (nonce !== nonceRow.nextNonce) await m.update(KeyNonceEntity, { address: wallet.address }, { nextNonce: nonce });
    });
  }

  private async ensureNonceRow(address: string): Promise<void> {
    if (await this.keyNonces.findOneBy({ address })) return;
    const next = await this.chain.provider.getTransactionCount(address, "pending");
    await this.db.write((m) =>
      m.createQueryBuilder().insert().into(KeyNonceEntity).values({ address, nextNonce: next }).orIgnore().execute(),
    );
  }

  private async lockNonce(m: EntityManager, address: string): Promise<KeyNonceEntity> {
    const qb = m.createQueryBuilder(KeyNonceEntity, "k").where("k.address = :address", { address });
    if (this.db.isPostgres) qb.setLock("pessimistic_write");
    return qb.getOneOrFail();
  }

  private async currentGasPrice(): Promise<bigint> {
    if (!this.gasPrice || Date.now() - this.gasPrice.at > 30_000) {
      const value = BigInt(await this.chain.provider.send("eth_gasPrice", []));
      this.gasPrice = { value, at: Date.now() };
    }
    return this.gasPrice.value;
  }

  // ---------------------------------------------------------------- signed -> sent

  private async broadcastSigned(key: KeyQueue): Promise<void> {
    const repo = this.outbox;
    // Nonce order, and not filtered on next_attempt_at: a nonce in backoff holds back the later ones.
    const rows = await repo.find({ where: { ...key, status: "signed" }, order: { nonce: "ASC" }, take: BATCH });
    if (rows.length > 0) this.seen = true;
    // Send the run at once: concurrent sends leave ethers as one JSON-RPC batch, in nonce order.
    const live: OutboxEntity[] = [];
    for (const row of rows) {
      if (this.stopped || row.nextAttemptAt > Date.now()) break;
      live.push(row);
    }
    const answers = await Promise.all(
      live.map((row) =>
        this.chain.provider.send("eth_sendRawTransaction", [row.rawTx]).then(
          () => null,
          (err: unknown) => (isAlreadySubmitted(err) ? null : err),
        ),
      ),
    );
    const sent: string[] = [];
    let stop = false;
    for (const [i, row] of live.entries()) {
      const err = answers[i];
      if (err === null) {
        sent.push(row.id);
        continue;
      }
      await this.markSent(sent.splice(0));
      // "already known" / "nonce too low" for our own stored bytes count as sent (above).
      if (isRetryable(err) || row.attempts + 1 < this.config.SENDER_MAX_ATTEMPTS) {
        await this.defer(row, describeError(err));
        stop = true; // keep nonce order: later ones wait (and are re-sent, harmlessly, next pass)
        break;
      }
      if (!(await this.fillNonceGap(row, describeError(err)))) {
        stop = true;
        break;
      }
    }
    if (!stop) await this.markSent(sent);
  }

  private async markSent(ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    const res = await this.db.write((m) =>
      m.createQueryBuilder().update(OutboxEntity).set({ status: "sent", updatedAt: Date.now() }).where("id IN (:...ids) AND status = 'signed'", { ids }).execute(),
    );
    this.moved += res.affected ?? ids.length;
  }

  /** Gives up on `row` and spends its nonce on a zero-value self-transfer; false if that failed. */
  private async fillNonceGap(row: OutboxEntity, reason: string): Promise<boolean> {
    const wallet = this.walletAt(row.signer, row.fromAddress);
    if (!wallet) {
      await this.defer(row, `${reason}; its key ${row.fromAddress} left RELAYER_KEYS, so its nonce cannot be filled`);
      return false;
    }
    const filler = await wallet.signTransaction(
      Transaction.from({
        type: 0,
        chainId: this.chain.chainId,
        nonce: row.nonce!,
        to: wallet.address,
        value: 0n,
        gasLimit: 21_000n,
        gasPrice: await this.currentGasPrice(),
      }),
    );
    try {
      await this.chain.provider.send("eth_sendRawTransaction", [filler]);
    } catch (err) {
      this.logger.error(`nonce ${row.nonce} of ${wallet.address}: filler not accepted: ${describeError(err)}`);
      await this.defer(row, `filler refused: ${describeError(err)}`);
      return false;
    }
    this.logger.warn(`outbox ${row.id}: giving up after ${row.attempts + 1} attempts (${reason}); nonce filled`);
    return this.finalize(row, "failed", {
      failureReason: `The node refused the transaction: ${reason}`,
      rawTx: filler,
      txHash: Transaction.from(filler).hash,
    });
  }

  // ---------------------------------------------------------------- sent -> mined | failed

  private async settleSent(key: KeyQueue): Promise<void> {
    const rows = await this.outbox.find({
      where: { ...key, status: "sent" },
      order: { nonce: "ASC" },
      take: 200,
    });
    if (rows.length === 0) return;
    this.seen = true;
    // A row is final once its block is CONFIRMATIONS deep, as the indexer reads the chain: on a
    // chain that can reorganise, a transaction seen in a block may still leave the chain.
    const confirmations = this.config.CONFIRMATIONS;
    const head = confirmations > 0 ? await this.chain.provider.getBlockNumber().catch(() => undefined) : Infinity;
    if (head === undefined) return; // transport trouble: next tick
    const receipts = await Promise.all(
      rows.map((r) => this.receipt(r.txHash!).catch(() => undefined)),
    );
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i];
      const receipt = receipts[i];
      if (receipt === undefined) continue; // transport trouble: next tick
      if (receipt === null) {
        // Seen in a block that a reorg has since abandoned: the node may have dropped it (anvil
        // does), so broadcast the same bytes again now rather than after REBROADCAST_AFTER_MS.
        const reorged = this.included.delete(row.id);
        if (reorged) this.logger.warn(`outbox ${row.id} (${row.kind}): ${row.txHash} left the chain in a reorg; broadcasting it again`);
        if (reorged || Date.now() - row.updatedAt > REBROADCAST_AFTER_MS) await this.rebroadcast(row);
        continue;
      }
      if (receipt.blockNumber > head - confirmations) {
        this.included.add(row.id);
        continue;
      }
      this.included.delete(row.id);
      await this.settle(row, receipt);
    }
  }

  private async rebroadcast(row: OutboxEntity): Promise<void> {
    try {
      await this.chain.provider.send("eth_sendRawTransaction", [row.rawTx]);
    } catch {
      /* already known, or transport trouble: the receipt will tell */
    }
    await this.db.write((m) => m.update(OutboxEntity, { id: row.id }, { updatedAt: Date.now() }));
  }

  /**
   * The three fields of a receipt the sender reads, from the raw JSON-RPC answer (null: not in a
   * block). ethers' getTransactionReceipt formats and wraps every log too (a batch transaction's
   * receipt carries ~400), ~12 ms of CPU per 200-invoice batch in a profile; the indexer, not the
   * sender, reads the logs. A malformed answer throws, and the row is looked at again next tick.
   */
  private async receipt(hash: string): Promise<SentReceipt | null> {
    const r = (await this.chain.provider.send("eth_getTransactionReceipt", [hash])) as Record<string, unknown> | null;
    if (r === null) return null;
    const quantity = (v: unknown, what: string): bigint => {
      if (typeof v !== "string" || !/^0x[0-9a-fA-F]+$/.test(v)) throw new Error(`receipt of ${hash}: bad ${what}`);
      return BigInt(v);
    };
    if (typeof r.transactionHash === "string" && r.transactionHash.toLowerCase() !== hash.toLowerCase()) throw new Error(`receipt of ${hash}: for another transaction`);
    const status = quantity(r.status, "status");
    if (status !== 0n && status !== 1n) throw new Error(`receipt of ${hash}: bad status`);
    return { blockNumber: Number(quantity(r.blockNumber, "blockNumber")), gasUsed: quantity(r.gasUsed, "gasUsed"), status: Number(status) };
  }

  private async settle(row: OutboxEntity, receipt: SentReceipt): Promise<void> {
    const extra = { blockNumber: receipt.blockNumber, gasUsed: receipt.gasUsed.toString() };
    if (receipt.status === 1) {
      await this.finalize(row, "mined", extra);
      return;
    }
    // Explain the revert by replaying the call: on the state before its block, and if it passes
    // there (an earlier transaction of the same block changed the state), on the state after it.
    let reason = "reverted";
    for (const blockTag of [receipt.blockNumber - 1, receipt.blockNumber]) {
      try {
        await this.chain.provider.call({ from: row.fromAddress, to: row.toAddress, data: row.data, blockTag });
      } catch (err) {
        // A transport error here says nothing about the revert.
        if (isRevert(err)) reason = `reverted: ${decodeRevertData(revertDataOf(err)) ?? describeError(err)}`;
        break;
      }
    }
    await this.finalize(row, "failed", { ...extra, failureReason: reason });
  }

  // ---------------------------------------------------------------- bookkeeping

  private async defer(row: OutboxEntity, error: string): Promise<void> {
    await this.db.write((m) =>
      m.update(
        OutboxEntity,
        { id: row.id },
        { attempts: row.attempts + 1, lastError: error, nextAttemptAt: Date.now() + backoff(row.attempts), updatedAt: Date.now() },
      ),
    );
  }

  /**
   * Makes `row` final and runs its completion handler in the same database transaction. Returns
   * false when the handler threw: then nothing changed (the row keeps its state and is settled
   * again on a later pass) and the error is kept in last_error.
   */
  private async finalize(
    row: OutboxEntity,
    status: "mined" | "failed",
    fields: Partial<Pick<OutboxEntity, "failureReason" | "blockNumber" | "gasUsed" | "rawTx" | "txHash">>,
  ): Promise<boolean> {
    const handler = row.referenceType ? this.handlers.get(row.referenceType) : undefined;
    try {
      await this.db.write(async (m) => {
        const res = await m
          .createQueryBuilder()
          .update(OutboxEntity)
          .set({ ...fields, status, updatedAt: Date.now() })
          .where("id = :id AND status = :from", { id: row.id, from: row.status })
          .execute();
        if (!res.affected) return;
        if (handler) await handler({ ...row, ...fields, status } as OutboxEntity, m);
      });
    } catch (err) {
      if (!handler) throw err;
      const error = `completion handler for ${row.referenceType} failed: ${describeError(err)}`;
      this.logger.error(`outbox ${row.id} (${row.kind}): ${error}; will retry`);
      await this.db.write((m) => m.update(OutboxEntity, { id: row.id }, { lastError: error, updatedAt: Date.now() }));
      return false;
    }
    if (status === "failed") this.logger.warn(`outbox ${row.id} (${row.kind}) failed: ${fields.failureReason}`);
    this.moved += 1;
    this.finals.emit(row.id);
    return true;
  }
}
