/**
 * Model-based property test of the ledger. fast-check generates random sequences of participant
 * acts (tokenise, accept, cancel, credit note, split, transfer, request / withdraw / approve /
 * reject financing, line repricing, pay, time passing with markDefaulted, write-off), including acts by the wrong party
 * or in the wrong state. A plain TypeScript model of the ledger predicts each outcome: the act
 * must succeed when the model says so and revert with the exact custom error otherwise. After
 * every act the whole chain state is compared with the model and the invariants are checked:
 *   (1) a fingerprint is tokenised at most once (a used one always reverts ReceivableDuplicate;
 *       at most one ReceivableTokenised per id), and so is a document hash (a used one always
 *       reverts ReceivableDocumentUsed; no two ReceivableTokenised events carry the same document);
 *   (2) a receivable is financed at most once (approving a financed id reverts; at most one
 *       FinancingApproved per id);
 *   (3) outstanding <= face value for every receivable;
 *   (4) the children of a split sum to the parent's outstanding at the split;
 *   (5) the token's total supply equals the sum of the actors' balances (all holders are actors);
 *   (6) a line's utilisation equals the principal of its Active financings and stays within limit;
 *   (7) each actor's ERC-721 balance equals the live receivables it holds;
 *   (8) a supplier never receives less than its request's terms: every approval pays at least the
 *       request's minPaid and discounts at most its maxDiscount, while a hostile financier
 *       reprices its lines under pending requests and approves below the quote.
 * Every run starts from a `loadFixture` snapshot holding four credit lines and seven seeded
 * receivables (issued, accepted, requested, financed), so short runs already reach financing,
 * default and write-off; the model of that snapshot is read from the chain once. Time moves in
 * whole days and due dates and line expiries sit half a day off the day grid, so wall-clock drift
 * between blocks never decides an outcome. Fresh fingerprints come from a counter: outcomes never
 * depend on their value, so replaying a reported seed takes the same path.
 */
import fc from "fast-check";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import { expect } from "chai";
import { ethers, network } from "hardhat";
import type { BaseContract, ContractTransactionReceipt, ContractTransactionResponse } from "ethers";
import { childIdOf } from "../../services/src/receivables/fingerprint";
import {
  type Actors,
  acceptedReceivable,
  DAY,
  GRACE_PERIOD,
  type LedgerFixture,
  MIN_DENOMINATION,
  YEAR,
  ledgerFixture,
  lineTerms,
  accept,
  rootId,
  tokenise,
} from "./helpers/fixture";
import { quoteFinancing } from "../../services/src/financing/financing-terms";
import { approvalFor, REGISTRATION, requestTerms } from "./helpers/financing";

// ---------------------------------------------------------------- constants and fixture

type ActorName = keyof Actors;

const ACTOR_NAMES: ActorName[] = [
  "admin",
  "operator",
  "officer",
  "issuer",
  "supplier",
  "supplier2",
  "buyer",
  "buyer2",
  "financier",
  "financier2",
  "auditor",
  "outsider",
];
const VERIFIED: Record<number, ActorName[]> = {
  1: ["supplier", "supplier2", "buyer2"],
  2: ["buyer", "buyer2"],
  4: ["financier", "financier2"],
};
const MEMBERS: ActorName[] = ["supplier", "supplier2", "buyer", "buyer2", "financier", "financier2", "auditor"];
const SUPPLIER = 1;
const BUYER = 2;
const FINANCIER = 4;

const HALF_DAY = DAY / 2n;
const UINT64_MAX = 2n ** 64n - 1n;
/** Extra funds for buyers and financiers, so no act is refused for want of money. */
const EXTRA_FUNDING = 10n ** 13n;
/** Time never moves further than this within a run: lines (1 year) expire, KYC (2 years) does not. */
const MAX_ELAPSED = 500n * DAY;
// 500 runs in the test suite; the coverage run (instrumented, ~3x slower) needs far fewer to cover the same code.
const NUM_RUNS = Number(process.env.PROPERTY_RUNS ?? 500);
const MAX_COMMANDS = 16;

enum St {
  None,
  Issued,
  Accepted,
  Financed,
  Paid,
  Defaulted,
  Cancelled,
  Split,
}
enum FSt {
  None,
  Requested,
  Rejected,
  Active,
  Repaid,
  WrittenOff,
  Withdrawn,
}

interface LineSpec {
  financier: ActorName;
  debtor: ActorName | null;
  supplier: ActorName | null;
  limit: bigint;
  maxAdvanceBps: bigint;
  discountBps: bigint;
  closed: boolean;
}

/** Lines 1..4; id 5 never exists. A few large approvals exhaust a limit. */
const LINE_SPECS: LineSpec[] = [
  {
    financier: "financier",
    debtor: "buyer",
    supplier: null,
    limit: 2_000_000_000n,
    maxAdvanceBps: 9_000n,
    discountBps: 500n,
    closed: false,
  },
  {
    financier: "financier2",
    debtor: null,
    supplier: "supplier2",
    limit: 1_000_000_000n,
    maxAdvanceBps: 8_000n,
    discountBps: 1_000n,
    closed: false,
  },
  {
    financier: "financier",
    debtor: null,
    supplier: "supplier",
    limit: 2_000_000_000n,
    maxAdvanceBps: 10_000n,
    discountBps: 0n,
    closed: false,
  },
  {
    financier: "financier2",
    debtor: "buyer2",
    supplier: null,
    limit: 1_000_000_000n,
    maxAdvanceBps: 5_000n,
    discountBps: 300n,
    closed: true,
  },
];
const MISSING_LINE = BigInt(LINE_SPECS.length + 1);

interface Seed {
  seller: ActorName;
  debtor: ActorName;
  face: bigint;
  dueDays: bigint;
  accept: boolean;
  /** Line to request financing on, and whether its financier approves. */
  line?: number;
  approve?: boolean;
}

/** Receivables every run starts with, so that a few random acts already reach financed,
 * defaulted and written-off states. */
const SEEDS: Seed[] = [
  { seller: "supplier", debtor: "buyer", face: 2_000_000_00n, dueDays: 60n, accept: true },
  { seller: "supplier2", debtor: "buyer2", face: 500_000_00n, dueDays: 30n, accept: true, line: 2 },
  { seller: "supplier", debtor: "buyer", face: 3_000_000_00n, dueDays: 90n, accept: true, line: 3, approve: true },
  { seller: "buyer2", debtor: "buyer", face: 800_000_00n, dueDays: 20n, accept: true, line: 1, approve: true },
  { seller: "supplier2", debtor: "buyer", face: 150_000_00n, dueDays: 10n, accept: false },
  // Approving this one would exceed line 1's limit.
  { seller: "supplier", debtor: "buyer", face: 30_000_000_00n, dueDays: 75n, accept: true, line: 1 },
  { seller: "supplier", debtor: "buyer2", face: 1_200_000_00n, dueDays: 45n, accept: true, line: 3 },
];

interface InvariantFixture {
  f: LedgerFixture;
  lineExpiry: bigint;
  /** First block of the fixture: FinancingApproved events are counted from here. */
  fromBlock: number;
  seeded: Array<{ id: bigint; seller: string; fingerprint: string; documentHash: string }>;
  addresses: { receivables: string; financing: string; token: string };
}

/** The ledger fixture plus ample funds, the credit lines of LINE_SPECS and the SEEDS receivables. */
async function invariantFixture(): Promise<InvariantFixture> {
  const fromBlock = (await ethers.provider.getBlockNumber()) + 1;
  const f = await ledgerFixture();
  for (const who of [f.buyer, f.buyer2, f.financier, f.financier2]) {
    await f.token.connect(f.issuer).mint(who.address, EXTRA_FUNDING);
  }
  // Half a day off the day grid, like every due date, so day-sized time steps never land on it.
  const now = BigInt(await time.latest());
  const lineExpiry = now + YEAR + HALF_DAY;
  for (const [i, s] of LINE_SPECS.entries()) {
    await f.financing
      .connect(f.actors[s.financier])
      .openCreditLine(
        s.debtor ? f.actors[s.debtor].address : ethers.ZeroAddress,
        s.supplier ? f.actors[s.supplier].address : ethers.ZeroAddress,
        { limit: s.limit, maxAdvanceBps: s.maxAdvanceBps, discountBps: s.discountBps, expiry: lineExpiry },
      );
    if (s.closed) await f.financing.connect(f.actors[s.financier]).closeCreditLine(i + 1);
  }
  const seeded: InvariantFixture["seeded"] = [];
  for (const [i, s] of SEEDS.entries()) {
    const seller = f.actors[s.seller];
    const fingerprint = ethers.id(`invariant seed ${i}`);
    const documentHash = ethers.id(`invariant seed document ${i}`);
    const id = rootId(fingerprint);
    await tokenise(f, seller, {
      debtor: f.actors[s.debtor].address,
      faceValue: s.face,
      dueDate: now + s.dueDays * DAY + HALF_DAY,
      documentHash,
      fingerprint,
    });
    if (s.accept) await accept(f, f.actors[s.debtor], id);
    if (s.line !== undefined) {
      await f.financing.connect(seller).requestFinancing(id, await requestTerms(s.line));
      if (s.approve) {
        await f.financing.connect(f.actors[LINE_SPECS[s.line - 1].financier]).approveFinancing(id, await approvalFor(f, id));
      }
    }
    seeded.push({ id, seller: seller.address, fingerprint, documentHash });
  }
  return {
    f,
    lineExpiry,
    fromBlock,
    seeded,
    addresses: {
      receivables: await f.receivables.getAddress(),
      financing: await f.financing.getAddress(),
      token: await f.token.getAddress(),
    },
  };
}

