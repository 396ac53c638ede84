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
  Post,
  StreamableFile,
  UploadedFile,
  UseInterceptors,
} from "@nestjs/common";
import { FileInterceptor } from "@nestjs/platform-express";
import { ApiBearerAuth, ApiConsumes, ApiCreatedResponse, ApiHeader, ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from "@nestjs/swagger";
import type { ActInput } from "../acts/act-spec";
import { IdempotencyInterceptor } from "../acts/idempotency.interceptor";
import { ActWait, SignedAct } from "../acts/signed-act.decorator";
import { NOSNIFF, attachment } from "../common/documents.store";
import { CurrentUser, RequireRoles, type AuthUser } from "../auth/auth.decorators";
import { DocumentHashInto, type UploadedDocument } from "./document-upload";
import {
  AttestInvoicesDto,
  CreditNoteDto,
  DisputeReceivableDto,
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
  UploadDocumentDto,
} from "./dto/receivable-write.dto";
import { ReceivableDisputeDto } from "./dto/receivable-read.dto";
import { ReceivableDocumentsService } from "./receivable-documents.service";
import { ReceivableTokeniseService } from "./receivable-tokenise.service";
import { ApiProblems } from "../common/problem-details";

/** The receivables acts' refusals beyond those every route shares (class level). */
const ACT_PROBLEMS = ApiProblems([422, "Refused by compliance (`failures`), a bad signature or deadline, or the contract's own refusal"], 413);

@ApiTags("receivables")
@ApiBearerAuth()
@ApiProblems(400, 401, 403, [404, "No such receivable"], [409, "Conflicts with the ledger's state, or the Idempotency-Key is in use"])
@Controller("receivables")
export class ReceivablesWriteController {
  constructor(
    private readonly tokenising: ReceivableTokeniseService,
    private readonly documents: ReceivableDocumentsService,
  ) {}

  @Post()
  @RequireRoles("supplier")
  @SignedAct("receivables.tokenise", {
    summary: "Tokenise an invoice (the signed-in supplier is the seller); the invoice document as multipart field 'document' or its documentHash",
    before: [FileInterceptor("document"), DocumentHashInto("documentHash")],
  })
  @ApiConsumes("application/json", "multipart/form-data")
  @ACT_PROBLEMS
  tokenise(
    @CurrentUser() user: AuthUser,
    @Body() body: TokeniseReceivableDto,
    @UploadedFile() file: UploadedDocument | undefined,
    @ActWait() wait?: boolean,
  ): ActInput<TokeniseReceivableDto> {
    return { user, body, file, wait };
  }

  @Post("batch")
  @RequireRoles("supplier")
  @SignedAct("receivables.tokenise_batch", { summary: "Tokenise 1 to 200 invoices under one signature, in one transaction" })
  @ACT_PROBLEMS
  tokeniseBatch(@CurrentUser() user: AuthUser, @Body() body: TokeniseBatchDto, @ActWait() wait?: boolean): ActInput<TokeniseBatchDto> {
    return { user, body, wait };
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
  @SignedAct("receivables.accept", { summary: "The debtor accepts the receivable (irrevocable)" })
  @ACT_PROBLEMS
  accept(
    @CurrentUser() user: AuthUser,
    @Param("id", ReceivableIdPipe) id: string,
    @Body() body: ReceivableActDto,
    @ActWait() wait?: boolean,
  ): ActInput<ReceivableActDto> {
    return { user, id, body, wait };
  }

  @Post(":id/cancel")
  @RequireRoles("supplier")
  @SignedAct("receivables.cancel", { summary: "The seller cancels a receivable the debtor has not accepted" })
  @ACT_PROBLEMS
  cancel(
    @CurrentUser() user: AuthUser,
    @Param("id", ReceivableIdPipe) id: string,
    @Body() body: ReceivableActDto,
    @ActWait() wait?: boolean,
  ): ActInput<ReceivableActDto> {
    return { user, id, body, wait };
  }

  @Post(":id/dispute")
  @RequireRoles("buyer")
  @SignedAct("receivables.dispute", {
    summary:
      "The debtor does not confirm an issued receivable: a signed DisputeInvoice statement (reason code, optional text) kept off-chain " +
      "and shown on the receivable; one per receivable, closed when the receivable is accepted or cancelled",
  })
  @ApiCreatedResponse({ type: ReceivableDisputeDto, description: "Signed: the dispute as recorded" })
  @ACT_PROBLEMS
  dispute(
    @CurrentUser() user: AuthUser,
    @Param("id", ReceivableIdPipe) id: string,
    @Body() body: DisputeReceivableDto,
  ): ActInput<DisputeReceivableDto> {
    return { user, id, body };
  }

  @Post(":id/split")
  @RequireRoles("supplier")
  @SignedAct("receivables.split", { summary: "The holder splits an accepted receivable into 2 to 20 parts summing to its outstanding amount" })
  @ACT_PROBLEMS
  split(
    @CurrentUser() user: AuthUser,
    @Param("id", ReceivableIdPipe) id: string,
    @Body() body: SplitReceivableDto,
    @ActWait() wait?: boolean,
  ): ActInput<SplitReceivableDto> {
    return { user, id, body, wait };
  }

  @Post(":id/transfer")
  @RequireRoles("supplier", "financier")
  @SignedAct("receivables.transfer", { summary: "The holder transfers an accepted receivable to a verified supplier or financier" })
  @ACT_PROBLEMS
  transfer(
    @CurrentUser() user: AuthUser,
    @Param("id", ReceivableIdPipe) id: string,
    @Body() body: TransferReceivableDto,
    @ActWait() wait?: boolean,
  ): ActInput<TransferReceivableDto> {
    return { user, id, body, wait };
  }

  @Post(":id/credit-notes")
  @RequireRoles("supplier", "financier")
  @SignedAct("receivables.credit_note", { summary: "The holder records a credit note lowering the outstanding amount; the note as multipart field 'document' or its creditNoteHash", before: [FileInterceptor("document"), DocumentHashInto("creditNoteHash")] })
  @ApiConsumes("application/json", "multipart/form-data")
  @ACT_PROBLEMS
  creditNote(
    @CurrentUser() user: AuthUser,
    @Param("id", ReceivableIdPipe) id: string,
    @Body() body: CreditNoteDto,
    @UploadedFile() file: UploadedDocument | undefined,
    @ActWait() wait?: boolean,
  ): ActInput<CreditNoteDto> {
    return { user, id, body, file, wait };
  }

  @Post(":id/repay")
  @RequireRoles("buyer")
  @SignedAct("receivables.repay", {
    summary:
      "The debtor pays the holder in the settlement token. Needs an allowance for the Receivables contract: approve it once, or send an EIP-2612 permit",
  })
  @ACT_PROBLEMS
  repay(
    @CurrentUser() user: AuthUser,
    @Param("id", ReceivableIdPipe) id: string,
    @Body() body: RepayReceivableDto,
    @ActWait() wait?: boolean,
  ): ActInput<RepayReceivableDto> {
    return { user, id, body, wait };
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
