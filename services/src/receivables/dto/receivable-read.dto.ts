/** Query and response shapes of the receivable reads. Amounts are decimal strings in fen, times
 * ISO 8601, addresses EIP-55, receivable ids 0x + 64 lower-case hex digits. */
import { ApiProperty, ApiPropertyOptional } from "@nestjs/swagger";
import { Transform } from "class-transformer";
import { IntegerInput } from "../../common/integer-input";
import {
  ArrayMaxSize,
  IsArray,
  IsIn,
  IsISO8601,
  IsInt,
  IsOptional,
  IsString,
  Length,
  Matches,
  Max,
  MaxLength,
  Min,
} from "class-validator";
import { IsEvmAddress } from "../../auth/dto/is-evm-address";
import { commaList, isoFromSeconds } from "../../audit/read-scope";
import { BooleanFlag } from "../../common/boolean-flag";
import { termDays } from "../../compliance/voucher-term";
import { FinancingDto } from "../../financing/dto/financing-read.dto";
import type { PaymentEntity, ReceivableEntity, ReceivableStatus } from "../../read-model/entities/projections.entity";
import { DISPUTE_REASONS, type DisputeReason, type ReceivableDisputeEntity } from "../entities/receivable-dispute.entity";
import type { LineageNode, Page, Payment, Receivable, ReceivableDetail, ReceivableDispute } from "../../../../shared/api-types";

export const RECEIVABLE_STATUSES: readonly ReceivableStatus[] = [
  "issued",
  "accepted",
  "financed",
  "paid",
  "defaulted",
  "cancelled",
  "split",
];
export const RECEIVABLE_SORTS = ["dueDate", "-dueDate", "amount", "-amount", "createdAt", "-createdAt"] as const;
export type ReceivableSort = (typeof RECEIVABLE_SORTS)[number];
export const RECEIVABLE_ROLES = ["seller", "debtor", "holder", "financier"] as const;

const AMOUNT = /^[0-9]{1,20}$/;

export class ListReceivablesQueryDto {
  @ApiPropertyOptional({ description: `Only these statuses, comma separated: ${RECEIVABLE_STATUSES.join(", ")}`, type: String })
  @IsOptional()
  @Transform(({ value }) => commaList(value))
  @IsArray()
  @ArrayMaxSize(RECEIVABLE_STATUSES.length)
  @IsIn(RECEIVABLE_STATUSES, { each: true, message: `status must list values among ${RECEIVABLE_STATUSES.join(", ")}` })
  status?: ReceivableStatus[];

  @ApiPropertyOptional({
    description: "Only receivables where the caller is the seller, the debtor, the current holder, or the financier of its financing",
    enum: RECEIVABLE_ROLES,
  })
  @IsOptional()
  @IsIn(RECEIVABLE_ROLES)
  role?: (typeof RECEIVABLE_ROLES)[number];

  @ApiPropertyOptional({
    description: "Only receivables this address is party to (seller, debtor, holder or financier). Auditors and compliance officers only",
  })
  @IsOptional()
  @IsEvmAddress()
  party?: string;

  @ApiPropertyOptional({
    description: "Only receivables due more than six calendar months after tokenisation (true), or only the others (false): the voucher rules' term review",
    enum: ["true", "false"],
  })
  @IsOptional()
  @BooleanFlag()
  termReview?: boolean;

  @ApiPropertyOptional({
    description: "Only receivables whose debtor disputed them (true; open or closed, see `dispute.open` on each), or only the others (false)",
    enum: ["true", "false"],
  })
  @IsOptional()
  @BooleanFlag()
  disputed?: boolean;

  @ApiPropertyOptional({ description: "Due at or after this time (ISO 8601)" })
  @IsOptional()
  @IsISO8601({ strict: true })
  dueFrom?: string;

  @ApiPropertyOptional({ description: "Due before this time (ISO 8601)" })
  @IsOptional()
  @IsISO8601({ strict: true })
  dueTo?: string;

  @ApiPropertyOptional({ description: "Outstanding amount at least this (fen, decimal string)" })
  @IsOptional()
  @Matches(AMOUNT, { message: "minAmount must be a whole number of fen, as 1 to 20 decimal digits" })
  minAmount?: string;

