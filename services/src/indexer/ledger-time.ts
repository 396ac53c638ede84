/**
 * "Now" for rules judged on the ledger (past due, registration overdue): the later of the wall clock
 * and the time of the last indexed block. The chain's clock is the ledger's (a test or a replayed
 * chain may run ahead of the wall clock); the wall clock covers a quiet chain that mines no blocks.
 */
import { Injectable } from "@nestjs/common";
import { InjectRepository } from "@nestjs/typeorm";
import type { DataSource, EntityManager, Repository } from "typeorm";
import { IndexerStateEntity } from "./entities/indexer-state.entity";

export async function ledgerNow(ds: DataSource | EntityManager): Promise<number> {
  const rows = (await ds.query(
    "SELECT b.timestamp AS t FROM indexer_state s JOIN indexed_blocks b ON b.number = s.block_number WHERE s.id = 'ledger'",
  )) as Array<{ t: string | number }>;
  const head = rows.length ? Number(rows[0].t) : 0;
  return Math.max(Math.floor(Date.now() / 1000), head);
}

/** ledgerNow() for the features that judge dates on the ledger, reading only the indexer's tables. */
@Injectable()
export class LedgerClock {
  constructor(@InjectRepository(IndexerStateEntity) private readonly state: Repository<IndexerStateEntity>) {}

  now(): Promise<number> {
    return ledgerNow(this.state.manager);
  }
}
