/**
 * Financing writes end to end against the real service: a `hardhat node` over JSON-RPC, a fresh
 * deployment and database (SQLite, or PostgreSQL with TEST_DATABASE=postgres). Members, tokens,
 * allowances and receivables are set up directly on-chain from the participants' own wallets;
 * every financing act goes through the API as typed data that the participant signs, and its
 * effect is checked on-chain and in the indexed projection. Refusals are checked for status,
 * message, and that nothing was written (acts and outbox counts unchanged).
 */
import { writeFileSync } from "node:fs";
import { expect } from "chai";
import { signTypedData as ethSigUtilSign, SignTypedDataVersion, TypedDataUtils, type MessageTypes, type TypedMessage } from "@metamask/eth-sig-util";
import fc from "fast-check";
import {
  MaxUint256,
  TypedDataEncoder,
  ZeroAddress,
  decodeBytes32String,
  encodeBytes32String,
  hexlify,
  id as keccakId,
  randomBytes,
  type Wallet,
} from "ethers";
import request from "supertest";
import { DataSource } from "typeorm";
import { getDataSourceToken } from "@nestjs/typeorm";
import { DEFAULT_PARAMS, deployLedger, describeDeployment } from "../../scripts/lib/deploy-ledger";
import { ActsService } from "../../services/src/acts/acts.service";
import { ActEntity } from "../../services/src/acts/entities/act.entity";
import { FINANCING_TYPES } from "../../shared/eip712";
import { registrationHash } from "../../shared/financing-terms";
import { receivableIdHex } from "../../shared/ids";
import { ComplianceCheckEntity } from "../../services/src/compliance/entities/compliance-check.entity";
import { CreditLineEntity, FinancingEntity } from "../../services/src/read-model/entities/projections.entity";
import { IndexerService } from "../../services/src/indexer/indexer.service";
import { OutboxEntity } from "../../services/src/outbox/entities/outbox.entity";
import { bearer, signIn } from "../support/auth";
import { startChain, type TestChain } from "../support/chain";
import { cleanupEnv, prepareEnv, startService, type RunningService, type TestEnv } from "../support/app";
import { attestInvoices, termsOf } from "../support/acts";
import { type ActTypedData, proposedFields, signTypedData } from "../../shared/client";
import { receivableIdOf } from "../../shared/fingerprint";
import { ROLE_BITS } from "../../shared/roles";

const DAY = 86_400;
const YEAR = 365 * DAY;
const BPS = 10_000n;
const STATUS = { requested: 1n, rejected: 2n, active: 3n, repaid: 4n, writtenOff: 5n, withdrawn: 6n } as const;
const RECEIVABLE = { financed: 3n, defaulted: 5n } as const;

type Name = "financier" | "financier2" | "supplier" | "supplier2" | "buyer" | "suspended" | "lapsing";
const NAMES: Record<Name, number> = {
  financier: ROLE_BITS.financier,
  financier2: ROLE_BITS.financier,
  supplier: ROLE_BITS.supplier,
  supplier2: ROLE_BITS.supplier,
  buyer: ROLE_BITS.buyer,
  suspended: ROLE_BITS.financier,
  lapsing: ROLE_BITS.financier,
};

type TypedData = ActTypedData;

/** One service under test with its members signed in, and the helpers every test uses. */
class Harness {
  readonly w = {} as Record<Name, Wallet>;
  readonly tokens = {} as Record<Name, string>;
  ds!: DataSource;

  constructor(
    readonly chain: TestChain,
    public env: TestEnv,
    public svc: RunningService,
  ) {}

  async setUp(names: Name[]): Promise<void> {
    this.ds = this.svc.app.get<DataSource>(getDataSourceToken());
    // The node's genesis is pinned in the past; the service judges due dates and KYC by the wall
    // clock and the contracts by block time, so bring block time up to the wall clock first.
    const behind = Math.floor(Date.now() / 1000) - (await this.now());
    if (behind > 0) {
      await this.chain.provider.send("evm_increaseTime", [behind]);
      await this.chain.provider.send("evm_mine", []);
    }
    const { registry, token, receivables, financing } = this.env.ledger;
    const kycExpiry = (await this.now()) + YEAR;
    for (const n of names) {
      this.w[n] = await this.chain.fundedWallet();
      await (await registry.connect(this.env.keys.operator).register(this.w[n].address, NAMES[n], kycExpiry, "0x434e", keccakId(n))).wait();
    }
    const issuer = this.chain.account(0);
    for (const n of names) {
      if (NAMES[n] === ROLE_BITS.financier) {
        await (await token.connect(issuer).mint(this.w[n].address, 100_000_000_00n)).wait();
        await (await token.connect(this.w[n]).approve(await financing.getAddress(), MaxUint256)).wait();
      }
      if (NAMES[n] === ROLE_BITS.buyer) {
        await (await token.connect(issuer).mint(this.w[n].address, 100_000_000_00n)).wait();
        await (await token.connect(this.w[n]).approve(await receivables.getAddress(), MaxUint256)).wait();
      }
    }
    await this.indexed();
    for (const n of names) this.tokens[n] = await signIn(this.svc.url, this.w[n]);
  }

  indexed(): Promise<number> {
    return this.svc.app.get(IndexerService).catchUp();
  }

  async now(): Promise<number> {
    return (await this.chain.provider.getBlock("latest"))!.timestamp;
  }

  post(who: Name, path: string, body: object, idempotencyKey?: string) {
    const r = request(this.svc.url).post(path).set(bearer(this.tokens[who]));
    if (idempotencyKey) r.set("Idempotency-Key", idempotencyKey);
    return r.send(body);
  }

  /** Posts without a signature (expects the typed data), signs it with `signer`, posts it signed. */
  async signed(who: Name, path: string, body: object, opts: { wait?: boolean; signer?: Wallet } = {}) {
    const unsigned = await this.post(who, path, body);
    expect(unsigned.status, `${path} unsigned: ${JSON.stringify(unsigned.body)}`).to.equal(200);
    expect(unsigned.body.status).to.equal("unsigned");
    const td = unsigned.body.typedData as TypedData;
    const signature = await signTypedData((opts.signer ?? this.w[who]), td);
    const signedBody = {
      ...proposedFields(td.primaryType, td.message),
      ...body,
      nonce: td.message.nonce,
      deadline: td.message.deadline,
      signature,
    };
    const res = await this.post(who, `${path}${opts.wait === false ? "" : "?wait=true"}`, signedBody);
    return { res, typedData: td, signedBody, digest: unsigned.body.digest as string };
  }

  /** A signed act that must be accepted (and, by default, confirmed). */
  async act(who: Name, path: string, body: object, wait = true) {
    const { res, typedData, signedBody } = await this.signed(who, path, body, { wait });
    expect(res.status, `${path}: ${JSON.stringify(res.body)}`).to.equal(202);
    if (wait) expect(res.body.status, `${path}: ${JSON.stringify(res.body)}`).to.equal("confirmed");
    return { act: res.body as Record<string, unknown> & { id: string; result: Record<string, unknown> | null }, typedData, signedBody };
  }

