/**
 * Request and response shapes of the financing write endpoints (credit lines and financings).
 * Every body also carries the signature fields: post it without them to receive the typed data to
 * sign, then post the same body again with the nonce, deadline and signature. Amounts are decimal
 * strings in fen; rates are integer basis points; times are ISO 8601.
 */
import { ApiProperty, ApiPropertyOptional } from "@nestjs/swagger";
import { IsIn, IsInt, IsISO8601, IsOptional, IsString, Matches, Max, MaxLength, Min } from "class-validator";
import { IsEvmAddress } from "../../auth/dto/is-evm-address";
import { SignatureFieldsDto } from "../../acts/dto/act.dto";
import { RECEIVABLE_ID_SHORT_HEX_PATTERN } from "../../../../shared/ids";

/** Largest credit line id the Financing contract can hold (ids are packed in 24 bits). */
export const MAX_LINE_ID = 16_777_215;

/** A ledger amount in fen: a decimal string of at most 20 digits (the contract checks 2^64 - 1). */
const AMOUNT_PATTERN = /^(0|[1-9][0-9]{0,19})$/;

/** A receivable id as clients write it: 0x-prefixed hex (up to 32 bytes) or decimal. */

/** The terms of a credit line, shared by opening and updating one. */
export class CreditLineTermsDto extends SignatureFieldsDto {
  @ApiProperty({ description: "Maximum utilisation (sum of outstanding advances), fen, decimal string", example: "500000000" })
  @Matches(/^[1-9][0-9]{0,19}$/, { message: "limit must be a positive whole number of fen as a decimal string" })
  limit!: string;

  @ApiProperty({ description: "Share of a receivable's outstanding amount advanced, basis points (1 to 10000)", example: 8000 })
  @IsInt()
  @Min(1)
  @Max(10_000)
  maxAdvanceBps!: number;

  @ApiProperty({ description: "Annual discount rate charged up front on the advance, basis points (0 to 10000)", example: 1200 })
  @IsInt()
  @Min(0)
  @Max(10_000)
  discountBps!: number;

  @ApiProperty({ description: "When the line stops approving new financing (ISO 8601; whole seconds are kept)", example: "2027-06-30T00:00:00Z" })
  @IsISO8601({ strict: true, strictSeparator: true }, { message: "expiry must be an ISO 8601 date-time, e.g. 2027-06-30T00:00:00Z" })
  expiry!: string;
}

export class OpenCreditLineDto extends CreditLineTermsDto {
  @ApiPropertyOptional({ description: "Buyer (debtor) the line covers; omit for any debtor. Name a debtor, a supplier or both." })
  @IsOptional()
  @IsEvmAddress()
  debtor?: string;

  @ApiPropertyOptional({ description: "Supplier the line covers; omit for any supplier. Name a debtor, a supplier or both." })
  @IsOptional()
  @IsEvmAddress()
  supplier?: string;
}

export class UpdateCreditLineDto extends CreditLineTermsDto {}

export class CloseCreditLineDto extends SignatureFieldsDto {}

export const SETTLEMENTS = ["on-chain", "with-approval"] as const;

export class RequestFinancingDto extends SignatureFieldsDto {
  @ApiProperty({ description: "Receivable to finance: 0x-prefixed hex or decimal token id", example: "0x5f2c…" })
  @IsString()
  @Matches(RECEIVABLE_ID_SHORT_HEX_PATTERN, { message: "receivableId must be 0x-prefixed hex (up to 64 digits) or a decimal integer" })
  receivableId!: string;

  @ApiProperty({ description: "Credit line asked to finance it", example: 1 })
  @IsInt()
  @Min(1)
  @Max(MAX_LINE_ID)
  lineId!: number;

  @ApiPropertyOptional({
    description:
      "Least payment now the supplier accepts, fen, decimal string. Name minPaid, maxDiscount and expiresAt together, or none: " +
      "the typed data then proposes the line's quote now, and the signed post must repeat the terms it signed.",
    example: "85512330",
  })
  @IsOptional()
  @Matches(AMOUNT_PATTERN, { message: "minPaid must be a whole number of fen as a decimal string (at most 2^64 - 1)" })
  minPaid?: string;

  @ApiPropertyOptional({ description: "Most discount (advance less payment) the supplier accepts in total, fen, decimal string", example: "4487670" })
  @IsOptional()
  @Matches(AMOUNT_PATTERN, { message: "maxDiscount must be a whole number of fen as a decimal string (at most 2^64 - 1)" })
  maxDiscount?: string;

  @ApiPropertyOptional({ description: "When the request lapses if not answered (ISO 8601; whole seconds are kept)", example: "2027-01-15T00:00:00Z" })
  @IsOptional()
  @IsISO8601({ strict: true, strictSeparator: true }, { message: "expiresAt must be an ISO 8601 date-time, e.g. 2027-01-15T00:00:00Z" })
  expiresAt?: string;

  @ApiPropertyOptional({
    enum: SETTLEMENTS,
    description:
      "on-chain (default): the signed request is relayed and stored on-chain for the financier to answer. with-approval: the signed " +
      "request is kept by the service as an offer in the line's financier's queue (GET /financing-offers); the financier's approval " +
      "relays both signatures in one transaction (answer 201 with the offer)",
  })
  @IsOptional()
  @IsIn(SETTLEMENTS, { message: "settle must be on-chain or with-approval" })
  settle?: (typeof SETTLEMENTS)[number];
}

export class OfferIdParamDto {
  @ApiProperty({ description: "Offer id (UUID)" })
  @Matches(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, { message: "the offer id must be a UUID" })
  id!: string;
}

