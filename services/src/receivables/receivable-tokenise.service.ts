/**
 * Tokenising invoices: one invoice (POST /receivables) or up to 200 under one signature and one
 * transaction (POST /receivables/batch), both relayed as signed acts; and the invoice attester's
 * attestation for a supplier that sends `tokenise` / `tokeniseBatch` itself
 * (POST /receivables/attestations). Every path runs the same checks (invoice-checks.service.ts)
 * before the attestation is signed.
 */
import { BadRequestException, Injectable } from "@nestjs/common";
import { getAddress } from "ethers";
import type { ActDraft } from "../acts/acts.service";
import type { AuthUser } from "../auth/auth.decorators";
import type { UploadedDocument } from "./document-upload";
import type {
  AttestInvoicesDto,
  BatchInvoiceDto,
  InvoiceAttestationResponseDto,
  TokeniseBatchDto,
  TokeniseReceivableDto,
} from "./dto/receivable-write.dto";
import { InvoiceChecksService, invoiceMessage, invoiceTuple, refuseRepeated } from "./invoice-checks.service";
import { IFACE, ReceivableActRunner, type WriteOutcome } from "./receivable-act-runner";
import { ReceivableDocumentsService } from "./receivable-documents.service";

/** How long an attestation handed to a direct caller stays valid: enough to send, short enough to revoke by waiting. */
const ATTESTATION_TTL_SECONDS = 3_600;

@Injectable()
export class ReceivableTokeniseService {
  constructor(
    private readonly runner: ReceivableActRunner,
    private readonly checks: InvoiceChecksService,
    private readonly documents: ReceivableDocumentsService,
  ) {}

  /** POST /receivables: the signed-in supplier tokenises one invoice. */
  async tokenise(user: AuthUser, dto: TokeniseReceivableDto, file: UploadedDocument | undefined, wait: boolean): Promise<WriteOutcome> {
    const seller = getAddress(user.address);
    if (!dto.documentHash) {
      throw new BadRequestException("Send the invoice document as multipart field 'document', or its SHA-256 as documentHash.");
    }
    const inv = this.checks.invoiceOf(dto, dto.documentHash);
    const id = inv.id;
    const draft: ActDraft = {
      kind: "tokenise",
      contract: "Receivables",
      primaryType: "Tokenise",
      message: { seller, invoice: invoiceMessage(inv) },
      encode: (auth) =>
        IFACE.encodeFunctionData("tokeniseBySig", [seller, invoiceTuple(inv), this.checks.attestation(seller, [inv], auth.deadline, false), auth]),
      receivableId: id,
      result: { receivableId: id, fingerprint: inv.fingerprint },
    };
    return this.runner.run(user, draft, dto, wait, {
      hint: () => this.checks.requireVerifiedDebtor(inv.debtor),
      check: async () => {
        await this.checks.refuseIfIndexed([inv]);
        await this.checks.requireRegisteredTaxIds(seller, [inv]);
        const run = await this.checks.screen(seller, [inv], !dto.signature);
        draft.result = { receivableId: id, fingerprint: inv.fingerprint, complianceRunId: run.runId, compliance: run.overall };
        if (!dto.signature) await this.checks.refuseIfPending([id]);
      },
      lockKeys: [id],
      locked: () => this.checks.refuseIfPending([id]),
      afterSubmit: async () => {
        if (file) await this.documents.link(id, file, seller);
      },
    });
  }

  /** POST /receivables/batch: up to 200 invoices under one signature, one transaction. */
  async tokeniseBatch(user: AuthUser, dto: TokeniseBatchDto, wait: boolean): Promise<WriteOutcome> {
    const seller = getAddress(user.address);
    const invoices = dto.invoices.map((i: BatchInvoiceDto, n: number) => this.checks.invoiceOf(i, i.documentHash, n));
    const ids = invoices.map((i) => i.id);
    refuseRepeated(ids);
    const draft: ActDraft = {
      kind: "tokenise_batch",
      contract: "Receivables",
      primaryType: "TokeniseBatch",
      message: { seller, invoices: invoices.map(invoiceMessage) },
      encode: (auth) =>
        IFACE.encodeFunctionData("tokeniseBatchBySig", [
          seller,
          invoices.map(invoiceTuple),
          this.checks.attestation(seller, invoices, auth.deadline, true),
          auth,
        ]),
      receivableId: null,
      result: { receivableIds: ids },
    };
    return this.runner.run(user, draft, dto, wait, {
      hint: async () => {
        for (const d of new Set(invoices.map((i) => i.debtor))) await this.checks.requireVerifiedDebtor(d);
      },
      check: async () => {
        await this.checks.refuseIfIndexed(invoices);
        await this.checks.requireRegisteredTaxIds(seller, invoices);
        const run = await this.checks.screen(seller, invoices, !dto.signature);
        draft.result = { receivableIds: ids, complianceRunId: run.runId, compliance: run.overall };
        if (!dto.signature) await this.checks.refuseIfPending(ids);
      },
      lockKeys: ids,
      locked: () => this.checks.refuseIfPending(ids),
    });
  }

  /**
   * POST /receivables/attestations: the attestation a supplier sending `tokenise` / `tokeniseBatch`
   * itself needs. The same checks as the relayed path (identity, registered tax ids, duplicates on
   * the ledger and in pending acts, compliance, whose run is stored), scoped to the signed-in seller:
   * the attestation names it, so nobody else can use it.
   */
  async attest(user: AuthUser, dto: AttestInvoicesDto): Promise<InvoiceAttestationResponseDto> {
    const seller = getAddress(user.address);
    const many = dto.invoices.length > 1;
    const invoices = dto.invoices.map((i, n) => this.checks.invoiceOf(i, i.documentHash, many ? n : undefined));
    const ids = invoices.map((i) => i.id);
    refuseRepeated(ids);
    for (const d of new Set(invoices.map((i) => i.debtor))) await this.checks.requireVerifiedDebtor(d);
    await this.checks.refuseIfIndexed(invoices);
    await this.checks.requireRegisteredTaxIds(seller, invoices);
    const run = await this.checks.screen(seller, invoices, false);
    await this.checks.refuseIfPending(ids);
    const expiry = BigInt(Math.floor(Date.now() / 1000) + ATTESTATION_TTL_SECONDS);
    const { signature } = this.checks.attestation(seller, invoices, expiry, many);
    return {
      seller,
      function: many ? "tokeniseBatch" : "tokenise",
      invoices: invoices.map((i) => ({
        receivableId: i.id,
        debtor: i.debtor,
        faceValue: i.faceValue.toString(),
        dueDate: i.dueDate.toString(),
        documentHash: i.documentHash,
        fingerprint: i.fingerprint,
      })),
      expiry: expiry.toString(),
      signature,
      complianceRunId: run.runId,
    };
  }
}
