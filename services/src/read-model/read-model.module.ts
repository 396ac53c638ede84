/**
 * The read model: the append-only ledger-event feed and the projections folded from it (members,
 * receivables, credit lines, financings, payments, held payments). Only the projector
 * (projector.ts), fed by the indexer, writes these tables; every row can be rebuilt from the feed
 * and `/audit/verify` does so. Features that read the ledger import this module and inject the
 * repositories of the tables they read; a member's record is read through `Members`.
 */
import { Module } from "@nestjs/common";
import { TypeOrmModule } from "@nestjs/typeorm";
import { READ_MODEL_ENTITIES } from "./entities";
import { Members } from "./members";

@Module({
  imports: [TypeOrmModule.forFeature(READ_MODEL_ENTITIES)],
  providers: [Members],
  exports: [TypeOrmModule, Members],
})
export class ReadModelModule {}
