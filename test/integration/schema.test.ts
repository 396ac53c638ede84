/**
 * Module boundaries the service relies on: the tables the application loads from its modules'
 * `forFeature` lists are exactly the list data sources outside Nest use (database/entities.ts), the
 * migrations leave no difference with those entities, one document store serves every feature, the
 * optional indexer reaches the auth cache, only infrastructure modules are global, and only the
 * listed exceptions take the whole database (DataSource or EntityManager) instead of their tables.
 */
import { expect } from "chai";
import { readFileSync, readdirSync } from "node:fs";
import { join, relative } from "node:path";
import { PARAMTYPES_METADATA, SELF_DECLARED_DEPS_METADATA } from "@nestjs/common/constants";
import { ModulesContainer } from "@nestjs/core";
import { getDataSourceToken, getEntityManagerToken } from "@nestjs/typeorm";
import { DataSource, EntityManager } from "typeorm";
import { CallerCache } from "../../services/src/auth/caller-cache";
import { DocumentsStore } from "../../services/src/common/documents.store";
import { ENTITIES } from "../../services/src/database/entities";
import { IndexerService } from "../../services/src/indexer/indexer.service";
import { InvoiceChecksService, type Invoice } from "../../services/src/receivables/invoice-checks.service";
import { startChain, type TestChain } from "../support/chain";
import { cleanupEnv, prepareEnv, startService, type RunningService, type TestEnv } from "../support/app";

/**
 * The services that may take the whole database, each with its reason. Everything else injects the
 * repositories of its own tables or a narrow reader (Members, LedgerClock, a feature's service).
 */
const WHOLE_DATABASE: Record<string, { file: string; reason: string }> = {
  DbWriter: { file: "database/db-writer.ts", reason: "the one way the service writes: a transaction across any feature's tables" },
  VerifyService: { file: "audit/verify.service.ts", reason: "reads every projection table in one snapshot (a query runner on the whole database)" },
  DocumentsSweeper: { file: "common/documents.store.ts", reason: "reads the documents two features reference (onboarding, receivables) in one query" },
  ReadinessChecks: { file: "health/readiness.checks.ts", reason: "the database probe pings the connection itself, not a feature's table" },
};

/** The files under `dir` whose names end in `.ts`, recursively. */
function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? tsFiles(join(dir, e.name)) : e.name.endsWith(".ts") ? [join(dir, e.name)] : [],
  );
}

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

  it("answers the duplicate checks both posts of every tokenisation make by index, never by reading the whole receivables table", async function () {
    const ds = svc.app.get<DataSource>(getDataSourceToken());
    const checks = svc.app.get(InvoiceChecksService);
    const manager = svc.app.get(getEntityManagerToken()) as EntityManager;
    // The statements refuseIfIndexed really sends (its receivables repository shares this manager).
    const sent: Array<{ sql: string; params: unknown[] }> = [];
    const query = manager.query.bind(manager);
    manager.query = (sql: string, params?: unknown[]) => {
      sent.push({ sql, params: params ?? [] });
      return query(sql, params);
    };
    try {
      const invoice = { id: `0x${"1".repeat(64)}`, documentHash: `0x${"2".repeat(64)}` } as Invoice;
      await checks.refuseIfIndexed([invoice]);
    } finally {
      manager.query = query;
    }
    expect(sent.map((q) => q.sql).join("\n")).to.match(/\bid IN\b/).and.match(/\bdocument_hash IN\b/);
    for (const { sql, params } of sent) {
      // PostgreSQL would scan a table this small anyway: forbid it, so only a missing index leaves a Seq Scan.
      const plan = await ds.transaction(async (m) => {
        if (ds.options.type === "postgres") await m.query("SET LOCAL enable_seqscan = off");
        const rows = (await m.query(`${ds.options.type === "postgres" ? "EXPLAIN" : "EXPLAIN QUERY PLAN"} ${sql}`, params)) as Array<Record<string, unknown>>;
        return rows.map((r) => String(r["QUERY PLAN"] ?? r.detail)).join("\n");
      });
      expect(plan, sql).not.to.match(/Seq Scan on receivables|\bSCAN receivables\b/);
      expect(plan, sql).to.match(/Index|INDEX/);
    }
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

  it("lets only the listed exceptions inject the whole database (DataSource or EntityManager)", function () {
    const whole = new Set<unknown>([DataSource, EntityManager, getDataSourceToken(), getEntityManagerToken()]);
    const takers = new Set<string>();
    for (const mod of svc.app.get(ModulesContainer).values()) {
      if (mod.metatype.name.startsWith("TypeOrm")) continue; // the data source's own providers and the repository factories
      for (const wrapper of [...mod.providers.values(), ...mod.controllers.values(), ...mod.injectables.values()]) {
        const type = wrapper.metatype;
        if (typeof type !== "function" || wrapper.inject) continue; // value and factory providers
        const declared = (Reflect.getMetadata(PARAMTYPES_METADATA, type) as unknown[] | undefined) ?? [];
        const injected = ((Reflect.getMetadata(SELF_DECLARED_DEPS_METADATA, type) as { param: unknown }[] | undefined) ?? []).map((d) => d.param);
        if ([...declared, ...injected].some((t) => whole.has(t))) takers.add(type.name);
      }
    }
    expect([...takers].sort()).to.deep.equal(Object.keys(WHOLE_DATABASE).sort());
  });

  it("has no other class in the service's source take the whole database, including modules this configuration leaves out", function () {
    const root = join(__dirname, "../../services/src");
    const allowed = new Set(Object.values(WHOLE_DATABASE).map((e) => e.file));
    const takers = tsFiles(root)
      .filter((f) => !f.includes(join("database", "migrations")))
      .filter((f) => /@InjectDataSource\(|@InjectEntityManager\(|:\s*DataSource\s*[,)]/.test(readFileSync(f, "utf8")))
      .map((f) => relative(root, f).split("\\").join("/"));
    expect(takers.filter((f) => !allowed.has(f))).to.deep.equal([]);
    for (const [name, { file }] of Object.entries(WHOLE_DATABASE)) expect(takers, `${name} (${file})`).to.include(file);
  });

  it("has features read members through the Members reader, not the members table (participants/ is the member directory)", function () {
    const root = join(__dirname, "../../services/src");
    const readers = tsFiles(root)
      .map((f) => relative(root, f).split("\\").join("/"))
      .filter((f) => !f.startsWith("read-model/") && !f.startsWith("participants/"))
      .filter((f) => /(InjectRepository|getRepository)\(\s*MemberEntity\s*\)/.test(readFileSync(join(root, f), "utf8")));
    expect(readers).to.deep.equal([]);
  });
});
