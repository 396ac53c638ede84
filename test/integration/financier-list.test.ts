/**
 * A financier's own receivables list (GET /receivables, the financier branch and role=financier)
 * against a real chain and database, on a ledger where receivables change financier: requests
 * rejected by one financier and sent to another, approvals, a financier that is also a seller.
 *
 * The expected lists are the meaning the list had when it joined financings: a member is party to a
 * receivable it sells, owes, holds, or whose financing row (whatever that financing's state) names
 * it as financier. They are computed here from the financings table, and compared with every sort,
 * keyset pages, status filters and role=financier. The list now reads the receivable's own copy of
 * that financier (receivables.financier) by ix_receivables_financier: the plan check below shows the
 * branch is a limited range of that index and never reads financings (it read and sorted every
 * financing of the caller before).
 */
import { expect } from "chai";
import { MaxUint256, type Wallet } from "ethers";
import request from "supertest";
import type { DataSource } from "typeorm";
import { IndexerService } from "../../services/src/indexer/indexer.service";
import { FinancingEntity, ReceivableEntity } from "../../services/src/read-model/entities/projections.entity";
import type { Receivable } from "../../shared/api-types";
import { receivableIdHex } from "../../shared/ids";
import { ROLE_BITS } from "../../shared/roles";
import { bearer, signIn } from "../support/auth";
import { startChain, type TestChain } from "../support/chain";
import { cleanupEnv, prepareEnv, startService, type RunningService, type TestEnv } from "../support/app";
import { dataSourceOf } from "../support/index-check";
import { DAY, LedgerDriver, mined } from "../support/ledger-driver";

const SORTS = ["dueDate", "-dueDate", "amount", "-amount", "createdAt", "-createdAt"] as const;
const STATUS_FILTERS: Array<string[] | null> = [null, ["accepted"], ["financed", "paid"], ["accepted", "issued"]];
type Who = "financier" | "financier2" | "supplier" | "buyer";

