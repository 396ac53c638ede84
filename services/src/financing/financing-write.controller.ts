/**
 * Financing write routes. Each is a participant-signed act: posted without a signature it answers
 * 200 with the EIP-712 typed data to sign; posted again with nonce, deadline and signature it
 * answers 202 with the accepted act (?wait=true: once mined and indexed, or failed). Every route
 * honours an Idempotency-Key. Reads of lines and financings live in the financing-read controller.
 */
import { Body, Controller, Get, HttpCode, Param, Post, Query, Res, UseInterceptors } from "@nestjs/common";
import {
  ApiAcceptedResponse,
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiHeader,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from "@nestjs/swagger";
import type { Response } from "express";
import type { UnsignedAct } from "../acts/acts.service";
import { ActResponseDto, actView } from "../acts/dto/act.dto";
import { IdempotencyInterceptor } from "../acts/idempotency.interceptor";
import { CurrentUser, RequireRoles, type AuthUser } from "../auth/auth.decorators";
import {
  ActWaitQueryDto,
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
  UnsignedActResponseDto,
  UpdateCreditLineDto,
  WriteOffFinancingDto,
} from "./dto/financing-write.dto";
import { FinancingDto } from "./dto/financing-read.dto";
import { FinancingWriteService, type ActOutcome, type RequestOutcome } from "./financing-write.service";
import { ApiProblems } from "../common/problem-details";

type SignedActAnswer = UnsignedAct | ActResponseDto;

/** 200 with the typed data to sign, 202 with the accepted act, or 201 with a stored offer. */
function answer(res: Response, out: ActOutcome): SignedActAnswer;
function answer(res: Response, out: RequestOutcome): SignedActAnswer | FinancingOfferDto;
function answer(res: Response, out: RequestOutcome): SignedActAnswer | FinancingOfferDto {
  if ("kind" in out && out.kind === "financing_offer" && out.status !== "unsigned") {
    res.status(201);
    return out as FinancingOfferDto;
  }
  if (out.status === "unsigned") {
    res.status(200);
    return out;
  }
  res.status(202);
  return actView(out as ActOutcome as Parameters<typeof actView>[0]);
}

const IDEMPOTENCY_HEADER = {
  name: "Idempotency-Key",
  required: false,
  description: "Retry-safe key (1 to 128 printable ASCII characters): the same key and body answer the first response again",
};

@ApiTags("financing")
@ApiBearerAuth()
@ApiHeader(IDEMPOTENCY_HEADER)
@ApiOkResponse({ type: UnsignedActResponseDto, description: "Posted without a signature: the typed data to sign" })
@ApiAcceptedResponse({ type: ActResponseDto, description: "Posted with a signature: the accepted act" })
@ApiProblems(
  400,
  401,
  403,
  [404, "No such receivable, credit line or financing"],
  [409, "Conflicts with the ledger's state, or the Idempotency-Key is in use"],
  [422, "Refused by a rule, a bad signature or deadline, or the contract's own refusal"],
)
@UseInterceptors(IdempotencyInterceptor)
@Controller()
export class FinancingWriteController {
  constructor(private readonly financing: FinancingWriteService) {}

  @Post("credit-lines")
  @RequireRoles("financier")
  @ApiOperation({ summary: "Open a credit line for a debtor and/or a supplier (financiers)" })
  async openLine(
    @CurrentUser() user: AuthUser,
    @Body() dto: OpenCreditLineDto,
    @Query() q: ActWaitQueryDto,
    @Res({ passthrough: true }) res: Response,
  ): Promise<SignedActAnswer> {
    return answer(res, await this.financing.openCreditLine(user, dto, q.wait === "true"));
  }

  @Post("credit-lines/:id/update")
  @RequireRoles("financier")
  @ApiOperation({ summary: "Replace the terms of one of your credit lines (financiers)" })
  async updateLine(
    @CurrentUser() user: AuthUser,
    @Param() p: LineIdParamDto,
    @Body() dto: UpdateCreditLineDto,
    @Query() q: ActWaitQueryDto,
    @Res({ passthrough: true }) res: Response,
  ): Promise<SignedActAnswer> {
    return answer(res, await this.financing.updateCreditLine(user, Number(p.id), dto, q.wait === "true"));
  }

  @Post("credit-lines/:id/close")
  @RequireRoles("financier")
  @ApiOperation({ summary: "Close one of your credit lines to new financing (financiers)" })
  async closeLine(
    @CurrentUser() user: AuthUser,
    @Param() p: LineIdParamDto,
    @Body() dto: CloseCreditLineDto,
    @Query() q: ActWaitQueryDto,
    @Res({ passthrough: true }) res: Response,
  ): Promise<SignedActAnswer> {
    return answer(res, await this.financing.closeCreditLine(user, Number(p.id), dto, q.wait === "true"));
  }

  @Post("financings")
  @RequireRoles("supplier")
  @ApiOperation({
    summary:
      "Ask a credit line to finance an accepted receivable you hold (suppliers); compliance runs first. " +
      'With "settle": "with-approval" the signed request becomes an offer in the financier\'s queue (201), approved in one transaction',
  })
  @ApiCreatedResponse({ type: FinancingOfferDto, description: 'settle "with-approval", signed: the offer, kept off-chain for the financier' })
  async request(
    @CurrentUser() user: AuthUser,
    @Body() dto: RequestFinancingDto,
    @Query() q: ActWaitQueryDto,
    @Res({ passthrough: true }) res: Response,
  ): Promise<SignedActAnswer | FinancingOfferDto> {
    return answer(res, await this.financing.requestFinancing(user, dto, q.wait === "true"));
  }

  @Post("financing-offers/:id/approve")
  @RequireRoles("financier")
  @ApiOperation({
    summary:
      "Approve an offer on your line (financiers): sign ApproveSignedRequest; the supplier's signed request and yours are relayed in one transaction",
  })
  async approveOffer(
    @CurrentUser() user: AuthUser,
    @Param() p: OfferIdParamDto,
    @Body() dto: ApproveFinancingDto,
    @Query() q: ActWaitQueryDto,
    @Res({ passthrough: true }) res: Response,
  ): Promise<SignedActAnswer> {
    return answer(res, await this.financing.approveOffer(user, p.id, dto, q.wait === "true"));
  }

  @Post("financing-offers/:id/withdraw")
  @RequireRoles("supplier")
  @ApiOperation({
    summary:
      "Withdraw your offer (suppliers): sign WithdrawFinancingOffer with the offer's nonce; refused once an approval is being relayed, and the " +
      "relayed withdrawal consumes the nonce on-chain, so no approval can land afterwards",
  })
  async withdrawOffer(
    @CurrentUser() user: AuthUser,
    @Param() p: OfferIdParamDto,
    @Body() dto: WithdrawFinancingDto,
    @Query() q: ActWaitQueryDto,
    @Res({ passthrough: true }) res: Response,
  ): Promise<SignedActAnswer> {
    return answer(res, await this.financing.withdrawOffer(user, p.id, dto, q.wait === "true"));
  }

  @Post("financings/:id/withdraw")
  @RequireRoles("supplier")
  @ApiOperation({ summary: "Withdraw your pending financing request, so the receivable can be offered elsewhere (suppliers)" })
  async withdraw(
    @CurrentUser() user: AuthUser,
    @Param() p: ReceivableIdParamDto,
    @Body() dto: WithdrawFinancingDto,
    @Query() q: ActWaitQueryDto,
    @Res({ passthrough: true }) res: Response,
  ): Promise<SignedActAnswer> {
    return answer(res, await this.financing.withdrawRequest(user, p.id, dto, q.wait === "true"));
  }

  @Post("financings/:id/approve")
  @RequireRoles("financier")
  @ApiOperation({ summary: "Approve a requested financing on your line: assignment, payment and utilisation at once (financiers)" })
  async approve(
    @CurrentUser() user: AuthUser,
    @Param() p: ReceivableIdParamDto,
    @Body() dto: ApproveFinancingDto,
    @Query() q: ActWaitQueryDto,
    @Res({ passthrough: true }) res: Response,
  ): Promise<SignedActAnswer> {
    return answer(res, await this.financing.approveFinancing(user, p.id, dto, q.wait === "true"));
  }

  @Post("financings/:id/reject")
  @RequireRoles("financier")
  @ApiOperation({ summary: "Reject a requested financing on your line with a reason code (financiers)" })
  async reject(
    @CurrentUser() user: AuthUser,
    @Param() p: ReceivableIdParamDto,
    @Body() dto: RejectFinancingDto,
    @Query() q: ActWaitQueryDto,
    @Res({ passthrough: true }) res: Response,
  ): Promise<SignedActAnswer> {
    return answer(res, await this.financing.rejectFinancing(user, p.id, dto, q.wait === "true"));
  }

  @Post("financings/:id/write-off")
  @RequireRoles("financier")
  @ApiOperation({ summary: "Write off the principal of a defaulted receivable you financed (financiers)" })
  async writeOff(
    @CurrentUser() user: AuthUser,
    @Param() p: ReceivableIdParamDto,
    @Body() dto: WriteOffFinancingDto,
    @Query() q: ActWaitQueryDto,
    @Res({ passthrough: true }) res: Response,
  ): Promise<SignedActAnswer> {
    return answer(res, await this.financing.writeOff(user, p.id, dto, q.wait === "true"));
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
