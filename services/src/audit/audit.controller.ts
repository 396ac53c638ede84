/**
 * Audit routes: the ledger event feed (members see the events that name them; auditors and
 * compliance officers see all), the verification of the database against the chain, and the
 * streamed export and the regulator's export pack for a period (auditors and compliance officers only).
 */
import { Controller, Get, NotFoundException, Param, Query, Res } from "@nestjs/common";
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
import { ExportAuditEventsQueryDto, ExportPackQueryDto, ListAuditEventsQueryDto } from "./dto/audit-query.dto";
import { PACK_FILE_NAMES, type PackFileName, type PackManifest, type PackSignature } from "../../../shared/export-pack-format";
import { ExportPackService } from "./export-pack.service";
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
    private readonly packs: ExportPackService,
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

  @Get("pack")
  @RequireRoles("auditor", "compliance")
  @ApiOperation({
    summary:
      "The export pack of a period [from, to) or [fromBlock, toBlock): the manifest (files, row counts, SHA-256) and its EIP-191 signature " +
      "by the operator key; fetch each file from /audit/pack/files/{name} with the same period (auditors, compliance; docs/EXPORT-PACK.md)",
  })
  @ApiOkResponse({ description: "{ manifest, signature }: manifest.json is the manifest's canonical JSON (RFC 8785), the bytes signed" })
  @ApiProblems([409, "The period reaches past the indexed head (PeriodNotIndexed)"])
  async pack(@Query() query: ExportPackQueryDto): Promise<{ manifest: PackManifest; signature: PackSignature }> {
    const { manifest, signature } = await this.packs.manifest(await this.packs.resolve(query));
    return { manifest, signature };
  }

  @Get("pack/files/:name")
  @RequireRoles("auditor", "compliance")
  @ApiOperation({ summary: `One file of the export pack of a period, as CSV (${PACK_FILE_NAMES.join(", ")}; auditors, compliance)` })
  @ApiProduces("text/csv")
  @ApiOkResponse({ description: "RFC 4180 CSV (CRLF, header row, UTF-8): the bytes the manifest hashes" })
  @ApiProblems(404, [409, "The period reaches past the indexed head (PeriodNotIndexed)"])
  async packFile(@Param("name") name: string, @Query() query: ExportPackQueryDto, @Res() res: Response): Promise<void> {
    if (!(PACK_FILE_NAMES as string[]).includes(name)) {
      throw new NotFoundException(`No pack file ${name}; a pack has ${PACK_FILE_NAMES.join(", ")}.`);
    }
    const range = await this.packs.resolve(query);
    res.status(200);
    res.setHeader("Content-Type", "text/csv; charset=utf-8");
    res.setHeader("Content-Disposition", `attachment; filename="${name}"`);
    res.setHeader("Cache-Control", "no-store");
    let closed = false;
    res.on("close", () => (closed = true));
    try {
      for await (const chunk of this.packs.file(name as PackFileName, range)) {
        if (closed) return;
        // Wait for the client to take the buffered rows, or to go away.
        if (!res.write(chunk.text)) await new Promise((r) => (res.once("drain", r), res.once("close", r)));
      }
      res.end();
    } catch (err) {
      res.destroy(err as Error);
    }
  }
}
