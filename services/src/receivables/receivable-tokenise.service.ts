/**
 * Tokenising invoices: one invoice (POST /receivables) or up to 200 under one signature and one
 * transaction (POST /receivables/batch), both relayed as signed acts; and the invoice attester's
 * attestation for a supplier that sends `tokenise` / `tokeniseBatch` itself
 * (POST /receivables/attestations). Every path runs the same checks (invoice-checks.service.ts)
 * before the attestation is signed.
 */
import { BadRequestException, Injectable, type OnModuleInit } from "@nestjs/common";
import { getAddress } from "ethers";
import { ActPipeline } from "../acts/act-pipeline.service";
import { defineAct, type ActPlan } from "../acts/act-spec";
import type { AuthUser } from "../auth/auth.decorators";
import type {
  AttestInvoicesDto,
  BatchInvoiceDto,
  InvoiceAttestationResponseDto,
  TokeniseBatchDto,
  TokeniseReceivableDto,
} from "./dto/receivable-write.dto";
import { InvoiceChecksService, invoiceClaim, invoiceMessage, invoiceTuple, refuseRepeated, type Invoice } from "./invoice-checks.service";
import { encodeTokeniseBatchBySig } from "./batch-calldata";
import { IFACE } from "./receivable-lifecycle.service";
import { ReceivableDocumentsService } from "./receivable-documents.service";

/** How long an attestation handed to a direct caller stays valid: enough to send, short enough to revoke by waiting. */
const ATTESTATION_TTL_SECONDS = 3_600;

@Injectable()
export class ReceivableTokeniseService implements OnModuleInit {
  constructor(
    private readonly pipeline: ActPipeline,
    private readonly checks: InvoiceChecksService,
    private readonly documents: ReceivableDocumentsService,
  ) {}

  onModuleInit(): void {
    this.pipeline.register(this.tokenise, this.tokeniseBatch);
  }

  /** POST /receivables: the signed-in supplier tokenises one invoice. */
  readonly tokenise = defineAct<TokeniseReceivableDto>({
    name: "receivables.tokenise",
    kind: "tokenise",
    contract: "Receivables",
    primaryType: "Tokenise",
    cachePlan: true,
    plan: ({ user, body }) => {
      const seller = getAddress(user.address);
      if (!body.documentHash) {
        throw new BadRequestException("Send the invoice document as multipart field 'document', or its SHA-256 as documentHash.");
      }
      const inv = this.checks.invoiceOf(body, body.documentHash);
      return {
        message: { seller, invoice: invoiceMessage(inv) },
        encode: (auth) =>
          IFACE.encodeFunctionData("tokeniseBySig", [seller, invoiceTuple(inv), this.checks.attestation(seller, [inv], auth.deadline, false), auth]),
        receivableId: inv.id,
        result: { receivableId: inv.id, fingerprint: inv.fingerprint },
        claims: [invoiceClaim(inv.id)],
        context: [inv],
      };
    },
    beforeSigning: (_input, plan) => this.checks.requireVerifiedDebtor(invoicesOf(plan)[0].debtor),
    check: ({ user }, plan, signed) => this.screen(getAddress(user.address), invoicesOf(plan), signed),
    lockKeys: (_input, plan) => invoicesOf(plan).map((i) => i.id),
    underLock: (_input, plan) => this.checks.refuseIfPending(invoicesOf(plan).map((i) => i.id)),
    afterRecorded: async ({ user, file }, act) => {
      if (file) await this.documents.link(act.receivableId!, file, getAddress(user.address));
    },
    refusal: (err) => this.checks.refusal(err),
  });

  /** POST /receivables/batch: up to 200 invoices under one signature, one transaction. */
  readonly tokeniseBatch = defineAct<TokeniseBatchDto>({
    name: "receivables.tokenise_batch",
    kind: "tokenise_batch",
    contract: "Receivables",
    primaryType: "TokeniseBatch",
    cachePlan: true,
    plan: ({ user, body }) => {
      const seller = getAddress(user.address);
      const invoices = body.invoices.map((i: BatchInvoiceDto, n: number) => this.checks.invoiceOf(i, i.documentHash, n));
      const ids = invoices.map((i) => i.id);
      refuseRepeated(ids);
      return {
        message: { seller, invoices: invoices.map(invoiceMessage) },
        encode: (auth) =>
          encodeTokeniseBatchBySig(seller, invoices.map(invoiceTuple), this.checks.attestation(seller, invoices, auth.deadline, true), auth),
        receivableId: null,
        result: { receivableIds: ids },
        claims: ids.map(invoiceClaim),
        context: invoices,
      };
    },
    beforeSigning: async (_input, plan) => {
      for (const d of new Set(invoicesOf(plan).map((i) => i.debtor))) await this.checks.requireVerifiedDebtor(d);
    },
    check: ({ user }, plan, signed) => this.screen(getAddress(user.address), invoicesOf(plan), signed),
    lockKeys: (_input, plan) => invoicesOf(plan).map((i) => i.id),
    underLock: (_input, plan) => this.checks.refuseIfPending(invoicesOf(plan).map((i) => i.id)),
    refusal: (err) => this.checks.refusal(err),
  });

  /**
   * The checks of both steps: not on the ledger yet, tax ids registered to the parties, compliance
   * (its run goes into the act's result); unsigned, not in a pending act either (signed, that check
   * runs under the fingerprint locks).
   */
  private async screen(seller: string, invoices: Invoice[], signed: boolean): Promise<Record<string, unknown>> {
    await this.checks.refuseIfIndexed(invoices);
    await this.checks.requireRegisteredTaxIds(seller, invoices);
    const run = await this.checks.screen(seller, invoices, !signed);
    if (!signed) await this.checks.refuseIfPending(invoices.map((i) => i.id));
    return { complianceRunId: run.runId, compliance: run.overall };
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

/** The normalised invoices a tokenising plan carries for its checks. */
function invoicesOf(plan: ActPlan): Invoice[] {
  return plan.context as Invoice[];
}
