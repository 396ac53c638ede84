/**
 * Audit routes: the ledger event feed (members see the events that name them; auditors and
 * compliance officers see all), the verification of the database against the chain, and the
 * streamed export (auditors and compliance officers only).
 */
import { Controller, Get, Query, Res } from "@nestjs/common";
import {
  ApiBearerAuth,
  ApiExtraModels,
  ApiForbiddenResponse,
  ApiOkResponse,
  ApiOperation,
  ApiProduces,
  ApiTags,
  ApiTooManyRequestsResponse,
} from "@nestjs/swagger";
import type { Response } from "express";
import { CurrentUser, RequireRoles, type AuthUser } from "../auth/auth.decorators";
import { AuditService } from "./audit.service";
import { ExportAuditEventsQueryDto, ListAuditEventsQueryDto } from "./dto/audit-query.dto";
import { LedgerEventPageDto } from "./dto/ledger-event.dto";
import { TableCountDto, VerifyQueryDto, VerifyReportDto } from "./dto/verify-report.dto";
import { VerifyService } from "./verify.service";
import { ApiProblems } from "../common/problem-details";

@ApiTags("audit")
@ApiBearerAuth()
@ApiExtraModels(TableCountDto)
@ApiProblems(400, 401, 403)
@Controller("audit")
export class AuditController {
  constructor(
    private readonly audit: AuditService,
    private readonly verifier: VerifyService,
  ) {}

  @Get("events")
  @RequireRoles("member", "compliance")
  @ApiOperation({
    summary: "Ledger events in chain order, filtered; members see only events naming their address (auditors, compliance: all)",
  })
  @ApiOkResponse({ type: LedgerEventPageDto })
  @ApiForbiddenResponse({ description: "Not a verified member or compliance officer, or a member filtering on another member" })
  events(@CurrentUser() user: AuthUser, @Query() query: ListAuditEventsQueryDto): Promise<LedgerEventPageDto> {
    return this.audit.events(user, query);
  }

  @Get("verify")
  @RequireRoles("auditor", "compliance")
  @ApiOperation({
    summary: "Recompute the projection from the chain's logs up to the indexer checkpoint and report every difference (auditors, compliance)",
  })
  @ApiOkResponse({ type: VerifyReportDto })
  @ApiTooManyRequestsResponse({ description: "Another verification is running" })
  @ApiProblems([503, "The chain could not be read"])
  verify(@Query() query: VerifyQueryDto): Promise<VerifyReportDto> {
    return this.verifier.verify({ contracts: query.contracts ?? false });
  }

  @Get("export")
  @RequireRoles("auditor", "compliance")
  @ApiOperation({ summary: "Stream the ledger events matching the filters as CSV or JSON (auditors, compliance)" })
  @ApiProduces("text/csv", "application/json")
  @ApiOkResponse({ description: "CSV with a header row, or a JSON array; X-Ledger-Checkpoint names the last block included" })
  export(@CurrentUser() user: AuthUser, @Query() query: ExportAuditEventsQueryDto, @Res() res: Response): Promise<void> {
    return this.audit.export(query, res, user);
  }
}