// ---------------------------------------------------------------- model

interface Rec {
  id: bigint;
  seller: string;
  holder: string;
  debtor: string;
  face: bigint;
  outstanding: bigint;
  due: bigint;
  status: St;
  financed: boolean;
  parent: bigint;
  /** Outstanding amount at the split, and the children (Split parents only). */
  splitAt: bigint;
  children: bigint[];
}

interface Fin {
  status: FSt;
  lineId: bigint;
  supplier: string;
  principal: bigint;
  /** The pending request's terms (IFinancing.RequestTerms). */
  minPaid: bigint;
  maxDiscount: bigint;
  expiresAt: bigint;
}

interface LineModel {
  id: bigint;
  financier: string;
  debtor: string;
  supplier: string;
  limit: bigint;
  utilised: bigint;
  maxAdvanceBps: bigint;
  discountBps: bigint;
  expiry: bigint;
  open: boolean;
}

interface Model {
  /** Approximate chain time: whole-day steps from the fixture's time; drift is seconds. */
  now: bigint;
  elapsed: bigint;
  recs: Map<bigint, Rec>;
  /** Every id ever used, tokenised or split child, in order of creation. */
  ids: bigint[];
  /** Every fingerprint ever tokenised, in order. */
  fingerprints: string[];
  /** Every document hash ever tokenised, with the receivable it became. */
  documents: Map<string, bigint>;
  fins: Map<bigint, Fin>;
  lines: LineModel[];
  balances: Map<string, bigint>;
  approvals: Map<bigint, number>;
}

interface Real extends InvariantFixture {
  name: Map<string, ActorName>;
  selectors: { receivable: string; financing: string; creditLine: string; balanceOf: string; totalSupply: string };
  approvedTopic: string;
  tokenisedTopic: string;
}

const addr = (r: Real, n: ActorName): string => r.f.actors[n].address;
const isVerified = (r: Real, account: string, role: number): boolean =>
  VERIFIED[role].some((n) => addr(r, n) === account);
const isMember = (r: Real, account: string): boolean => MEMBERS.some((n) => addr(r, n) === account);
const signer = (r: Real, account: string): HardhatEthersSigner => {
  const n = r.name.get(account);
  if (!n) throw new Error(`no actor at ${account}`);
  return r.f.actors[n];
};

function recOf(m: Model, id: bigint): Rec {
  const rec = m.recs.get(id);
  if (!rec) throw new Error(`model has no receivable ${id}`);
  return rec;
}

function lineOf(m: Model, lineId: bigint): LineModel | undefined {
  return m.lines[Number(lineId) - 1];
}

function credit(m: Model, account: string, delta: bigint): void {
  const next = (m.balances.get(account) ?? 0n) + delta;
  if (next < 0n) throw new Error(`model balance of ${account} would go negative`);
  m.balances.set(account, next);
}


/** Picks a receivable, counting back from the newest (`pick` 0 is the newest). When `prefer`,
 * among those the first of `fits` that any receivable satisfies accepts (most specific first);
 * otherwise, or when none fits, among all. */
function pickId(m: Model, pick: number, prefer: boolean, ...fits: Array<(rec: Rec) => boolean>): bigint {
  const fromNewest = (pool: bigint[]) => pool[pool.length - 1 - (pick % pool.length)];
  for (const fit of prefer ? fits : []) {
    const pool = m.ids.filter((id) => fit(recOf(m, id)));
    if (pool.length > 0) return fromNewest(pool);
  }
  return fromNewest(m.ids);
}

function inScope(line: LineModel, debtor: string, supplier: string): boolean {
  return (
    (line.debtor === ethers.ZeroAddress || line.debtor === debtor) &&
    (line.supplier === ethers.ZeroAddress || line.supplier === supplier)
  );
}

function available(m: Model, line: LineModel): boolean {
  return line.open && line.expiry > m.now;
}

/** The line's quote for `rec` at model time `at`, as request terms (the service's arithmetic). */
function quoteTerms(line: LineModel, rec: Rec, at: bigint): { minPaid: bigint; maxDiscount: bigint } {
  const q = quoteFinancing(line, rec.outstanding, rec.due, at);
  return { minPaid: q.paid, maxDiscount: q.discount };
}

// ---------------------------------------------------------------- chain access

/** One raw eth_call: the ethers contract stack costs several times more per read, and the
 * invariants read the whole ledger after every act. */
async function rawCall(to: string, data: string): Promise<string> {
  return (await network.provider.request({ method: "eth_call", params: [{ to, data }, "latest"] })) as string;
}

const word = (hex: string, i: number): string => hex.slice(2 + 64 * i, 2 + 64 * (i + 1));
const uintAt = (hex: string, i: number): bigint => BigInt(`0x${word(hex, i)}`);
const addressAt = (hex: string, i: number): string => ethers.getAddress(`0x${word(hex, i).slice(24)}`);
const arg = (v: bigint | string): string => ethers.toBeHex(v, 32).slice(2);

interface Refusal {
  c: BaseContract;
  error: string;
  args: unknown[];
}

function refusal(c: BaseContract, error: string, ...args: unknown[]): Refusal {
  return { c, error, args };
}

/** Sends the act; asserts the exact refusal when one is expected, else that it is mined. */
async function execute(
  expected: Refusal | null,
  send: () => Promise<ContractTransactionResponse>,
): Promise<ContractTransactionReceipt | null> {
  if (expected) {
    const assertion = expect(send()).to.be.revertedWithCustomError(expected.c, expected.error);
    await (expected.args.length > 0 ? assertion.withArgs(...expected.args) : assertion);
    return null;
  }
  const tx = await send();
  const receipt = await tx.wait();
  if (!receipt || receipt.status !== 1) throw new Error("transaction not mined successfully");
  return receipt;
}

/** Asserts `actual` equals `expected` (primitives or flat records); chai only runs on a mismatch,
 * since the invariants compare the whole ledger after every act. */
function same(actual: unknown, expected: unknown, what: string): void {
  const equal =
    typeof actual === "object" && actual !== null && typeof expected === "object" && expected !== null
      ? Object.entries(expected).every(([k, v]) => (actual as Record<string, unknown>)[k] === v) &&
        Object.keys(actual).length === Object.keys(expected).length
      : actual === expected;
  if (!equal) expect(actual, what).to.deep.equal(expected);
}

/** Asserts `a <= b` for bigints, with chai only on failure. */
function atMost(a: bigint, b: bigint, what: string): void {
  if (a > b) expect(a, what).to.be.lte(b);
}

/** The first indexed argument (the receivable id) of every `topic` event of `address` since the fixture began. */
async function eventIds(r: Real, address: string, topic: string): Promise<bigint[]> {
  const logs = (await network.provider.request({
    method: "eth_getLogs",
    params: [{ address, fromBlock: ethers.toQuantity(r.fromBlock), topics: [topic] }],
  })) as Array<{ topics: string[] }>;
  return logs.map((log) => BigInt(log.topics[1]));
}

/** The document hash of every ReceivableTokenised event since the fixture (its third data word). */
async function tokenisedDocuments(r: Real, address: string): Promise<string[]> {
  const logs = (await network.provider.request({
    method: "eth_getLogs",
    params: [{ address, fromBlock: ethers.toQuantity(r.fromBlock), topics: [r.tokenisedTopic] }],
  })) as Array<{ topics: string[]; data: string }>;
  // Data: faceValue, dueDate, documentHash, fingerprint.
  return logs.map((log) => ethers.dataSlice(log.data, 64, 96));
}

