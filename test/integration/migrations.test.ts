/**
 * Migrations when several processes boot on one fresh database at once (API replicas and the worker
 * of one deployment): on PostgreSQL they take turns under an advisory lock, so every opener
 * succeeds and each migration runs once. TypeORM alone lets them collide (duplicate key on pg_type).
 * SQLite is opened by one process only and has no such case.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import type { DataSource } from "typeorm";
import { openDatabase } from "../../services/src/database/data-source";
import { MIGRATIONS } from "../../services/src/database/migrations";
import { createTestDatabase, usePostgres, type TestDatabase } from "../support/app";

describe("Migrations on a fresh database", function () {
  this.timeout(120_000);
  let dir: string;
  let db: TestDatabase;
  const opened: DataSource[] = [];

  beforeEach(async function () {
    dir = mkdtempSync(join(tmpdir(), "scf-migrations-"));
    db = await createTestDatabase(dir);
  });
  afterEach(async function () {
    for (const ds of opened.splice(0)) await ds.destroy();
    await db.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  if (usePostgres()) {
    it("lets three openers at once each succeed, every migration applied once", async function () {
      const database = { kind: "postgres" as const, url: db.url };
      const results = await Promise.allSettled([0, 1, 2].map(() => openDatabase(database)));
      for (const r of results) if (r.status === "fulfilled") opened.push(r.value);
      expect(results.map((r) => (r.status === "fulfilled" ? "opened" : String(r.reason)))).to.deep.equal(["opened", "opened", "opened"]);
      const applied = (await opened[0].query("SELECT name FROM migrations ORDER BY id")) as { name: string }[];
      expect(applied.map((m) => m.name)).to.deep.equal(MIGRATIONS.map((m) => m.name));
      const locks = (await opened[0].query("SELECT count(*)::int AS n FROM pg_locks l JOIN pg_database d ON d.oid = l.database WHERE l.locktype = 'advisory' AND d.datname = current_database()")) as { n: number }[];
      expect(locks[0].n, "the migration lock is released").to.equal(0);
    });
  }

  it("applies every migration once when opened twice in turn", async function () {
    const database = usePostgres() ? { kind: "postgres" as const, url: db.url } : { kind: "sqlite" as const, path: join(dir, "ledger.sqlite") };
    opened.push(await openDatabase(database));
    await opened[0].destroy();
    opened.splice(0);
    opened.push(await openDatabase(database));
    const applied = (await opened[0].query("SELECT name FROM migrations ORDER BY id")) as { name: string }[];
    expect(applied.map((m) => m.name)).to.deep.equal(MIGRATIONS.map((m) => m.name));
  });
});
