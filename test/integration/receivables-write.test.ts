/**
 * Receivables writes end to end: a `hardhat node` over JSON-RPC, a fresh deployment and database
 * (SQLite, or PostgreSQL with TEST_DATABASE=postgres) and the real service. Members are registered
 * on-chain by the operator key and indexed; every act goes through the API as typed data that the
 * participant signs with its own key, and its effect is checked on-chain (and in the projection
 * where it matters). Refusals are checked for status and message, and that nothing was relayed.
 */
import { createHash } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "chai";
import fc from "fast-check";
import { Signature, TypedDataEncoder, Wallet, hexlify, id as keccakId, randomBytes, toQuantity } from "ethers";
import request from "supertest";
import { DataSource, In } from "typeorm";
import type { ApplicationConfig } from "@nestjs/core";
import { ProblemValidationPipe } from "../../services/src/common/validation.pipe";
import { ActPipeline } from "../../services/src/acts/act-pipeline.service";
import { ActEntity } from "../../services/src/acts/entities/act.entity";
import { IndexerService } from "../../services/src/indexer/indexer.service";
import { ReceivableEntity } from "../../services/src/read-model/entities/projections.entity";
import { OutboxEntity } from "../../services/src/outbox/entities/outbox.entity";
import { gasLimitFor } from "../../services/src/outbox/tx-sender.service";
import { ChainService } from "../../services/src/chain/chain.service";
import { invoiceFingerprint, receivableIdOf } from "../../shared/fingerprint";
import { receivableIdHex } from "../../shared/ids";
import { bearer } from "../support/auth";
import type { TestChain } from "../support/chain";
import type { RunningService, TestEnv } from "../support/app";
import { signTypedData, type ActTypedData } from "../../shared/client";
import { ROLE_BITS } from "../../shared/roles";
import { freshUscc } from "../support/entity-ids";
import { ReceivablesHttp, day, type Body, type Key, type Who } from "../support/receivables-http";

type Name = "supplier" | "supplier2" | "buyer" | "buyer2" | "financier" | "auditor" | "suspended" | "lapsing" | "lapsingBuyer" | "outsider";
const ROLES: Record<Name, number> = {
  supplier: ROLE_BITS.supplier,
  supplier2: ROLE_BITS.supplier,
  buyer: ROLE_BITS.buyer,
  buyer2: ROLE_BITS.buyer,
  financier: ROLE_BITS.financier,
  auditor: ROLE_BITS.auditor,
  suspended: ROLE_BITS.supplier,
  lapsing: ROLE_BITS.supplier,
  lapsingBuyer: ROLE_BITS.buyer,
  outsider: 0,
};
const STATUS = { issued: 1n, accepted: 2n, paid: 4n, cancelled: 6n, split: 7n } as const;
const CROWD = 20;
const PER_MEMBER = 25;

type TypedData = ActTypedData;

