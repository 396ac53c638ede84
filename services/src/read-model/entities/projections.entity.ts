/**
 * Projections of the chain's state, written only by the projector (read-model/projector.ts) as the
 * indexer feeds it events. Each row can be recomputed from
 * `ledger_events`; `/audit/verify` compares them with the contracts.
 */
import { Column, Entity, Index, PrimaryColumn } from "typeorm";
import { amountTransformer, numberTransformer } from "../../common/columns";

@Entity("members")
export class MemberEntity {
  @PrimaryColumn({ type: "varchar", length: 42 })
  address!: string;

  @Column({ type: "integer" })
  roles!: number;

  @Column({ type: "varchar", length: 16 })
  status!: "active" | "suspended";

  @Column({ name: "kyc_expiry", type: "bigint", transformer: numberTransformer })
  kycExpiry!: number;

  @Column({ type: "varchar", length: 2 })
  jurisdiction!: string;

  @Column({ name: "entity_id_hash", type: "varchar", length: 66 })
  entityIdHash!: string;

  @Column({ name: "suspension_reason", type: "varchar", length: 66, nullable: true })
  suspensionReason!: string | null;

  @Column({ name: "registered_block", type: "bigint", transformer: numberTransformer })
  registeredBlock!: number;

  @Column({ name: "updated_block", type: "bigint", transformer: numberTransformer })
  updatedBlock!: number;
}

export type ReceivableStatus =
  | "issued"
  | "accepted"
  | "financed"
  | "paid"
  | "defaulted"
  | "cancelled"
  | "split";

@Entity("receivables")
@Index("ix_receivables_holder", ["holder", "status", "dueDate", "id"])
@Index("ix_receivables_seller", ["seller", "status", "dueDate", "id"])
@Index("ix_receivables_debtor", ["debtor", "status", "dueDate", "id"])
@Index("ix_receivables_parent", ["parentId"])
@Index("ix_receivables_document_hash", ["documentHash"])
@Index("ix_receivables_term_review", ["termReview", "dueDate", "id"])
// A financier's own list (GET /receivables), shaped like the seller/debtor/holder indexes. Partial:
// most receivables are never financed, and a tokenisation (null financier) adds no entry to it.
@Index("ix_receivables_financier", ["financier", "status", "dueDate", "id"], { where: '"financier" IS NOT NULL' })
export class ReceivableEntity {
  @PrimaryColumn({ type: "varchar", length: 66 })
  id!: string;

  @Column({ type: "varchar", length: 42 })
  seller!: string;

  @Column({ type: "varchar", length: 42 })
  debtor!: string;

  /** Null once the token is burned (cancelled or split). */
  @Column({ type: "varchar", length: 42, nullable: true })
  holder!: string | null;

  @Column({ name: "face_value", type: "varchar", length: 20, transformer: amountTransformer })
  faceValue!: bigint;

  @Column({ type: "varchar", length: 20, transformer: amountTransformer })
  outstanding!: bigint;

  @Column({ name: "due_date", type: "bigint", transformer: numberTransformer })
  dueDate!: number;

  @Column({ type: "varchar", length: 16 })
  status!: ReceivableStatus;

  @Column({ type: "boolean", default: false })
  financed!: boolean;

  @Column({ name: "parent_id", type: "varchar", length: 66, nullable: true })
  parentId!: string | null;

  @Column({ name: "document_hash", type: "varchar", length: 66, nullable: true })
  documentHash!: string | null;

  @Column({ name: "created_block", type: "bigint", transformer: numberTransformer })
  createdBlock!: number;

  @Column({ name: "created_tx", type: "varchar", length: 66 })
  createdTx!: string;

  /** Block time of the root receivable's tokenisation (a split part keeps its root's): where its term starts. */
  @Column({ name: "tokenised_at", type: "bigint", transformer: numberTransformer, nullable: true })
  tokenisedAt!: number | null;

  /** Due more than six calendar months after tokenisation (compliance/voucher-term.ts): flagged for review. */
  @Column({ name: "term_review", type: "boolean", default: false })
  termReview!: boolean;

  @Column({ name: "updated_block", type: "bigint", transformer: numberTransformer })
  updatedBlock!: number;

  /**
   * The financier of its financing (financings.financier of the row with this receivable_id, the
   * financing whatever its state), null while it has none: a copy kept by the projector wherever that
   * financing's financier is written, so a financier's receivables are an index range
   * (ix_receivables_financier) instead of a join over its whole book.
   */
  @Column({ type: "varchar", length: 42, nullable: true })
  financier!: string | null;
}

@Entity("credit_lines")
@Index("ix_credit_lines_financier", ["financier"])
export class CreditLineEntity {
  @PrimaryColumn({ type: "integer" })
  id!: number;

  @Column({ type: "varchar", length: 42 })
  financier!: string;

