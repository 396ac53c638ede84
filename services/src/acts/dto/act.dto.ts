/** Shapes shared by every signed-act endpoint. */
import { ApiProperty, ApiPropertyOptional } from "@nestjs/swagger";
import { IsOptional, Matches } from "class-validator";
import type { ActEntity } from "../entities/act.entity";

/** Post the body without these to get the typed data to sign; post it again with them to submit. */
export class SignatureFieldsDto {
  @ApiPropertyOptional({ description: "Nonce the act was signed with (decimal string); proposed by the service when omitted" })
  @IsOptional()
  @Matches(/^\d{1,78}$/, { message: "nonce must be a decimal integer string" })
  nonce?: string;

  @ApiPropertyOptional({ description: "Deadline (unix seconds, decimal string) the act was signed with" })
  @IsOptional()
  @Matches(/^\d{1,20}$/, { message: "deadline must be unix seconds as a decimal string" })
  deadline?: string;

  @ApiPropertyOptional({ description: "EIP-712 signature (0x hex) of the typed data; omit to receive the typed data" })
  @IsOptional()
  @Matches(/^0x([0-9a-fA-F]{2})+$/, { message: "signature must be 0x-prefixed hex" })
  signature?: string;
}

export class ActResponseDto {
  @ApiProperty() id!: string;
  @ApiProperty({ description: "tokenise, accept, split, …" }) kind!: string;
  @ApiProperty({ enum: ["pending", "confirmed", "failed"] }) status!: string;
  @ApiProperty() signer!: string;
  @ApiProperty() nonce!: string;
  @ApiPropertyOptional({ nullable: true }) receivableId!: string | null;
  @ApiPropertyOptional({ nullable: true }) lineId!: number | null;
  @ApiPropertyOptional({ nullable: true }) txHash!: string | null;
  @ApiPropertyOptional({ nullable: true }) blockNumber!: number | null;
  @ApiPropertyOptional({ nullable: true, description: "Why the ledger refused it" }) failureReason!: string | null;
  @ApiPropertyOptional({ nullable: true, description: "What the act produced, e.g. receivable ids" }) result!: Record<string, unknown> | null;
  @ApiProperty() createdAt!: string;
  @ApiProperty() updatedAt!: string;
}

export function actView(a: ActEntity): ActResponseDto {
  return {
    id: a.id,
    kind: a.kind,
    status: a.status,
    signer: a.signer,
    nonce: a.nonce,
    receivableId: a.receivableId,
    lineId: a.lineId,
    txHash: a.txHash,
    blockNumber: a.blockNumber,
    failureReason: a.failureReason,
    result: a.result,
    createdAt: new Date(a.createdAt).toISOString(),
    updatedAt: new Date(a.updatedAt).toISOString(),
  };
}
