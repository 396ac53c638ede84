/**
 * Receivable, credit-line and financing reads against a real chain and database: the ledger is
 * built by the participants' own wallets on a `hardhat node`, indexed, then read over HTTP by every
 * kind of caller. Filters, sorts and keyset pages are checked against a model computed from the
 * projection tables (fast-check: any filter, any sort, any page size gives the unpaginated set).
 */
import { expect } from "chai";
import fc from "fast-check";
import { getDataSourceToken } from "@nestjs/typeorm";
import request from "supertest";
import { DataSource } from "typeorm";
import { IndexerService } from "../../services/src/indexer/indexer.service";
import { FinancingEntity, ReceivableEntity } from "../../services/src/read-model/entities/projections.entity";
import { bearer, signIn } from "../support/auth";
import { startChain, type TestChain } from "../support/chain";
import { cleanupEnv, prepareEnv, startService, type RunningService, type TestEnv } from "../support/app";
import { YUAN, buildLedgerScenario, type CallerName, type LedgerScenario } from "../support/ledger-scenario";
import { ReceivableDto } from "../../services/src/receivables/dto/receivable-read.dto";
import type { Receivable } from "../../shared/api-types";

const SORTS = ["dueDate", "-dueDate", "amount", "-amount", "createdAt", "-createdAt"] as const;
const STATUSES = ["issued", "accepted", "financed", "paid", "cancelled", "split"] as const;