describe("A financier's receivables list (hardhat node, real database)", function () {
  this.timeout(600_000);
  let chain: TestChain;
  let env: TestEnv;
  let svc: RunningService;
  let ds: DataSource;
  let d: LedgerDriver;
  const wallets = {} as Record<Who, Wallet>;
  const tokens = {} as Record<Who, string>;
  const ids: Record<string, string> = {};
  let rows: ReceivableEntity[];
  let financings: FinancingEntity[];

  before(async function () {
    chain = await startChain();
    env = await prepareEnv(chain, { INDEXER_ENABLED: "false", SENDER_ENABLED: "false" });
    svc = await startService(env);
    ds = dataSourceOf(svc.app);
    d = await LedgerDriver.onboard(env);
    const { supplier, supplier2, buyer, financier } = d.p;
    // A second financier, which also sells.
    const financier2 = await chain.fundedWallet();
    await d.register(financier2.address, ROLE_BITS.financier | ROLE_BITS.supplier, (await d.now()) + 2 * 365 * DAY);
    await mined(env.ledger.token.connect(chain.account(0)).mint(financier2.address, 100_000_000_00n));
    await mined(env.ledger.token.connect(financier2).approve(env.ledger.record.contracts.Financing, MaxUint256));
    Object.assign(wallets, { financier, financier2, supplier, buyer });
    const line1 = await d.openLine(financier, buyer, 50_000_000_00n);
    const line2 = await d.openLine(financier2, buyer, 50_000_000_00n);

    const accepted = async (label: string, seller: Wallet, faceValue: bigint, dueInDays: number) => {
      const id = await d.tokenise(seller, buyer, faceValue, dueInDays);
      await d.accept(buyer, id);
      ids[label] = receivableIdHex(id);
      return id;
    };
    // Rejected by the first financier, then asked of the second (pending there).
    const movedOn = await accepted("movedOn", supplier, 400_000_00n, 40);
    await d.request(supplier, movedOn, line1);
    await d.reject(financier, movedOn);
    await d.request(supplier, movedOn, line2);
    // Rejected by the second, then approved by the first (held by it since).
    const movedBack = await accepted("movedBack", supplier, 400_000_00n, 40);
    await d.request(supplier, movedBack, line2);
    await d.reject(financier2, movedBack);
    await d.request(supplier, movedBack, line1);
    await d.approve(financier, movedBack);
    // Approved by the second, then paid in full (held by the second, paid).
    const paidOff = await accepted("paidOff", supplier2, 250_000_00n, 60);
    await d.request(supplier2, paidOff, line2);
    await d.approve(financier2, paidOff);
    await d.pay(buyer, paidOff, 250_000_00n);
    // Pending with the first (it is neither holder, seller nor debtor), and a rejected one it keeps.
    const pending = await accepted("pending", supplier, 900_000_00n, 20);
    await d.request(supplier, pending, line1);
    const rejected = await accepted("rejected", supplier2, 120_000_00n, 75);
    await d.request(supplier2, rejected, line1);
    await d.reject(financier, rejected);
    // The second financier's own receivables as seller: one financed by the first, one not.
    const own = await accepted("own", financier2, 300_000_00n, 30);
    await d.request(financier2, own, line1);
    await d.approve(financier, own);
    await d.pay(buyer, own, 100_000_00n);
    await accepted("ownPlain", financier2, 300_000_00n, 90);
    ids.ownIssued = receivableIdHex(await d.tokenise(financier2, buyer, 50_000_00n, 10));
    // Nobody finances these.
    await accepted("plain", supplier, 700_000_00n, 50);
    ids.issued = receivableIdHex(await d.tokenise(supplier, buyer, 80_000_00n, 15));
    // Several pending with the first, for pages.
    for (let i = 0; i < 4; i++) {
      const id = await accepted(`more${i}`, supplier2, BigInt(100_000_00 + (i % 2) * 50_000_00), 25 + 10 * i);
      await d.request(supplier2, id, line1);
    }

    await svc.app.get(IndexerService).catchUp();
    for (const who of Object.keys(wallets) as Who[]) tokens[who] = await signIn(svc.url, wallets[who]);
    rows = await ds.getRepository(ReceivableEntity).find();
    financings = await ds.getRepository(FinancingEntity).find();
  });
  after(async function () {
    await svc?.close();
    if (env) await cleanupEnv(env);
    await chain?.stop();
  });

  const addr = (who: Who) => wallets[who].address;
  const financingFinancier = (id: string) => financings.find((f) => f.receivableId === id)?.financier ?? null;
  const list = (who: Who, query: Record<string, string>) => request(svc.url).get("/receivables").set(bearer(tokens[who])).query(query).expect(200);

  async function allPages(who: Who, query: Record<string, string>, limit: number): Promise<string[]> {
    const out: string[] = [];
    let cursor: string | null = null;
    for (let guard = 0; guard < 100; guard++) {
      const res: request.Response = await list(who, { ...query, limit: String(limit), ...(cursor ? { cursor } : {}) });
      expect(res.body.items.length).to.be.at.most(limit);
      out.push(...res.body.items.map((i: Receivable) => i.id));
      cursor = res.body.nextCursor;
      if (!cursor) return out;
    }
    throw new Error("pagination did not end");
  }

  /** The list as it was meant (and computed, by a join with financings) before. */
  function expected(who: Who, sort: (typeof SORTS)[number], status: string[] | null, role: "financier" | null): string[] {
    const me = addr(who);
    const model = rows.filter(
      (r) =>
        (role === "financier" ? financingFinancier(r.id) === me : [r.seller, r.debtor, r.holder, financingFinancier(r.id)].includes(me)) &&
        (!status || status.includes(r.status)),
    );
    const key = (r: ReceivableEntity): bigint => (sort.endsWith("dueDate") ? BigInt(r.dueDate) : sort.endsWith("amount") ? r.outstanding : BigInt(r.createdBlock));
    const sign = sort.startsWith("-") ? -1 : 1;
    model.sort((a, b) => sign * (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    return model.map((r) => r.id);
  }

  it("has the ledger the checks need: financings that changed financier, a financier that sells, one that is party only as financier", function () {
    expect(financingFinancier(ids.movedOn)).to.equal(addr("financier2"));
    expect(financingFinancier(ids.movedBack)).to.equal(addr("financier"));
    const own = rows.find((r) => r.id === ids.own)!;
    expect([own.seller, financingFinancier(own.id)]).to.deep.equal([addr("financier2"), addr("financier")]);
    const onlyFinancier = rows.filter((r) => financingFinancier(r.id) === addr("financier") && ![r.seller, r.debtor, r.holder].includes(addr("financier")));
    expect(onlyFinancier.length).to.be.at.least(5);
    // The copy the list reads agrees with the financings table, row by row.
    for (const r of rows) expect(r.financier, r.id).to.equal(financingFinancier(r.id));
  });

  it("lists exactly what the join with financings listed: every sort, both directions, status filters, role=financier, keyset pages", async function () {
    for (const who of ["financier", "financier2", "supplier"] as const) {
      for (const sort of SORTS) {
        for (const status of STATUS_FILTERS) {
          for (const role of [null, "financier"] as const) {
            const query: Record<string, string> = { sort, ...(status ? { status: status.join(",") } : {}), ...(role ? { role } : {}) };
            const want = expected(who, sort, status, role);
            const label = `${who} ${JSON.stringify(query)}`;
            expect(await allPages(who, query, 200), label).to.deep.equal(want);
            expect(await allPages(who, query, 2), `${label}, pages of 2`).to.deep.equal(want);
          }
        }
      }
    }
    // A rejected financing still makes its financier party; a replaced one no longer does.
    const first = await allPages("financier", { role: "financier" }, 200);
    expect(first).to.include.members([ids.rejected, ids.pending, ids.movedBack, ids.own]);
    expect(first).not.to.include(ids.movedOn);
    const second = await allPages("financier2", {}, 200);
    expect(second).to.include.members([ids.movedOn, ids.paidOff, ids.own, ids.ownPlain, ids.ownIssued]);
    expect(second).not.to.include(ids.movedBack);
    expect(await allPages("buyer", { role: "financier" }, 200)).to.deep.equal([]);
  });

  it("finds a member's counterparties by address (GET /participants?address=) through the financier of a financing too, exactly as the financings table says", async function () {
    // The model: everyone on a receivable the caller sells, owes, holds or whose financing names it.
    const partiesOf = (r: ReceivableEntity) => [r.seller, r.debtor, r.holder, financingFinancier(r.id)].filter((a): a is string => !!a);
    const everyone = [...new Set([...Object.values(wallets).map((w) => w.address), d.p.supplier2.address, ...rows.flatMap(partiesOf)])];
    for (const who of Object.keys(wallets) as Who[]) {
      const mine = new Set([addr(who), ...rows.filter((r) => partiesOf(r).includes(addr(who))).flatMap(partiesOf)]);
      for (const a of everyone) {
        const found = await request(svc.url).get("/participants").set(bearer(tokens[who])).query({ address: a }).expect(200);
        expect((found.body.items as Array<{ address: string }>).map((i) => i.address), `${who} looks up ${a}`).to.deep.equal(mine.has(a) ? [a] : []);
      }
    }
  });

  it("reads the financier branch, and role=financier, as a limited range of ix_receivables_financier, never the caller's financings", async function () {
    // The statements a financier's cursor page really sends.
    const sent: Array<{ sql: string; params: unknown[] }> = [];
    const query = ds.query.bind(ds);
    ds.query = ((sql: string, params?: unknown[]) => {
      sent.push({ sql, params: params ?? [] });
      return query(sql, params);
    }) as typeof ds.query;
    try {
      const first = await list("financier", { sort: "dueDate", status: "accepted", limit: "2" });
      await list("financier", { sort: "dueDate", status: "accepted", limit: "2", cursor: first.body.nextCursor as string });
      const own = await list("financier", { sort: "-dueDate", status: "accepted", role: "financier", limit: "2" });
      await list("financier", { sort: "-dueDate", status: "accepted", role: "financier", limit: "2", cursor: own.body.nextCursor as string });
    } finally {
      ds.query = query;
    }
    const lists = sent.filter((q) => /FROM "receivables" "r"/.test(q.sql));
    expect(lists.length).to.equal(4);
    for (const { sql, params } of lists) {
      if (ds.options.type === "postgres") {
        // PostgreSQL would scan tables this small whole: forbid that, so only a missing index shows.
        const plan = await ds.transaction(async (m) => {
          await m.query("SET LOCAL enable_seqscan = off");
          await m.query("SET LOCAL enable_bitmapscan = off");
          return ((await m.query(`EXPLAIN (FORMAT JSON) ${sql}`, params)) as Array<{ "QUERY PLAN": Array<{ Plan: PlanNode }> }>)[0]["QUERY PLAN"][0].Plan;
        });
        const nodes = flatten(plan, []);
        expect(nodes.filter((n) => n.node["Relation Name"] === "financings").map((n) => n.node["Node Type"]), "nodes reading financings").to.deep.equal([]);
        const branch = nodes.filter((n) => n.node["Index Name"] === "ix_receivables_financier");
        expect(branch.length, "scans of ix_receivables_financier").to.equal(1);
        // Up from the index scan to its Limit: nothing sorts in between (the index gives the order).
        const path = branch[0].path;
        const limitAt = path.map((n) => n["Node Type"]).lastIndexOf("Limit");
        expect(limitAt, "a Limit above the index scan").to.be.at.least(0);
        expect(path.slice(limitAt + 1).map((n) => n["Node Type"]), sql).to.deep.equal([]);
      } else {
        const plan = ((await ds.query(`EXPLAIN QUERY PLAN ${sql}`, params)) as Array<{ detail: string }>).map((r) => r.detail).join("\n");
        expect(plan, sql).to.match(/ix_receivables_financier/);
        expect(plan, sql).not.to.match(/financings/);
      }
    }
  });
});

interface PlanNode {
  "Node Type": string;
  "Relation Name"?: string;
  "Index Name"?: string;
  Plans?: PlanNode[];
}

/** Every node of the plan with the nodes above it (root first, the node itself excluded). */
function flatten(node: PlanNode, above: PlanNode[]): Array<{ node: PlanNode; path: PlanNode[] }> {
  return [{ node, path: above }, ...(node.Plans ?? []).flatMap((c) => flatten(c, [...above, node]))];
}
