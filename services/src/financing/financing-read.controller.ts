/** Read routes of credit lines and financings, for the parties they name and for auditors. */
import { Controller, Get, Param, ParseIntPipe, Query } from "@nestjs/common";
import { ApiBearerAuth, ApiForbiddenResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags } from "@nestjs/swagger";
import { CurrentUser, RequireRoles, type AuthUser } from "../auth/auth.decorators";
import {
  CreditLineDto,
  CreditLinePageDto,
  FinancingDto,
  FinancingPageDto,
  ListCreditLinesQueryDto,
  ListFinancingsQueryDto,
} from "./dto/financing-read.dto";
import { FinancingReadService } from "./financing-read.service";
import { ComplianceCheckResponseDto } from "../compliance/dto/compliance-check-response.dto";
import { ApiProblems } from "../common/problem-details";

@ApiTags("financing")
@ApiBearerAuth()
@ApiProblems(400, 401, 403)
@Controller()
@RequireRoles("member", "compliance")
export class FinancingReadController {
  constructor(private readonly reads: FinancingReadService) {}

  @Get("credit-lines")
  @ApiOperation({ summary: "Credit lines the caller grants or is named in (auditors, compliance: all)" })
  @ApiOkResponse({ type: CreditLinePageDto })
  creditLines(@CurrentUser() user: AuthUser, @Query() query: ListCreditLinesQueryDto): Promise<CreditLinePageDto> {
    return this.reads.creditLines(user, query);
  }

  @Get("credit-lines/:id")
  @ApiOperation({ summary: "One credit line" })
  @ApiOkResponse({ type: CreditLineDto })
  @ApiNotFoundResponse({ description: "No such line" })
  @ApiForbiddenResponse({ description: "The caller is not party to the line" })
  creditLine(@CurrentUser() user: AuthUser, @Param("id", ParseIntPipe) id: number): Promise<CreditLineDto> {
    return this.reads.creditLine(user, id);
  }

  @Get("financings")
  @ApiOperation({ summary: "Financings the caller is supplier, financier or debtor of (auditors, compliance: all)" })
  @ApiOkResponse({ type: FinancingPageDto })
  financings(@CurrentUser() user: AuthUser, @Query() query: ListFinancingsQueryDto): Promise<FinancingPageDto> {
    return this.reads.financings(user, query);
  }

  @Get("financings/:receivableId/checks")
  @ApiOperation({ summary: "The compliance checks of a financing request, newest run first: for its financier (auditors, compliance: all)" })
  @ApiOkResponse({ type: ComplianceCheckResponseDto, isArray: true })
  @ApiNotFoundResponse({ description: "The receivable has no financing" })
  @ApiForbiddenResponse({ description: "The caller is not the financing's financier" })
  financingChecks(@CurrentUser() user: AuthUser, @Param("receivableId") receivableId: string): Promise<ComplianceCheckResponseDto[]> {
    return this.reads.checks(user, receivableId);
  }

  @Get("financings/:receivableId")
  @ApiOperation({ summary: "The financing of one receivable (id as 0x + 64 hex digits, or decimal)" })
  @ApiOkResponse({ type: FinancingDto })
  @ApiNotFoundResponse({ description: "The receivable has no financing" })
  @ApiForbiddenResponse({ description: "The caller is not party to the financing" })
  financing(@CurrentUser() user: AuthUser, @Param("receivableId") receivableId: string): Promise<FinancingDto> {
    return this.reads.financing(user, receivableId);
  }
}
