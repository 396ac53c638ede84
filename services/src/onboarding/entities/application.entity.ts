import { Column, Entity, Index, PrimaryColumn } from "typeorm";
import { numberTransformer } from "../../common/columns";

export type ApplicationStatus =
  | "submitted" // screening passed, waiting for a compliance officer
  | "needs_review" // screening flagged something a human must look at
  | "rejected"
  | "approving" // approved by an officer; registration transaction in the outbox
  | "approved" // registered on-chain
  | "failed"; // registration transaction failed (reason recorded)

@Entity("applications")
@Index("ix_applications_applicant", ["applicant", "createdAt"])
@Index("ix_applications_status", ["status", "createdAt"])
export class ApplicationEntity {
  @PrimaryColumn({ type: "varchar", length: 36 })
  id!: string;

  @Column({ type: "varchar", length: 42 })
  applicant!: string;

  @Column({ name: "legal_name", type: "varchar", length: 200 })
  legalName!: string;

  @Column({ name: "entity_id", type: "varchar", length: 20 })
  entityId!: string;

  @Column({ name: "entity_id_type", type: "varchar", length: 8 })
  entityIdType!: "LEI" | "USCC";

  @Column({ name: "entity_id_hash", type: "varchar", length: 66 })
  entityIdHash!: string;

  @Column({ type: "varchar", length: 2 })
  jurisdiction!: string;

  @Column({ name: "requested_roles", type: "integer" })
  requestedRoles!: number;

  @Column({ type: "varchar", length: 16 })
  status!: ApplicationStatus;

  @Column({ name: "screening_result", type: "varchar", length: 16 })
  screeningResult!: "pass" | "fail" | "review";

  @Column({ name: "decision_reason", type: "text", nullable: true })
  decisionReason!: string | null;

  @Column({ name: "decided_by", type: "varchar", length: 42, nullable: true })
  decidedBy!: string | null;

  @Column({ name: "kyc_expiry", type: "bigint", nullable: true, transformer: numberTransformer })
  kycExpiry!: number | null;

  @Column({ name: "outbox_id", type: "varchar", length: 36, nullable: true })
  outboxId!: string | null;

  @Column({ name: "tx_hash", type: "varchar", length: 66, nullable: true })
  txHash!: string | null;

  @Column({ name: "created_at", type: "bigint", transformer: numberTransformer })
  createdAt!: number;

  @Column({ name: "updated_at", type: "bigint", transformer: numberTransformer })
  updatedAt!: number;
}

/** A KYC document uploaded with an application; the file lives under DOCUMENTS_DIR, named by its SHA-256. */
@Entity("application_documents")
@Index("ix_application_documents_application", ["applicationId"])
export class ApplicationDocumentEntity {
  @PrimaryColumn({ type: "varchar", length: 36 })
  id!: string;

  @Column({ name: "application_id", type: "varchar", length: 36 })
  applicationId!: string;

  @Column({ type: "varchar", length: 200 })
  filename!: string;

  @Column({ name: "content_type", type: "varchar", length: 100 })
  contentType!: string;

  @Column({ type: "integer" })
  size!: number;

  @Column({ type: "varchar", length: 64 })
  sha256!: string;

  @Column({ name: "created_at", type: "bigint", transformer: numberTransformer })
  createdAt!: number;
}

/** The onboarding feature's tables, registered by its module and collected by database/entities.ts. */
export const ONBOARDING_ENTITIES = [ApplicationEntity, ApplicationDocumentEntity];
