/**
 * Uploaded documents against the real service (SQLite, or PostgreSQL with TEST_DATABASE=postgres):
 * onboarding uploads from non-members are checked before they are stored, capped per file, per
 * applicant and in total, streamed to a staging folder and removed when refused; orphaned files
 * are swept at boot and on demand; file names keep their UTF-8; every document is served as an
 * attachment with its stored type and nosniff.
 */
import { createHash } from "node:crypto";
import { existsSync, readdirSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "chai";
import { Wallet, id as keccakId } from "ethers";
import request from "supertest";
import { DocumentsSweeper } from "../../services/src/common/documents.store";
import { IndexerService } from "../../services/src/indexer/indexer.service";
import { bearer, signIn } from "../support/auth";
import { startChain, type TestChain } from "../support/chain";
import { cleanupEnv, prepareEnv, startService, type RunningService, type TestEnv } from "../support/app";
import { freshUscc } from "../support/entity-ids";
import { LedgerDriver } from "../support/ledger-driver";

const KIB = 1024;
const COMPLIANCE_OFFICER = keccakId("COMPLIANCE_OFFICER");
const CHINESE_NAME = "增值税发票-2026.pdf";

describe("Uploaded documents", function () {
  this.timeout(300_000);
  let chain: TestChain;
  let env: TestEnv;
  let svc: RunningService;
  let officer: Wallet;
  let officerToken: string;

  before(async function () {
    chain = await startChain();
    env = await prepareEnv(chain, {
      MAX_UPLOAD_BYTES: String(768 * KIB),
      UPLOAD_APPLICANT_MAX_BYTES: String(1024 * KIB),
      DOCUMENTS_MAX_TOTAL_BYTES: String(8 * 1024 * KIB),
      KYC_JOB_INTERVAL_MS: "3600000",
    });
    svc = await startService(env);
    officer = await chain.fundedWallet();
    await (await env.ledger.registry.connect(chain.account(0)).grantRole(COMPLIANCE_OFFICER, officer.address)).wait();
    officerToken = await signIn(svc.url, officer);
  });
  after(async function () {
    await svc?.close();
    if (env) await cleanupEnv(env);
    await chain?.stop();
  });

  const docsDir = () => env.config.paths.documents;
  const staging = () => join(docsDir(), ".staging");
  /** Files in the store and in staging. */
  const files = () => ({
    stored: readdirSync(docsDir()).filter((n) => /^[0-9a-f]{64}$/.test(n)).sort(),
    staged: readdirSync(staging()).sort(),
  });
  const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");
  const bytes = (n: number, seed: string) => Buffer.alloc(n, seed);

  async function applicant(): Promise<{ wallet: Wallet; token: string }> {
    const wallet = Wallet.createRandom() as unknown as Wallet;
    return { wallet, token: await signIn(svc.url, wallet) };
  }

  function apply(token: string, docs: Array<{ content: Buffer; name: string; type?: string }>, fields: Record<string, string> = {}) {
    let req = request(svc.url).post("/onboarding/applications").set(bearer(token));
    const all = { legalName: "Wuxi Example Bearings Co., Ltd.", entityIdType: "USCC", entityId: freshUscc(), jurisdiction: "CN", roles: "supplier", ...fields };
    for (const [k, v] of Object.entries(all)) req = req.field(k, v);
    for (const d of docs) req = req.attach("documents", d.content, { filename: d.name, contentType: d.type ?? "application/pdf" });
    return req;
  }

  const download = (path: string, token: string) =>
    request(svc.url)
      .get(path)
      .set(bearer(token))
      .buffer(true)
      .parse((r, cb) => {
        const chunks: Buffer[] = [];
        r.on("data", (c: Buffer) => chunks.push(c));
        r.on("end", () => cb(null, Buffer.concat(chunks)));
      });

  describe("refusals store nothing", function () {
    it("a second application while one is open is refused (409) before its upload is stored", async function () {
      const a = await applicant();
      const first = bytes(300 * KIB, "a");
      expect((await apply(a.token, [{ content: first, name: "licence.pdf" }])).status).to.equal(201);
      const before = files();
      for (let i = 0; i < 4; i++) {
        const res = await apply(a.token, [{ content: bytes(600 * KIB, String(i)), name: "again.pdf" }]);
        expect(res.status).to.equal(409);
        expect(res.body.message).to.match(/already has an open application/);
      }
      expect(files()).to.deep.equal(before);
      expect(before.stored).to.include(sha(first));
    });

    it("an application for a legal entity being registered under another address is refused (409) and its staged upload removed", async function () {
      const a = await applicant();
      const uscc = freshUscc();
      const res1 = await apply(a.token, [{ content: bytes(200 * KIB, "u"), name: "licence.pdf" }], { entityId: uscc });
      expect(res1.status).to.equal(201);
      // Approved but not yet indexed as a member: the refusal comes from the application records,
      // after the form (and so the upload) has been read.
      await request(svc.url).post(`/onboarding/applications/${res1.body.id}/approve`).set(bearer(officerToken)).send({}).expect(202);
      const b = await applicant();
      const before = files();
      const res = await apply(b.token, [{ content: bytes(500 * KIB, "v"), name: "licence.pdf" }], { entityId: uscc });
      expect(res.status).to.equal(409);
      expect(res.body.message).to.match(/already (being )?registered under/);
      expect(files()).to.deep.equal(before);
      expect(before.staged).to.deep.equal([]);

      // Once a member, the address itself is refused before its upload is read.
      for (let i = 0; (await request(svc.url).get(`/onboarding/applications/${res1.body.id}`).set(bearer(a.token))).body.status !== "approved"; i++) {
        if (i > 200) throw new Error("the registration was never mined");
        await new Promise((r) => setTimeout(r, 50));
      }
      await svc.app.get(IndexerService).catchUp();
      const member = await signIn(svc.url, a.wallet);
      const again = await apply(member, [{ content: bytes(500 * KIB, "w"), name: "licence.pdf" }]);
      expect(again.status).to.equal(409);
      expect(again.body.message).to.match(/already a ledger member/);
      expect(files()).to.deep.equal(before);
    });

    it("an invalid form is refused (400) and its staged upload removed", async function () {
      const a = await applicant();
      const before = files();
      const res = await apply(a.token, [{ content: bytes(100 * KIB, "x"), name: "licence.pdf" }], { jurisdiction: "not a code" });
      expect(res.status).to.equal(400);
      expect(files()).to.deep.equal(before);
    });
  });

  describe("caps (413, nothing stored)", function () {
    it("a document over MAX_UPLOAD_BYTES", async function () {
      const a = await applicant();
      const before = files();
      const res = await apply(a.token, [{ content: bytes(800 * KIB, "m"), name: "big.pdf" }]);
      expect(res.status).to.equal(413);
      expect(files()).to.deep.equal(before);
    });

    it("documents together over the applicant's cap, in one submission or across submissions", async function () {
      const a = await applicant();
      const before = files();
      const res = await apply(a.token, [
        { content: bytes(600 * KIB, "p"), name: "one.pdf" },
        { content: bytes(600 * KIB, "q"), name: "two.pdf" },
      ]);
      expect(res.status).to.equal(413);
      expect(res.body.message).to.match(/may total at most 1048576 bytes/);
      expect(files()).to.deep.equal(before);

      // 600 KiB accepted, then rejected by an officer; a new application with 600 KiB more is over.
      const ok = await apply(a.token, [{ content: bytes(600 * KIB, "r"), name: "one.pdf" }]);
      expect(ok.status).to.equal(201);
      await request(svc.url).post(`/onboarding/applications/${ok.body.id}/reject`).set(bearer(officerToken)).send({ reason: "blurred scan" }).expect(200);
      const mid = files();
      const over = await apply(a.token, [{ content: bytes(600 * KIB, "s"), name: "two.pdf" }]);
      expect(over.status).to.equal(413);
      expect(over.body.message).to.match(/614400 are stored for/);
      expect(files()).to.deep.equal(mid);
    });

    it("the document store over DOCUMENTS_MAX_TOTAL_BYTES", async function () {
      const filler = join(docsDir(), "f".repeat(64));
      writeFileSync(filler, Buffer.alloc(8 * 1024 * KIB));
      // The folder's size is measured at most every 30 s, and after every sweep (which keeps the
      // filler: it is younger than the grace).
      await svc.app.get(DocumentsSweeper).sweep();
      try {
        const a = await applicant();
        const before = files();
        const res = await apply(a.token, [{ content: bytes(10 * KIB, "t"), name: "small.pdf" }]);
        expect(res.status).to.equal(413);
        expect(res.body.message).to.match(/Document storage is full/);
        expect(files()).to.deep.equal(before);
      } finally {
        rmSync(filler);
        await svc.app.get(DocumentsSweeper).sweep();
      }
    });
  });

  describe("orphans", function () {
    it("removes staging leftovers and unreferenced files older than the grace, at boot and on each sweep, and keeps referenced ones", async function () {
      const a = await applicant();
      const kept = bytes(50 * KIB, "k");
      expect((await apply(a.token, [{ content: kept, name: "kept.pdf" }])).status).to.equal(201);
      const old = new Date(Date.now() - 2 * 3_600_000);
      const plant = () => {
        const orphan = Buffer.from(`orphan ${Math.random()}`);
        const paths = { orphan: join(docsDir(), sha(orphan)), leftover: join(staging(), `leftover-${Math.random()}.upload`), fresh: join(docsDir(), sha(Buffer.from(`fresh ${Math.random()}`))) };
        writeFileSync(paths.orphan, orphan);
        writeFileSync(paths.leftover, "half an upload");
        writeFileSync(paths.fresh, "just moved in");
        for (const p of [paths.orphan, paths.leftover, join(docsDir(), sha(kept))]) utimesSync(p, old, old);
        return paths;
      };

      const p1 = plant();
      expect(await svc.app.get(DocumentsSweeper).sweep()).to.be.at.least(2);
      expect([existsSync(p1.orphan), existsSync(p1.leftover), existsSync(p1.fresh)]).to.deep.equal([false, false, true]);
      expect(existsSync(join(docsDir(), sha(kept)))).to.equal(true);

      // At boot: a restarted service sweeps before anyone asks.
      const p2 = plant();
      await svc.close();
      svc = await startService(env);
      officerToken = await signIn(svc.url, officer);
      for (let i = 0; i < 50 && existsSync(p2.orphan); i++) await new Promise((r) => setTimeout(r, 100));
      expect([existsSync(p2.orphan), existsSync(p2.leftover), existsSync(p2.fresh)]).to.deep.equal([false, false, true]);
      expect(existsSync(join(docsDir(), sha(kept)))).to.equal(true);
    });
  });

  describe("file names and downloads", function () {
    it("keeps a UTF-8 file name intact and serves KYC documents as attachments with their stored type and nosniff", async function () {
      const a = await applicant();
      const pdf = Buffer.from("%PDF-1.7 VAT invoice");
      const html = Buffer.from("<script>alert(document.cookie)</script>");
      const res = await apply(a.token, [
        { content: pdf, name: CHINESE_NAME },
        { content: html, name: "page.html", type: "text/html" },
      ]);
      expect(res.status).to.equal(201);
      expect(res.body.documents.map((d: { filename: string }) => d.filename)).to.deep.equal([CHINESE_NAME, "page.html"]);
      const [pdfDoc, htmlDoc] = res.body.documents as Array<{ id: string }>;

      const dl = await download(`/onboarding/applications/${res.body.id}/documents/${pdfDoc.id}`, a.token);
      expect(dl.status).to.equal(200);
      expect(Buffer.compare(dl.body as Buffer, pdf)).to.equal(0);
      expect(dl.headers["content-type"]).to.equal("application/pdf");
      expect(dl.headers["x-content-type-options"]).to.equal("nosniff");
      expect(dl.headers["content-disposition"]).to.equal(`attachment; filename="?????-2026.pdf"; filename*=UTF-8''${encodeURIComponent(CHINESE_NAME)}`);

      const page = await download(`/onboarding/applications/${res.body.id}/documents/${htmlDoc.id}`, officerToken);
      expect(page.status).to.equal(200);
      expect(page.headers["content-type"]).to.match(/^text\/html/);
      expect(page.headers["content-disposition"]).to.equal('attachment; filename="page.html"');
      expect(page.headers["x-content-type-options"]).to.equal("nosniff");

      // Another applicant may not read them; an unknown document is 404.
      const b = await applicant();
      expect((await download(`/onboarding/applications/${res.body.id}/documents/${pdfDoc.id}`, b.token)).status).to.equal(403);
      expect((await download(`/onboarding/applications/${res.body.id}/documents/${res.body.id}`, a.token)).status).to.equal(404);
    });

    it("keeps a UTF-8 file name of a receivable document and serves it as an attachment with nosniff", async function () {
      const d = await LedgerDriver.onboard(env);
      const id = await d.tokenise(d.p.supplier, d.p.buyer);
      await svc.app.get(IndexerService).catchUp();
      const token = await signIn(svc.url, d.p.supplier);
      const content = Buffer.from("%PDF-1.7 增值税发票");
      const up = await request(svc.url)
        .post(`/receivables/${id}/documents`)
        .set(bearer(token))
        .attach("document", content, { filename: CHINESE_NAME, contentType: "application/pdf" });
      expect(up.status, JSON.stringify(up.body)).to.equal(201);
      expect(up.body.filename).to.equal(CHINESE_NAME);
      const dl = await download(`/receivables/${id}/documents/${sha(content)}`, token);
      expect(dl.status).to.equal(200);
      expect(Buffer.compare(dl.body as Buffer, content)).to.equal(0);
      expect(dl.headers["content-type"]).to.equal("application/pdf");
      expect(dl.headers["x-content-type-options"]).to.equal("nosniff");
      expect(dl.headers["content-disposition"]).to.equal(`attachment; filename="?????-2026.pdf"; filename*=UTF-8''${encodeURIComponent(CHINESE_NAME)}`);
    });
  });
});
