/**
 * Drives a deployed ledger from participants' own wallets, for service tests that need real events
 * on the chain: members registered by the service's operator key, settlement tokens minted by the
 * issuer (Hardhat account 0), and every later act sent by the participant itself, or relayed by
 * another wallet with the participant's EIP-712 signature.
 * Every call waits for its transaction to be mined, so a test knows exactly which blocks hold what.
 */
import { MaxUint256, Wallet, id as keccakId, sha256, toUtf8Bytes, type ContractTransactionResponse, type TransactionReceipt } from "ethers";
import { RECEIVABLES_DOMAIN, RECEIVABLES_TYPES } from "../../shared/eip712";
import { anyTerms, approvalAtLineTerms, registrationHash, type RequestTerms } from "../../shared/financing-terms";
import { receivableIdOf } from "../../shared/fingerprint";
import { entityIdHash } from "../../services/src/onboarding/onboarding.service";
import { attestInvoices, termsOf, type LedgerInvoice } from "./acts";
import { freshUscc } from "./entity-ids";
import type { TestEnv } from "./app";
import { ROLE_BITS } from "../../shared/roles";

export const JURISDICTION_CN = "0x434e";
export const DAY = 86_400;
/** Opening balance of buyers and financiers, in fen. */
export const FUNDING = 10_000_000_00n;

export interface Participants {
  supplier: Wallet;
  supplier2: Wallet;
  buyer: Wallet;
  financier: Wallet;
  auditor: Wallet;
  /** Not a member: relays signed acts, as the service's relayer would. */
  relayer: Wallet;
}

/** Waits for a contract call's transaction and returns its receipt. */
export async function mined(tx: Promise<ContractTransactionResponse>): Promise<TransactionReceipt> {
  const receipt = await (await tx).wait();
  if (!receipt) throw new Error("transaction was not mined");
  return receipt;
}

let invoiceCounter = 0;

export class LedgerDriver {
  /** Each member's unified social credit code, registered as its entity id (what invoices name). */
  readonly taxIds = new Map<string, string>();
  /** Terms of every invoice tokenised here, by receivable id: what acceptances name. */
  private readonly terms = new Map<bigint, ReturnType<typeof termsOf>>();

  constructor(
    readonly env: TestEnv,
    readonly p: Participants,
  ) {}

  /** Registers a supplier, a second supplier, a buyer, a financier and an auditor, funds the buyer
   * and the financier, and gives the ledger unlimited allowances from them. */
  static async onboard(env: TestEnv): Promise<LedgerDriver> {
    const chain = env.chain;
    const p: Participants = {
      supplier: await chain.fundedWallet(),
      supplier2: await chain.fundedWallet(),
      buyer: await chain.fundedWallet(),
      financier: await chain.fundedWallet(),
      auditor: await chain.fundedWallet(),
      relayer: await chain.fundedWallet(),
    };
    const d = new LedgerDriver(env, p);
    const kycExpiry = (await d.now()) + 2 * 365 * DAY;
    const members: Array<[Wallet, number]> = [
      [p.supplier, ROLE_BITS.supplier],
      [p.supplier2, ROLE_BITS.supplier],
      [p.buyer, ROLE_BITS.buyer],
      [p.financier, ROLE_BITS.financier],
      [p.auditor, ROLE_BITS.auditor],
    ];
    for (const [w, roles] of members) await d.register(w.address, roles, kycExpiry);
    const issuer = env.ledger.token.connect(chain.account(0));
    for (const w of [p.buyer, p.financier]) await mined(issuer.mint(w.address, FUNDING));
    await mined(env.ledger.token.connect(p.buyer).approve(env.ledger.record.contracts.Receivables, MaxUint256));
    await mined(env.ledger.token.connect(p.financier).approve(env.ledger.record.contracts.Financing, MaxUint256));
    return d;
  }

