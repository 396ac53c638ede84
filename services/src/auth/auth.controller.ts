/** Sign-in endpoints (challenge, login: public and throttled harder, login also per address), logout and the caller's identity. */
import { Body, Controller, Get, Headers, HttpCode, Post } from "@nestjs/common";
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  ApiTooManyRequestsResponse,
  ApiUnauthorizedResponse,
} from "@nestjs/swagger";
import { CurrentUser, Public, accessRolesOf, type AuthUser } from "./auth.decorators";
import { AuthService } from "./auth.service";
import { AuthThrottle, AuthThrottleBySiweAddress } from "./auth.throttle";
import { ChallengeRequestDto, ChallengeResponseDto } from "./dto/challenge.dto";
import { LoginRequestDto, LoginResponseDto } from "./dto/login.dto";
import { MeResponseDto } from "./dto/me.dto";
import { maskToRoles } from "../../../shared/roles";

@ApiTags("auth")
@Controller("auth")
export class AuthController {
  constructor(private readonly auth: AuthService) {}

  @Post("challenge")
  @Public()
  @AuthThrottle()
  @ApiOperation({ summary: "Get a Sign-In with Ethereum (EIP-4361) message with a single-use nonce to sign" })
  @ApiCreatedResponse({ type: ChallengeResponseDto })
  @ApiBadRequestResponse({ description: "The address is not a valid lower-case or EIP-55 address" })
  @ApiTooManyRequestsResponse({ description: "Too many sign-in attempts from this client" })
  challenge(@Body() dto: ChallengeRequestDto): Promise<ChallengeResponseDto> {
    return this.auth.createChallenge(dto.address);
  }

  @Post("login")
  @Public()
  @AuthThrottleBySiweAddress()
  @HttpCode(200)
  @ApiOperation({ summary: "Exchange the signed challenge for a bearer token" })
  @ApiOkResponse({ type: LoginResponseDto })
  @ApiBadRequestResponse({ description: "Malformed body, or the message is not an EIP-4361 message" })
  @ApiUnauthorizedResponse({ description: "Refused: the message names what was wrong (signature, nonce, expiry, domain, chain id)" })
  @ApiTooManyRequestsResponse({ description: "Too many sign-in attempts from this client, or for the address the message names" })
  login(@Body() dto: LoginRequestDto): Promise<LoginResponseDto> {
    return this.auth.login(dto.message, dto.signature);
  }

  @Post("logout")
  @HttpCode(204)
  @ApiBearerAuth()
  @ApiOperation({ summary: "End this bearer token's session" })
  @ApiNoContentResponse({ description: "The token no longer works" })
  @ApiUnauthorizedResponse({ description: "Missing, unknown or expired bearer token" })
  logout(@Headers("authorization") authorization: string | undefined): Promise<void> {
    return this.auth.logout(authorization);
  }

  @Get("me")
  @ApiBearerAuth()
  @ApiOperation({ summary: "The signed-in address with its ledger roles as the access checks see them" })
  @ApiOkResponse({ type: MeResponseDto })
  @ApiUnauthorizedResponse({ description: "Missing, unknown or expired bearer token" })
  me(@CurrentUser() user: AuthUser): MeResponseDto {
    return { ...user, roleNames: maskToRoles(user.roles), access: accessRolesOf(user) };
  }
}
