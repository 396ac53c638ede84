/**
 * Request and response shapes of the receivables write endpoints. Every write body carries the
 * signature fields (nonce, deadline, signature): posted without a signature it answers the typed
 * data to sign; posted again, unchanged, with them it submits the act. Amounts are decimal strings
 * in fen, never JSON numbers; hashes are 0x-prefixed 32-byte hex.
 */
import { BadRequestException, Injectable, type PipeTransform } from "@nestjs/common";
import { ApiProperty, ApiPropertyOptional, IntersectionType } from "@nestjs/swagger";
import { Transform, Type } from "class-transformer";
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Length,
  Matches,
  MaxLength,
  ValidateBy,
  ValidateNested,
  buildMessage,
  type ValidationOptions,
} from "class-validator";
import { SignatureFieldsDto } from "../../acts/dto/act.dto";
import { validateSignedBodyOnce } from "../../common/signed-body-memo";
import { DISPUTE_REASONS, MAX_DISPUTE_TEXT, type DisputeReason } from "../entities/receivable-dispute.entity";
import { IsEvmAddress } from "../../auth/dto/is-evm-address";
import { isIsoDay, normaliseInvoiceKey } from "../../../../shared/fingerprint";
import { parseReceivableId, RECEIVABLE_ID_FORMS, receivableIdHex } from "../../../../shared/ids";
import type { ReceivableDocument } from "../../../../shared/api-types";

export const MAX_FEN = 2n ** 64n - 1n;
export const MAX_BATCH = 200;
export const MAX_SPLIT_PARTS = 20;
const HASH = /^0x[0-9a-fA-F]{64}$/;
const HASH_MESSAGE = "must be 0x followed by 64 hex digits (a SHA-256 digest)";
// ISO 8601 calendar date, optionally with a time; a time without an offset is read as UTC.
const ISO_DATE_TIME = /^(\d{4}-\d{2}-\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

export function isFen(value: unknown): value is string {
  return typeof value === "string" && /^[1-9]\d{0,19}$/.test(value) && BigInt(value) <= MAX_FEN;
}

/** A positive amount in fen that fits the ledger's 64-bit amounts, as a decimal string. */
export function IsFen(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: "isFen",
      validator: {
        validate: (v: unknown) => isFen(v),
        defaultMessage: buildMessage(
          (each) => `${each}$property must be a decimal string of fen between 1 and 18446744073709551615 (no sign, decimals or leading zeros)`,
          options,
        ),
      },
    },
    options,
  );
}

/** A tax id or invoice number that keeps at least one character once normalised (see fingerprint.ts). */
function IsInvoiceKey(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: "isInvoiceKey",
      validator: {
        validate: (v: unknown) => typeof v === "string" && normaliseInvoiceKey(v).length > 0,
        defaultMessage: buildMessage(
          (each) => `${each}$property must contain letters or digits (spaces, dashes, dots, slashes and underscores are ignored)`,
          options,
        ),
      },
    },
    options,
  );
}

function IsIsoDay(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: "isIsoDay",
      validator: {
        validate: (v: unknown) => typeof v === "string" && isIsoDay(v),
        defaultMessage: buildMessage((each) => `${each}$property must be a calendar date written YYYY-MM-DD`, options),
      },
    },
    options,
  );
}

/** Unix seconds of an ISO 8601 date (00:00 UTC that day) or date-time (UTC when no offset), or null. */
export function parseIsoInstant(value: string): number | null {
  const m = ISO_DATE_TIME.exec(value);
  if (!m || !isIsoDay(m[1])) return null;
  const hasTime = m[2] !== undefined;
  if (hasTime && (Number(m[2]) > 23 || Number(m[3]) > 59 || Number(m[4] ?? 0) > 59)) return null;
  const text = !hasTime ? `${m[1]}T00:00:00Z` : m[5] ? value : `${value}Z`;
  const t = Date.parse(text);
  return Number.isNaN(t) ? null : Math.floor(t / 1000);
}

function IsIsoInstant(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: "isIsoInstant",
      validator: {
        validate: (v: unknown) => typeof v === "string" && parseIsoInstant(v) !== null,
        defaultMessage: buildMessage(
          (each) => `${each}$property must be an ISO 8601 date (YYYY-MM-DD, read as 00:00 UTC) or date-time (e.g. 2026-06-30T16:00:00+08:00)`,
          options,
        ),
      },
    },
    options,
  );
}

