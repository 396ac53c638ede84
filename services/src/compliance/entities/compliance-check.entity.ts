import { Column, Entity, Index, PrimaryColumn } from "typeorm";
import { numberTransformer } from "../../common/columns";

export type CheckResult = "pass" | "fail" | "review";

/**
 * One rule's verdict in one compliance run on one subject. A subject's checks are found through its
 * runs (ComplianceRunEntity), then by run id: the checks carry no index on their subject, whose id
 * (a receivable id, a hash) would put each of a batch act's ~1,800 rows on a random index page.
 */
@Entity("compliance_checks")
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

/**
 * One compliance run on one subject: the index by which a subject's checks are listed (one row per
 * run, not per rule). Written in the transaction of the run's checks.
 */
@Entity("compliance_runs")
@Index("ix_compliance_runs_subject", ["subjectType", "subjectId", "createdAt"])
export class ComplianceRunEntity {
  @PrimaryColumn({ name: "run_id", type: "varchar", length: 36 })
  runId!: string;

  @PrimaryColumn({ name: "subject_type", type: "varchar", length: 16 })
  subjectType!: string;

  @PrimaryColumn({ name: "subject_id", type: "varchar", length: 80 })
  subjectId!: string;

  @Column({ name: "created_at", type: "bigint", transformer: numberTransformer })
  createdAt!: number;
}

/** The compliance feature's tables, registered by its module and collected by database/entities.ts. */
export const COMPLIANCE_ENTITIES = [ComplianceCheckEntity, ComplianceRunEntity];
