/**
 * The indexer's checkpoint read (readCheckpoint: a compiled statement hydrated by raw-rows.ts) gives
 * the entity TypeORM's findOneBy gives, on a real database (SQLite file, or PostgreSQL with
 * TEST_DATABASE=postgres) migrated as at boot: the same values and types, null when there is none.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import fc from "fast-check";
import type { DataSource, Repository } from "typeorm";
import { loadConfig } from "../../services/src/config/env";
import { openDatabase } from "../../services/src/database/data-source";
import { IndexerStateEntity } from "../../services/src/indexer/entities/indexer-state.entity";
import { readCheckpoint } from "../../services/src/indexer/indexer.service";
import { createTestDatabase, type TestDatabase } from "../support/app";

const ROOT = join(__dirname, "..", "..");

describe("indexer: readCheckpoint against findOneBy on a real database", function () {
  let dir: string;
  let db: TestDatabase;
  let ds: DataSource;
  let repo: Repository<IndexerStateEntity>;

  before(async function () {
    dir = mkdtempSync(join(tmpdir(), "scf-checkpoint-"));
    db = await createTestDatabase(dir);
    ds = await openDatabase(loadConfig({ NODE_ENV: "test", DATABASE_URL: db.url }, ROOT).database);
    repo = ds.getRepository(IndexerStateEntity);
  });

  after(async function () {
    await ds?.destroy();
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("is null when the row does not exist, like findOneBy", async function () {
    expect(await repo.findOneBy({ id: "nobody" })).to.equal(null);
    expect(await readCheckpoint(repo, "nobody")).to.equal(null);
  });

  it("hydrates the row as findOneBy does: an IndexerStateEntity with numbers for the bigint columns (property)", async function () {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
        async (blockNumber, hash, updatedAt) => {
          const id = `cp-${++n}`;
          await repo.insert({ id, blockNumber, blockHash: "0x" + Buffer.from(hash).toString("hex"), updatedAt });
          const viaOrm = await repo.findOneByOrFail({ id });
          const compiled = await readCheckpoint(repo, id);
          expect(compiled).to.be.instanceOf(IndexerStateEntity);
          expect(compiled).to.deep.equal(viaOrm);
          expect(compiled!.blockNumber).to.be.a("number").and.equal(blockNumber);
          expect(compiled!.updatedAt).to.be.a("number").and.equal(updatedAt);
        },
      ),
      { numRuns: 60 },
    );
  });

  it("reads the row as it is now, after an update", async function () {
    await repo.insert({ id: "moving", blockNumber: 5, blockHash: "0x" + "01".repeat(32), updatedAt: 1 });
    expect((await readCheckpoint(repo, "moving"))!.blockNumber).to.equal(5);
    await repo.update({ id: "moving" }, { blockNumber: 6, blockHash: "0x" + "02".repeat(32) });
    expect(await readCheckpoint(repo, "moving")).to.deep.equal(await repo.findOneByOrFail({ id: "moving" }));
    expect((await readCheckpoint(repo, "moving"))!.blockNumber).to.equal(6);
  });
});
