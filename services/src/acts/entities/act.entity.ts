import { Column, Entity, Index, PrimaryColumn } from "typeorm";
import { numberTransformer } from "../../common/columns";

export type ActStatus = "pending" | "confirmed" | "failed";
export type ActContract = "Receivables" | "Financing";

/**
 * A participant's signed act, accepted by the service and relayed through the outbox.
 * (contract, signer, nonce) is unique: the same signed act can be accepted only once.
 */
@Entity("acts")
@Index("ux_acts_nonce", ["contract", "signer", "nonce"], { unique: true })
@Index("ix_acts_signer", ["signer", "createdAt"])
@Index("ix_acts_receivable", ["receivableId", "createdAt"])
export class ActEntity {
  @PrimaryColumn({ type: "varchar", length: 36 })
  id!: string;

  /** tokenise | tokenise_batch | accept | cancel | credit_note | split | transfer | pay | open_line | request_financing | approve_financing | reject_financing */
  @Column({ type: "varchar", length: 32 })
  kind!: string;

  @Column({ type: "varchar", length: 16 })
  contract!: ActContract;

  @Column({ type: "varchar", length: 42 })
  signer!: string;

  /** Decimal string (uint256). */
  @Column({ type: "varchar", length: 78 })
  nonce!: string;

  @Column({ type: "bigint", transformer: numberTransformer })
  deadline!: number;

  @Column({ name: "primary_type", type: "varchar", length: 32 })
  primaryType!: string;

  /** The signed message, bigints as decimal strings. */
  @Column({ type: "simple-json" })
  message!: Record<string, unknown>;

  @Column({ type: "text" })
  signature!: string;

  @Column({ name: "typed_data_hash", type: "varchar", length: 66 })
  typedDataHash!: string;

  @Column({ name: "receivable_id", type: "varchar", length: 66, nullable: true })
  receivableId!: string | null;

  @Column({ name: "line_id", type: "integer", nullable: true })
  lineId!: number | null;

  @Column({ type: "varchar", length: 16 })
  status!: ActStatus;

  @Column({ name: "outbox_id", type: "varchar", length: 36 })
  outboxId!: string;

  @Column({ name: "tx_hash", type: "varchar", length: 66, nullable: true })
  txHash!: string | null;

  @Column({ name: "block_number", type: "bigint", nullable: true, transformer: numberTransformer })
  blockNumber!: number | null;

  @Column({ name: "failure_reason", type: "text", nullable: true })
  failureReason!: string | null;

  /** What the act produced (receivable ids, line id…). */
  @Column({ type: "simple-json", nullable: true })
  result!: Record<string, unknown> | null;

  @Column({ name: "created_at", type: "bigint", transformer: numberTransformer })
  createdAt!: number;

  @Column({ name: "updated_at", type: "bigint", transformer: numberTransformer })
  updatedAt!: number;
}

/** Next nonce the service proposes to a signer on a contract (unordered nonces: a hint, not a lock). */
@Entity("nonce_allocations")
export class NonceAllocationEntity {
  @PrimaryColumn({ type: "varchar", length: 16 })
  contract!: ActContract;

  @PrimaryColumn({ type: "varchar", length: 42 })
  signer!: string;

  @Column({ name: "next_nonce", type: "bigint", transformer: numberTransformer })
  nextNonce!: number;
}

/**
 * A write request's Idempotency-Key, scoped to the signed-in member, and its first answer.
 * While unanswered, the key is held by one request under a lease (`holder`, `leaseUntil`) that the
 * holder renews while it runs; a lease left to expire (the process died) may be taken over by a
 * retry. `actId` is set in the transaction that records the request's act, so a retry after a
 * crash between recording the act and storing the answer finds the act.
 */
@Entity("idempotency_keys")
@Index("ix_idempotency_keys_created", ["createdAt"])
export class IdempotencyKeyEntity {
  @PrimaryColumn({ type: "varchar", length: 42 })
  address!: string;

  @PrimaryColumn({ name: "idem_key", type: "varchar", length: 128 })
  key!: string;

  /** SHA-256 of method, path and body. */
  @Column({ name: "request_hash", type: "varchar", length: 64 })
  requestHash!: string;

  /** Null while the first request is still being handled. */
  @Column({ name: "status_code", type: "integer", nullable: true })
  statusCode!: number | null;

  @Column({ name: "response_body", type: "text", nullable: true })
  responseBody!: string | null;

  /** Random id of the request holding the key; only it may answer or release the key. */
  @Column({ type: "varchar", length: 36, nullable: true })
  holder!: string | null;

  /** Epoch ms until which `holder` holds the key; past it, a retry may take the key over. */
  @Column({ name: "lease_until", type: "bigint", nullable: true, transformer: numberTransformer })
  leaseUntil!: number | null;

  /** The act recorded under this key, once recorded. */
  @Column({ name: "act_id", type: "varchar", length: 36, nullable: true })
  actId!: string | null;

  @Column({ name: "created_at", type: "bigint", transformer: numberTransformer })
  createdAt!: number;
}

/**
 * A key (e.g. `receivable:<id>` of an invoice being tokenised) held by one pending act. The primary
 * key is the rule: the claim is inserted in the transaction that records the act and its outbox row,
 * so of two API replicas recording acts that claim the same key, the second finds the key taken and
 * records nothing. The claim is deleted in the transaction that settles the act (confirmed or
 * failed), so the table holds only the claims of pending acts.
 */
@Entity("act_claims")
@Index("ix_act_claims_act", ["actId"])
export class ActClaimEntity {
  @PrimaryColumn({ name: "claim_key", type: "varchar", length: 128 })
  key!: string;

  @Column({ name: "act_id", type: "varchar", length: 36 })
  actId!: string;

  @Column({ name: "created_at", type: "bigint", transformer: numberTransformer })
  createdAt!: number;
}

/** The acts feature's tables, registered by its module and collected by database/entities.ts. */
export const ACTS_ENTITIES = [ActEntity, NonceAllocationEntity, IdempotencyKeyEntity, ActClaimEntity];
