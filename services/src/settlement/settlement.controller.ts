/**
 * Settlement token endpoints: balance and allowances, relayed EIP-2612 permits (two steps, like
 * every signed act: without a signature the typed data to sign, with it 202 and the relayed
 * operation), payments held for the caller and their claim (a signed act), the operations' state,
 * and the test-money faucet (only where it is enabled).
 */
import { Body, Controller, Get, Param, Post, Query, Res, UseInterceptors } from "@nestjs/common";
import {
  ApiAcceptedResponse,
  ApiBearerAuth,
  ApiHeader,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiQuery,
  ApiTags,
} from "@nestjs/swagger";
import type { Response } from "express";
import type { ActInput } from "../acts/act-spec";
import { IdempotencyInterceptor } from "../acts/idempotency.interceptor";
import { ActWait, Answered, SignedAct } from "../acts/signed-act.decorator";
import { CurrentUser, RequireRoles, type AuthUser } from "../auth/auth.decorators";
import {
  BalanceQueryDto,
  BalanceResponseDto,
  ClaimHeldDto,
  HeldResponseDto,
  FaucetInfoDto,
  FaucetRequestDto,
  PermitRequestDto,
  SettlementOperationDto,
  UnsignedPermitResponseDto,
  FAUCET_MAX_FEN,
} from "./dto/settlement.dto";
import { SettlementService, type PermitAnswer } from "./settlement.service";
import { ApiProblems } from "../common/problem-details";

@ApiTags("settlement")
@ApiBearerAuth()
@ApiProblems(400, 401, 403)
@Controller("settlement")
export class SettlementController {
  constructor(private readonly settlement: SettlementService) {}

  // Always registered (unlike POST faucet), so a client can ask before offering the form.
  @Get("faucet")
  @RequireRoles("compliance")
  @ApiOperation({ summary: "Whether this platform has the test-money faucet (compliance officers): the console shows its form only then" })
  @ApiOkResponse({ type: FaucetInfoDto })
  faucetInfo(): FaucetInfoDto {
    return { enabled: this.settlement.faucetEnabled, maxAmount: FAUCET_MAX_FEN.toString() };
  }

  @Get("balance")
  @RequireRoles("member", "compliance")
  @ApiOperation({ summary: "Settlement token balance and allowances to the ledger contracts, in fen (auditors and compliance officers may pass ?address=)" })
  @ApiOkResponse({ type: BalanceResponseDto })
  balance(@CurrentUser() user: AuthUser, @Query() q: BalanceQueryDto): Promise<BalanceResponseDto> {
    return this.settlement.balance(user, q.address);
  }

  // Any signed-in address reads what is held for itself: the money is held precisely because its
  // recipient is suspended, past KYC or no longer a member, which `member` would refuse.
  @Get("held")
  @ApiOperation({
    summary:
      "Settlement tokens the ledger holds for you, in fen: payments made while you could not receive them (suspended, KYC lapsed); " +
      "any signed-in address reads its own, auditors and compliance officers may pass ?address=",
  })
  @ApiOkResponse({ type: HeldResponseDto })
  held(@CurrentUser() user: AuthUser, @Query() q: BalanceQueryDto): Promise<HeldResponseDto> {
    return this.settlement.held(user, q.address);
  }

  // Not `member` at the guard: the service refuses a recipient that cannot receive yet with a
  // message saying the money stays held (403 ReceivableUnverifiedParty), and the contract checks again.
  @Post("claim")
  @SignedAct("settlement.claim", {
    summary:
      "Claim everything the ledger holds for you: post without a signature for the ClaimHeld typed data, sign it, post again with nonce, deadline and signature; " +
      "refused (403) while you cannot receive the token (suspended, KYC lapsed, not a member)",
  })
  @ApiProblems(
    [409, "Nothing is held for you (ReceivableNothingHeld), or the idempotency key is in use"],
    [422, "The signature is not yours over the ClaimHeld typed data, or its deadline passed"],
  )
  claim(@CurrentUser() user: AuthUser, @Body() body: ClaimHeldDto, @ActWait() wait?: boolean): ActInput<ClaimHeldDto> {
    return { user, body, wait };
  }

  @Post("permits")
  @RequireRoles("member")
  @Answered()
  @ApiOperation({
    summary:
      "Allow a ledger contract (Receivables for repayments, Financing for advances) to draw your settlement tokens: " +
      "post without a signature for the EIP-2612 typed data, sign it, post again with v, r, s or signature",
  })
  @ApiQuery({ name: "wait", required: false, description: "Answer once the permit is confirmed, or failed" })
  @ApiHeader({ name: "Idempotency-Key", required: false, description: "Same key and body: the first answer again" })
  @ApiOkResponse({ type: UnsignedPermitResponseDto, description: "No signature in the body: the typed data to sign" })
  @ApiAcceptedResponse({ type: SettlementOperationDto, description: "Signed: the permit, relayed through the outbox" })
  @ApiProblems([409, "Idempotency key in use, or a permit of this owner already pending"], [422, "Bad signature or deadline, or the token refused it"])
  permit(@CurrentUser() user: AuthUser, @Body() dto: PermitRequestDto, @ActWait() wait?: boolean): Promise<PermitAnswer> {
    return this.settlement.permit(user, dto, wait ?? false);
  }

  @Get("operations/:id")
  @RequireRoles("member", "compliance")
  @ApiOperation({ summary: "A relayed permit or faucet mint: pending, confirmed (tx hash, block) or failed (reason)" })
  @ApiOkResponse({ type: SettlementOperationDto })
  @ApiProblems([404, "No such operation"])
  operation(@CurrentUser() user: AuthUser, @Param("id") id: string): Promise<SettlementOperationDto> {
    return this.settlement.operation(user, id);
  }
}

/** Registered only where FAUCET_ENABLED=true and ISSUER_KEYSTORE is set; elsewhere the route does not exist (404). */
@ApiTags("settlement")
@ApiBearerAuth()
@ApiProblems(400, 401, [403, "Not a compliance officer"])
@Controller("settlement")
export class FaucetController {
  constructor(private readonly settlement: SettlementService) {}

  @Post("faucet")
  @UseInterceptors(IdempotencyInterceptor)
  @ApiOperation({
    summary: "Test platforms only (FAUCET_ENABLED): a compliance officer mints settlement tokens to a verified member, at most 10^10 fen per call",
  })
  @ApiQuery({ name: "wait", required: false, description: "Answer once the mint is confirmed, or failed" })
  @ApiHeader({ name: "Idempotency-Key", required: false })
  @ApiAcceptedResponse({ type: SettlementOperationDto })
  @ApiNotFoundResponse({ description: "The faucet is not enabled on this platform" })
  @ApiProblems([409, "Idempotency key in use"], [422, "The recipient may not hold the token, or the amount is out of range"])
  async faucet(
    @CurrentUser() user: AuthUser,
    @Body() dto: FaucetRequestDto,
    @Res({ passthrough: true }) res: Response,
    @ActWait() wait?: boolean,
  ): Promise<SettlementOperationDto> {
    const out = await this.settlement.faucet(user, dto, wait ?? false);
    // Set before the idempotency key stores the answer (a @HttpCode is applied only when sending).
    res.status(202);
    return out;
  }
}
