/**
 * Finding members and receivables by what people know of them, against a real chain and database:
 * members onboarded through the API (apply, approve), an invoice tokenised on-chain by its seller's
 * own wallet with the attester's signature, then GET /participants?name|taxId|address and
 * GET /receivables?invoiceNumber= read by each kind of caller — results, scope and refusals.
 */
import { expect } from "chai";
import { Wallet, id as keccakId, sha256, toUtf8Bytes } from "ethers";
import request from "supertest";
import { IndexerService } from "../../services/src/indexer/indexer.service";
import { invoiceFingerprint, receivableIdOf } from "../../shared/fingerprint";
import { receivableIdHex } from "../../shared/ids";
import { attestInvoices, type LedgerInvoice } from "../support/acts";
import { bearer, signIn } from "../support/auth";
import { startChain, type TestChain } from "../support/chain";
import { cleanupEnv, prepareEnv, startService, type RunningService, type TestEnv } from "../support/app";
import { freshUscc } from "../support/entity-ids";

type Who = "acme" | "northwind" | "other" | "auditor";
const NAMES: Record<Who, [string, string]> = {
  acme: ["Acme Components Co., Ltd.", "supplier"],
  northwind: ["Northwind Motor Group Co., Ltd.", "buyer"],
  other: ["Other Textiles Co., Ltd.", "supplier"],
  auditor: ["Lakeside Audit Partners", "auditor"],
};
const INVOICE = "INV-2026-0042";