async function checkInvariants(m: Model, r: Real): Promise<void> {
  const { addresses, selectors } = r;

  // (3), (4) and the model: every receivable as the model has it.
  const faces = new Map<bigint, bigint>();
  for (const id of m.ids) {
    const rec = recOf(m, id);
    const out = await rawCall(addresses.receivables, selectors.receivable + arg(id));
    // ReceivableView: id, holder, debtor, faceValue, outstanding, dueDate, status, financed, parentId.
    const chain = {
      holder: addressAt(out, 1),
      debtor: addressAt(out, 2),
      faceValue: uintAt(out, 3),
      outstanding: uintAt(out, 4),
      dueDate: uintAt(out, 5),
      status: Number(uintAt(out, 6)),
      financed: uintAt(out, 7) === 1n,
      parentId: uintAt(out, 8),
    };
    atMost(chain.outstanding, chain.faceValue, `(3) outstanding <= face value of ${id}`);
    same(
      chain,
      {
        holder: rec.holder,
        debtor: rec.debtor,
        faceValue: rec.face,
        outstanding: rec.outstanding,
        dueDate: rec.due,
        status: rec.status,
        financed: rec.financed,
        parentId: rec.parent,
      },
      `receivable ${id}`,
    );
    faces.set(id, chain.faceValue);
  }
  for (const rec of m.recs.values()) {
    if (rec.status !== St.Split) continue;
    const sum = rec.children.reduce((acc, c) => acc + (faces.get(c) ?? 0n), 0n);
    same(sum, rec.splitAt, `(4) children of ${rec.id} sum to its outstanding at the split`);
  }

  // (1) on chain: one ReceivableTokenised per id, for exactly the invoices the model tokenised.
  const tokenisedOnChain = new Map<bigint, number>();
  for (const id of await eventIds(r, addresses.receivables, r.tokenisedTopic)) {
    tokenisedOnChain.set(id, (tokenisedOnChain.get(id) ?? 0) + 1);
  }
  for (const [id, count] of tokenisedOnChain) {
    atMost(BigInt(count), 1n, `(1) ReceivableTokenised events for ${id}`);
  }
  const documentsOnChain = await tokenisedDocuments(r, addresses.receivables);
  same(new Set(documentsOnChain).size, documentsOnChain.length, "(1) no document hash tokenised twice");
  same(
    tokenisedOnChain.size,
    [...m.recs.values()].filter((x) => x.parent === 0n).length,
    "(1) tokenised ids on chain and in the model",
  );

  // (2) and (6): financings, and each line's utilisation against its Active financings.
  const activePrincipal = new Map<bigint, bigint>();
  for (const [id, fin] of m.fins) {
    const out = await rawCall(addresses.financing, selectors.financing + arg(id));
    // FinancingView: receivableId, supplier, lineId, status, principal.
    const chain = {
      supplier: addressAt(out, 1),
      lineId: uintAt(out, 2),
      status: Number(uintAt(out, 3)),
      principal: uintAt(out, 4),
    };
    same(
      chain,
      {
        supplier: fin.supplier,
        lineId: fin.lineId,
        status: fin.status,
        principal: fin.principal,
      },
      `financing of ${id}`,
    );
    if (fin.status === FSt.Active) {
      activePrincipal.set(fin.lineId, (activePrincipal.get(fin.lineId) ?? 0n) + chain.principal);
    }
  }
  for (const line of m.lines) {
    const out = await rawCall(addresses.financing, selectors.creditLine + arg(line.id));
    // CreditLineView: id, financier, debtor, supplier, limit, utilised, ...
    const limit = uintAt(out, 4);
    const utilised = uintAt(out, 5);
    same(utilised, activePrincipal.get(line.id) ?? 0n, `(6) utilisation of line ${line.id}`);
    atMost(utilised, limit, `(6) utilisation of line ${line.id} within its limit`);
    same(utilised, line.utilised, `model utilisation of line ${line.id}`);
  }
  const approvedOnChain = new Map<bigint, number>();
  for (const id of await eventIds(r, addresses.financing, r.approvedTopic)) {
    approvedOnChain.set(id, (approvedOnChain.get(id) ?? 0) + 1);
  }
  for (const [id, count] of approvedOnChain) {
    atMost(BigInt(count), 1n, `(2) FinancingApproved events for ${id}`);
  }
  same(Object.fromEntries(approvedOnChain), Object.fromEntries(m.approvals), "FinancingApproved events per id");

  // (5) and (7): token and ERC-721 balances of every actor.
  const held = new Map<string, bigint>();
  for (const rec of m.recs.values()) {
    if (rec.holder !== ethers.ZeroAddress) held.set(rec.holder, (held.get(rec.holder) ?? 0n) + 1n);
  }
  let sum = 0n;
  for (const n of ACTOR_NAMES) {
    const account = addr(r, n);
    const balance = BigInt(await rawCall(addresses.token, selectors.balanceOf + arg(account)));
    same(balance, m.balances.get(account) ?? 0n, `token balance of ${n}`);
    sum += balance;
    const nfts = BigInt(await rawCall(addresses.receivables, selectors.balanceOf + arg(account)));
    same(nfts, held.get(account) ?? 0n, `(7) receivables held by ${n}`);
  }
  const supply = BigInt(await rawCall(addresses.token, selectors.totalSupply));
  same(supply, sum, "(5) total supply equals the sum of the actors' balances");
}

// ---------------------------------------------------------------- commands

/** `-1`: the party the act belongs to; otherwise an index into ACTOR_NAMES. */
const callerArb = fc.oneof({ arbitrary: fc.constant(-1), weight: 5 }, { arbitrary: fc.nat({ max: 11 }), weight: 1 });
const preferArb = fc.oneof({ arbitrary: fc.constant(true), weight: 5 }, { arbitrary: fc.constant(false), weight: 1 });
/** Half the time the newest fitting receivable, so that acts build on one another. */
const pickArb = fc.oneof({ arbitrary: fc.constant(0), weight: 1 }, { arbitrary: fc.nat({ max: 1_000 }), weight: 1 });
type AmountKind = "part" | "full" | "over" | "zero";
const amountKindArb = fc.oneof(
  { arbitrary: fc.constant<AmountKind>("part"), weight: 6 },
  { arbitrary: fc.constant<AmountKind>("full"), weight: 3 },
  { arbitrary: fc.constant<AmountKind>("over"), weight: 1 },
  { arbitrary: fc.constant<AmountKind>("zero"), weight: 1 },
);
const fractionArb = fc.bigInt({ min: 0n, max: 2n ** 64n });

function callerAddress(r: Real, caller: number, rightful: string): string {
  return caller < 0 ? rightful : addr(r, ACTOR_NAMES[caller]);
}

function callerLabel(caller: number): string {
  return caller < 0 ? "rightful party" : ACTOR_NAMES[caller];
}

function amountOf(kind: AmountKind, outstanding: bigint, fraction: bigint): bigint {
  switch (kind) {
    case "part":
      return outstanding > 1n ? 1n + (fraction % (outstanding - 1n)) : 1n;
    case "full":
      return outstanding;
    case "over":
      return outstanding + 1n;
    case "zero":
      return 0n;
  }
}

abstract class LedgerCommand implements fc.AsyncCommand<Model, Real> {
  /** Most acts need a receivable to act on. */
  check(m: Readonly<Model>): boolean {
    return m.ids.length > 0;
  }

  async run(m: Model, r: Real): Promise<void> {
    await this.act(m, r);
    await checkInvariants(m, r);
  }

  protected abstract act(m: Model, r: Real): Promise<void>;
  abstract toString(): string;
}

let fingerprintCounter = 0;

class Tokenise extends LedgerCommand {
  constructor(
    readonly seller: ActorName,
    readonly debtor: ActorName,
    readonly amount: bigint,
    readonly dueDays: bigint,
    readonly reuse: number | null,
  ) {
    super();
  }

  check(): boolean {
    return true;
  }