// ---------------------------------------------------------------- tokenise

/** What identifies and values an invoice; the seller is the signed-in supplier. */
export class InvoiceCoreDto {
  @ApiProperty({ description: "The buyer that owes the invoice (a verified buyer on the ledger)", example: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8" })
  @IsEvmAddress()
  debtor!: string;

  @ApiProperty({ description: "Invoice number as printed; case, spaces, dashes, dots, slashes and underscores do not matter", example: "INV-2026-0001" })
  @IsString()
  @Length(1, 64)
  @IsInvoiceKey()
  invoiceNumber!: string;

  @ApiProperty({ description: "Seller's tax id (unified social credit code or VAT number) as printed on the invoice", example: "91330100MA2B3C4D5E" })
  @IsString()
  @Length(1, 64)
  @IsInvoiceKey()
  sellerTaxId!: string;

  @ApiProperty({ description: "Buyer's tax id as printed on the invoice", example: "91310000MA1FL5XY2K" })
  @IsString()
  @Length(1, 64)
  @IsInvoiceKey()
  buyerTaxId!: string;

  @ApiProperty({ description: "Issue date of the invoice, YYYY-MM-DD", example: "2026-03-01" })
  @IsString()
  @IsIsoDay()
  issueDate!: string;

  @ApiProperty({
    description: "Due date: ISO 8601 date (00:00 UTC that day) or date-time; after now and at most 365 days ahead",
    example: "2026-09-01",
  })
  @IsString()
  @IsIsoInstant()
  dueDate!: string;

  @ApiProperty({ description: "Face value in fen (decimal string, 1 to 2^64-1)", example: "1250000" })
  @IsFen()
  amount!: string;
}

class OptionalDocumentHashDto {
  @ApiPropertyOptional({
    description:
      "SHA-256 of the invoice document (0x + 64 hex). Omit it and upload the file as multipart field 'document' instead; if both are sent they must agree. " +
      "The file is stored and linked when it comes with the signed post; otherwise upload it later with POST /receivables/{id}/documents",
  })
  @IsOptional()
  @Matches(HASH, { message: `documentHash ${HASH_MESSAGE}` })
  documentHash?: string;
}

export class TokeniseReceivableDto extends IntersectionType(InvoiceCoreDto, OptionalDocumentHashDto, SignatureFieldsDto) {}

export class BatchInvoiceDto extends InvoiceCoreDto {
  @ApiProperty({ description: "SHA-256 of the invoice document (0x + 64 hex)" })
  @Matches(HASH, { message: `documentHash ${HASH_MESSAGE}` })
  documentHash!: string;
}

export class TokeniseBatchDto extends SignatureFieldsDto {
  @ApiProperty({ type: [BatchInvoiceDto], description: `1 to ${MAX_BATCH} invoices, tokenised together under one signature` })
  @IsArray()
  @ArrayMinSize(1, { message: "invoices must hold at least one invoice" })
  @ArrayMaxSize(MAX_BATCH, { message: `invoices may hold at most ${MAX_BATCH} invoices` })
  @ValidateNested({ each: true })
  @Type(() => BatchInvoiceDto)
  invoices!: BatchInvoiceDto[];
}
// Its 200 nested invoices are validated on the unsigned post; the signed post of the same body
// validates its signature fields (common/signed-body-memo.ts).
validateSignedBodyOnce(TokeniseBatchDto);

/** POST /receivables/attestations: invoices a supplier will tokenise by calling the contract itself. */
export class AttestInvoicesDto {
  @ApiProperty({
    type: [BatchInvoiceDto],
    description: `1 to ${MAX_BATCH} invoices of the signed-in seller. One invoice is attested for tokenise(); two or more for tokeniseBatch() in this order`,
  })
  @IsArray()
  @ArrayMinSize(1, { message: "invoices must hold at least one invoice" })
  @ArrayMaxSize(MAX_BATCH, { message: `invoices may hold at most ${MAX_BATCH} invoices` })
  @ValidateNested({ each: true })
  @Type(() => BatchInvoiceDto)
  invoices!: BatchInvoiceDto[];
}

export class AttestedInvoiceDto {
  @ApiProperty({ description: "The receivable id the invoice becomes (0x + 64 hex)" }) receivableId!: string;
  @ApiProperty() debtor!: string;
  @ApiProperty({ description: "Face value in fen (decimal string)" }) faceValue!: string;
  @ApiProperty({ description: "Unix seconds (decimal string)" }) dueDate!: string;
  @ApiProperty() documentHash!: string;
  @ApiProperty({ description: "Salted hash of the normalised seller tax id and invoice number" }) fingerprint!: string;
}

export class InvoiceAttestationResponseDto {
  @ApiProperty({ description: "The seller the attestation is for: only it can use it" }) seller!: string;
  @ApiProperty({ enum: ["tokenise", "tokeniseBatch"], description: "The contract function the attestation is for" }) function!: string;
  @ApiProperty({ type: [AttestedInvoiceDto], description: "The Invoice tuples to send, in order" }) invoices!: AttestedInvoiceDto[];
  @ApiProperty({ description: "Unix seconds after which the contract refuses the attestation" }) expiry!: string;
  @ApiProperty({ description: "The attester's EIP-712 signature (InvoiceAttestation or InvoiceBatchAttestation)" }) signature!: string;
  @ApiProperty({ description: "Compliance run the attestation rests on" }) complianceRunId!: string;
}

// ---------------------------------------------------------------- acts on a receivable

/** accept, cancel: nothing but the signature fields. */
export class ReceivableActDto extends SignatureFieldsDto {}

/** Free text as stored and signed: NFC, trimmed; anything not a string is left for the validators to refuse. */
const nfcTrim = ({ value }: { value: unknown }) => (typeof value === "string" ? value.normalize("NFC").trim() : value);

export class DisputeReceivableDto extends SignatureFieldsDto {
  @ApiProperty({ description: "Why the debtor does not confirm the invoice", enum: DISPUTE_REASONS })
  @IsIn(DISPUTE_REASONS, { message: `reasonCode must be one of ${DISPUTE_REASONS.join(", ")}` })
  reasonCode!: DisputeReason;

  @ApiPropertyOptional({
    description: `Explanation for the seller, at most ${MAX_DISPUTE_TEXT} characters once NFC-normalised and trimmed (signed as stored; "" when omitted)`,
    maxLength: MAX_DISPUTE_TEXT,
  })
  @IsOptional()
  @Transform(nfcTrim)
  @IsString()
  @MaxLength(MAX_DISPUTE_TEXT)
  // Line breaks and tabs are text; other control characters are not.
  @Matches(/^(?:[^\p{Cc}]|[\r\n\t])*$/u, { message: "text must not hold control characters other than line breaks and tabs" })
  text?: string;
}

export class SplitReceivableDto extends SignatureFieldsDto {
  @ApiProperty({
    description: `Amounts of the parts in fen (decimal strings), ${2} to ${MAX_SPLIT_PARTS}, summing to the outstanding amount`,
    type: [String],
    example: ["600000", "650000"],
  })
  @IsArray()
  @ArrayMinSize(2, { message: "amounts must hold at least 2 parts" })
  @ArrayMaxSize(MAX_SPLIT_PARTS, { message: `amounts may hold at most ${MAX_SPLIT_PARTS} parts` })
  @IsFen({ each: true })
  amounts!: string[];
}

export class TransferReceivableDto extends SignatureFieldsDto {
  @ApiProperty({ description: "New holder: a verified supplier or financier" })
  @IsEvmAddress()
  to!: string;
}

export class CreditNoteDto extends SignatureFieldsDto {
  @ApiProperty({ description: "Credited amount in fen (decimal string), at most the outstanding amount" })
  @IsFen()
  amount!: string;

  @ApiPropertyOptional({
    description: "SHA-256 of the credit note document (0x + 64 hex). Omit it and upload the file as multipart field 'document' instead",
  })
  @IsOptional()
  @Matches(HASH, { message: `creditNoteHash ${HASH_MESSAGE}` })
  creditNoteHash?: string;
}

/** An EIP-2612 permit of the settlement token, signed by the debtor for the Receivables contract. */
export class PermitDto {
  @ApiProperty({ description: "Allowance the permit grants, in fen (decimal string)" })
  @IsString()
  @Matches(/^\d{1,78}$/, { message: "permit.value must be a decimal integer string" })
  value!: string;

  @ApiProperty({ description: "Permit deadline (unix seconds, decimal string)" })
  @IsString()
  @Matches(/^\d{1,20}$/, { message: "permit.deadline must be unix seconds as a decimal string" })
  deadline!: string;

  @ApiProperty({ description: "Signature v (27 or 28; 0 or 1 accepted)" })
  @IsInt()
  @IsIn([0, 1, 27, 28], { message: "permit.v must be 27 or 28 (or 0 or 1)" })
  v!: number;

  @ApiProperty({ description: "Signature r (0x + 64 hex)" })
  @Matches(/^0x[0-9a-fA-F]{64}$/, { message: "permit.r must be 0x followed by 64 hex digits" })
  r!: string;

  @ApiProperty({ description: "Signature s (0x + 64 hex)" })
  @Matches(/^0x[0-9a-fA-F]{64}$/, { message: "permit.s must be 0x followed by 64 hex digits" })
  s!: string;
}

export class RepayReceivableDto extends SignatureFieldsDto {
  @ApiProperty({ description: "Amount paid in fen (decimal string), at most the outstanding amount" })
  @IsFen()
  amount!: string;

  @ApiPropertyOptional({
    type: PermitDto,
    description: "EIP-2612 permit letting the Receivables contract draw the payment; relayed before the payment. Not needed if the debtor approved the contract",
  })
  @IsOptional()
  @ValidateNested()
  @Type(() => PermitDto)
  permit?: PermitDto;

  @ApiPropertyOptional({
    description:
      "Compact alternative to permit: the debtor's EIP-2612 signature (65 bytes r‖s‖v, or 64 bytes EIP-2098) of the permitTypedData " +
      "answered with the typed data, i.e. value = amount and deadline = this act's deadline",
  })
  @IsOptional()
  @Matches(/^0x([0-9a-fA-F]{128}|[0-9a-fA-F]{130})$/, { message: "permitSignature must be a 64- or 65-byte signature as 0x hex" })
  permitSignature?: string;
}

export class UploadDocumentDto {
  @ApiPropertyOptional({ description: "Expected SHA-256 of the uploaded file (0x + 64 hex); the upload is refused if the bytes differ" })
  @IsOptional()
  @Matches(HASH, { message: `documentHash ${HASH_MESSAGE}` })
  documentHash?: string;
}

// ---------------------------------------------------------------- responses

export class ReceivableDocumentResponseDto implements ReceivableDocument {
  @ApiProperty({ description: "Receivable id (0x + 64 hex)" }) receivableId!: string;
  @ApiProperty({ description: "SHA-256 of the content (64 hex digits); the download path" }) sha256!: string;
  @ApiProperty() filename!: string;
  @ApiProperty() contentType!: string;
  @ApiProperty({ description: "Size in bytes" }) size!: number;
  @ApiProperty() uploadedBy!: string;
  @ApiProperty() createdAt!: string;
}

export class DocumentUploadResponseDto extends ReceivableDocumentResponseDto {
  @ApiProperty({ description: "True when the file's SHA-256 equals a hash recorded on the ledger for this receivable" })
  matchesOnChain!: boolean;
  @ApiPropertyOptional({ enum: ["invoice", "credit_note"], nullable: true, description: "Which recorded hash it matches" })
  matchedAs!: "invoice" | "credit_note" | null;
  @ApiPropertyOptional({ nullable: true, description: "The invoice document hash recorded when the receivable was tokenised" })
  onChainDocumentHash!: string | null;
  @ApiProperty({ type: [String], description: "Credit note hashes recorded for this receivable" })
  onChainCreditNoteHashes!: string[];
}

/** `:id` as 0x + 64 hex or a decimal uint256, to the stored form (0x + 64 lower-case hex). */
@Injectable()
export class ReceivableIdPipe implements PipeTransform<string, string> {
  transform(raw: string): string {
    try {
      return receivableIdHex(parseReceivableId(raw));
    } catch {
      throw new BadRequestException(`The receivable id must be ${RECEIVABLE_ID_FORMS} (got "${String(raw).slice(0, 80)}").`);
    }
  }
}

/** `:sha256` as 64 hex digits, with or without 0x, to 64 lower-case hex digits. */
@Injectable()
export class Sha256Pipe implements PipeTransform<string, string> {
  transform(raw: string): string {
    const m = /^(?:0x)?([0-9a-fA-F]{64})$/.exec(raw);
    if (!m) throw new BadRequestException("The document id must be its SHA-256: 64 hex digits, optionally 0x-prefixed.");
    return m[1].toLowerCase();
  }
}
