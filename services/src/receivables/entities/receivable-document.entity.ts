import { Column, Entity, Index, PrimaryColumn } from "typeorm";
import { numberTransformer } from "../../common/columns";
import { ReceivableDisputeEntity } from "./receivable-dispute.entity";

/**
 * A document (invoice, credit note, delivery note…) linked to a receivable. The bytes live in the
 * content-addressed DocumentsStore under their SHA-256; this row says which receivable they belong
 * to and who uploaded them. (receivable_id, sha256) is the key: the same bytes are linked once per
 * receivable, whoever uploads them again.
 */
@Entity("receivable_documents")
@Index("ix_receivable_documents_sha256", ["sha256"])
export class ReceivableDocumentEntity {
  /** 0x-prefixed, 64 lower-case hex digits, as in the receivables projection. */
  @PrimaryColumn({ name: "receivable_id", type: "varchar", length: 66 })
  receivableId!: string;

  /** SHA-256 of the content, 64 lower-case hex digits (the DocumentsStore file name). */
  @PrimaryColumn({ type: "varchar", length: 64 })
  sha256!: string;

  @Column({ type: "varchar", length: 200 })
  filename!: string;

  @Column({ name: "content_type", type: "varchar", length: 100 })
  contentType!: string;

  /** Bytes. */
  @Column({ type: "integer" })
  size!: number;

  @Column({ name: "uploaded_by", type: "varchar", length: 42 })
  uploadedBy!: string;

  @Column({ name: "created_at", type: "bigint", transformer: numberTransformer })
  createdAt!: number;
}

/** The receivables feature's tables, registered by its module and collected by database/entities.ts. */
export const RECEIVABLES_ENTITIES = [ReceivableDocumentEntity, ReceivableDisputeEntity];
