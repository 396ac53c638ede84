import { Column, Entity, Index, PrimaryGeneratedColumn } from "typeorm";
import { numberTransformer } from "../../common/columns";

/** Which of the service's own keys sends a transaction ("issuer" only where ISSUER_KEYSTORE is configured). */
export type ServiceKey = "operator" | "compliance" | "relayer" | "issuer";

/**
 * queued  -> accepted, no nonce yet (written in the same DB transaction as the request it serves)
 * signed  -> nonce allocated and raw transaction stored; it may or may not have reached the node
 * sent    -> the node accepted the raw transaction
 * mined   -> receipt with status 1                      (final)
 * failed  -> reverted, refused before signing, or gave up (final, with a reason)
 */
export type OutboxStatus = "queued" | "signed" | "sent" | "mined" | "failed";

@Entity("outbox")
@Index("ix_outbox_pending", ["status", "signer", "seq"])
@Index("ix_outbox_reference", ["referenceType", "referenceId"])
export class OutboxEntity {
  /** FIFO order per signer. */
  @PrimaryGeneratedColumn({ type: "integer" })
  seq!: number;

  @Column({ type: "varchar", length: 36, unique: true })
  id!: string;

  @Column({ type: "varchar", length: 16 })
  signer!: ServiceKey;

  @Column({ name: "from_address", type: "varchar", length: 42 })
  fromAddress!: string;

  @Column({ name: "to_address", type: "varchar", length: 42 })
  toAddress!: string;

  @Column({ type: "text" })
  data!: string;

  /** What the transaction does, for logs and audits (e.g. "registry.register"). */
  @Column({ type: "varchar", length: 64 })
  kind!: string;

  @Column({ name: "reference_type", type: "varchar", length: 32, nullable: true })
  referenceType!: string | null;

  @Column({ name: "reference_id", type: "varchar", length: 80, nullable: true })
  referenceId!: string | null;

  @Column({ type: "varchar", length: 16 })
  status!: OutboxStatus;

  @Column({ type: "integer", nullable: true })
  nonce!: number | null;

  @Column({ name: "gas_limit", type: "varchar", length: 20, nullable: true })
  gasLimit!: string | null;

  @Column({ name: "tx_hash", type: "varchar", length: 66, nullable: true })
  txHash!: string | null;

  @Column({ name: "raw_tx", type: "text", nullable: true })
  rawTx!: string | null;

  @Column({ type: "integer", default: 0 })
  attempts!: number;

  @Column({ name: "last_error", type: "text", nullable: true })
  lastError!: string | null;

  /** Why it failed, in words a participant's IT person can act on. */
  @Column({ name: "failure_reason", type: "text", nullable: true })
  failureReason!: string | null;

  @Column({ name: "block_number", type: "bigint", nullable: true, transformer: numberTransformer })
  blockNumber!: number | null;

  @Column({ name: "gas_used", type: "varchar", length: 20, nullable: true })
  gasUsed!: string | null;

  @Column({ name: "next_attempt_at", type: "bigint", transformer: numberTransformer, default: 0 })
  nextAttemptAt!: number;

  @Column({ name: "created_at", type: "bigint", transformer: numberTransformer })
  createdAt!: number;

  @Column({ name: "updated_at", type: "bigint", transformer: numberTransformer })
  updatedAt!: number;
}

/** Next nonce of each service key, allocated in the database (never from memory). */
@Entity("key_nonces")
export class KeyNonceEntity {
  @Column({ type: "varchar", length: 42, primary: true })
  address!: string;

  @Column({ name: "next_nonce", type: "integer" })
  nextNonce!: number;
}

/** The transaction sender's tables, registered by its module and collected by database/entities.ts. */
export const OUTBOX_ENTITIES = [OutboxEntity, KeyNonceEntity];
