/** Request and response shapes of the onboarding endpoints. */
import { ApiProperty, ApiPropertyOptional } from "@nestjs/swagger";
import { Transform } from "class-transformer";
import { IntegerInput } from "../../common/integer-input";
import {
  ArrayNotEmpty,
  ArrayUnique,
  IsArray,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Length,
  Matches,
  Max,
  Min,
} from "class-validator";
import { IsEntityId } from "../../compliance/entity-id";
import { ROLE_NAMES, type RoleName } from "../../../../shared/roles";
import type { Application, CheckSummary, Page, StoredDocument } from "../../../../shared/api-types";

const toList = ({ value }: { value: unknown }) =>
  typeof value === "string" ? value.split(",").map((s) => s.trim()).filter(Boolean) : value;

export class CreateApplicationDto {
  @ApiProperty({ description: "Registered legal name of the entity", example: "Hangzhou Example Textiles Co., Ltd." })
  @IsString()
  @Transform(({ value }) => (typeof value === "string" ? value.trim() : value))
  @Length(2, 200)
  legalName!: string;

  @ApiProperty({ description: "Kind of legal entity identifier", enum: ["LEI", "USCC"] })
  @IsIn(["LEI", "USCC"])
  entityIdType!: "LEI" | "USCC";

  @ApiProperty({
    description: "LEI (20 characters, ISO 17442 check digits) or unified social credit code (18 characters with its check character)",
  })
  @IsString()
  @Transform(({ value }) => (typeof value === "string" ? value.trim().toUpperCase() : value))
  @IsEntityId("entityIdType")
  entityId!: string;

  @ApiProperty({ description: "ISO 3166-1 alpha-2 country of incorporation", example: "CN" })
  @IsString()
  @Transform(({ value }) => (typeof value === "string" ? value.trim().toUpperCase() : value))
  @Matches(/^[A-Z]{2}$/, { message: "jurisdiction must be an ISO 3166-1 alpha-2 code such as CN" })
  jurisdiction!: string;

  @ApiProperty({
    description: "Roles requested on the ledger (array, or comma-separated in multipart forms)",
    enum: ROLE_NAMES,
    isArray: true,
  })
  @Transform(toList)
  @IsArray()
  @ArrayNotEmpty()
  @ArrayUnique()
  @IsIn(ROLE_NAMES as unknown as string[], { each: true })
  roles!: RoleName[];
}

export class ApproveApplicationDto {
  @ApiPropertyOptional({ description: "Days the KYC stays valid from now (default KYC_VALIDITY_DAYS)", minimum: 1, maximum: 3650 })
  @IsOptional()
  @IntegerInput()
  @IsInt()
  @Min(1)
  @Max(3650)
  kycValidityDays?: number;
}

export class RejectApplicationDto {
  @ApiProperty({ description: "Why the application is rejected; shown to the applicant" })
  @IsString()
  @Length(3, 500)
  reason!: string;
}

export class ListApplicationsQueryDto {
  @ApiPropertyOptional({ description: "Only applications in this status" })
  @IsOptional()
  @IsIn(["submitted", "needs_review", "rejected", "approving", "approved", "failed"])
  status?: string;

  @ApiPropertyOptional({ description: "Page size (default 50, at most 200)" })
  @IsOptional()
  @IntegerInput()
  @IsInt()
  @Min(1)
  @Max(200)
  limit?: number;

  @ApiPropertyOptional({ description: "Cursor from the previous page's nextCursor" })
  @IsOptional()
  @IsString()
  @Length(1, 100)
  cursor?: string;
}

export class DocumentResponseDto implements StoredDocument {
  @ApiProperty() id!: string;
  @ApiProperty() filename!: string;
  @ApiProperty() contentType!: string;
  @ApiProperty({ description: "Size in bytes" }) size!: number;
  @ApiProperty({ description: "SHA-256 of the content, hex" }) sha256!: string;
}

export class CheckSummaryDto implements CheckSummary {
  @ApiProperty() code!: string;
  @ApiProperty({ enum: ["pass", "fail", "review"] }) result!: string;
  @ApiProperty() reason!: string;
}

export class ApplicationResponseDto implements Application {
  @ApiProperty() id!: string;
  @ApiProperty({ description: "Address that applied (and will be registered)" }) applicant!: string;
  @ApiProperty() legalName!: string;
  @ApiProperty({ enum: ["LEI", "USCC"] }) entityIdType!: string;
  @ApiProperty() entityId!: string;
  @ApiProperty() jurisdiction!: string;
  @ApiProperty({ enum: ROLE_NAMES, isArray: true }) roles!: string[];
  @ApiProperty({ enum: ["submitted", "needs_review", "rejected", "approving", "approved", "failed"] }) status!: string;
  @ApiProperty({ enum: ["pass", "fail", "review"] }) screeningResult!: string;
  @ApiProperty({ type: [CheckSummaryDto] }) checks!: CheckSummaryDto[];
  @ApiPropertyOptional({ nullable: true }) decisionReason!: string | null;
  @ApiPropertyOptional({ nullable: true }) decidedBy!: string | null;
  @ApiPropertyOptional({ nullable: true, description: "KYC expiry set at approval (ISO 8601)" }) kycExpiry!: string | null;
  @ApiPropertyOptional({ nullable: true }) txHash!: string | null;
  @ApiProperty({ type: [DocumentResponseDto] }) documents!: DocumentResponseDto[];
  @ApiProperty() createdAt!: string;
  @ApiProperty() updatedAt!: string;
}

export class ApplicationPageDto implements Page<Application> {
  @ApiProperty({ type: [ApplicationResponseDto] }) items!: ApplicationResponseDto[];
  @ApiPropertyOptional({ nullable: true }) nextCursor!: string | null;
}