  async now(): Promise<number> {
    return (await this.env.chain.provider.getBlock("latest"))!.timestamp;
  }

  async head(): Promise<number> {
    return this.env.chain.provider.getBlockNumber();
  }

  register(account: string, roles: number, kycExpiry: number, jurisdiction = JURISDICTION_CN): Promise<TransactionReceipt> {
    const uscc = freshUscc();
    this.taxIds.set(account, uscc);
    return mined(
      this.env.ledger.registry
        .connect(this.env.keys.operator)
        .register(account, roles, kycExpiry, jurisdiction, entityIdHash("USCC", uscc)),
    );
  }

  /** The member's registered unified social credit code. */
  taxIdOf(who: Wallet | string): string {
    const id = this.taxIds.get(typeof who === "string" ? who : who.address);
    if (!id) throw new Error(`no tax id registered here for ${typeof who === "string" ? who : who.address}`);
    return id;
  }

  /** The compliance key's attestation of `invoices` for `seller` (the ledger's invoice attester). */
  attest(seller: string, invoices: LedgerInvoice[], batch = false): Promise<{ expiry: bigint; signature: string }> {
    for (const inv of invoices) this.terms.set(receivableIdOf(inv.fingerprint), termsOf(seller, inv));
    return attestInvoices(
      this.env.keys.compliance,
      { chainId: this.env.chain.chainId, receivables: this.env.ledger.record.contracts.Receivables },
      seller,
      invoices,
      batch,
    );
  }

  /** The recorded terms of a receivable tokenised here. */
  termsOf(id: bigint): ReturnType<typeof termsOf> {
    const t = this.terms.get(id);
    if (!t) throw new Error(`receivable ${id} was not tokenised through this driver`);
    return t;
  }

  /** Tokenises a fresh, attested invoice of `seller` owed by `debtor`; returns the receivable id. */
  async tokenise(seller: Wallet, debtor: Wallet, faceValue = 1_000_000_00n, dueInDays = 90): Promise<bigint> {
    invoiceCounter += 1;
    const inv: LedgerInvoice = {
      debtor: debtor.address,
      faceValue,
      dueDate: (await this.now()) + dueInDays * DAY,
      documentHash: sha256(toUtf8Bytes(`invoice document ${invoiceCounter} ${Math.random()}`)),
      fingerprint: keccakId(`fingerprint ${invoiceCounter} ${Math.random()}`),
    };
    await mined(this.env.ledger.receivables.connect(seller).tokenise(inv, await this.attest(seller.address, [inv])));
    return receivableIdOf(inv.fingerprint);
  }

  accept(debtor: Wallet, id: bigint): Promise<TransactionReceipt> {
    return mined(this.env.ledger.receivables.connect(debtor).accept(id, this.termsOf(id)));
  }

  /** The debtor signs the acceptance; `relayer` (not a party) sends it. */
  async acceptBySig(debtor: Wallet, id: bigint, relayer = this.p.relayer): Promise<TransactionReceipt> {
    const r = this.env.ledger.receivables;
    const deadline = (await this.now()) + 3600;
    // Unordered nonces: any value the debtor has not used on this contract.
    const nonce = BigInt(keccakId(`accept ${id} ${Math.random()}`));
    const signature = await debtor.signTypedData(
      { ...RECEIVABLES_DOMAIN, chainId: this.env.chain.chainId, verifyingContract: this.env.ledger.record.contracts.Receivables },
      RECEIVABLES_TYPES.Accept,
      { debtor: debtor.address, receivableId: id, ...this.termsOf(id), nonce, deadline },
    );
    return mined(r.connect(relayer).acceptBySig(debtor.address, id, this.termsOf(id), { nonce, deadline, signature }));
  }

  /** Voids a signature nonce of `who` on the Receivables contract without using it. */
  invalidateNonce(who: Wallet, nonce: bigint): Promise<TransactionReceipt> {
    return mined(this.env.ledger.receivables.connect(who).invalidateNonce(nonce));
  }

