/**
 * The set-up the receivable write tests share: a `hardhat node` whose block time is brought up to
 * the wall clock, a fresh deployment and database, the real service, members registered on-chain by
 * the operator with fresh tax ids, and the two-step act protocol over HTTP (unsigned → typed data →
 * the participant's own signature).
 */
import { createHash } from "node:crypto";
import { expect } from "chai";
import type { HDNodeWallet, Wallet } from "ethers";
import request from "supertest";
import type { DataSource } from "typeorm";
import { getDataSourceToken } from "@nestjs/typeorm";
import { IndexerService } from "../../services/src/indexer/indexer.service";
import { entityIdHash } from "../../services/src/onboarding/onboarding.service";
import { signTypedData, type ActTypedData } from "../../shared/client";
import { bearer, signIn } from "./auth";
import { startChain, type TestChain } from "./chain";
import { cleanupEnv, prepareEnv, startService, type RunningService, type TestEnv } from "./app";
import { freshUscc } from "./entity-ids";

export type Key = Wallet | HDNodeWallet;
export type Body = Record<string, unknown>;
/** A signed-in participant: its key and its bearer token. */
export interface Who {
  key: Key;
  token: string;
}

const DAY_MS = 86_400_000;
/** The calendar day `offset` days from now (YYYY-MM-DD, UTC). */
export const day = (offset: number) => new Date(Date.now() + offset * DAY_MS).toISOString().slice(0, 10);
/** A tax id no member registered, for invoices naming an outsider. */
const UNREGISTERED_TAX_ID = "91310000MA1FL5XY2K";

export class ReceivablesHttp {
  /** Each member's unified social credit code, registered on-chain as its entity id. */
  readonly taxIds = new Map<string, string>();
  private seq = 0;

  private constructor(
    readonly chain: TestChain,
    readonly env: TestEnv,
    readonly svc: RunningService,
    readonly ds: DataSource,
    readonly indexer: IndexerService,
    private readonly invoicePrefix: string,
  ) {}

  /**
   * Starts it all. The node's genesis time is pinned (for journal replay); compliance judges due
   * dates by the service's clock and the contract by block time, so block time is brought up to the
   * wall clock. No KYC sweep runs during the tests: it would suspend members whose KYC lapses on
   * purpose, through the outbox, while a test asserts that nothing was queued.
   */
  static async start(invoicePrefix: string): Promise<ReceivablesHttp> {
    const chain = await startChain();
    const wall = Math.floor(Date.now() / 1000);
    if ((await chain.provider.getBlock("latest"))!.timestamp < wall) {
      await chain.provider.send("evm_setNextBlockTimestamp", [wall]);
      await chain.provider.send("evm_mine", []);
    }
    const env = await prepareEnv(chain, { KYC_JOB_INTERVAL_MS: String(3_600_000) });
    const svc = await startService(env);
    return new ReceivablesHttp(chain, env, svc, svc.app.get<DataSource>(getDataSourceToken()), svc.app.get(IndexerService), invoicePrefix);
  }

  async stop(): Promise<void> {
    await this.svc.close();
    await cleanupEnv(this.env);
    await this.chain.stop();
  }

  /** The later of the chain's latest block time and the wall clock (unix seconds). */
  async chainNow(): Promise<number> {
    return Math.max((await this.chain.provider.getBlock("latest"))!.timestamp, Math.floor(Date.now() / 1000));
  }

  /** Registers `k` on-chain (operator key, jurisdiction CN) with `roles` until `kycExpiry`, under a fresh tax id. */
  async register(k: Key, roles: number, kycExpiry: number): Promise<void> {
    const uscc = freshUscc();
    this.taxIds.set(k.address, uscc);
    await (await this.env.ledger.registry.connect(this.env.keys.operator).register(k.address, roles, kycExpiry, "0x434e", entityIdHash("USCC", uscc))).wait();
  }

  taxIdOf(k: Key): string {
    return this.taxIds.get(k.address) ?? UNREGISTERED_TAX_ID;
  }

  async signIn(key: Key): Promise<Who> {
    return { key, token: await signIn(this.svc.url, key) };
  }

  post(by: Who, path: string, body: Body = {}, headers: Record<string, string> = {}) {
    return request(this.svc.url).post(path).set(bearer(by.token)).set(headers).send(body);
  }

  get(by: Who, path: string) {
    return request(this.svc.url).get(path).set(bearer(by.token));
  }

  /** Asks for the typed data (200), signs it with `key` (the poster's by default) and posts the signed body. */
  async signedAct(by: Who, path: string, body: Body, opts: { wait?: boolean; key?: Key; headers?: Record<string, string> } = {}) {
    const first = await this.post(by, path, body);
    expect(first.status, `unsigned ${path}: ${JSON.stringify(first.body)}`).to.equal(200);
    expect(first.body.status).to.equal("unsigned");
    const td = first.body.typedData as ActTypedData;
    const signed = { ...body, nonce: td.message.nonce, deadline: td.message.deadline, signature: await signTypedData(opts.key ?? by.key, td) };
    const res = await this.post(by, path + (opts.wait ? "?wait=true" : ""), signed, opts.headers);
    return { first, td, signed, res };
  }

  /** A fresh invoice of `seller` owed by `debtor`, naming both parties' registered tax ids; `over` replaces fields. */
  invoice(seller: Key, debtor: Key, over: Body = {}): Body {
    this.seq += 1;
    return {
      debtor: debtor.address,
      invoiceNumber: `${this.invoicePrefix}-2026-${String(this.seq).padStart(5, "0")}`,
      sellerTaxId: this.taxIdOf(seller),
      buyerTaxId: this.taxIdOf(debtor),
      issueDate: day(0),
      dueDate: day(90),
      amount: "1250000",
      documentHash: "0x" + createHash("sha256").update(`invoice ${this.invoicePrefix} ${this.seq}`).digest("hex"),
      ...over,
    };
  }

  /** Tokenises a fresh invoice (accepted by its debtor when asked), both acts confirmed; its id and body. */
  async receivable(seller: Who, debtor: Who, opts: { accept?: boolean; over?: Body } = {}): Promise<{ id: string; body: Body }> {
    const body = this.invoice(seller.key, debtor.key, opts.over);
    const { res } = await this.signedAct(seller, "/receivables", body, { wait: true });
    expect(res.status, JSON.stringify(res.body)).to.equal(202);
    expect(res.body.status, JSON.stringify(res.body)).to.equal("confirmed");
    const id = res.body.receivableId as string;
    if (opts.accept) {
      const a = await this.signedAct(debtor, `/receivables/${id}/accept`, {}, { wait: true });
      expect(a.res.body.status, JSON.stringify(a.res.body)).to.equal("confirmed");
    }
    return { id, body };
  }
}
