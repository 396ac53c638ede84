/**
 * The documents linked to a receivable: the invoice or credit note sent with its act, and any file a
 * party uploads later (answering whether the ledger recorded its hash). The bytes live in
 * DocumentsStore under their SHA-256; parties, auditors and compliance officers read them back, and
 * a file that no longer hashes to its name is refused rather than served.
 */
import { BadRequestException, ConflictException, ForbiddenException, Injectable, NotFoundException } from "@nestjs/common";
import { InjectRepository } from "@nestjs/typeorm";
import { getAddress } from "ethers";
import { type Repository } from "typeorm";
import { type AuthUser } from "../auth/auth.decorators";
import { ROLE_BITS } from "../../../shared/roles";
import { DocumentsStore } from "../common/documents.store";
import { DbWriter } from "../database/db-writer";
import { LedgerEventEntity } from "../read-model/entities/ledger-event.entity";
import { FinancingEntity, ReceivableEntity } from "../read-model/entities/projections.entity";
import { sha256Hex, type UploadedDocument } from "./document-upload";
import type { DocumentUploadResponseDto, ReceivableDocumentResponseDto } from "./dto/receivable-write.dto";
import { ReceivableDocumentEntity } from "./entities/receivable-document.entity";

@Injectable()
export class ReceivableDocumentsService {
  constructor(
    @InjectRepository(ReceivableEntity) private readonly receivables: Repository<ReceivableEntity>,
    @InjectRepository(FinancingEntity) private readonly financings: Repository<FinancingEntity>,
    @InjectRepository(LedgerEventEntity) private readonly ledgerEvents: Repository<LedgerEventEntity>,
    @InjectRepository(ReceivableDocumentEntity) private readonly docs: Repository<ReceivableDocumentEntity>,
    private readonly db: DbWriter,
    private readonly store: DocumentsStore,
  ) {}

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

  private async indexed(id: string): Promise<ReceivableEntity> {
    const r = await this.receivables.findOneBy({ id });
    if (!r) throw new NotFoundException(`Receivable ${id} is not on the ledger (or not indexed yet; try again in a moment).`);
    return r;
  }

  private async partiesOf(r: ReceivableEntity): Promise<Set<string>> {
    const parties = new Set([r.seller, r.debtor, ...(r.holder ? [r.holder] : [])].map((a) => getAddress(a)));
    const f = await this.financings.findOneBy({ receivableId: r.id });
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

  /** Stores the bytes and links them to the receivable (once per receivable and hash). */
  async link(id: string, file: UploadedDocument, uploadedBy: string): Promise<ReceivableDocumentEntity> {
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

  async creditNoteHashes(id: string): Promise<string[]> {
    const events = await this.ledgerEvents.find({
      where: { receivableId: id, eventName: "CreditNoteApplied" },
      order: { blockNumber: "ASC", logIndex: "ASC" },
    });
    return events.map((e) => String(e.args.creditNoteHash).toLowerCase());
  }
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
