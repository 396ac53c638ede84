/** One stored rule verdict, as the API returns it. */
import { ApiProperty } from "@nestjs/swagger";
import type { ComplianceCheckEntity } from "../entities/compliance-check.entity";

export class ComplianceCheckResponseDto {
  @ApiProperty({ description: "Id of the run this verdict belongs to; every rule of one run shares it (time-ordered UUIDv7)" })
  runId!: string;

  @ApiProperty({ description: "Kind of subject checked", enum: ["application", "member", "invoice", "financing"] })
  subjectType!: string;

  @ApiProperty({ description: "Id of the subject (application id, member address, invoice subject id, receivable id)" })
  subjectId!: string;

  @ApiProperty({ description: "Stable rule code, e.g. SANCTIONS_SCREENING or DEBTOR_CONCENTRATION_LIMIT", example: "SANCTIONS_SCREENING" })
  code!: string;

  @ApiProperty({ description: "Verdict of the rule", enum: ["pass", "fail", "review"] })
  result!: "pass" | "fail" | "review";

  @ApiProperty({ description: "Why, in plain words" })
  reason!: string;

  @ApiProperty({
    description: "Facts the verdict rests on (matches and scores, amounts as decimal strings, dates as ISO 8601); null when none",
    type: "object",
    additionalProperties: true,
    nullable: true,
  })
  details!: Record<string, unknown> | null;

  @ApiProperty({ description: "When the run was recorded (ISO 8601)", example: "2025-01-31T08:00:00.000Z" })
  createdAt!: string;

  static from(e: ComplianceCheckEntity): ComplianceCheckResponseDto {
    const d = new ComplianceCheckResponseDto();
    d.runId = e.runId;
    d.subjectType = e.subjectType;
    d.subjectId = e.subjectId;
    d.code = e.ruleCode;
    d.result = e.result;
    d.reason = e.reason;
    d.details = e.details ?? null;
    d.createdAt = new Date(e.createdAt).toISOString();
    return d;
  }
}