  @ApiPropertyOptional({ description: "Outstanding amount at most this (fen, decimal string)" })
  @IsOptional()
  @Matches(AMOUNT, { message: "maxAmount must be a whole number of fen, as 1 to 20 decimal digits" })
  maxAmount?: string;

  @ApiPropertyOptional({
    description: "Order: dueDate, amount (outstanding) or createdAt; a leading '-' for descending. Ties are ordered by id",
    enum: RECEIVABLE_SORTS,
    default: "dueDate",
  })
  @IsOptional()
  @IsIn(RECEIVABLE_SORTS)
  sort?: ReceivableSort;

  @ApiPropertyOptional({ description: "Page size (default 50, at most 200)" })
  @IsOptional()
  @IntegerInput()
  @IsInt()
  @Min(1)
  @Max(200)
  limit?: number;

  @ApiPropertyOptional({
    description:
      "The receivable tokenised from this invoice number, as printed (compared as the ledger compares invoices: case, spaces, " +
      "separators and look-alike characters do not matter). The invoice's seller is found among the members' registered tax ids, " +
      "or named with sellerTaxId. Split children are reached through its lineage",
  })
  @IsOptional()
  @IsString()
  @Length(1, 100)
  invoiceNumber?: string;

  @ApiPropertyOptional({ description: "With invoiceNumber: the seller's tax id as printed on the invoice (USCC or LEI)" })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  sellerTaxId?: string;

  @ApiPropertyOptional({ description: "nextCursor of the previous page, with the same filters and sort" })
  @IsOptional()
  @IsString()
  @MaxLength(512)
  cursor?: string;
}

export class ReceivableDto implements Receivable {
  @ApiProperty({ description: "Token id = invoice fingerprint (0x + 64 hex digits)" })
  id!: string;

  @ApiProperty({ description: "Seller (for a split child: the holder who split its parent)" })
  seller!: string;

  @ApiProperty({ description: "Debtor who owes it" })
  debtor!: string;

  @ApiProperty({ description: "Current holder; null once the token is burned (cancelled or split)", nullable: true, type: String })
  holder!: string | null;

  @ApiProperty({ description: "Face value (fen, decimal string)", example: "100000000" })
  faceValue!: string;

  @ApiProperty({ description: "Still owed (fen, decimal string)" })
  outstanding!: string;

  @ApiProperty({ description: "Due date (ISO 8601)" })
  dueDate!: string;

  @ApiProperty({ description: "Lifecycle status", enum: RECEIVABLE_STATUSES })
  status!: ReceivableStatus;

  @ApiProperty({ description: "Assigned to a financier at some point" })
  financed!: boolean;

  @ApiProperty({ description: "Receivable it was split from", nullable: true, type: String })
  parentId!: string | null;

  @ApiProperty({ description: "SHA-256 of the invoice document (the document stays off-chain)", nullable: true, type: String })
  documentHash!: string | null;

  @ApiProperty({ description: "Block it was created in" })
  createdBlock!: number;

  @ApiProperty({ description: "Transaction that created it" })
  createdTx!: string;

  @ApiProperty({ description: "Time of that block (ISO 8601)", nullable: true, type: String })
  createdAt!: string | null;

  @ApiProperty({ description: "Block of its last change" })
  updatedBlock!: number;

  @ApiProperty({ description: "When its term started: the block time of its (root's) tokenisation (ISO 8601)", nullable: true, type: String })
  tokenisedAt!: string | null;

  @ApiProperty({ description: "Whole UTC days from the tokenisation day to the due day", nullable: true, type: Number })
  termDays!: number | null;

  @ApiProperty({
    description:
      "Due more than six calendar months after tokenisation: flagged for compliance review (the 2025 voucher rules: six months in principle, one year at most)",
  })
  termOverSixMonths!: boolean;

