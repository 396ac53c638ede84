/**
 * The checks a tokenisation passes before the ledger's invoice attester signs it, shared by the
 * relayed acts (one invoice or a batch) and the attestation handed to a supplier that sends
 * `tokenise` itself. Kept here, before the contract's own:
 * - an invoice's identity is its seller tax id and number (fingerprint.ts): the fingerprint and the
 *   receivable id are computed here, never taken from the client; a mixed-script number or a tax id
 *   outside ASCII letters and digits is refused (422), and so are a number holding a character that
 *   reads as another than it is keyed as (checkInvoiceNumberSpelling: "INV-00l" beside "INV-001")
 *   and a tax id that is not exactly the seller's or the debtor's registered entity id (422, naming which);
 * - the same identity presented again is refused (409, saying whether the content differs: a red
 *   flag), and so is a document already tokenised (409);
 * - compliance runs first and any failing rule refuses the act (a duplicate fingerprint: 409;
 *   anything else: 422) with every failing rule's reason; "review" proceeds and is recorded;
 * - only then does the compliance key, the ledger's invoice attester, sign the EIP-712 attestation
 *   the contract requires (InvoiceAttestation / InvoiceBatchAttestation, expiring with the seller's
 *   own signature). In production this is where the tax authority's e-invoice verification answers
 *   first (see compliance/README.md);
 * - a fingerprint already held by a pending tokenisation act is a duplicate (409) too. The act
 *   claims its receivable ids in the database transaction that records it (act_claims, primary key
 *   on the id; released when the act settles), so of two API replicas accepting the same invoice at
 *   once the second records nothing and answers the same 409. The lookup before signing and under
 *   the per-fingerprint lock (ActPipeline) is the early answer, the claim is the rule.
 */
import { BadRequestException, ConflictException, ForbiddenException, Inject, Injectable, UnprocessableEntityException } from "@nestjs/common";
import { InjectRepository } from "@nestjs/typeorm";
import { getAddress } from "ethers";
import type { Repository } from "typeorm";
import type { IReceivables } from "../../../typechain-types/contracts/receivables/Receivables";
import { ActsService, ClaimTakenError } from "../acts/acts.service";
import { signDigest } from "../acts/ecdsa";
import { typedDataDigest } from "../acts/typed-data-digest";
import { ROLE_BITS } from "../../../shared/roles";
import { checksum } from "../common/address";
import { ChainService } from "../chain/chain.service";
import { RECEIVABLES_TYPES } from "../../../shared/eip712";
import { ComplianceService, type ComplianceRun } from "../compliance/compliance.service";
import { APP_CONFIG, type AppConfig } from "../config/env";
import { inList } from "../database/raw-rows";
import { ReceivableEntity } from "../read-model/entities/projections.entity";
import { Members } from "../read-model/members";
import { entityIdHash } from "../onboarding/onboarding.service";
import { parseIsoInstant, type BatchInvoiceDto, type TokeniseReceivableDto } from "./dto/receivable-write.dto";
import { checkInvoiceNumberSpelling, invoiceFingerprint, InvoiceIdentityError, receivableIdOf, taxIdKey } from "../../../shared/fingerprint";
import { receivableIdHex } from "../../../shared/ids";

const DUPLICATE_RULE = "INVOICE_DUPLICATE_FINGERPRINT";

