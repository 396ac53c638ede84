/**
 * Receivables write endpoints. Each act answers 200 with the EIP-712 typed data when posted
 * without a signature, and 202 with the act once the signed body is accepted (with ?wait=true,
 * once the act is confirmed and indexed, or failed). Every write honours Idempotency-Key.
 * Documents may come as multipart field `document`; its SHA-256 then fills the hash field.
 */
import {
  Body,
  Controller,
  Get,
  Header,
  Param,
  ParseBoolPipe,
  Post,
  Query,
  Res,
  StreamableFile,
  UploadedFile,
  UseInterceptors,
} from "@nestjs/common";
import { FileInterceptor } from "@nestjs/platform-express";
import {
  ApiAcceptedResponse,
  ApiBearerAuth,
  ApiConsumes,
  ApiCreatedResponse,
  ApiHeader,
  ApiOkResponse,
  ApiOperation,
  ApiProduces,
  ApiQuery,
  ApiTags,
} from "@nestjs/swagger";
import type { Response } from "express";
import { ActResponseDto } from "../acts/dto/act.dto";
import { IdempotencyInterceptor } from "../acts/idempotency.interceptor";
import { NOSNIFF, attachment } from "../common/documents.store";
import { CurrentUser, RequireRoles, type AuthUser } from "../auth/auth.decorators";
import { DocumentHashInto, type UploadedDocument } from "./document-upload";
import {
  AttestInvoicesDto,
  CreditNoteDto,
  InvoiceAttestationResponseDto,
  DocumentUploadResponseDto,
  ReceivableActDto,
  ReceivableDocumentResponseDto,
  ReceivableIdPipe,
  RepayReceivableDto,
  Sha256Pipe,
  SplitReceivableDto,
  TokeniseBatchDto,
  TokeniseReceivableDto,
  TransferReceivableDto,
  UnsignedReceivableActDto,
  UploadDocumentDto,
} from "./dto/receivable-write.dto";
import type { WriteOutcome } from "./receivable-act-runner";
import { ReceivableDocumentsService } from "./receivable-documents.service";
import { ReceivableLifecycleService } from "./receivable-lifecycle.service";
import { ReceivableTokeniseService } from "./receivable-tokenise.service";
import { ApiProblems } from "../common/problem-details";

const WAIT = new ParseBoolPipe({ optional: true });

/** Swagger for the two answers every signed-act endpoint gives, and its shared inputs. */
function ActEndpoint(summary: string): MethodDecorator {
  return (target, key, descriptor) => {
    ApiOperation({ summary })(target, key, descriptor);
    ApiQuery({ name: "wait", required: false, description: "Answer once the act is confirmed and indexed, or failed" })(target, key, descriptor);
    ApiHeader({ name: "Idempotency-Key", required: false, description: "Same key and body: the first answer again" })(target, key, descriptor);
    ApiOkResponse({ type: UnsignedReceivableActDto, description: "No signature in the body: the typed data to sign" })(target, key, descriptor);
    ApiAcceptedResponse({ type: ActResponseDto, description: "Signed: the act, relayed through the outbox" })(target, key, descriptor);
    ApiProblems([422, "Refused by compliance (`failures`), a bad signature or deadline, or the contract's own refusal"], 413)(target, key, descriptor);
  };
}

function answer(res: Response, out: WriteOutcome): UnsignedReceivableActDto | ActResponseDto {
  res.status(out.status);
  return out.body;
}

@ApiTags("receivables")
@ApiBearerAuth()
@ApiProblems(400, 401, 403, [404, "No such receivable"], [409, "Conflicts with the ledger's state, or the Idempotency-Key is in use"])
@Controller("receivables")
export class ReceivablesWriteController {
  constructor(
    private readonly tokenising: ReceivableTokeniseService,
    private readonly lifecycle: ReceivableLifecycleService,
    private readonly documents: ReceivableDocumentsService,
  ) {}