export const OFFER_STATUSES = ["open", "approving", "financed", "withdrawn", "expired"] as const;
export type OfferStatus = (typeof OFFER_STATUSES)[number];

export class ListOffersQueryDto {
  @ApiPropertyOptional({ enum: OFFER_STATUSES, description: "Only offers in this state" })
  @IsOptional()
  @IsIn(OFFER_STATUSES, { message: `status must be one of ${OFFER_STATUSES.join(", ")}` })
  status?: OfferStatus;
}

/** A holder's signed request kept off-chain for its line's financier (the signature is never shown). */
export class FinancingOfferDto {
  @ApiProperty() id!: string;
  @ApiProperty({ enum: ["financing_offer"] }) kind!: "financing_offer";
  @ApiProperty() receivableId!: string;
  @ApiProperty() lineId!: number;
  @ApiProperty() supplier!: string;
  @ApiProperty({ description: "The line's financier: whose queue the offer is in" }) financier!: string;
  @ApiProperty({ description: "Least payment now the supplier accepts, fen" }) minPaid!: string;
  @ApiProperty({ description: "Most total discount the supplier accepts, fen" }) maxDiscount!: string;
  @ApiProperty({ description: "When the offer lapses (the request's terms), ISO 8601" }) expiresAt!: string;
  @ApiProperty({ description: "The supplier's signature deadline, ISO 8601" }) deadline!: string;
  @ApiProperty({ description: "The supplier's nonce on Financing (a withdrawal consumes it)" }) nonce!: string;
  @ApiProperty({ enum: OFFER_STATUSES }) status!: OfferStatus;
  @ApiPropertyOptional({ nullable: true, description: "The act relaying the approval or the withdrawal" }) actId!: string | null;
  @ApiPropertyOptional({ nullable: true, description: "Why the last approval failed on-chain (the offer is open again)" }) lastFailure!: string | null;
  @ApiProperty() createdAt!: string;
  @ApiPropertyOptional({ nullable: true, description: "GET /financing-offers/:id of an open offer: the advance approving now would count against the line, fen" })
  advanceNow?: string | null;
  @ApiPropertyOptional({ nullable: true, description: "GET /financing-offers/:id of an open offer: what approving now would pay the supplier, fen" })
  paidNow?: string | null;
}

export class FinancingOfferListDto {
  @ApiProperty({ type: [FinancingOfferDto] }) items!: FinancingOfferDto[];
}

export class WithdrawFinancingDto extends SignatureFieldsDto {}

export class ApproveFinancingDto extends SignatureFieldsDto {
  @ApiProperty({
    description:
      "Movable-property financing registration number (Credit Reference Center registry) of this financing: on-chain as its keccak256 hash, " +
      "the number itself kept by the service",
    example: "04411234000567890123",
  })
  @IsString()
  @Matches(/^\s*[A-Za-z0-9][A-Za-z0-9-]{5,63}\s*$/, {
    message: "registrationNumber must be 6 to 64 letters, digits or dashes (the registry's number)",
  })
  registrationNumber!: string;

  @ApiPropertyOptional({
    description:
      "Principal counted against the line, fen: the line's advance rate times the outstanding amount. Name advance and paid together, " +
      "or neither: the typed data then proposes the line's quote now, and the signed post must repeat the amounts it signed.",
  })
  @IsOptional()
  @Matches(AMOUNT_PATTERN, { message: "advance must be a whole number of fen as a decimal string (at most 2^64 - 1)" })
  advance?: string;

  @ApiPropertyOptional({ description: "Amount paid to the supplier now, fen (at most the advance; at least the request's terms)" })
  @IsOptional()
  @Matches(AMOUNT_PATTERN, { message: "paid must be a whole number of fen as a decimal string (at most 2^64 - 1)" })
  paid?: string;
}

export class WriteOffFinancingDto extends SignatureFieldsDto {}

export class RejectFinancingDto extends SignatureFieldsDto {
  @ApiProperty({
    description: "Reason code stored on-chain (bytes32): upper-case letters, digits and underscores, at most 31 characters",
    example: "CONCENTRATION_LIMIT",
  })
  @IsString()
  @Matches(/^[A-Z][A-Z0-9_]{0,30}$/, {
    message: "reasonCode must be 1 to 31 upper-case letters, digits or underscores, starting with a letter (e.g. CONCENTRATION_LIMIT)",
  })
  reasonCode!: string;

  @ApiPropertyOptional({ description: "Explanation for the supplier, kept by the service (not on-chain)", maxLength: 500 })
  @IsOptional()
  @IsString()
  @MaxLength(500)
  reason?: string;
}

export class LineIdParamDto {
  @ApiProperty({ description: "Credit line id", example: "1" })
  @Matches(/^[1-9][0-9]{0,7}$/, { message: "the credit line id must be a positive integer" })
  id!: string;
}

export class RecordRegistrationDto {
  @ApiProperty({
    description: "The movable-property financing registration number of an approved financing; must hash to the hash approved on-chain",
    example: "04411234000567890123",
  })
  @IsString()
  @Matches(/^\s*[A-Za-z0-9][A-Za-z0-9-]{5,63}\s*$/, {
    message: "registrationNumber must be 6 to 64 letters, digits or dashes (the registry's number)",
  })
  registrationNumber!: string;
}

export class ReceivableIdParamDto {
  @ApiProperty({ description: "Receivable id: 0x-prefixed hex or decimal" })
  @Matches(RECEIVABLE_ID_SHORT_HEX_PATTERN, { message: "the receivable id must be 0x-prefixed hex (up to 64 digits) or a decimal integer" })
  id!: string;
}
