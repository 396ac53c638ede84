/**
 * The debtor disputes an invoice, end to end: a `hardhat node` over JSON-RPC, a fresh deployment and
 * database (SQLite, or PostgreSQL with TEST_DATABASE=postgres) and the real service. The dispute is a
 * signed DisputeInvoice statement kept off-chain: each refusal is played as the attacker (another
 * buyer, the seller, a forged or replayed signature, an accepted or cancelled receivable, a second
 * dispute) and checked to record nothing; the recorded dispute shows on the receivable to its parties
 * and auditors, in `?disputed=true` lists, and verifies with a second EIP-712 library.
 */
import { expect } from "chai";
import { SignTypedDataVersion, recoverTypedSignature, signTypedData as sigUtilSign } from "@metamask/eth-sig-util";
import { TypedDataEncoder, Wallet } from "ethers";
import type { DataSource } from "typeorm";
import type { IndexerService } from "../../services/src/indexer/indexer.service";
import { ReceivableDisputeEntity } from "../../services/src/receivables/entities/receivable-dispute.entity";
import { signTypedData, type ActTypedData } from "../../shared/client";
import { ROLE_BITS } from "../../shared/roles";
import type { TestEnv } from "../support/app";
import { ReceivablesHttp, type Body, type Key, type Who } from "../support/receivables-http";

type Name = "supplier" | "buyer" | "buyer2" | "auditor" | "financier";
const ROLES: Record<Name, number> = {
  supplier: ROLE_BITS.supplier,
  buyer: ROLE_BITS.buyer,
  buyer2: ROLE_BITS.buyer,
  auditor: ROLE_BITS.auditor,
  financier: ROLE_BITS.financier,
};

