/**
 * bulk.ts's plain INSERTs and upserts on a real database (SQLite, or PostgreSQL with
 * TEST_DATABASE=postgres): rows stored as the ORM stores them, and all or none of a call's rows.
 * On SQLite, rows go one by one through a prepared statement inside a transaction; outside one
 * they must still be one statement, or a failing row would leave the rows before it committed.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { QueryFailedError, type DataSource } from "typeorm";
import { loadConfig } from "../../services/src/config/env";
import { insertRows, upsertRows } from "../../services/src/database/bulk";
import { openDatabase } from "../../services/src/database/data-source";
import { ReceivableEntity } from "../../services/src/read-model/entities/projections.entity";
import { createTestDatabase, type TestDatabase } from "../support/app";

const ROOT = join(__dirname, "..", "..");
const hex = (n: number) => "0x" + n.toString(16).padStart(64, "0");
const addr = (n: number) => "0x" + n.toString(16).padStart(40, "0");

describe("bulk.ts: plain multi-row writes, all or none", function () {
  let dir: string;
  let db: TestDatabase;
  let ds: DataSource;

  const receivable = (n: number, faceValue = 2n ** 63n + BigInt(n)) =>
    ds.getRepository(ReceivableEntity).create({
      id: hex(n),
      seller: addr(1),
      debtor: addr(9),
      holder: addr(1),
      faceValue,
      outstanding: faceValue,
      dueDate: 1_900_000_000 + n,
      financed: false,
      tokenisedAt: null,
      status: "issued",
      documentHash: "0x" + n.toString(16).padStart(64, "d"),
      parentId: null,
      termReview: false,
      createdBlock: n,
      createdTx: "0x" + n.toString(16).padStart(64, "e"),
      updatedBlock: n,
    });
  const count = () => ds.getRepository(ReceivableEntity).count();

  before(async function () {
    dir = mkdtempSync(join(tmpdir(), "scf-bulk-"));
    db = await createTestDatabase(dir);
    ds = await openDatabase(loadConfig({ NODE_ENV: "test", DATABASE_URL: db.url }, ROOT).database);
  });
  beforeEach(async () => ds.getRepository(ReceivableEntity).clear());
  after(async function () {
    await ds?.destroy();
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("stores every row as the ORM reads it back (bigint amounts beyond 2^53 included), in and out of a transaction", async function () {
    await insertRows(ds.manager, ReceivableEntity, [receivable(1), receivable(2)]);
    await ds.transaction((m) => insertRows(m, ReceivableEntity, [receivable(3), receivable(4), receivable(5)]));
    const got = await ds.getRepository(ReceivableEntity).find({ order: { id: "ASC" } });
    expect(got.map((r) => r.id)).to.deep.equal([1, 2, 3, 4, 5].map(hex));
    expect(got.map((r) => r.faceValue)).to.deep.equal([1n, 2n, 3n, 4n, 5n].map((n) => 2n ** 63n + n));
  });

  it("outside a transaction, a call whose last row fails stores none of its rows", async function () {
    const err = await insertRows(ds.manager, ReceivableEntity, [receivable(1), receivable(2), receivable(1)]).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(QueryFailedError);
    expect(await count()).to.equal(0);
  });

  it("inside a transaction, a failing row fails the call and the transaction stores nothing", async function () {
    const err = await ds
      .transaction(async (m) => {
        await insertRows(m, ReceivableEntity, [receivable(7)]);
        await insertRows(m, ReceivableEntity, [receivable(8), receivable(9), receivable(8)]);
      })
      .catch((e: unknown) => e);
    expect(err).to.be.instanceOf(QueryFailedError);
    expect(await count()).to.equal(0);
  });

  it("upserts replace every other column of an existing row and insert the new ones", async function () {
    await insertRows(ds.manager, ReceivableEntity, [receivable(1), receivable(2)]);
    await ds.transaction((m) => upsertRows(m, ReceivableEntity, [receivable(2, 5n), receivable(3, 6n)], ["id"]));
    const got = await ds.getRepository(ReceivableEntity).find({ order: { id: "ASC" } });
    expect(got.map((r) => [r.id, r.faceValue, r.outstanding])).to.deep.equal([
      [hex(1), 2n ** 63n + 1n, 2n ** 63n + 1n],
      [hex(2), 5n, 5n],
      [hex(3), 6n, 6n],
    ]);
  });
});