  static from(r: ReceivableEntity, createdAt: number | null): ReceivableDto {
    const d = new ReceivableDto();
    d.id = r.id;
    d.seller = r.seller;
    d.debtor = r.debtor;
    d.holder = r.holder;
    d.faceValue = r.faceValue.toString();
    d.outstanding = r.outstanding.toString();
    d.dueDate = isoFromSeconds(r.dueDate);
    d.status = r.status;
    d.financed = r.financed;
    d.parentId = r.parentId;
    d.documentHash = r.documentHash;
    d.createdBlock = r.createdBlock;
    d.createdTx = r.createdTx;
    d.createdAt = createdAt === null ? null : isoFromSeconds(createdAt);
    d.updatedBlock = r.updatedBlock;
    d.tokenisedAt = r.tokenisedAt === null ? null : isoFromSeconds(r.tokenisedAt);
    d.termDays = r.tokenisedAt === null ? null : termDays(r.tokenisedAt, r.dueDate);
    d.termOverSixMonths = r.termReview;
    return d;
  }

  /**
   * The same DTO straight from a raw row of `receivables` selected under alias `r` (`getRawMany`
   * keys: `r_` + column name), with `created_at` beside it: for pages of rows, without building an
   * entity per row first (TypeORM's hydration walks every column's metadata, ~2 µs a row). The
   * conversions are the entity's column transformers, written for the values both drivers return:
   * bigint columns as text (pg) or numbers (SQLite), booleans as booleans (pg) or 0/1 (SQLite),
   * amounts as the schema's zero-padded text. receivables-read.test.ts checks it against `from`.
   */
  static fromRaw(x: RawReceivableRow): ReceivableDto {
    const dueDate = Number(x.r_due_date);
    const tokenisedAt = x.r_tokenised_at === null ? null : Number(x.r_tokenised_at);
    return {
      id: x.r_id,
      seller: x.r_seller,
      debtor: x.r_debtor,
      holder: x.r_holder,
      faceValue: BigInt(x.r_face_value).toString(),
      outstanding: BigInt(x.r_outstanding).toString(),
      dueDate: isoFromSeconds(dueDate),
      status: x.r_status,
      financed: !!x.r_financed,
      parentId: x.r_parent_id,
      documentHash: x.r_document_hash,
      createdBlock: Number(x.r_created_block),
      createdTx: x.r_created_tx,
      createdAt: x.created_at === null || x.created_at === undefined ? null : isoFromSeconds(Number(x.created_at)),
      updatedBlock: Number(x.r_updated_block),
      tokenisedAt: tokenisedAt === null ? null : isoFromSeconds(tokenisedAt),
      termDays: tokenisedAt === null ? null : termDays(tokenisedAt, dueDate),
      termOverSixMonths: !!x.r_term_review,
    };
  }
}

/** A raw row of `receivables` under alias `r` as the drivers return it, with its creation time. */
export interface RawReceivableRow {
  r_id: string;
  r_seller: string;
  r_debtor: string;
  r_holder: string | null;
  r_face_value: string;
  r_outstanding: string;
  r_due_date: string | number;
  r_status: ReceivableStatus;
  r_financed: boolean | number;
  r_parent_id: string | null;
  r_document_hash: string | null;
  r_created_block: string | number;
  r_created_tx: string;
  r_tokenised_at: string | number | null;
  r_term_review: boolean | number;
  r_updated_block: string | number;
  created_at?: string | number | null;
}

export class PaymentDto implements Payment {
  @ApiProperty({ description: "Transaction of the payment" })
  txHash!: string;

  @ApiProperty({ description: "Log index of the ReceivablePaid event" })
  logIndex!: number;

  @ApiProperty({ description: "Debtor who paid" })
  debtor!: string;

  @ApiProperty({ description: "Holder at the time of payment" })
  holder!: string;

  @ApiProperty({ description: "Amount paid (fen, decimal string)" })
  amount!: string;

  @ApiProperty({ description: "Outstanding after this payment (fen, decimal string)" })
  outstandingAfter!: string;

  @ApiProperty({ description: "Block number" })
  blockNumber!: number;

  @ApiProperty({ description: "Block time (ISO 8601)" })
  time!: string;

  static from(p: PaymentEntity): PaymentDto {
    const d = new PaymentDto();
    d.txHash = p.txHash;
    d.logIndex = p.logIndex;
    d.debtor = p.debtor;
    d.holder = p.holder;
    d.amount = p.amount.toString();
    d.outstandingAfter = p.outstandingAfter.toString();
    d.blockNumber = p.blockNumber;
    d.time = isoFromSeconds(p.timestamp);
    return d;
  }
}

