/**
 * The indexer follows the chain (confirmations, reorgs, its checkpoint in indexer_state and the
 * recent blocks in indexed_blocks) and dispatches each block's events into the read model.
 */
import { Module } from "@nestjs/common";
import { TypeOrmModule } from "@nestjs/typeorm";
import { ReadModelModule } from "../read-model/read-model.module";
import { INDEXER_ENTITIES } from "./entities/indexer-state.entity";
import { IndexerService } from "./indexer.service";
import { LedgerClock } from "./ledger-time";

@Module({
  imports: [TypeOrmModule.forFeature(INDEXER_ENTITIES), ReadModelModule],
  providers: [IndexerService, LedgerClock],
  exports: [IndexerService, LedgerClock, TypeOrmModule],
})
export class IndexerModule {}
