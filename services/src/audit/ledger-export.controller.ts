/**
 * The exit export (`scf ledger export`): a member's complete records and history, or the whole
 * ledger's for auditors and compliance officers, signed by the operator key.
 */
import { Controller, Get, Query } from "@nestjs/common";
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from "@nestjs/swagger";
import { CurrentUser, RequireRoles, type AuthUser } from "../auth/auth.decorators";
import { ApiProblems } from "../common/problem-details";
import { LedgerExportQueryDto, LedgerExportResponseDto } from "./dto/ledger-export.dto";
import { LedgerExportService, type LedgerExport } from "./ledger-export.service";

@ApiTags("audit")
@ApiBearerAuth()
@ApiProblems(400, 401, 403, [503, "The indexer kept moving while the export was read"])
@Controller("ledger")
export class LedgerExportController {
  constructor(private readonly exports: LedgerExportService) {}

  @Get("export")
  @RequireRoles("member", "compliance")
  @ApiOperation({
    summary:
      "The exit export: every record and event of the caller (members) or of the whole ledger (auditors, compliance; ?member= for one member), " +
      "as NDJSON files with a manifest signed by the operator key (docs/LEDGER-EXPORT.md)",
  })
  @ApiOkResponse({ type: LedgerExportResponseDto })
  export(@CurrentUser() user: AuthUser, @Query() query: LedgerExportQueryDto): Promise<LedgerExport> {
    return this.exports.export(user, query.member);
  }
}
