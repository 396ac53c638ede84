/** Queries of the audit feed and its export: one set of filters, plus paging for the feed and a
 * format for the export. Times are half-open ranges [from, to); blocks are inclusive. */
import { ApiPropertyOptional } from "@nestjs/swagger";
import { Transform } from "class-transformer";
import { IntegerInput } from "../../common/integer-input";
import { ArrayMaxSize, IsArray, IsIn, IsISO8601, IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min } from "class-validator";
import { IsEvmAddress } from "../../auth/dto/is-evm-address";
import { RECEIVABLE_ID_PATTERN } from "../../../../shared/ids";
import { commaList } from "../read-scope";

export const RECEIVABLE_ID_MESSAGE = "must be 0x followed by 64 hex digits, or a decimal uint256";

export class AuditEventFilterDto {
  @ApiPropertyOptional({ description: "Only events of this receivable (0x + 64 hex digits, or decimal)" })
  @IsOptional()
  @Matches(RECEIVABLE_ID_PATTERN, { message: `receivableId ${RECEIVABLE_ID_MESSAGE}` })
  receivableId?: string;

  @ApiPropertyOptional({
    description: "Only events concerning this address (any address argument of the event). Members may only give their own.",
  })
  @IsOptional()
  @IsEvmAddress()
  member?: string;

  @ApiPropertyOptional({
    description: "Only these event names, comma separated (e.g. ReceivableTokenised,ReceivableAccepted)",
    type: String,
  })
  @IsOptional()
  @Transform(({ value }) => commaList(value))
  @IsArray()
  @ArrayMaxSize(40)
  @Matches(/^[A-Z][A-Za-z0-9]{1,47}$/, { each: true, message: "type must list event names such as ReceivableAccepted, comma separated" })
  type?: string[];

  @ApiPropertyOptional({ description: "Only the events of this transaction (0x + 64 hex digits)", example: "0x" + "ab".repeat(32) })
  @IsOptional()
  @Matches(/^0x[0-9a-fA-F]{64}$/, { message: "txHash must be 0x followed by 64 hex digits" })
  txHash?: string;

  @ApiPropertyOptional({ description: "Events at or after this time (ISO 8601)" })
  @IsOptional()
  @IsISO8601({ strict: true })
  from?: string;

  @ApiPropertyOptional({ description: "Events before this time (ISO 8601)" })
  @IsOptional()
  @IsISO8601({ strict: true })
  to?: string;

  @ApiPropertyOptional({ description: "Events in this block or later" })
  @IsOptional()
  @IntegerInput()
  @IsInt()
  @Min(0)
  fromBlock?: number;

  @ApiPropertyOptional({ description: "Events in this block or earlier" })
  @IsOptional()
  @IntegerInput()
  @IsInt()
  @Min(0)
  toBlock?: number;
}

export class ListAuditEventsQueryDto extends AuditEventFilterDto {
  @ApiPropertyOptional({ description: "Page size (default 100, at most 500)" })
  @IsOptional()
  @IntegerInput()
  @IsInt()
  @Min(1)
  @Max(500)
  limit?: number;

  @ApiPropertyOptional({ description: "nextCursor of the previous page, with the same filters" })
  @IsOptional()
  @IsString()
  @MaxLength(512)
  cursor?: string;
}

export const EXPORT_DATASETS = ["events", "payment-records", "reviews", "disputes"] as const;
export type ExportDataset = (typeof EXPORT_DATASETS)[number];

export class ExportAuditEventsQueryDto extends AuditEventFilterDto {
  @ApiPropertyOptional({ description: "csv (RFC 4180, header row) or json (one array)", enum: ["csv", "json"], default: "csv" })
  @IsOptional()
  @IsIn(["csv", "json"])
  format?: "csv" | "json";

  @ApiPropertyOptional({
    description:
      "events: the ledger feed (the filters apply); payment-records: one row per buyer (core enterprise); " +
      "reviews: receivables due more than six months after tokenisation and financings whose registration number is overdue; " +
      "disputes: the debtors' signed DisputeInvoice statements (off-chain), with signature and digest and the receivable's status. " +
      "The filters apply to events only",
    enum: EXPORT_DATASETS,
    default: "events",
  })
  @IsOptional()
  @IsIn(EXPORT_DATASETS, { message: `dataset must be one of ${EXPORT_DATASETS.join(", ")}` })
  dataset?: ExportDataset;
}

/** The period of an export pack: times [from, to) or blocks [fromBlock, toBlock), one pair only. */
export class ExportPackQueryDto {
  @ApiPropertyOptional({ description: "Start of the period, inclusive (ISO 8601); with `to`" })
  @IsOptional()
  @IsISO8601({ strict: true })
  from?: string;

  @ApiPropertyOptional({ description: "End of the period, exclusive (ISO 8601); with `from`" })
  @IsOptional()
  @IsISO8601({ strict: true })
  to?: string;

  @ApiPropertyOptional({ description: "First block of the period, inclusive; with `toBlock`" })
  @IsOptional()
  @IntegerInput()
  @IsInt()
  @Min(0)
  fromBlock?: number;

  @ApiPropertyOptional({ description: "End block of the period, exclusive; with `fromBlock`" })
  @IsOptional()
  @IntegerInput()
  @IsInt()
  @Min(0)
  toBlock?: number;
}
