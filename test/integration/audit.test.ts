/**
 * Audit against a real chain and database: the event feed (scoping, filters, keyset pages), the
 * streamed CSV/JSON export, and the verification that refolds the chain's logs and reports every
 * difference — none on a clean database, exactly the tampered rows after direct edits.
 */
import { expect } from "chai";
import fc from "fast-check";
import { parse as parseCsv } from "csv-parse/sync";
import { Wallet, id as keccakId } from "ethers";
import { getDataSourceToken } from "@nestjs/typeorm";
import request from "supertest";
import { DataSource } from "typeorm";
import { AuditService, EXPORT_COLUMNS } from "../../services/src/audit/audit.service";
import { DbWriter } from "../../services/src/database/db-writer";
import { IndexerService } from "../../services/src/indexer/indexer.service";
import { LedgerEventEntity, LedgerEventPartyEntity } from "../../services/src/read-model/entities/ledger-event.entity";
import { MemberEntity, ReceivableEntity } from "../../services/src/read-model/entities/projections.entity";
import { bearer, signIn } from "../support/auth";
import { startChain, type TestChain } from "../support/chain";
import { cleanupEnv, prepareEnv, startService, type RunningService, type TestEnv } from "../support/app";
import { YUAN, buildLedgerScenario, type CallerName, type LedgerScenario } from "../support/ledger-scenario";
import { attestInvoices } from "../support/acts";
import { LedgerEventDto } from "../../services/src/audit/dto/ledger-event.dto";
import type { LedgerEvent } from "../../shared/api-types";

const key = (e: { txHash: string; logIndex: number }) => `${e.txHash}:${e.logIndex}`;

