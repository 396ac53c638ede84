/**
 * compiledRaw (services/src/database/compiled-select.ts): a select built once per shape gives, for
 * any parameter values, exactly the rows the query builder's own getRawMany gives, on the real
 * database of the run (SQLite, or TEST_DATABASE=postgres): strings, numbers, booleans and array
 * parameters of several lengths; and the builder runs once per shape, not per call.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import type { DataSource, ObjectLiteral, SelectQueryBuilder } from "typeorm";
import { loadConfig } from "../../services/src/config/env";
import { compiledRaw } from "../../services/src/database/compiled-select";
import { openDatabase } from "../../services/src/database/data-source";
import { ReceivableEntity } from "../../services/src/read-model/entities/projections.entity";
import { createTestDatabase, type TestDatabase } from "../support/app";

const ROOT = join(__dirname, "..", "..");

describe("compiledRaw: SQL built once per shape, rows as getRawMany's", function () {
  let dir: string;
  let db: TestDatabase;
  let ds: DataSource;

  const hex = (n: number) => "0x" + n.toString(16).padStart(64, "0");
  const addr = (n: number) => "0x" + n.toString(16).padStart(40, "0");

  before(async function () {
    dir = mkdtempSync(join(tmpdir(), "scf-compiled-select-"));
    db = await createTestDatabase(dir);
    ds = await openDatabase(loadConfig({ NODE_ENV: "test", DATABASE_URL: db.url }, ROOT).database);
    const repo = ds.getRepository(ReceivableEntity);
    const rows = Array.from({ length: 12 }, (_, i) =>
      repo.create({
        id: hex(i + 1),
        seller: addr(1 + (i % 3)),
        debtor: addr(9),
        holder: addr(1 + (i % 3)),
        faceValue: BigInt(1000 * (i + 1)),
        outstanding: BigInt(1000 * (i + 1)),
        dueDate: 1_900_000_000 + i * 86_400,
        financed: false,
        tokenisedAt: null,
        status: i % 2 ? "accepted" : "issued",
        documentHash: "0x" + (i + 1).toString(16).padStart(64, "d"),
        parentId: i >= 8 ? hex(1) : null,
        termReview: i % 4 === 0,
        createdBlock: 10 + i,
        createdTx: "0x" + (i + 1).toString(16).padStart(64, "e"),
        updatedBlock: 10 + i,
      }),
    );
    await repo.save(rows);
  });
  after(async function () {
    await ds?.destroy();
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  function select(p: Record<string, unknown>): SelectQueryBuilder<ObjectLiteral> {
    return ds
      .getRepository(ReceivableEntity)
      .createQueryBuilder("r")
      .where("(r.seller = :seller OR r.id IN (:...ids))", p)
      .andWhere("r.due_date >= :dueFrom", p)
      .andWhere("r.term_review = :termReview", p)
      .andWhere("(r.parent_id = :parent OR r.id = :parent OR r.id <> :parent)", p)
      .orderBy("r.due_date", "ASC")
      .addOrderBy("r.id", "ASC");
  }

  it("returns getRawMany's rows for every parameter set, building the SQL once per array length", async function () {
    let builds = 0;
    const counted = (p: Record<string, unknown>) => {
      builds++;
      return select(p);
    };
    const cases = [
      { seller: addr(1), ids: [hex(2)], dueFrom: 1_900_000_000, termReview: true, parent: hex(1) },
      { seller: addr(2), ids: [hex(3)], dueFrom: 1_900_200_000, termReview: false, parent: hex(1) },
      { seller: addr(3), ids: [hex(1), hex(4), hex(5)], dueFrom: 0, termReview: false, parent: hex(9) },
      { seller: addr(1), ids: [hex(7), hex(8), hex(12)], dueFrom: 1_900_500_000, termReview: true, parent: hex(2) },
      { seller: addr(7), ids: [hex(99)], dueFrom: 0, termReview: true, parent: hex(1) },
    ];
    let nonEmpty = 0;
    for (const p of cases) {
      const expected = await select(p).getRawMany();
      const got = await compiledRaw(ds.getRepository(ReceivableEntity), "test.select", p, counted);
      expect(got, JSON.stringify(p)).to.deep.equal(expected);
      if (expected.length) nonEmpty++;
    }
    expect(nonEmpty, "cases that select rows").to.be.at.least(3);
    // Two shapes: one id, three ids.
    expect(builds).to.equal(2);
  });

  it("keeps at most 1,000 shapes per data source, dropping the least recently used", async function () {
    let builds = 0;
    const one = (p: Record<string, unknown>) => {
      builds++;
      return ds.getRepository(ReceivableEntity).createQueryBuilder("r").select("r.id", "id").where("r.id = :id", p);
    };
    for (let i = 0; i <= 1_000; i++) {
      expect(await compiledRaw(ds.getRepository(ReceivableEntity), `test.bound:${i}`, { id: hex(1 + (i % 12)) }, one)).to.deep.equal([{ id: hex(1 + (i % 12)) }]);
    }
    expect(builds).to.equal(1_001);
    await compiledRaw(ds.getRepository(ReceivableEntity), "test.bound:1000", { id: hex(1) }, one);
    expect(builds, "the most recent shape is kept").to.equal(1_001);
    expect(await compiledRaw(ds.getRepository(ReceivableEntity), "test.bound:0", { id: hex(2) }, one)).to.deep.equal([{ id: hex(2) }]);
    expect(builds, "the oldest shape was dropped and is built again").to.equal(1_002);
  });

  it("refuses a builder that uses a parameter it was not given, naming the statement", async function () {
    let err: Error | undefined;
    try {
      await compiledRaw(ds.getRepository(ReceivableEntity), "test.missing", { seller: addr(1) }, () =>
        ds.getRepository(ReceivableEntity).createQueryBuilder("r").where("r.seller = :seller", { seller: addr(1) }).andWhere("r.status = :s", { s: "issued" }),
      );
    } catch (e) {
      err = e as Error;
    }
    expect(err?.message).to.match(/not among those given/).and.to.match(/SELECT/);
  });
});
