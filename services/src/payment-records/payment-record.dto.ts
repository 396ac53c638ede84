/** Shapes of the payment-record reads. Amounts are decimal strings in fen; days are whole UTC days. */
import { ApiProperty, ApiPropertyOptional } from "@nestjs/swagger";
import { IntegerInput } from "../common/integer-input";
import { IsInt, IsOptional, IsString, Max, MaxLength, Min } from "class-validator";
import { isoFromSeconds } from "../audit/read-scope";
import type { PaymentRecord } from "./payment-record";
import type { Page, PaymentRecord as PaymentRecordJson } from "../../../shared/api-types";

class CountAmount {
  @ApiProperty() count!: number;
  @ApiProperty({ description: "Face value (fen, decimal string)" }) faceValue!: string;
}

class LateDto extends CountAmount {
  @ApiProperty({ description: "Median days late (mean of the middle two for an even count)", nullable: true, type: Number })
  daysLateMedian!: number | null;
  @ApiProperty({ description: "95th percentile of days late (nearest rank)", nullable: true, type: Number })
  daysLateP95!: number | null;
  @ApiProperty({ description: "Most days late", nullable: true, type: Number })
  daysLateMax!: number | null;
}

class DefaultedDto extends CountAmount {
  @ApiProperty({ description: "Still owed on them (fen, decimal string)" }) outstanding!: string;
}

class OutstandingDto {
  @ApiProperty() count!: number;
  @ApiProperty({ description: "Still owed (fen, decimal string)" }) outstanding!: string;
}

export class PaymentRecordDto implements PaymentRecordJson {
  @ApiProperty({ description: "The buyer (core enterprise), EIP-55" }) buyer!: string;
  @ApiProperty({ description: "Ledger time the record is computed at (ISO 8601)" }) asOf!: string;
  @ApiProperty({ type: CountAmount, description: "Confirmed debts: accepted receivables not split further (split parts count, their parents do not)" })
  confirmed!: CountAmount;
  @ApiProperty({ type: CountAmount, description: "Settled by a payment on or before the due day (UTC)" }) paidOnTime!: CountAmount;
  @ApiProperty({ type: LateDto, description: "Settled by a payment after the due day" }) paidLate!: LateDto;
  @ApiProperty({ type: CountAmount, description: "Settled by credit notes alone" }) creditedInFull!: CountAmount;
  @ApiProperty({ type: DefaultedDto, description: "Marked defaulted by the holder" }) defaulted!: DefaultedDto;
  @ApiProperty({ type: OutstandingDto, description: "Still owed after the due day" }) outstandingPastDue!: OutstandingDto;
  @ApiProperty({ type: OutstandingDto, description: "Still owed, not yet due" }) outstandingNotYetDue!: OutstandingDto;

  static from(r: PaymentRecord): PaymentRecordDto {
    const d = new PaymentRecordDto();
    d.buyer = r.buyer;
    d.asOf = isoFromSeconds(r.asOf);
    const ca = (x: { count: number; faceValue: bigint }) => ({ count: x.count, faceValue: x.faceValue.toString() });
    d.confirmed = ca(r.confirmed);
    d.paidOnTime = ca(r.paidOnTime);
    d.paidLate = { ...ca(r.paidLate), daysLateMedian: r.paidLate.daysLateMedian, daysLateP95: r.paidLate.daysLateP95, daysLateMax: r.paidLate.daysLateMax };
    d.creditedInFull = ca(r.creditedInFull);
    d.defaulted = { ...ca(r.defaulted), outstanding: r.defaulted.outstanding.toString() };
    d.outstandingPastDue = { count: r.outstandingPastDue.count, outstanding: r.outstandingPastDue.outstanding.toString() };
    d.outstandingNotYetDue = { count: r.outstandingNotYetDue.count, outstanding: r.outstandingNotYetDue.outstanding.toString() };
    return d;
  }
}

export class ListPaymentRecordsQueryDto {
  @ApiPropertyOptional({ description: "Page size (default 50, at most 200)" })
  @IsOptional()
  @IntegerInput()
  @IsInt()
  @Min(1)
  @Max(200)
  limit?: number;

  @ApiPropertyOptional({ description: "nextCursor of the previous page" })
  @IsOptional()
  @IsString()
  @MaxLength(512)
  cursor?: string;
}

export class PaymentRecordPageDto implements Page<PaymentRecordJson> {
  @ApiProperty({ type: [PaymentRecordDto], description: "One record per buyer, by address" })
  items!: PaymentRecordDto[];

  @ApiProperty({ description: "Pass as cursor for the next page; null on the last page", nullable: true, type: String })
  nextCursor!: string | null;
}
