/** POST /auth/login: trade a signed challenge for a bearer token. */
import { ApiProperty } from "@nestjs/swagger";
import { IsNotEmpty, IsString, Matches, MaxLength } from "class-validator";

export class LoginRequestDto {
  @ApiProperty({ description: "The EIP-4361 message from POST /auth/challenge, exactly as returned" })
  @IsString()
  @IsNotEmpty()
  @MaxLength(4096)
  message!: string;

  @ApiProperty({
    description:
      "personal_sign (EIP-191) signature of the message as 0x-hex: 65 bytes for an ordinary account, " +
      "or whatever the contract wallet's ERC-1271 isValidSignature accepts",
    example: "0x…",
  })
  @IsString()
  @MaxLength(2 + 2 * 4096)
  @Matches(/^0x(?:[0-9a-fA-F]{2})+$/, { message: "signature must be 0x-prefixed hex bytes" })
  signature!: string;
}

export class LoginResponseDto {
  @ApiProperty({ description: "Bearer token for the Authorization header (keep it secret; the service stores only its hash)" })
  accessToken!: string;

  @ApiProperty({ description: "Always Bearer", enum: ["Bearer"] })
  tokenType!: "Bearer";

  @ApiProperty({ description: "When the token stops working (ISO 8601); sign in again after it" })
  expiresAt!: string;

  @ApiProperty({ description: "EIP-55 address the token is bound to" })
  address!: string;
}