  protected async act(m: Model, r: Real): Promise<void> {
    const { receivables } = r.f;
    const seller = addr(r, this.seller);
    const debtor = addr(r, this.debtor);
    fingerprintCounter += 1;
    // An even reuse presents a used fingerprint again (the same invoice), an odd one a used
    // document under a fresh fingerprint (the same PDF as another invoice).
    const reuseFingerprint = this.reuse !== null && this.reuse % 2 === 0 && m.fingerprints.length > 0;
    const reuseDocument = this.reuse !== null && this.reuse % 2 === 1 && m.documents.size > 0;
    const fingerprint = reuseFingerprint
      ? m.fingerprints[this.reuse! % m.fingerprints.length]
      : ethers.id(`invariant fingerprint ${fingerprintCounter}`);
    const documentHash = reuseDocument
      ? [...m.documents.keys()][this.reuse! % m.documents.size]
      : ethers.id(`invariant document ${fingerprintCounter}`);
    const id = rootId(fingerprint);
    const due = m.now + this.dueDays * DAY + HALF_DAY;
    const invoice = { debtor, faceValue: this.amount, dueDate: due, documentHash, fingerprint };
    const used = m.recs.has(id);
    const priorDocument = m.documents.get(documentHash);
    let expected: Refusal | null = null;
    if (!isVerified(r, seller, SUPPLIER)) {
      expected = refusal(receivables, "ReceivableUnverifiedParty", seller, SUPPLIER);
    } else if (!isVerified(r, debtor, BUYER)) {
      expected = refusal(receivables, "ReceivableUnverifiedParty", debtor, BUYER);
    } else if (seller === debtor) {
      expected = refusal(receivables, "ReceivableSelfDealing", seller);
    } else if (used) {
      expected = refusal(receivables, "ReceivableDuplicate", id);
    } else if (priorDocument !== undefined) {
      expected = refusal(receivables, "ReceivableDocumentUsed", documentHash, priorDocument);
    }
    // (1): a used fingerprint or document is never tokenised again.
    if (used) expect(expected, "(1) a used fingerprint must be refused").to.not.equal(null);
    if (priorDocument !== undefined) expect(expected, "(1) a used document must be refused").to.not.equal(null);

    const receipt = await execute(expected, () => tokenise(r.f, signer(r, seller), invoice));
    if (!receipt) return;
    m.fingerprints.push(fingerprint);
    m.documents.set(documentHash, id);
    m.recs.set(id, {
      id,
      seller,
      holder: seller,
      debtor,
      face: this.amount,
      outstanding: this.amount,
      due,
      status: St.Issued,
      financed: false,
      parent: 0n,
      splitAt: 0n,
      children: [],
    });
    m.ids.push(id);
  }

  toString(): string {
    const reuse = this.reuse === null ? "" : `, reusing ${this.reuse % 2 === 0 ? "fingerprint" : "document"} #${this.reuse}`;
    return `tokenise(${this.seller} -> ${this.debtor}, ${this.amount}, due +${this.dueDays}d${reuse})`;
  }
}

class Accept extends LedgerCommand {
  constructor(readonly pick: number, readonly prefer: boolean, readonly caller: number) {
    super();
  }

  protected async act(m: Model, r: Real): Promise<void> {
    const { receivables } = r.f;
    const id = pickId(m, this.pick, this.prefer, (x) => x.status === St.Issued);
    const rec = recOf(m, id);
    const caller = callerAddress(r, this.caller, rec.debtor);
    let expected: Refusal | null = null;
    if (rec.debtor !== caller) expected = refusal(receivables, "ReceivableUnauthorized", id, caller);
    else if (rec.status !== St.Issued) expected = refusal(receivables, "ReceivableInvalidStatus", id, rec.status);
    if (!(await execute(expected, () => accept(r.f, signer(r, caller), id)))) return;
    rec.status = St.Accepted;
  }

  toString(): string {
    return `accept(#${this.pick}, by ${callerLabel(this.caller)})`;
  }
}

class Cancel extends LedgerCommand {
  constructor(readonly pick: number, readonly prefer: boolean, readonly caller: number) {
    super();
  }

  protected async act(m: Model, r: Real): Promise<void> {
    const { receivables } = r.f;
    const id = pickId(m, this.pick, this.prefer, (x) => x.status === St.Issued);
    const rec = recOf(m, id);
    const caller = callerAddress(r, this.caller, rec.seller);
    let expected: Refusal | null = null;
    if (rec.status !== St.Issued) expected = refusal(receivables, "ReceivableInvalidStatus", id, rec.status);
    else if (rec.holder !== caller) expected = refusal(receivables, "ReceivableUnauthorized", id, caller);
    if (!(await execute(expected, () => receivables.connect(signer(r, caller)).cancel(id)))) return;
    rec.status = St.Cancelled;
    rec.holder = ethers.ZeroAddress;
  }

  toString(): string {
    return `cancel(#${this.pick}, by ${callerLabel(this.caller)})`;
  }
}

class CreditNote extends LedgerCommand {
  constructor(
    readonly pick: number,
    readonly prefer: boolean,
    readonly caller: number,
    readonly kind: AmountKind,
    readonly fraction: bigint,
  ) {
    super();
  }

  protected async act(m: Model, r: Real): Promise<void> {
    const { receivables } = r.f;
    const id = pickId(m, this.pick, this.prefer, (x) => x.status === St.Issued || x.status === St.Accepted);
    const rec = recOf(m, id);
    const caller = callerAddress(r, this.caller, rec.holder === ethers.ZeroAddress ? rec.seller : rec.holder);
    const amount = amountOf(this.kind, rec.outstanding, this.fraction);
    let expected: Refusal | null = null;
    if (rec.holder !== caller) expected = refusal(receivables, "ReceivableUnauthorized", id, caller);
    else if (rec.status !== St.Issued && rec.status !== St.Accepted) {
      expected = refusal(receivables, "ReceivableInvalidStatus", id, rec.status);
    } else if (amount === 0n) expected = refusal(receivables, "ReceivableInvalidAmount", amount);
    else if (amount > rec.outstanding) {
      expected = refusal(receivables, "ReceivableAmountExceedsOutstanding", id, amount, rec.outstanding);
    }
    const noteHash = ethers.id(`credit note ${id} ${amount}`);
    const receipt = await execute(expected, () =>
      receivables.connect(signer(r, caller)).applyCreditNote(id, amount, noteHash),
    );
    if (!receipt) return;
    rec.outstanding -= amount;
    if (rec.outstanding === 0n) rec.status = St.Paid;
  }

  toString(): string {
    return `creditNote(#${this.pick}, ${this.kind}, by ${callerLabel(this.caller)})`;
  }
}

class Split extends LedgerCommand {
  constructor(
    readonly pick: number,
    readonly prefer: boolean,
    readonly caller: number,
    readonly parts: number,
    readonly weights: number[],
    readonly mismatch: boolean,
  ) {
    super();
  }

  /** Parts of at least the minimum denomination summing to `outstanding` when it is large enough. */
  private amounts(outstanding: bigint): bigint[] {
    const n = BigInt(this.parts);
    const amounts: bigint[] = [];
    if (outstanding >= n * MIN_DENOMINATION) {
      const spare = outstanding - n * MIN_DENOMINATION;
      const weights = this.weights.slice(0, this.parts).map(BigInt);
      const total = weights.reduce((a, b) => a + b, 0n);
      for (const w of weights) amounts.push(MIN_DENOMINATION + (spare * w) / total);
    } else {
      for (let i = 0; i < this.parts; i++) amounts.push(outstanding / n);
    }
    const sum = amounts.reduce((a, b) => a + b, 0n);
    amounts[amounts.length - 1] += outstanding - sum + (this.mismatch ? 1n : 0n);
    return amounts;
  }

  protected async act(m: Model, r: Real): Promise<void> {
    const { receivables } = r.f;
    const id = pickId(m, this.pick, this.prefer, (x) => x.status === St.Accepted);
    const rec = recOf(m, id);
    const caller = callerAddress(r, this.caller, rec.holder === ethers.ZeroAddress ? rec.seller : rec.holder);
    const amounts = this.amounts(rec.outstanding);
    const sum = amounts.reduce((a, b) => a + b, 0n);
    // The first part the contract's loop refuses: below the minimum, or above the outstanding amount.
    const badPart = amounts
      .map((a) =>
        a < MIN_DENOMINATION
          ? refusal(receivables, "ReceivableBelowMinimumDenomination", a, MIN_DENOMINATION)
          : a > rec.outstanding
          ? refusal(receivables, "ReceivableAmountExceedsOutstanding", id, a, rec.outstanding)
          : null,
      )
      .find((x) => x !== null);
    let expected: Refusal | null = null;
    if (rec.holder !== caller) expected = refusal(receivables, "ReceivableUnauthorized", id, caller);
    else if (rec.status !== St.Accepted) expected = refusal(receivables, "ReceivableInvalidStatus", id, rec.status);
    else if (!isVerified(r, caller, SUPPLIER)) {
      expected = refusal(receivables, "ReceivableUnverifiedParty", caller, SUPPLIER);
    } else if (badPart) {
      expected = badPart;
    } else if (sum !== rec.outstanding) {
      expected = refusal(receivables, "ReceivableSplitSumMismatch", id, sum, rec.outstanding);
    }
    if (!(await execute(expected, () => receivables.connect(signer(r, caller)).split(id, amounts)))) return;
    rec.status = St.Split;
    rec.holder = ethers.ZeroAddress;
    rec.splitAt = rec.outstanding;
    amounts.forEach((amount, i) => {
      const child = childIdOf(id, i);
      rec.children.push(child);
      m.recs.set(child, {
        id: child,
        seller: caller,
        holder: caller,
        debtor: rec.debtor,
        face: amount,
        outstanding: amount,
        due: rec.due,
        status: St.Accepted,
        financed: false,
        parent: id,
        splitAt: 0n,
        children: [],
      });
      m.ids.push(child);
    });
  }