  /** Signs a Financing act built locally, as a client holding the EIP-712 types would. */
  async signLocally(who: Name, primaryType: keyof typeof FINANCING_TYPES, message: Record<string, unknown>, signer?: Wallet) {
    const domain = (await request(this.svc.url).get("/eip712").expect(200)).body.financing.domain;
    const nonce = BigInt(hexlify(randomBytes(8))).toString();
    const deadline = String(Math.floor(Date.now() / 1000) + 600);
    const signature = await (signer ?? this.w[who]).signTypedData(domain, FINANCING_TYPES[primaryType], { ...message, nonce, deadline });
    return { nonce, deadline, signature };
  }

  async openLine(terms: Partial<Record<string, unknown>> = {}): Promise<number> {
    const { act } = await this.act("financier", "/credit-lines", {
      debtor: this.w.buyer.address,
      limit: "50000000",
      maxAdvanceBps: 8000,
      discountBps: 1200,
      expiry: new Date(Date.now() + 180 * DAY * 1000).toISOString(),
      ...terms,
    });
    return act.result!.lineId as number;
  }

  /** Tokenised by the supplier and (by default) accepted by the buyer, directly on-chain. */
  async receivable(opts: { faceValue?: bigint; dueIn?: number; accept?: boolean; seller?: Name } = {}) {
    const { receivables } = this.env.ledger;
    const fingerprint = hexlify(randomBytes(32));
    const dueDate = (await this.now()) + (opts.dueIn ?? 90 * DAY);
    const seller = this.w[opts.seller ?? "supplier"];
    const inv = { debtor: this.w.buyer.address, faceValue: opts.faceValue ?? 1_000_000n, dueDate, documentHash: keccakId(`invoice ${fingerprint}`), fingerprint };
    const ledger = { chainId: this.env.chain.chainId, receivables: await receivables.getAddress() };
    await (await receivables.connect(seller).tokenise(inv, await attestInvoices(this.env.keys.compliance, ledger, seller.address, [inv], false))).wait();
    const id = receivableIdOf(fingerprint);
    if (opts.accept !== false) await (await receivables.connect(this.w.buyer).accept(id, termsOf(seller.address, inv))).wait();
    await this.indexed();
    return { id, hex: receivableIdHex(id), dueDate };
  }

  async request(receivableHex: string, lineId: number, who: Name = "supplier") {
    return (await this.act(who, "/financings", { receivableId: receivableHex, lineId })).act;
  }

  async counts(): Promise<number[]> {
    return Promise.all([this.ds.getRepository(ActEntity).count(), this.ds.getRepository(OutboxEntity).count()]);
  }

  /** Runs `fn` and checks it wrote no act and no outbox row. */
  async writesNothing<T>(fn: () => Promise<T>): Promise<T> {
    const before = await this.counts();
    const out = await fn();
    expect(await this.counts(), "acts and outbox rows").to.deep.equal(before);
    return out;
  }
}

function expectRefusal(res: request.Response, status: number, message: RegExp): void {
  expect(res.status, JSON.stringify(res.body)).to.equal(status);
  const text = Array.isArray(res.body.message) ? res.body.message.join("; ") : String(res.body.message);
  expect(text).to.match(message);
}

/** The KYC sweep would suspend the lapsing member through the outbox in the middle of a test. */
const ENV_OVERRIDES = { KYC_JOB_INTERVAL_MS: "3600000" };

const isoIn = (days: number) => new Date(Date.now() + days * DAY * 1000).toISOString();

/** The movable-property financing registration number the tests' approvals record. */
const REG = "04411234000567890123";

/** Request terms as a client names them in the body, and as it signs them (unix seconds). */
function requestTermsBody(lineId: number, minPaid = "0", maxDiscount = "0") {
  const expiresAt = Math.floor(Date.now() / 1000) + 7 * DAY;
  return {
    body: { minPaid, maxDiscount, expiresAt: new Date(expiresAt * 1000).toISOString() },
    signed: { lineId, minPaid, maxDiscount, expiresAt },
  };
}

