/**
 * Receivables acts signed by the participants they belong to: tokenise (one invoice or a batch),
 * accept, cancel, split, transfer, credit note, repay; and the documents linked to a receivable.
 *
 * Every act goes through ActsService in two steps: posted without a signature it answers the
 * EIP-712 typed data to sign (after the early checks below, so nobody signs something that will
 * be refused); posted again with nonce, deadline and signature it is verified, simulated and
 * queued for the relayer. A signed act already accepted (same signer and nonce) skips every check
 * here and is answered as it was, so a client can retry freely.
 *
 * Tokenisation invariants kept here, before the contract's own:
 * - an invoice's identity is its seller tax id and number (fingerprint.ts): the fingerprint and the
 *   receivable id are computed here, never taken from the client; a mixed-script number or a tax id
 *   outside ASCII letters and digits is refused (422), and so is a tax id that is not exactly the
 *   seller's or the debtor's registered entity id (422, naming which);
 * - the same identity presented again is refused (409, saying whether the content differs: a red
 *   flag), and so is a document already tokenised (409);
 * - compliance runs first and any failing rule refuses the act (a duplicate fingerprint: 409;
 *   anything else: 422) with every failing rule's reason; "review" proceeds and is recorded;
 * - only then does the compliance key, the ledger's invoice attester, sign the EIP-712 attestation
 *   the contract requires (InvoiceAttestation / InvoiceBatchAttestation, expiring with the seller's
 *   own signature). In production this is where the tax authority's e-invoice verification answers
 *   first (see compliance/README.md). POST /receivables/attestation hands the same attestation to a
 *   supplier that sends `tokenise` itself;
 * - a fingerprint already held by a pending tokenisation act is a duplicate (409) too: the check
 *   and the act's insertion run under a per-fingerprint lock, so two concurrent posts of the same
 *   invoice to this process cannot both be accepted. (Across processes the contract still refuses
 *   the second one on-chain.)
 * Repayment with an EIP-2612 permit relays the permit first and waits for it to be mined, then
 * submits the payment, so the payment's simulation sees the allowance.
 */
import {
  BadRequestException,
  ConflictException,
  ForbiddenException,
  HttpException,
  Inject,
  Injectable,
  NotFoundException,
  ServiceUnavailableException,
  UnprocessableEntityException,
} from "@nestjs/common";
import { InjectDataSource, InjectRepository } from "@nestjs/typeorm";
import { Signature, TypedDataEncoder, getAddress, recoverAddress } from "ethers";
import { DataSource, In, type Repository } from "typeorm";
import { Receivables__factory } from "../../../typechain-types";
import type { IReceivables } from "../../../typechain-types/contracts/receivables/Receivables";
import { ActsService, type ActDraft, type SignatureFields, type UnsignedAct } from "../acts/acts.service";
import { actView, type ActResponseDto } from "../acts/dto/act.dto";
import { ActEntity } from "../acts/entities/act.entity";
import { invalidSignature, parseLedgerError, revertToHttp } from "../acts/revert-to-http";
import { ROLE_BITS, type AuthUser } from "../auth/auth.decorators";
import { ChainService } from "../chain/chain.service";
import { PERMIT_TYPES, RECEIVABLES_TYPES, typesForClients } from "../chain/eip712-types";
import { revertDataOf } from "../chain/errors";
import { DocumentsStore } from "../common/documents.store";
import { ComplianceService, type ComplianceRun } from "../compliance/compliance.service";
import { APP_CONFIG, type AppConfig } from "../config/env";
import { DbWriter } from "../database/db-writer";
import { LedgerEventEntity } from "../indexer/entities/ledger-event.entity";
import { FinancingEntity, MemberEntity, ReceivableEntity } from "../indexer/entities/projections.entity";
import { entityIdHash } from "../onboarding/onboarding.service";
import { TxSenderService } from "../outbox/tx-sender.service";
import { sha256Hex, type UploadedDocument } from "./document-upload";
import {
  parseIsoInstant,
  type AttestInvoicesDto,
  type InvoiceAttestationResponseDto,
  type BatchInvoiceDto,
  type CreditNoteDto,
  type DocumentUploadResponseDto,
  type ReceivableDocumentResponseDto,
  type RepayReceivableDto,
  type SplitReceivableDto,
  type TokeniseBatchDto,
  type TokeniseReceivableDto,
  type TransferReceivableDto,
  type ReceivableTypedDataDto,
  type UnsignedReceivableActDto,
} from "./dto/receivable-write.dto";
import { ReceivableDocumentEntity } from "./entities/receivable-document.entity";
import { childIdOf, idHex, invoiceFingerprint, InvoiceIdentityError, receivableIdOf, taxIdKey } from "./fingerprint";

/** What a write endpoint answers: the typed data to sign (200) or the accepted act (202). */
export type WriteOutcome = { status: 200; body: UnsignedReceivableActDto } | { status: 202; body: ActResponseDto };

const DUPLICATE_RULE = "INVOICE_DUPLICATE_FINGERPRINT";
const PERMIT_WAIT_MS = 60_000;
/** How long an attestation handed to a direct caller stays valid: enough to send, short enough to revoke by waiting. */
const ATTESTATION_TTL_SECONDS = 3_600;
const IFACE = Receivables__factory.createInterface();

/** One invoice after validation: what the fingerprint, compliance and the typed data need. */
interface Invoice {
  /** The receivable id the fingerprint becomes (0x + 64 hex). */
  id: string;
  sellerTaxId: string;
  buyerTaxId: string;
  debtor: string;
  faceValue: bigint;
  issueDate: string;
  dueDate: bigint;
  documentHash: string;
  fingerprint: string;
}