  toString(): string {
    const mismatch = this.mismatch ? ", sum off by one" : "";
    return `split(#${this.pick}, ${this.parts} parts${mismatch}, by ${callerLabel(this.caller)})`;
  }
}

class Transfer extends LedgerCommand {
  constructor(readonly pick: number, readonly prefer: boolean, readonly caller: number, readonly to: ActorName) {
    super();
  }

  protected async act(m: Model, r: Real): Promise<void> {
    const { receivables } = r.f;
    const id = pickId(m, this.pick, this.prefer, (x) => x.status === St.Accepted);
    const rec = recOf(m, id);
    const from = rec.holder === ethers.ZeroAddress ? rec.seller : rec.holder;
    const caller = callerAddress(r, this.caller, from);
    const to = addr(r, this.to);
    let expected: Refusal | null = null;
    if (rec.holder === ethers.ZeroAddress) expected = refusal(receivables, "ERC721NonexistentToken", id);
    else if (rec.holder !== caller) expected = refusal(receivables, "ERC721InsufficientApproval", caller, id);
    else if (rec.status !== St.Accepted) expected = refusal(receivables, "ReceivableInvalidStatus", id, rec.status);
    else if (!isMember(r, from)) expected = refusal(receivables, "ReceivableUnverifiedParty", from, 0);
    else if (!isVerified(r, to, SUPPLIER) && !isVerified(r, to, FINANCIER)) {
      expected = refusal(receivables, "ReceivableUnverifiedParty", to, SUPPLIER | FINANCIER);
    }
    const receipt = await execute(expected, () => receivables.connect(signer(r, caller)).transferFrom(from, to, id));
    if (!receipt) return;
    rec.holder = to;
  }

  toString(): string {
    return `transfer(#${this.pick} to ${this.to}, by ${callerLabel(this.caller)})`;
  }
}

class RequestFinancing extends LedgerCommand {
  constructor(
    readonly pick: number,
    readonly prefer: boolean,
    readonly caller: number,
    /** 0: the first available line in scope (from `pick`), else a line id (5 does not exist). */
    readonly line: number,
    /** Hold the financier to the line's quote now, rather than accept any terms. */
    readonly tight: boolean,
    /** Days until the request lapses. */
    readonly lapseDays: number,
  ) {
    super();
  }

  protected async act(m: Model, r: Real): Promise<void> {
    const { financing } = r.f;
    const requestable = (x: Rec) => {
      const fin = m.fins.get(x.id);
      return x.status === St.Accepted && (!fin || fin.status !== FSt.Active);
    };
    const id = pickId(
      m,
      this.pick,
      this.prefer,
      (x) => requestable(x) && isVerified(r, x.holder, SUPPLIER),
      requestable,
    );
    const rec = recOf(m, id);
    const caller = callerAddress(r, this.caller, rec.holder === ethers.ZeroAddress ? rec.seller : rec.holder);
    let lineId = BigInt(this.line);
    if (lineId === 0n) {
      const fitting = m.lines.filter((l) => available(m, l) && inScope(l, rec.debtor, caller));
      lineId = fitting.length > 0 ? fitting[this.pick % fitting.length].id : 1n;
    }
    const line = lineOf(m, lineId);
    const fin = m.fins.get(id);
    const finStatus = fin?.status ?? FSt.None;
    // Terms: what the line quotes today (held to it), or anything (accepts whatever comes).
    const terms =
      this.tight && line
        ? { lineId, ...quoteTerms(line, rec, m.now) }
        : { lineId, minPaid: 0n, maxDiscount: UINT64_MAX };
    const expiresAt = m.now + BigInt(this.lapseDays) * DAY + HALF_DAY;
    const requestTerms = { ...terms, expiresAt };
    const pendingLine = fin?.status === FSt.Requested ? lineOf(m, fin.lineId) : undefined;
    const stillPending =
      fin?.status === FSt.Requested &&
      pendingLine !== undefined &&
      available(m, pendingLine) &&
      fin.expiresAt >= m.now &&
      fin.supplier === caller;
    let expected: Refusal | null = null;
    if (!isVerified(r, caller, SUPPLIER)) expected = refusal(financing, "FinancingUnverifiedParty", caller, SUPPLIER);
    else if (rec.holder !== caller) expected = refusal(financing, "FinancingNotHolder", id, caller);
    else if (rec.status !== St.Accepted) {
      expected = refusal(financing, "FinancingInvalidReceivableStatus", id, rec.status);
    } else if (!line) expected = refusal(financing, "CreditLineNotFound", lineId);
    else if (!available(m, line)) expected = refusal(financing, "CreditLineUnavailable", lineId);
    else if (!inScope(line, rec.debtor, caller)) {
      expected = refusal(financing, "CreditLineScopeMismatch", lineId, rec.debtor, caller);
    } else if (stillPending) {
      expected = refusal(financing, "FinancingRequestPending", id, fin.lineId, fin.expiresAt);
    } else if (finStatus === FSt.Active || finStatus === FSt.Repaid || finStatus === FSt.WrittenOff) {
      expected = refusal(financing, "FinancingInvalidStatus", id, finStatus);
    }
    const receipt = await execute(expected, () => financing.connect(signer(r, caller)).requestFinancing(id, requestTerms));
    if (!receipt) return;
    m.fins.set(id, { status: FSt.Requested, supplier: caller, principal: fin?.principal ?? 0n, ...requestTerms });
  }

  toString(): string {
    const line = this.line === 0 ? "a fitting line" : `line ${this.line}`;
    const terms = this.tight ? "at today's quote" : "at any terms";
    return `requestFinancing(#${this.pick} on ${line} ${terms} for ${this.lapseDays} days, by ${callerLabel(this.caller)})`;
  }
}

/** The line's financier when the receivable has a financing record, else financier. */
function financierOf(m: Model, r: Real, id: bigint): string {
  const fin = m.fins.get(id);
  const line = fin ? lineOf(m, fin.lineId) : undefined;
  return line ? line.financier : addr(r, "financier");
}

class ApproveFinancing extends LedgerCommand {
  constructor(
    readonly pick: number,
    readonly prefer: boolean,
    readonly caller: number,
    /** 0: pays the line's quote; 1: one fen less; 2: nothing (a financier testing the terms). */
    readonly greed: number,
  ) {
    super();
  }