const sha256 = (b: Buffer) => "0x" + createHash("sha256").update(b).digest("hex");
const fullWidth = (s: string) => s.replace(/[!-~]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 0xfee0));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("Receivables writes over HTTP (participant-signed acts, hardhat node, real database)", function () {
  this.timeout(600_000);
  let chain: TestChain;
  let env: TestEnv;
  let svc: RunningService;
  let ds: DataSource;
  let indexer: IndexerService;
  const w = {} as Record<Name, Key>;
  const who = {} as Record<Name, Who>;
  const crowd: Who[] = [];
  let lapseAt = 0;
  let h: ReceivablesHttp;

  before(async function () {
    h = await ReceivablesHttp.start("INV");
    ({ chain, env, svc, ds, indexer } = h);
    const { registry, token } = env.ledger;
    const year = (await h.chainNow()) + 365 * 86_400;
    const names = Object.keys(ROLES) as Name[];
    const lapsing = (n: Name) => n === "lapsing" || n === "lapsingBuyer";
    // The members whose KYC lapses during the run come last, with an expiry a few seconds ahead.
    for (const n of [...names.filter((x) => !lapsing(x)), ...names.filter(lapsing)]) {
      // The buyer pays with its own approve(), so it needs gas; every other participant only signs.
      w[n] = n === "buyer" ? await chain.fundedWallet() : Wallet.createRandom();
      if (ROLES[n] === 0) continue;
      if (lapsing(n) && !lapseAt) lapseAt = (await h.chainNow()) + 6;
      await h.register(w[n], ROLES[n], lapsing(n) ? lapseAt : year);
    }
    await (await registry.connect(env.keys.compliance).suspend(w.suspended.address, keccakId("test"))).wait();
    const crowdKeys = Array.from({ length: CROWD }, () => Wallet.createRandom());
    for (const k of crowdKeys) await h.register(k, ROLE_BITS.supplier, year);
    const issuer = token.connect(chain.account(0));
    for (const n of ["buyer", "buyer2"] as const) await (await issuer.mint(w[n].address, 100_000_000n)).wait();
    await indexer.catchUp();
    for (const n of Object.keys(ROLES) as Name[]) who[n] = await h.signIn(w[n]);
    for (const k of crowdKeys) crowd.push(await h.signIn(k));
  });
  after(async function () {
    await h?.stop();
  });

  // ---------------------------------------------------------------- helpers

  const post = (by: Who, path: string, body: Body = {}, headers: Record<string, string> = {}) => h.post(by, path, body, headers);

  const sign = (key: Key, td: TypedData) => signTypedData(key, td);

  /** Typed data built by the client from GET /eip712, for acts the service would not prepare. */
  async function clientTypedData(contract: "receivables", primaryType: string, message: Body): Promise<TypedData> {
    const res = await request(svc.url).get("/eip712").expect(200);
    const { domain, types } = res.body[contract];
    const deadline = String(Math.floor(Date.now() / 1000) + 600);
    return { domain, types: types[primaryType], primaryType, message: { ...message, nonce: String(BigInt(hexlify(randomBytes(6)))), deadline } };
  }

  const signedAct: ReceivablesHttp["signedAct"] = (by, path, body, opts) => h.signedAct(by, path, body, opts);

  /** A fresh invoice of `seller` (the supplier by default). */
  const invoice = (debtor: Key, over: Body = {}, seller: Key = w.supplier): Body => h.invoice(seller, debtor, over);

  function fingerprintOf(b: Body): string {
    return invoiceFingerprint(env.config.FINGERPRINT_SALT, { sellerTaxId: b.sellerTaxId as string, invoiceNumber: b.invoiceNumber as string });
  }

  /** The receivable id the invoice becomes. */
  function idOf(b: Body): string {
    return receivableIdHex(receivableIdOf(fingerprintOf(b)));
  }

  /** The fingerprint of `b`, or a stand-in when its identity is refused (the service refuses it before any signature check). */
  function fingerprintOr(b: Body): string {
    try {
      return fingerprintOf(b);
    } catch {
      return keccakId(`unusable identity ${JSON.stringify(b)}`);
    }
  }

  /** Nonce, deadline and signature of the Tokenise typed data for `b`, built and signed by the client. */
  async function clientSigned(key: Key, b: Body): Promise<Body> {
    const td = await clientTypedData("receivables", "Tokenise", {
      seller: key.address,
      invoice: { debtor: b.debtor, faceValue: b.amount, dueDate: String(Date.parse(`${b.dueDate}T00:00:00Z`) / 1000), documentHash: b.documentHash, fingerprint: fingerprintOr(b) },
    });
    return { nonce: td.message.nonce, deadline: td.message.deadline, signature: await sign(key, td) };
  }

  /** Tokenises (and optionally accepts) an invoice through the API; returns its id. */
  const taxIdOf = (k: Key) => h.taxIdOf(k);

  const receivable = (opts: { seller?: Name; debtor?: Name; accept?: boolean; over?: Body } = {}) =>
    h.receivable(who[opts.seller ?? "supplier"], who[opts.debtor ?? "buyer"], opts);

  async function counts(): Promise<{ acts: number; outbox: number }> {
    return { acts: await ds.getRepository(ActEntity).count(), outbox: await ds.getRepository(OutboxEntity).count() };
  }

  const onChain = (id: string) => env.ledger.receivables.receivable(id);

  // ---------------------------------------------------------------- tokenise

  describe("POST /receivables", function () {
    it("two-step flow: unsigned → typed data (200); signed → pending act (202); GET /acts/:id → confirmed; on-chain and indexed", async function () {
      const body = invoice(w.buyer);
      const { first, td, res } = await signedAct(who.supplier, "/receivables", body);
      const fp = fingerprintOf(body);
      expect(first.body.kind).to.equal("tokenise");
      expect(td.primaryType).to.equal("Tokenise");
      expect(td.domain.verifyingContract).to.equal(env.ledger.record.contracts.Receivables);
      expect(td.message.seller).to.equal(w.supplier.address);
      expect(td.message.invoice).to.deep.equal({
        debtor: w.buyer.address,
        faceValue: "1250000",
        dueDate: String(Date.parse(`${body.dueDate}T00:00:00Z`) / 1000),
        documentHash: body.documentHash,
        fingerprint: fp,
      });
      expect(res.status, JSON.stringify(res.body)).to.equal(202);
      expect(res.body).to.include({ kind: "tokenise", status: "pending", signer: w.supplier.address, receivableId: idOf(body) });
      let act = res.body;
      for (let i = 0; i < 200 && act.status === "pending"; i++) {
        await sleep(50);
        act = (await request(svc.url).get(`/acts/${res.body.id}`).set(bearer(who.supplier.token)).expect(200)).body;
      }
      expect(act.status).to.equal("confirmed");
      expect(act.txHash).to.match(/^0x[0-9a-f]{64}$/);
      const r = await onChain(idOf(body));
      expect(r.holder).to.equal(w.supplier.address);
      expect(r.debtor).to.equal(w.buyer.address);
      expect(r.faceValue).to.equal(1_250_000n);
      expect(r.status).to.equal(STATUS.issued);
      await indexer.catchUp();
      const row = await ds.getRepository(ReceivableEntity).findOneByOrFail({ id: idOf(body) });
      expect(row.seller).to.equal(w.supplier.address);
      expect(row.documentHash).to.equal(body.documentHash);
    });

    it("with the invoice as multipart 'document': the hash is its SHA-256, the file is stored and linked, parties and auditors read it", async function () {
      const file = Buffer.from(`%PDF-1.7 invoice ${Date.now()}`);
      const body = invoice(w.buyer);
      delete body.documentHash;
      const form = (fields: Body) => {
        let r = request(svc.url).post("/receivables?wait=true").set(bearer(who.supplier.token));
        for (const [k, v] of Object.entries(fields)) r = r.field(k, String(v));
        return r.attach("document", file, { filename: "invoice 0001.pdf", contentType: "application/pdf" });
      };
      const first = await form(body).expect(200);
      const td = first.body.typedData as TypedData;
      expect((td.message.invoice as Body).documentHash).to.equal(sha256(file));
      const res = await form({ ...body, nonce: td.message.nonce, deadline: td.message.deadline, signature: await sign(w.supplier, td) });
      expect(res.status, JSON.stringify(res.body)).to.equal(202);
      expect(res.body.status).to.equal("confirmed");
      const id = res.body.receivableId;
      const events = await env.ledger.receivables.queryFilter(env.ledger.receivables.filters.ReceivableTokenised(id));
      expect(events[0].args.documentHash).to.equal(sha256(file));

      // A hash that contradicts the file is refused.
      const wrong = await form({ ...invoice(w.buyer), documentHash: sha256(Buffer.from("other")) });
      expect(wrong.status).to.equal(422);
      expect(wrong.body.message).to.match(/does not match the uploaded document/);

      for (const n of ["supplier", "buyer", "auditor"] as const) {
        const list = await request(svc.url).get(`/receivables/${id}/documents`).set(bearer(who[n].token));
        expect(list.status, n).to.equal(200);
        expect(list.body).to.have.length(1);
        expect(list.body[0]).to.include({ receivableId: id, sha256: sha256(file).slice(2), filename: "invoice 0001.pdf", contentType: "application/pdf", size: file.length, uploadedBy: w.supplier.address });
      }
      const dl = await request(svc.url)
        .get(`/receivables/${BigInt(id).toString()}/documents/${sha256(file)}`)
        .set(bearer(who.auditor.token))
        .buffer(true)
        .parse((r, cb) => {
          const chunks: Buffer[] = [];
          r.on("data", (c: Buffer) => chunks.push(c));
          r.on("end", () => cb(null, Buffer.concat(chunks)));
        });
      expect(dl.status).to.equal(200);
      expect(Buffer.compare(dl.body as Buffer, file)).to.equal(0);
      expect(dl.headers["content-type"]).to.match(/application\/pdf/);
      for (const n of ["supplier2", "financier"] as const) {
        const denied = await request(svc.url).get(`/receivables/${id}/documents`).set(bearer(who[n].token));
        expect(denied.status, n).to.equal(403);
        expect(denied.body.message).to.match(/Only the parties to receivable/);
      }
      const anon = await request(svc.url).get(`/receivables/${id}/documents`);
      expect(anon.status).to.equal(401);

      // Tampering with the stored bytes is detected on download.
      writeFileSync(join(env.config.paths.documents, sha256(file).slice(2)), Buffer.from("tampered"));
      const bad = await request(svc.url).get(`/receivables/${id}/documents/${sha256(file).slice(2)}`).set(bearer(who.buyer.token));
      expect(bad.status).to.equal(409);
      expect(bad.body.message).to.match(/no longer matches its recorded SHA-256/);
    });

    it("refuses a duplicate invoice: again, by another seller, and as look-alike invoice numbers (case, spaces, Unicode hyphens, full width)", async function () {
      const { body, id } = await receivable({ over: { invoiceNumber: "inv-dup-7731" } });
      const before = await counts();
      const variants = ["inv-dup-7731", "INV DUP 7731", "Inv-Dup-7731", "INV\u2010DUP\u20107731", "INV\u2212DUP\u20137731", fullWidth("INV-DUP-7731"), "inv_dup.7731"];
      for (const n of variants) {
        const res = await post(who.supplier, "/receivables", { ...body, invoiceNumber: n });
        expect(res.status, n).to.equal(409);
        expect(res.body.message, n).to.match(/already on the ledger/);
        expect(res.body.message).to.include(id);
      }
      const other = await post(who.supplier2, "/receivables", body);
      expect(other.status).to.equal(409);
      expect(other.body.message).to.match(/already on the ledger/);
      // Compliance refuses it too (the projection has it), with the rule's reason.
      await indexer.catchUp();
      const td = await clientTypedData("receivables", "Tokenise", {
        seller: w.supplier2.address,
        invoice: { debtor: w.buyer.address, faceValue: body.amount, dueDate: String(Date.parse(`${body.dueDate}T00:00:00Z`) / 1000), documentHash: body.documentHash, fingerprint: fingerprintOf(body) },
      });
      const signed = await post(who.supplier2, "/receivables", { ...body, nonce: td.message.nonce, deadline: td.message.deadline, signature: await sign(w.supplier2, td) });
      expect(signed.status).to.equal(409);
      expect(signed.body.code).to.equal("DuplicateInvoice");
      expect(signed.body.message).to.match(/already on the ledger/);
      expect(await counts()).to.deep.equal(before);
    });

    it("refuses the same invoice (seller, number) presented again with other content (409), saying that the content differs", async function () {
      const { body, id } = await receivable();
      await indexer.catchUp();
      const before = await counts();
      const variants: Array<[string, Body, RegExp | null]> = [
        ["one fen more", { amount: String(BigInt(body.amount as string) + 1n) }, /amount 1250001 fen \(ledger: 1250000\)/],
        ["issued a day earlier", { issueDate: day(-1) }, null],
        ["another PDF and amount", { amount: "999999", documentHash: sha256(Buffer.from(`other PDF ${body.invoiceNumber}`)) }, /document 0x[0-9a-f]{64} \(ledger/],
        ["due a day later", { dueDate: day(91) }, /due date/],
      ];
      for (const [what, over, differs] of variants) {
        for (const signed of [false, true]) {
          const b = { ...body, ...over };
          const res = signed
            ? await post(who.supplier, "/receivables", { ...b, ...(await clientSigned(w.supplier, b)) })
            : await post(who.supplier, "/receivables", b);
          expect(res.status, `${what} (${signed ? "signed" : "unsigned"})`).to.equal(409);
          expect(res.body.code, what).to.equal("DuplicateInvoice");
          expect(res.body.message, what).to.include(`already on the ledger as receivable ${id}`);
          expect(res.body.contentDiffers, what).to.equal(differs !== null);
          if (differs) expect(res.body.message, what).to.match(differs).and.match(/red flag/);
        }
      }
      // The same PDF under another invoice number is refused too: a document is tokenised once.
      const samePdf = await post(who.supplier, "/receivables", { ...body, invoiceNumber: `${body.invoiceNumber}-B` });
      expect(samePdf.status).to.equal(409);
      expect(samePdf.body.code).to.equal("DocumentAlreadyTokenised");
      expect(samePdf.body.message).to.include(id);
      expect(await counts()).to.deep.equal(before);
      expect((await onChain(id)).faceValue).to.equal(BigInt(body.amount as string));
    });

    it("refuses look-alike invoice numbers as the same invoice or as mixed-script (Cyrillic І, Greek Ι, combining accent, full width)", async function () {
      const { body, id } = await receivable({ over: { invoiceNumber: "INV-7300-0001" } });
      await indexer.catchUp();
      const before = await counts();
      const same = ["INV-7300-0001\u0301", "IN\u0308V-7300-0001", "INV-73OO-OOO1", fullWidth("INV-7300-0001"), "INV-7300-000\u2460"];
      for (const n of same) {
        const res = await post(who.supplier, "/receivables", { ...body, invoiceNumber: n, documentHash: sha256(Buffer.from(`copy ${n}`)) });
        expect(res.status, n).to.equal(409);
        expect(res.body.message, n).to.include(`already on the ledger as receivable ${id}`);
      }
      for (const n of ["\u0406NV-7300-0001", "\u0399NV-7300-0001", "INV-\u0410-0001"]) {
        const res = await post(who.supplier, "/receivables", { ...body, invoiceNumber: n, documentHash: sha256(Buffer.from(`copy ${n}`)) });
        expect(res.status, n).to.equal(422);
        expect(res.body, n).to.include({ code: "InvalidInvoiceIdentity", field: "invoiceNumber" });
        expect(res.body.message, n).to.match(/mixes writing systems/);
      }
      // Spellings that read as the number but would key as another (review of 2026-12-06): a lower-case
      // l for the digit 1, small capitals, a small capital O for 0. Without the refusal each would be a
      // new invoice beside INV-7300-0001.
      for (const [n, why] of [
        ["INV-7300-000l", /"l" \(U\+006C\), which reads as "1" or "I"/],
        ["\u026A\u0274\u1D20-7300-0001", /a Latin letter outside A-Z/],
        ["INV-73\u1D0F\u1D0F-0001", /a Latin letter outside A-Z/],
      ] as const) {
        const res = await post(who.supplier, "/receivables", { ...body, invoiceNumber: n, documentHash: sha256(Buffer.from(`copy ${n}`)) });
        expect(res.status, n).to.equal(422);
        expect(res.body, n).to.include({ code: "InvalidInvoiceIdentity", field: "invoiceNumber" });
        expect(res.body.message, n).to.match(why);
      }
      expect(await counts()).to.deep.equal(before);
    });

    it("refuses tax ids that are not ASCII or not the parties' registered entity ids (422, naming which)", async function () {
      const before = await counts();
      const seller = taxIdOf(w.supplier);
      const cyrillic = seller.slice(0, 2) + "\u0410" + seller.slice(3);
      const cases: Array<[string, Body, string, string]> = [
        ["a Cyrillic letter in the seller tax id", { sellerTaxId: cyrillic }, "InvalidInvoiceIdentity", "sellerTaxId"],
        ["a Greek letter in the buyer tax id", { buyerTaxId: taxIdOf(w.buyer).slice(0, 17) + "\u0392" }, "InvalidInvoiceIdentity", "buyerTaxId"],
        ["another member's tax id as seller", { sellerTaxId: taxIdOf(w.supplier2) }, "TaxIdNotRegistered", "sellerTaxId"],
        ["another buyer's tax id as debtor", { buyerTaxId: taxIdOf(w.buyer2) }, "TaxIdNotRegistered", "buyerTaxId"],
        ["an unregistered (valid) tax id", { sellerTaxId: freshUscc() }, "TaxIdNotRegistered", "sellerTaxId"],
      ];
      for (const [what, over, error, field] of cases) {
        const b = invoice(w.buyer, over);
        for (const res of [await post(who.supplier, "/receivables", b), await post(who.supplier, "/receivables", { ...b, ...(await clientSigned(w.supplier, b)) })]) {
          expect(res.status, `${what}: ${JSON.stringify(res.body)}`).to.equal(422);
          expect(res.body, what).to.include({ code: error, field });
        }
      }
      // Spaces, dashes, case and full width around the registered id are the same id.
      const ok = await post(who.supplier, "/receivables", invoice(w.buyer, { sellerTaxId: fullWidth(seller.toLowerCase()) }));
      expect(ok.status, JSON.stringify(ok.body)).to.equal(200);
      expect(await counts()).to.deep.equal(before);
    });

    it("refuses an invoice whose fingerprint is held by a pending act (409), before and after signing", async function () {
      await chain.provider.send("evm_setAutomine", [false]);
      try {
        const body = invoice(w.buyer);
        const { res } = await signedAct(who.supplier, "/receivables", body);
        expect(res.status).to.equal(202);
        expect(res.body.status).to.equal("pending");
        const again = await post(who.supplier, "/receivables", { ...body, invoiceNumber: String(body.invoiceNumber).toLowerCase() });
        expect(again.status).to.equal(409);
        expect(again.body.message).to.match(/already being tokenised .* pending act/);
        const before = await counts();
        const td = await clientTypedData("receivables", "Tokenise", {
          seller: w.supplier2.address,
          invoice: { debtor: w.buyer.address, faceValue: body.amount, dueDate: String(Date.parse(`${body.dueDate}T00:00:00Z`) / 1000), documentHash: body.documentHash, fingerprint: fingerprintOf(body) },
        });
        // A rival presenting the pending invoice as its own: the seller tax id is not its entity id.
        const rival = await post(who.supplier2, "/receivables", { ...body, nonce: td.message.nonce, deadline: td.message.deadline, signature: await sign(w.supplier2, td) });
        expect(rival.status).to.equal(422);
        expect(rival.body).to.include({ code: "TaxIdNotRegistered", field: "sellerTaxId" });
        expect(await counts()).to.deep.equal(before);
      } finally {
        await chain.provider.send("evm_setAutomine", [true]);
        await chain.provider.send("evm_mine", []);
      }
    });

    it("refuses a failing compliance rule with every failing rule's reason (422), relaying nothing", async function () {
      const before = await counts();
      const body = invoice(w.buyer, { issueDate: day(10), dueDate: day(5) });
      const res = await post(who.supplier, "/receivables", body);
      expect(res.status).to.equal(422);
      expect(res.body.code).to.equal("ComplianceRefused");
      expect(res.body.message).to.match(/INVOICE_ISSUED_NOT_IN_FUTURE/).and.match(/INVOICE_DUE_AFTER_ISSUE/);
      expect(res.body.failures.map((f: { code: string }) => f.code)).to.have.members(["INVOICE_ISSUED_NOT_IN_FUTURE", "INVOICE_DUE_AFTER_ISSUE"]);
      const checks = await request(svc.url).get(`/compliance/checks?subject=invoice:${idOf(body)}`).set(bearer(who.auditor.token));
      expect(checks.status).to.equal(200);
      const failed = (checks.body as Array<{ runId: string; code: string; result: string }>).filter((c) => c.result === "fail");
      expect(failed.map((c) => c.code)).to.have.members(["INVOICE_ISSUED_NOT_IN_FUTURE", "INVOICE_DUE_AFTER_ISSUE"]);
      expect(failed[0].runId).to.equal(res.body.complianceRunId);
      expect(await counts()).to.deep.equal(before);
    });

    it("refuses the wrong role, unverified and suspended members (403)", async function () {
      const cases: Array<[Name, RegExp]> = [
        ["buyer", /requires the role supplier; 0x[0-9a-fA-F]{40} holds buyer/],
        ["financier", /requires the role supplier/],
        ["outsider", /not a verified member/],
        ["suspended", /not a verified member: unregistered, suspended or with expired KYC/],
      ];
      for (const [n, msg] of cases) {
        const res = await post(who[n], "/receivables", invoice(w.buyer));
        expect(res.status, n).to.equal(403);
        expect(res.body.message, n).to.match(msg);
      }
      // A debtor that is not a verified buyer: early on the unsigned step, and by the contract once signed.
      const toSupplier = await post(who.supplier, "/receivables", invoice(w.supplier2));
      expect(toSupplier.status).to.equal(403);
      expect(toSupplier.body.message).to.match(/is not a verified buyer on the ledger/);
    });

    it("a replayed signed act returns the same act; the same nonce with another body is refused (409)", async function () {
      const body = invoice(w.buyer);
      const { signed, res } = await signedAct(who.supplier, "/receivables", body, { wait: true });
      expect(res.status).to.equal(202);
      const again = await post(who.supplier, "/receivables", signed);
      expect(again.status).to.equal(202);
      expect(again.body.id).to.equal(res.body.id);
      expect(again.body.status).to.equal("confirmed");
      const before = await counts();
      const other = invoice(w.buyer);
      const first = await post(who.supplier, "/receivables", { ...other, nonce: signed.nonce, deadline: signed.deadline }).expect(200);
      const reused = await post(who.supplier, "/receivables", { ...other, nonce: signed.nonce, deadline: signed.deadline, signature: await sign(w.supplier, first.body.typedData) });
      expect(reused.status).to.equal(409);
      expect(reused.body.message).to.equal(`Nonce ${signed.nonce} of ${w.supplier.address} was already used for another act; ask for new typed data.`);
      expect(await counts()).to.deep.equal(before);
    });

    it("refuses a signature by another key (422 naming the digest, not 401: the session is valid) and an expired deadline (422)", async function () {
      const before = await counts();
      const { res, td } = await signedAct(who.supplier, "/receivables", invoice(w.buyer), { key: w.supplier2 });
      expect(res.status).to.equal(422);
      const types = { ...td.types };
      delete types.EIP712Domain;
      const digest = TypedDataEncoder.hash(td.domain, types, td.message);
      expect(res.body.code).to.equal("InvalidSignature");
      expect(res.body.digest).to.equal(digest);
      expect(res.body.message).to.equal(
        `The signature is not ${w.supplier.address}'s signature of this act (EIP-712 digest ${digest}) (sign the typed data returned without a signature).`,
      );
      const body = { ...invoice(w.buyer), deadline: String(Math.floor(Date.now() / 1000) - 60) };
      const { res: late } = await signedAct(who.supplier, "/receivables", body);
      expect(late.status).to.equal(422);
      expect(late.body.message).to.equal("The signature's deadline has passed; ask for new typed data and sign again.");
      expect(await counts()).to.deep.equal(before);
    });

    it("Idempotency-Key: the same key and body answer the first answer; the same key with another body is refused (422)", async function () {
      const body = invoice(w.buyer);
      const first = await post(who.supplier, "/receivables", body).expect(200);
      const signed = { ...body, nonce: first.body.typedData.message.nonce, deadline: first.body.typedData.message.deadline, signature: await sign(w.supplier, first.body.typedData) };
      const key = { "Idempotency-Key": `tokenise-${body.invoiceNumber}` };
      const a = await post(who.supplier, "/receivables", signed, key);
      expect(a.status).to.equal(202);
      const b = await post(who.supplier, "/receivables", signed, key);
      expect(b.status).to.equal(202);
      expect(b.body).to.deep.equal(a.body);
      const before = await counts();
      const c = await post(who.supplier, "/receivables", { ...signed, amount: "1250001" }, key);
      expect(c.status).to.equal(422);
      expect(c.body.message).to.equal(`Idempotency-Key ${key["Idempotency-Key"]} was already used for a different request.`);
      expect(await counts()).to.deep.equal(before);
    });
  });

  describe("POST /receivables/attestations", function () {
    /** The ledger's reason for refusing a direct call, by name. */
    async function refusal(call: Promise<unknown>): Promise<string> {
      try {
        await call;
      } catch (err) {
        return (err as { revert?: { name: string } }).revert?.name ?? String(err);
      }
      return "not refused";
    }

    it("hands the signed-in seller the attestation to call tokenise / tokeniseBatch itself; nobody else can use it", async function () {
      const funder = chain.account(0);
      for (const k of [w.supplier, w.supplier2]) await (await funder.sendTransaction({ to: k.address, value: 10n ** 18n })).wait();
      const receivables = env.ledger.receivables;
      const tupleOf = (i: Body) => ({
        debtor: i.debtor as string,
        faceValue: BigInt(i.faceValue as string),
        dueDate: BigInt(i.dueDate as string),
        documentHash: i.documentHash as string,
        fingerprint: i.fingerprint as string,
      });

      const body = invoice(w.buyer);
      const res = await post(who.supplier, "/receivables/attestations", { invoices: [body] });
      expect(res.status, JSON.stringify(res.body)).to.equal(201);
      expect(res.body).to.include({ seller: w.supplier.address, function: "tokenise" });
      expect(res.body.invoices[0]).to.include({ receivableId: idOf(body), fingerprint: fingerprintOf(body), documentHash: body.documentHash });
      const tuple = tupleOf(res.body.invoices[0]);
      const att = { expiry: res.body.expiry, signature: res.body.signature };
      // Seen in the mempool by another supplier: useless to it.
      const stolen = receivables.connect(w.supplier2.connect(chain.provider)).tokenise.staticCall(tuple, att);
      expect(await refusal(stolen)).to.equal("ReceivableAttesterUnauthorized");
      const tampered = receivables.connect(w.supplier.connect(chain.provider)).tokenise.staticCall({ ...tuple, faceValue: tuple.faceValue + 1n }, att);
      expect(await refusal(tampered)).to.equal("ReceivableAttesterUnauthorized");
      await (await receivables.connect(w.supplier.connect(chain.provider)).tokenise(tuple, att)).wait();
      expect((await onChain(idOf(body))).holder).to.equal(w.supplier.address);
      await indexer.catchUp();
      const again = await post(who.supplier, "/receivables/attestations", { invoices: [{ ...body, amount: "1" }] });
      expect(again.status).to.equal(409);
      expect(again.body).to.include({ code: "DuplicateInvoice", contentDiffers: true });

      const pair = [invoice(w.buyer), invoice(w.buyer2)];
      const batch = await post(who.supplier, "/receivables/attestations", { invoices: pair });
      expect(batch.status, JSON.stringify(batch.body)).to.equal(201);
      expect(batch.body.function).to.equal("tokeniseBatch");
      await (
        await receivables
          .connect(w.supplier.connect(chain.provider))
          .tokeniseBatch(batch.body.invoices.map(tupleOf), { expiry: batch.body.expiry, signature: batch.body.signature })
      ).wait();
      for (const b of pair) expect((await onChain(idOf(b))).holder).to.equal(w.supplier.address);
    });

    it("refuses what POST /receivables refuses: another seller's tax id (422), a mixed-script number (422), the wrong role (403)", async function () {
      const before = await counts();
      const other = await post(who.supplier, "/receivables/attestations", { invoices: [invoice(w.buyer, { sellerTaxId: taxIdOf(w.supplier2) })] });
      expect(other.status).to.equal(422);
      expect(other.body).to.include({ code: "TaxIdNotRegistered", field: "sellerTaxId" });
      const mixed = await post(who.supplier, "/receivables/attestations", { invoices: [invoice(w.buyer, { invoiceNumber: "\u0406NV-1" })] });
      expect(mixed.status).to.equal(422);
      expect(mixed.body).to.include({ code: "InvalidInvoiceIdentity", field: "invoiceNumber" });
      const buyer = await post(who.buyer, "/receivables/attestations", { invoices: [invoice(w.buyer2)] });
      expect(buyer.status).to.equal(403);
      expect(await counts()).to.deep.equal(before);
    });
  });

  describe("POST /receivables/batch", function () {
    it("tokenises several invoices under one signature (?wait=true), each on-chain", async function () {
      const invoices = [invoice(w.buyer), invoice(w.buyer), invoice(w.buyer2)];
      const { td, res } = await signedAct(who.supplier, "/receivables/batch", { invoices }, { wait: true });
      expect(td.primaryType).to.equal("TokeniseBatch");
      expect(td.message.invoices).to.have.length(3);
      expect(res.status).to.equal(202);
      expect(res.body).to.include({ kind: "tokenise_batch", status: "confirmed" });
      const ids = res.body.result.receivableIds as string[];
      expect(ids).to.deep.equal(invoices.map(idOf));
      for (const [i, id] of ids.entries()) {
        const r = await onChain(id);
        expect(r.holder).to.equal(w.supplier.address);
        expect(r.debtor).to.equal(i < 2 ? w.buyer.address : w.buyer2.address);
      }
    });

    it("refuses duplicates inside the batch, naming the lines (422), and one already on the ledger (409)", async function () {
      const before = await counts();
      const a = invoice(w.buyer);
      const b = invoice(w.buyer);
      const res = await post(who.supplier, "/receivables/batch", { invoices: [a, b, { ...a, invoiceNumber: String(a.invoiceNumber).toLowerCase().replace(/-/g, " ") }, invoice(w.buyer), b] });
      expect(res.status).to.equal(422);
      expect(res.body.message).to.match(/invoices 0, 2; invoices 1, 4/);
      expect(res.body.lines).to.deep.equal([[0, 2], [1, 4]]);
      const { body } = await receivable();
      const dup = await post(who.supplier, "/receivables/batch", { invoices: [invoice(w.buyer), body] });
      expect(dup.status).to.equal(409);
      expect(dup.body.message).to.match(/already on the ledger/);
      const empty = await post(who.supplier, "/receivables/batch", { invoices: [] });
      expect(empty.status).to.equal(400);
      expect(empty.body.message).to.include("invoices must hold at least one invoice");
      expect((await counts()).acts).to.equal(before.acts + 1); // only receivable() above
    });
  });

  describe("the signed post reuses the unsigned post's plan (plan cache)", function () {
    const plans = () => svc.app.get(ActPipeline).plans;
    const signedFrom = async (key: Key, body: Body, td: TypedData): Promise<Body> => ({
      ...body,
      nonce: td.message.nonce,
      deadline: td.message.deadline,
      signature: await sign(key, td),
    });

    it("a recorded act's plan is forgotten at once (not kept to its TTL); a retried signed post rebuilds it and answers the same act", async function () {
      const body = invoice(w.buyer);
      const first = await post(who.supplier, "/receivables", body);
      expect(first.status, JSON.stringify(first.body)).to.equal(200);
      const size = plans().size;
      const { hits, misses } = plans();
      const signed = await signedFrom(w.supplier, body, first.body.typedData as TypedData);
      const res = await post(who.supplier, "/receivables", signed);
      expect(res.status, JSON.stringify(res.body)).to.equal(202);
      expect(plans().hits).to.equal(hits + 1);
      expect(plans().size).to.equal(size - 1);
      const again = await post(who.supplier, "/receivables", signed);
      expect(again.status, JSON.stringify(again.body)).to.equal(202);
      expect(again.body.id).to.equal(res.body.id);
      expect(plans().misses).to.equal(misses + 1);
    });

    it("a debtor suspended between the posts: the signed post is served the cached plan and still refused (403), nothing recorded", async function () {
      const debtor = Wallet.createRandom();
      await h.register(debtor, ROLE_BITS.buyer, (await h.chainNow()) + 365 * 86_400);
      await indexer.catchUp();
      const body = invoice(debtor);
      const first = await post(who.supplier, "/receivables", body);
      expect(first.status, JSON.stringify(first.body)).to.equal(200);
      await (await env.ledger.registry.connect(env.keys.compliance).suspend(debtor.address, keccakId("test"))).wait();
      const before = await counts();
      const { hits, misses } = plans();
      const res = await post(who.supplier, "/receivables", await signedFrom(w.supplier, body, first.body.typedData as TypedData));
      expect(plans().hits).to.equal(hits + 1);
      expect(plans().misses).to.equal(misses);
      expect(res.status, JSON.stringify(res.body)).to.equal(403);
      expect(res.body.message).to.match(/not a verified|unverified/i);
      expect(await counts()).to.deep.equal(before);
    });

    it("a seller suspended between the posts is refused on the signed post (403), nothing recorded", async function () {
      const seller = Wallet.createRandom();
      await h.register(seller, ROLE_BITS.supplier, (await h.chainNow()) + 365 * 86_400);
      await indexer.catchUp();
      const me = await h.signIn(seller);
      const body = invoice(w.buyer, {}, seller);
      const first = await post(me, "/receivables", body);
      expect(first.status, JSON.stringify(first.body)).to.equal(200);
      await (await env.ledger.registry.connect(env.keys.compliance).suspend(seller.address, keccakId("test"))).wait();
      const before = await counts();
      // Refused by the contract's simulation before the suspension is indexed, by the access guard after.
      const res = await post(me, "/receivables", await signedFrom(seller, body, first.body.typedData as TypedData));
      expect(res.status, JSON.stringify(res.body)).to.equal(403);
      expect(await counts()).to.deep.equal(before);
    });

    it("an invoice tokenised by another act between the posts: the signed post is served the cached plan and still refused (409)", async function () {
      const body = invoice(w.buyer);
      const first = await post(who.supplier, "/receivables", body);
      expect(first.status, JSON.stringify(first.body)).to.equal(200);
      const batch = await signedAct(who.supplier, "/receivables/batch", { invoices: [invoice(w.buyer), body] }, { wait: true });
      expect(batch.res.status, JSON.stringify(batch.res.body)).to.equal(202);
      expect(batch.res.body.status).to.equal("confirmed");
      await indexer.catchUp();
      const before = await counts();
      const { hits, misses } = plans();
      const res = await post(who.supplier, "/receivables", await signedFrom(w.supplier, body, first.body.typedData as TypedData));
      expect(plans().hits).to.equal(hits + 1);
      expect(plans().misses).to.equal(misses);
      expect(res.status, JSON.stringify(res.body)).to.equal(409);
      expect(res.body.message).to.match(/already on the ledger/);
      expect(await counts()).to.deep.equal(before);
    });

    it("the same invoice still pending in another act between the posts: the cached plan's signed post is refused (409)", async function () {
      await chain.provider.send("evm_setAutomine", [false]);
      try {
        const body = invoice(w.buyer);
        const first = await post(who.supplier, "/receivables", body);
        expect(first.status, JSON.stringify(first.body)).to.equal(200);
        const batch = await signedAct(who.supplier, "/receivables/batch", { invoices: [body] });
        expect(batch.res.status, JSON.stringify(batch.res.body)).to.equal(202);
        const before = await counts();
        const { hits } = plans();
        const res = await post(who.supplier, "/receivables", await signedFrom(w.supplier, body, first.body.typedData as TypedData));
        expect(plans().hits).to.equal(hits + 1);
        expect(res.status, JSON.stringify(res.body)).to.equal(409);
        expect(res.body.message).to.match(/already being tokenised .* pending act/);
        expect(await counts()).to.deep.equal(before);
      } finally {
        await chain.provider.send("evm_setAutomine", [true]);
        await chain.provider.send("evm_mine", []);
      }
    });

    it("a signed batch validated only in its signature fields still refuses a body that differs in one nested field (400, as a first post), nothing recorded", async function () {
      const invoices = [invoice(w.buyer), invoice(w.buyer), invoice(w.buyer)];
      const first = await post(who.supplier, "/receivables/batch", { invoices });
      expect(first.status, JSON.stringify(first.body)).to.equal(200);
      const signed = await signedFrom(w.supplier, { invoices }, first.body.typedData as TypedData);
      const before = await counts();
      // The global pipe's memo (Nest keeps global pipes in its private ApplicationConfig).
      const pipe = (svc.app as unknown as { config: ApplicationConfig }).config.getGlobalPipes().find((p) => p instanceof ProblemValidationPipe) as ProblemValidationPipe;
      const { hits } = pipe.signedBodies;
      const bad: Array<[string, Body]> = [
        ["invoices.1.amount", { ...signed, invoices: invoices.map((b, i) => (i === 1 ? { ...b, amount: "12.5" } : b)) }],
        ["invoices.2.note", { ...signed, invoices: invoices.map((b, i) => (i === 2 ? { ...b, note: "x" } : b)) }],
        ["nonce", { ...signed, nonce: "0x01" }],
      ];
      for (const [field, body] of bad) {
        const res = await post(who.supplier, "/receivables/batch", body);
        expect(res.status, `${field}: ${JSON.stringify(res.body)}`).to.equal(400);
        expect(res.body.error ?? res.body.code, field).to.equal("ValidationFailed");
        expect((res.body.errors as Array<{ field: string }>).map((e) => e.field), field).to.deep.equal([field]);
        // The same refusal a post of that body with no unsigned post before it gets (another signer's session).
        const fresh = await post(who.supplier2, "/receivables/batch", body);
        expect({ ...fresh.body, instance: undefined }, field).to.deep.equal({ ...res.body, instance: undefined });
      }
      expect(await counts()).to.deep.equal(before);
      const res = await post(who.supplier, "/receivables/batch", signed);
      expect(res.status, JSON.stringify(res.body)).to.equal(202);
      // Served without validating the invoices again: the bad nonce (twice: both sessions) and the good post.
      expect(pipe.signedBodies.hits).to.equal(hits + 3);
    });

    it("a signed body that differs from the unsigned one in any field is planned afresh, never served the cached plan", async function () {
      const changes: Record<string, (b: Body) => unknown> = {
        debtor: () => w.buyer2.address,
        invoiceNumber: (b) => `${String(b.invoiceNumber)}-X`,
        sellerTaxId: () => taxIdOf(w.supplier2),
        buyerTaxId: () => taxIdOf(w.buyer2),
        issueDate: () => day(-1),
        dueDate: () => day(91),
        amount: () => "1250001",
        documentHash: () => "0x" + createHash("sha256").update(`other document ${Math.random()}`).digest("hex"),
      };
      for (const [field, change] of Object.entries(changes)) {
        const body = invoice(w.buyer);
        const first = await post(who.supplier, "/receivables", body);
        expect(first.status, `${field}: ${JSON.stringify(first.body)}`).to.equal(200);
        const signed = await signedFrom(w.supplier, body, first.body.typedData as TypedData);
        const { hits, misses } = plans();
        const res = await post(who.supplier, "/receivables", { ...signed, [field]: change(body) });
        expect(plans().hits, field).to.equal(hits);
        expect(plans().misses, field).to.equal(misses + 1);
        // The signature covers what the ledger records: a changed field there breaks it (a changed
        // debtor or tax id is refused sooner, as not the party's registered entity id); the issue
        // date is not signed, and is screened as posted.
        if (["invoiceNumber", "dueDate", "amount", "documentHash"].includes(field)) {
          expect(res.status, `${field}: ${JSON.stringify(res.body)}`).to.equal(422);
          expect(res.body.code, field).to.equal("InvalidSignature");
        } else if (field === "issueDate") {
          expect(res.status, `${field}: ${JSON.stringify(res.body)}`).to.equal(202);
          const act = await ds.getRepository(ActEntity).findOneByOrFail({ id: res.body.id });
          const checks = await request(svc.url).get(`/compliance/checks?subject=invoice:${idOf(body)}`).set(bearer(who.auditor.token)).expect(200);
          const run = (checks.body as Array<{ runId: string }>).filter((c) => c.runId === act.result?.complianceRunId);
          expect(run, "the signed post's compliance run is stored").to.not.have.length(0);
        } else {
          expect(res.status, `${field}: ${JSON.stringify(res.body)}`).to.equal(422);
        }
      }
    });
  });

  // ---------------------------------------------------------------- lifecycle

  describe("acts on a receivable", function () {
    it("accept: the debtor accepts (?wait=true); a non-debtor is refused before and after signing (403)", async function () {
      const { id, body } = await receivable();
      const before = await counts();
      const early = await post(who.buyer2, `/receivables/${id}/accept`, {});
      expect(early.status).to.equal(403);
      expect(early.body.message).to.equal(`Only the debtor of receivable ${id} can accept it; ${w.buyer2.address} is not its debtor.`);
      const td = await clientTypedData("receivables", "Accept", {
        debtor: w.buyer2.address,
        receivableId: BigInt(id).toString(),
        seller: w.supplier.address,
        faceValue: body.amount,
        dueDate: String(Date.parse(`${body.dueDate}T00:00:00Z`) / 1000),
        documentHash: body.documentHash,
      });
      const late = await post(who.buyer2, `/receivables/${id}/accept`, { nonce: td.message.nonce, deadline: td.message.deadline, signature: await sign(w.buyer2, td) });
      expect(late.status).to.equal(403);
      expect(late.body.message).to.equal(`${w.buyer2.address} is not the party this act on receivable ${id} belongs to.`);
      expect(await counts()).to.deep.equal(before);
      const wrongRole = await post(who.supplier, `/receivables/${id}/accept`, {});
      expect(wrongRole.status).to.equal(403);
      expect(wrongRole.body.message).to.match(/requires the role buyer/);

      const { td: ok, res } = await signedAct(who.buyer, `/receivables/${BigInt(id).toString()}/accept`, {}, { wait: true });
      expect(ok.message).to.include({
        debtor: w.buyer.address,
        receivableId: BigInt(id).toString(),
        seller: w.supplier.address,
        faceValue: body.amount,
        dueDate: String(Date.parse(`${body.dueDate}T00:00:00Z`) / 1000),
        documentHash: body.documentHash,
      });
      expect(res.status).to.equal(202);
      expect(res.body).to.include({ kind: "accept", status: "confirmed", receivableId: id });
      expect((await onChain(id)).status).to.equal(STATUS.accepted);
      const twice = await signedAct(who.buyer, `/receivables/${id}/accept`, {});
      expect(twice.res.status).to.equal(409);
      expect(twice.res.body.message).to.match(/is accepted; this act is not allowed in that state/);
    });

    it("cancel: the seller cancels an issued receivable (?wait=true)", async function () {
      const { id } = await receivable();
      const other = await post(who.supplier2, `/receivables/${id}/cancel`, {});
      expect(other.status).to.equal(403);
      expect(other.body.message).to.match(/Only the holder of receivable .* can cancel it/);
      const { res } = await signedAct(who.supplier, `/receivables/${id}/cancel`, {}, { wait: true });
      expect(res.body).to.include({ kind: "cancel", status: "confirmed" });
      expect((await onChain(id)).status).to.equal(STATUS.cancelled);
    });

    it("?wait=true answers a failed act with the ledger's reason when a conflicting act lands first", async function () {
      const { id } = await receivable();
      await chain.provider.send("evm_setAutomine", [false]);
      try {
        const cancel = await signedAct(who.supplier, `/receivables/${id}/cancel`, {});
        expect(cancel.res.body.status).to.equal("pending");
        // Both simulate fine against the last block; the cancellation is mined first.
        const accepting = signedAct(who.buyer, `/receivables/${id}/accept`, {}, { wait: true });
        for (let i = 0; i < 200 && !(await ds.getRepository(ActEntity).findOneBy({ kind: "accept", receivableId: id })); i++) await sleep(25);
        await chain.provider.send("evm_setAutomine", [true]);
        await chain.provider.send("evm_mine", []);
        const { res } = await accepting;
        expect(res.status).to.equal(202);
        expect(res.body.status).to.equal("failed");
        expect(res.body.failureReason).to.match(/ReceivableInvalidStatus/);
        expect((await onChain(id)).status).to.equal(STATUS.cancelled);
      } finally {
        await chain.provider.send("evm_setAutomine", [true]);
      }
    });

    it("split: the holder splits into parts (?wait=true); a non-holder is refused (403)", async function () {
      const { id } = await receivable({ accept: true });
      const before = await counts();
      const early = await post(who.supplier2, `/receivables/${id}/split`, { amounts: ["600000", "650000"] });
      expect(early.status).to.equal(403);
      expect(early.body.message).to.equal(`Only the holder of receivable ${id} can split it; ${w.supplier2.address} is not its holder.`);
      const td = await clientTypedData("receivables", "Split", { holder: w.supplier2.address, receivableId: BigInt(id).toString(), amounts: ["600000", "650000"] });
      const late = await post(who.supplier2, `/receivables/${id}/split`, { amounts: ["600000", "650000"], nonce: td.message.nonce, deadline: td.message.deadline, signature: await sign(w.supplier2, td) });
      expect(late.status).to.equal(403);
      expect(late.body.message).to.equal(`${w.supplier2.address} is not the party this act on receivable ${id} belongs to.`);
      const mismatch = await signedAct(who.supplier, `/receivables/${id}/split`, { amounts: ["600000", "600000"] });
      expect(mismatch.res.status).to.equal(422);
      expect(mismatch.res.body.message).to.equal("The parts sum to 1200000 but the receivable's outstanding amount is 1250000.");
      expect(await counts()).to.deep.equal(before);

      const { res } = await signedAct(who.supplier, `/receivables/${id}/split`, { amounts: ["600000", "650000"] }, { wait: true });
      expect(res.body).to.include({ kind: "split", status: "confirmed" });
      const children = res.body.result.childIds as string[];
      expect(children).to.have.length(2);
      expect((await onChain(id)).status).to.equal(STATUS.split);
      for (const [i, c] of children.entries()) {
        const r = await onChain(c);
        expect(r.holder).to.equal(w.supplier.address);
        expect(r.faceValue).to.equal(i === 0 ? 600_000n : 650_000n);
        expect(r.parentId).to.equal(BigInt(id));
        expect(BigInt(c)).to.equal(await env.ledger.receivables.childId(id, i));
      }
    });

    it("transfer: the holder transfers an accepted receivable (?wait=true)", async function () {
      const { id } = await receivable({ accept: true });
      const notHolder = await post(who.supplier2, `/receivables/${id}/transfer`, { to: w.supplier2.address });
      expect(notHolder.status).to.equal(403);
      expect(notHolder.body.message).to.match(/Only the holder/);
      const toBuyer = await signedAct(who.supplier, `/receivables/${id}/transfer`, { to: w.buyer2.address });
      expect(toBuyer.res.status).to.equal(403);
      expect(toBuyer.res.body.message).to.match(/is not a verified supplier or financier on the ledger/);
      const { res } = await signedAct(who.supplier, `/receivables/${id}/transfer`, { to: w.supplier2.address.toLowerCase() }, { wait: true });
      expect(res.body).to.include({ kind: "transfer", status: "confirmed" });
      expect(await env.ledger.receivables.ownerOf(id)).to.equal(w.supplier2.address);
      await indexer.catchUp();
      expect((await ds.getRepository(ReceivableEntity).findOneByOrFail({ id })).holder).to.equal(w.supplier2.address);
    });

    it("credit notes: the holder records one with the note as multipart 'document'; documents are matched against the ledger", async function () {
      const note = Buffer.from(`credit note ${Date.now()}`);
      const invoiceFile = Buffer.from(`invoice for the credit note ${Date.now()}`);
      const { id, body } = await receivable({ over: { documentHash: sha256(invoiceFile) } });
      const form = (fields: Body, as: Who = who.supplier) => {
        let r = request(svc.url).post(`/receivables/${id}/credit-notes?wait=true`).set(bearer(as.token));
        for (const [k, v] of Object.entries(fields)) r = r.field(k, String(v));
        return r.attach("document", note, { filename: "credit-note.pdf", contentType: "application/pdf" });
      };
      const denied = await form({ amount: "100000" }, who.supplier2);
      expect(denied.status).to.equal(403);
      const first = await form({ amount: "100000" }).expect(200);
      const td = first.body.typedData as TypedData;
      expect(td.message).to.include({ holder: w.supplier.address, amount: "100000", creditNoteHash: sha256(note) });
      const res = await form({ amount: "100000", nonce: td.message.nonce, deadline: td.message.deadline, signature: await sign(w.supplier, td) });
      expect(res.status, JSON.stringify(res.body)).to.equal(202);
      expect(res.body).to.include({ kind: "credit_note", status: "confirmed" });
      expect((await onChain(id)).outstanding).to.equal(1_150_000n);
      const ev = await env.ledger.receivables.queryFilter(env.ledger.receivables.filters.CreditNoteApplied(id));
      expect(ev[0].args.creditNoteHash).to.equal(sha256(note));

      const too = await signedAct(who.supplier, `/receivables/${id}/credit-notes`, { amount: "2000000", creditNoteHash: sha256(Buffer.from("x")) });
      expect(too.res.status).to.equal(422);
      expect(too.res.body.message).to.equal(`Amount 2000000 exceeds the outstanding 1150000 of receivable ${id}.`);

      // The debtor uploads documents: the credit note and a stranger file.
      const upload = (file: Buffer, name: string, as: Who = who.buyer) =>
        request(svc.url).post(`/receivables/${id}/documents`).set(bearer(as.token)).attach("document", file, { filename: name, contentType: "application/pdf" });
      const matched = await upload(note, "cn-copy.pdf");
      expect(matched.status).to.equal(201);
      expect(matched.body).to.include({ matchesOnChain: true, matchedAs: "credit_note", onChainDocumentHash: body.documentHash, sha256: sha256(note).slice(2) });
      expect(matched.body.uploadedBy).to.equal(w.supplier.address); // linked first by the holder's credit note
      const stranger = await upload(Buffer.from("unrelated"), "other.pdf");
      expect(stranger.status).to.equal(201);
      expect(stranger.body).to.include({ matchesOnChain: false, matchedAs: null, uploadedBy: w.buyer.address });
      const invoiceDoc = await upload(invoiceFile, "invoice.pdf");
      expect(invoiceDoc.body).to.include({ matchesOnChain: true, matchedAs: "invoice" });
      const outsider = await upload(Buffer.from("x"), "x.pdf", who.supplier2);
      expect(outsider.status).to.equal(403);
      expect(outsider.body.message).to.match(/Only the seller, debtor, holder or financier/);
      const noFile = await request(svc.url).post(`/receivables/${id}/documents`).set(bearer(who.buyer.token)).send({});
      expect(noFile.status).to.equal(400);
      expect(noFile.body.message).to.match(/multipart field 'document'/);
      const list = await request(svc.url).get(`/receivables/${id}/documents`).set(bearer(who.buyer.token)).expect(200);
      expect(list.body.map((d: { filename: string }) => d.filename)).to.have.members(["credit-note.pdf", "other.pdf", "invoice.pdf"]);
    });

    it("repay: the debtor pays after approving the contract (?wait=true); without an allowance the error says so (409)", async function () {
      const { id } = await receivable({ accept: true });
      const { id: id2 } = await receivable({ accept: true, debtor: "buyer2" });
      const before = await counts();
      const noAllowance = await signedAct(who.buyer2, `/receivables/${id2}/repay`, { amount: "250000" });
      expect(noAllowance.res.status).to.equal(409);
      expect(noAllowance.res.body.message).to.match(/approve the contract on the settlement token first\. Or send an EIP-2612 permit/);
      const notDebtor = await post(who.buyer2, `/receivables/${id}/repay`, { amount: "1" });
      expect(notDebtor.status).to.equal(403);
      expect(notDebtor.body.message).to.match(/Only the debtor/);
      expect(await counts()).to.deep.equal(before);

      const token = env.ledger.token;
      await (await token.connect(w.buyer as Wallet).approve(env.ledger.record.contracts.Receivables, 10_000_000n)).wait();
      const holderBefore = await token.balanceOf(w.supplier.address);
      const { res } = await signedAct(who.buyer, `/receivables/${id}/repay`, { amount: "250000" }, { wait: true });
      expect(res.body).to.include({ kind: "pay", status: "confirmed" });
      expect((await onChain(id)).outstanding).to.equal(1_000_000n);
      expect(await token.balanceOf(w.supplier.address)).to.equal(holderBefore + 250_000n);
      const rest = await signedAct(who.buyer, `/receivables/${id}/repay`, { amount: "1000000" }, { wait: true });
      expect(rest.res.body.status).to.equal("confirmed");
      expect((await onChain(id)).status).to.equal(STATUS.paid);
    });

    it("repay with an EIP-2612 permit: as {value, deadline, v, r, s} and as a compact permitSignature; a forged permit is refused (401)", async function () {
      const { id } = await receivable({ accept: true, debtor: "buyer2" });
      const token = env.ledger.token;
      const spender = env.ledger.record.contracts.Receivables;
      expect(await token.allowance(w.buyer2.address, spender)).to.equal(0n);

      // Permit as an object, for a larger allowance with its own deadline.
      const first = await post(who.buyer2, `/receivables/${id}/repay`, { amount: "250000" }).expect(200);
      const td = first.body.typedData as TypedData;
      const permitDeadline = String(Math.floor(Date.now() / 1000) + 3600);
      const ptd = { ...(first.body.permitTypedData as TypedData) };
      expect(ptd.message).to.include({ owner: w.buyer2.address, spender, value: "250000", nonce: "0", deadline: td.message.deadline });
      const permitSig = Signature.from(await sign(w.buyer2, { ...ptd, message: { ...ptd.message, value: "300000", deadline: permitDeadline } }));
      const permit = { value: "300000", deadline: permitDeadline, v: permitSig.v, r: permitSig.r, s: permitSig.s };
      const res = await post(who.buyer2, `/receivables/${id}/repay?wait=true`, {
        amount: "250000",
        permit,
        nonce: td.message.nonce,
        deadline: td.message.deadline,
        signature: await sign(w.buyer2, td),
      });
      expect(res.status, JSON.stringify(res.body)).to.equal(202);
      expect(res.body.status).to.equal("confirmed");
      expect((await onChain(id)).outstanding).to.equal(1_000_000n);
      expect(await token.allowance(w.buyer2.address, spender)).to.equal(50_000n);

      // A forged permit (another key) is refused before anything is relayed.
      const before = await counts();
      const f = await post(who.buyer2, `/receivables/${id}/repay`, { amount: "400000" }).expect(200);
      const forged = await sign(w.supplier2, f.body.permitTypedData);
      const refused = await post(who.buyer2, `/receivables/${id}/repay`, {
        amount: "400000",
        permitSignature: forged,
        nonce: f.body.typedData.message.nonce,
        deadline: f.body.typedData.message.deadline,
        signature: await sign(w.buyer2, f.body.typedData),
      });
      expect(refused.status).to.equal(422);
      expect(refused.body.message).to.match(new RegExp(`The permit is not ${w.buyer2.address}'s signature`));
      expect(await counts()).to.deep.equal(before);

      // Compact (EIP-2098, 64 bytes) signature over the permitTypedData the service answered.
      const g = await post(who.buyer2, `/receivables/${id}/repay`, { amount: "400000" }).expect(200);
      expect(g.body.permitTypedData.message.nonce).to.equal("1");
      const compact = Signature.from(await sign(w.buyer2, g.body.permitTypedData)).compactSerialized;
      const paid = await post(who.buyer2, `/receivables/${id}/repay?wait=true`, {
        amount: "400000",
        permitSignature: compact,
        nonce: g.body.typedData.message.nonce,
        deadline: g.body.typedData.message.deadline,
        signature: await sign(w.buyer2, g.body.typedData),
      });
      expect(paid.status, JSON.stringify(paid.body)).to.equal(202);
      expect(paid.body.status).to.equal("confirmed");
      expect((await onChain(id)).outstanding).to.equal(600_000n);
      // Posting it again returns the same act and relays nothing more.
      const again = await post(who.buyer2, `/receivables/${id}/repay`, {
        amount: "400000",
        permitSignature: compact,
        nonce: g.body.typedData.message.nonce,
        deadline: g.body.typedData.message.deadline,
        signature: await sign(w.buyer2, g.body.typedData),
      });
      expect(again.status).to.equal(202);
      expect(again.body.id).to.equal(paid.body.id);
      expect((await onChain(id)).outstanding).to.equal(600_000n);
    });
  });

  describe("OpenAPI", function () {
    it("documents every write endpoint with its body, both answers and the Idempotency-Key header", async function () {
      const doc = (await request(svc.url).get("/docs-json").expect(200)).body;
      const paths = ["/receivables", "/receivables/batch", ...["accept", "cancel", "split", "transfer", "credit-notes", "repay"].map((a) => `/receivables/{id}/${a}`)];
      for (const p of paths) {
        const op = doc.paths[p]?.post;
        expect(op, p).to.exist;
        expect(Object.keys(op.responses), p).to.include.members(["200", "202"]);
        expect(op.parameters.map((x: { name: string }) => x.name), p).to.include.members(["wait", "Idempotency-Key"]);
        expect(op.requestBody, p).to.exist;
      }
      expect(doc.paths["/receivables/{id}/documents"]).to.have.keys(["get", "post"]);
      expect(doc.paths["/receivables/{id}/documents/{sha256}"]).to.have.key("get");
      const tokenise = doc.components.schemas.TokeniseReceivableDto;
      expect(Object.keys(tokenise.properties)).to.include.members(["debtor", "invoiceNumber", "amount", "documentHash", "nonce", "deadline", "signature"]);
      expect(tokenise.required).to.include.members(["debtor", "invoiceNumber", "sellerTaxId", "buyerTaxId", "issueDate", "dueDate", "amount"]);
    });
  });

  // ---------------------------------------------------------------- fuzz

  describe("fuzzed bodies", function () {
    it("every write endpoint answers generated bodies without a 5xx and writes no act or outbox row", async function () {
      const { id } = await receivable({ accept: true });
      const hex = (n: number) => fc.uint8Array({ minLength: n, maxLength: n }).map((b) => hexlify(b));
      const value = fc.oneof(
        fc.string({ maxLength: 40 }),
        fc.integer(),
        fc.double(),
        fc.boolean(),
        fc.constant(null),
        hex(20),
        hex(32),
        hex(65),
        fc.bigInt({ min: 0n, max: 2n ** 80n }).map(String),
        fc.constantFrom("1250000", "0", "-1", "18446744073709551616", day(0), day(90), day(-3), "2026-02-30", "9999-12-31", w.buyer.address),
        fc.array(fc.bigInt({ min: 0n, max: 2n ** 70n }).map(String), { maxLength: 4 }),
        fc.dictionary(fc.string({ maxLength: 6 }), fc.string({ maxLength: 6 }), { maxKeys: 3 }),
      );
      const keys = [
        "debtor", "invoiceNumber", "sellerTaxId", "buyerTaxId", "issueDate", "dueDate", "amount", "documentHash", "amounts", "to",
        "creditNoteHash", "permit", "permitSignature", "nonce", "deadline", "signature", "invoices", "extra",
      ];
      const freeform = fc.dictionary(fc.constantFrom(...keys), value, { maxKeys: 9 });
      // Mostly-valid bodies reach deeper: a valid invoice with one field replaced, and forged signatures.
      const nearValid = fc.record({ field: fc.constantFrom(...keys), v: value, signed: fc.boolean(), sig: hex(65) }).map(({ field, v, signed, sig }) => {
        const base: Body = { ...invoice(w.buyer), amounts: ["600000", "650000"], to: w.supplier2.address, creditNoteHash: sha256(Buffer.from("cn")) };
        base[field] = v;
        if (signed) Object.assign(base, { nonce: "7", deadline: String(Math.floor(Date.now() / 1000) + 600), signature: sig });
        return base;
      });
      const routes: Array<[Name, string]> = [
        ["supplier", "/receivables"],
        ["supplier", "/receivables/batch"],
        ["buyer", `/receivables/${id}/accept`],
        ["supplier", `/receivables/${id}/cancel`],
        ["supplier", `/receivables/${id}/split`],
        ["supplier", `/receivables/${id}/transfer`],
        ["supplier", `/receivables/${id}/credit-notes`],
        ["buyer", `/receivables/${id}/repay`],
        ["buyer", `/receivables/${id}/documents`],
        ["buyer", "/receivables/not-an-id/accept"],
      ];
      const before = await counts();
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom(...routes),
          fc.oneof(freeform, nearValid, nearValid.map((b) => ({ invoices: [b, b].slice(0, 1 + (b.amount === "1250000" ? 1 : 0)) }))),
          async ([n, path], body) => {
            const res = await post(who[n], path, body as Body);
            expect(res.status, `${path} ${JSON.stringify(body)} → ${JSON.stringify(res.body)}`).to.be.below(500);
          },
        ),
        { numRuns: 250 },
      );
      expect(await counts()).to.deep.equal(before);
    });
  });

  // ---------------------------------------------------------------- concurrency

  describe("concurrency", function () {
    it(`${CROWD * PER_MEMBER} tokenisations from ${CROWD} members at once: all confirmed, all on-chain and indexed, no duplicate`, async function () {
      const jobs = crowd.flatMap((m, i) =>
        Array.from({ length: PER_MEMBER }, (_, j) => ({
          m,
          body: invoice(w.buyer, { invoiceNumber: `C-${i}-${j}`, amount: String(10_000 + j) }, m.key),
        })),
      );
      // Typed data first (the service proposes each nonce), then every signed act at once.
      const signed: Array<{ m: Who; body: Body }> = [];
      for (let k = 0; k < jobs.length; k += 50) {
        const part = await Promise.all(
          jobs.slice(k, k + 50).map(async ({ m, body }) => {
            const res = await post(m, "/receivables", body);
            expect(res.status, JSON.stringify(res.body)).to.equal(200);
            const td = res.body.typedData as TypedData;
            return { m, body: { ...body, nonce: td.message.nonce, deadline: td.message.deadline, signature: await sign(m.key, td) } };
          }),
        );
        signed.push(...part);
      }
      const started = Date.now();
      const answers = await Promise.all(signed.map(({ m, body }) => post(m, "/receivables", body)));
      const acceptedIn = (Date.now() - started) / 1000;
      const bad = answers.filter((a) => a.status !== 202);
      expect(bad.map((a) => `${a.status} ${JSON.stringify(a.body)}`)).to.deep.equal([]);
      const ids = answers.map((a) => a.body.receivableId as string);
      expect(new Set(ids).size).to.equal(jobs.length);
      expect(ids).to.deep.equal(jobs.map((j) => idOf(j.body)));

      const actIds = answers.map((a) => a.body.id as string);
      let acts: ActEntity[] = [];
      for (let i = 0; i < 1200; i++) {
        acts = await ds.getRepository(ActEntity).findBy({ id: In(actIds) });
        if (acts.every((a) => a.status !== "pending")) break;
        await sleep(100);
      }
      expect(acts.filter((a) => a.status !== "confirmed").map((a) => `${a.status}: ${a.failureReason}`)).to.deep.equal([]);
      const seconds = (Date.now() - started) / 1000;
      console.log(`      ${jobs.length} signed tokenisations accepted in ${acceptedIn.toFixed(1)} s, all confirmed after ${seconds.toFixed(1)} s`);

      await indexer.catchUp();
      expect(await ds.getRepository(ReceivableEntity).countBy({ id: In(ids) })).to.equal(jobs.length);
      const holders = await Promise.all(ids.map((id) => onChain(id).then((r) => r.holder)));
      expect(holders).to.deep.equal(jobs.map((j) => j.m.key.address));
      expect(await ds.getRepository(ActEntity).countBy({ kind: "tokenise", receivableId: In(ids) })).to.equal(jobs.length);
    });
  });

  describe("concurrency, batches", function () {
    // Regression: ten batches posted at once used to starve the sender and indexer of the
    // SQLite database (each invoice's compliance run was its own write transaction) and a client
    // hitting a keep-alive race got ECONNRESET.
    it("10 batches of 40 invoices from 10 members at once: every act confirmed, 400 receivables on-chain and indexed", async function () {
      const members = crowd.slice(0, 10);
      const batches = members.map((m, i) => ({
        m,
        invoices: Array.from({ length: 40 }, (_, j) =>
          invoice(w.buyer, { invoiceNumber: `B-${i}-${j}` }, m.key),
        ),
      }));
      const signed = await Promise.all(
        batches.map(async ({ m, invoices }) => {
          const body = { invoices };
          const res = await post(m, "/receivables/batch", body);
          expect(res.status, JSON.stringify(res.body)).to.equal(200);
          const td = res.body.typedData as TypedData;
          return { m, body: { ...body, nonce: td.message.nonce, deadline: td.message.deadline, signature: await sign(m.key, td) } };
        }),
      );
      const answers = await Promise.all(signed.map(({ m, body }) => post(m, "/receivables/batch?wait=true", body)));
      expect(answers.map((a) => `${a.status} ${a.body.status}`)).to.deep.equal(answers.map(() => "202 confirmed"));
      const ids = answers.flatMap((a) => a.body.result.receivableIds as string[]);
      expect(new Set(ids).size).to.equal(400);
      await indexer.catchUp();
      expect(await ds.getRepository(ReceivableEntity).countBy({ id: In(ids) })).to.equal(400);
      const holders = await Promise.all(ids.map((id) => onChain(id).then((r) => r.holder)));
      expect(holders).to.deep.equal(batches.flatMap(({ m }) => Array.from({ length: 40 }, () => m.key.address)));
    });
  });

  // Last, so the wait for the KYC expiry overlaps everything above.
  describe("expired KYC", function () {
    it("refuses members whose KYC expired: the seller at the door, the debtor by the contract (403)", async function () {
      const wait = lapseAt * 1000 + 1100 - Date.now();
      if (wait > 0) await sleep(wait);
      await chain.provider.send("evm_mine", []); // block time moves past the expiry too
      expect((await chain.provider.getBlock("latest"))!.timestamp).to.be.above(lapseAt);
      const seller = await post(who.lapsing, "/receivables", invoice(w.buyer));
      expect(seller.status).to.equal(403);
      expect(seller.body.message).to.match(/not a verified member: unregistered, suspended or with expired KYC/);
      const before = await counts();
      const body = invoice(w.lapsingBuyer);
      const unsigned = await post(who.supplier, "/receivables", body);
      expect(unsigned.status).to.equal(403);
      expect(unsigned.body.message).to.match(/is not a verified buyer/);
      const td = await clientTypedData("receivables", "Tokenise", {
        seller: w.supplier.address,
        invoice: { debtor: w.lapsingBuyer.address, faceValue: body.amount, dueDate: String(Date.parse(`${body.dueDate}T00:00:00Z`) / 1000), documentHash: body.documentHash, fingerprint: fingerprintOf(body) },
      });
      const signed = await post(who.supplier, "/receivables", { ...body, nonce: td.message.nonce, deadline: td.message.deadline, signature: await sign(w.supplier, td) });
      expect(signed.status).to.equal(403);
      expect(signed.body.code).to.equal("ReceivableUnverifiedParty");
      expect(signed.body.message).to.equal(`${w.lapsingBuyer.address} is not a verified buyer on the ledger (active membership with valid KYC is required).`);
      expect(await counts()).to.deep.equal(before);
    });
  });

  // After "expired KYC": the last case moves the chain's clock an hour on.
  describe("the signed post's simulation of the relayed call", function () {
    /**
     * A spy on the service's JSON-RPC calls carrying relayed batch calldata (`method` or `method gas=N`);
     * the node answers them. `estimate` is the last eth_estimateGas answer without a gas bound.
     */
    function spyRelayedBatchCalls() {
      const provider = svc.app.get(ChainService).provider;
      const selector = env.ledger.receivables.interface.getFunction("tokeniseBatchBySig")!.selector;
      const spy = { seen: [] as string[], estimate: 0n, restore: () => void (provider.send = send) };
      const send = provider.send.bind(provider);
      provider.send = async (method: string, params: unknown[] | Record<string, unknown>) => {
        const tx = Array.isArray(params) ? (params[0] as { data?: unknown; gas?: string } | undefined) : undefined;
        const relayed = typeof tx?.data === "string" && tx.data.startsWith(selector);
        if (relayed) spy.seen.push(tx!.gas ? `${method} gas=${BigInt(tx!.gas)}` : method);
        const answer = (await send(method, params)) as unknown;
        if (relayed && method === "eth_estimateGas" && !tx!.gas) spy.estimate = BigInt(answer as string);
        return answer;
      };
      return spy;
    }

    it("never signs a gas limit above the block gas limit, and refuses an act no block can hold with nothing recorded", async function () {
      const chainService = svc.app.get(ChainService);
      const spy = spyRelayedBatchCalls();
      const { seen } = spy;
      // The node's limit applies from the next block; mine one so "latest" carries it, then read it afresh.
      const setBlockGas = async (limit: bigint) => {
        await chain.provider.send("evm_setBlockGasLimit", [toQuantity(limit)]);
        await chain.provider.send("evm_mine", []);
        expect(await chainService.blockGasLimit(0)).to.equal(limit);
      };
      const seven = () => ({ invoices: Array.from({ length: 7 }, () => invoice(w.buyer)) }); // a shape no other case uses
      const outboxOf = async (actId: string) =>
        ds.getRepository(OutboxEntity).findOneByOrFail({ id: (await ds.getRepository(ActEntity).findOneByOrFail({ id: actId })).outboxId });
      const original = await chainService.blockGasLimit(0);
      try {
        const first = await signedAct(who.supplier, "/receivables/batch", seven(), { wait: true });
        expect(first.res.body.status, JSON.stringify(first.res.body)).to.equal("confirmed");
        expect(seen).to.deep.equal(["eth_estimateGas"]);
        const estimate = spy.estimate;

        // A block that holds the act but not the usual headroom (+2 % for the check, +20 % to sign):
        // the check runs at the block's limit and the transaction is signed with exactly that.
        const cap = estimate + 1_000n;
        expect(gasLimitFor(estimate + estimate / 50n + 1_000n) > cap).to.equal(true);
        await setBlockGas(cap);
        seen.length = 0;
        const second = await signedAct(who.supplier, "/receivables/batch", seven(), { wait: true });
        expect(second.res.body.status, JSON.stringify(second.res.body)).to.equal("confirmed");
        expect(seen).to.deep.equal([`eth_call gas=${cap}`]);
        const row = await outboxOf(second.res.body.id);
        expect(row.gasLimit).to.equal(cap.toString());
        expect(BigInt(row.gasUsed!) <= cap).to.equal(true);

        // A block that cannot hold the act at all: a clear 422 before anything is recorded or signed.
        await setBlockGas(estimate / 3n);
        const before = await counts();
        const body = seven();
        const unsigned = await post(who.supplier, "/receivables/batch", body);
        expect(unsigned.status, JSON.stringify(unsigned.body)).to.equal(200);
        const td = unsigned.body.typedData as TypedData;
        const res = await post(who.supplier, "/receivables/batch", { ...body, nonce: td.message.nonce, deadline: td.message.deadline, signature: await sign(w.supplier, td) });
        expect(res.status, JSON.stringify(res.body)).to.equal(422);
        expect(res.body.code, JSON.stringify(res.body)).to.equal("ActExceedsBlockGasLimit");
        expect(res.body.message).to.match(new RegExp(`^This act needs about \\d+ gas, more than one block of this chain holds \\(${estimate / 3n}\\)`));
        const needed = BigInt(/needs about (\d+) gas/.exec(res.body.message as string)![1]);
        expect(needed > estimate / 3n && needed <= estimate + estimate / 10n).to.equal(true);
        expect(await counts()).to.deep.equal(before);
      } finally {
        spy.restore();
        await setBlockGas(original);
      }
    });

    it("estimates the first act of a shape (once for acts arriving together); later ones run once at that figure + 2 %, with room to spare; a revert is still the ledger's", async function () {
      const spy = spyRelayedBatchCalls();
      const { seen } = spy;
      const invoices = () => Array.from({ length: 5 }, () => invoice(w.buyer));
      const outboxOf = async (actId: string) =>
        ds.getRepository(OutboxEntity).findOneByOrFail({ id: (await ds.getRepository(ActEntity).findOneByOrFail({ id: actId })).outboxId });
      try {
        const first = await signedAct(who.supplier, "/receivables/batch", { invoices: invoices() }, { wait: true });
        expect(first.res.body.status, JSON.stringify(first.res.body)).to.equal("confirmed");
        expect(seen).to.deep.equal(["eth_estimateGas"]);
        expect((await outboxOf(first.res.body.id)).gasLimit).to.equal(gasLimitFor(spy.estimate).toString());

        seen.length = 0;
        const second = await signedAct(who.supplier, "/receivables/batch", { invoices: invoices() }, { wait: true });
        expect(second.res.body.status, JSON.stringify(second.res.body)).to.equal("confirmed");
        const proven = spy.estimate + spy.estimate / 50n + 1_000n;
        expect(seen).to.deep.equal([`eth_call gas=${proven}`]);
        const row = await outboxOf(second.res.body.id);
        expect(row.gasLimit).to.equal(gasLimitFor(proven).toString());
        // At least the headroom an estimate of this very transaction would have been given.
        expect(BigInt(row.gasLimit!) >= gasLimitFor(BigInt(row.gasUsed!))).to.equal(true);

        // Three acts of a new shape at once: one estimate, which the other two wait for.
        seen.length = 0;
        const together = await Promise.all(
          [0, 1, 2].map(() => signedAct(who.supplier, "/receivables/batch", { invoices: [...invoices(), invoice(w.buyer)] }, { wait: true })),
        );
        for (const t of together) expect(t.res.body.status, JSON.stringify(t.res.body)).to.equal("confirmed");
        const six = spy.estimate + spy.estimate / 50n + 1_000n;
        expect(seen).to.deep.equal(["eth_estimateGas", `eth_call gas=${six}`, `eth_call gas=${six}`]);

        // Signed, then the chain's clock passes the deadline: only the contract can refuse it now.
        seen.length = 0;
        const body = { invoices: invoices() };
        const unsigned = await post(who.supplier, "/receivables/batch", body);
        expect(unsigned.status, JSON.stringify(unsigned.body)).to.equal(200);
        const td = unsigned.body.typedData as TypedData;
        await chain.provider.send("evm_increaseTime", [3_700]);
        await chain.provider.send("evm_mine", []);
        const before = await counts();
        const res = await post(who.supplier, "/receivables/batch", { ...body, nonce: td.message.nonce, deadline: td.message.deadline, signature: await sign(w.supplier, td) });
        expect(res.status, JSON.stringify(res.body)).to.equal(422);
        expect(res.body.code).to.be.oneOf(["SignedActionExpired", "ReceivableAttestationExpired"]);
        // The call at the known figure failed; the estimate (at the block's gas limit) gave the verdict.
        expect(seen).to.deep.equal([`eth_call gas=${proven}`, "eth_estimateGas"]);
        expect(await counts()).to.deep.equal(before);
      } finally {
        spy.restore();
      }
    });
  });
});
