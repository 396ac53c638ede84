import { Column, Entity, Index, PrimaryColumn } from "typeorm";
import { numberTransformer } from "../../common/columns";

export type CheckResult = "pass" | "fail" | "review";

/** One rule's verdict in one compliance run on one subject. */
@Entity("compliance_checks")
@Index("ix_compliance_checks_subject", ["subjectType", "subjectId", "createdAt"])
@Index("ix_compliance_checks_run", ["runId"])
export class ComplianceCheckEntity {
  @PrimaryColumn({ type: "varchar", length: 36 })
  id!: string;

  @Column({ name: "run_id", type: "varchar", length: 36 })
  runId!: string;

  /** "application" | "member" | "invoice" | "financing" */
  @Column({ name: "subject_type", type: "varchar", length: 16 })
  subjectType!: string;

  @Column({ name: "subject_id", type: "varchar", length: 80 })
  subjectId!: string;

  @Column({ name: "rule_code", type: "varchar", length: 48 })
  ruleCode!: string;

  @Column({ type: "varchar", length: 8 })
  result!: CheckResult;

  @Column({ type: "text" })
  reason!: string;

  @Column({ type: "simple-json", nullable: true })
  details!: Record<string, unknown> | null;

  @Column({ name: "created_at", type: "bigint", transformer: numberTransformer })
  createdAt!: number;
}

/** The compliance feature's tables, registered by its module and collected by database/entities.ts. */
export const COMPLIANCE_ENTITIES = [ComplianceCheckEntity];
