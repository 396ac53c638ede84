/** Member directory and the compliance officer's suspend / reinstate. */
import { Body, Controller, Get, HttpCode, Param, Post, Query } from "@nestjs/common";
import { ApiAcceptedResponse, ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from "@nestjs/swagger";
import { CurrentUser, RequireRoles, type AuthUser } from "../auth/auth.decorators";
import {
  ListParticipantsQueryDto,
  ParticipantPageDto,
  ParticipantResponseDto,
  ReinstateParticipantDto,
  SuspendParticipantDto,
} from "./dto/participant.dto";
import { ParticipantsService } from "./participants.service";
import { ApiProblems } from "../common/problem-details";

@ApiTags("participants")
@ApiBearerAuth()
@ApiProblems(400, 401)
@Controller("participants")
export class ParticipantsController {
  constructor(private readonly participants: ParticipantsService) {}

  @Get()
  @ApiOperation({
    summary:
      "Members: yourself, or all for compliance officers and auditors; or look members up by name, taxId or address " +
      "(within your counterparties; a tax id finds any member; compliance officers and auditors: everyone)",
  })
  @ApiOkResponse({ type: ParticipantPageDto })
  @ApiProblems([403, "A tax id lookup by a caller that is not a verified member"])
  list(@CurrentUser() user: AuthUser, @Query() q: ListParticipantsQueryDto): Promise<ParticipantPageDto> {
    return this.participants.list(user, q);
  }

  @Get(":address")
  @ApiOperation({ summary: "One member (yourself, or any for compliance officers and auditors)" })
  @ApiOkResponse({ type: ParticipantResponseDto })
  @ApiProblems([403, "Another member's record, and not a compliance officer or auditor"], [404, "Not a member"])
  get(@CurrentUser() user: AuthUser, @Param("address") address: string): Promise<ParticipantResponseDto> {
    return this.participants.get(user, address);
  }

  @Post(":address/suspend")
  @HttpCode(202)
  @RequireRoles("compliance")
  @ApiOperation({ summary: "Suspend a member on-chain (compliance officers)" })
  @ApiAcceptedResponse({ type: ParticipantResponseDto })
  @ApiProblems([403, "Not a compliance officer"], [404, "Not a member"], [409, "Already suspended"])
  suspend(
    @CurrentUser() user: AuthUser,
    @Param("address") address: string,
    @Body() dto: SuspendParticipantDto,
  ): Promise<ParticipantResponseDto> {
    return this.participants.suspend(user, address, dto.reason, dto.reasonCode);
  }

  @Post(":address/reinstate")
  @HttpCode(202)
  @RequireRoles("compliance")
  @ApiOperation({ summary: "Reinstate a suspended member on-chain (compliance officers)" })
  @ApiAcceptedResponse({ type: ParticipantResponseDto })
  @ApiProblems([403, "Not a compliance officer"], [404, "Not a member"], [409, "Not suspended"])
  reinstate(
    @CurrentUser() user: AuthUser,
    @Param("address") address: string,
    @Body() dto: ReinstateParticipantDto,
  ): Promise<ParticipantResponseDto> {
    return this.participants.reinstate(user, address, dto.reason);
  }
}