  @Column({ type: "varchar", length: 42, nullable: true })
  debtor!: string | null;

  @Column({ type: "varchar", length: 42, nullable: true })
  supplier!: string | null;

  @Column({ name: "limit_amount", type: "varchar", length: 20, transformer: amountTransformer })
  limit!: bigint;

  @Column({ type: "varchar", length: 20, transformer: amountTransformer })
  utilised!: bigint;

  @Column({ name: "max_advance_bps", type: "integer" })
  maxAdvanceBps!: number;

  @Column({ name: "discount_bps", type: "integer" })
  discountBps!: number;

  @Column({ type: "bigint", transformer: numberTransformer })
  expiry!: number;

  @Column({ type: "boolean" })
  open!: boolean;

  @Column({ name: "updated_block", type: "bigint", transformer: numberTransformer })
  updatedBlock!: number;
}

export type FinancingStatus = "requested" | "rejected" | "active" | "repaid" | "written_off" | "withdrawn";

@Entity("financings")
@Index("ix_financings_line", ["lineId", "status"])
@Index("ix_financings_supplier", ["supplier"])
@Index("ix_financings_registration", ["registrationHash"])
@Index("ix_financings_approved", ["status", "approvedAt"])
// A member's receivable list takes the receivables it finances from here (GET /receivables).
@Index("ix_financings_financier", ["financier", "receivableId"])
export class FinancingEntity {
  @PrimaryColumn({ name: "receivable_id", type: "varchar", length: 66 })
  receivableId!: string;

  @Column({ name: "line_id", type: "integer" })
  lineId!: number;

  @Column({ type: "varchar", length: 42 })
  supplier!: string;

  @Column({ type: "varchar", length: 42, nullable: true })
  financier!: string | null;

  @Column({ type: "varchar", length: 16 })
  status!: FinancingStatus;

  @Column({ type: "varchar", length: 20, transformer: amountTransformer })
  principal!: bigint;

  @Column({ type: "varchar", length: 20, transformer: amountTransformer, nullable: true })
  advance!: bigint | null;

  @Column({ name: "paid_to_supplier", type: "varchar", length: 20, transformer: amountTransformer, nullable: true })
  paidToSupplier!: bigint | null;

  @Column({ name: "reject_reason", type: "varchar", length: 66, nullable: true })
  rejectReason!: string | null;

  /** The request's terms: least payout now and most discount the supplier accepts, and when it lapses. */
  @Column({ name: "min_paid", type: "varchar", length: 20, transformer: amountTransformer, nullable: true })
  minPaid!: bigint | null;

  @Column({ name: "max_discount", type: "varchar", length: 20, transformer: amountTransformer, nullable: true })
  maxDiscount!: bigint | null;

  @Column({ name: "expires_at", type: "bigint", transformer: numberTransformer, nullable: true })
  expiresAt!: number | null;

  /** keccak256 of the movable-property financing registration number, as approved on-chain. */
  @Column({ name: "registration_hash", type: "varchar", length: 66, nullable: true })
  registrationHash!: string | null;

  /** Block time of the approval (null until approved). */
  @Column({ name: "approved_at", type: "bigint", transformer: numberTransformer, nullable: true })
  approvedAt!: number | null;

  @Column({ name: "updated_block", type: "bigint", transformer: numberTransformer })
  updatedBlock!: number;
}

@Entity("payments")
@Index("ix_payments_receivable", ["receivableId", "blockNumber"])
export class PaymentEntity {
  @PrimaryColumn({ name: "tx_hash", type: "varchar", length: 66 })
  txHash!: string;

  @PrimaryColumn({ name: "log_index", type: "integer" })
  logIndex!: number;

  @Column({ name: "receivable_id", type: "varchar", length: 66 })
  receivableId!: string;

  @Column({ type: "varchar", length: 42 })
  debtor!: string;

  @Column({ type: "varchar", length: 42 })
  holder!: string;

  @Column({ type: "varchar", length: 20, transformer: amountTransformer })
  amount!: bigint;

  @Column({ name: "outstanding_after", type: "varchar", length: 20, transformer: amountTransformer })
  outstandingAfter!: bigint;

  @Column({ name: "block_number", type: "bigint", transformer: numberTransformer })
  blockNumber!: number;

  @Column({ type: "bigint", transformer: numberTransformer })
  timestamp!: number;
}

/** Settlement money the ledger holds for a recipient that could not receive a payment (PaymentHeld),
 * until it claims it (PaymentClaimed). Sum over rows = the Receivables contract's token balance. */
@Entity("held_payments")
export class HeldPaymentEntity {
  @PrimaryColumn({ type: "varchar", length: 42 })
  recipient!: string;

  @Column({ type: "varchar", length: 20, transformer: amountTransformer })
  amount!: bigint;

  @Column({ name: "updated_block", type: "bigint", transformer: numberTransformer })
  updatedBlock!: number;
}
