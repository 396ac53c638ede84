/** Response and query shapes of the credit-line and financing reads. Amounts are decimal strings
 * in fen; times ISO 8601; addresses EIP-55. */
import { ApiProperty, ApiPropertyOptional } from "@nestjs/swagger";
import { Transform } from "class-transformer";
import { IntegerInput } from "../../common/integer-input";
import { ArrayMaxSize, IsArray, IsIn, IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min } from "class-validator";
import { decodeBytes32String } from "ethers";
import { commaList, isoFromSeconds } from "../../audit/read-scope";
import type { CreditLineEntity, FinancingEntity, FinancingStatus } from "../../read-model/entities/projections.entity";
import { BooleanFlag } from "../../common/boolean-flag";
import type { RegistrationState } from "../registration";
import type { CreditLine, Financing } from "../../../../shared/api-types";

export const FINANCING_STATUSES: readonly FinancingStatus[] = ["requested", "rejected", "active", "repaid", "written_off", "withdrawn"];

/** Text of a bytes32 reason code written with encodeBytes32String, or null if it is not text. */
export function reasonText(code: string | null): string | null {
  if (!code) return null;
  try {
    return decodeBytes32String(code) || null;
  } catch {
    return null;
  }
}

export class CreditLineDto implements CreditLine {
  @ApiProperty({ description: "Line id (from 1, in opening order)" })
  id!: number;

  @ApiProperty({ description: "Financier granting the line" })
  financier!: string;

  @ApiProperty({ description: "Debtor the line is limited to, or null for any debtor", nullable: true, type: String })
  debtor!: string | null;

  @ApiProperty({ description: "Supplier the line is limited to, or null for any supplier", nullable: true, type: String })
  supplier!: string | null;

  @ApiProperty({ description: "Limit (fen, decimal string)", example: "500000000" })
  limit!: string;

  @ApiProperty({ description: "Principal of the line's active financings (fen, decimal string)" })
  utilised!: string;

  @ApiProperty({ description: "limit - utilised, or 0 if over (fen, decimal string)" })
  available!: string;

  @ApiProperty({ description: "Largest advance as basis points of the outstanding amount" })
  maxAdvanceBps!: number;

  @ApiProperty({ description: "Yearly discount rate in basis points" })
  discountBps!: number;

  @ApiProperty({ description: "When the line stops taking new financings (ISO 8601)" })
  expiry!: string;

  @ApiProperty({ description: "False once the financier has closed the line" })
  open!: boolean;

  @ApiProperty({ description: "Block of the line's last change" })
  updatedBlock!: number;

  static from(l: CreditLineEntity): CreditLineDto {
    const d = new CreditLineDto();
    d.id = l.id;
    d.financier = l.financier;
    d.debtor = l.debtor;
    d.supplier = l.supplier;
    d.limit = l.limit.toString();
    d.utilised = l.utilised.toString();
    d.available = (l.limit > l.utilised ? l.limit - l.utilised : 0n).toString();
    d.maxAdvanceBps = l.maxAdvanceBps;
    d.discountBps = l.discountBps;
    d.expiry = isoFromSeconds(l.expiry);
    d.open = l.open;
    d.updatedBlock = l.updatedBlock;
    return d;
  }
}

export class FinancingDto implements Financing {
  @ApiProperty({ description: "Receivable financed (0x + 64 hex digits); one financing per receivable" })
  receivableId!: string;

  @ApiProperty({ description: "Credit line it draws on" })
  lineId!: number;

  @ApiProperty({ description: "Holder who requested it" })
  supplier!: string;

  @ApiProperty({ description: "The line's financier", nullable: true, type: String })
  financier!: string | null;

  @ApiProperty({ description: "Where it stands", enum: FINANCING_STATUSES })
  status!: FinancingStatus;

  @ApiProperty({ description: "Principal still owed to the financier (fen, decimal string)" })
  principal!: string;

  @ApiProperty({ description: "Advance granted at approval (fen, decimal string)", nullable: true, type: String })
  advance!: string | null;

  @ApiProperty({ description: "Paid to the supplier at approval, advance minus discount (fen, decimal string)", nullable: true, type: String })
  paidToSupplier!: string | null;

  @ApiProperty({ description: "Reason code of a rejection (bytes32 hex)", nullable: true, type: String })
  rejectReason!: string | null;

  @ApiProperty({ description: "The rejection reason code as text, when it is text", nullable: true, type: String })
  rejectReasonText!: string | null;

  @ApiProperty({ description: "Least payment now the supplier's request accepts (fen, decimal string)", nullable: true, type: String })
  minPaid!: string | null;

  @ApiProperty({ description: "Most discount in total the supplier's request accepts (fen, decimal string)", nullable: true, type: String })
  maxDiscount!: string | null;

  @ApiProperty({ description: "When the request lapses unanswered (ISO 8601)", nullable: true, type: String })
  expiresAt!: string | null;

