/**
 * Financing write routes. Each is a participant-signed act: posted without a signature it answers
 * 200 with the EIP-712 typed data to sign; posted again with nonce, deadline and signature it
 * answers 202 with the accepted act (?wait=true: once mined and indexed, or failed). Every route
 * honours an Idempotency-Key. Reads of lines and financings live in the financing-read controller.
 */
import { Body, Controller, Get, HttpCode, Param, Post, Query, UseInterceptors } from "@nestjs/common";
import {
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiHeader,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from "@nestjs/swagger";
import type { ActInput } from "../acts/act-spec";
import { IdempotencyInterceptor } from "../acts/idempotency.interceptor";
import { ActWait, SignedAct } from "../acts/signed-act.decorator";
import { CurrentUser, RequireRoles, type AuthUser } from "../auth/auth.decorators";
import {
  ApproveFinancingDto,
  CloseCreditLineDto,
  FinancingOfferDto,
  FinancingOfferListDto,
  LineIdParamDto,
  ListOffersQueryDto,
  OfferIdParamDto,
  OpenCreditLineDto,
  ReceivableIdParamDto,
  RecordRegistrationDto,
  RejectFinancingDto,
  RequestFinancingDto,
  WithdrawFinancingDto,
  UpdateCreditLineDto,
  WriteOffFinancingDto,
} from "./dto/financing-write.dto";
import { FinancingDto } from "./dto/financing-read.dto";
import { FinancingWriteService } from "./financing-write.service";
import { ApiProblems } from "../common/problem-details";

const IDEMPOTENCY_HEADER = {
  name: "Idempotency-Key",
  required: false,
  description: "Retry-safe key (1 to 128 printable ASCII characters): the same key and body answer the first response again",
};

@ApiTags("financing")
@ApiBearerAuth()
@ApiProblems(
  400,
  401,
  403,
  [404, "No such receivable, credit line or financing"],
  [409, "Conflicts with the ledger's state, or the Idempotency-Key is in use"],
  [422, "Refused by a rule, a bad signature or deadline, or the contract's own refusal"],
)
@Controller()
export class FinancingWriteController {
  @Post("credit-lines")
  @RequireRoles("financier")
  @SignedAct("financing.open_line", { summary: "Open a credit line for a debtor and/or a supplier (financiers)" })
  openLine(
    @CurrentUser() user: AuthUser,
    @Body() body: OpenCreditLineDto,
    @ActWait() wait?: boolean,
  ): ActInput<OpenCreditLineDto> {
    return { user, body, wait };
  }

  @Post("credit-lines/:id/update")
  @RequireRoles("financier")
  @SignedAct("financing.update_line", { summary: "Replace the terms of one of your credit lines (financiers)" })
  updateLine(
    @CurrentUser() user: AuthUser,
    @Param() p: LineIdParamDto,
    @Body() body: UpdateCreditLineDto,
    @ActWait() wait?: boolean,
  ): ActInput<UpdateCreditLineDto> {
    return { user, id: p.id, body, wait };
  }

  @Post("credit-lines/:id/close")
  @RequireRoles("financier")
  @SignedAct("financing.close_line", { summary: "Close one of your credit lines to new financing (financiers)" })
  closeLine(
    @CurrentUser() user: AuthUser,
    @Param() p: LineIdParamDto,
    @Body() body: CloseCreditLineDto,
    @ActWait() wait?: boolean,
  ): ActInput<CloseCreditLineDto> {
    return { user, id: p.id, body, wait };
  }

  @Post("financings")
  @RequireRoles("supplier")
  @SignedAct((input: ActInput<RequestFinancingDto>) => (input.body.settle === "with-approval" ? "financing.offer" : "financing.request"), {
    summary:
      "Ask a credit line to finance an accepted receivable you hold (suppliers); compliance runs first. " +
      'With "settle": "with-approval" the signed request becomes an offer in the financier\'s queue (201), approved in one transaction',
  })
  @ApiCreatedResponse({ type: FinancingOfferDto, description: 'settle "with-approval", signed: the offer, kept off-chain for the financier' })
  request(
    @CurrentUser() user: AuthUser,
    @Body() body: RequestFinancingDto,
    @ActWait() wait?: boolean,
  ): ActInput<RequestFinancingDto> {
    return { user, body, wait };
  }

  @Post("financing-offers/:id/approve")
  @RequireRoles("financier")
  @SignedAct("financing.approve_offer", {
    summary:
      "Approve an offer on your line (financiers): sign ApproveSignedRequest; the supplier's signed request and yours are relayed in one transaction",
  })
  approveOffer(
    @CurrentUser() user: AuthUser,
    @Param() p: OfferIdParamDto,
    @Body() body: ApproveFinancingDto,
    @ActWait() wait?: boolean,
  ): ActInput<ApproveFinancingDto> {
    return { user, id: p.id, body, wait };
  }

  @Post("financing-offers/:id/withdraw")
  @RequireRoles("supplier")
  @SignedAct("financing.withdraw_offer", {
    summary:
      "Withdraw your offer (suppliers): sign WithdrawFinancingOffer with the offer's nonce; refused once an approval is being relayed, and the " +
      "relayed withdrawal consumes the nonce on-chain, so no approval can land afterwards",
  })
  withdrawOffer(
    @CurrentUser() user: AuthUser,
    @Param() p: OfferIdParamDto,
    @Body() body: WithdrawFinancingDto,
    @ActWait() wait?: boolean,
  ): ActInput<WithdrawFinancingDto> {
    return { user, id: p.id, body, wait };
  }

  @Post("financings/:id/withdraw")
  @RequireRoles("supplier")
  @SignedAct("financing.withdraw_request", { summary: "Withdraw your pending financing request, so the receivable can be offered elsewhere (suppliers)" })
  withdraw(
    @CurrentUser() user: AuthUser,
    @Param() p: ReceivableIdParamDto,
    @Body() body: WithdrawFinancingDto,
    @ActWait() wait?: boolean,
  ): ActInput<WithdrawFinancingDto> {
    return { user, id: p.id, body, wait };
  }

  @Post("financings/:id/approve")
  @RequireRoles("financier")
  @SignedAct("financing.approve", { summary: "Approve a requested financing on your line: assignment, payment and utilisation at once (financiers)" })
  approve(
    @CurrentUser() user: AuthUser,
    @Param() p: ReceivableIdParamDto,
    @Body() body: ApproveFinancingDto,
    @ActWait() wait?: boolean,
  ): ActInput<ApproveFinancingDto> {
    return { user, id: p.id, body, wait };
  }

  @Post("financings/:id/reject")
  @RequireRoles("financier")
  @SignedAct("financing.reject", { summary: "Reject a requested financing on your line with a reason code (financiers)" })
  reject(
    @CurrentUser() user: AuthUser,
    @Param() p: ReceivableIdParamDto,
    @Body() body: RejectFinancingDto,
    @ActWait() wait?: boolean,
  ): ActInput<RejectFinancingDto> {
    return { user, id: p.id, body, wait };
  }

  @Post("financings/:id/write-off")
  @RequireRoles("financier")
  @SignedAct("financing.write_off", { summary: "Write off the principal of a defaulted receivable you financed (financiers)" })
  writeOff(
    @CurrentUser() user: AuthUser,
    @Param() p: ReceivableIdParamDto,
    @Body() body: WriteOffFinancingDto,
    @ActWait() wait?: boolean,
  ): ActInput<WriteOffFinancingDto> {
    return { user, id: p.id, body, wait };
  }
}

/** A financing's registration number given after an approval made on-chain: no signature, the hash approved on-chain is the proof. */
@ApiTags("financing")
@ApiBearerAuth()
@ApiHeader(IDEMPOTENCY_HEADER)
@ApiProblems(
  400,
  401,
  403,
  [404, "No such financing"],
  [409, "The financing is not approved, or the Idempotency-Key is in use"],
  [422, "The number does not hash to the registration hash approved on-chain"],
)
@UseInterceptors(IdempotencyInterceptor)
@Controller()
export class FinancingRegistrationController {
  constructor(private readonly financing: FinancingWriteService) {}

  @Post("financings/:id/registration")
  @RequireRoles("financier")
  @HttpCode(200)
  @ApiOperation({
    summary:
      "Give the registration number of a financing you approved directly on-chain; it must hash to the approved hash (financiers). No signature: the hash on-chain is the proof",
  })
  @ApiOkResponse({ type: FinancingDto })
  registration(@CurrentUser() user: AuthUser, @Param() p: ReceivableIdParamDto, @Body() dto: RecordRegistrationDto): Promise<FinancingDto> {
    return this.financing.recordRegistration(user, p.id, dto.registrationNumber);
  }
}

/** Reads of offers: separate from the write routes, which answer 200 (typed data) or 202 (act). */
@ApiTags("financing")
@ApiBearerAuth()
@ApiProblems(400, 401, 403)
@Controller()
@RequireRoles("supplier", "financier", "auditor", "compliance")
export class FinancingOffersReadController {
  constructor(private readonly financing: FinancingWriteService) {}

  @Get("financing-offers")
  @ApiOperation({ summary: "Offers (signed requests kept off-chain): your own (suppliers), your queue (financiers), all (auditors, compliance)" })
  @ApiOkResponse({ type: FinancingOfferListDto })
  async offers(@CurrentUser() user: AuthUser, @Query() q: ListOffersQueryDto): Promise<FinancingOfferListDto> {
    return { items: await this.financing.listOffers(user, q) };
  }

  @Get("financing-offers/:id")
  @ApiOperation({ summary: "One offer: open, approving, financed, withdrawn or expired; an open one with what approving now would advance and pay" })
  @ApiOkResponse({ type: FinancingOfferDto })
  @ApiProblems([404, "No such offer"])
  offerById(@CurrentUser() user: AuthUser, @Param() p: OfferIdParamDto): Promise<FinancingOfferDto> {
    return this.financing.getOffer(user, p.id);
  }
}