  protected async act(m: Model, r: Real): Promise<void> {
    const { financing, receivables } = r.f;
    const requested = (x: Rec) => m.fins.get(x.id)?.status === FSt.Requested;
    const id = pickId(
      m,
      this.pick,
      this.prefer,
      (x) => requested(x) && x.status === St.Accepted && x.holder === m.fins.get(x.id)?.supplier && x.due > m.now,
      requested,
    );
    const rec = recOf(m, id);
    const fin = m.fins.get(id);
    const caller = callerAddress(r, this.caller, financierOf(m, r, id));
    const finStatus = fin?.status ?? FSt.None;
    let expected: Refusal | null = null;
    let advance = 0n;
    let paid = 0n;
    if (!fin || finStatus !== FSt.Requested) expected = refusal(financing, "FinancingInvalidStatus", id, finStatus);
    else {
      const line = lineOf(m, fin.lineId);
      if (!line) throw new Error(`model: financing of ${id} names unknown line ${fin.lineId}`);
      const q = quoteFinancing(line, rec.outstanding, rec.due, m.now);
      advance = q.advance;
      paid = this.greed === 0 ? q.paid : this.greed === 1 && q.paid > 0n ? q.paid - 1n : 0n;
      if (fin.expiresAt < m.now) expected = refusal(financing, "FinancingRequestLapsed", id, fin.expiresAt);
      else if (!available(m, line)) expected = refusal(financing, "CreditLineUnavailable", fin.lineId);
      else if (line.financier !== caller) expected = refusal(financing, "CreditLineUnauthorized", fin.lineId, caller);
      else if (rec.status !== St.Accepted) expected = refusal(receivables, "ReceivableInvalidStatus", id, rec.status);
      else if (rec.holder !== fin.supplier) {
        expected = refusal(financing, "FinancingHolderChanged", id, fin.supplier, rec.holder);
      } else if (rec.due <= m.now) expected = refusal(financing, "FinancingReceivableOverdue", id, rec.due);
      else if (!inScope(line, rec.debtor, rec.holder)) {
        expected = refusal(financing, "CreditLineScopeMismatch", fin.lineId, rec.debtor, rec.holder);
      } else if (paid < fin.minPaid || advance - paid > fin.maxDiscount) {
        expected = refusal(financing, "FinancingTermsNotMet", id, paid, fin.minPaid, advance - paid, fin.maxDiscount);
      } else if (line.utilised + advance > line.limit) {
        expected = refusal(financing, "CreditLineLimitExceeded", fin.lineId, line.utilised, advance, line.limit);
      }
    }
    // (2): a receivable already financed can never be approved again.
    if (rec.financed) expect(expected, `(2) approving financed receivable ${id} must be refused`).to.not.equal(null);

    const approval = { lineId: fin?.lineId ?? 0n, advance, paid, registrationHash: REGISTRATION };
    const receipt = await execute(expected, () => financing.connect(signer(r, caller)).approveFinancing(id, approval));
    if (!receipt || !fin) return;
    const line = lineOf(m, fin.lineId);
    if (!line) throw new Error("unreachable");
    // (8): what the supplier is paid now, and in total once the reserve comes back.
    expect(paid, `(8) paid to the supplier of ${id}`).to.be.at.least(fin.minPaid);
    expect(advance - paid, `(8) discount on ${id}`).to.be.at.most(fin.maxDiscount);
    const approved = receipt.logs
      .map((log) => financing.interface.parseLog(log))
      .find((e) => e?.name === "FinancingApproved");
    expect(approved?.args.toArray(), "FinancingApproved").to.deep.equal([
      id,
      fin.lineId,
      caller,
      rec.holder,
      advance,
      paid,
      REGISTRATION,
    ]);
    credit(m, caller, -paid);
    credit(m, rec.holder, paid);
    rec.holder = caller;
    rec.status = St.Financed;
    rec.financed = true;
    fin.status = FSt.Active;
    fin.principal = advance;
    line.utilised += advance;
    m.approvals.set(id, (m.approvals.get(id) ?? 0) + 1);
  }

  toString(): string {
    const how = ["at the quote", "one fen short", "paying nothing"][this.greed];
    return `approveFinancing(#${this.pick} ${how}, by ${callerLabel(this.caller)})`;
  }
}

class RejectFinancing extends LedgerCommand {
  constructor(readonly pick: number, readonly prefer: boolean, readonly caller: number) {
    super();
  }

  protected async act(m: Model, r: Real): Promise<void> {
    const { financing } = r.f;
    const id = pickId(m, this.pick, this.prefer, (x) => m.fins.get(x.id)?.status === FSt.Requested);
    const fin = m.fins.get(id);
    const caller = callerAddress(r, this.caller, financierOf(m, r, id));
    const finStatus = fin?.status ?? FSt.None;
    let expected: Refusal | null = null;
    if (!fin || finStatus !== FSt.Requested) expected = refusal(financing, "FinancingInvalidStatus", id, finStatus);
    else if (lineOf(m, fin.lineId)?.financier !== caller) {
      expected = refusal(financing, "CreditLineUnauthorized", fin.lineId, caller);
    }
    const reason = ethers.encodeBytes32String("RISK_APPETITE");
    const receipt = await execute(expected, () =>
      financing.connect(signer(r, caller)).rejectFinancing(id, fin?.lineId ?? 0n, reason),
    );
    if (!receipt || !fin) return;
    fin.status = FSt.Rejected;
  }

  toString(): string {
    return `rejectFinancing(#${this.pick}, by ${callerLabel(this.caller)})`;
  }
}

class WithdrawRequest extends LedgerCommand {
  constructor(readonly pick: number, readonly prefer: boolean, readonly caller: number) {
    super();
  }

  protected async act(m: Model, r: Real): Promise<void> {
    const { financing } = r.f;
    const id = pickId(m, this.pick, this.prefer, (x) => m.fins.get(x.id)?.status === FSt.Requested);
    const fin = m.fins.get(id);
    const rec = recOf(m, id);
    // A split or cancelled receivable has no holder: its seller stands in as the rightful party.
    const caller = callerAddress(r, this.caller, fin?.supplier ?? (rec.holder === ethers.ZeroAddress ? rec.seller : rec.holder));
    const finStatus = fin?.status ?? FSt.None;
    let expected: Refusal | null = null;
    if (!fin || finStatus !== FSt.Requested) expected = refusal(financing, "FinancingInvalidStatus", id, finStatus);
    else if (fin.supplier !== caller) expected = refusal(financing, "FinancingNotHolder", id, caller);
    const receipt = await execute(expected, () => financing.connect(signer(r, caller)).withdrawFinancingRequest(id));
    if (!receipt || !fin) return;
    fin.status = FSt.Withdrawn;
  }

  toString(): string {
    return `withdrawFinancingRequest(#${this.pick}, by ${callerLabel(this.caller)})`;
  }
}

/** A financier reprices a line, typically under pending requests (the hostile move of (8)). */
class UpdateLine extends LedgerCommand {
  constructor(
    readonly line: number,
    readonly caller: number,
    readonly maxAdvanceBps: bigint,
    readonly discountBps: bigint,
  ) {
    super();
  }

  protected async act(m: Model, r: Real): Promise<void> {
    const { financing } = r.f;
    const line = lineOf(m, BigInt(this.line));
    if (!line) throw new Error(`model: no line ${this.line}`);
    const caller = callerAddress(r, this.caller, line.financier);
    const terms = {
      limit: line.limit,
      maxAdvanceBps: this.maxAdvanceBps,
      discountBps: this.discountBps,
      expiry: line.expiry,
    };
    let expected: Refusal | null = null;
    if (line.financier !== caller) expected = refusal(financing, "CreditLineUnauthorized", line.id, caller);
    else if (line.expiry <= m.now) expected = refusal(financing, "CreditLineInvalidExpiry", line.expiry);
    const receipt = await execute(expected, () => financing.connect(signer(r, caller)).updateCreditLine(line.id, terms));
    if (!receipt) return;
    line.maxAdvanceBps = this.maxAdvanceBps;
    line.discountBps = this.discountBps;
  }

  toString(): string {
    return `updateCreditLine(${this.line} to ${this.maxAdvanceBps} / ${this.discountBps} bps, by ${callerLabel(this.caller)})`;
  }
}

class Pay extends LedgerCommand {
  constructor(
    readonly pick: number,
    readonly prefer: boolean,
    readonly caller: number,
    readonly kind: AmountKind,
    readonly fraction: bigint,
  ) {
    super();
  }

  protected async act(m: Model, r: Real): Promise<void> {
    const { receivables } = r.f;
    const payable = (s: St) => s === St.Accepted || s === St.Financed || s === St.Defaulted;
    const id = pickId(m, this.pick, this.prefer, (x) => payable(x.status));
    const rec = recOf(m, id);
    const caller = callerAddress(r, this.caller, rec.debtor);
    const amount = amountOf(this.kind, rec.outstanding, this.fraction);
    let expected: Refusal | null = null;
    if (rec.debtor !== caller) expected = refusal(receivables, "ReceivableUnauthorized", id, caller);
    else if (!payable(rec.status)) expected = refusal(receivables, "ReceivableInvalidStatus", id, rec.status);
    else if (amount === 0n) expected = refusal(receivables, "ReceivableInvalidAmount", amount);
    else if (amount > rec.outstanding) {
      expected = refusal(receivables, "ReceivableAmountExceedsOutstanding", id, amount, rec.outstanding);
    }
    if (!(await execute(expected, () => receivables.connect(signer(r, caller)).pay(id, amount)))) return;
    rec.outstanding -= amount;
    if (rec.outstanding === 0n) rec.status = St.Paid;
    credit(m, caller, -amount);
    const fin = m.fins.get(id);
    if (!rec.financed || !fin) {
      credit(m, rec.holder, amount);
      return;
    }
    // Principal first to the holder (the financier), the reserve to the financed supplier.
    const toFinancier = amount < fin.principal ? amount : fin.principal;
    fin.principal -= toFinancier;
    if (fin.status === FSt.Active) {
      const line = lineOf(m, fin.lineId);
      if (!line) throw new Error("unreachable");
      line.utilised -= toFinancier;
      if (fin.principal === 0n) fin.status = FSt.Repaid;
    }
    credit(m, fin.supplier, amount - toFinancier);
    credit(m, rec.holder, toFinancier);
  }

