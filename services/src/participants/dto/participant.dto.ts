/** Request and response shapes of the participant endpoints. */
import { ApiProperty, ApiPropertyOptional } from "@nestjs/swagger";
import { IntegerInput } from "../../common/integer-input";
import { IsIn, IsInt, IsOptional, IsString, Length, Matches, MaxLength, Max, Min } from "class-validator";
import { IsEvmAddress } from "../../auth/dto/is-evm-address";
import type { Page, Participant, ParticipantAction } from "../../../../shared/api-types";

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
  @IntegerInput()
  @IsInt()
  @Min(1)
  @Max(200)
  limit?: number;

  @ApiPropertyOptional({ description: "Return members with an address after this one" })
  @IsOptional()
  @Matches(/^0x[0-9a-fA-F]{40}$/)
  cursor?: string;

  @ApiPropertyOptional({
    description:
      "Members whose registered legal name contains this text, compared as a reader sees it: case, spaces, punctuation, " +
      "full-width forms and look-alike letters from other scripts (Cyrillic а for Latin a, 0 for O) do not matter. " +
      "Within the caller's read scope (yourself and your counterparties; compliance officers and auditors: everyone)",
  })
  @IsOptional()
  @IsString()
  @Length(2, 200)
  name?: string;

  @ApiPropertyOptional({
    description:
      "The member registered under this tax id: an 18-character unified social credit code or a 20-character LEI, as printed " +
      "(spaces, dashes and full-width forms are ignored). Any verified member may look a counterparty up by the tax id its invoice names",
  })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  taxId?: string;

  @ApiPropertyOptional({ description: "The member at this address (lower case or EIP-55), within the caller's read scope" })
  @IsOptional()
  @IsEvmAddress()
  address?: string;
}

export class ParticipantActionDto implements ParticipantAction {
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

export class ParticipantResponseDto implements Participant {
  @ApiProperty() address!: string;
  @ApiProperty({ isArray: true, enum: ["supplier", "buyer", "financier", "auditor"] }) roles!: string[];
  @ApiProperty({ enum: ["active", "suspended"] }) status!: string;
  @ApiProperty({ description: "Active with KYC not expired" }) verified!: boolean;
  @ApiProperty({ description: "ISO 8601" }) kycExpiry!: string;
  @ApiProperty() jurisdiction!: string;
  @ApiProperty() entityIdHash!: string;
  @ApiPropertyOptional({ nullable: true, description: "Legal name from the approved onboarding application (null for a member registered without one)" })
  legalName!: string | null;
  @ApiPropertyOptional({ nullable: true, description: "Tax id (USCC or LEI) from the approved onboarding application" })
  entityId!: string | null;
  @ApiPropertyOptional({ nullable: true, enum: ["USCC", "LEI"] }) entityIdType!: "USCC" | "LEI" | null;
  @ApiPropertyOptional({ nullable: true }) suspensionReason!: string | null;
  @ApiProperty() registeredBlock!: number;
  @ApiProperty({ type: [ParticipantActionDto] }) actions!: ParticipantActionDto[];
}

export class ParticipantPageDto implements Page<Participant> {
  @ApiProperty({ type: [ParticipantResponseDto] }) items!: ParticipantResponseDto[];
  @ApiPropertyOptional({ nullable: true }) nextCursor!: string | null;
}