describe("Financing writes: credit lines and financings as participant-signed acts", function () {
  this.timeout(600_000);
  let chain: TestChain;
  let h: Harness;

  before(async function () {
    chain = await startChain();
    const env = await prepareEnv(chain, ENV_OVERRIDES);
    h = new Harness(chain, env, await startService(env));
    await h.setUp(Object.keys(NAMES) as Name[]);
  });
  after(async function () {
    await h?.svc.close();
    if (h?.env) await cleanupEnv(h.env);
    await chain?.stop();
  });

  it("documents every financing write route in the OpenAPI document", async function () {
    const doc = (await request(h.svc.url).get("/docs-json").expect(200)).body;
    for (const p of [
      "/credit-lines",
      "/credit-lines/{id}/update",
      "/credit-lines/{id}/close",
      "/financings",
      "/financings/{id}/approve",
      "/financings/{id}/withdraw",
      "/financings/{id}/reject",
      "/financings/{id}/write-off",
    ]) {
      expect(doc.paths[p], p).to.have.property("post");
      expect(doc.paths[p].post.parameters.map((x: { name: string }) => x.name), p).to.include("Idempotency-Key");
    }
  });

  describe("credit lines", function () {
    it("POST /credit-lines: typed data to sign (200) with EIP712Domain, signed unchanged by eth-sig-util as eth_signTypedData_v4 does, then the act (202) that reports the new line id once confirmed", async function () {
      const { financing } = h.env.ledger;
      const expiry = isoIn(180);
      const body = { debtor: h.w.buyer.address.toLowerCase(), limit: "50000000", maxAdvanceBps: 8000, discountBps: 1200, expiry };
      const unsigned = await h.writesNothing(() => h.post("financier", "/credit-lines", body));
      expect(unsigned.status).to.equal(200);
      const td = unsigned.body.typedData as TypedData;
      expect(unsigned.body.kind).to.equal("open_line");
      expect(td.primaryType).to.equal("OpenCreditLine");
      expect(td.domain).to.deep.equal({
        name: "SCF Financing",
        version: "1",
        chainId: "31337",
        verifyingContract: h.env.ledger.record.contracts.Financing,
      });
      const expirySec = String(Math.floor(Date.parse(expiry) / 1000));
      expect(td.message).to.deep.include({ financier: h.w.financier.address, debtor: h.w.buyer.address, supplier: ZeroAddress });
      expect(td.message.terms).to.deep.equal({ limit: "50000000", maxAdvanceBps: "8000", discountBps: "1200", expiry: expirySec });
      const { EIP712Domain, ...plainTypes } = td.types;
      expect(EIP712Domain, "types handed out include EIP712Domain").to.deep.equal([
        { name: "name", type: "string" },
        { name: "version", type: "string" },
        { name: "chainId", type: "uint256" },
        { name: "verifyingContract", type: "address" },
      ]);
      expect(unsigned.body.digest).to.equal(TypedDataEncoder.hash(td.domain, plainTypes, td.message));
      // A second library hashes the typed data exactly as handed out to the same digest.
      expect(hexlify(TypedDataUtils.eip712Hash(td as unknown as TypedMessage<MessageTypes>, SignTypedDataVersion.V4))).to.equal(unsigned.body.digest);

      // ...and its signature, made as eth_signTypedData_v4 makes it, is the financier's act.
      const signature = ethSigUtilSign({
        privateKey: Buffer.from(h.w.financier.privateKey.slice(2), "hex"),
        data: td as unknown as TypedMessage<MessageTypes>,
        version: SignTypedDataVersion.V4,
      });
      const res = await h.post("financier", "/credit-lines?wait=true", { ...body, nonce: td.message.nonce, deadline: td.message.deadline, signature });
      expect(res.status, JSON.stringify(res.body)).to.equal(202);
      expect(res.body).to.include({ kind: "open_line", status: "confirmed", signer: h.w.financier.address, nonce: td.message.nonce });
      const lineId = Number(await financing.creditLineCount());
      expect(res.body.result).to.deep.equal({ lineId });
      expect(res.body.lineId).to.equal(lineId);
      expect(res.body.txHash).to.match(/^0x[0-9a-f]{64}$/);

      const line = await financing.creditLine(lineId);
      expect(line.financier).to.equal(h.w.financier.address);
      expect(line.debtor).to.equal(h.w.buyer.address);
      expect(line.supplier).to.equal(ZeroAddress);
      expect([line.limit, line.maxAdvanceBps, line.discountBps, line.expiry]).to.deep.equal([50_000_000n, 8000n, 1200n, BigInt(expirySec)]);
      expect(line.open).to.equal(true);

      const again = await request(h.svc.url).get(`/acts/${res.body.id}`).set(bearer(h.tokens.financier)).expect(200);
      expect(again.body.result).to.deep.equal({ lineId });
      const indexed = await h.ds.getRepository(CreditLineEntity).findOneByOrFail({ id: lineId });
      expect(indexed.financier).to.equal(h.w.financier.address);
      expect(indexed.limit).to.equal(50_000_000n);
    });

    it("records the new line id on an act that was not waited for, once the relay is mined", async function () {
      const { act } = await h.act("financier", "/credit-lines", { supplier: h.w.supplier.address, limit: "1000000", maxAdvanceBps: 5000, discountBps: 0, expiry: isoIn(30) }, false);
      expect(act.status).to.equal("pending");
      expect(act.result).to.equal(null);
      const done = await h.svc.app.get(ActsService).waitFor(act.id);
      expect(done.status).to.equal("confirmed");
      const lineId = Number(await h.env.ledger.financing.creditLineCount());
      const read = await request(h.svc.url).get(`/acts/${act.id}`).set(bearer(h.tokens.financier)).expect(200);
      expect(read.body.result).to.deep.equal({ lineId });
      expect(read.body.lineId).to.equal(lineId);
      expect((await h.env.ledger.financing.creditLine(lineId)).supplier).to.equal(h.w.supplier.address);
    });

    it("POST /credit-lines/:id/update and /close change the line on-chain; a closed line finances nothing (409)", async function () {
      const { financing } = h.env.ledger;
      const lineId = await h.openLine();
      const expiry = isoIn(200);
      const { act: updated } = await h.act("financier", `/credit-lines/${lineId}/update`, { limit: "70000000", maxAdvanceBps: 9000, discountBps: 500, expiry });
      expect(updated).to.include({ kind: "update_line", lineId });
      let line = await financing.creditLine(lineId);
      expect([line.limit, line.maxAdvanceBps, line.discountBps, line.expiry]).to.deep.equal([
        70_000_000n,
        9000n,
        500n,
        BigInt(Math.floor(Date.parse(expiry) / 1000)),
      ]);
      expect((await h.ds.getRepository(CreditLineEntity).findOneByOrFail({ id: lineId })).limit).to.equal(70_000_000n);

      const { act: closed } = await h.act("financier", `/credit-lines/${lineId}/close`, {});
      expect(closed).to.include({ kind: "close_line", lineId });
      line = await financing.creditLine(lineId);
      expect(line.open).to.equal(false);

      const r = await h.receivable();
      const refused = await h.writesNothing(() => h.post("supplier", "/financings", { receivableId: r.hex, lineId }));
      expectRefusal(refused, 409, new RegExp(`Credit line ${lineId} is closed`));
      const again = await h.writesNothing(() => h.post("financier", `/credit-lines/${lineId}/close`, {}));
      expectRefusal(again, 409, new RegExp(`Credit line ${lineId} is closed or expired`));
    });

    it("refuses an unknown line (404), someone else's line (403), a line naming no party (400) or its own financier (422)", async function () {
      const lineId = await h.openLine();
      const terms = { limit: "1000", maxAdvanceBps: 100, discountBps: 0, expiry: isoIn(10) };
      await h.writesNothing(async () => {
        expectRefusal(await h.post("financier", "/credit-lines/99999/update", terms), 404, /Credit line 99999 does not exist/);
        expectRefusal(
          await h.post("financier2", `/credit-lines/${lineId}/close`, {}),
          403,
          new RegExp(`${h.w.financier2.address} is not the financier of credit line ${lineId}`),
        );
        expectRefusal(await h.post("financier", "/credit-lines", terms), 400, /must name the debtor, the supplier or both/);
        expectRefusal(
          await h.post("financier", "/credit-lines", { ...terms, supplier: h.w.financier.address }),
          422,
          /cannot be the debtor or the supplier of its own credit line/,
        );
        expectRefusal(
          await h.post("financier", "/credit-lines", { ...terms, debtor: h.w.buyer.address, expiry: "2020-01-01T00:00:00Z" }),
          422,
          /is not in the future/,
        );
        expectRefusal(
          await h.post("financier", "/credit-lines", { ...terms, debtor: h.w.supplier.address }),
          403,
          new RegExp(`${h.w.supplier.address} is not a verified buyer`),
        );
      });
    });
  });

  describe("financings", function () {
    it("requests, approves (owner, advance less discount, utilisation) and is repaid by the buyer (utilisation released)", async function () {
      const { financing, receivables, token } = h.env.ledger;
      const lineId = await h.openLine({ limit: "50000000", maxAdvanceBps: 8000, discountBps: 1200 });
      const r = await h.receivable({ faceValue: 1_000_000n, dueIn: 90 * DAY });

      const requested = await h.request(r.hex, lineId);
      expect(requested).to.include({ kind: "request_financing", receivableId: r.hex, lineId, status: "confirmed" });
      const runId = requested.result!.complianceRunId as string;
      const checks = await h.ds.getRepository(ComplianceCheckEntity).findBy({ runId });
      expect(checks.map((c) => c.ruleCode)).to.have.members([
        "FINANCING_RECEIVABLE_ACCEPTED",
        "FINANCING_REQUESTER_IS_HOLDER",
        "FINANCING_NOT_OVERDUE",
        "FINANCING_LINE_AVAILABLE",
        "FINANCING_LINE_HEADROOM",
      ]);
      expect(checks.every((c) => c.result === "pass" && c.subjectId === r.hex)).to.equal(true);
      expect((await financing.financing(r.id)).status).to.equal(STATUS.requested);

      const supplierBefore = await token.balanceOf(h.w.supplier.address);
      const financierBefore = await token.balanceOf(h.w.financier.address);
      // The receivable id in decimal works as well as in hex.
      const { act: approved, typedData } = await h.act("financier", `/financings/${r.id.toString()}/approve`, {
        registrationNumber: ` ${REG.toLowerCase()} `,
      });
      expect(approved).to.include({ kind: "approve_financing", receivableId: r.hex, lineId });

      // The service proposed the line's quote at its chain time; the financier signed exactly that.
      const proposedAt = BigInt(await h.now());
      const advance = (1_000_000n * 8000n) / BPS;
      const signed = typedData.message.approval as Record<string, string>;
      const paid = BigInt(signed.paid);
      expect(signed).to.deep.equal({ lineId: String(lineId), advance: advance.toString(), paid: paid.toString(), registrationHash: registrationHash(REG) });
      const discountThen = (advance * 1200n * (BigInt(r.dueDate) - proposedAt)) / (BPS * BigInt(YEAR));
      expect(paid <= advance - discountThen, "paid is the quote at or before approval").to.equal(true);
      expect(paid < advance, "a discount is charged").to.equal(true);
      expect(approved.result).to.deep.equal({
        registrationNumber: REG,
        registrationHash: registrationHash(REG),
        lineId,
        advance: advance.toString(),
        paid: paid.toString(),
      });
      expect(await receivables.ownerOf(r.id)).to.equal(h.w.financier.address);
      const onChain = await receivables.receivable(r.id);
      expect(onChain.status).to.equal(RECEIVABLE.financed);
      expect(await token.balanceOf(h.w.supplier.address)).to.equal(supplierBefore + paid);
      expect(await token.balanceOf(h.w.financier.address)).to.equal(financierBefore - paid);
      expect((await financing.creditLine(lineId)).utilised).to.equal(advance);
      expect((await financing.financing(r.id)).status).to.equal(STATUS.active);
      const f = await h.ds.getRepository(FinancingEntity).findOneByOrFail({ receivableId: r.hex });
      expect([f.status, f.principal, f.paidToSupplier, f.registrationHash]).to.deep.equal(["active", advance, paid, registrationHash(REG)]);
      const read = await request(h.svc.url).get(`/financings/${r.hex}`).set(bearer(h.tokens.supplier)).expect(200);
      expect(read.body).to.include({ registrationNumber: REG, registrationHash: registrationHash(REG), status: "active" });
      expect(BigInt(read.body.minPaid) <= paid && BigInt(read.body.maxDiscount) >= advance - paid, "the request's terms are met").to.equal(true);
      expect((await h.ds.getRepository(CreditLineEntity).findOneByOrFail({ id: lineId })).utilised).to.equal(advance);

      await (await receivables.connect(h.w.buyer).pay(r.id, 1_000_000n)).wait();
      expect((await financing.creditLine(lineId)).utilised).to.equal(0n);
      expect((await financing.financing(r.id)).status).to.equal(STATUS.repaid);
      expect(await token.balanceOf(h.w.supplier.address)).to.equal(supplierBefore + paid + (1_000_000n - advance));
      expect(await token.balanceOf(h.w.financier.address)).to.equal(financierBefore - paid + advance);
      await h.indexed();
      expect((await h.ds.getRepository(CreditLineEntity).findOneByOrFail({ id: lineId })).utilised).to.equal(0n);
      expect((await h.ds.getRepository(FinancingEntity).findOneByOrFail({ receivableId: r.hex })).status).to.equal("repaid");
    });

    it("GET /financings/:id/checks: the financier the request is addressed to reads its compliance checks; supplier, debtor and other financiers are refused", async function () {
      const lineId = await h.openLine({ limit: "50000000", maxAdvanceBps: 8000, discountBps: 1200 });
      const r = await h.receivable({ faceValue: 2_000_000n, dueIn: 60 * DAY });
      const requested = await h.request(r.hex, lineId);
      const runId = requested.result!.complianceRunId as string;
      await h.indexed();
      const read = (who: Name, id: string = r.hex) => request(h.svc.url).get(`/financings/${id}/checks`).set(bearer(h.tokens[who]));
      const mine = await read("financier").expect(200);
      const codes = ["FINANCING_RECEIVABLE_ACCEPTED", "FINANCING_REQUESTER_IS_HOLDER", "FINANCING_NOT_OVERDUE", "FINANCING_LINE_AVAILABLE", "FINANCING_LINE_HEADROOM"];
      const rows = mine.body as Array<{ runId: string; code: string; subjectType: string; subjectId: string; result: string; reason: string }>;
      // Newest run first: the run of the signed request (the unsigned step's pre-flight is recorded before it).
      expect(rows.slice(0, codes.length).map((c) => c.runId)).to.deep.equal(Array(codes.length).fill(runId));
      expect(rows.filter((c) => c.runId === runId).map((c) => c.code)).to.have.members(codes);
      for (const c of rows) {
        expect(c).to.include({ subjectType: "financing", subjectId: r.hex, result: "pass" });
        expect(c.reason).to.be.a("string").and.not.equal("");
      }
      // The decimal id reads the same.
      expect((await read("financier", r.id.toString()).expect(200)).body).to.deep.equal(mine.body);
      for (const who of ["supplier", "buyer", "financier2", "supplier2"] as const) {
        const res = await read(who).expect(403);
        expect(res.body.detail, who).to.match(/only the financier of the financing/);
      }
      await request(h.svc.url).get(`/financings/${r.hex}/checks`).expect(401);
      const none = await h.receivable({ faceValue: 1_000n, dueIn: 30 * DAY });
      await read("financier", none.hex).expect(404);
      await read("financier", "0x12").expect(400);
    });

    it("withdraws a pending request (typed data, then signed): the supplier may then ask another line", async function () {
      const { financing } = h.env.ledger;
      const lineId = await h.openLine();
      const other = await h.openLine();
      const r = await h.receivable();
      await h.request(r.hex, lineId);
      const pending = await h.writesNothing(() => h.post("supplier", "/financings", { receivableId: r.hex, lineId: other }));
      expectRefusal(pending, 409, new RegExp(`A request on credit line ${lineId} is pending`));

      const notYours = await h.writesNothing(() => h.post("supplier2", `/financings/${r.hex}/withdraw`, {}));
      expectRefusal(notYours, 403, new RegExp(`${h.w.supplier2.address} does not hold receivable`));

      const { act, typedData } = await h.act("supplier", `/financings/${r.hex}/withdraw`, {});
      expect(typedData.primaryType).to.equal("WithdrawFinancingRequest");
      expect(act).to.include({ kind: "withdraw_financing", receivableId: r.hex, lineId, status: "confirmed" });
      expect((await financing.financing(r.id)).status).to.equal(STATUS.withdrawn);
      await h.indexed();
      expect((await h.ds.getRepository(FinancingEntity).findOneByOrFail({ receivableId: r.hex })).status).to.equal("withdrawn");

      const again = await h.writesNothing(() => h.post("supplier", `/financings/${r.hex}/withdraw`, {}));
      expectRefusal(again, 409, /is withdrawn; only a requested financing can be withdrawn/);
      const approve = await h.writesNothing(() => h.post("financier", `/financings/${r.hex}/approve`, { registrationNumber: REG }));
      expectRefusal(approve, 409, /is withdrawn; only a requested financing can be approved/);

      await h.request(r.hex, other);
      expect((await financing.financing(r.id)).lineId).to.equal(BigInt(other));
    });

    it("refuses an approval after the financier repriced the line under the request: 409, before signing and when posted signed", async function () {
      const { financing, receivables, token } = h.env.ledger;
      const lineId = await h.openLine({ maxAdvanceBps: 9000, discountBps: 500 });
      const r = await h.receivable({ faceValue: 1_000_000n, dueIn: 90 * DAY });
      const { typedData: requestTd } = await h.act("supplier", "/financings", { receivableId: r.hex, lineId });
      const terms = requestTd.message.terms as Record<string, string>;
      expect(BigInt(terms.minPaid) > 0n, "the service proposed the line's quote as the least payment").to.equal(true);

      await h.act("financier", `/credit-lines/${lineId}/update`, {
        limit: "50000000",
        maxAdvanceBps: 10_000,
        discountBps: 10_000,
        expiry: isoIn(180),
      });
      const supplierBefore = await token.balanceOf(h.w.supplier.address);
      const refusal = /The approval would pay \d+ fen now with a discount of \d+ fen; the supplier's request asks at least \d+ fen now/;
      await h.writesNothing(async () => {
        const unsigned = await h.post("financier", `/financings/${r.hex}/approve`, { registrationNumber: REG });
        expectRefusal(unsigned, 409, refusal);
        expect(unsigned.body.code).to.equal("FinancingTermsNotMet");

        // A client that signs the repriced amounts itself meets the same refusal.
        const at = BigInt(await h.now());
        const advance = 1_000_000n;
        const paid = advance - (advance * (BigInt(r.dueDate) - at)) / BigInt(YEAR);
        const approval = { lineId, advance: advance.toString(), paid: paid.toString(), registrationHash: registrationHash(REG) };
        const sig = await h.signLocally("financier", "ApproveFinancing", { financier: h.w.financier.address, receivableId: r.id, approval });
        const signed = await h.post("financier", `/financings/${r.hex}/approve`, { registrationNumber: REG, advance: approval.advance, paid: approval.paid, ...sig });
        expectRefusal(signed, 409, refusal);
      });
      expect(await receivables.ownerOf(r.id)).to.equal(h.w.supplier.address);
      expect(await token.balanceOf(h.w.supplier.address)).to.equal(supplierBefore);
      expect((await financing.financing(r.id)).status).to.equal(STATUS.requested);
    });

    it("refuses a signed approval that does not repeat the amounts it signed: 400", async function () {
      const lineId = await h.openLine();
      const r = await h.receivable();
      await h.request(r.hex, lineId);
      const approval = { lineId, advance: "800000", paid: "790000", registrationHash: registrationHash(REG) };
      const sig = await h.signLocally("financier", "ApproveFinancing", { financier: h.w.financier.address, receivableId: r.id, approval });
      const res = await h.writesNothing(() => h.post("financier", `/financings/${r.hex}/approve`, { registrationNumber: REG, ...sig }));
      expectRefusal(res, 400, /a signed approval must carry the amounts of the typed data it signed/);
      const noNumber = await h.writesNothing(() => h.post("financier", `/financings/${r.hex}/approve`, {}));
      expectRefusal(noNumber, 400, /registrationNumber must be 6 to 64 letters, digits or dashes/);
    });

    it("rejects a request with a reason code on-chain (bytes32) and keeps the reason text with the act", async function () {
      const { financing } = h.env.ledger;
      const lineId = await h.openLine();
      const r = await h.receivable();
      await h.request(r.hex, lineId);
      const badCode = await h.writesNothing(() => h.post("financier", `/financings/${r.hex}/reject`, { reasonCode: "too risky" }));
      expectRefusal(badCode, 400, /reasonCode must be 1 to 31 upper-case letters/);

      const reason = "Buyer exposure above our policy for this quarter";
      const { act, typedData } = await h.act("financier", `/financings/${r.hex}/reject`, { reasonCode: "CONCENTRATION_LIMIT", reason });
      expect(typedData.message.reasonCode).to.equal(encodeBytes32String("CONCENTRATION_LIMIT"));
      expect(act).to.include({ kind: "reject_financing", receivableId: r.hex, lineId });
      expect(act.result).to.deep.equal({ reasonCode: "CONCENTRATION_LIMIT", reason });
      expect((await financing.financing(r.id)).status).to.equal(STATUS.rejected);
      const f = await h.ds.getRepository(FinancingEntity).findOneByOrFail({ receivableId: r.hex });
      expect(f.status).to.equal("rejected");
      expect(decodeBytes32String(f.rejectReason!)).to.equal("CONCENTRATION_LIMIT");

      const twice = await h.writesNothing(() => h.post("financier", `/financings/${r.hex}/reject`, { reasonCode: "AGAIN" }));
      expectRefusal(twice, 409, /is rejected; only a requested financing can be rejected/);
    });

    it("writes off only a defaulted receivable's financing: 404 when never requested, 409 when not defaulted", async function () {
      const lineId = await h.openLine();
      const never = await h.receivable();
      const financed = await h.receivable();
      await h.request(financed.hex, lineId);
      await h.act("financier", `/financings/${financed.hex}/approve`, { registrationNumber: REG });
      await h.writesNothing(async () => {
        expectRefusal(await h.post("financier", `/financings/${never.hex}/write-off`, {}), 404, /No financing has been requested/);
        expectRefusal(
          await h.post("financier", `/financings/${financed.hex}/write-off`, {}),
          409,
          /is financed, not defaulted: only a receivable marked defaulted/,
        );
      });
    });
  });

  describe("refusals", function () {
    let lineId: number;
    before(async function () {
      lineId = await h.openLine();
    });

    it("financing an unaccepted receivable: 409 with the compliance reasons, also when posted signed", async function () {
      const r = await h.receivable({ accept: false });
      await h.writesNothing(async () => {
        const res = await h.post("supplier", "/financings", { receivableId: r.hex, lineId });
        expectRefusal(res, 409, /The receivable is issued; only a receivable its debtor has accepted can be financed/);
        expect(res.body.code).to.equal("ComplianceRefused");
        expect(res.body.failures.map((f: { code: string }) => f.code)).to.deep.equal(["FINANCING_RECEIVABLE_ACCEPTED"]);
        const stored = await h.ds.getRepository(ComplianceCheckEntity).findBy({ runId: res.body.complianceRunId });
        expect(stored.find((c) => c.ruleCode === "FINANCING_RECEIVABLE_ACCEPTED")!.result).to.equal("fail");

        const t = requestTermsBody(lineId);
        const sig = await h.signLocally("supplier", "RequestFinancing", { supplier: h.w.supplier.address, receivableId: r.id, terms: t.signed });
        const signed = await h.post("supplier", "/financings", { receivableId: r.hex, lineId, ...t.body, ...sig });
        expectRefusal(signed, 409, /only a receivable its debtor has accepted can be financed/);
      });
    });

    it("financing an already-financed receivable: 409", async function () {
      const r = await h.receivable();
      await h.request(r.hex, lineId);
      await h.act("financier", `/financings/${r.hex}/approve`, { registrationNumber: REG });
      await h.indexed();
      const res = await h.writesNothing(() => h.post("supplier", "/financings", { receivableId: r.hex, lineId }));
      expectRefusal(res, 409, /The receivable is already financed/);
      const approveAgain = await h.writesNothing(() => h.post("financier", `/financings/${r.hex}/approve`, { registrationNumber: REG }));
      expectRefusal(approveAgain, 409, /is active; only a requested financing can be approved/);
    });

    it("over-limit financing: 409 naming the limit, before signing and when posted signed", async function () {
      const small = await h.openLine({ limit: "1000000", maxAdvanceBps: 10_000, discountBps: 0 });
      const a = await h.receivable({ faceValue: 600_000n });
      const b = await h.receivable({ faceValue: 600_000n });
      await h.request(a.hex, small);
      await h.request(b.hex, small);
      // Typed data for b is handed out while the line still has room; a is approved first.
      const bUnsigned = await h.post("financier", `/financings/${b.hex}/approve`, { registrationNumber: REG }).expect(200);
      const td = bUnsigned.body.typedData as TypedData;
      const bSig = {
        registrationNumber: REG,
        ...proposedFields(td.primaryType, td.message),
        nonce: td.message.nonce,
        deadline: td.message.deadline,
        signature: await signTypedData(h.w.financier, td),
      };
      await h.act("financier", `/financings/${a.hex}/approve`, { registrationNumber: REG });

      const over = new RegExp(`Financing 600000 fen would lift credit line ${small} to 1200000 fen, above its limit of 1000000 fen`);
      await h.writesNothing(async () => {
        const unsigned = await h.post("financier", `/financings/${b.hex}/approve`, { registrationNumber: REG });
        expectRefusal(unsigned, 409, over);
        expect(unsigned.body.code).to.equal("CreditLineLimitExceeded");
        expectRefusal(await h.post("financier", `/financings/${b.hex}/approve?wait=true`, bSig), 409, over);
      });
      expect((await h.env.ledger.financing.financing(b.id)).status).to.equal(STATUS.requested);
      expect((await h.env.ledger.financing.creditLine(small)).utilised).to.equal(600_000n);
    });

    it("wrong role: a supplier opening a credit line: 403", async function () {
      const res = await h.writesNothing(() =>
        h.post("supplier", "/credit-lines", { debtor: h.w.buyer.address, limit: "1000", maxAdvanceBps: 100, discountBps: 0, expiry: isoIn(10) }),
      );
      expectRefusal(res, 403, /this route requires the role financier; .* holds supplier, member/);
      const buyer = await h.writesNothing(() => h.post("buyer", "/financings", { receivableId: "0x01", lineId }));
      expectRefusal(buyer, 403, /requires the role supplier/);
    });

    it("someone else's receivable: a request by a non-holder is 403 without naming the holder, also when posted signed", async function () {
      const r = await h.receivable();
      await h.writesNothing(async () => {
        const res = await h.post("supplier2", "/financings", { receivableId: r.hex, lineId });
        expectRefusal(res, 403, new RegExp(`Only the holder can ask to finance this receivable; ${h.w.supplier2.address} does not hold it`));
        expect(res.body.failures.map((f: { code: string }) => f.code)).to.deep.equal(["FINANCING_REQUESTER_IS_HOLDER"]);
        // The receivable is not the requester's to read: the refusal must not say who holds it.
        expect(JSON.stringify(res.body).toLowerCase()).not.to.include(h.w.supplier.address.toLowerCase());
        const t = requestTermsBody(lineId);
        const sig = await h.signLocally("supplier2", "RequestFinancing", { supplier: h.w.supplier2.address, receivableId: r.id, terms: t.signed });
        expectRefusal(await h.post("supplier2", "/financings", { receivableId: r.hex, lineId, ...t.body, ...sig }), 403, /Only the holder/);
      });
    });

    it("approve by another financier: 403, also when posted signed", async function () {
      const r = await h.receivable();
      await h.request(r.hex, lineId);
      const notYours = new RegExp(`${h.w.financier2.address} is not the financier of credit line ${lineId}`);
      await h.writesNothing(async () => {
        expectRefusal(await h.post("financier2", `/financings/${r.hex}/approve`, { registrationNumber: REG }), 403, notYours);
        const approval = { lineId, advance: "800000", paid: "790000", registrationHash: registrationHash(REG) };
        const sig = await h.signLocally("financier2", "ApproveFinancing", { financier: h.w.financier2.address, receivableId: r.id, approval });
        const body = { registrationNumber: REG, advance: approval.advance, paid: approval.paid, ...sig };
        expectRefusal(await h.post("financier2", `/financings/${r.hex}/approve`, body), 403, notYours);
        expectRefusal(await h.post("financier2", `/financings/${r.hex}/reject`, { reasonCode: "NOPE" }), 403, notYours);
      });
      expect((await h.env.ledger.financing.financing(r.id)).status).to.equal(STATUS.requested);
    });

    it("suspended member: 403, even with an act signed before the suspension", async function () {
      const body = { debtor: h.w.buyer.address, limit: "1000", maxAdvanceBps: 100, discountBps: 0, expiry: isoIn(10) };
      const unsigned = await h.post("suspended", "/credit-lines", body).expect(200);
      const td = unsigned.body.typedData as TypedData;
      const signature = await signTypedData(h.w.suspended, td);
      await (await h.env.ledger.registry.connect(h.env.keys.compliance).suspend(h.w.suspended.address, encodeBytes32String("ADVERSE_MEDIA"))).wait();
      await h.indexed();
      await h.writesNothing(async () => {
        expectRefusal(await h.post("suspended", "/credit-lines", body), 403, /not a verified member: unregistered, suspended or with expired KYC/);
        expectRefusal(
          await h.post("suspended", "/credit-lines", { ...body, nonce: td.message.nonce, deadline: td.message.deadline, signature }),
          403,
          /suspended/,
        );
      });
    });

    it("expired KYC: 403, before signing and when posted signed", async function () {
      // Block time runs ahead of the wall clock here (many blocks a second), so the KYC lapses on
      // the ledger before the service's clock sees it: the contract's verdict refuses, or the
      // access guard's once the wall clock has passed the expiry too. Either way: 403 naming KYC.
      const body = { debtor: h.w.buyer.address, limit: "1000", maxAdvanceBps: 100, discountBps: 0, expiry: isoIn(10) };
      const unsigned = await h.post("lapsing", "/credit-lines", body).expect(200);
      const td = unsigned.body.typedData as TypedData;
      const signature = await signTypedData(h.w.lapsing, td);
      const kycExpiry = (await h.now()) + 5;
      await (await h.env.ledger.registry.connect(h.env.keys.compliance).renewKyc(h.w.lapsing.address, kycExpiry)).wait();
      await chain.provider.send("evm_increaseTime", [10]);
      await chain.provider.send("evm_mine", []);
      await h.indexed();
      expect(await h.env.ledger.registry.isVerified(h.w.lapsing.address, ROLE_BITS.financier)).to.equal(false);
      const lapsed = new RegExp(
        `${h.w.lapsing.address} is not a verified financier on the ledger \\(active membership with valid KYC is required\\)|` +
          "not a verified member: unregistered, suspended or with expired KYC",
      );
      await h.writesNothing(async () => {
        expectRefusal(await h.post("lapsing", "/credit-lines", body), 403, lapsed);
        const signed = { ...body, nonce: td.message.nonce, deadline: td.message.deadline, signature };
        expectRefusal(await h.post("lapsing", "/credit-lines", signed), 403, lapsed);
      });
    });

    it("replayed signature: the same act, before and after mining; the same nonce with another body: 409", async function () {
      const r = await h.receivable();
      const first = await h.signed("supplier", "/financings", { receivableId: r.hex, lineId }, { wait: false });
      expect(first.res.status).to.equal(202);
      const id = first.res.body.id as string;
      const before = await h.counts();
      const again = await h.post("supplier", "/financings", first.signedBody).expect(202);
      expect(again.body.id).to.equal(id);
      await h.svc.app.get(ActsService).waitFor(id);
      await h.indexed();
      const afterMining = await h.post("supplier", "/financings?wait=true", first.signedBody).expect(202);
      expect(afterMining.body).to.include({ id, status: "confirmed" });
      // The receivable id in another spelling is the same act.
      const decimal = await h.post("supplier", "/financings", { ...first.signedBody, receivableId: r.id.toString() }).expect(202);
      expect(decimal.body.id).to.equal(id);
      const other = await h.post("supplier", "/financings", { ...first.signedBody, lineId: lineId + 1 });
      expectRefusal(other, 409, new RegExp(`Nonce ${first.typedData.message.nonce} of ${h.w.supplier.address} was already used for another act`));
      expect(await h.counts()).to.deep.equal(before);
      expect((await h.env.ledger.financing.financing(r.id)).status).to.equal(STATUS.requested);
    });

    it("signature by another key: 422 (the session is valid)", async function () {
      const r = await h.receivable();
      const { res } = await h.writesNothing(() =>
        h.signed("supplier", "/financings", { receivableId: r.hex, lineId }, { signer: h.w.supplier2 }),
      );
      expectRefusal(res, 422, new RegExp(`The signature is not ${h.w.supplier.address}'s signature of this act \\(EIP-712 digest 0x[0-9a-f]{64}\\)`));
      expect((await h.env.ledger.financing.financing(r.id)).status).to.equal(0n);
    });

    it("reused Idempotency-Key: the first answer again for the same body, 422 for another body", async function () {
      const body = { debtor: h.w.buyer.address, limit: "2000000", maxAdvanceBps: 7000, discountBps: 900, expiry: isoIn(60) };
      const first = await h.post("financier", "/credit-lines", body, "line-2024-q3").expect(200);
      // A fresh answer would propose a new nonce: the same nonce shows the stored answer came back.
      const same = await h.post("financier", "/credit-lines", body, "line-2024-q3").expect(200);
      expect(same.body).to.deep.equal(first.body);
      const other = await h.writesNothing(() => h.post("financier", "/credit-lines", { ...body, limit: "3000000" }, "line-2024-q3"));
      expectRefusal(other, 422, /Idempotency-Key line-2024-q3 was already used for a different request/);

      const td = first.body.typedData as TypedData;
      const signedBody = { ...body, nonce: td.message.nonce, deadline: td.message.deadline, signature: await signTypedData(h.w.financier, td) };
      const accepted = await h.post("financier", "/credit-lines", signedBody, "line-2024-q3-signed").expect(202);
      const replayed = await h.writesNothing(() => h.post("financier", "/credit-lines", signedBody, "line-2024-q3-signed").expect(202));
      expect(replayed.body).to.deep.equal(accepted.body);
    });
  });

  describe("fuzzed bodies on every write endpoint", function () {
    let lineId: number;
    let requested: { id: bigint; hex: string };
    before(async function () {
      lineId = await h.openLine();
      requested = await h.receivable();
      await h.request(requested.hex, lineId);
    });

    const hex = (n: number) => fc.uint8Array({ minLength: n, maxLength: n }).map((b) => hexlify(b));
    const value = fc.oneof(
      fc.jsonValue(),
      fc.string(),
      fc.bigInt({ min: 0n, max: 2n ** 300n }).map((v) => v.toString()),
      fc.integer({ min: -5, max: 20_000_000 }),
      hex(20),
      hex(32),
      hex(65),
      fc.date({ min: new Date(-1e13), max: new Date(1e13), noInvalidDate: true }).map((d) => d.toISOString()),
      fc.constantFrom("", "0x", "0x00", "1e5", "NaN", "-1", "CONCENTRATION_LIMIT", "2099-01-01T00:00:00Z"),
      // Plausible signature fields, so signed posts reach the signature and deadline checks.
      fc.nat({ max: 50 }).map(String),
      fc.integer({ min: -600, max: 8 * DAY }).map((d) => String(Math.floor(Date.now() / 1000) + d)),
    );
    const FIELDS = [
      "debtor",
      "supplier",
      "limit",
      "maxAdvanceBps",
      "discountBps",
      "expiry",
      "receivableId",
      "lineId",
      "reasonCode",
      "reason",
      "minPaid",
      "maxDiscount",
      "expiresAt",
      "registrationNumber",
      "advance",
      "paid",
      "nonce",
      "deadline",
      "signature",
      "__proto__",
      "constructor",
    ];
    const fields = fc.dictionary(fc.constantFrom(...FIELDS), value);
    const signatureFields = fc.record({
      nonce: fc.oneof(fc.nat({ max: 50 }), fc.bigInt({ min: 0n, max: 2n ** 257n })).map(String),
      deadline: fc.integer({ min: -600, max: 8 * DAY }).map((d) => String(Math.floor(Date.now() / 1000) + d)),
      signature: fc.oneof(hex(65), hex(64), hex(1), hex(200)),
    });
    /** Garbage, or a valid body with a few fields replaced, so the checks past validation are reached too. */
    const anyBody = (valid: () => object) =>
      fc.oneof(
        fc.jsonValue(),
        fields,
        { arbitrary: fc.dictionary(fc.constantFrom(...FIELDS), value, { maxKeys: 3 }).map((d) => ({ ...valid(), ...d })), weight: 3 },
        { arbitrary: signatureFields.map((sig) => ({ ...valid(), ...sig })), weight: 3 },
      );
    const terms = () => ({ limit: "1000000", maxAdvanceBps: 8000, discountBps: 100, expiry: isoIn(30) });
    const anyId = fc.oneof(fc.string(), fc.bigInt({ min: 0n, max: 2n ** 300n }).map((v) => v.toString()), hex(32), fc.constantFrom("0", "-1", "0x"));

    async function fuzz(who: Name, path: () => string, valid: () => object, runs = 40): Promise<void> {
      await fc.assert(
        fc.asyncProperty(anyBody(valid), fc.constantFrom("", "", "?wait=true", "?wait=maybe"), async (body, query) => {
          const p = path() + query;
          const before = await h.counts();
          const res = await request(h.svc.url)
            .post(p)
            .set(bearer(h.tokens[who]))
            .set("content-type", "application/json")
            .send(JSON.stringify(body));
          expect(res.status, `${p} ${JSON.stringify(body)} → ${res.status} ${JSON.stringify(res.body)}`).to.be.below(500);
          expect(res.status, `${p} ${JSON.stringify(body)} was accepted as an act`).to.not.equal(202);
          expect(await h.counts(), `${p} ${JSON.stringify(body)} wrote`).to.deep.equal(before);
        }),
        { numRuns: runs },
      );
    }

    it("POST /credit-lines", async function () {
      await fuzz("financier", () => "/credit-lines", () => ({ ...terms(), debtor: h.w.buyer.address }));
    });

    it("POST /credit-lines/:id/update and /close", async function () {
      await fuzz("financier", () => `/credit-lines/${lineId}/update`, terms);
      await fuzz("financier", () => `/credit-lines/${lineId}/close`, () => ({}));
    });

    it("POST /financings", async function () {
      const accepted = await h.receivable();
      await fuzz("supplier", () => "/financings", () => ({ receivableId: accepted.hex, lineId }));
    });

    it("POST /financings/:id/approve, /reject and /write-off", async function () {
      for (const action of ["approve", "reject", "write-off"]) {
        await fuzz("financier", () => `/financings/${requested.hex}/${action}`, () =>
          action === "reject" ? { reasonCode: "POLICY" } : action === "approve" ? { registrationNumber: REG } : {},
        );
      }
    });

    it("fuzzed path ids on every :id route", async function () {
      await fc.assert(
        fc.asyncProperty(anyId, fc.constantFrom("credit-lines/%/update", "credit-lines/%/close", "financings/%/approve", "financings/%/reject", "financings/%/write-off"), async (id, route) => {
          const p = "/" + route.replace("%", encodeURIComponent(id));
          const before = await h.counts();
          const res = await h.post("financier", p, route.endsWith("reject") ? { reasonCode: "X" } : {});
          expect(res.status, `${p} → ${res.status} ${JSON.stringify(res.body)}`).to.be.below(500);
          expect(await h.counts()).to.deep.equal(before);
        }),
        { numRuns: 80 },
      );
    });
  });

  describe("write-off of a defaulted receivable (a ledger with a 60-second grace period)", function () {
    let w: Harness;

    before(async function () {
      const env = await prepareEnv(chain, ENV_OVERRIDES);
      const roles = env.ledger.record.roles;
      const params = { ...DEFAULT_PARAMS, gracePeriod: 60n };
      const ledger = await deployLedger(chain.account(0), roles, params);
      const record = await describeDeployment(ledger, roles, params, chain.chainId, await chain.provider.getBlockNumber());
      writeFileSync(env.config.paths.deployment, JSON.stringify(record, null, 2));
      env.ledger = { ...ledger, record };
      w = new Harness(chain, env, await startService(env));
      await w.setUp(["financier", "supplier", "buyer"]);
    });
    after(async function () {
      await w?.svc.close();
      if (w?.env) await cleanupEnv(w.env);
    });

    it("POST /financings/:id/write-off releases the line once the receivable is defaulted", async function () {
      const { financing, receivables } = w.env.ledger;
      const lineId = await w.openLine({ maxAdvanceBps: 9000, discountBps: 0 });
      const r = await w.receivable({ faceValue: 500_000n, dueIn: 120 });
      await w.request(r.hex, lineId);
      await w.act("financier", `/financings/${r.hex}/approve`, { registrationNumber: REG });
      expect((await financing.creditLine(lineId)).utilised).to.equal(450_000n);

      await chain.provider.send("evm_increaseTime", [200]);
      await chain.provider.send("evm_mine", []);
      await (await receivables.connect(w.w.financier).markDefaulted(r.id)).wait();
      expect((await receivables.receivable(r.id)).status).to.equal(RECEIVABLE.defaulted);
      await w.indexed();

      const { act } = await w.act("financier", `/financings/${r.hex}/write-off`, {});
      expect(act).to.include({ kind: "write_off", receivableId: r.hex, lineId, status: "confirmed" });
      expect((await financing.financing(r.id)).status).to.equal(STATUS.writtenOff);
      expect((await financing.creditLine(lineId)).utilised).to.equal(0n);
      expect((await w.ds.getRepository(FinancingEntity).findOneByOrFail({ receivableId: r.hex })).status).to.equal("written_off");
      expect((await w.ds.getRepository(CreditLineEntity).findOneByOrFail({ id: lineId })).utilised).to.equal(0n);

      const twice = await w.writesNothing(() => w.post("financier", `/financings/${r.hex}/write-off`, {}));
      expectRefusal(twice, 409, /is written_off; only an active financing can be written off/);
    });
  });
});
