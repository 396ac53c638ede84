/** Request and response shapes of the participant endpoints. */
import { ApiProperty, ApiPropertyOptional } from "@nestjs/swagger";
import { Type } from "class-transformer";
import { IsIn, IsInt, IsOptional, IsString, Length, Matches, Max, Min } from "class-validator";

export class SuspendParticipantDto {
  @ApiProperty({ description: "Why the member is suspended (kept by the service, shown to auditors)" })
  @IsString()
  @Length(3, 500)
  reason!: string;

  @ApiPropertyOptional({
    description: "Short code written on-chain (upper case, digits, underscores; at most 31 characters)",
    default: "COMPLIANCE_REVIEW",
  })
  @IsOptional()
  @Matches(/^[A-Z][A-Z0-9_]{1,30}$/, { message: "reasonCode must be upper-case letters, digits and underscores, at most 31 characters" })
  reasonCode?: string;
}

export class ReinstateParticipantDto {
  @ApiPropertyOptional({ description: "Why the member is reinstated" })
  @IsOptional()
  @IsString()
  @Length(3, 500)
  reason?: string;
}

export class ListParticipantsQueryDto {
  @ApiPropertyOptional({ enum: ["active", "suspended"] })
  @IsOptional()
  @IsIn(["active", "suspended"])
  status?: "active" | "suspended";

  @ApiPropertyOptional({ description: "Page size (default 50, at most 200)" })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(200)
  limit?: number;

  @ApiPropertyOptional({ description: "Return members with an address after this one" })
  @IsOptional()
  @Matches(/^0x[0-9a-fA-F]{40}$/)
  cursor?: string;
}

export class ParticipantActionDto {
  @ApiProperty() id!: string;
  @ApiProperty({ enum: ["suspend", "reinstate"] }) action!: string;
  @ApiProperty({ enum: ["pending", "done", "failed"] }) status!: string;
  @ApiPropertyOptional({ nullable: true }) reasonCode!: string | null;
  @ApiPropertyOptional({ nullable: true }) reason!: string | null;
  @ApiProperty() requestedBy!: string;
  @ApiPropertyOptional({ nullable: true }) txHash!: string | null;
  @ApiPropertyOptional({ nullable: true }) failureReason!: string | null;
  @ApiProperty() createdAt!: string;
}

export class ParticipantResponseDto {
  @ApiProperty() address!: string;
  @ApiProperty({ isArray: true, enum: ["supplier", "buyer", "financier", "auditor"] }) roles!: string[];
  @ApiProperty({ enum: ["active", "suspended"] }) status!: string;
  @ApiProperty({ description: "Active with KYC not expired" }) verified!: boolean;
  @ApiProperty({ description: "ISO 8601" }) kycExpiry!: string;
  @ApiProperty() jurisdiction!: string;
  @ApiProperty() entityIdHash!: string;
  @ApiPropertyOptional({ nullable: true }) suspensionReason!: string | null;
  @ApiProperty() registeredBlock!: number;
  @ApiProperty({ type: [ParticipantActionDto] }) actions!: ParticipantActionDto[];
}

export class ParticipantPageDto {
  @ApiProperty({ type: [ParticipantResponseDto] }) items!: ParticipantResponseDto[];
  @ApiPropertyOptional({ nullable: true }) nextCursor!: string | null;
}
