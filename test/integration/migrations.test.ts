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
import { ActClaimEntity, ActEntity, type ActStatus } from "../../services/src/acts/entities/act.entity";
import { ComplianceRecords } from "../../services/src/compliance/compliance.records";
import { ComplianceCheckEntity } from "../../services/src/compliance/entities/compliance-check.entity";
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

  it("ActClaims claims the invoices of the tokenisations pending at upgrade (single and batch), not settled ones", async function () {
    const database = usePostgres() ? { kind: "postgres" as const, url: db.url } : { kind: "sqlite" as const, path: join(dir, "ledger.sqlite") };
    const ds = await openDatabase(database);
    opened.push(ds);
    // Back to the schema before ActClaims (undoing the migrations after it first).
    const at = MIGRATIONS.findIndex((m) => /^ActClaims/.test(m.name));
    expect(at, "ActClaims is among the migrations").to.be.at.least(0);
    for (let i = MIGRATIONS.length - 1; i >= at; i--) await ds.undoLastMigration();
    const id = (n: number) => "0x" + n.toString(16).padStart(64, "0");
    const act = (n: number, kind: string, status: ActStatus, receivableId: string | null, result: Record<string, unknown> | null): ActEntity => ({
      id: `00000000-0000-4000-8000-00000000000${n}`,
      kind,
      contract: "Receivables" as const,
      signer: "0x" + "1".repeat(40),
      nonce: String(n),
      deadline: 1,
      primaryType: kind === "tokenise" ? "Tokenise" : "TokeniseBatch",
      message: {},
      signature: "0x00",
      typedDataHash: id(n),
      receivableId,
      lineId: null,
      status,
      outboxId: `o${n}`,
      txHash: null,
      blockNumber: null,
      failureReason: null,
      result,
      createdAt: 1000 + n,
      updatedAt: 1000 + n,
    });
    await ds.getRepository(ActEntity).save([
      act(1, "tokenise", "pending", id(11), { receivableId: id(11) }),
      act(2, "tokenise_batch", "pending", null, { receivableIds: [id(21), id(22)] }),
      act(3, "tokenise", "confirmed", id(31), { receivableId: id(31) }),
      act(4, "tokenise_batch", "failed", null, { receivableIds: [id(41)] }),
      act(5, "accept", "pending", id(51), null),
    ]);
    await ds.runMigrations();
    const claims = await ds.getRepository(ActClaimEntity).find({ order: { key: "ASC" } });
    expect(claims.map((c) => [c.key, c.actId, c.createdAt])).to.deep.equal([
      [`receivable:${id(11)}`, act(1, "", "pending", null, null).id, 1001],
      [`receivable:${id(21)}`, act(2, "", "pending", null, null).id, 1002],
      [`receivable:${id(22)}`, act(2, "", "pending", null, null).id, 1002],
    ]);
  });

  it("ReceivableFinancier copies each financing's financier onto its receivable (any state; none without a financing), and undoes cleanly", async function () {
    const database = usePostgres() ? { kind: "postgres" as const, url: db.url } : { kind: "sqlite" as const, path: join(dir, "ledger.sqlite") };
    const ds = await openDatabase(database);
    opened.push(ds);
    const at = MIGRATIONS.findIndex((m) => /^ReceivableFinancier/.test(m.name));
    expect(at, "ReceivableFinancier is among the migrations").to.be.at.least(0);
    for (let i = MIGRATIONS.length - 1; i >= at; i--) await ds.undoLastMigration();
    const hex = (n: number, len: number) => "0x" + n.toString(16).padStart(len, "0");
    const p = (i: number) => (usePostgres() ? `$${i}` : "?");
    for (let n = 1; n <= 5; n++) {
      await ds.query(
        `INSERT INTO receivables (id, seller, debtor, holder, face_value, outstanding, due_date, status, financed, created_block, created_tx, updated_block)
         VALUES (${p(1)}, ${p(2)}, ${p(3)}, ${p(4)}, '00000000000000000100', '00000000000000000100', 1000, 'accepted', ${usePostgres() ? "false" : "0"}, 1, ${p(5)}, 1)`,
        [hex(n, 64), hex(0xa0 + n, 40), hex(0xb0, 40), hex(0xa0 + n, 40), hex(n, 64)],
      );
    }
    // 1: active with financier F1; 2: rejected by F2 (kept); 3: a financing with no financier (its line unknown); 4, 5: none.
    const financing = [
      [1, hex(0xf1, 40), "active"],
      [2, hex(0xf2, 40), "rejected"],
      [3, null, "requested"],
    ] as const;
    for (const [n, financier, status] of financing) {
      await ds.query(
        `INSERT INTO financings (receivable_id, line_id, supplier, financier, status, principal, updated_block) VALUES (${p(1)}, 1, ${p(2)}, ${p(3)}, ${p(4)}, '0', 1)`,
        [hex(n, 64), hex(0xa0 + n, 40), financier, status],
      );
    }
    await ds.runMigrations();
    const rows = (await ds.query("SELECT id, financier FROM receivables ORDER BY id")) as Array<{ id: string; financier: string | null }>;
    expect(rows.map((r) => [r.id, r.financier])).to.deep.equal([
      [hex(1, 64), hex(0xf1, 40)],
      [hex(2, 64), hex(0xf2, 40)],
      [hex(3, 64), null],
      [hex(4, 64), null],
      [hex(5, 64), null],
    ]);
    for (let i = MIGRATIONS.length - 1; i >= at; i--) await ds.undoLastMigration();
    const columns = usePostgres()
      ? ((await ds.query("SELECT column_name AS name FROM information_schema.columns WHERE table_name = 'receivables'")) as Array<{ name: string }>)
      : ((await ds.query("SELECT name FROM pragma_table_info('receivables')")) as Array<{ name: string }>);
    expect(columns.map((c) => c.name)).not.to.include("financier");
    await ds.runMigrations();
  });

  it("ComplianceRuns gives every stored run its row, so each subject still lists all its checks, and undoes cleanly", async function () {
    const database = usePostgres() ? { kind: "postgres" as const, url: db.url } : { kind: "sqlite" as const, path: join(dir, "ledger.sqlite") };
    const ds = await openDatabase(database);
    opened.push(ds);
    const at = MIGRATIONS.findIndex((m) => /^ComplianceRuns/.test(m.name));
    expect(at, "ComplianceRuns is among the migrations").to.be.at.least(0);
    for (let i = MIGRATIONS.length - 1; i >= at; i--) await ds.undoLastMigration();
    const p = (i: number) => (usePostgres() ? `$${i}` : "?");
    // Two runs of invoice:A (three and one check), one of invoice:B, and a one-check run of a member.
    const checks: Array<[string, string, string, string, number]> = [
      ["c1", "run-a1", "invoice", "A", 100],
      ["c2", "run-a1", "invoice", "A", 100],
      ["c3", "run-a1", "invoice", "A", 100],
      ["c4", "run-a2", "invoice", "A", 200],
      ["c5", "run-b1", "invoice", "B", 150],
      ["c6", "kyc-warning-0xabc", "member", "0xabc", 300],
    ];
    for (const [id, runId, type, subject, at] of checks) {
      await ds.query(
        `INSERT INTO compliance_checks (id, run_id, subject_type, subject_id, rule_code, result, reason, details, created_at)
         VALUES (${p(1)}, ${p(2)}, ${p(3)}, ${p(4)}, 'R', 'pass', 'r', NULL, ${p(5)})`,
        [id, runId, type, subject, at],
      );
    }
    await ds.runMigrations();
    const runs = (await ds.query("SELECT run_id, subject_type, subject_id, created_at FROM compliance_runs ORDER BY run_id")) as Array<Record<string, unknown>>;
    expect(runs.map((r) => [r.run_id, r.subject_type, r.subject_id, Number(r.created_at)])).to.deep.equal([
      ["kyc-warning-0xabc", "member", "0xabc", 300],
      ["run-a1", "invoice", "A", 100],
      ["run-a2", "invoice", "A", 200],
      ["run-b1", "invoice", "B", 150],
    ]);
    const records = new ComplianceRecords(ds.getRepository(ComplianceCheckEntity));
    expect((await records.checksFor("invoice", "A")).map((c) => c.id)).to.deep.equal(["c4", "c1", "c2", "c3"]);
    expect((await records.latestRunChecks("invoice", "A")).map((c) => c.id)).to.deep.equal(["c4"]);
    expect((await records.checksFor("member", "0xabc")).map((c) => c.id)).to.deep.equal(["c6"]);
    for (let i = MIGRATIONS.length - 1; i >= at; i--) await ds.undoLastMigration();
    const tables = usePostgres()
      ? ((await ds.query("SELECT table_name AS name FROM information_schema.tables WHERE table_name = 'compliance_runs'")) as unknown[])
      : ((await ds.query("SELECT name FROM sqlite_master WHERE name = 'compliance_runs'")) as unknown[]);
    expect(tables).to.have.length(0);
    await ds.runMigrations();
  });
});