  @ApiProperty({ description: "keccak256 of the movable-property financing registration number, as approved on-chain", nullable: true, type: String })
  registrationHash!: string | null;

  @ApiProperty({
    description: "The registration number itself, as the financier gave it to the service (null when approved outside the service)",
    nullable: true,
    type: String,
  })
  registrationNumber!: string | null;

  @ApiProperty({ description: "When it was approved (block time, ISO 8601)", nullable: true, type: String })
  approvedAt!: string | null;

  @ApiProperty({ description: "When the registration number is due: approval + REGISTRATION_GRACE_DAYS (ISO 8601)", nullable: true, type: String })
  registrationDueBy!: string | null;

  @ApiProperty({
    description:
      "Active, approved at least REGISTRATION_GRACE_DAYS ago, and its registration number is unknown to the service (approved on-chain directly and not given since): " +
      "its financier should give it with POST /financings/:id/registration",
  })
  registrationOverdue!: boolean;

  @ApiProperty({ description: "Block of the financing's last change" })
  updatedBlock!: number;

  static from(f: FinancingEntity, registration: RegistrationState | null = null): FinancingDto {
    const d = new FinancingDto();
    d.receivableId = f.receivableId;
    d.lineId = f.lineId;
    d.supplier = f.supplier;
    d.financier = f.financier;
    d.status = f.status;
    d.principal = f.principal.toString();
    d.advance = f.advance === null ? null : f.advance.toString();
    d.paidToSupplier = f.paidToSupplier === null ? null : f.paidToSupplier.toString();
    d.rejectReason = f.rejectReason;
    d.rejectReasonText = reasonText(f.rejectReason);
    d.minPaid = f.minPaid === null ? null : f.minPaid.toString();
    d.maxDiscount = f.maxDiscount === null ? null : f.maxDiscount.toString();
    d.expiresAt = f.expiresAt === null ? null : new Date(f.expiresAt * 1000).toISOString();
    d.registrationHash = f.registrationHash;
    d.registrationNumber = registration?.number ?? null;
    d.approvedAt = f.approvedAt === null ? null : isoFromSeconds(f.approvedAt);
    d.registrationDueBy = registration?.dueBy == null ? null : isoFromSeconds(registration.dueBy);
    d.registrationOverdue = registration?.overdue ?? false;
    d.updatedBlock = f.updatedBlock;
    return d;
  }
}

class PageQueryDto {
  @ApiPropertyOptional({ description: "Page size (default 50, at most 200)" })
  @IsOptional()
  @IntegerInput()
  @IsInt()
  @Min(1)
  @Max(200)
  limit?: number;

  @ApiPropertyOptional({ description: "nextCursor of the previous page, with the same filters" })
  @IsOptional()
  @IsString()
  @MaxLength(512)
  cursor?: string;
}

export class ListCreditLinesQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ description: "Only open (true) or closed (false) lines", enum: ["true", "false"] })
  @IsOptional()
  @BooleanFlag()
  open?: boolean;
}

export class ListFinancingsQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ description: `Only these statuses, comma separated: ${FINANCING_STATUSES.join(", ")}`, type: String })
  @IsOptional()
  @Transform(({ value }) => commaList(value))
  @IsArray()
  @ArrayMaxSize(FINANCING_STATUSES.length)
  @IsIn(FINANCING_STATUSES, { each: true, message: `status must list values among ${FINANCING_STATUSES.join(", ")}` })
  status?: FinancingStatus[];

  @ApiPropertyOptional({ description: "Only financings drawing on this credit line" })
  @IsOptional()
  @IntegerInput()
  @IsInt()
  @Min(1)
  lineId?: number;

  @ApiPropertyOptional({
    description: "The financing registered under this movable-property registration number (financiers: their own; auditors, compliance: all)",
    example: "04411234000567890123",
  })
  @IsOptional()
  @IsString()
  @Matches(/^\s*[A-Za-z0-9][A-Za-z0-9-]{5,63}\s*$/, { message: "registrationNumber must be 6 to 64 letters, digits or dashes (the registry's number)" })
  registrationNumber?: string;

  @ApiPropertyOptional({
    description: "Only financings whose registration number is overdue (true) or not (false) (financiers: their own; auditors, compliance: all)",
    enum: ["true", "false"],
  })
  @IsOptional()
  @BooleanFlag()
  registrationOverdue?: boolean;
}

export class CreditLinePageDto {
  @ApiProperty({ type: [CreditLineDto], description: "Lines by id" })
  items!: CreditLineDto[];

  @ApiProperty({ description: "Pass as cursor for the next page; null on the last page", nullable: true, type: String })
  nextCursor!: string | null;
}

export class FinancingPageDto {
  @ApiProperty({ type: [FinancingDto], description: "Financings by receivable id" })
  items!: FinancingDto[];

  @ApiProperty({ description: "Pass as cursor for the next page; null on the last page", nullable: true, type: String })
  nextCursor!: string | null;
}
