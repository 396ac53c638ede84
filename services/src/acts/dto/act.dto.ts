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

/** EIP-712 typed data as eth_signTypedData_v4 takes it. */
export class TypedDataDto {
  @ApiProperty({ description: "EIP-712 domain: name, version, chainId, verifyingContract" }) domain!: Record<string, string>;
  @ApiProperty({ description: "EIP-712 types, EIP712Domain included (as eth_signTypedData_v4 takes them)" }) types!: Record<string, Array<{ name: string; type: string }>>;
  @ApiProperty() primaryType!: string;
  @ApiProperty({ description: "The message; uint256 values as decimal strings" }) message!: Record<string, unknown>;
}

/** Every act route's answer to a body posted without a signature. */
export class UnsignedActDto {
  @ApiProperty({ enum: ["unsigned"] }) status!: "unsigned";
  @ApiProperty({ description: "tokenise, accept, open_line, claim_held, …" }) kind!: string;
  @ApiProperty({ type: TypedDataDto, description: "Sign this with the participant's key (eth_signTypedData_v4), then post the same body with nonce, deadline and signature" })
  typedData!: TypedDataDto;
  @ApiProperty({ description: "EIP-712 digest the signature covers" }) digest!: string;
  @ApiPropertyOptional({
    type: TypedDataDto,
    description: "Repayments only: the EIP-2612 permit to sign for permitSignature (not needed if the debtor approved the contract)",
  })
  permitTypedData?: TypedDataDto;
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
