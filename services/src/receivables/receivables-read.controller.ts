/** Read routes of receivables: list, one with its financing and payments, history and lineage. */
import { Controller, Get, Param, Query } from "@nestjs/common";
import {
  ApiBearerAuth,
  ApiForbiddenResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiTags,
} from "@nestjs/swagger";
import { CurrentUser, RequireRoles, type AuthUser } from "../auth/auth.decorators";
import { LedgerEventDto } from "../audit/dto/ledger-event.dto";
import {
  LineageNodeDto,
  ListReceivablesQueryDto,
  ReceivableDetailDto,
  ReceivablePageDto,
} from "./dto/receivable-read.dto";
import { ReceivablesReadService } from "./receivables-read.service";
import { ApiProblems } from "../common/problem-details";

const ID_PARAM = { name: "id", description: "Receivable id: 0x + 64 hex digits, or decimal uint256" };

@ApiTags("receivables")
@ApiBearerAuth()
@ApiProblems(400, 401, 403)
@Controller("receivables")
@RequireRoles("member", "compliance")
export class ReceivablesReadController {
  constructor(private readonly reads: ReceivablesReadService) {}

  @Get()
  @ApiOperation({ summary: "Receivables the caller is party to (auditors, compliance: all), filtered, sorted, keyset-paged" })
  @ApiOkResponse({ type: ReceivablePageDto })
  @ApiForbiddenResponse({ description: "Not a verified member or compliance officer, or party= used by a member" })
  list(@CurrentUser() user: AuthUser, @Query() query: ListReceivablesQueryDto): Promise<ReceivablePageDto> {
    return this.reads.list(user, query);
  }

  @Get(":id")
  @ApiOperation({ summary: "One receivable with its financing and payments" })
  @ApiParam(ID_PARAM)
  @ApiOkResponse({ type: ReceivableDetailDto })
  @ApiNotFoundResponse({ description: "No such receivable" })
  @ApiForbiddenResponse({ description: "The caller is not party to it" })
  get(@CurrentUser() user: AuthUser, @Param("id") id: string): Promise<ReceivableDetailDto> {
    return this.reads.get(user, id);
  }

  @Get(":id/history")
  @ApiOperation({ summary: "Its ledger events and its financing's, in chain order, with block, time, sender and actor" })
  @ApiParam(ID_PARAM)
  @ApiOkResponse({ type: LedgerEventDto, isArray: true })
  @ApiNotFoundResponse({ description: "No such receivable" })
  @ApiForbiddenResponse({ description: "The caller is not party to it" })
  history(@CurrentUser() user: AuthUser, @Param("id") id: string): Promise<LedgerEventDto[]> {
    return this.reads.history(user, id);
  }

  @Get(":id/lineage")
  @ApiOperation({ summary: "The split tree from the root ancestor down; nodes the caller is not party to withhold holder and outstanding" })
  @ApiParam(ID_PARAM)
  @ApiOkResponse({ type: LineageNodeDto })
  @ApiNotFoundResponse({ description: "No such receivable" })
  @ApiForbiddenResponse({ description: "The caller is not party to it" })
  lineage(@CurrentUser() user: AuthUser, @Param("id") id: string): Promise<LineageNodeDto> {
    return this.reads.lineage(user, id);
  }
}
