import { Column, Entity, Index, PrimaryColumn } from "typeorm";
import { amountTransformer, numberTransformer } from "../../common/columns";

/**
 * A holder's signed financing request kept off-chain until the line's financier approves it: the
 * approval relays both signatures in one transaction (Financing.financeSignedRequestBySig), so the
 * request is never stored on-chain. The signature is the holder's RequestFinancing over
 * (supplier, receivable, terms, nonce, deadline) and is shown to nobody.
 *
 * `status`: open (waiting for the financier) → approving (an approval act is relayed; its act
 * decides: confirmed is financed, failed leaves the offer approvable again) or withdrawn (the holder
 * took it back; the withdrawal consumes the offer's nonce on-chain). Both moves are one conditional
 * update from `open`, so an approval and a withdrawal can never both be accepted.
 */
@Entity("financing_offers")
@Index("ux_financing_offers_nonce", ["supplier", "nonce"], { unique: true })
@Index("ix_financing_offers_financier", ["financier", "createdAt"])
@Index("ix_financing_offers_supplier", ["supplier", "createdAt"])
export class FinancingOfferEntity {
  @PrimaryColumn({ type: "varchar", length: 36 })
  id!: string;

  @Column({ name: "receivable_id", type: "varchar", length: 66 })
  receivableId!: string;

  @Column({ name: "line_id", type: "integer" })
  lineId!: number;

  @Column({ type: "varchar", length: 42 })
  supplier!: string;

  /** The line's financier when the offer was made: whose queue it is in. */
  @Column({ type: "varchar", length: 42 })
  financier!: string;

  @Column({ name: "min_paid", type: "varchar", length: 20, transformer: amountTransformer })
  minPaid!: bigint;

  @Column({ name: "max_discount", type: "varchar", length: 20, transformer: amountTransformer })
  maxDiscount!: bigint;

  /** Unix seconds: the request's lapse time (terms.expiresAt). */
  @Column({ name: "expires_at", type: "bigint", transformer: numberTransformer })
  expiresAt!: number;

  /** Decimal string (uint256): the holder's nonce on Financing. */
  @Column({ type: "varchar", length: 78 })
  nonce!: string;

  /** Unix seconds: the holder's signature deadline. */
  @Column({ type: "bigint", transformer: numberTransformer })
  deadline!: number;

  @Column({ type: "text" })
  signature!: string;

  @Column({ name: "typed_data_hash", type: "varchar", length: 66 })
  typedDataHash!: string;

  @Column({ type: "varchar", length: 16 })
  status!: "open" | "approving" | "withdrawn";

  /** The act relaying the approval (or the withdrawal). */
  @Column({ name: "act_id", type: "varchar", length: 36, nullable: true })
  actId!: string | null;

  @Column({ name: "created_at", type: "bigint", transformer: numberTransformer })
  createdAt!: number;

  @Column({ name: "updated_at", type: "bigint", transformer: numberTransformer })
  updatedAt!: number;
}