  @Post()
  @RequireRoles("supplier")
  @UseInterceptors(FileInterceptor("document"), DocumentHashInto("documentHash"), IdempotencyInterceptor)
  @ApiConsumes("application/json", "multipart/form-data")
  @ActEndpoint("Tokenise an invoice (the signed-in supplier is the seller); the invoice document as multipart field 'document' or its documentHash")
  async tokenise(
    @CurrentUser() user: AuthUser,
    @Body() dto: TokeniseReceivableDto,
    @UploadedFile() file: UploadedDocument | undefined,
    @Res({ passthrough: true }) res: Response,
    @Query("wait", WAIT) wait?: boolean,
  ) {
    return answer(res, await this.tokenising.tokenise(user, dto, file, wait ?? false));
  }

  @Post("batch")
  @RequireRoles("supplier")
  @UseInterceptors(IdempotencyInterceptor)
  @ActEndpoint("Tokenise 1 to 200 invoices under one signature, in one transaction")
  async tokeniseBatch(
    @CurrentUser() user: AuthUser,
    @Body() dto: TokeniseBatchDto,
    @Res({ passthrough: true }) res: Response,
    @Query("wait", WAIT) wait?: boolean,
  ) {
    return answer(res, await this.tokenising.tokeniseBatch(user, dto, wait ?? false));
  }

  @Post("attestations")
  @RequireRoles("supplier")
  @ApiOperation({
    summary:
      "The invoice attester's signature for a supplier that calls tokenise/tokeniseBatch itself: the same checks as POST /receivables, " +
      "scoped to the signed-in seller, valid for an hour",
  })
  @ApiCreatedResponse({ type: InvoiceAttestationResponseDto })
  attest(@CurrentUser() user: AuthUser, @Body() dto: AttestInvoicesDto): Promise<InvoiceAttestationResponseDto> {
    return this.tokenising.attest(user, dto);
  }

  @Post(":id/accept")
  @RequireRoles("buyer")
  @UseInterceptors(IdempotencyInterceptor)
  @ActEndpoint("The debtor accepts the receivable (irrevocable)")
  async accept(
    @CurrentUser() user: AuthUser,
    @Param("id", ReceivableIdPipe) id: string,
    @Body() dto: ReceivableActDto,
    @Res({ passthrough: true }) res: Response,
    @Query("wait", WAIT) wait?: boolean,
  ) {
    return answer(res, await this.lifecycle.accept(user, id, dto, wait ?? false));
  }

  @Post(":id/cancel")
  @RequireRoles("supplier")
  @UseInterceptors(IdempotencyInterceptor)
  @ActEndpoint("The seller cancels a receivable the debtor has not accepted")
  async cancel(
    @CurrentUser() user: AuthUser,
    @Param("id", ReceivableIdPipe) id: string,
    @Body() dto: ReceivableActDto,
    @Res({ passthrough: true }) res: Response,
    @Query("wait", WAIT) wait?: boolean,
  ) {
    return answer(res, await this.lifecycle.cancel(user, id, dto, wait ?? false));
  }

  @Post(":id/split")
  @RequireRoles("supplier")
  @UseInterceptors(IdempotencyInterceptor)
  @ActEndpoint("The holder splits an accepted receivable into 2 to 20 parts summing to its outstanding amount")
  async split(
    @CurrentUser() user: AuthUser,
    @Param("id", ReceivableIdPipe) id: string,
    @Body() dto: SplitReceivableDto,
    @Res({ passthrough: true }) res: Response,
    @Query("wait", WAIT) wait?: boolean,
  ) {
    return answer(res, await this.lifecycle.split(user, id, dto, wait ?? false));
  }