  toString(): string {
    return `pay(#${this.pick}, ${this.kind}, by ${callerLabel(this.caller)})`;
  }
}

class AdvanceAndMarkDefaulted extends LedgerCommand {
  constructor(readonly days: bigint, readonly pick: number, readonly prefer: boolean, readonly caller: number) {
    super();
  }

  check(m: Readonly<Model>): boolean {
    return m.elapsed + this.days * DAY <= MAX_ELAPSED;
  }

  protected async act(m: Model, r: Real): Promise<void> {
    const { receivables } = r.f;
    if (this.days > 0n) {
      await time.increase(this.days * DAY);
      m.now += this.days * DAY;
      m.elapsed += this.days * DAY;
    }
    if (m.ids.length === 0) return;
    const overdue = (x: Rec) => x.due + GRACE_PERIOD < m.now;
    const id = pickId(
      m,
      this.pick,
      this.prefer,
      (x) => x.status === St.Financed && overdue(x),
      (x) => x.status === St.Accepted && overdue(x),
    );
    const rec = recOf(m, id);
    // Only the holder (the financier, once financed) may mark a default; any actor tries.
    const caller = addr(r, ACTOR_NAMES[this.caller]);
    const overdueAt = rec.due + GRACE_PERIOD;
    let expected: Refusal | null = null;
    if (rec.status !== St.Accepted && rec.status !== St.Financed) {
      expected = refusal(receivables, "ReceivableInvalidStatus", id, rec.status);
    } else if (caller !== rec.holder) expected = refusal(receivables, "ReceivableUnauthorized", id, caller);
    else if (m.now <= overdueAt) expected = refusal(receivables, "ReceivableNotOverdue", id, overdueAt);
    if (!(await execute(expected, () => receivables.connect(signer(r, caller)).markDefaulted(id)))) return;
    rec.status = St.Defaulted;
  }

  toString(): string {
    return `advance ${this.days}d, markDefaulted(#${this.pick}, by ${ACTOR_NAMES[this.caller]})`;
  }
}

class WriteOff extends LedgerCommand {
  constructor(readonly pick: number, readonly prefer: boolean, readonly caller: number) {
    super();
  }

  protected async act(m: Model, r: Real): Promise<void> {
    const { financing } = r.f;
    const active = (x: Rec) => m.fins.get(x.id)?.status === FSt.Active;
    const id = pickId(m, this.pick, this.prefer, (x) => active(x) && x.status === St.Defaulted, active);
    const rec = recOf(m, id);
    const fin = m.fins.get(id);
    const caller = callerAddress(r, this.caller, financierOf(m, r, id));
    const finStatus = fin?.status ?? FSt.None;
    const line = fin ? lineOf(m, fin.lineId) : undefined;
    let expected: Refusal | null = null;
    if (!fin || !line || finStatus !== FSt.Active)
      expected = refusal(financing, "FinancingInvalidStatus", id, finStatus);
    else if (line.financier !== caller) expected = refusal(financing, "CreditLineUnauthorized", fin.lineId, caller);
    else if (rec.status !== St.Defaulted) {
      expected = refusal(financing, "FinancingInvalidReceivableStatus", id, rec.status);
    }
    if (!(await execute(expected, () => financing.connect(signer(r, caller)).writeOff(id)))) return;
    if (!fin || !line) throw new Error("unreachable");
    line.utilised -= fin.principal;
    fin.status = FSt.WrittenOff;
  }

  toString(): string {
    return `writeOff(#${this.pick}, by ${callerLabel(this.caller)})`;
  }
}

const sellerArb = fc.oneof(
  { arbitrary: fc.constant<ActorName>("supplier"), weight: 3 },
  { arbitrary: fc.constant<ActorName>("supplier2"), weight: 3 },
  { arbitrary: fc.constant<ActorName>("buyer2"), weight: 2 },
  { arbitrary: fc.constant<ActorName>("financier"), weight: 1 },
);
const debtorArb = fc.oneof(
  { arbitrary: fc.constant<ActorName>("buyer"), weight: 4 },
  { arbitrary: fc.constant<ActorName>("buyer2"), weight: 3 },
  { arbitrary: fc.constant<ActorName>("supplier"), weight: 1 },
);
const recipientArb = fc.oneof(
  { arbitrary: fc.constantFrom<ActorName>("supplier", "supplier2", "buyer2"), weight: 6 },
  { arbitrary: fc.constantFrom<ActorName>("financier", "financier2"), weight: 2 },
  { arbitrary: fc.constantFrom<ActorName>("buyer", "outsider"), weight: 1 },
);
const reuseArb = fc.oneof(
  { arbitrary: fc.constant(null), weight: 5 },
  { arbitrary: fc.nat({ max: 1_000 }), weight: 1 },
);
const lineArb = fc.oneof(
  { arbitrary: fc.constant(0), weight: 4 },
  { arbitrary: fc.integer({ min: 1, max: Number(MISSING_LINE) }), weight: 1 },
);

type Arb = fc.Arbitrary<fc.AsyncCommand<Model, Real>>;
const idActArb = fc.tuple(pickArb, preferArb, callerArb);
const tokeniseArb: Arb = fc
  .tuple(
    sellerArb,
    debtorArb,
    fc.bigInt({ min: 100_00n, max: 10_000_000_00n }),
    fc.bigInt({ min: 1n, max: 200n }),
    reuseArb,
  )
  .map(([seller, debtor, amount, days, reuse]) => new Tokenise(seller, debtor, amount, days, reuse));
const acceptArb: Arb = idActArb.map(([p, pr, c]) => new Accept(p, pr, c));
const cancelArb: Arb = idActArb.map(([p, pr, c]) => new Cancel(p, pr, c));
const creditNoteArb: Arb = fc
  .tuple(pickArb, preferArb, callerArb, amountKindArb, fractionArb)
  .map(([p, pr, c, k, fr]) => new CreditNote(p, pr, c, k, fr));
const splitArb: Arb = fc
  .tuple(
    pickArb,
    preferArb,
    callerArb,
    fc.integer({ min: 2, max: 4 }),
    fc.array(fc.integer({ min: 1, max: 100 }), { minLength: 4, maxLength: 4 }),
    fc.oneof({ arbitrary: fc.constant(false), weight: 6 }, { arbitrary: fc.constant(true), weight: 1 }),
  )
  .map(([p, pr, c, n, w, mm]) => new Split(p, pr, c, n, w, mm));
const transferArb: Arb = fc
  .tuple(pickArb, preferArb, callerArb, recipientArb)
  .map(([p, pr, c, to]) => new Transfer(p, pr, c, to));
const requestArb: Arb = fc
  .tuple(pickArb, preferArb, callerArb, lineArb, fc.boolean(), fc.integer({ min: 0, max: 40 }))
  .map(([p, pr, c, l, tight, lapse]) => new RequestFinancing(p, pr, c, l, tight, lapse));
const greedArb = fc.oneof(
  { arbitrary: fc.constant(0), weight: 2 },
  { arbitrary: fc.constantFrom(1, 2), weight: 1 },
);
const approveArb: Arb = fc
  .tuple(pickArb, preferArb, callerArb, greedArb)
  .map(([p, pr, c, g]) => new ApproveFinancing(p, pr, c, g));
const withdrawArb: Arb = idActArb.map(([p, pr, c]) => new WithdrawRequest(p, pr, c));
const updateLineArb: Arb = fc
  .tuple(
    fc.integer({ min: 1, max: 4 }),
    callerArb,
    fc.bigInt({ min: 1_000n, max: 10_000n }),
    fc.bigInt({ min: 0n, max: 10_000n }),
  )
  .map(([l, c, a, d]) => new UpdateLine(l, c, a, d));
const rejectArb: Arb = idActArb.map(([p, pr, c]) => new RejectFinancing(p, pr, c));
const payArb: Arb = fc
  .tuple(pickArb, preferArb, callerArb, amountKindArb, fractionArb)
  .map(([p, pr, c, k, fr]) => new Pay(p, pr, c, k, fr));
