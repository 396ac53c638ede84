/** POST /auth/challenge: ask for a Sign-In with Ethereum message to sign. */
import { ApiProperty } from "@nestjs/swagger";
import { IsEvmAddress } from "./is-evm-address";

export class ChallengeRequestDto {
  @ApiProperty({
    description: "Address that will sign in: all lower-case or EIP-55 checksummed",
    example: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
  })
  @IsEvmAddress()
  address!: string;
}

export class ChallengeResponseDto {
  @ApiProperty({
    description:
      "EIP-4361 message to sign unchanged with personal_sign (EIP-191) by the address's key, then send to POST /auth/login",
  })
  message!: string;

  @ApiProperty({ description: "Single-use nonce embedded in the message", example: "Eu36Gp0ycytGelwRg" })
  nonce!: string;

  @ApiProperty({ description: "When the challenge stops being accepted (ISO 8601)", example: "2026-01-01T00:05:00.000Z" })
  expiresAt!: string;
}