/** Extra steps around ActsService for one kind of act. */
interface ActHooks {
  /** Early checks on the unsigned step only (the signed step's simulation is the authority). */
  hint?: () => Promise<void>;
  /** Checks on both steps (not on the replay of an accepted act). */
  check?: () => Promise<void>;
  /** Fingerprints to lock while `locked` runs and the act is inserted. */
  lockKeys?: string[];
  /** Checks that must see every act inserted before (run under the locks, signed step). */
  locked?: () => Promise<void>;
  /** Signed step, before the act is verified and recorded (e.g. relay a permit). */
  beforeSubmit?: () => Promise<void>;
  /** Signed step, once the act is recorded (or found again). */
  afterSubmit?: (act: ActEntity) => Promise<void>;
  /** Extra fields for the unsigned answer. */
  unsignedExtra?: (u: UnsignedAct) => Promise<Partial<UnsignedReceivableActDto>>;
}

@Injectable()
export class ReceivablesWriteService {
  private readonly locks = new KeyedLocks();
  private permitDomain: Promise<ReceivableTypedDataDto["domain"]> | null = null;

  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    @InjectRepository(ReceivableDocumentEntity) private readonly docs: Repository<ReceivableDocumentEntity>,
    private readonly db: DbWriter,
    private readonly acts: ActsService,
    private readonly chain: ChainService,
    private readonly sender: TxSenderService,
    private readonly compliance: ComplianceService,
    private readonly store: DocumentsStore,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  // ---------------------------------------------------------------- tokenise

  /** POST /receivables: the signed-in supplier tokenises one invoice. */
  async tokenise(user: AuthUser, dto: TokeniseReceivableDto, file: UploadedDocument | undefined, wait: boolean): Promise<WriteOutcome> {
    const seller = getAddress(user.address);
    if (!dto.documentHash) {
      throw new BadRequestException("Send the invoice document as multipart field 'document', or its SHA-256 as documentHash.");
    }
    const inv = this.invoiceOf(dto, dto.documentHash);
    const id = inv.id;
    const draft: ActDraft = {
      kind: "tokenise",
      contract: "Receivables",
      primaryType: "Tokenise",
      message: { seller, invoice: invoiceMessage(inv) },
      encode: (auth) =>
        IFACE.encodeFunctionData("tokeniseBySig", [seller, invoiceTuple(inv), this.attestation(seller, [inv], auth.deadline, false), auth]),
      receivableId: id,
      result: { receivableId: id, fingerprint: inv.fingerprint },
    };
    return this.run(user, draft, dto, wait, {
      hint: () => this.requireVerifiedDebtor(inv.debtor),
      check: async () => {
        await this.refuseIfIndexed([inv]);
        await this.requireRegisteredTaxIds(seller, [inv]);
        const run = await this.screen(seller, [inv], !dto.signature);
        draft.result = { receivableId: id, fingerprint: inv.fingerprint, complianceRunId: run.runId, compliance: run.overall };
        if (!dto.signature) await this.refuseIfPending([id]);
      },
      lockKeys: [id],
      locked: () => this.refuseIfPending([id]),
      afterSubmit: async () => {
        if (file) await this.link(id, file, seller);
      },
    });
  }