describe("Audit: event feed, export and verification (hardhat node, real database)", function () {
  this.timeout(600_000);
  let chain: TestChain;
  let env: TestEnv;
  let svc: RunningService;
  let ds: DataSource;
  let s: LedgerScenario;
  const tokens = {} as Record<CallerName, string>;
  let events: LedgerEventEntity[];
  let parties: LedgerEventPartyEntity[];

  before(async function () {
    chain = await startChain();
    env = await prepareEnv(chain);
    svc = await startService(env);
    ds = svc.app.get<DataSource>(getDataSourceToken());
    s = await buildLedgerScenario(env);
    await svc.app.get(IndexerService).catchUp();
    for (const name of Object.keys(s.wallets) as CallerName[]) tokens[name] = await signIn(svc.url, s.wallets[name]);
    events = await ds
      .getRepository(LedgerEventEntity)
      .createQueryBuilder("e")
      .orderBy("e.block_number")
      .addOrderBy("e.tx_index")
      .addOrderBy("e.log_index")
      .getMany();
    parties = await ds.getRepository(LedgerEventPartyEntity).find();
  });
  after(async function () {
    await svc?.close();
    if (env) await cleanupEnv(env);
    await chain?.stop();
  });

  const get = (who: CallerName, path: string) => request(svc.url).get(path).set(bearer(tokens[who]));
  const addr = (who: CallerName) => s.wallets[who].address;
  const concerns = (e: LedgerEventEntity, a: string) => parties.some((p) => p.txHash === e.txHash && p.logIndex === e.logIndex && p.address === a);

  async function feed(who: CallerName, query: Record<string, string>, limit: number): Promise<LedgerEvent[]> {
    const out: LedgerEvent[] = [];
    let cursor: string | null = null;
    for (let guard = 0; guard < 500; guard++) {
      const res: request.Response = await get(who, "/audit/events").query({ ...query, limit: String(limit), ...(cursor ? { cursor } : {}) }).expect(200);
      out.push(...res.body.items);
      cursor = res.body.nextCursor;
      if (!cursor) return out;
    }
    throw new Error("pagination did not end");
  }

  describe("GET /audit/events", function () {
    it("gives auditors and compliance officers every event in chain order, the same paged as whole", async function () {
      expect(events.length).to.be.greaterThan(60);
      const whole = await feed("auditor", {}, 500);
      expect(whole.map(key)).to.deep.equal(events.map(key));
      expect((await feed("compliance", {}, 13)).map(key)).to.deep.equal(events.map(key));
      const first = whole[0];
      const block = await chain.provider.getBlock(first.blockNumber);
      expect(first.blockHash).to.equal(block!.hash);
      expect(first.time).to.equal(new Date(block!.timestamp * 1000).toISOString());
    });

    it("maps every feed row exactly as the entity mapping does (LedgerEventDto.fromRaw against from)", async function () {
      // The feed and the histories turn raw rows into JSON without building entities; every field
      // must be what the entity's column transformers and LedgerEventDto.from give, on either database.
      const whole = await feed("auditor", {}, 500);
      expect(whole).to.deep.equal(JSON.parse(JSON.stringify(events.map(LedgerEventDto.from))));
      const history = await get("auditor", `/receivables/${s.ids.g1}/history`).expect(200);
      expect(history.body.length).to.be.greaterThan(0);
      for (const e of history.body as LedgerEvent[]) {
        expect(e).to.deep.equal(JSON.parse(JSON.stringify(LedgerEventDto.from(events.find((x) => key(x) === key(e))!))));
      }
    });

    it("gives a member only the events that name it, and refuses it another member's", async function () {
      for (const who of ["supplierC", "buyer2", "financier", "outsider"] as const) {
        const mine = await feed(who, {}, 50);
        expect(mine.map(key), who).to.deep.equal(events.filter((e) => concerns(e, addr(who))).map(key));
      }
      // A member party to nothing else sees only its own registration.
      expect((await feed("outsider", {}, 50)).map((e) => e.event)).to.deep.equal(["MemberRegistered"]);
      const own = await feed("supplierC", { member: addr("supplierC").toLowerCase() }, 50);
      expect(own.length).to.be.greaterThan(0);
      const refused = await get("supplierC", "/audit/events").query({ member: addr("supplierB") }).expect(403);
      expect(refused.body.message).to.match(/only auditors and compliance officers/);
      await get("stranger", "/audit/events").expect(403);
    });

    it("filters by receivable, member, event type, time and block, paged the same as whole (fast-check)", async function () {
      const blocks = [...new Set(events.map((e) => e.blockNumber))];
      const times = [...new Set(events.map((e) => e.timestamp))];
      const arb = fc.record(
        {
          who: fc.constantFrom<CallerName>("auditor", "supplierA", "buyer"),
          receivableId: fc.constantFrom(s.ids.financed, s.ids.root, s.ids.g1, s.ids.pending),
          member: fc.constantFrom<CallerName>("supplierB", "financier", "buyer"),
          type: fc.subarray(["Transfer", "ReceivableTokenised", "ReceivableAccepted", "FinancingRequested", "ReceivableSplit", "MemberRegistered"], {
            minLength: 1,
          }),
          fromBlock: fc.constantFrom(...blocks),
          toBlock: fc.constantFrom(...blocks),
          from: fc.constantFrom(...times),
          to: fc.constantFrom(...times.map((t) => t + 1)),
          decimal: fc.boolean(),
          limit: fc.integer({ min: 1, max: 9 }),
        },
        { requiredKeys: ["who", "limit"] },
      );
      await fc.assert(
        fc.asyncProperty(arb, async (q) => {
          const me = addr(q.who);
          // Members may filter only on themselves: the auditor's member filter is any member, a member's its own.
          const member = q.member === undefined ? undefined : q.who === "auditor" ? addr(q.member) : me;
          const params: Record<string, string> = {};
          if (q.receivableId) params.receivableId = q.decimal ? BigInt(q.receivableId).toString() : q.receivableId;
          if (member) params.member = member;
          if (q.type) params.type = q.type.join(",");
          if (q.fromBlock !== undefined) params.fromBlock = String(q.fromBlock);
          if (q.toBlock !== undefined) params.toBlock = String(q.toBlock);
          if (q.from !== undefined) params.from = new Date(q.from * 1000).toISOString();
          if (q.to !== undefined) params.to = new Date(q.to * 1000).toISOString();
          const model = events.filter(
            (e) =>
              (q.who === "auditor" || concerns(e, me)) &&
              (!q.receivableId || e.receivableId === q.receivableId) &&
              (!member || concerns(e, member)) &&
              (!q.type || q.type.includes(e.eventName)) &&
              (q.fromBlock === undefined || e.blockNumber >= q.fromBlock) &&
              (q.toBlock === undefined || e.blockNumber <= q.toBlock) &&
              (q.from === undefined || e.timestamp >= q.from) &&
              (q.to === undefined || e.timestamp < q.to),
          );
          const whole = await feed(q.who, params, 500);
          expect(whole.map(key)).to.deep.equal(model.map(key));
          expect((await feed(q.who, params, q.limit)).map(key)).to.deep.equal(whole.map(key));
        }),
        { numRuns: 30 },
      );
    });

    it("finds a transaction's events by its hash (either case), within the caller's read scope, and refuses a malformed hash", async function () {
      // A transaction with several events (a split burns, mints and logs), and one naming only some members.
      const counts = new Map<string, number>();
      for (const e of events) counts.set(e.txHash, (counts.get(e.txHash) ?? 0) + 1);
      const [busy] = [...counts.entries()].sort((a, b) => b[1] - a[1])[0];
      const ofTx = (who: CallerName, hash: string) => events.filter((e) => e.txHash === hash && (who === "auditor" || who === "compliance" || concerns(e, addr(who))));
      expect(ofTx("auditor", busy).length).to.be.greaterThan(1);
      for (const hash of [busy, busy.toUpperCase().replace(/^0X/, "0x")]) {
        expect((await feed("auditor", { txHash: hash }, 500)).map(key), hash).to.deep.equal(ofTx("auditor", busy).map(key));
        expect((await feed("compliance", { txHash: hash }, 1)).map(key)).to.deep.equal(ofTx("auditor", busy).map(key));
      }
      // Members: only the transaction's events that name them; another member's transaction is empty, not refused.
      for (const who of ["supplierA", "buyer", "outsider"] as const) {
        expect((await feed(who, { txHash: busy }, 500)).map(key), who).to.deep.equal(ofTx(who, busy).map(key));
      }
      const outsiders = events.find((e) => e.eventName === "MemberRegistered" && concerns(e, addr("outsider")))!;
      expect(ofTx("supplierA", outsiders.txHash), "the outsider's registration names no one else").to.deep.equal([]);
      expect(await feed("supplierA", { txHash: outsiders.txHash }, 500)).to.deep.equal([]);
      expect((await feed("auditor", { txHash: "0x" + "0".repeat(64) }, 500))).to.deep.equal([]);
      // Combined with the other filters, and a cursor of a txHash query does not serve another.
      expect((await feed("auditor", { txHash: busy, type: ofTx("auditor", busy)[0].eventName }, 500)).map(key)).to.deep.equal(
        ofTx("auditor", busy).filter((e) => e.eventName === ofTx("auditor", busy)[0].eventName).map(key),
      );
      const page = await get("auditor", "/audit/events").query({ txHash: busy, limit: "1" }).expect(200);
      expect(page.body.nextCursor).to.be.a("string");
      await get("auditor", "/audit/events").query({ limit: "1", cursor: page.body.nextCursor }).expect(400);
      for (const bad of ["0x12", busy.slice(2), `${busy}00`, "0x" + "g".repeat(64)]) {
        const res = await get("auditor", "/audit/events").query({ txHash: bad }).expect(400);
        expect(JSON.stringify(res.body), bad).to.match(/txHash must be 0x followed by 64 hex digits/);
      }
      await get("stranger", "/audit/events").query({ txHash: busy }).expect(403);
    });

    it("refuses malformed filters and foreign cursors with 400", async function () {
      await get("auditor", "/audit/events").query({ receivableId: "0x12" }).expect(400);
      await get("auditor", "/audit/events").query({ member: "0xnothex" }).expect(400);
      await get("auditor", "/audit/events").query({ type: "drop table" }).expect(400);
      await get("auditor", "/audit/events").query({ from: "yesterday" }).expect(400);
      await get("auditor", "/audit/events").query({ limit: "501" }).expect(400);
      const page = await get("auditor", "/audit/events").query({ limit: "2" }).expect(200);
      await get("auditor", "/audit/events").query({ limit: "2", type: "Transfer", cursor: page.body.nextCursor }).expect(400);
      await get("buyer", "/audit/events").query({ limit: "2", cursor: page.body.nextCursor }).expect(400);
    });
  });

  describe("GET /audit/export", function () {
    it("streams every event as CSV with the documented columns, in pages, row for row as the feed", async function () {
      svc.app.get(AuditService).exportPageSize = 7;
      try {
        const res = await get("auditor", "/audit/export").query({ format: "csv" }).buffer(true).expect(200);
        expect(res.headers["content-type"]).to.match(/^text\/csv/);
        expect(res.headers["content-disposition"]).to.match(/^attachment; filename="ledger-events-.*\.csv"$/);
        expect(Number(res.headers["x-ledger-checkpoint"])).to.be.at.least(events[events.length - 1].blockNumber);
        const table = parseCsv(res.text) as string[][];
        expect(table[0]).to.deep.equal([...EXPORT_COLUMNS]);
        const records = parseCsv(res.text, { columns: true }) as Array<Record<string, string>>;
        expect(records).to.have.length(events.length);
        const feedItems = await feed("auditor", {}, 500);
        records.forEach((r, i) => {
          const e = feedItems[i];
          expect(r).to.deep.equal({
            txHash: e.txHash,
            logIndex: String(e.logIndex),
            blockNumber: String(e.blockNumber),
            blockHash: e.blockHash,
            time: e.time,
            signer: e.txFrom,
            actor: e.actor ?? "",
            contract: e.contract,
            event: e.event,
            receivableId: e.receivableId ?? "",
            args: JSON.stringify(e.args),
          });
          expect(JSON.parse(r.args)).to.deep.equal(e.args);
        });
      } finally {
        svc.app.get(AuditService).exportPageSize = 1_000;
      }
    });

    it("streams JSON with the same rows and applies the feed's filters", async function () {
      svc.app.get(AuditService).exportPageSize = 5;
      try {
        const res = await get("compliance", "/audit/export").query({ format: "json" }).expect(200);
        expect(res.headers["content-type"]).to.match(/^application\/json/);
        expect(res.body).to.have.length(events.length);
        expect(res.body.map(key)).to.deep.equal(events.map(key));
        expect(Object.keys(res.body[0])).to.deep.equal([...EXPORT_COLUMNS]);
        expect(res.body[0].args).to.deep.equal(events[0].args);

        const filter = { type: "ReceivableSplit,FinancingApproved", receivableId: s.ids.c1 };
        const filtered = await get("auditor", "/audit/export").query({ ...filter, format: "json" }).expect(200);
        const viaFeed = await feed("auditor", filter, 500);
        expect(filtered.body.map(key)).to.deep.equal(viaFeed.map(key));
        expect(filtered.body).to.have.length(1);
        const none = await get("auditor", "/audit/export").query({ format: "json", type: "NoSuchEvent" }).expect(200);
        expect(none.body).to.deep.equal([]);
        const csvNone = await get("auditor", "/audit/export").query({ type: "NoSuchEvent" }).buffer(true).expect(200);
        expect(parseCsv(csvNone.text)).to.deep.equal([[...EXPORT_COLUMNS]]);
      } finally {
        svc.app.get(AuditService).exportPageSize = 1_000;
      }
    });

    it("is refused to members and strangers", async function () {
      for (const who of ["supplierA", "buyer", "financier", "stranger"] as const) {
        await get(who, "/audit/export").expect(403);
      }
      await get("auditor", "/audit/export").query({ format: "xml" }).expect(400);
      await get("auditor", "/audit/export").query({ cursor: "x" }).expect(400);
    });
  });

  describe("GET /audit/verify", function () {
    it("is refused to members and strangers", async function () {
      for (const who of ["supplierA", "financier", "stranger"] as const) await get(who, "/audit/verify").expect(403);
    });

    it("finds no difference on a clean database, against the logs and against the contracts", async function () {
      for (const contracts of ["false", "true"]) {
        const res = await get("auditor", "/audit/verify").query({ contracts }).expect(200);
        const report = res.body;
        expect(report.differences).to.deep.equal([]);
        expect(report.ok).to.equal(true);
        expect(report.contractsChecked).to.equal(contracts === "true");
        expect(report.checkpointBlock).to.equal((await svc.app.get(IndexerService).checkpoint()).blockNumber);
        expect(report.logs).to.equal(events.length);
        expect(report.counts.ledger_events).to.deep.equal({ expected: events.length, actual: events.length });
        expect(report.counts.receivables).to.deep.equal({ expected: 16, actual: 16 });
        expect(report.counts.members.expected).to.equal(8);
        for (const [table, c] of Object.entries(report.counts as Record<string, { expected: number; actual: number }>)) {
          expect(c.actual, table).to.equal(c.expected);
        }
        expect(Date.parse(report.checkedAt)).to.be.closeTo(Date.now(), 60_000);
      }
    });

    it("reports no false difference while the indexer keeps writing during the verification", async function () {
      const supplier = s.wallets.supplierA;
      const debtor = s.wallets.buyer.address;
      let done = false;
      let sent = 0;
      const activity = (async () => {
        while (!done) {
          const now = (await chain.provider.getBlock("latest"))!.timestamp;
          const inv = {
            debtor,
            faceValue: 1_000n * YUAN,
            dueDate: now + 40 * 86_400,
            documentHash: keccakId(`concurrent document ${sent} ${Math.random()}`),
            fingerprint: keccakId(`concurrent invoice ${sent} ${Math.random()}`),
          };
          const ledger = { chainId: chain.chainId, receivables: await env.ledger.receivables.getAddress() };
          const attestation = await attestInvoices(env.keys.compliance, ledger, supplier.address, [inv], false);
          const tx = await env.ledger.receivables.connect(supplier).tokenise(inv, attestation);
          await tx.wait();
          sent += 1;
        }
      })();
      try {
        // Let the indexer (polling every 50 ms) start appending, then verify twice in the middle of it.
        while (sent < 3) await new Promise((r) => setTimeout(r, 20));
        for (let i = 0; i < 2; i++) {
          const report = (await get("auditor", "/audit/verify").expect(200)).body;
          expect(report.differences, `run ${i}`).to.deep.equal([]);
          expect(report.counts.receivables.actual).to.equal(report.counts.receivables.expected);
        }
      } finally {
        done = true;
        await activity;
      }
      expect(sent).to.be.greaterThan(3);
      await svc.app.get(IndexerService).catchUp();
      const after = (await get("auditor", "/audit/verify").expect(200)).body;
      expect(after.ok).to.equal(true);
      expect(after.counts.receivables.expected).to.equal(16 + sent);
      events = await ds
        .getRepository(LedgerEventEntity)
        .createQueryBuilder("e")
        .orderBy("e.block_number")
        .addOrderBy("e.tx_index")
        .addOrderBy("e.log_index")
        .getMany();
    });

    it("reports exactly the rows tampered with directly in the database", async function () {
      const db = svc.app.get(DbWriter);
      const victim = events.find((e) => e.eventName === "ReceivableAccepted" && e.receivableId === s.ids.bAccepted)!;
      const fake = Wallet.createRandom().address;
      await db.write(async (m) => {
        await m.update(ReceivableEntity, { id: s.ids.financed }, { outstanding: 1n });
        await m.delete(LedgerEventEntity, { txHash: victim.txHash, logIndex: victim.logIndex });
        await m.insert(MemberEntity, {
          address: fake,
          roles: 8,
          status: "active",
          kycExpiry: Math.floor(Date.now() / 1000) + 86_400,
          jurisdiction: "CN",
          entityIdHash: keccakId("forged"),
          suspensionReason: null,
          registeredBlock: 1,
          updatedBlock: 1,
        });
      });
      const outstanding = { table: "receivables", key: s.ids.financed, field: "outstanding", expected: (300_000n * YUAN).toString(), actual: "1" };
      const deleted = { table: "ledger_events", key: key(victim), field: "(row)", expected: "present", actual: "absent", source: "logs" };
      const forged = { table: "members", key: fake, field: "(row)", expected: "absent", actual: "present" };

      const logs = (await get("compliance", "/audit/verify").expect(200)).body;
      expect(logs.ok).to.equal(false);
      expect(logs.differences).to.have.deep.members([
        { ...outstanding, source: "logs" },
        deleted,
        { ...forged, source: "logs" },
      ]);
      expect(logs.differences).to.have.length(3);
      expect(logs.counts.ledger_events).to.deep.equal({ expected: events.length, actual: events.length - 1 });
      expect(logs.counts.members).to.deep.equal({ expected: 8, actual: 9 });

      const both = (await get("auditor", "/audit/verify").query({ contracts: "true" }).expect(200)).body;
      expect(both.differences).to.have.deep.members([
        { ...outstanding, source: "logs" },
        deleted,
        { ...forged, source: "logs" },
        { ...outstanding, source: "contracts" },
        { ...forged, source: "contracts" },
      ]);
      expect(both.differences).to.have.length(5);
    });
  });
});
