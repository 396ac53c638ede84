/** One ledger event as the API returns it: what happened, in which transaction and block, when,
 * who sent the transaction and whose act it was. Shared by receivable histories, the audit feed and
 * the JSON export, so every reader sees the same shape. */
import { ApiProperty } from "@nestjs/swagger";
import type { LedgerEventEntity } from "../../read-model/entities/ledger-event.entity";
import { isoFromSeconds } from "../read-scope";
import type { LedgerEvent } from "../../../../shared/api-types";

/**
 * The records a sealed import of a version-1 ledger carries in (contracts/interfaces/ILedgerImport.sol).
 * ImportSealed is not one of them: it closes the import window, and every ledger emits it, at
 * construction when nothing is imported.
 */
const IMPORT_EVENTS = new Set(["MemberImported", "BalanceImported", "ReceivableImported", "CreditLineImported", "FinancingImported", "PaymentImported"]);

export class LedgerEventDto implements LedgerEvent {
  @ApiProperty({ description: "Hash of the transaction that emitted the event" })
  txHash!: string;

  @ApiProperty({ description: "Index of the log in its block; (txHash, logIndex) identifies the event" })
  logIndex!: number;

  @ApiProperty({ description: "Block number" })
  blockNumber!: number;

  @ApiProperty({ description: "Hash of the block, to check against any node of the chain" })
  blockHash!: string;

  @ApiProperty({ description: "Position of the transaction in its block" })
  txIndex!: number;

  @ApiProperty({ description: "Block time (ISO 8601)", example: "2025-01-31T08:00:00.000Z" })
  time!: string;

  @ApiProperty({ description: "Contract that emitted it", enum: ["ParticipantRegistry", "SettlementToken", "Receivables", "Financing"] })
  contract!: string;

  @ApiProperty({ description: "Address of that contract (EIP-55)" })
  address!: string;

  @ApiProperty({ description: "Event name, e.g. ReceivableAccepted", example: "ReceivableAccepted" })
  event!: string;

  @ApiProperty({
    description: "Decoded arguments by name; integers as decimal strings, addresses EIP-55, bytes as 0x hex",
    type: "object",
    additionalProperties: true,
  })
  args!: Record<string, string | boolean>;

  @ApiProperty({ description: "Sender of the transaction: the participant itself, or the relayer for an act it signed" })
  txFrom!: string;

  @ApiProperty({ description: "Participant whose act this is (seller, debtor, holder, financier…), from the event", nullable: true, type: String })
  actor!: string | null;

  @ApiProperty({ description: "Receivable the event concerns (0x + 64 hex digits)", nullable: true, type: String })
  receivableId!: string | null;

  @ApiProperty({ description: "Credit line the event concerns", nullable: true, type: Number })
  lineId!: number | null;

  @ApiProperty({
    description:
      "For the records a ledger upgrade carried in (MemberImported, BalanceImported, ReceivableImported, CreditLineImported, " +
      "FinancingImported, PaymentImported): the ledger version they come from, whose contracts are named under `previous` in the " +
      "deployment record; the args are the record as that ledger held it, ids unchanged. Null for every other event.",
    nullable: true,
    type: Number,
    example: null,
  })
  importedFrom!: number | null;

  static from(e: LedgerEventEntity): LedgerEventDto {
    const d = new LedgerEventDto();
    d.txHash = e.txHash;
    d.logIndex = e.logIndex;
    d.blockNumber = e.blockNumber;
    d.blockHash = e.blockHash;
    d.txIndex = e.txIndex;
    d.time = isoFromSeconds(e.timestamp);
    d.contract = e.contract;
    d.address = e.address;
    d.event = e.eventName;
    d.args = e.args;
    d.txFrom = e.txFrom;
    d.actor = e.actor;
    d.receivableId = e.receivableId;
    d.lineId = e.lineId;
    d.importedFrom = IMPORT_EVENTS.has(e.eventName) ? 1 : null;
    return d;
  }

  /**
   * The same DTO straight from a raw row of `ledger_events` selected under alias `e` (`getRawMany`
   * keys: `e_` + column name), without building an entity per row first: for the audit feed's and
   * the histories' pages. Block numbers and times are bigint columns (text from pg, numbers from
   * SQLite); `args` is the simple-json column's text. audit.test.ts checks it against `from`.
   */
  static fromRaw(x: RawLedgerEventRow): LedgerEventDto {
    return {
      txHash: x.e_tx_hash,
      logIndex: Number(x.e_log_index),
      blockNumber: Number(x.e_block_number),
      blockHash: x.e_block_hash,
      txIndex: Number(x.e_tx_index),
      time: isoFromSeconds(Number(x.e_timestamp)),
      contract: x.e_contract,
      address: x.e_address,
      event: x.e_event_name,
      args: typeof x.e_args === "string" ? (JSON.parse(x.e_args) as Record<string, string | boolean>) : x.e_args,
      txFrom: x.e_tx_from,
      actor: x.e_actor,
      receivableId: x.e_receivable_id,
      lineId: x.e_line_id === null ? null : Number(x.e_line_id),
      importedFrom: IMPORT_EVENTS.has(x.e_event_name) ? 1 : null,
    };
  }
}

/** A raw row of `ledger_events` under alias `e` as the drivers return it. */
export interface RawLedgerEventRow {
  e_tx_hash: string;
  e_log_index: number | string;
  e_block_number: number | string;
  e_block_hash: string;
  e_tx_index: number | string;
  e_timestamp: number | string;
  e_contract: string;
  e_address: string;
  e_event_name: string;
  e_args: string | Record<string, string | boolean>;
  e_tx_from: string;
  e_actor: string | null;
  e_receivable_id: string | null;
  e_line_id: number | string | null;
}

export class LedgerEventPageDto {
  @ApiProperty({ type: [LedgerEventDto], description: "Events in chain order: block, transaction index, log index" })
  items!: LedgerEventDto[];

  @ApiProperty({ description: "Pass as cursor to read the next page; null on the last page", nullable: true, type: String })
  nextCursor!: string | null;
}
