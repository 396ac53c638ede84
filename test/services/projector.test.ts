/**
 * ProjectionWriter against a real database (a temporary SQLite file, or PostgreSQL with
 * TEST_DATABASE=postgres): runs of tokenisations become multi-row upserts, yet the tables end up
 * exactly as when every event is applied on its own with project(), including events that update a
 * receivable still pending in the writer and a member registered twice in one range.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { Wallet } from "ethers";
import type { DataSource, EntityManager } from "typeorm";
import { loadConfig } from "../../services/src/config/env";
import { openDatabase } from "../../services/src/database/data-source";
import { LedgerEventEntity } from "../../services/src/read-model/entities/ledger-event.entity";
import { HeldPaymentEntity, MemberEntity, ReceivableEntity } from "../../services/src/read-model/entities/projections.entity";
import { ProjectionWriter, project } from "../../services/src/read-model/projector";
import { createTestDatabase, type TestDatabase } from "../support/app";

const ROOT = join(__dirname, "..", "..");
const ZERO = "0x0000000000000000000000000000000000000000";

describe("indexer: ProjectionWriter batches upserts without changing the result", function () {
  let dir: string;
  let db: TestDatabase;
  let ds: DataSource;

  before(async function () {
    dir = mkdtempSync(join(tmpdir(), "scf-projector-"));
    db = await createTestDatabase(dir);
    const config = loadConfig({ NODE_ENV: "test", DATABASE_URL: db.url }, ROOT);
    ds = await openDatabase(config.database);
  });
  after(async function () {
    await ds?.destroy();
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  let logIndex = 0;
  function event(contract: string, eventName: string, args: Record<string, string>): LedgerEventEntity {
    const e = new LedgerEventEntity();
    Object.assign(e, {
      txHash: "0x" + "aa".repeat(32),
      logIndex: logIndex++,
      blockNumber: 7,
      blockHash: "0x" + "bb".repeat(32),
      txIndex: 0,
      timestamp: 1_900_000_000,
      contract,
      address: ZERO,
      eventName,
      args,
      txFrom: ZERO,
      actor: null,
      receivableId: null,
      lineId: null,
    });
    return e;
  }

  function stream(): LedgerEventEntity[] {
    const seller = Wallet.createRandom().address;
    const debtor = Wallet.createRandom().address;
    const member = Wallet.createRandom().address;
    const registered = (roles: string) =>
      event("ParticipantRegistry", "MemberRegistered", {
        account: member,
        roles,
        kycExpiry: "2000000000",
        jurisdiction: "0x434e",
        entityIdHash: "0x" + "11".repeat(32),
      });
    const out: LedgerEventEntity[] = [registered("1")];
    const ids = Array.from({ length: 250 }, (_, i) => BigInt(Wallet.createRandom().address) * 1000n + BigInt(i));
    for (const id of ids) {
      out.push(event("Receivables", "Transfer", { from: ZERO, to: seller, tokenId: id.toString() }));
      out.push(
        event("Receivables", "ReceivableTokenised", {
          id: id.toString(),
          seller,
          debtor,
          faceValue: "1000",
          dueDate: "1950000000",
          documentHash: "0x" + "22".repeat(32),
          fingerprint: "0x" + id.toString(16).padStart(64, "0"),
        }),
      );
    }
    // Updates of rows still pending in the writer, then more tokenisations, then a re-registration.
    out.push(event("Receivables", "ReceivableAccepted", { id: ids[3].toString(), debtor }));
    out.push(event("Receivables", "ReceivableCancelled", { id: ids[249].toString(), seller }));
    out.push(event("ParticipantRegistry", "MemberSuspended", { account: member, reasonCode: "0x" + "33".repeat(32) }));
    out.push(registered("5"));
    return out;
  }

  async function tables(m: EntityManager) {
    const receivables = await m.find(ReceivableEntity, { order: { id: "ASC" } });
    const members = await m.find(MemberEntity, { order: { address: "ASC" } });
    return { receivables, members };
  }

  it("gives the same tables as applying each event with project()", async function () {
    const events = stream();
    const one = await ds.transaction(async (m) => {
      for (const e of events) await project(e, m);
      const t = await tables(m);
      await m.clear(ReceivableEntity);
      await m.clear(MemberEntity);
      return t;
    });
    const batched = await ds.transaction(async (m) => {
      const w = new ProjectionWriter(m);
      for (const e of events) await w.apply(e);
      await w.flush();
      return tables(m);
    });
    expect(batched.receivables).to.have.length(250);
    expect(batched).to.deep.equal(one);
    const accepted = batched.receivables.filter((r) => r.status === "accepted");
    expect(accepted).to.have.length(1);
    expect(batched.receivables.filter((r) => r.status === "cancelled")).to.have.length(1);
    expect(batched.members.map((x) => [x.roles, x.status])).to.deep.equal([[5, "active"]]);
  });

  it("adds held payments per recipient and zeroes them on a claim", async function () {
    const recipient = Wallet.createRandom().address;
    const other = Wallet.createRandom().address;
    const held = (amount: string, to = recipient) => event("Receivables", "PaymentHeld", { id: "1", recipient: to, amount });
    const rows = await ds.transaction(async (m) => {
      const w = new ProjectionWriter(m);
      for (const e of [held("700"), held("55"), held("9", other)]) await w.apply(e);
      await w.flush();
      const afterHeld = await m.find(HeldPaymentEntity, { order: { recipient: "ASC" } });
      await w.apply(event("Receivables", "PaymentClaimed", { recipient, amount: "755" }));
      await w.flush();
      const afterClaim = await m.findOneByOrFail(HeldPaymentEntity, { recipient });
      const untouched = await m.findOneByOrFail(HeldPaymentEntity, { recipient: other });
      await m.clear(HeldPaymentEntity);
      return { afterHeld, afterClaim, untouched };
    });
    expect(rows.afterHeld.find((r) => r.recipient === recipient)?.amount).to.equal(755n);
    expect(rows.afterClaim.amount).to.equal(0n);
    expect(rows.untouched.amount).to.equal(9n);
  });
});