/** The debtor's signed DisputeInvoice statement (off-chain), with what an auditor needs to verify it. */
export class ReceivableDisputeDto implements ReceivableDispute {
  @ApiProperty() id!: string;
  @ApiProperty({ description: "The disputed receivable" }) receivableId!: string;
  @ApiProperty({ description: "The debtor who signed it" }) debtor!: string;
  @ApiProperty({ enum: DISPUTE_REASONS }) reasonCode!: DisputeReason;
  @ApiProperty({ description: 'NFC-normalised text as signed ("" when none)' }) text!: string;
  @ApiProperty({ description: "True while the receivable is still issued (unaccepted); acceptance or cancellation closes it" }) open!: boolean;
  @ApiProperty({ description: "The receivable's status that closed it (accepted, cancelled, …), or null while open", nullable: true, type: String })
  closedBy!: string | null;
  @ApiProperty({ description: "When it was recorded (ISO 8601)" }) createdAt!: string;
  @ApiProperty({ description: "DisputeInvoice nonce (decimal string)" }) nonce!: string;
  @ApiProperty({ description: "DisputeInvoice deadline (unix seconds, decimal string)" }) deadline!: string;
  @ApiProperty({ description: "The debtor's EIP-712 signature" }) signature!: string;
  @ApiProperty({ description: "EIP-712 digest the signature covers (Receivables domain, DisputeInvoice)" }) digest!: string;

  static from(d: ReceivableDisputeEntity, receivableStatus: string): ReceivableDisputeDto {
    const v = new ReceivableDisputeDto();
    v.id = d.id;
    v.receivableId = d.receivableId;
    v.debtor = d.debtor;
    v.reasonCode = d.reasonCode;
    v.text = d.text;
    v.open = receivableStatus === "issued";
    v.closedBy = v.open ? null : receivableStatus;
    v.createdAt = new Date(d.createdAt).toISOString();
    v.nonce = d.nonce;
    v.deadline = String(d.deadline);
    v.signature = d.signature;
    v.digest = d.typedDataHash;
    return v;
  }
}

export class ReceivableDetailDto extends ReceivableDto implements ReceivableDetail {
  @ApiProperty({ type: ReceivableDisputeDto, nullable: true, description: "The debtor's dispute of the invoice, if it signed one" })
  dispute!: ReceivableDisputeDto | null;

  @ApiProperty({ type: FinancingDto, nullable: true, description: "Its financing, if one was ever requested" })
  financing!: FinancingDto | null;

  @ApiProperty({ type: [PaymentDto], description: "Payments in chain order" })
  payments!: PaymentDto[];
}

export class ReceivablePageDto implements Page<Receivable> {
  @ApiProperty({ type: [ReceivableDto] })
  items!: ReceivableDto[];

  @ApiProperty({ description: "Pass as cursor for the next page; null on the last page", nullable: true, type: String })
  nextCursor!: string | null;
}

export class LineageNodeDto implements LineageNode {
  @ApiProperty({ description: "Receivable id" })
  id!: string;

  @ApiProperty({ description: "Parent id; null at the root", nullable: true, type: String })
  parentId!: string | null;

  @ApiProperty({ description: "Face value (fen, decimal string)" })
  faceValue!: string;

  @ApiProperty({ description: "Status", enum: RECEIVABLE_STATUSES })
  status!: ReceivableStatus;

  @ApiProperty({
    description: "Whether the caller is party to this node; if not, its holder and outstanding amount are withheld (null)",
  })
  visible!: boolean;

  @ApiProperty({ description: "Still owed (fen, decimal string); null when withheld", nullable: true, type: String })
  outstanding!: string | null;

  @ApiProperty({ description: "Current holder; null when burned or withheld", nullable: true, type: String })
  holder!: string | null;

  @ApiProperty({ description: "Due date (ISO 8601)" })
  dueDate!: string;

  @ApiProperty({ type: () => [LineageNodeDto], description: "Parts it was split into, in creation order" })
  children!: LineageNodeDto[];
}
