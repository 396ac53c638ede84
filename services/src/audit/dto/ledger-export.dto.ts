import { ApiProperty, ApiPropertyOptional } from "@nestjs/swagger";
import { IsOptional } from "class-validator";
import { IsEvmAddress } from "../../auth/dto/is-evm-address";

export class LedgerExportQueryDto {
  @ApiPropertyOptional({
    description: "Export this member's records only. Members may give only their own address (and get it without); auditors and compliance officers get the whole ledger without it.",
  })
  @IsOptional()
  @IsEvmAddress()
  member?: string;
}

export class LedgerExportResponseDto {
  @ApiProperty({ description: "The signed manifest: scope, block, per file its rows, bytes, SHA-256 and every row's SHA-256 (docs/LEDGER-EXPORT.md)" })
  manifest!: Record<string, unknown>;

  @ApiProperty({ description: "EIP-191 signature of the manifest's RFC 8785 canonical JSON by the operator key" })
  signature!: Record<string, unknown>;

  @ApiProperty({ description: "Each file's NDJSON text by name: members, balances, receivables, credit-lines, financings, payments, events" })
  files!: Record<string, string>;
}
