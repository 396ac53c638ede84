/** Core enterprises' payment records: every buyer's for financiers, auditors and compliance; a buyer its own. */
import { Controller, Get, Param, Query } from "@nestjs/common";
import { ApiBearerAuth, ApiForbiddenResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags } from "@nestjs/swagger";
import { CurrentUser, RequireRoles, type AuthUser } from "../auth/auth.decorators";
import { ApiProblems } from "../common/problem-details";
import { ListPaymentRecordsQueryDto, PaymentRecordDto, PaymentRecordPageDto } from "./payment-record.dto";
import { PaymentRecordsService } from "./payment-records.service";

@ApiTags("payment records")
@ApiBearerAuth()
@ApiProblems(400, 401, 403)
@Controller("payment-records")
@RequireRoles("member", "compliance")
export class PaymentRecordsController {
  constructor(private readonly records: PaymentRecordsService) {}

  @Get()
  @ApiOperation({ summary: "Buyers' payment records, by address (financiers, auditors, compliance: every buyer; a buyer: its own)" })
  @ApiOkResponse({ type: PaymentRecordPageDto })
  @ApiForbiddenResponse({ description: "Neither a financier, an auditor, a compliance officer nor a buyer" })
  list(@CurrentUser() user: AuthUser, @Query() query: ListPaymentRecordsQueryDto): Promise<PaymentRecordPageDto> {
    return this.records.list(user, query);
  }

  @Get(":buyer")
  @ApiOperation({ summary: "One buyer's payment record: confirmed, paid on time, paid late (days late), defaulted, outstanding past due" })
  @ApiOkResponse({ type: PaymentRecordDto })
  @ApiNotFoundResponse({ description: "The address is not a buyer on the ledger" })
  @ApiForbiddenResponse({ description: "Another buyer's record, asked by a buyer, or the caller reads no records" })
  one(@CurrentUser() user: AuthUser, @Param("buyer") buyer: string): Promise<PaymentRecordDto> {
    return this.records.one(user, buyer);
  }
}