  @Post(":id/transfer")
  @RequireRoles("supplier", "financier")
  @UseInterceptors(IdempotencyInterceptor)
  @ActEndpoint("The holder transfers an accepted receivable to a verified supplier or financier")
  async transfer(
    @CurrentUser() user: AuthUser,
    @Param("id", ReceivableIdPipe) id: string,
    @Body() dto: TransferReceivableDto,
    @Res({ passthrough: true }) res: Response,
    @Query("wait", WAIT) wait?: boolean,
  ) {
    return answer(res, await this.lifecycle.transfer(user, id, dto, wait ?? false));
  }

  @Post(":id/credit-notes")
  @RequireRoles("supplier", "financier")
  @UseInterceptors(FileInterceptor("document"), DocumentHashInto("creditNoteHash"), IdempotencyInterceptor)
  @ApiConsumes("application/json", "multipart/form-data")
  @ActEndpoint("The holder records a credit note lowering the outstanding amount; the note as multipart field 'document' or its creditNoteHash")
  async creditNote(
    @CurrentUser() user: AuthUser,
    @Param("id", ReceivableIdPipe) id: string,
    @Body() dto: CreditNoteDto,
    @UploadedFile() file: UploadedDocument | undefined,
    @Res({ passthrough: true }) res: Response,
    @Query("wait", WAIT) wait?: boolean,
  ) {
    return answer(res, await this.lifecycle.creditNote(user, id, dto, file, wait ?? false));
  }

  @Post(":id/repay")
  @RequireRoles("buyer")
  @UseInterceptors(IdempotencyInterceptor)
  @ActEndpoint(
    "The debtor pays the holder in the settlement token. Needs an allowance for the Receivables contract: approve it once, or send an EIP-2612 permit",
  )
  async repay(
    @CurrentUser() user: AuthUser,
    @Param("id", ReceivableIdPipe) id: string,
    @Body() dto: RepayReceivableDto,
    @Res({ passthrough: true }) res: Response,
    @Query("wait", WAIT) wait?: boolean,
  ) {
    return answer(res, await this.lifecycle.repay(user, id, dto, wait ?? false));
  }

  @Post(":id/documents")
  @RequireRoles("member")
  @UseInterceptors(FileInterceptor("document"), DocumentHashInto("documentHash"), IdempotencyInterceptor)
  @ApiConsumes("multipart/form-data")
  @ApiHeader({ name: "Idempotency-Key", required: false })
  @ApiOperation({ summary: "A party uploads a document for the receivable; the answer says whether its SHA-256 matches a hash on the ledger" })
  @ApiCreatedResponse({ type: DocumentUploadResponseDto })
  @ApiProblems(413)
  upload(
    @CurrentUser() user: AuthUser,
    @Param("id", ReceivableIdPipe) id: string,
    @Body() _dto: UploadDocumentDto,
    @UploadedFile() file: UploadedDocument | undefined,
  ): Promise<DocumentUploadResponseDto> {
    return this.documents.uploadDocument(user, id, file);
  }

  @Get(":id/documents")
  @RequireRoles("member", "compliance")
  @ApiOperation({ summary: "Documents linked to the receivable (parties, auditors, compliance officers)" })
  @ApiOkResponse({ type: [ReceivableDocumentResponseDto] })
  list(@CurrentUser() user: AuthUser, @Param("id", ReceivableIdPipe) id: string): Promise<ReceivableDocumentResponseDto[]> {
    return this.documents.listDocuments(user, id);
  }

  @Get(":id/documents/:sha256")
  @RequireRoles("member", "compliance")
  @Header(...NOSNIFF)
  @ApiProduces("application/octet-stream")
  @ApiOperation({ summary: "Download a document; 409 if the stored bytes no longer hash to its SHA-256" })
  async download(
    @CurrentUser() user: AuthUser,
    @Param("id", ReceivableIdPipe) id: string,
    @Param("sha256", Sha256Pipe) sha256: string,
  ): Promise<StreamableFile> {
    const { row, content } = await this.documents.downloadDocument(user, id, sha256);
    return attachment(content, row.filename, row.contentType);
  }
}
