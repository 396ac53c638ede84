/** Read access to recorded compliance checks, for compliance officers and auditors. */
import { Controller, Get, Query } from "@nestjs/common";
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from "@nestjs/swagger";
import { RequireRoles } from "../auth/auth.decorators";
import { ComplianceService } from "./compliance.service";
import { ComplianceCheckResponseDto } from "./dto/compliance-check-response.dto";
import { ListChecksQueryDto } from "./dto/list-checks-query.dto";
import { ApiProblems } from "../common/problem-details";

@ApiTags("compliance")
@ApiBearerAuth()
@ApiProblems(400, 401, 403)
@Controller("compliance")
export class ComplianceController {
  constructor(private readonly compliance: ComplianceService) {}

  @Get("checks")
  @RequireRoles("compliance", "auditor")
  @ApiOperation({ summary: "Recorded rule verdicts of one subject, newest run first (compliance officers, auditors)" })
  @ApiOkResponse({ type: ComplianceCheckResponseDto, isArray: true })
  list(@Query() query: ListChecksQueryDto): Promise<ComplianceCheckResponseDto[]> {
    return this.compliance.checksOf(query.subject);
  }
}