  cancel(seller: Wallet, id: bigint): Promise<TransactionReceipt> {
    return mined(this.env.ledger.receivables.connect(seller).cancel(id));
  }

  creditNote(holder: Wallet, id: bigint, amount: bigint): Promise<TransactionReceipt> {
    return mined(this.env.ledger.receivables.connect(holder).applyCreditNote(id, amount, sha256(toUtf8Bytes(`credit note ${id} ${amount}`))));
  }

  /** Splits `id` into `amounts`; returns the children's ids. */
  async split(holder: Wallet, id: bigint, amounts: bigint[]): Promise<bigint[]> {
    const r = this.env.ledger.receivables;
    await mined(r.connect(holder).split(id, amounts));
    return Promise.all(amounts.map((_, i) => r.childId(id, i)));
  }

  transfer(holder: Wallet, to: Wallet, id: bigint): Promise<TransactionReceipt> {
    return mined(this.env.ledger.receivables.connect(holder).transferFrom(holder.address, to.address, id));
  }

  pay(debtor: Wallet, id: bigint, amount: bigint): Promise<TransactionReceipt> {
    return mined(this.env.ledger.receivables.connect(debtor).pay(id, amount));
  }

  markDefaulted(by: Wallet, id: bigint): Promise<TransactionReceipt> {
    return mined(this.env.ledger.receivables.connect(by).markDefaulted(id));
  }

  /** Opens a line of `financier` for `debtor` (any supplier); returns the line id. */
  async openLine(financier: Wallet, debtor: Wallet, limit = 5_000_000_00n): Promise<number> {
    const f = this.env.ledger.financing;
    await mined(
      f.connect(financier).openCreditLine(debtor.address, "0x0000000000000000000000000000000000000000", {
        limit,
        maxAdvanceBps: 9_000n,
        discountBps: 500n,
        expiry: (await this.now()) + 365 * DAY,
      }),
    );
    return Number(await f.creditLineCount());
  }

  async updateLine(financier: Wallet, lineId: number, limit: bigint): Promise<TransactionReceipt> {
    return mined(
      this.env.ledger.financing.connect(financier).updateCreditLine(lineId, {
        limit,
        maxAdvanceBps: 8_000n,
        discountBps: 400n,
        expiry: (await this.now()) + 300 * DAY,
      }),
    );
  }

  closeLine(financier: Wallet, lineId: number): Promise<TransactionReceipt> {
    return mined(this.env.ledger.financing.connect(financier).closeCreditLine(lineId));
  }

  /** Requests at any terms (lapsing in 30 days) unless `terms` says otherwise. */
  async request(holder: Wallet, id: bigint, lineId: number, terms: Partial<RequestTerms> = {}): Promise<TransactionReceipt> {
    const t = { ...anyTerms(BigInt(lineId), BigInt((await this.now()) + 30 * DAY)), ...terms };
    return mined(this.env.ledger.financing.connect(holder).requestFinancing(id, t));
  }

  /** Approves at the line's current terms, quoted at the chain's latest block time. */
  async approve(financier: Wallet, id: bigint, registrationNumber = `REG-${id.toString(16).slice(0, 12)}`): Promise<TransactionReceipt> {
    const approval = await approvalAtLineTerms(this.env.ledger, id, registrationHash(registrationNumber), BigInt(await this.now()));
    return mined(this.env.ledger.financing.connect(financier).approveFinancing(id, approval));
  }

  async reject(financier: Wallet, id: bigint, reason = "insufficient documents"): Promise<TransactionReceipt> {
    const { lineId } = await this.env.ledger.financing.financing(id);
    return mined(this.env.ledger.financing.connect(financier).rejectFinancing(id, lineId, keccakId(reason)));
  }

  writeOff(financier: Wallet, id: bigint): Promise<TransactionReceipt> {
    return mined(this.env.ledger.financing.connect(financier).writeOff(id));
  }