const advanceArb: Arb = fc
  .tuple(fc.bigInt({ min: 0n, max: 120n }), pickArb, preferArb, fc.nat({ max: 11 }))
  .map(([d, p, pr, c]) => new AdvanceAndMarkDefaulted(d, p, pr, c));
const writeOffArb: Arb = idActArb.map(([p, pr, c]) => new WriteOff(p, pr, c));

/** Weighted so that runs reach deep states (financed, defaulted, written off) within a few acts. */
const commandArbs: Arb[] = [
  fc.oneof(
    { arbitrary: tokeniseArb, weight: 4 },
    { arbitrary: acceptArb, weight: 3 },
    { arbitrary: cancelArb, weight: 1 },
    { arbitrary: creditNoteArb, weight: 1 },
    { arbitrary: splitArb, weight: 2 },
    { arbitrary: transferArb, weight: 2 },
    { arbitrary: requestArb, weight: 4 },
    { arbitrary: approveArb, weight: 4 },
    { arbitrary: rejectArb, weight: 1 },
    { arbitrary: withdrawArb, weight: 1 },
    { arbitrary: updateLineArb, weight: 2 },
    { arbitrary: payArb, weight: 3 },
    { arbitrary: advanceArb, weight: 2 },
    { arbitrary: writeOffArb, weight: 2 },
  ),
];

/** The model of the fixture's state, read from the chain once; every run gets a deep copy. */
async function readModel(fx: InvariantFixture): Promise<Model> {
  const { f } = fx;
  const model: Model = {
    now: 0n,
    elapsed: 0n,
    recs: new Map(),
    ids: [],
    fingerprints: [],
    documents: new Map(),
    fins: new Map(),
    lines: [],
    balances: new Map(),
    approvals: new Map(),
  };
  for (const { id, seller, fingerprint, documentHash } of fx.seeded) {
    model.fingerprints.push(fingerprint);
    model.documents.set(documentHash, id);
    const v = await f.receivables.receivable(id);
    model.recs.set(id, {
      id,
      seller,
      holder: v.holder,
      debtor: v.debtor,
      face: v.faceValue,
      outstanding: v.outstanding,
      due: v.dueDate,
      status: Number(v.status),
      financed: v.financed,
      parent: v.parentId,
      splitAt: 0n,
      children: [],
    });
    model.ids.push(id);
    const fin = await f.financing.financing(id);
    if (Number(fin.status) !== FSt.None) {
      model.fins.set(id, {
        status: Number(fin.status),
        lineId: fin.lineId,
        supplier: fin.supplier,
        principal: fin.principal,
        minPaid: fin.minPaid,
        maxDiscount: fin.maxDiscount,
        expiresAt: fin.expiresAt,
      });
    }
    if (Number(fin.status) === FSt.Active) model.approvals.set(id, 1);
  }
  for (let id = 1n; id <= BigInt(LINE_SPECS.length); id++) {
    const l = await f.financing.creditLine(id);
    model.lines.push({
      id,
      financier: l.financier,
      debtor: l.debtor,
      supplier: l.supplier,
      limit: l.limit,
      utilised: l.utilised,
      maxAdvanceBps: l.maxAdvanceBps,
      discountBps: l.discountBps,
      expiry: l.expiry,
      open: l.open,
    });
  }
  for (const n of ACTOR_NAMES) {
    const balance = await f.token.balanceOf(f.actors[n].address);
    if (balance !== 0n) model.balances.set(f.actors[n].address, balance);
  }
  return model;
}

const templates = new WeakMap<InvariantFixture, { model: Model; real: Real }>();

async function setup(): Promise<{ model: Model; real: Real }> {
  const fx = await loadFixture(invariantFixture);
  let template = templates.get(fx);
  if (!template) {
    const { f } = fx;
    const real: Real = {
      ...fx,
      name: new Map(ACTOR_NAMES.map((n) => [f.actors[n].address, n])),
      selectors: {
        receivable: f.receivables.interface.getFunction("receivable").selector,
        financing: f.financing.interface.getFunction("financing").selector,
        creditLine: f.financing.interface.getFunction("creditLine").selector,
        balanceOf: f.token.interface.getFunction("balanceOf").selector,
        totalSupply: f.token.interface.getFunction("totalSupply").selector,
      },
      approvedTopic: f.financing.interface.getEvent("FinancingApproved").topicHash,
      tokenisedTopic: f.receivables.interface.getEvent("ReceivableTokenised").topicHash,
    };
    template = { model: await readModel(fx), real };
    templates.set(fx, template);
    // The starting state must itself satisfy every invariant.
    await checkInvariants(template.model, real);
  }
  const model = structuredClone(template.model);
  model.now = BigInt(await time.latest());
  return { model, real: template.real };
}

describe("Ledger invariants (model-based)", function () {
  it(`hold over ${NUM_RUNS} random sequences of up to ${MAX_COMMANDS} acts`, async function () {
    this.timeout(30 * 60_000);
    await fc.assert(
      fc.asyncProperty(fc.commands(commandArbs, { maxCommands: MAX_COMMANDS, size: "max" }), async (cmds) => {
        await fc.asyncModelRun(setup, cmds);
      }),
      { numRuns: NUM_RUNS },
    );
  });
});

describe("Ledger invariants: a debtor who pays on time", function () {
  this.timeout(0);

  // Random suspensions of the recipients, token pauses and time passing before a payment the debtor
  // makes as soon as the token lets it, never after the due date unless a pause stopped it.
  const step = fc.oneof(
    fc.record({ kind: fc.constant("suspendSupplier" as const) }),
    fc.record({ kind: fc.constant("suspendFinancier" as const) }),
    fc.record({ kind: fc.constant("pause" as const), days: fc.integer({ min: 1, max: 60 }) }),
    fc.record({ kind: fc.constant("wait" as const), days: fc.integer({ min: 1, max: 40 }) }),
  );

  it("is never defaulted, and token supply = balances + held payments", async function () {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { maxLength: 6 }), fc.boolean(), async (steps, financed) => {
        const f = await loadFixture(ledgerFixture);
        const id = await acceptedReceivable(f);
        if (financed) {
          await f.financing.connect(f.financier).openCreditLine(f.buyer.address, f.supplier.address, await lineTerms());
          await f.financing.connect(f.supplier).requestFinancing(id, await requestTerms(1n));
          await f.financing.connect(f.financier).approveFinancing(id, await approvalFor(f, id));
        }
        const { dueDate, outstanding } = await f.receivables.receivable(id);
        for (const s of steps) {
          const now = BigInt(await time.latest());
          if (s.kind === "suspendSupplier" && (await f.registry.isActiveMember(f.supplier.address))) {
            await f.registry.connect(f.officer).suspend(f.supplier.address, ethers.ZeroHash);
          } else if (s.kind === "suspendFinancier" && (await f.registry.isActiveMember(f.financier.address))) {
            await f.registry.connect(f.officer).suspend(f.financier.address, ethers.ZeroHash);
          } else if (s.kind === "pause") {
            await f.token.connect(f.admin).pause();
            await time.increase(BigInt(s.days) * DAY);
            await f.token.connect(f.admin).unpause();
          } else if (s.kind === "wait" && now + BigInt(s.days) * DAY < dueDate) {
            await time.increase(BigInt(s.days) * DAY);
          }
        }
        // The holder tries to default the debtor first: the due date has not passed, or a pause
        // stopped the clock (or the holder itself is suspended), so it cannot.
        const holderNow = await ethers.getSigner((await f.receivables.receivable(id)).holder);
        await expect(f.receivables.connect(holderNow).markDefaulted(id)).to.be.reverted;
        // On time: before the due date, or right after a pause that outlasted it.
        await f.receivables.connect(f.buyer).pay(id, outstanding);
        await time.increaseTo(dueDate + 2n * GRACE_PERIOD + 400n * DAY);
        const holder = (await f.receivables.receivable(id)).holder;
        await expect(f.receivables.connect(await ethers.getSigner(holder)).markDefaulted(id))
          .to.be.revertedWithCustomError(f.receivables, "ReceivableInvalidStatus")
          .withArgs(id, 4);

        const ledger = await f.receivables.getAddress();
        let balances = 0n;
        let held = 0n;
        for (const who of Object.values(f.actors)) {
          balances += await f.token.balanceOf(who.address);
          held += await f.receivables.heldFor(who.address);
        }
        expect(await f.token.balanceOf(ledger)).to.equal(held);
        expect(await f.token.totalSupply()).to.equal(balances + held);
      }),
      { numRuns: Math.min(NUM_RUNS, 40) },
    );
  });
});
