/** The answer of GET /audit/verify: what was recomputed from the chain, and every row or field
 * where the service's database disagrees with it. */
import { ApiProperty, ApiPropertyOptional } from "@nestjs/swagger";
import { IsOptional } from "class-validator";
import { BooleanFlag } from "../../common/boolean-flag";

export class VerifyQueryDto {
  @ApiPropertyOptional({
    description:
      "Also read every member, receivable, credit line and financing from the contracts' view functions at the checkpoint " +
      "block and compare (one eth_call per row: slower on large ledgers)",
    default: false,
  })
  @IsOptional()
  @BooleanFlag()
  contracts?: boolean;
}

export class VerifyDifferenceDto {
  @ApiProperty({
    description:
      "Table of the difference (members, receivables, credit_lines, financings, payments, ledger_events, ledger_event_parties)",
  })
  table!: string;

  @ApiProperty({ description: "Primary key of the row; composite keys joined with ':' (tx hash:log index[:address])" })
  key!: string;

  @ApiProperty({ description: 'Column that differs, or "(row)" when the whole row is missing or extra' })
  field!: string;

  @ApiProperty({
    description: 'Value recomputed from the chain; for "(row)": "present" (row missing in the database) or "absent" (row the chain never produced)',
    nullable: true,
    oneOf: [{ type: "string" }, { type: "number" }, { type: "boolean" }],
  })
  expected!: string | number | boolean | null;

  @ApiProperty({ description: "Value in the service's database", nullable: true, oneOf: [{ type: "string" }, { type: "number" }, { type: "boolean" }] })
  actual!: string | number | boolean | null;

  @ApiProperty({ description: "What the expected value comes from: the event logs refolded, or the contracts' view functions", enum: ["logs", "contracts"] })
  source!: "logs" | "contracts";
}

export class TableCountDto {
  @ApiProperty({ description: "Rows recomputed from the chain's logs" })
  expected!: number;

  @ApiProperty({ description: "Rows in the database" })
  actual!: number;
}

export class VerifyReportDto {
  @ApiProperty({ description: "When the verification finished (ISO 8601)" })
  checkedAt!: string;

  @ApiProperty({ description: "Indexer checkpoint the database was compared at: logs were read up to this block" })
  checkpointBlock!: number;

  @ApiProperty({ description: "Hash of the checkpoint block" })
  checkpointHash!: string;

  @ApiProperty({ description: "First block whose logs were read" })
  fromBlock!: number;

  @ApiProperty({ description: "Number of ledger logs read from the chain" })
  logs!: number;

  @ApiProperty({ description: "Whether the contracts' view functions were compared too" })
  contractsChecked!: boolean;

  @ApiProperty({
    description: "Row counts per table",
    type: "object",
    additionalProperties: { $ref: "#/components/schemas/TableCountDto" },
  })
  counts!: Record<string, TableCountDto>;

  @ApiProperty({ type: [VerifyDifferenceDto], description: "Every difference found; empty when the database matches the chain" })
  differences!: VerifyDifferenceDto[];

  @ApiProperty({ description: "True when there is no difference" })
  ok!: boolean;
}