  /** POST /receivables/batch: up to 200 invoices under one signature, one transaction. */
  async tokeniseBatch(user: AuthUser, dto: TokeniseBatchDto, wait: boolean): Promise<WriteOutcome> {
    const seller = getAddress(user.address);
    const invoices = dto.invoices.map((i: BatchInvoiceDto, n: number) => this.invoiceOf(i, i.documentHash, n));
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
          this.attestation(seller, invoices, auth.deadline, true),
          auth,
        ]),
      receivableId: null,
      result: { receivableIds: ids },
    };
    return this.run(user, draft, dto, wait, {
      hint: async () => {
        for (const d of new Set(invoices.map((i) => i.debtor))) await this.requireVerifiedDebtor(d);
      },
      check: async () => {
        await this.refuseIfIndexed(invoices);
        await this.requireRegisteredTaxIds(seller, invoices);
        const run = await this.screen(seller, invoices, !dto.signature);
        draft.result = { receivableIds: ids, complianceRunId: run.runId, compliance: run.overall };
        if (!dto.signature) await this.refuseIfPending(ids);
      },
      lockKeys: ids,
      locked: () => this.refuseIfPending(ids),
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
    const invoices = dto.invoices.map((i, n) => this.invoiceOf(i, i.documentHash, many ? n : undefined));
    const ids = invoices.map((i) => i.id);
    refuseRepeated(ids);
    for (const d of new Set(invoices.map((i) => i.debtor))) await this.requireVerifiedDebtor(d);
    await this.refuseIfIndexed(invoices);
    await this.requireRegisteredTaxIds(seller, invoices);
    const run = await this.screen(seller, invoices, false);
    await this.refuseIfPending(ids);
    const expiry = BigInt(Math.floor(Date.now() / 1000) + ATTESTATION_TTL_SECONDS);
    const { signature } = this.attestation(seller, invoices, expiry, many);
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

  // ---------------------------------------------------------------- acts on a receivable

  /** POST /receivables/:id/accept: the debtor confirms the debt (irrevocable). */
  async accept(user: AuthUser, id: string, sig: SignatureFields, wait: boolean): Promise<WriteOutcome> {
    const debtor = getAddress(user.address);
    // The debtor consents to the terms as recorded (indexed from the ReceivableTokenised event): the
    // contract refuses them if the record under this id says otherwise (a squatter's copy).
    const terms = await this.termsOf(id);
    return this.run(
      user,
      {
        kind: "accept",
        contract: "Receivables",
        primaryType: "Accept",
        message: { debtor, receivableId: BigInt(id), ...terms },
        encode: (a) => IFACE.encodeFunctionData("acceptBySig", [debtor, id, terms, a]),
        receivableId: id,
        result: { seller: terms.seller, faceValue: terms.faceValue.toString(), dueDate: terms.dueDate.toString(), documentHash: terms.documentHash },
      },
      sig,
      wait,
      { hint: () => this.requireParty(id, debtor, "debtor", "accept") },
    );
  }

  /** POST /receivables/:id/cancel: the seller withdraws a receivable not yet accepted. */
  cancel(user: AuthUser, id: string, sig: SignatureFields, wait: boolean): Promise<WriteOutcome> {
    const seller = getAddress(user.address);
    return this.run(
      user,
      {
        kind: "cancel",
        contract: "Receivables",
        primaryType: "Cancel",
        message: { seller, receivableId: BigInt(id) },
        encode: (a) => IFACE.encodeFunctionData("cancelBySig", [seller, id, a]),
        receivableId: id,
      },
      sig,
      wait,
      { hint: () => this.requireParty(id, seller, "holder", "cancel") },
    );
  }

  /** POST /receivables/:id/split: the holder splits an accepted receivable into parts. */
  split(user: AuthUser, id: string, dto: SplitReceivableDto, wait: boolean): Promise<WriteOutcome> {
    const holder = getAddress(user.address);
    const amounts = dto.amounts.map((a) => BigInt(a));
    const childIds = amounts.map((_, i) => idHex(childIdOf(id, i)));
    return this.run(
      user,
      {
        kind: "split",
        contract: "Receivables",
        primaryType: "Split",
        message: { holder, receivableId: BigInt(id), amounts },
        encode: (a) => IFACE.encodeFunctionData("splitBySig", [holder, id, amounts, a]),
        receivableId: id,
        result: { childIds },
      },
      dto,
      wait,
      { hint: () => this.requireParty(id, holder, "holder", "split") },
    );
  }

  /** POST /receivables/:id/transfer: the holder transfers an accepted receivable. */
  transfer(user: AuthUser, id: string, dto: TransferReceivableDto, wait: boolean): Promise<WriteOutcome> {
    const holder = getAddress(user.address);
    const to = getAddress(dto.to.toLowerCase());
    return this.run(
      user,
      {
        kind: "transfer",
        contract: "Receivables",
        primaryType: "TransferReceivable",
        message: { holder, receivableId: BigInt(id), to },
        encode: (a) => IFACE.encodeFunctionData("transferBySig", [holder, id, to, a]),
        receivableId: id,
        result: { to },
      },
      dto,
      wait,
      { hint: () => this.requireParty(id, holder, "holder", "transfer") },
    );
  }

  /** POST /receivables/:id/credit-notes: the holder lowers the outstanding amount (dilution). */
  creditNote(user: AuthUser, id: string, dto: CreditNoteDto, file: UploadedDocument | undefined, wait: boolean): Promise<WriteOutcome> {
    const holder = getAddress(user.address);
    if (!dto.creditNoteHash) {
      throw new BadRequestException("Send the credit note as multipart field 'document', or its SHA-256 as creditNoteHash.");
    }
    const hash = dto.creditNoteHash.toLowerCase();
    const amount = BigInt(dto.amount);
    return this.run(
      user,
      {
        kind: "credit_note",
        contract: "Receivables",
        primaryType: "CreditNote",
        message: { holder, receivableId: BigInt(id), amount, creditNoteHash: hash },
        encode: (a) => IFACE.encodeFunctionData("applyCreditNoteBySig", [holder, id, amount, hash, a]),
        receivableId: id,
        result: { amount: dto.amount, creditNoteHash: hash },
      },
      dto,
      wait,
      {
        hint: () => this.requireParty(id, holder, "holder", "issue a credit note on"),
        afterSubmit: async () => {
          if (file) await this.link(id, file, holder);
        },
      },
    );
  }

  /** POST /receivables/:id/repay: the debtor pays the holder in the settlement token. */
  repay(user: AuthUser, id: string, dto: RepayReceivableDto, wait: boolean): Promise<WriteOutcome> {
    const debtor = getAddress(user.address);
    const amount = BigInt(dto.amount);
    if (dto.permit && dto.permitSignature) throw new BadRequestException("Send either permit or permitSignature, not both.");
    const draft: ActDraft = {
      kind: "pay",
      contract: "Receivables",
      primaryType: "Pay",
      message: { debtor, receivableId: BigInt(id), amount },
      encode: (a) => IFACE.encodeFunctionData("payBySig", [debtor, id, amount, a]),
      receivableId: id,
      result: { amount: dto.amount },
    };
    return this.run(user, draft, dto, wait, {
      hint: () => this.requireParty(id, debtor, "debtor", "repay"),
      beforeSubmit: async () => {
        if (dto.permit || dto.permitSignature) {
          await this.precheckSignature(debtor, draft, dto);
          await this.relayPermit(debtor, amount, dto);
        }
      },
      unsignedExtra: async (u) => ({
        permitTypedData: await this.permitTypedData(debtor, amount, BigInt(u.typedData.message.deadline as string)),
      }),
    }).catch((err: unknown) => {
      // The contract's allowance error names approve(); a relayed client can also send a permit.
      if (err instanceof HttpException && (err.getResponse() as { error?: string }).error === "ERC20InsufficientAllowance") {
        const body = err.getResponse() as { error: string; message: string };
        throw new ConflictException({
          ...body,
          message: `${body.message} Or send an EIP-2612 permit with the repayment (permit, or permitSignature over permitTypedData).`,
        });
      }
      throw err;
    });
  }

  // ---------------------------------------------------------------- documents

  /** POST /receivables/:id/documents: a party links a document and learns whether the ledger recorded its hash. */
  async uploadDocument(user: AuthUser, id: string, file: UploadedDocument | undefined): Promise<DocumentUploadResponseDto> {
    if (!file) throw new BadRequestException("Upload the file as multipart field 'document'.");
    const r = await this.indexed(id);
    const parties = await this.partiesOf(r);
    if (!parties.has(getAddress(user.address))) {
      throw new ForbiddenException(`Only the seller, debtor, holder or financier of receivable ${id} can upload its documents.`);
    }
    const row = await this.link(id, file, user.address);
    const sha = "0x" + row.sha256;
    const creditNotes = await this.creditNoteHashes(id);
    const docHash = r.documentHash?.toLowerCase() ?? null;
    const matchedAs = docHash === sha ? "invoice" : creditNotes.includes(sha) ? "credit_note" : null;
    return { ...documentView(row), matchesOnChain: matchedAs !== null, matchedAs, onChainDocumentHash: docHash, onChainCreditNoteHashes: creditNotes };
  }

  /** GET /receivables/:id/documents: parties, auditors and compliance officers. */
  async listDocuments(user: AuthUser, id: string): Promise<ReceivableDocumentResponseDto[]> {
    await this.requireReader(user, id);
    const rows = await this.docs.find({ where: { receivableId: id }, order: { createdAt: "ASC", sha256: "ASC" } });
    return rows.map(documentView);
  }

  /** GET /receivables/:id/documents/:sha256: the bytes, refused if they no longer hash to their name. */
  async downloadDocument(user: AuthUser, id: string, sha256: string): Promise<{ row: ReceivableDocumentEntity; content: Buffer }> {
    await this.requireReader(user, id);
    const row = await this.docs.findOneBy({ receivableId: id, sha256 });
    if (!row) throw new NotFoundException(`Receivable ${id} has no document with SHA-256 ${sha256}.`);
    const content = this.store.get(sha256);
    if (!content) {
      throw new ConflictException(`Document ${sha256} of receivable ${id} is missing from document storage; restore it from backup.`);
    }
    const actual = sha256Hex(content);
    if (actual !== sha256) {
      throw new ConflictException(
        `The stored file no longer matches its recorded SHA-256 (${sha256}; the bytes now hash to ${actual}): it was altered in storage. Restore it from backup.`,
      );
    }
    return { row, content };
  }

  // ---------------------------------------------------------------- the act pipeline

  private async run(user: AuthUser, draft: ActDraft, sig: SignatureFields, wait: boolean, hooks: ActHooks): Promise<WriteOutcome> {
    if (!sig.signature) {
      await hooks.hint?.();
      await hooks.check?.();
      // (ActsService.allocateNonce is one atomic upsert: concurrent requests of a signer get
      // distinct nonces without a lock here.)
      const u = await this.acts.prepare(user.address, draft, sig);
      return { status: 200, body: { ...(u as UnsignedReceivableActDto), ...(await hooks.unsignedExtra?.(u)) } };
    }
    if (sig.nonce === undefined || sig.deadline === undefined) {
      throw new BadRequestException("A signed act needs the nonce and deadline it was signed with.");
    }
    const nonce = BigInt(sig.nonce);
    if (nonce >= 2n ** 256n) throw new BadRequestException("nonce does not fit uint256.");
    // Acts store the nonce in canonical decimal ("007" was accepted as "7").
    let act = await this.ds.getRepository(ActEntity).findOneBy({ contract: draft.contract, signer: getAddress(user.address), nonce: nonce.toString() });
    if (act) {
      // A retry of an accepted act: ActsService answers it as it was, or 409 if the body changed.
      act = await this.acts.submit(user.address, draft, sig);
    } else {
      await hooks.check?.();
      await hooks.beforeSubmit?.();
      act = await this.locks.run(hooks.lockKeys ?? [], async () => {
        await hooks.locked?.();
        return this.acts.submit(user.address, draft, sig);
      });
    }
    await hooks.afterSubmit?.(act);
    if (wait) act = await this.acts.waitFor(act.id);
    return { status: 202, body: actView(act) };
  }

  // ---------------------------------------------------------------- tokenisation checks

  private invoiceOf(dto: TokeniseReceivableDto | BatchInvoiceDto, documentHash: string, index?: number): Invoice {
    const due = parseIsoInstant(dto.dueDate);
    if (due === null) throw new BadRequestException("dueDate must be an ISO 8601 date or date-time.");
    const faceValue = BigInt(dto.amount);
    let fingerprint: string;
    let sellerTaxId: string;
    let buyerTaxId: string;
    try {
      fingerprint = invoiceFingerprint(this.config.FINGERPRINT_SALT, { sellerTaxId: dto.sellerTaxId, invoiceNumber: dto.invoiceNumber }).toLowerCase();
      sellerTaxId = taxIdKey(dto.sellerTaxId, "sellerTaxId");
      buyerTaxId = taxIdKey(dto.buyerTaxId, "buyerTaxId");
    } catch (err) {
      if (!(err instanceof InvoiceIdentityError)) throw err;
      throw new UnprocessableEntityException({
        error: "InvalidInvoiceIdentity",
        field: err.field,
        ...(index !== undefined ? { invoice: index } : {}),
        message: (index !== undefined ? `invoice ${index}: ` : "") + err.message,
      });
    }
    return {
      id: idHex(receivableIdOf(fingerprint)),
      sellerTaxId,
      buyerTaxId,
      debtor: getAddress(dto.debtor.toLowerCase()),
      faceValue,
      issueDate: dto.issueDate,
      dueDate: BigInt(due),
      documentHash: documentHash.toLowerCase(),
      fingerprint,
    };
  }

  /**
   * Runs the invoice rules on every invoice; refuses with every failing rule's reason.
   * `preview` (the unsigned step): the same rules, but a passing run is not stored — the binding run
   * is the one of the signed step, stored with the act. Failing and review runs are always kept.
   */
  private async screen(seller: string, invoices: Invoice[], preview: boolean): Promise<ComplianceRun> {
    const failures: Array<{ invoice?: number; code: string; reason: string }> = [];
    let last: ComplianceRun | null = null;
    let review = false;
    // One read of the facts and one write transaction for the whole batch: on SQLite writes are
    // serialised (200 transactions per batch starved the sender and indexer), and reading the
    // seller's open book once per invoice made a batch cost grow with the seller's book squared.
    const now = new Date();
    const subjects = invoices.map((inv) => ({
      subjectId: inv.id,
      seller,
      debtor: inv.debtor,
      faceValue: inv.faceValue,
      issueDate: new Date(`${inv.issueDate}T00:00:00Z`),
      dueDate: new Date(Number(inv.dueDate) * 1000),
      fingerprint: inv.fingerprint,
      now,
    }));
    const runs = await this.compliance.checkInvoices(null, subjects, { storePassing: !preview });
    for (const [i, run] of runs.entries()) {
      last = run;
      review ||= run.overall === "review";
      for (const o of run.outcomes) {
        if (o.result === "fail") failures.push({ ...(invoices.length > 1 ? { invoice: i } : {}), code: o.code, reason: o.reason });
      }
    }
    if (failures.length) {
      const text = failures.map((f) => (f.invoice !== undefined ? `invoice ${f.invoice}: ` : "") + `${f.code}: ${f.reason}`).join(" ");
      const body = {
        error: failures.some((f) => f.code === DUPLICATE_RULE) ? "DuplicateInvoice" : "ComplianceRefused",
        message: `Compliance refused the ${invoices.length > 1 ? "batch" : "invoice"}. ${text}`,
        complianceRunId: last!.runId,
        failures,
      };
      throw failures.some((f) => f.code === DUPLICATE_RULE) ? new ConflictException(body) : new UnprocessableEntityException(body);
    }
    return { ...last!, overall: review ? "review" : last!.overall };
  }

  /** 409 when any of `ids` is held by a pending tokenisation act (accepted, not yet mined). */
  private async refuseIfPending(ids: string[]): Promise<void> {
    const acts = this.ds.getRepository(ActEntity);
    const wanted = new Set(ids);
    const single = await acts.find({
      where: { status: "pending", kind: "tokenise", receivableId: In(ids) },
      select: { id: true, receivableId: true },
    });
    let hit = single.find((a) => a.receivableId && wanted.has(a.receivableId))?.receivableId ?? null;
    if (!hit) {
      // Batch acts keep their ids in `result`; few are ever pending at once.
      const batches = await acts.find({ where: { status: "pending", kind: "tokenise_batch" }, select: { id: true, result: true } });
      for (const b of batches) {
        hit = ((b.result?.receivableIds as string[] | undefined) ?? []).find((x) => wanted.has(x)) ?? null;
        if (hit) break;
      }
    }
    if (hit) {
      throw new ConflictException({
        error: "DuplicateInvoice",
        message: `This invoice is already being tokenised (fingerprint ${hit} is held by a pending act); an invoice can be tokenised only once.`,
      });
    }
  }

  /**
   * 409 when one of the invoices' identities (receivable ids) or documents is in the projection (the
   * ledger as last indexed), on both steps. One tokenised in the last blocks, not yet indexed, is
   * refused by the signed step's simulation. Asking the chain instead cost the node an eth_call per
   * invoice, 200 per batch: more CPU than mining the batch.
   */
  private async refuseIfIndexed(invoices: Invoice[]): Promise<void> {
    const repo = this.ds.getRepository(ReceivableEntity);
    const byId = new Map(invoices.map((inv) => [inv.id, inv]));
    const byDocument = new Map(invoices.map((inv) => [inv.documentHash, inv]));
    const ids = [...byId.keys()];
    const docs = [...byDocument.keys()];
    for (let i = 0; i < ids.length; i += 500) {
      const found = await repo.findOne({ where: { id: In(ids.slice(i, i + 500)) } });
      if (found) throw duplicateOnLedger(found, byId.get(found.id)!);
    }
    for (let i = 0; i < docs.length; i += 500) {
      const found = await repo.findOne({ select: { id: true, documentHash: true }, where: { documentHash: In(docs.slice(i, i + 500)) } });
      if (found) {
        throw new ConflictException({
          error: "DocumentAlreadyTokenised",
          message:
            `This invoice document (SHA-256 ${found.documentHash}) is already on the ledger as receivable ${found.id}; ` +
            "a document can be tokenised only once, under one invoice.",
          receivableId: found.id,
        });
      }
    }
  }

  /**
   * 422 unless each tax id on the invoice is exactly the registered entity id (USCC or LEI, as hashed
   * on-chain at registration) of its party: the seller tax id of the signed-in seller, the buyer
   * tax id of the debtor. A member registered without a USCC or LEI cannot match either.
   */
  private async requireRegisteredTaxIds(seller: string, invoices: Invoice[]): Promise<void> {
    const members = this.ds.getRepository(MemberEntity);
    const hashOf = new Map<string, string | null>();
    const registered = async (address: string) => {
      if (!hashOf.has(address)) hashOf.set(address, (await members.findOneBy({ address }))?.entityIdHash?.toLowerCase() ?? null);
      return hashOf.get(address)!;
    };
    const matches = (taxId: string, hash: string | null) =>
      hash !== null && (entityIdHash("USCC", taxId).toLowerCase() === hash || entityIdHash("LEI", taxId).toLowerCase() === hash);
    for (const [i, inv] of invoices.entries()) {
      const at = invoices.length > 1 ? `invoice ${i}: ` : "";
      if (!matches(inv.sellerTaxId, await registered(seller))) {
        throw new UnprocessableEntityException({
          error: "TaxIdNotRegistered",
          field: "sellerTaxId",
          message: `${at}sellerTaxId ${inv.sellerTaxId} is not the registered entity id of the seller ${seller}: an invoice is tokenised by the seller it names.`,
        });
      }
      if (!matches(inv.buyerTaxId, await registered(inv.debtor))) {
        throw new UnprocessableEntityException({
          error: "TaxIdNotRegistered",
          field: "buyerTaxId",
          message: `${at}buyerTaxId ${inv.buyerTaxId} is not the registered entity id of the debtor ${inv.debtor}: the invoice must name the member that owes it.`,
        });
      }
    }
  }

  /**
   * The invoice attester's EIP-712 signature over the invoices and their seller, by the service's
   * compliance key (INVOICE_ATTESTER_ROLE on Receivables). Called only after the checks above have
   * passed. It expires with the seller's own signature; deterministic (RFC 6979), so a retried act
   * encodes to the same calldata.
   */
  private attestation(seller: string, invoices: Invoice[], expiry: bigint, batch: boolean): { expiry: bigint; signature: string } {
    const domain = this.acts.domain("Receivables");
    const digest = !batch
        ? TypedDataEncoder.hash(domain, RECEIVABLES_TYPES.InvoiceAttestation, { seller, invoice: invoiceMessage(invoices[0]), expiry })
        : TypedDataEncoder.hash(domain, RECEIVABLES_TYPES.InvoiceBatchAttestation, { seller, invoices: invoices.map(invoiceMessage), expiry });
    return { expiry, signature: this.chain.wallets.compliance.signingKey.sign(digest).serialized };
  }

  /** The recorded terms of `id` the debtor's acceptance names. */
  private async termsOf(id: string): Promise<{ seller: string; faceValue: bigint; dueDate: bigint; documentHash: string }> {
    const r = await this.ds.getRepository(ReceivableEntity).findOneBy({ id });
    if (r?.documentHash) {
      return { seller: getAddress(r.seller), faceValue: BigInt(r.faceValue), dueDate: BigInt(r.dueDate), documentHash: r.documentHash.toLowerCase() };
    }
    // Mined but not indexed yet (a client accepting right after `?wait=true`): the event itself.
    const receivables = this.chain.contracts.receivables;
    const [log] = await receivables.queryFilter(receivables.filters.ReceivableTokenised(id), this.chain.deployment.blockNumber);
    if (!log) throw new NotFoundException(`Receivable ${id} is not a tokenised invoice on the ledger (a split part is accepted with its parent).`);
    const a = log.args;
    return { seller: getAddress(a.seller), faceValue: a.faceValue, dueDate: a.dueDate, documentHash: a.documentHash.toLowerCase() };
  }

  private async requireVerifiedDebtor(debtor: string): Promise<void> {
    if (!(await this.chain.contracts.registry.isVerified(debtor, ROLE_BITS.buyer))) {
      throw new ForbiddenException({
        error: "ReceivableUnverifiedParty",
        message: `Debtor ${debtor} is not a verified buyer on the ledger (active membership with valid KYC is required).`,
      });
    }
  }

  // ---------------------------------------------------------------- party checks

  /** Early check on the unsigned step: the receivable exists and `who` is its debtor or holder. */
  private async requireParty(id: string, who: string, role: "debtor" | "holder", act: string): Promise<void> {
    let view: { holder: string; debtor: string };
    try {
      view = await this.chain.contracts.receivables.receivable(id);
    } catch (err) {
      const data = revertDataOf(err);
      if (data === null) throw err;
      throw revertToHttp(parseLedgerError(data), data.slice(0, 10));
    }
    const party = role === "debtor" ? view.debtor : view.holder;
    if (getAddress(party) !== who) {
      throw new ForbiddenException({
        error: "ReceivableUnauthorized",
        message: `Only the ${role} of receivable ${id} can ${act} it; ${who} is not its ${role}.`,
      });
    }
  }

  private async indexed(id: string): Promise<ReceivableEntity> {
    const r = await this.ds.getRepository(ReceivableEntity).findOneBy({ id });
    if (!r) throw new NotFoundException(`Receivable ${id} is not on the ledger (or not indexed yet; try again in a moment).`);
    return r;
  }

  private async partiesOf(r: ReceivableEntity): Promise<Set<string>> {
    const parties = new Set([r.seller, r.debtor, ...(r.holder ? [r.holder] : [])].map((a) => getAddress(a)));
    const f = await this.ds.getRepository(FinancingEntity).findOneBy({ receivableId: r.id });
    if (f?.financier) parties.add(getAddress(f.financier));
    return parties;
  }

  private async requireReader(user: AuthUser, id: string): Promise<void> {
    const r = await this.indexed(id);
    const everything = user.complianceOfficer || (user.verifiedMember && (user.roles & ROLE_BITS.auditor) !== 0);
    if (everything) return;
    if (!(await this.partiesOf(r)).has(getAddress(user.address))) {
      throw new ForbiddenException(`Only the parties to receivable ${id}, auditors and compliance officers can read its documents.`);
    }
  }

  // ---------------------------------------------------------------- documents

  /** Stores the bytes and links them to the receivable (once per receivable and hash). */
  private async link(id: string, file: UploadedDocument, uploadedBy: string): Promise<ReceivableDocumentEntity> {
    const sha256 = this.store.put(file.buffer);
    await this.db.write((m) =>
      m
        .createQueryBuilder()
        .insert()
        .into(ReceivableDocumentEntity)
        .values({
          receivableId: id,
          sha256,
          filename: cleanFilename(file.originalname),
          contentType: (file.mimetype || "application/octet-stream").slice(0, 100),
          size: file.size,
          uploadedBy: getAddress(uploadedBy),
          createdAt: Date.now(),
        })
        .orIgnore()
        .execute(),
    );
    return this.docs.findOneByOrFail({ receivableId: id, sha256 });
  }

  private async creditNoteHashes(id: string): Promise<string[]> {
    const events = await this.ds.getRepository(LedgerEventEntity).find({
      where: { receivableId: id, eventName: "CreditNoteApplied" },
      order: { blockNumber: "ASC", logIndex: "ASC" },
    });
    return events.map((e) => String(e.args.creditNoteHash).toLowerCase());
  }

  // ---------------------------------------------------------------- EIP-2612 permits

  private async tokenDomain(): Promise<ReceivableTypedDataDto["domain"]> {
    this.permitDomain ??= this.chain.contracts.token.eip712Domain().then((d) => ({
      name: d.name,
      version: d.version,
      chainId: d.chainId.toString(),
      verifyingContract: d.verifyingContract,
    }));
    return this.permitDomain;
  }

  private async permitTypedData(owner: string, value: bigint, deadline: bigint): Promise<ReceivableTypedDataDto> {
    const nonce = await this.chain.contracts.token.nonces(owner);
    const domain = await this.tokenDomain();
    return {
      domain,
      types: typesForClients(domain, PERMIT_TYPES),
      primaryType: "Permit",
      message: {
        owner,
        spender: this.chain.addresses.Receivables,
        value: value.toString(),
        nonce: nonce.toString(),
        deadline: deadline.toString(),
      },
    };
  }

  /**
   * Refuses a repayment whose own signature is bad before its permit is relayed: the permit would
   * otherwise land for an act that is then refused. Contract wallets are left to ActsService.
   */
  private async precheckSignature(debtor: string, draft: ActDraft, sig: SignatureFields): Promise<void> {
    if (BigInt(sig.deadline!) <= BigInt(Math.floor(Date.now() / 1000))) {
      throw new UnprocessableEntityException("The signature's deadline has passed; ask for new typed data and sign again.");
    }
    const domain = this.acts.domain("Receivables");
    const digest = TypedDataEncoder.hash(domain, RECEIVABLES_TYPES.Pay, { ...draft.message, nonce: sig.nonce, deadline: sig.deadline });
    let recovered: string | null = null;
    try {
      recovered = recoverAddress(digest, sig.signature!);
    } catch {
      recovered = null;
    }
    if (recovered !== debtor && (await this.chain.provider.getCode(debtor)) === "0x") {
      throw invalidSignature(debtor, digest);
    }
  }

  /** Relays the debtor's EIP-2612 permit and waits until it is mined. */
  private async relayPermit(debtor: string, amount: bigint, dto: RepayReceivableDto): Promise<void> {
    const token = this.chain.contracts.token;
    const spender = this.chain.addresses.Receivables;
    let value: bigint;
    let deadline: bigint;
    let sig: Signature;
    try {
      if (dto.permit) {
        value = BigInt(dto.permit.value);
        deadline = BigInt(dto.permit.deadline);
        sig = Signature.from({ r: dto.permit.r, s: dto.permit.s, v: dto.permit.v < 27 ? dto.permit.v + 27 : dto.permit.v });
      } else {
        value = amount;
        deadline = BigInt(dto.deadline!);
        sig = Signature.from(dto.permitSignature!);
      }
    } catch {
      throw new BadRequestException("The permit signature is not a well-formed ECDSA signature (r, s, v).");
    }
    if (value >= 2n ** 256n || deadline >= 2n ** 256n) throw new BadRequestException("permit value and deadline must fit uint256.");
    // A retry after the permit landed: the allowance is there and the permit's nonce is spent.
    if ((await token.allowance(debtor, spender)) >= amount) return;
    const data = token.interface.encodeFunctionData("permit", [debtor, spender, value, deadline, sig.v, sig.r, sig.s]);
    const to = this.chain.addresses.SettlementToken;
    try {
      await this.chain.provider.call({ from: this.chain.wallets.relayer.address, to, data });
    } catch (err) {
      const revert = revertDataOf(err);
      if (revert === null) throw err;
      throw permitError(revert, debtor);
    }
    const row = await this.db.write((m) => this.sender.enqueue(m, { signer: "relayer", to, data, kind: "settlement.permit" }));
    const done = await this.sender.waitFor(row.id, PERMIT_WAIT_MS);
    if (done.status === "failed") {
      throw new UnprocessableEntityException(`The permit was relayed but failed on-chain (${done.failureReason}); the payment was not submitted.`);
    }
    if (done.status !== "mined") {
      throw new ServiceUnavailableException("The permit is relayed but not mined yet; post the same repayment again shortly.");
    }
  }
}

// ---------------------------------------------------------------- helpers

/** 422 when the same identity (or the same document) appears twice in one request, naming the indexes. */
function refuseRepeated(ids: string[]): void {
  const seen = new Map<string, number[]>();
  ids.forEach((id, i) => seen.set(id, [...(seen.get(id) ?? []), i]));
  const repeated = [...seen.values()].filter((idx) => idx.length > 1);
  if (repeated.length) {
    throw new UnprocessableEntityException({
      error: "DuplicateInBatch",
      message:
        "The batch holds the same invoice more than once (same seller tax id and invoice number once normalised, whatever the " +
        `amounts and dates): ${repeated.map((idx) => `invoices ${idx.join(", ")}`).join("; ")} (indexes from 0). Send each invoice once.`,
      lines: repeated,
    });
  }
}

function invoiceMessage(inv: Invoice): Record<string, unknown> {
  return {
    debtor: inv.debtor,
    faceValue: inv.faceValue,
    dueDate: inv.dueDate,
    documentHash: inv.documentHash,
    fingerprint: inv.fingerprint,
  };
}

function invoiceTuple(inv: Invoice): IReceivables.InvoiceStruct {
  return { debtor: inv.debtor, faceValue: inv.faceValue, dueDate: inv.dueDate, documentHash: inv.documentHash, fingerprint: inv.fingerprint };
}

function permitError(revert: string, debtor: string): HttpException {
  const e = parseLedgerError(revert);
  if (e?.name === "ERC2612ExpiredSignature") {
    return new UnprocessableEntityException({
      error: e.name,
      message: `The permit expired at ${new Date(Number(e.args[0]) * 1000).toISOString()}; sign a new one.`,
    });
  }
  if (e?.name === "ERC2612InvalidSigner") {
    // 422 like every bad signature: the session is fine, the signed content is not.
    return new UnprocessableEntityException({
      error: e.name,
      message:
        `The permit is not ${debtor}'s signature of the permit typed data (it recovers to ${e.args[0]}): sign permitTypedData ` +
        "(owner = debtor, spender = the Receivables contract, the token's current permit nonce).",
    });
  }
  return revertToHttp(e, revert.slice(0, 10));
}

function documentView(row: ReceivableDocumentEntity): ReceivableDocumentResponseDto {
  return {
    receivableId: row.receivableId,
    sha256: row.sha256,
    filename: row.filename,
    contentType: row.contentType,
    size: row.size,
    uploadedBy: row.uploadedBy,
    createdAt: new Date(row.createdAt).toISOString(),
  };
}

/** A file name safe to store and to echo in Content-Disposition. */
function cleanFilename(name: string | undefined): string {
  // eslint-disable-next-line no-control-regex
  const cleaned = (name ?? "").replace(/[\x00-\x1f\x7f"\\/]/g, "_").trim().slice(0, 200);
  return cleaned || "document";
}

/** In-process locks keyed by string; several keys are taken in sorted order, so two callers never deadlock. */
class KeyedLocks {
  private readonly tails = new Map<string, Promise<void>>();

  async run<T>(keys: string[], fn: () => Promise<T>): Promise<T> {
    const releases: Array<() => void> = [];
    try {
      for (const k of [...new Set(keys)].sort()) releases.push(await this.acquire(k));
      return await fn();
    } finally {
      for (const r of releases.reverse()) r();
    }
  }

  private async acquire(key: string): Promise<() => void> {
    const prev = this.tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((r) => (release = r));
    const tail = prev.then(() => mine);
    this.tails.set(key, tail);
    await prev;
    return () => {
      release();
      if (this.tails.get(key) === tail) this.tails.delete(key);
    };
  }
}

/** 409 for an invoice identity already on the ledger, saying which content differs (a red flag). */
function duplicateOnLedger(found: ReceivableEntity, inv: Invoice): ConflictException {
  const differences: string[] = [];
  if (BigInt(found.faceValue) !== inv.faceValue) differences.push(`amount ${inv.faceValue} fen (ledger: ${found.faceValue})`);
  if (BigInt(found.dueDate) !== inv.dueDate) differences.push(`due date ${inv.dueDate} (ledger: ${found.dueDate})`);
  if ((found.documentHash ?? "").toLowerCase() !== inv.documentHash) differences.push(`document ${inv.documentHash} (ledger: ${found.documentHash})`);
  if (getAddress(found.debtor) !== inv.debtor) differences.push(`debtor ${inv.debtor} (ledger: ${getAddress(found.debtor)})`);
  const base = `This invoice (same seller tax id and invoice number) is already on the ledger as receivable ${found.id}; an invoice can be tokenised only once.`;
  return new ConflictException({
    error: "DuplicateInvoice",
    message: differences.length
      ? `${base} Its content differs from what was recorded: ${differences.join("; ")}. The same invoice presented with other content is a red flag.`
      : base,
    receivableId: found.id,
    contentDiffers: differences.length > 0,
  });
}