describe("Looking up members and receivables (GET /participants?name|taxId|address, GET /receivables?invoiceNumber)", function () {
  this.timeout(300_000);
  let chain: TestChain;
  let env: TestEnv;
  let svc: RunningService;
  const wallets = {} as Record<Who | "officer" | "stranger", Wallet>;
  const tokens = {} as Record<Who | "officer" | "stranger", string>;
  const taxIds = {} as Record<Who, string>;
  let receivableId: string;

  before(async function () {
    chain = await startChain();
    env = await prepareEnv(chain);
    svc = await startService(env);
    for (const w of ["officer", "stranger", ...Object.keys(NAMES)] as Array<Who | "officer" | "stranger">) {
      wallets[w] = await chain.fundedWallet();
    }
    await (await env.ledger.registry.connect(chain.account(0)).grantRole(keccakId("COMPLIANCE_OFFICER"), wallets.officer.address)).wait();
    for (const w of Object.keys(wallets) as Array<Who | "officer" | "stranger">) tokens[w] = await signIn(svc.url, wallets[w]);
    for (const [who, [legalName, role]] of Object.entries(NAMES) as Array<[Who, [string, string]]>) {
      taxIds[who] = freshUscc();
      const app = await request(svc.url)
        .post("/onboarding/applications")
        .set(bearer(tokens[who]))
        .field("legalName", legalName)
        .field("entityIdType", "USCC")
        .field("entityId", taxIds[who])
        .field("jurisdiction", "CN")
        .field("roles", role)
        .attach("documents", Buffer.from(`business licence of ${legalName}`), "licence.pdf")
        .expect(201);
      const approved = await request(svc.url).post(`/onboarding/applications/${app.body.id}/approve?wait=true`).set(bearer(tokens.officer)).send({}).expect(202);
      expect(approved.body.status, who).to.equal("approved");
    }
    // Acme tokenises an invoice owed by Northwind, straight on the chain with the attester's signature.
    const fingerprint = invoiceFingerprint(env.config.FINGERPRINT_SALT, { sellerTaxId: taxIds.acme, invoiceNumber: INVOICE });
    const now = (await chain.provider.getBlock("latest"))!.timestamp;
    const inv: LedgerInvoice = {
      debtor: wallets.northwind.address,
      faceValue: 1_000_000_00n,
      dueDate: now + 90 * 86_400,
      documentHash: sha256(toUtf8Bytes(`invoice ${INVOICE}`)),
      fingerprint,
    };
    const attestation = await attestInvoices(
      env.keys.compliance,
      { chainId: chain.chainId, receivables: env.ledger.record.contracts.Receivables },
      wallets.acme.address,
      [inv],
      false,
    );
    await (await env.ledger.receivables.connect(wallets.acme).tokenise(inv, attestation)).wait();
    receivableId = receivableIdHex(receivableIdOf(fingerprint));
    await svc.app.get(IndexerService).catchUp();
    // Sessions were bound before membership: sign in again so the roles are current.
    for (const w of Object.keys(NAMES) as Who[]) tokens[w] = await signIn(svc.url, wallets[w]);
  });
  after(async function () {
    await svc?.close();
    if (env) await cleanupEnv(env);
    await chain?.stop();
  });

  const get = (who: keyof typeof tokens, path: string, query: Record<string, string>) => request(svc.url).get(path).query(query).set(bearer(tokens[who]));
  const addresses = (res: request.Response) => (res.body.items as Array<{ address: string }>).map((i) => i.address);

  describe("GET /participants lookups", function () {
    it("finds members by name as a reader sees it (case, punctuation, full-width and look-alike letters), with their legal name and tax id", async function () {
      for (const name of ["acme", "ACME COMPONENTS", "Ａｃｍｅ", "Асme", "acme components co ltd"]) {
        const res = await get("auditor", "/participants", { name }).expect(200);
        expect(addresses(res), name).to.deep.equal([wallets.acme.address]);
      }
      const res = await get("officer", "/participants", { name: "co., ltd" }).expect(200);
      expect(addresses(res)).to.have.members([wallets.acme.address, wallets.northwind.address, wallets.other.address]);
      const acme = res.body.items.find((i: { address: string }) => i.address === wallets.acme.address);
      expect(acme).to.include({ legalName: NAMES.acme[0], entityId: taxIds.acme, entityIdType: "USCC", verified: true });
      expect(acme.roles).to.deep.equal(["supplier"]);
    });

    it("finds the member registered under a tax id as printed (spaces, dashes, lower case), for any verified member", async function () {
      const printed = `${taxIds.other.slice(0, 6)} ${taxIds.other.slice(6, 12)}-${taxIds.other.slice(12).toLowerCase()}`;
      for (const who of ["acme", "northwind", "auditor", "officer"] as const) {
        const res = await get(who, "/participants", { taxId: printed }).expect(200);
        expect(addresses(res), who).to.deep.equal([wallets.other.address]);
      }
      const none = await get("acme", "/participants", { taxId: freshUscc() }).expect(200);
      expect(none.body.items).to.deep.equal([]);
    });

    it("scopes name and address lookups: a member finds itself and its counterparties only", async function () {
      expect(addresses(await get("acme", "/participants", { name: "northwind" }).expect(200))).to.deep.equal([wallets.northwind.address]);
      expect(addresses(await get("northwind", "/participants", { name: "acme" }).expect(200))).to.deep.equal([wallets.acme.address]);
      expect(addresses(await get("acme", "/participants", { name: "acme" }).expect(200))).to.deep.equal([wallets.acme.address]);
      // Other shares no receivable with Acme: neither its name nor its address finds it.
      expect((await get("acme", "/participants", { name: "other textiles" }).expect(200)).body.items).to.deep.equal([]);
      expect((await get("acme", "/participants", { address: wallets.other.address }).expect(200)).body.items).to.deep.equal([]);
      expect((await get("other", "/participants", { name: "acme" }).expect(200)).body.items).to.deep.equal([]);
      expect(addresses(await get("auditor", "/participants", { address: wallets.other.address.toLowerCase() }).expect(200))).to.deep.equal([
        wallets.other.address,
      ]);
      // Without a lookup a member still lists only itself.
      expect(addresses(await get("acme", "/participants", {}).expect(200))).to.deep.equal([wallets.acme.address]);
    });

    it("refuses a tax id lookup by an address that is not a verified member (403)", async function () {
      const res = await get("stranger", "/participants", { taxId: taxIds.acme }).expect(403);
      expect(res.body.detail ?? res.body.message).to.match(/verified members/);
    });

    it("refuses malformed lookups with 400 naming the problem", async function () {
      const bad: Array<[Record<string, string>, RegExp]> = [
        [{ taxId: "12345" }, /neither a unified social credit code/],
        [{ taxId: taxIds.acme.slice(0, 17) + (taxIds.acme[17] === "0" ? "1" : "0") }, /check character/],
        [{ name: "a" }, /name/],
        [{ name: "--" }, /at least two letters/],
        [{ address: "0x1234" }, /address/],
        [{ name: "acme", taxId: taxIds.acme }, /one of name, taxId or address/],
      ];
      for (const [query, why] of bad) {
        const res = await get("auditor", "/participants", query);
        expect(res.status, JSON.stringify(query)).to.equal(400);
        expect(JSON.stringify(res.body), JSON.stringify(query)).to.match(why);
      }
    });
  });

  describe("GET /receivables?invoiceNumber=", function () {
    it("finds the receivable by its invoice number as printed, for its parties and auditors", async function () {
      for (const who of ["acme", "northwind", "auditor", "officer"] as const) {
        for (const invoiceNumber of [INVOICE, "inv 2026 0042", "ＩＮＶ－２０２６－００４２"]) {
          const res = await get(who, "/receivables", { invoiceNumber }).expect(200);
          expect(res.body.items.map((i: { id: string }) => i.id), `${who} ${invoiceNumber}`).to.deep.equal([receivableId]);
        }
      }
      const named = await get("auditor", "/receivables", { invoiceNumber: INVOICE, sellerTaxId: taxIds.acme }).expect(200);
      expect(named.body.items.map((i: { id: string }) => i.id)).to.deep.equal([receivableId]);
    });

    it("finds nothing outside the caller's scope, under another seller, or for another number", async function () {
      expect((await get("other", "/receivables", { invoiceNumber: INVOICE }).expect(200)).body.items).to.deep.equal([]);
      expect((await get("auditor", "/receivables", { invoiceNumber: INVOICE, sellerTaxId: taxIds.other }).expect(200)).body.items).to.deep.equal([]);
      expect((await get("auditor", "/receivables", { invoiceNumber: "INV-2026-0043" }).expect(200)).body.items).to.deep.equal([]);
    });

    it("refuses malformed invoice lookups with 400", async function () {
      const bad: Array<[Record<string, string>, RegExp]> = [
        [{ invoiceNumber: "INV-2026-0042", sellerTaxId: "12" }, /sellerTaxId/],
        [{ sellerTaxId: taxIds.acme }, /sellerTaxId goes with invoiceNumber/],
        [{ invoiceNumber: "INV-2026-00\u0417\u0430" }, /mixes writing systems/],
        [{ invoiceNumber: "" }, /invoiceNumber/],
      ];
      for (const [query, why] of bad) {
        const res = await get("auditor", "/receivables", query);
        expect(res.status, JSON.stringify(query)).to.equal(400);
        expect(JSON.stringify(res.body), JSON.stringify(query)).to.match(why);
      }
    });
  });
});
