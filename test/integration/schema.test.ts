/**
 * Module boundaries the service relies on: the tables the application loads from its modules'
 * `forFeature` lists are exactly the list data sources outside Nest use (database/entities.ts), the
 * migrations leave no difference with those entities, one document store serves every feature, the
 * optional indexer reaches the auth cache, and only infrastructure modules are global.
 */
import { expect } from "chai";
import { ModulesContainer } from "@nestjs/core";
import { getDataSourceToken } from "@nestjs/typeorm";
import type { DataSource } from "typeorm";
import { CallerCache } from "../../services/src/auth/caller-cache";
import { DocumentsStore } from "../../services/src/common/documents.store";
import { ENTITIES } from "../../services/src/database/entities";
import { IndexerService } from "../../services/src/indexer/indexer.service";
import { startChain, type TestChain } from "../support/chain";
import { cleanupEnv, prepareEnv, startService, type RunningService, type TestEnv } from "../support/app";

describe("Module boundaries and schema (real database)", function () {
  let chain: TestChain;
  let env: TestEnv;
  let svc: RunningService;

  before(async function () {
    chain = await startChain();
    env = await prepareEnv(chain);
    svc = await startService(env);
  });
  after(async function () {
    await svc?.close();
    if (env) await cleanupEnv(env);
    await chain?.stop();
  });

  it("loads from the modules exactly the entities database/entities.ts lists", function () {
    const ds = svc.app.get<DataSource>(getDataSourceToken());
    const loaded = new Set(ds.entityMetadatas.map((m) => m.target));
    expect(loaded.size).to.equal(ENTITIES.length);
    for (const e of ENTITIES) expect(loaded.has(e), e.name).to.equal(true);
  });

  it("needs no migration: the migrated schema matches the modules' entities", async function () {
    const ds = svc.app.get<DataSource>(getDataSourceToken());
    const log = await ds.driver.createSchemaBuilder().log();
    expect(log.upQueries.map((q) => q.query)).to.deep.equal([]);
  });

  it("holds one document store, shared by onboarding and receivables", function () {
    const holders = [...svc.app.get(ModulesContainer).values()].filter((m) => m.providers.has(DocumentsStore));
    expect(holders.map((m) => m.metatype.name)).to.deep.equal(["DocumentsModule"]);
  });

  it("gives the auth caller cache the indexer (optional there, so a missing import would go unnoticed)", function () {
    const cache = svc.app.get(CallerCache) as unknown as { indexer?: IndexerService };
    expect(cache.indexer).to.equal(svc.app.get(IndexerService));
  });

  it("keeps only infrastructure modules global", function () {
    const own = new Set(["AppConfigModule", "DatabaseModule", "ChainModule", "OutboxModule", "IndexerModule", "ActsModule", "ReadModelModule"]);
    const global = [...svc.app.get(ModulesContainer).values()].filter((m) => m.isGlobal && own.has(m.metatype.name)).map((m) => m.metatype.name);
    expect(global.sort()).to.deep.equal(["AppConfigModule", "ChainModule", "DatabaseModule"]);
  });
});