describe("Disputes of invoices over HTTP (signed DisputeInvoice statements, hardhat node, real database)", function () {
  this.timeout(300_000);
  let h: ReceivablesHttp;
  let env: TestEnv;
  let ds: DataSource;
  let indexer: IndexerService;
  const w = {} as Record<Name, Key>;
  const who = {} as Record<Name, Who>;

  before(async function () {
    h = await ReceivablesHttp.start("DSP");
    ({ env, ds, indexer } = h);
    const year = (await h.chainNow()) + 365 * 86_400;
    for (const n of Object.keys(ROLES) as Name[]) {
      w[n] = Wallet.createRandom();
      await h.register(w[n], ROLES[n], year);
    }
    await indexer.catchUp();
    for (const n of Object.keys(ROLES) as Name[]) who[n] = await h.signIn(w[n]);
  });
  after(async function () {
    await h?.stop();
  });

  const post = (by: Who, path: string, body: Body = {}) => h.post(by, path, body);
  const get = (by: Who, path: string) => h.get(by, path);

  /** Asks for the typed data (200), signs it with `key` (the poster's by default) and posts the signed body. */
  async function signed(by: Who, path: string, body: Body, key: Key = by.key) {
    const { first, td, signed: sig, res } = await h.signedAct(by, path, body, { key });
    return { first, td, sig, res };
  }

  /** A fresh issued receivable of the supplier owed by `debtor`, indexed; accepted when asked. */
  async function receivable(debtor: Name = "buyer", accept = false): Promise<string> {
    const { id } = await h.receivable(who.supplier, who[debtor], { accept });
    await indexer.catchUp();
    return id;
  }

  const disputes = () => ds.getRepository(ReceivableDisputeEntity).count();

  it("the debtor disputes an issued invoice: typed data with EIP712Domain, signed → 201 the dispute, shown on the receivable to parties and auditors", async function () {
    const id = await receivable();
    const body = { reasonCode: "not_delivered", text: "  Goods never arrived: cafe\u0301 order  " };
    const { first, td, res } = await signed(who.buyer, `/receivables/${id}/dispute`, body);
    expect(first.body.kind).to.equal("dispute");
    expect(td.primaryType).to.equal("DisputeInvoice");
    expect(td.types.EIP712Domain, "types include EIP712Domain").to.be.an("array");
    expect(td.domain.verifyingContract).to.equal(env.ledger.record.contracts.Receivables);
    // A client building the statement itself finds the same type and domain in GET /eip712.
    const eip = (await get(who.buyer, "/eip712").expect(200)).body;
    expect(eip.receivables.statements.DisputeInvoice.DisputeInvoice).to.deep.equal(td.types.DisputeInvoice);
    expect(eip.receivables.domain).to.deep.equal(td.domain);
    // The text is NFC-normalised and trimmed before it is signed.
    expect(td.message).to.include({ debtor: w.buyer.address, receivableId: BigInt(id).toString(), reasonCode: "not_delivered", text: "Goods never arrived: caf\u00e9 order" });
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    expect(res.body).to.include({ receivableId: id, debtor: w.buyer.address, reasonCode: "not_delivered", open: true, closedBy: null });
    expect(res.body.digest).to.equal(first.body.digest);

    for (const reader of [who.buyer, who.supplier, who.auditor]) {
      const r = await get(reader, `/receivables/${id}`).expect(200);
      expect(r.body.dispute, `as ${reader.key.address}`).to.include({ reasonCode: "not_delivered", text: "Goods never arrived: caf\u00e9 order", open: true });
      // An auditor verifies who said it with a second EIP-712 implementation, from what the API shows.
      const recovered = recoverTypedSignature({ data: td as never, signature: r.body.dispute.signature, version: SignTypedDataVersion.V4 });
      expect(recovered.toLowerCase()).to.equal(w.buyer.address.toLowerCase());
    }
    await get(who.buyer2, `/receivables/${id}`).expect(403);

    // The same signed post again answers the recorded dispute and records nothing more.
    const before = await disputes();
    const again = await post(who.buyer, `/receivables/${id}/dispute`, { ...body, ...pick(res.body, ["nonce", "deadline", "signature"]) });
    expect(again.status, JSON.stringify(again.body)).to.equal(201);
    expect(again.body.id).to.equal(res.body.id);
    expect(await disputes()).to.equal(before);
  });

  it("typed data signed unchanged by @metamask/eth-sig-util is accepted", async function () {
    const id = await receivable();
    const first = await post(who.buyer, `/receivables/${id}/dispute`, { reasonCode: "amount_wrong" }).expect(200);
    const td = first.body.typedData;
    const signature = sigUtilSign({ privateKey: Buffer.from((w.buyer as Wallet).privateKey.slice(2), "hex"), data: td, version: SignTypedDataVersion.V4 });
    const res = await post(who.buyer, `/receivables/${id}/dispute`, { reasonCode: "amount_wrong", nonce: td.message.nonce, deadline: td.message.deadline, signature });
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    expect(res.body).to.include({ reasonCode: "amount_wrong", text: "" });
  });

  it("refuses another buyer and the seller (403), before and after signing, recording nothing", async function () {
    const id = await receivable();
    const before = await disputes();
    const other = await post(who.buyer2, `/receivables/${id}/dispute`, { reasonCode: "not_ordered" });
    expect(other.status).to.equal(403);
    expect(other.body.message).to.match(/Only the debtor of receivable .* can dispute it/);
    // The seller holds no buyer role: refused by role.
    expect((await post(who.supplier, `/receivables/${id}/dispute`, { reasonCode: "other" })).status).to.equal(403);
    // Another buyer signs the statement itself: still not the debtor.
    const first = await post(who.buyer, `/receivables/${id}/dispute`, { reasonCode: "not_ordered" }).expect(200);
    const td = first.body.typedData as ActTypedData;
    const forged = await post(who.buyer2, `/receivables/${id}/dispute`, {
      reasonCode: "not_ordered",
      nonce: td.message.nonce,
      deadline: td.message.deadline,
      signature: await signTypedData(w.buyer2, td),
    });
    expect(forged.status).to.equal(422);
    expect(await disputes()).to.equal(before);
  });

  it("refuses a signature by another key, a changed reason, a statement for another receivable (422 naming the digest) and a passed deadline", async function () {
    const id = await receivable();
    const id2 = await receivable();
    const before = await disputes();
    const { td, sig } = await (async () => {
      const first = await post(who.buyer, `/receivables/${id}/dispute`, { reasonCode: "duplicate" }).expect(200);
      const t = first.body.typedData as ActTypedData;
      return { td: t, sig: { reasonCode: "duplicate", nonce: t.message.nonce, deadline: t.message.deadline, signature: await signTypedData(w.buyer, t) } };
    })();
    // Signed by a key that is not the signed-in debtor's.
    const wrongKey = await post(who.buyer, `/receivables/${id}/dispute`, { ...sig, signature: await signTypedData(Wallet.createRandom(), td) });
    expect(wrongKey.status).to.equal(422);
    expect(wrongKey.body.message).to.include(TypedDataEncoder.hash(td.domain as never, stripDomain(td.types), td.message));
    // The same signature under a different reason.
    const changed = await post(who.buyer, `/receivables/${id}/dispute`, { ...sig, reasonCode: "other" });
    expect(changed.status).to.equal(422);
    // Replayed onto another receivable of the same debtor: the receivable id is signed.
    const replayed = await post(who.buyer, `/receivables/${id2}/dispute`, sig);
    expect(replayed.status).to.equal(422);
    // Expired.
    const past = String(Math.floor(Date.now() / 1000) - 10);
    const expiredTd = { ...td, message: { ...td.message, deadline: past } };
    const expired = await post(who.buyer, `/receivables/${id}/dispute`, { ...sig, deadline: past, signature: await signTypedData(w.buyer, expiredTd) });
    expect(expired.status).to.equal(422);
    expect(expired.body.message).to.match(/deadline has passed/);
    expect(await disputes()).to.equal(before);
  });

  it("refuses a malformed reason or text (400)", async function () {
    const id = await receivable();
    for (const bad of [{}, { reasonCode: "because" }, { reasonCode: 7 }, { reasonCode: "other", text: "x".repeat(501) }, { reasonCode: "other", text: "bell\u0007" }, { reasonCode: "other", text: 42 }]) {
      const res = await post(who.buyer, `/receivables/${id}/dispute`, bad);
      expect(res.status, JSON.stringify(bad)).to.equal(400);
      expect(res.headers["content-type"]).to.match(/application\/problem\+json/);
    }
  });

  it("refuses a second dispute of the same receivable (409), even freshly signed", async function () {
    const id = await receivable();
    // A second statement's typed data, fetched while the receivable was not yet disputed.
    const early = (await post(who.buyer, `/receivables/${id}/dispute`, { reasonCode: "other", text: "second" }).expect(200)).body.typedData as ActTypedData;
    expect((await signed(who.buyer, `/receivables/${id}/dispute`, { reasonCode: "other", text: "first" })).res.status).to.equal(201);
    const before = await disputes();
    const unsigned = await post(who.buyer, `/receivables/${id}/dispute`, { reasonCode: "other", text: "second" });
    expect(unsigned.status).to.equal(409);
    expect(unsigned.body.code).to.equal("DisputeExists");
    const signedSecond = await post(who.buyer, `/receivables/${id}/dispute`, {
      reasonCode: "other",
      text: "second",
      nonce: early.message.nonce,
      deadline: early.message.deadline,
      signature: await signTypedData(w.buyer, early),
    });
    expect(signedSecond.status).to.equal(409);
    expect(signedSecond.body.code).to.equal("DisputeExists");
    expect(await disputes()).to.equal(before);
  });

  it("refuses once accepted or cancelled (409); accepting a disputed invoice closes its dispute", async function () {
    const accepted = await receivable("buyer", true);
    const a = await post(who.buyer, `/receivables/${accepted}/dispute`, { reasonCode: "not_delivered" });
    expect(a.status).to.equal(409);
    expect(a.body.code).to.equal("ReceivableNotDisputable");
    expect(a.body.message).to.match(/is accepted/);

    const cancelled = await receivable();
    const c = await signed(who.supplier, `/receivables/${cancelled}/cancel?wait=true`, {});
    expect(c.res.body.status).to.equal("confirmed");
    expect((await post(who.buyer, `/receivables/${cancelled}/dispute`, { reasonCode: "duplicate" })).status).to.equal(409);

    // Signed while issued, posted after acceptance: refused, nothing recorded.
    const late = await receivable();
    const first = await post(who.buyer, `/receivables/${late}/dispute`, { reasonCode: "amount_wrong" }).expect(200);
    const td = first.body.typedData as ActTypedData;
    expect((await signed(who.buyer, `/receivables/${late}/accept?wait=true`, {})).res.body.status).to.equal("confirmed");
    const before = await disputes();
    const lateRes = await post(who.buyer, `/receivables/${late}/dispute`, {
      reasonCode: "amount_wrong",
      nonce: td.message.nonce,
      deadline: td.message.deadline,
      signature: await signTypedData(w.buyer, td),
    });
    expect(lateRes.status).to.equal(409);
    expect(await disputes()).to.equal(before);

    // Disputed, then accepted after all: the dispute stays on record, closed by the acceptance.
    const closed = await receivable();
    const disputedThen = await signed(who.buyer, `/receivables/${closed}/dispute`, { reasonCode: "amount_wrong" });
    expect(disputedThen.res.status).to.equal(201);
    expect((await signed(who.buyer, `/receivables/${closed}/accept?wait=true`, {})).res.body.status).to.equal("confirmed");
    await indexer.catchUp();
    const r = await get(who.supplier, `/receivables/${closed}`).expect(200);
    expect(r.body.dispute).to.include({ reasonCode: "amount_wrong", open: false, closedBy: "accepted" });
    // The signed post retried after the acceptance answers the same record, closed.
    const retried = await post(who.buyer, `/receivables/${closed}/dispute`, disputedThen.sig);
    expect(retried.status, JSON.stringify(retried.body)).to.equal(201);
    expect(retried.body).to.include({ id: disputedThen.res.body.id, open: false, closedBy: "accepted" });
  });

  it("lists disputed receivables with ?disputed=true for the supplier and auditors, and the others with false", async function () {
    const disputed = await receivable();
    const plain = await receivable();
    expect((await signed(who.buyer, `/receivables/${disputed}/dispute`, { reasonCode: "not_ordered" })).res.status).to.equal(201);
    const ids = async (by: Who, q: string) => ((await get(by, `/receivables?${q}&limit=200`).expect(200)).body.items as Array<{ id: string }>).map((x) => x.id);
    for (const reader of [who.supplier, who.auditor]) {
      const yes = await ids(reader, "disputed=true");
      expect(yes).to.include(disputed);
      expect(yes).not.to.include(plain);
      const no = await ids(reader, "disputed=false");
      expect(no).to.include(plain);
      expect(no).not.to.include(disputed);
    }
    // Nobody else's: the buyer2 sees neither.
    expect(await ids(who.buyer2, "disputed=true")).to.deep.equal([]);
    expect((await get(who.supplier, "/receivables?disputed=maybe")).status).to.equal(400);
  });

  it("the audit export's disputes dataset lists every dispute with its signature and the receivable's status (auditors only)", async function () {
    const res = await get(who.auditor, "/audit/export?dataset=disputes&format=json").expect(200);
    const rows = JSON.parse(res.text) as Array<Record<string, string>>;
    expect(rows.length).to.equal(await disputes());
    const closed = rows.find((r) => r.receivableStatus === "accepted");
    expect(closed, "the dispute closed by acceptance").to.not.equal(undefined);
    expect(closed!.reasonCode).to.equal("amount_wrong");
    expect(closed!.signature).to.match(/^0x[0-9a-f]{130}$/i);
    expect(rows.every((r) => r.debtor === w.buyer.address)).to.equal(true);
    const csv = await get(who.auditor, "/audit/export?dataset=disputes&format=csv").expect(200);
    expect(csv.text.split("\n")[0]).to.equal("receivableId,receivableStatus,debtor,reasonCode,text,createdAt,nonce,deadline,signature,digest");
    expect((await get(who.supplier, "/audit/export?dataset=disputes")).status).to.equal(403);
  });
});

function pick(o: Record<string, unknown>, keys: string[]): Record<string, unknown> {
  return Object.fromEntries(keys.map((k) => [k, o[k]]));
}

function stripDomain<T extends Record<string, unknown>>(types: T): Omit<T, "EIP712Domain"> {
  const { EIP712Domain: _omit, ...rest } = types;
  void _omit;
  return rest;
}
