import { Column, Entity, Index, PrimaryColumn } from "typeorm";
import { numberTransformer } from "../../common/columns";

/** Append-only feed of every ledger contract event, keyed on (tx hash, log index) and ordered by
 * (block, tx index, log index). Projections can be rebuilt from this table alone. */
@Entity("ledger_events")
@Index("ix_ledger_events_order", ["blockNumber", "txIndex", "logIndex"])
@Index("ix_ledger_events_receivable", ["receivableId", "blockNumber", "logIndex"])
@Index("ix_ledger_events_time", ["timestamp"])
@Index("ix_ledger_events_name", ["eventName", "blockNumber"])
export class LedgerEventEntity {
  @PrimaryColumn({ name: "tx_hash", type: "varchar", length: 66 })
  txHash!: string;

  @PrimaryColumn({ name: "log_index", type: "integer" })
  logIndex!: number;

  @Column({ name: "block_number", type: "bigint", transformer: numberTransformer })
  blockNumber!: number;

  @Column({ name: "block_hash", type: "varchar", length: 66 })
  blockHash!: string;

  @Column({ name: "tx_index", type: "integer" })
  txIndex!: number;

  @Column({ type: "bigint", transformer: numberTransformer })
  timestamp!: number;

  @Column({ type: "varchar", length: 32 })
  contract!: string;

  @Column({ type: "varchar", length: 42 })
  address!: string;

  @Column({ name: "event_name", type: "varchar", length: 48 })
  eventName!: string;

  /** Decoded arguments; bigints as decimal strings. */
  @Column({ type: "simple-json" })
  args!: Record<string, string | boolean>;

  /** The account that sent the transaction (the relayer for signed acts). */
  @Column({ name: "tx_from", type: "varchar", length: 42 })
  txFrom!: string;

  /** The participant the act belongs to (seller, debtor, holder, financier…), from the event. */
  @Column({ type: "varchar", length: 42, nullable: true })
  actor!: string | null;

  @Column({ name: "receivable_id", type: "varchar", length: 66, nullable: true })
  receivableId!: string | null;

  @Column({ name: "line_id", type: "integer", nullable: true })
  lineId!: number | null;
}

/** Every address an event concerns, for a member's history. */
@Entity("ledger_event_parties")
@Index("ix_ledger_event_parties_address", ["address", "blockNumber"])
export class LedgerEventPartyEntity {
  @PrimaryColumn({ name: "tx_hash", type: "varchar", length: 66 })
  txHash!: string;

  @PrimaryColumn({ name: "log_index", type: "integer" })
  logIndex!: number;

  @PrimaryColumn({ type: "varchar", length: 42 })
  address!: string;

  @Column({ name: "block_number", type: "bigint", transformer: numberTransformer })
  blockNumber!: number;
}
