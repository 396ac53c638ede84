import { Column, Entity, Index, PrimaryColumn } from "typeorm";
import { numberTransformer } from "../../common/columns";

/** Why a debtor does not confirm an invoice. */
export const DISPUTE_REASONS = ["not_delivered", "amount_wrong", "duplicate", "not_ordered", "other"] as const;
export type DisputeReason = (typeof DISPUTE_REASONS)[number];
/** Characters of a dispute's free text, after NFC normalisation. */
export const MAX_DISPUTE_TEXT = 500;

/**
 * A debtor's signed statement that it does not confirm an issued receivable (an invoice it was not
 * delivered, did not order, …). Off-chain: no contract rule depends on it; the EIP-712
 * DisputeInvoice signature (shared/eip712.ts, Receivables domain) is kept so anyone can check the
 * debtor said it. One per receivable (unique receivable_id): a dispute closes when the receivable
 * leaves "issued" (the debtor accepts after all, or the seller cancels), and is never reopened.
 */
@Entity("receivable_disputes")
@Index("ux_receivable_disputes_receivable", ["receivableId"], { unique: true })
@Index("ux_receivable_disputes_nonce", ["debtor", "nonce"], { unique: true })
export class ReceivableDisputeEntity {
  @PrimaryColumn({ type: "varchar", length: 36 })
  id!: string;

  /** 0x-prefixed, 64 lower-case hex digits, as in the receivables projection. */
  @Column({ name: "receivable_id", type: "varchar", length: 66 })
  receivableId!: string;

  @Column({ type: "varchar", length: 42 })
  debtor!: string;

  @Column({ name: "reason_code", type: "varchar", length: 32 })
  reasonCode!: DisputeReason;

  /** NFC-normalised, at most MAX_DISPUTE_TEXT characters; "" when none was given (it is signed as such). */
  @Column({ type: "text" })
  text!: string;

  /** The DisputeInvoice nonce (decimal), from the signer's Receivables nonce sequence. */
  @Column({ type: "varchar", length: 78 })
  nonce!: string;

  @Column({ type: "bigint", transformer: numberTransformer })
  deadline!: number;

  @Column({ type: "text" })
  signature!: string;

  /** The EIP-712 digest the signature covers. */
  @Column({ name: "typed_data_hash", type: "varchar", length: 66 })
  typedDataHash!: string;

  @Column({ name: "created_at", type: "bigint", transformer: numberTransformer })
  createdAt!: number;
}
