import { Column, Entity, PrimaryColumn } from "typeorm";
import { numberTransformer } from "../../common/columns";

/** The indexer's checkpoint: the last block whose events are in the database. Written in the same
 * transaction as those events. */
@Entity("indexer_state")
export class IndexerStateEntity {
  @PrimaryColumn({ type: "varchar", length: 16 })
  id!: string;

  @Column({ name: "block_number", type: "bigint", transformer: numberTransformer })
  blockNumber!: number;

  @Column({ name: "block_hash", type: "varchar", length: 66 })
  blockHash!: string;

  @Column({ name: "updated_at", type: "bigint", transformer: numberTransformer })
  updatedAt!: number;
}

/** Hashes of recently indexed blocks, to find the common ancestor after a reorg. */
@Entity("indexed_blocks")
export class IndexedBlockEntity {
  @PrimaryColumn({ type: "bigint", transformer: numberTransformer })
  number!: number;

  @Column({ type: "varchar", length: 66 })
  hash!: string;

  @Column({ name: "parent_hash", type: "varchar", length: 66 })
  parentHash!: string;

  @Column({ type: "bigint", transformer: numberTransformer })
  timestamp!: number;
}

/** The indexer's (its checkpoint and recent blocks) tables, registered by its module and collected by database/entities.ts. */
export const INDEXER_ENTITIES = [IndexerStateEntity, IndexedBlockEntity];
