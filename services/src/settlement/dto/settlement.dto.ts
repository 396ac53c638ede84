/** Request and response shapes of the settlement endpoints. Amounts are decimal strings in fen. */
import { ApiProperty, ApiPropertyOptional } from "@nestjs/swagger";
import { IsIn, IsInt, IsOptional, IsString, Matches } from "class-validator";
import { SignatureFieldsDto } from "../../acts/dto/act.dto";
import { IsEvmAddress } from "../../auth/dto/is-evm-address";
import type { SettlementOperation } from "../../../../shared/api-types";

export const SPENDERS = ["Receivables", "Financing"] as const;
export type SpenderName = (typeof SPENDERS)[number];

/** 10^10 fen = 100,000,000.00 yuan: the most one faucet call may mint. */
export const FAUCET_MAX_FEN = 10_000_000_000n;

export class BalanceQueryDto {
  @ApiPropertyOptional({ description: "Whose balance (auditors and compliance officers only; default: the caller)" })
  @IsOptional()
  @IsEvmAddress()
  address?: string;
}

export class AllowancesDto {
  @ApiProperty({ description: "Allowance granted to the Receivables contract (repayments), fen" }) Receivables!: string;
  @ApiProperty({ description: "Allowance granted to the Financing contract (financing advances), fen" }) Financing!: string;
}

export class BalanceResponseDto {
  @ApiProperty() address!: string;
  @ApiProperty({ description: "Settlement token balance in fen (decimal string)" }) balance!: string;
  @ApiProperty({ type: AllowancesDto }) allowances!: AllowancesDto;
}

export class HeldResponseDto {
  @ApiProperty() address!: string;
  @ApiProperty({
    description: "Settlement tokens the ledger holds for this address, in fen (decimal string): payments it could not receive when made; claim them with POST /settlement/claim",
  })
  held!: string;
}

/** POST /settlement/claim: no field of its own; the signature fields of every act. */
export class ClaimHeldDto extends SignatureFieldsDto {}

export class PermitRequestDto {
  @ApiProperty({ enum: SPENDERS, description: "Which ledger contract may draw the owner's settlement tokens" })
  @IsIn(SPENDERS, { message: "spender must be Receivables or Financing" })
  spender!: SpenderName;

  @ApiProperty({ description: "Allowance to grant, in fen (decimal string); it replaces the current allowance" })
  @IsString({ message: "value must be a decimal string of fen, e.g. \"1000000\"" })
  @Matches(/^\d{1,78}$/, { message: "value must be a decimal string of fen (digits only, e.g. \"1000000\" for 10,000.00 yuan)" })
  value!: string;

  @ApiPropertyOptional({ description: "Permit deadline (unix seconds, decimal string); proposed (now + 1 hour) when omitted on the unsigned step" })
  @IsOptional()
  @IsString({ message: "deadline must be unix seconds as a decimal string" })
  @Matches(/^\d{1,20}$/, { message: "deadline must be unix seconds as a decimal string" })
  deadline?: string;

  @ApiPropertyOptional({ description: "Signature v (27 or 28; 0 or 1 accepted)" })
  @IsOptional()
  @IsInt({ message: "v must be 27 or 28 (or 0 or 1)" })
  @IsIn([0, 1, 27, 28], { message: "v must be 27 or 28 (or 0 or 1)" })
  v?: number;

  @ApiPropertyOptional({ description: "Signature r (0x + 64 hex)" })
  @IsOptional()
  @Matches(/^0x[0-9a-fA-F]{64}$/, { message: "r must be 0x followed by 64 hex digits" })
  r?: string;

  @ApiPropertyOptional({ description: "Signature s (0x + 64 hex)" })
  @IsOptional()
  @Matches(/^0x[0-9a-fA-F]{64}$/, { message: "s must be 0x followed by 64 hex digits" })
  s?: string;

  @ApiPropertyOptional({ description: "Compact alternative to v, r, s: the 65-byte (or 64-byte EIP-2098) signature as 0x hex" })
  @IsOptional()
  @Matches(/^0x([0-9a-fA-F]{128}|[0-9a-fA-F]{130})$/, { message: "signature must be a 64- or 65-byte signature as 0x hex" })
  signature?: string;
}

export class FaucetRequestDto {
  @ApiProperty({ description: "Verified member to credit" })
  @IsEvmAddress()
  to!: string;

  @ApiProperty({ description: `Amount in fen (decimal string), 1 to ${FAUCET_MAX_FEN} (100,000,000.00 yuan) per call` })
  @IsString({ message: "amount must be a decimal string of fen" })
  @Matches(/^\d{1,78}$/, { message: "amount must be a decimal string of fen (digits only, e.g. \"100000000\" for 1,000,000.00 yuan)" })
  amount!: string;
}

export class PermitTypedDataDto {
  @ApiProperty() domain!: { name: string; version: string; chainId: string; verifyingContract: string };
  @ApiProperty() types!: Record<string, Array<{ name: string; type: string }>>;
  @ApiProperty({ enum: ["Permit"] }) primaryType!: "Permit";
  @ApiProperty() message!: Record<string, string>;
}

export class UnsignedPermitResponseDto {
  @ApiProperty({ enum: ["unsigned"] }) status!: "unsigned";
  @ApiProperty({ enum: ["permit"] }) kind!: "permit";
  @ApiProperty({ type: PermitTypedDataDto, description: "EIP-2612 typed data: sign it and post the same body with v, r, s or signature" })
  typedData!: PermitTypedDataDto;
  @ApiProperty({ description: "EIP-712 digest the signature covers" }) digest!: string;
}

/** GET /settlement/faucet: whether this platform has the test-money faucet, and its per-call ceiling. */
export class FaucetInfoDto {
  @ApiProperty({ description: "FAUCET_ENABLED with an issuer key loaded: POST /settlement/faucet exists" }) enabled!: boolean;
  @ApiProperty({ description: "The most one call may mint, in fen (decimal string)", example: FAUCET_MAX_FEN.toString() }) maxAmount!: string;
}

/** A settlement transaction relayed or sent by the service (a permit or a faucet mint). */
export class SettlementOperationDto implements SettlementOperation {
  @ApiProperty() id!: string;
  @ApiProperty({ enum: ["permit", "mint"] }) kind!: string;
  @ApiProperty({ enum: ["pending", "confirmed", "failed"] }) status!: string;
  @ApiProperty({ description: "The permit's owner, or the faucet's recipient" }) account!: string;
  @ApiPropertyOptional({ nullable: true, enum: [...SPENDERS] }) spender!: string | null;
  @ApiProperty({ description: "Allowance granted or amount minted, fen" }) value!: string;
  @ApiPropertyOptional({ nullable: true }) txHash!: string | null;
  @ApiPropertyOptional({ nullable: true }) blockNumber!: number | null;
  @ApiPropertyOptional({ nullable: true, description: "Why the ledger refused it" }) failureReason!: string | null;
  @ApiProperty() createdAt!: string;
  @ApiProperty() updatedAt!: string;
}
