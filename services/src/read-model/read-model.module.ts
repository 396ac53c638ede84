/**
 * The read model: the append-only ledger-event feed and the projections folded from it (members,
 * receivables, credit lines, financings, payments, held payments). Only the projector
 * (projector.ts), fed by the indexer, writes these tables; every row can be rebuilt from the feed
 * and `/audit/verify` does so. Features that read the ledger import this module and inject the
 * repositories of the tables they read.
 */
import { Module } from "@nestjs/common";
import { TypeOrmModule } from "@nestjs/typeorm";
import { READ_MODEL_ENTITIES } from "./entities";

@Module({
  imports: [TypeOrmModule.forFeature(READ_MODEL_ENTITIES)],
  exports: [TypeOrmModule],
})
export class ReadModelModule {}