/** One invoice after validation: what the fingerprint, compliance and the typed data need. */
export interface Invoice {
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

@Injectable()
export class InvoiceChecksService {
  constructor(
    @InjectRepository(ReceivableEntity) private readonly receivables: Repository<ReceivableEntity>,
    private readonly members: Members,
    private readonly acts: ActsService,
    private readonly chain: ChainService,
    private readonly compliance: ComplianceService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  invoiceOf(dto: TokeniseReceivableDto | BatchInvoiceDto, documentHash: string, index?: number): Invoice {
    const due = parseIsoInstant(dto.dueDate);
    if (due === null) throw new BadRequestException("dueDate must be an ISO 8601 date or date-time.");
    const faceValue = BigInt(dto.amount);
    let fingerprint: string;
    let sellerTaxId: string;
    let buyerTaxId: string;
    try {
      checkInvoiceNumberSpelling(dto.invoiceNumber);
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
    // Frozen: invoiceMessage keeps one (frozen) message per invoice, whose EIP-712 struct hash is then
    // computed once for both digests of a request (typed-data-digest.ts).
    return Object.freeze({
      id: receivableIdHex(receivableIdOf(fingerprint)),
      sellerTaxId,
      buyerTaxId,
      debtor: checksum(dto.debtor.toLowerCase()),
      faceValue,
      issueDate: dto.issueDate,
      dueDate: BigInt(due),
      documentHash: documentHash.toLowerCase(),
      fingerprint,
    });
  }

  /**
   * Runs the invoice rules on every invoice; refuses with every failing rule's reason.
   * `preview` (the unsigned step): the same rules, but a passing run is not stored — the binding run
   * is the one of the signed step, stored with the act. Failing and review runs are always kept.
   */
  async screen(seller: string, invoices: Invoice[], preview: boolean): Promise<ComplianceRun> {
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

  /**
   * 409 when any of `ids` is held by a pending tokenisation act (accepted, not yet settled): one
   * primary-key lookup in the act claims. This is the early answer; what binds is the claim itself,
   * inserted with the act (ActsService.submit), which refuses the second of two acts recorded at once
   * by two processes (refusal() turns it into the same 409).
   */
  async refuseIfPending(ids: string[]): Promise<void> {
    const held = await this.acts.heldClaim(ids.map(invoiceClaim));
    if (held) throw pendingDuplicate(held.slice(CLAIM_PREFIX.length));
  }

  /** A tokenising act's refusal: a claim found taken when the act was recorded is the pending duplicate's 409. */
  refusal(err: unknown): unknown {
    return err instanceof ClaimTakenError ? pendingDuplicate(err.keys[0].slice(CLAIM_PREFIX.length)) : err;
  }

  /**
   * 409 when one of the invoices' identities (receivable ids) or documents is in the projection (the
   * ledger as last indexed), on both steps. One tokenised in the last blocks, not yet indexed, is
   * refused by the signed step's simulation. Asking the chain instead cost the node an eth_call per
   * invoice, 200 per batch: more CPU than mining the batch.
   */
  async refuseIfIndexed(invoices: Invoice[]): Promise<void> {
    const repo = this.receivables;
    const byId = new Map(invoices.map((inv) => [inv.id, inv]));
    const byDocument = new Map(invoices.map((inv) => [inv.documentHash, inv]));
    const ids = [...byId.keys()];
    const docs = [...byDocument.keys()];
    // Plain statements (no query builder): they run on both posts of every tokenisation and almost
    // always find nothing; a hit reads its row through the repository.
    const m = repo.manager;
    for (let i = 0; i < ids.length; i += 500) {
      const chunk = ids.slice(i, i + 500);
      const hit = (await m.query(`SELECT id FROM receivables WHERE id IN ${inList(m, chunk)} LIMIT 1`, chunk)) as Array<{ id: string }>;
      if (hit.length) {
        const found = await repo.findOneByOrFail({ id: hit[0].id });
        throw duplicateOnLedger(found, byId.get(found.id)!);
      }
    }
    for (let i = 0; i < docs.length; i += 500) {
      const chunk = docs.slice(i, i + 500);
      const hit = (await m.query(`SELECT id, document_hash FROM receivables WHERE document_hash IN ${inList(m, chunk)} LIMIT 1`, chunk)) as Array<{
        id: string;
        document_hash: string;
      }>;
      const found = hit.length ? { id: hit[0].id, documentHash: hit[0].document_hash } : null;
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
  async requireRegisteredTaxIds(seller: string, invoices: Invoice[]): Promise<void> {
    const members = this.members;
    const hashOf = new Map<string, string | null>();
    const registered = async (address: string) => {
      if (!hashOf.has(address)) hashOf.set(address, (await members.byAddress(address))?.entityIdHash?.toLowerCase() ?? null);
      return hashOf.get(address)!;
    };
    // A batch names the same few tax ids 200 times: each one's hashes are computed once.
    const hashesOf = new Map<string, [string, string]>();
    const matches = (taxId: string, hash: string | null) => {
      if (hash === null) return false;
      let h = hashesOf.get(taxId);
      if (!h) hashesOf.set(taxId, (h = [entityIdHash("USCC", taxId).toLowerCase(), entityIdHash("LEI", taxId).toLowerCase()]));
      return h[0] === hash || h[1] === hash;
    };
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
  attestation(seller: string, invoices: Invoice[], expiry: bigint, batch: boolean): { expiry: bigint; signature: string } {
    const domain = this.acts.domain("Receivables");
    const digest = !batch
        ? typedDataDigest(domain, RECEIVABLES_TYPES.InvoiceAttestation, { seller, invoice: invoiceMessage(invoices[0]), expiry })
        : typedDataDigest(domain, RECEIVABLES_TYPES.InvoiceBatchAttestation, { seller, invoices: invoices.map(invoiceMessage), expiry });
    return { expiry, signature: signDigest(this.chain.wallets.compliance.signingKey, digest) };
  }

  async requireVerifiedDebtor(debtor: string): Promise<void> {
    if (!(await this.chain.contracts.registry.isVerified(debtor, ROLE_BITS.buyer))) {
      throw new ForbiddenException({
        error: "ReceivableUnverifiedParty",
        message: `Debtor ${debtor} is not a verified buyer on the ledger (active membership with valid KYC is required).`,
      });
    }
  }
}

const CLAIM_PREFIX = "receivable:";

/** The act claim (act_claims) a tokenisation holds on the receivable id its invoice becomes. */
export function invoiceClaim(receivableId: string): string {
  return CLAIM_PREFIX + receivableId;
}

function pendingDuplicate(receivableId: string): ConflictException {
  return new ConflictException({
    error: "DuplicateInvoice",
    message: `This invoice is already being tokenised (fingerprint ${receivableId} is held by a pending act); an invoice can be tokenised only once.`,
  });
}

export /** 422 when the same identity (or the same document) appears twice in one request, naming the indexes. */
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

const messages = new WeakMap<Invoice, Readonly<Record<string, unknown>>>();

/**
 * The invoice as its EIP-712 `Invoice` struct. One frozen object per (frozen) invoice: the seller's
 * typed data and the attester's contain the same object, so typedDataDigest hashes the struct once.
 */
export function invoiceMessage(inv: Invoice): Readonly<Record<string, unknown>> {
  let m = messages.get(inv);
  if (m) return m;
  m = Object.freeze({
    debtor: inv.debtor,
    faceValue: inv.faceValue,
    dueDate: inv.dueDate,
    documentHash: inv.documentHash,
    fingerprint: inv.fingerprint,
  });
  if (Object.isFrozen(inv)) messages.set(inv, m);
  return m;
}

export function invoiceTuple(inv: Invoice): IReceivables.InvoiceStruct {
  return { debtor: inv.debtor, faceValue: inv.faceValue, dueDate: inv.dueDate, documentHash: inv.documentHash, fingerprint: inv.fingerprint };
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