  /** Moves the chain's clock forward and mines a block. */
  async travel(seconds: number): Promise<void> {
    await this.env.chain.provider.send("evm_increaseTime", [seconds]);
    await this.env.chain.provider.send("evm_mine", []);
  }

  // ------------------------------------------------------------------ member administration

  updateMember(account: string, roles: number, jurisdiction: string): Promise<TransactionReceipt> {
    return mined(
      this.env.ledger.registry.connect(this.env.keys.operator).update(account, roles, jurisdiction, keccakId(`entity v2 ${account}`)),
    );
  }

  renewKyc(account: string, kycExpiry: number): Promise<TransactionReceipt> {
    return mined(this.env.ledger.registry.connect(this.env.keys.compliance).renewKyc(account, kycExpiry));
  }

  suspend(account: string, reason: string): Promise<TransactionReceipt> {
    return mined(this.env.ledger.registry.connect(this.env.keys.compliance).suspend(account, keccakId(reason)));
  }

  reinstate(account: string): Promise<TransactionReceipt> {
    return mined(this.env.ledger.registry.connect(this.env.keys.compliance).reinstate(account));
  }
}

/** What a lifecycle run produced, for assertions on particular events. */
export interface LifecycleResult {
  /** The acceptance relayed by `relayer` with the buyer's signature. */
  acceptBySigTx: string;
  financed: bigint;
  splitParent: bigint;
  children: bigint[];
  lineId: number;
}

/**
 * Every kind of ledger event at least once: member administration, tokenise, relayed acceptance,
 * a voided signature nonce, cancel, credit note, split, transfer of a child, partial and full payment, a credit line opened,
 * updated and closed, financing rejected, requested again, approved and repaid, a default and its
 * write-off, and a late payment of a defaulted financed receivable.
 */
export async function runFullLifecycle(d: LedgerDriver): Promise<LifecycleResult> {
  const { supplier, supplier2, buyer, financier, auditor, relayer } = d.p;
  await d.updateMember(auditor.address, ROLE_BITS.auditor, "0x484b"); // HK
  await d.renewKyc(supplier2.address, (await d.now()) + 3 * 365 * DAY);
  await d.suspend(supplier2.address, "document review");
  await d.reinstate(supplier2.address);

  const r1 = await d.tokenise(supplier, buyer);
  const accepted = await d.acceptBySig(buyer, r1, relayer);
  await d.invalidateNonce(buyer, 7n);
  const r2 = await d.tokenise(supplier, buyer, 50_000_00n);
  await d.cancel(supplier, r2);

  const r3 = await d.tokenise(supplier, buyer);
  await d.accept(buyer, r3);
  await d.creditNote(supplier, r3, 100_000_00n);
  const [c1, c2] = await d.split(supplier, r3, [400_000_00n, 500_000_00n]);
  await d.transfer(supplier, supplier2, c1);
  await d.pay(buyer, c2, 100_000_00n);
  await d.pay(buyer, c2, 400_000_00n);

  const lineId = await d.openLine(financier, buyer);
  await d.updateLine(financier, lineId, 4_000_000_00n);
  await d.request(supplier, r1, lineId);
  await d.reject(financier, r1);
  await d.request(supplier, r1, lineId);
  await d.approve(financier, r1);
  await d.pay(buyer, r1, 300_000_00n);
  await d.request(supplier2, c1, lineId);
  await d.approve(financier, c1);

  // Past due date and grace period: both financed receivables default.
  await d.travel(125 * DAY);
  await d.markDefaulted(financier, c1);
  await d.writeOff(financier, c1);
  await d.markDefaulted(financier, r1);
  await d.pay(buyer, r1, 700_000_00n);
  await d.closeLine(financier, lineId);
  return { acceptBySigTx: accepted.hash, financed: r1, splitParent: r3, children: [c1, c2], lineId };
}
