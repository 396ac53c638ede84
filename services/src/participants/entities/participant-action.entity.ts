import { Column, Entity, Index, PrimaryColumn } from "typeorm";
import { numberTransformer } from "../../common/columns";

export type ParticipantActionKind = "suspend" | "reinstate";
export type ParticipantActionStatus = "pending" | "done" | "failed";

/** A compliance officer's (or the KYC job's) request to suspend or reinstate a member, and how it ended. */
@Entity("participant_actions")
@Index("ix_participant_actions_address", ["address", "createdAt"])
export class ParticipantActionEntity {
  @PrimaryColumn({ type: "varchar", length: 36 })
  id!: string;

  @Column({ type: "varchar", length: 42 })
  address!: string;

  @Column({ type: "varchar", length: 16 })
  action!: ParticipantActionKind;

  /** Short code recorded on-chain (bytes32), e.g. KYC_EXPIRED. */
  @Column({ name: "reason_code", type: "varchar", length: 31, nullable: true })
  reasonCode!: string | null;

  @Column({ type: "text", nullable: true })
  reason!: string | null;

  /** The officer's address, or "kyc-job". */
  @Column({ name: "requested_by", type: "varchar", length: 42 })
  requestedBy!: string;

  @Column({ type: "varchar", length: 16 })
  status!: ParticipantActionStatus;

  @Column({ name: "outbox_id", type: "varchar", length: 36 })
  outboxId!: string;

  @Column({ name: "tx_hash", type: "varchar", length: 66, nullable: true })
  txHash!: string | null;

  @Column({ name: "failure_reason", type: "text", nullable: true })
  failureReason!: string | null;

  @Column({ name: "created_at", type: "bigint", transformer: numberTransformer })
  createdAt!: number;

  @Column({ name: "updated_at", type: "bigint", transformer: numberTransformer })
  updatedAt!: number;
}

/** The participants feature's tables, registered by its module and collected by database/entities.ts. */
export const PARTICIPANTS_ENTITIES = [ParticipantActionEntity];