describe("Receivable, credit-line and financing reads (hardhat node, real database)", function () {
  this.timeout(600_000);
  let chain: TestChain;
  let env: TestEnv;
  let svc: RunningService;
  let ds: DataSource;
  let s: LedgerScenario;
  const tokens = {} as Record<CallerName, string>;
  let rows: ReceivableEntity[];
  let financings: FinancingEntity[];

  before(async function () {
    chain = await startChain();
    env = await prepareEnv(chain);
    svc = await startService(env);
    ds = svc.app.get<DataSource>(getDataSourceToken());
    s = await buildLedgerScenario(env);
    await svc.app.get(IndexerService).catchUp();
    for (const name of Object.keys(s.wallets) as CallerName[]) tokens[name] = await signIn(svc.url, s.wallets[name]);
    rows = await ds.getRepository(ReceivableEntity).find();
    financings = await ds.getRepository(FinancingEntity).find();
  });
  after(async function () {
    await svc?.close();
    if (env) await cleanupEnv(env);
    await chain?.stop();
  });

  const get = (who: CallerName, path: string) => request(svc.url).get(path).set(bearer(tokens[who]));
  const addr = (who: CallerName) => s.wallets[who].address;
  const financierOf = (id: string) => financings.find((f) => f.receivableId === id)?.financier ?? null;
  const partyTo = (r: ReceivableEntity, a: string) => [r.seller, r.debtor, r.holder, financierOf(r.id)].includes(a);

  /** Follows nextCursor until the end; returns every page's items in order. */
  async function allPages(who: CallerName, query: Record<string, string>, limit: number): Promise<Receivable[]> {
    const out: Receivable[] = [];
    let cursor: string | null = null;
    for (let guard = 0; guard < 100; guard++) {
      const res: request.Response = await get(who, "/receivables").query({ ...query, limit: String(limit), ...(cursor ? { cursor } : {}) }).expect(200);
      expect(res.body.items.length).to.be.at.most(limit);
      out.push(...res.body.items);
      cursor = res.body.nextCursor;
      if (!cursor) return out;
    }
    throw new Error("pagination did not end");
  }

  describe("GET /receivables", function () {
    it("lists exactly what each member is party to; auditors and compliance officers list everything", async function () {
      expect(rows.length).to.equal(16);
      for (const who of ["supplierA", "supplierB", "supplierC", "buyer", "buyer2", "financier", "outsider"] as const) {
        const items = await allPages(who, {}, 200);
        const expected = rows.filter((r) => partyTo(r, addr(who))).map((r) => r.id);
        expect(items.map((i) => i.id), who).to.have.members(expected);
      }
      expect(await allPages("outsider", {}, 200)).to.deep.equal([]);
      for (const who of ["auditor", "compliance"] as const) {
        expect((await allPages(who, {}, 200)).map((i) => i.id), who).to.have.members(rows.map((r) => r.id));
      }
    });

    it("returns amounts as decimal strings, dates as ISO 8601 and addresses EIP-55", async function () {
      const res = await get("supplierA", `/receivables`).query({ role: "seller", status: "issued" }).expect(200);
      const issued = res.body.items.find((i: Receivable) => i.id === s.ids.issued);
      expect(issued.faceValue).to.equal((300_000n * YUAN).toString());
      expect(issued.outstanding).to.equal((300_000n * YUAN).toString());
      expect(issued.seller).to.equal(addr("supplierA"));
      expect(issued.debtor).to.equal(addr("buyer"));
      expect(issued.dueDate).to.match(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.000Z$/);
      const block = await chain.provider.getBlock(issued.createdBlock);
      expect(issued.createdAt).to.equal(new Date(block!.timestamp * 1000).toISOString());
    });

    it("maps every listed row exactly as the entity mapping does (ReceivableDto.fromRaw against from)", async function () {
      // The list turns raw rows into JSON without building entities; every field must be what the
      // entity's column transformers and ReceivableDto.from give, on either database.
      const createdAt = new Map<string, number>();
      for (const r of rows) {
        const [t] = (await ds.query(`SELECT MIN(timestamp) AS t FROM ledger_events WHERE tx_hash = ${ds.options.type === "postgres" ? "$1" : "?"}`, [r.createdTx])) as Array<{ t: string | number | null }>;
        if (t.t !== null) createdAt.set(r.id, Number(t.t));
      }
      for (const sort of ["dueDate", "-amount", "createdAt"]) {
        const res = await get("auditor", "/receivables").query({ sort, limit: "200" }).expect(200);
        expect(res.body.items).to.have.length(rows.length);
        for (const item of res.body.items as Receivable[]) {
          const entity = rows.find((r) => r.id === item.id)!;
          expect(item, item.id).to.deep.equal(JSON.parse(JSON.stringify(ReceivableDto.from(entity, createdAt.get(item.id) ?? null))));
        }
      }
      // A member's page (the branch union) maps the same.
      const mine = await get("supplierA", "/receivables").query({ limit: "200" }).expect(200);
      expect(mine.body.items.length).to.be.greaterThan(0);
      for (const item of mine.body.items as Receivable[]) {
        expect(item).to.deep.equal(JSON.parse(JSON.stringify(ReceivableDto.from(rows.find((r) => r.id === item.id)!, createdAt.get(item.id) ?? null))));
      }
    });

    it("lists a financier's financed receivables held by someone else (the financier branch), and none to a member who finances nothing", async function () {
      const financed = rows.filter((r) => financierOf(r.id) === addr("financier") && r.holder !== addr("financier") && r.seller !== addr("financier") && r.debtor !== addr("financier"));
      expect(financed.length, "the scenario has a financing whose receivable the financier does not hold").to.be.greaterThan(0);
      const items = await allPages("financier", {}, 200);
      expect(items.map((i) => i.id)).to.include.members(financed.map((r) => r.id));
      const asRole = await allPages("financier", { role: "financier" }, 2);
      expect(asRole.map((i) => i.id)).to.have.members(rows.filter((r) => financierOf(r.id) === addr("financier")).map((r) => r.id));
      expect(await allPages("buyer2", { role: "financier" }, 200)).to.deep.equal([]);
    });

    it("gives the same set, in the same order, paged by keyset as unpaginated, for any filters and sort (fast-check)", async function () {
      const dueDates = [...new Set(rows.map((r) => r.dueDate))].sort((a, b) => a - b);
      const amounts = [...new Set(rows.map((r) => r.outstanding))];
      const query = fc.record(
        {
          who: fc.constantFrom<CallerName>("supplierA", "supplierB", "buyer", "financier", "auditor", "compliance"),
          sort: fc.constantFrom(...SORTS),
          status: fc.subarray([...STATUSES], { minLength: 1 }),
          role: fc.constantFrom("seller", "debtor", "holder", "financier"),
          dueFrom: fc.constantFrom(...dueDates),
          dueTo: fc.constantFrom(...dueDates.map((d) => d + 1)),
          minAmount: fc.constantFrom(...amounts),
          maxAmount: fc.constantFrom(...amounts),
          limit: fc.integer({ min: 1, max: 4 }),
        },
        { requiredKeys: ["who", "sort", "limit"] },
      );
      await fc.assert(
        fc.asyncProperty(query, async (q) => {
          const params: Record<string, string> = { sort: q.sort };
          if (q.status) params.status = q.status.join(",");
          if (q.role) params.role = q.role;
          if (q.dueFrom !== undefined) params.dueFrom = new Date(q.dueFrom * 1000).toISOString();
          if (q.dueTo !== undefined) params.dueTo = new Date(q.dueTo * 1000).toISOString();
          if (q.minAmount !== undefined) params.minAmount = q.minAmount.toString();
          if (q.maxAmount !== undefined) params.maxAmount = q.maxAmount.toString();

          const me = addr(q.who);
          const readsAll = q.who === "auditor" || q.who === "compliance";
          const model = rows.filter(
            (r) =>
              (readsAll || partyTo(r, me)) &&
              (!q.status || q.status.includes(r.status as (typeof STATUSES)[number])) &&
              (!q.role || (q.role === "financier" ? financierOf(r.id) === me : r[q.role] === me)) &&
              (q.dueFrom === undefined || r.dueDate >= q.dueFrom) &&
              (q.dueTo === undefined || r.dueDate < q.dueTo) &&
              (q.minAmount === undefined || r.outstanding >= q.minAmount) &&
              (q.maxAmount === undefined || r.outstanding <= q.maxAmount),
          );
          const key = (r: ReceivableEntity): bigint =>
            q.sort.endsWith("dueDate") ? BigInt(r.dueDate) : q.sort.endsWith("amount") ? r.outstanding : BigInt(r.createdBlock);
          const sign = q.sort.startsWith("-") ? -1 : 1;
          model.sort((a, b) => sign * (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0));

          const whole = await allPages(q.who, params, 200);
          expect(whole.map((i) => i.id)).to.deep.equal(model.map((r) => r.id));
          const paged = await allPages(q.who, params, q.limit);
          expect(paged.map((i) => i.id)).to.deep.equal(whole.map((i) => i.id));
        }),
        { numRuns: 40 },
      );
    });

    it("lets auditors filter by party and refuses the party filter to members", async function () {
      const res = await get("auditor", "/receivables").query({ party: addr("supplierC"), limit: "200" }).expect(200);
      expect(res.body.items.map((i: Receivable) => i.id)).to.have.members([s.ids.g1]);
      const lower = await get("compliance", "/receivables").query({ party: addr("supplierC").toLowerCase() }).expect(200);
      expect(lower.body.items.map((i: Receivable) => i.id)).to.deep.equal([s.ids.g1]);
      const refused = await get("supplierA", "/receivables").query({ party: addr("supplierB") }).expect(403);
      expect(refused.body.message).to.match(/party filter is for auditors/);
    });

    it("refuses a cursor replayed with another sort or filter, and bad query values, with 400", async function () {
      const first = await get("auditor", "/receivables").query({ sort: "amount", limit: "2" }).expect(200);
      const cursor = first.body.nextCursor as string;
      expect(cursor).to.be.a("string");
      const other = await get("auditor", "/receivables").query({ sort: "dueDate", limit: "2", cursor }).expect(400);
      expect(other.body.message).to.match(/different query/);
      await get("auditor", "/receivables").query({ sort: "amount", status: "paid", cursor }).expect(400);
      await get("auditor", "/receivables").query({ cursor: "garbage" }).expect(400);
      await get("auditor", "/receivables").query({ status: "lost" }).expect(400);
      await get("auditor", "/receivables").query({ limit: "201" }).expect(400);
      await get("auditor", "/receivables").query({ minAmount: "1.5" }).expect(400);
      await get("auditor", "/receivables").query({ dueFrom: "tomorrow" }).expect(400);
      await get("auditor", "/receivables").query({ sort: "price" }).expect(400);
      await get("auditor", "/receivables").query({ unknown: "1" }).expect(400);
    });

    it("refuses callers who are neither verified members nor compliance officers", async function () {
      await get("stranger", "/receivables").expect(403);
      await request(svc.url).get("/receivables").expect(401);
    });
  });

  describe("GET /receivables/:id", function () {
    it("returns the receivable with its financing and payments, by hex or decimal id", async function () {
      const res = await get("supplierA", `/receivables/${s.ids.financed}`).expect(200);
      expect(res.body).to.include({
        id: s.ids.financed,
        seller: addr("supplierA"),
        debtor: addr("buyer"),
        holder: addr("financier"),
        status: "financed",
        financed: true,
        faceValue: (500_000n * YUAN).toString(),
        outstanding: (300_000n * YUAN).toString(),
      });
      const block = await chain.provider.getBlock(res.body.createdBlock);
      expect(res.body.createdAt).to.equal(new Date(block!.timestamp * 1000).toISOString());
      expect(res.body).not.to.have.property("financingRow");
      expect(res.body.financing).to.include({
        receivableId: s.ids.financed,
        lineId: s.lines.line1,
        supplier: addr("supplierA"),
        financier: addr("financier"),
        status: "active",
        advance: (450_000n * YUAN).toString(),
        principal: (250_000n * YUAN).toString(),
      });
      expect(res.body.payments).to.have.length(1);
      expect(res.body.payments[0]).to.include({ amount: (200_000n * YUAN).toString(), outstandingAfter: (300_000n * YUAN).toString() });
      expect(res.body.payments[0].time).to.match(/Z$/);
      const decimal = await get("supplierA", `/receivables/${BigInt(s.ids.financed).toString()}`).expect(200);
      expect(decimal.body).to.deep.equal(res.body);
      const upper = await get("supplierA", `/receivables/0x${s.ids.financed.slice(2).toUpperCase()}`).expect(200);
      expect(upper.body.id).to.equal(s.ids.financed);
      const rejected = await get("supplierA", `/receivables/${s.ids.rejected}`).expect(200);
      expect(rejected.body.financing).to.include({ status: "rejected", rejectReasonText: "LIMIT_POLICY" });
      expect((await get("supplierA", `/receivables/${s.ids.issued}`).expect(200)).body.financing).to.equal(null);
    });

    it("lets the seller, debtor, holder and financier read it, and refuses everyone else with 403", async function () {
      for (const who of ["supplierA", "buyer", "financier", "auditor", "compliance"] as const) {
        await get(who, `/receivables/${s.ids.financed}`).expect(200);
      }
      for (const who of ["supplierB", "supplierC", "buyer2", "outsider", "stranger"] as const) {
        const res = await get(who, `/receivables/${s.ids.financed}`).expect(403);
        if (who !== "stranger") expect(res.body.message).to.match(/not party to receivable/);
      }
      // The holder of a transferred receivable reads it; so does its original seller.
      await get("supplierB", `/receivables/${s.ids.moved}`).expect(200);
      await get("supplierA", `/receivables/${s.ids.moved}`).expect(200);
    });

    it("answers 404 for an id that does not exist and 400 for one that is not an id", async function () {
      const missing = "0x" + "ab".repeat(32);
      for (const who of ["outsider", "auditor"] as const) await get(who, `/receivables/${missing}`).expect(404);
      await get("auditor", "/receivables/0x1234").expect(400);
      await get("auditor", "/receivables/not-an-id").expect(400);
      await get("auditor", `/receivables/${(1n << 256n).toString()}`).expect(400);
    });
  });

  describe("GET /receivables/:id/history", function () {
    it("lists its events and its financing's in chain order, each with tx, block hash, time, sender and actor", async function () {
      const res = await get("buyer", `/receivables/${s.ids.financed}/history`).expect(200);
      const events = res.body as Array<Record<string, string | number | null>>;
      expect(events.map((e) => e.event)).to.deep.equal([
        "Transfer",
        "ReceivableTokenised",
        "ReceivableAccepted",
        "FinancingRequested",
        "Transfer",
        "ReceivableAssigned",
        "FinancingApproved",
        "ReceivablePaid",
        "FinancingRepaid",
      ]);
      for (let i = 1; i < events.length; i++) {
        const a = events[i - 1];
        const b = events[i];
        const order = [a.blockNumber, a.txIndex, a.logIndex] as number[];
        const next = [b.blockNumber, b.txIndex, b.logIndex] as number[];
        expect(order[0] < next[0] || (order[0] === next[0] && (order[1] < next[1] || (order[1] === next[1] && order[2] < next[2])))).to.equal(true);
      }
      for (const e of events) {
        const block = await chain.provider.getBlock(e.blockNumber as number);
        expect(e.blockHash).to.equal(block!.hash);
        expect(e.time).to.equal(new Date(block!.timestamp * 1000).toISOString());
        const tx = await chain.provider.getTransaction(e.txHash as string);
        expect(e.txFrom).to.equal(tx!.from);
      }
      const byName = (n: string) => events.find((e) => e.event === n)!;
      expect(byName("ReceivableTokenised").actor).to.equal(addr("supplierA"));
      expect(byName("ReceivableAccepted").actor).to.equal(addr("buyer"));
      expect(byName("ReceivableAccepted").txFrom).to.equal(addr("buyer"));
      expect(byName("FinancingApproved").actor).to.equal(addr("financier"));
      expect(byName("ReceivablePaid").args).to.include({ amount: (200_000n * YUAN).toString() });
    });

    it("includes the split events that created its children, and is refused to non-parties", async function () {
      const res = await get("supplierA", `/receivables/${s.ids.root}/history`).expect(200);
      const splits = (res.body as Array<{ event: string; args: Record<string, string> }>).filter((e) => e.event === "ReceivableSplit");
      expect(splits.map((e) => "0x" + BigInt(e.args.childId).toString(16).padStart(64, "0"))).to.deep.equal([s.ids.c0, s.ids.c1]);
      await get("outsider", `/receivables/${s.ids.root}/history`).expect(403);
      await get("outsider", `/receivables/0x${"cd".repeat(32)}/history`).expect(404);
    });
  });

  describe("GET /receivables/:id/lineage", function () {
    it("returns the three-level split tree from the root, children in split order", async function () {
      for (const from of [s.ids.root, s.ids.c1, s.ids.g1]) {
        const res = await get("auditor", `/receivables/${from}/lineage`).expect(200);
        const root = res.body;
        expect(root).to.include({ id: s.ids.root, parentId: null, status: "split", holder: null, visible: true });
        expect(root.faceValue).to.equal((1_000_000n * YUAN).toString());
        expect(root.children.map((c: { id: string }) => c.id)).to.deep.equal([s.ids.c0, s.ids.c1]);
        const [c0, c1] = root.children;
        expect(c0).to.include({ parentId: s.ids.root, status: "accepted", holder: addr("supplierA"), outstanding: (600_000n * YUAN).toString() });
        expect(c0.children).to.deep.equal([]);
        expect(c1).to.include({ parentId: s.ids.root, status: "split", holder: null });
        expect(c1.children.map((c: { id: string }) => c.id)).to.deep.equal([s.ids.g0, s.ids.g1]);
        expect(c1.children[0]).to.include({ holder: addr("supplierB"), faceValue: (250_000n * YUAN).toString(), parentId: s.ids.c1 });
        expect(c1.children[1]).to.include({ holder: addr("supplierC"), faceValue: (150_000n * YUAN).toString(), parentId: s.ids.c1 });
      }
    });

    it("shows a lower-tier holder the tree's shape but withholds what it is not party to", async function () {
      const res = await get("supplierC", `/receivables/${s.ids.g1}/lineage`).expect(200);
      const root = res.body;
      expect(root).to.include({ id: s.ids.root, visible: false, holder: null, outstanding: null });
      expect(root.faceValue).to.equal((1_000_000n * YUAN).toString());
      const [c0, c1] = root.children;
      expect(c0).to.include({ visible: false, holder: null, outstanding: null });
      expect(c1).to.include({ visible: false });
      const [g0, g1] = c1.children;
      expect(g0).to.include({ visible: false, holder: null });
      expect(g1).to.include({ visible: true, holder: addr("supplierC"), outstanding: (150_000n * YUAN).toString() });
      // The debtor is party to every node of the tree.
      const debtorView = await get("buyer", `/receivables/${s.ids.c0}/lineage`).expect(200);
      expect(debtorView.body.visible).to.equal(true);
      expect(debtorView.body.children[1].children[0].holder).to.equal(addr("supplierB"));
      // The root's own lineage is refused to a party of a child only.
      await get("supplierC", `/receivables/${s.ids.root}/lineage`).expect(403);
    });
  });

  describe("GET /credit-lines and /financings", function () {
    it("shows each line to its financier and to the debtor or supplier it names; auditors see all", async function () {
      const ids = async (who: CallerName) => (await get(who, "/credit-lines").expect(200)).body.items.map((l: { id: number }) => l.id);
      expect(await ids("financier")).to.deep.equal([1, 2]);
      expect(await ids("buyer")).to.deep.equal([1]);
      expect(await ids("buyer2")).to.deep.equal([2]);
      expect(await ids("supplierA")).to.deep.equal([2]);
      expect(await ids("supplierB")).to.deep.equal([]);
      expect(await ids("auditor")).to.deep.equal([1, 2]);
      expect(await ids("compliance")).to.deep.equal([1, 2]);
      const line = (await get("buyer", "/credit-lines/1").expect(200)).body;
      expect(line).to.include({
        id: 1,
        financier: addr("financier"),
        debtor: addr("buyer"),
        supplier: null,
        limit: (5_000_000n * YUAN).toString(),
        utilised: (250_000n * YUAN).toString(),
        available: (4_750_000n * YUAN).toString(),
        open: true,
      });
      await get("supplierB", "/credit-lines/1").expect(403);
      await get("supplierB", "/credit-lines/99").expect(404);
      const page = await get("auditor", "/credit-lines").query({ limit: "1" }).expect(200);
      expect(page.body.items.map((l: { id: number }) => l.id)).to.deep.equal([1]);
      const next = await get("auditor", "/credit-lines").query({ limit: "1", cursor: page.body.nextCursor }).expect(200);
      expect(next.body.items.map((l: { id: number }) => l.id)).to.deep.equal([2]);
      expect(next.body.nextCursor).to.equal(null);
      expect((await get("auditor", "/credit-lines").query({ open: "false" }).expect(200)).body.items).to.deep.equal([]);
    });

    it("shows each financing to its supplier, financier and debtor, filtered by status and paged", async function () {
      const ids = async (who: CallerName, q: Record<string, string> = {}) =>
        (await get(who, "/financings").query(q).expect(200)).body.items.map((f: { receivableId: string }) => f.receivableId);
      const all = [s.ids.financed, s.ids.rejected, s.ids.pending].sort();
      expect(await ids("supplierA")).to.deep.equal(all);
      expect(await ids("financier")).to.deep.equal(all);
      expect(await ids("buyer")).to.deep.equal([s.ids.financed, s.ids.rejected].sort());
      expect(await ids("buyer2")).to.deep.equal([s.ids.pending]);
      expect(await ids("outsider")).to.deep.equal([]);
      expect(await ids("auditor")).to.deep.equal(all);
      expect(await ids("auditor", { status: "active,requested" })).to.deep.equal([s.ids.financed, s.ids.pending].sort());
      expect(await ids("auditor", { status: "rejected" })).to.deep.equal([s.ids.rejected]);
      expect(await ids("auditor", { lineId: "2" })).to.deep.equal([s.ids.pending]);
      const paged: string[] = [];
      let cursor: string | null = null;
      do {
        const res: request.Response = await get("financier", "/financings").query({ limit: "1", ...(cursor ? { cursor } : {}) }).expect(200);
        paged.push(...res.body.items.map((f: { receivableId: string }) => f.receivableId));
        cursor = res.body.nextCursor;
      } while (cursor);
      expect(paged).to.deep.equal(all);
      await get("auditor", "/financings").query({ status: "late" }).expect(400);
      const one = await get("buyer2", `/financings/${s.ids.pending}`).expect(200);
      expect(one.body).to.include({ status: "requested", supplier: addr("supplierA"), lineId: 2, principal: "0", advance: null });
      await get("buyer", `/financings/${s.ids.pending}`).expect(403);
      await get("buyer", `/financings/${s.ids.issued}`).expect(404);
    });
  });
});
