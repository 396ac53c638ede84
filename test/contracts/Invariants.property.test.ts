/**
 * Model-based property test of the ledger against hostile participants. fast-check generates random
 * sequences of acts by random members (suppliers, buyers, financiers, and a non-member stranger):
 * tokenise (with the attester's attestation, or an invented fingerprint, another seller's or an
 * expired or self-signed attestation, a re-used fingerprint or document, a split child id as a
 * fingerprint), an attested invoice squatted from the mempool by another member, accept (with the
 * recorded or wrong terms), cancel, credit note, split, transfer (also to non-members), request /
 * withdraw / re-request on another line / approve (below the terms, by relayed signature, an old
 * signature replayed) / reject financing, line repricing, shrinking, lapsing and closing under
 * pending requests, suspensions, reinstatements and KYC lapses of any party mid-life, token pause
 * and unpause, pay (also while the recipient cannot receive: held) and claim, time passing with
 * markDefaulted by anyone, and write-off. A plain TypeScript model of the ledger predicts each
 * outcome: the act must succeed when the model says so and revert with the exact custom error
 * otherwise. After every act the chain is compared with the model and these invariants are checked
 * on chain state and events:
 *   (1) a fingerprint, an invoice (seller + fingerprint) and a document hash are each tokenised at
 *       most once, and every document hash maps to exactly its one receivable;
 *   (2) a receivable is financed at most once (one FinancingApproved per id);
 *   (3) outstanding <= face value for every receivable;
 *   (4) lineage conserves: the children of a split sum to the parent's outstanding at the split, and
 *       outstanding + paid + credited == face value for every record;
 *   (5) the token's total supply equals the balances of every account (actors and contracts) plus
 *       held payments, and the ledger's token balance equals what it holds for recipients;
 *   (6) a line's utilisation equals the principal of its Active financings and stays within limit;
 *   (7) each actor's ERC-721 balance equals the live receivables it holds;
 *   (8) a supplier never receives less than its request's terms: every approval pays at least the
 *       latest request's minPaid and discounts at most its maxDiscount;
 *   (9) a default happens only by the holder, after due date + grace and a full grace period after
 *       the token's last unpause, never on a receivable already paid in full (so a debtor who pays
 *       on time, while paused or with suspended recipients, is never defaulted).
 * Every run starts from a `loadFixture` snapshot holding four credit lines and seven seeded
 * receivables (issued, accepted, requested, financed), so short runs already reach financing,
 * default and write-off; the model of that snapshot is read from the chain once. Time moves in
 * whole days and due dates, line expiries, attestation and KYC expiries sit half a day off the day
 * grid, so wall-clock drift between blocks never decides an outcome. Fresh fingerprints come from
 * a counter: outcomes never depend on their value, so replaying a reported seed takes the same path.
 */
import fc from "fast-check";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import { expect } from "chai";
import { ethers, network } from "hardhat";
import type { BaseContract, ContractTransactionReceipt, ContractTransactionResponse } from "ethers";
import { anyValue } from "@nomicfoundation/hardhat-chai-matchers/withArgs";
import {
  FINANCING_DOMAIN,
  FINANCING_TYPES,
  RECEIVABLES_DOMAIN,
  RECEIVABLES_TYPES,
} from "../../shared/eip712";
import { childIdOf } from "../../shared/fingerprint";
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
  attest,
  tokenise,
} from "./helpers/fixture";
import { quoteFinancing } from "../../shared/financing-terms";
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
      // Held to the line's quote today, as a careful supplier asks (the limit-breaking one takes any terms).
      const [advance, paid] = await f.financing.quote(s.line, s.face, now + s.dueDays * DAY + HALF_DAY);
      const tight = s.face < 10_000_000_00n ? { minPaid: paid, maxDiscount: advance - paid } : {};
      await f.financing.connect(seller).requestFinancing(id, await requestTerms(s.line, tight));
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
  /** Document hash (the root's, for split children). */
  doc: string;
  /** Paid by the debtor and taken off by credit notes: outstanding + paid + credited == face. */
  paid: bigint;
  credited: bigint;
}

/** An invoice attested for its seller but not yet tokenised: what a squatter can see in the mempool. */
interface PendingInvoice {
  seller: string;
  invoice: { debtor: string; faceValue: bigint; dueDate: bigint; documentHash: string; fingerprint: string };
  attestation: { expiry: bigint; signature: string };
}

/** A financier's signed approval, submitted or not: replaying it must never approve anything new. */
interface SignedApproval {
  id: bigint;
  financier: string;
  approval: { lineId: bigint; advance: bigint; paid: bigint; registrationHash: string };
  nonce: bigint;
  deadline: bigint;
  signature: string;
  used: boolean;
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
  /** Suspended members, and each member's KYC expiry (a member is active while not suspended and KYC holds). */
  suspended: Set<string>;
  kyc: Map<string, bigint>;
  /** Token pause: paused now; model time and chain time of the last unpause (0 when never). */
  paused: boolean;
  unpausedModel: bigint;
  unpausedChain: bigint;
  /** Payments held by the ledger for recipients that could not receive them. */
  held: Map<string, bigint>;
  pending: PendingInvoice[];
  signedApprovals: SignedApproval[];
}

interface Real extends InvariantFixture {
  name: Map<string, ActorName>;
  selectors: {
    receivable: string;
    financing: string;
    creditLine: string;
    balanceOf: string;
    totalSupply: string;
    heldFor: string;
    receivableOfDocument: string;
  };
  topics: {
    tokenised: string;
    approved: string;
    requested: string;
    paid: string;
    creditNote: string;
    defaulted: string;
    unpaused: string;
  };
  chainId: bigint;
  /** Timestamps by block hash and senders by transaction hash (the invariants look these up). */
  blockTimes: Map<string, bigint>;
  txSenders: Map<string, string>;
}

const addr = (r: Real, n: ActorName): string => r.f.actors[n].address;
/** A registered member neither suspended nor past its KYC expiry (the registry's isActiveMember). */
const isActive = (m: Readonly<Model>, r: Real, account: string): boolean =>
  MEMBERS.some((n) => addr(r, n) === account) && !m.suspended.has(account) && (m.kyc.get(account) ?? 0n) > m.now;
/** An active member holding `role` (the registry's isVerified). */
const isVerified = (m: Readonly<Model>, r: Real, account: string, role: number): boolean =>
  VERIFIED[role].some((n) => addr(r, n) === account) && isActive(m, r, account);
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

interface Log {
  address: string;
  topics: string[];
  data: string;
  blockHash: string;
  transactionHash: string;
}

/** Every event the invariants read, since the fixture began, in chain order (one eth_getLogs). */
async function ledgerLogs(r: Real): Promise<Log[]> {
  const { addresses, topics } = r;
  return (await network.provider.request({
    method: "eth_getLogs",
    params: [
      {
        address: [addresses.receivables, addresses.financing, addresses.token],
        fromBlock: ethers.toQuantity(r.fromBlock),
        topics: [Object.values(topics)],
      },
    ],
  })) as Log[];
}

async function blockTime(r: Real, blockHash: string): Promise<bigint> {
  let t = r.blockTimes.get(blockHash);
  if (t === undefined) {
    const block = (await network.provider.request({ method: "eth_getBlockByHash", params: [blockHash, false] })) as {
      timestamp: string;
    };
    t = BigInt(block.timestamp);
    r.blockTimes.set(blockHash, t);
  }
  return t;
}

async function txSender(r: Real, txHash: string): Promise<string> {
  let from = r.txSenders.get(txHash);
  if (from === undefined) {
    const tx = (await network.provider.request({ method: "eth_getTransactionByHash", params: [txHash] })) as { from: string };
    from = ethers.getAddress(tx.from);
    r.txSenders.set(txHash, from);
  }
  return from;
}

const topicId = (log: Log, i = 1): bigint => BigInt(log.topics[i]);
const topicAddress = (log: Log, i: number): string => ethers.getAddress(ethers.dataSlice(log.topics[i], 12));
const dataWord = (log: Log, i: number): bigint => BigInt(ethers.dataSlice(log.data, 32 * i, 32 * (i + 1)));

/** `documents`: also read every document's receivable (only tokenising can change that mapping). */
async function checkInvariants(m: Model, r: Real, documents = true): Promise<void> {
  const { addresses, selectors, topics } = r;
  const logs = await ledgerLogs(r);
  const of = (topic: string) => logs.filter((l) => l.topics[0] === topic);

  // (4) lineage conserves: what the debtor paid and credit notes took off, by the chain's events.
  const paid = new Map<bigint, bigint>();
  const credited = new Map<bigint, bigint>();
  for (const log of of(topics.paid)) {
    paid.set(topicId(log), (paid.get(topicId(log)) ?? 0n) + dataWord(log, 0));
  }
  for (const log of of(topics.creditNote)) {
    credited.set(topicId(log), (credited.get(topicId(log)) ?? 0n) + dataWord(log, 0));
  }

  // (3), (4) and the model: every receivable as the model has it.
  const chainRecs = new Map<bigint, { faceValue: bigint; outstanding: bigint; dueDate: bigint; holder: string }>();
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
      chain.outstanding + (paid.get(id) ?? 0n) + (credited.get(id) ?? 0n),
      chain.faceValue,
      `(4) outstanding + paid + credited == face value of ${id}`,
    );
    same(paid.get(id) ?? 0n, rec.paid, `paid on ${id}`);
    same(credited.get(id) ?? 0n, rec.credited, `credited on ${id}`);
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
    chainRecs.set(id, chain);
  }
  for (const rec of m.recs.values()) {
    if (rec.status !== St.Split) continue;
    const sum = rec.children.reduce((acc, c) => acc + (chainRecs.get(c)?.faceValue ?? 0n), 0n);
    same(sum, rec.splitAt, `(4) children of ${rec.id} sum to its outstanding at the split`);
  }

  // (1) one ReceivableTokenised per id, fingerprint and document, for exactly the invoices the
  // model tokenised; a document hash maps to exactly its one receivable.
  const tokenised = of(topics.tokenised);
  // Data: faceValue, dueDate, documentHash, fingerprint.
  const ids = tokenised.map((l) => topicId(l));
  const docs = tokenised.map((l) => ethers.dataSlice(l.data, 64, 96));
  const fingerprints = tokenised.map((l) => ethers.dataSlice(l.data, 96, 128));
  same(new Set(ids).size, ids.length, "(1) no receivable id tokenised twice");
  same(new Set(fingerprints).size, fingerprints.length, "(1) no invoice (seller, fingerprint) tokenised twice");
  same(new Set(docs).size, docs.length, "(1) no document hash tokenised twice");
  same(ids.length, [...m.recs.values()].filter((x) => x.parent === 0n).length, "(1) tokenised ids on chain and in the model");
  for (const [i, doc] of (documents ? docs : []).entries()) {
    const out = await rawCall(addresses.receivables, selectors.receivableOfDocument + doc.slice(2));
    same(BigInt(out), ids[i], `(1) document ${doc} maps to its one receivable`);
  }

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
    // CreditLineView: id, financier, debtor, supplier, limit, utilised, maxAdvanceBps, discountBps, expiry, open.
    const limit = uintAt(out, 4);
    const utilised = uintAt(out, 5);
    same(utilised, activePrincipal.get(line.id) ?? 0n, `(6) utilisation of line ${line.id}`);
    atMost(utilised, limit, `(6) utilisation of line ${line.id} within its limit`);
    same(
      { limit, utilised, expiry: uintAt(out, 8), open: uintAt(out, 9) === 1n },
      { limit: line.limit, utilised: line.utilised, expiry: line.expiry, open: line.open },
      `model of line ${line.id}`,
    );
  }
  // (2) one FinancingApproved per id; (8) each approval paid the supplier at least what its latest
  // request asked (minPaid) and discounted at most its maxDiscount.
  const approvedOnChain = new Map<bigint, number>();
  const lastRequest = new Map<bigint, Log>();
  for (const log of logs) {
    if (log.topics[0] === topics.requested) lastRequest.set(topicId(log), log);
    if (log.topics[0] !== topics.approved) continue;
    const id = topicId(log);
    approvedOnChain.set(id, (approvedOnChain.get(id) ?? 0) + 1);
    // FinancingApproved data: supplier, advance, paid, registrationHash; FinancingRequested data:
    // minPaid, maxDiscount, expiresAt (supplier indexed).
    const request = lastRequest.get(id);
    if (!request) throw new Error(`(8) approval of ${id} without a request`);
    const [advance, paidNow] = [dataWord(log, 1), dataWord(log, 2)];
    same(ethers.getAddress(ethers.dataSlice(log.data, 12, 32)), topicAddress(request, 3), `(8) approval of ${id} pays its requester`);
    atMost(dataWord(request, 0), paidNow, `(8) paid to the supplier of ${id} >= its request's minPaid`);
    atMost(advance - paidNow, dataWord(request, 1), `(8) discount on ${id} <= its request's maxDiscount`);
  }
  for (const [id, count] of approvedOnChain) {
    atMost(BigInt(count), 1n, `(2) FinancingApproved events for ${id}`);
  }
  same(Object.fromEntries(approvedOnChain), Object.fromEntries(m.approvals), "FinancingApproved events per id");

  // (9) a default only after due + grace and a full grace period after the last unpause, marked by
  // the holder itself, on a receivable not paid in full before (so a debtor who paid on time never is).
  let lastUnpause = 0n;
  const paidInFull = new Set<bigint>();
  for (const log of logs) {
    if (log.topics[0] === topics.unpaused) lastUnpause = await blockTime(r, log.blockHash);
    if (log.topics[0] === topics.paid && dataWord(log, 1) === 0n) paidInFull.add(topicId(log));
    if (log.topics[0] !== topics.defaulted) continue;
    const id = topicId(log);
    const at = await blockTime(r, log.blockHash);
    const due = chainRecs.get(id)?.dueDate ?? recOf(m, id).due;
    if (!(at > due + GRACE_PERIOD)) expect(at, `(9) default of ${id} after due + grace`).to.be.gt(due + GRACE_PERIOD);
    if (!(at > lastUnpause + GRACE_PERIOD)) {
      expect(at, `(9) default of ${id} a grace period after the unpause`).to.be.gt(lastUnpause + GRACE_PERIOD);
    }
    same(await txSender(r, log.transactionHash), topicAddress(log, 2), `(9) default of ${id} marked by its holder`);
    same(paidInFull.has(id), false, `(9) receivable ${id} paid in full before is never defaulted`);
  }

  // (5) and (7): token and ERC-721 balances of every member, and held payments. Only members can
  // receive tokens or receivables: a leak to anyone else breaks the supply equation or the model.
  const nftsHeld = new Map<string, bigint>();
  for (const rec of m.recs.values()) {
    if (rec.holder !== ethers.ZeroAddress) nftsHeld.set(rec.holder, (nftsHeld.get(rec.holder) ?? 0n) + 1n);
  }
  const read = [];
  for (const n of MEMBERS) {
    const account = addr(r, n);
    read.push({
      n,
      account,
      balance: BigInt(await rawCall(addresses.token, selectors.balanceOf + arg(account))),
      held: BigInt(await rawCall(addresses.receivables, selectors.heldFor + arg(account))),
      nfts: BigInt(await rawCall(addresses.receivables, selectors.balanceOf + arg(account))),
    });
  }
  const sum = read.reduce((acc, x) => acc + x.balance, 0n);
  const heldSum = read.reduce((acc, x) => acc + x.held, 0n);
  const ledgerBalance = BigInt(await rawCall(addresses.token, selectors.balanceOf + arg(addresses.receivables)));
  const financingBalance = BigInt(await rawCall(addresses.token, selectors.balanceOf + arg(addresses.financing)));
  same(ledgerBalance, heldSum, "(5) the ledger's token balance equals the payments it holds");
  const supply = BigInt(await rawCall(addresses.token, selectors.totalSupply));
  same(supply, sum + ledgerBalance + financingBalance, "(5) total supply equals all balances (held payments included)");
  for (const { n, account, balance, held, nfts } of read) {
    same(balance, m.balances.get(account) ?? 0n, `token balance of ${n}`);
    same(held, m.held.get(account) ?? 0n, `payments held for ${n}`);
    same(nfts, nftsHeld.get(account) ?? 0n, `(7) receivables held by ${n}`);
  }
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

  /** Whether the act may tokenise (the invariants then re-read every document's receivable). */
  readonly tokenises: boolean = false;

  async run(m: Model, r: Real): Promise<void> {
    await this.act(m, r);
    await checkInvariants(m, r, this.tokenises);
  }

  /** The act alone (composite acts run others' before checking the invariants once). */
  abstract act(m: Model, r: Real): Promise<void>;
  abstract toString(): string;
}

let fingerprintCounter = 0;

/** How a seller's attestation came about (see attestationOf). */
type AttestKind = "honest" | "invented" | "otherSeller" | "expired" | "self" | "childSquat";

class Tokenise extends LedgerCommand {
  readonly tokenises = true;

  constructor(
    readonly seller: ActorName,
    readonly debtor: ActorName,
    readonly amount: bigint,
    readonly dueDays: bigint,
    readonly reuse: number | null,
    readonly attestation: AttestKind,
  ) {
    super();
  }

  check(): boolean {
    return true;
  }

  async act(m: Model, r: Real): Promise<void> {
    const seller = addr(r, this.seller);
    const debtor = addr(r, this.debtor);
    fingerprintCounter += 1;
    // An even reuse presents a used fingerprint again (the same invoice), an odd one a used
    // document under a fresh fingerprint (the same PDF as another invoice).
    const reuseFingerprint = this.reuse !== null && this.reuse % 2 === 0 && m.fingerprints.length > 0;
    const reuseDocument = this.reuse !== null && this.reuse % 2 === 1 && m.documents.size > 0;
    let fingerprint = reuseFingerprint
      ? m.fingerprints[this.reuse! % m.fingerprints.length]
      : ethers.id(`invariant fingerprint ${fingerprintCounter}`);
    // A child id squatted as a fingerprint: it must land in the root namespace, leaving the split free.
    if (this.attestation === "childSquat" && m.ids.length > 0) {
      fingerprint = ethers.toBeHex(childIdOf(m.ids[fingerprintCounter % m.ids.length], 0), 32);
    }
    const documentHash = reuseDocument
      ? [...m.documents.keys()][this.reuse! % m.documents.size]
      : ethers.id(`invariant document ${fingerprintCounter}`);
    const due = m.now + this.dueDays * DAY + HALF_DAY;
    const invoice = { debtor, faceValue: this.amount, dueDate: due, documentHash, fingerprint };
    const attestation = await attestationOf(m, r, this.attestation, seller, invoice);
    await tokeniseAndApply(m, r, seller, invoice, attestation);
  }

  toString(): string {
    const reuse = this.reuse === null ? "" : `, reusing ${this.reuse % 2 === 0 ? "fingerprint" : "document"} #${this.reuse}`;
    return `tokenise(${this.seller} -> ${this.debtor}, ${this.amount}, due +${this.dueDays}d${reuse}, ${this.attestation} attestation)`;
  }
}

/**
 * The attestation a seller presents: the attester's over exactly this invoice and seller ("honest",
 * "childSquat"), over another fingerprint (the seller invented the one it sends), made out to
 * another seller, expired, or signed by the seller itself.
 */
async function attestationOf(
  m: Model,
  r: Real,
  kind: AttestKind,
  seller: string,
  invoice: PendingInvoice["invoice"],
): Promise<PendingInvoice["attestation"]> {
  const valid = m.now + HALF_DAY;
  switch (kind) {
    case "honest":
    case "childSquat":
      return attestAs(r.f, seller, invoice, { expiry: valid });
    case "invented":
      return attestAs(r.f, seller, { ...invoice, fingerprint: ethers.id(`attested ${invoice.fingerprint}`) }, { expiry: valid });
    case "otherSeller": {
      const other = seller === addr(r, "supplier") ? addr(r, "supplier2") : addr(r, "supplier");
      return attestAs(r.f, other, invoice, { expiry: valid });
    }
    case "expired":
      return attestAs(r.f, seller, invoice, { expiry: m.now - HALF_DAY });
    case "self":
      return attestAs(r.f, seller, invoice, { expiry: valid, by: signer(r, seller) });
  }
}

/** The fixture's attestation with plain types. */
async function attestAs(...args: Parameters<typeof attest>): Promise<PendingInvoice["attestation"]> {
  const a = await attest(...args);
  return { expiry: BigInt(a.expiry), signature: String(a.signature) };
}

/** The address an attestation recovers to for `seller` presenting `invoice` (as the contract recovers it). */
function attestationSigner(r: Real, seller: string, invoice: PendingInvoice["invoice"], att: PendingInvoice["attestation"]): string {
  const domain = { ...RECEIVABLES_DOMAIN, chainId: r.chainId, verifyingContract: r.addresses.receivables };
  return ethers.verifyTypedData(domain, RECEIVABLES_TYPES.InvoiceAttestation, { seller, invoice, expiry: att.expiry }, att.signature);
}

/** `sender` calls `tokenise` directly with `invoice` and `attestation`; the model predicts the outcome. */
async function tokeniseAndApply(
  m: Model,
  r: Real,
  sender: string,
  invoice: PendingInvoice["invoice"],
  attestation: PendingInvoice["attestation"],
): Promise<boolean> {
  const { receivables } = r.f;
  const { debtor, documentHash, fingerprint } = invoice;
  const id = rootId(fingerprint);
  const used = m.recs.has(id);
  const priorDocument = m.documents.get(documentHash);
  const attester = addr(r, "officer");
  let expected: Refusal | null = null;
  if (!isVerified(m, r, sender, SUPPLIER)) {
    expected = refusal(receivables, "ReceivableUnverifiedParty", sender, SUPPLIER);
  } else if (attestation.expiry < m.now) {
    expected = refusal(receivables, "ReceivableAttestationExpired", attestation.expiry, anyValue);
  } else if (attestationSigner(r, sender, invoice, attestation) !== attester) {
    expected = refusal(receivables, "ReceivableAttesterUnauthorized", attestationSigner(r, sender, invoice, attestation));
  } else if (!isVerified(m, r, debtor, BUYER)) {
    expected = refusal(receivables, "ReceivableUnverifiedParty", debtor, BUYER);
  } else if (sender === debtor) {
    expected = refusal(receivables, "ReceivableSelfDealing", sender);
  } else if (used) {
    expected = refusal(receivables, "ReceivableDuplicate", id);
  } else if (priorDocument !== undefined) {
    expected = refusal(receivables, "ReceivableDocumentUsed", documentHash, priorDocument);
  }
  // (1): a used fingerprint or document is never tokenised again, and nothing without the attester's word.
  if (used) expect(expected, "(1) a used fingerprint must be refused").to.not.equal(null);
  if (priorDocument !== undefined) expect(expected, "(1) a used document must be refused").to.not.equal(null);

  const receipt = await execute(expected, () => receivables.connect(signer(r, sender)).tokenise(invoice, attestation));
  if (!receipt) return false;
  m.fingerprints.push(fingerprint);
  m.documents.set(documentHash, id);
  m.recs.set(id, {
    id,
    seller: sender,
    holder: sender,
    debtor,
    face: invoice.faceValue,
    outstanding: invoice.faceValue,
    due: invoice.dueDate,
    status: St.Issued,
    financed: false,
    parent: 0n,
    splitAt: 0n,
    children: [],
    doc: documentHash,
    paid: 0n,
    credited: 0n,
  });
  m.ids.push(id);
  return true;
}

/** The attester signs an invoice for its seller, who has not sent it yet (it sits in the mempool). */
class AttestInvoice extends LedgerCommand {
  constructor(readonly seller: ActorName, readonly debtor: ActorName, readonly amount: bigint, readonly dueDays: bigint) {
    super();
  }

  check(m: Readonly<Model>): boolean {
    return m.pending.length < 4;
  }

  async act(m: Model, r: Real): Promise<void> {
    fingerprintCounter += 1;
    const seller = addr(r, this.seller);
    const invoice = {
      debtor: addr(r, this.debtor),
      faceValue: this.amount,
      dueDate: m.now + this.dueDays * DAY + HALF_DAY,
      documentHash: ethers.id(`invariant document ${fingerprintCounter}`),
      fingerprint: ethers.id(`invariant fingerprint ${fingerprintCounter}`),
    };
    m.pending.push({ seller, invoice, attestation: await attestAs(r.f, seller, invoice, { expiry: m.now + HALF_DAY }) });
  }

  toString(): string {
    return `attest(${this.seller} -> ${this.debtor}, ${this.amount}, due +${this.dueDays}d)`;
  }
}

/** An attested invoice is sent: by its seller, or squatted by another member who saw it pending. */
class SubmitAttested extends LedgerCommand {
  readonly tokenises = true;

  constructor(readonly pick: number, readonly caller: number) {
    super();
  }

  check(m: Readonly<Model>): boolean {
    return m.pending.length > 0;
  }

  async act(m: Model, r: Real): Promise<void> {
    const i = this.pick % m.pending.length;
    const p = m.pending[i];
    const sender = callerAddress(r, this.caller, p.seller);
    const done = await tokeniseAndApply(m, r, sender, p.invoice, p.attestation);
    if (sender !== p.seller) expect(done, "a squatter tokenises another seller's attested invoice").to.equal(false);
    if (done || sender === p.seller) m.pending.splice(i, 1);
  }

  toString(): string {
    return `submitAttested(#${this.pick}, by ${callerLabel(this.caller)})`;
  }
}

class Accept extends LedgerCommand {
  constructor(
    readonly pick: number,
    readonly prefer: boolean,
    readonly caller: number,
    /** 0: the recorded terms; 1..4: the seller, face value, due date or document differ. */
    readonly wrong: number,
  ) {
    super();
  }

  async act(m: Model, r: Real): Promise<void> {
    const { receivables } = r.f;
    const id = pickId(m, this.pick, this.prefer, (x) => x.status === St.Issued);
    const rec = recOf(m, id);
    const caller = callerAddress(r, this.caller, rec.debtor);
    const terms = { seller: rec.seller, faceValue: rec.face, dueDate: rec.due, documentHash: rec.doc };
    if (this.wrong === 1) terms.seller = rec.seller === addr(r, "supplier") ? addr(r, "supplier2") : addr(r, "supplier");
    if (this.wrong === 2) terms.faceValue += 1n;
    if (this.wrong === 3) terms.dueDate -= DAY;
    if (this.wrong === 4) terms.documentHash = ethers.id(`another document ${id}`);
    let expected: Refusal | null = null;
    if (rec.debtor !== caller) expected = refusal(receivables, "ReceivableUnauthorized", id, caller);
    else if (rec.status !== St.Issued) expected = refusal(receivables, "ReceivableInvalidStatus", id, rec.status);
    else if (this.wrong !== 0) expected = refusal(receivables, "ReceivableTermsMismatch", id, this.wrong - 1);
    else if (!isVerified(m, r, caller, BUYER)) expected = refusal(receivables, "ReceivableUnverifiedParty", caller, BUYER);
    if (!(await execute(expected, () => receivables.connect(signer(r, caller)).accept(id, terms)))) return;
    rec.status = St.Accepted;
  }

  toString(): string {
    const terms = ["", ", wrong seller", ", wrong face value", ", wrong due date", ", wrong document"][this.wrong];
    return `accept(#${this.pick}${terms}, by ${callerLabel(this.caller)})`;
  }
}

class Cancel extends LedgerCommand {
  constructor(readonly pick: number, readonly prefer: boolean, readonly caller: number) {
    super();
  }

  async act(m: Model, r: Real): Promise<void> {
    const { receivables } = r.f;
    const id = pickId(m, this.pick, this.prefer, (x) => x.status === St.Issued);
    const rec = recOf(m, id);
    const caller = callerAddress(r, this.caller, rec.seller);
    let expected: Refusal | null = null;
    if (rec.status !== St.Issued) expected = refusal(receivables, "ReceivableInvalidStatus", id, rec.status);
    else if (rec.holder !== caller) expected = refusal(receivables, "ReceivableUnauthorized", id, caller);
    else if (!isVerified(m, r, caller, SUPPLIER)) {
      expected = refusal(receivables, "ReceivableUnverifiedParty", caller, SUPPLIER);
    }
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

  async act(m: Model, r: Real): Promise<void> {
    const { receivables } = r.f;
    const id = pickId(m, this.pick, this.prefer, (x) => x.status === St.Issued || x.status === St.Accepted);
    const rec = recOf(m, id);
    const caller = callerAddress(r, this.caller, rec.holder === ethers.ZeroAddress ? rec.seller : rec.holder);
    const amount = amountOf(this.kind, rec.outstanding, this.fraction);
    let expected: Refusal | null = null;
    if (rec.holder !== caller) expected = refusal(receivables, "ReceivableUnauthorized", id, caller);
    else if (rec.status !== St.Issued && rec.status !== St.Accepted) {
      expected = refusal(receivables, "ReceivableInvalidStatus", id, rec.status);
    } else if (!isActive(m, r, caller)) expected = refusal(receivables, "ReceivableUnverifiedParty", caller, 0);
    else if (amount === 0n) expected = refusal(receivables, "ReceivableInvalidAmount", amount);
    else if (amount > rec.outstanding) {
      expected = refusal(receivables, "ReceivableAmountExceedsOutstanding", id, amount, rec.outstanding);
    }
    const noteHash = ethers.id(`credit note ${id} ${amount}`);
    const receipt = await execute(expected, () =>
      receivables.connect(signer(r, caller)).applyCreditNote(id, amount, noteHash),
    );
    if (!receipt) return;
    rec.outstanding -= amount;
    rec.credited += amount;
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

  async act(m: Model, r: Real): Promise<void> {
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
    else if (!isVerified(m, r, caller, SUPPLIER)) {
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
        doc: rec.doc,
        paid: 0n,
        credited: 0n,
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

  async act(m: Model, r: Real): Promise<void> {
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
    else if (!isActive(m, r, from)) expected = refusal(receivables, "ReceivableUnverifiedParty", from, 0);
    else if (!isVerified(m, r, to, SUPPLIER) && !isVerified(m, r, to, FINANCIER)) {
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

  async act(m: Model, r: Real): Promise<void> {
    const { financing } = r.f;
    const requestable = (x: Rec) => {
      const fin = m.fins.get(x.id);
      return x.status === St.Accepted && (!fin || fin.status !== FSt.Active);
    };
    const id = pickId(
      m,
      this.pick,
      this.prefer,
      (x) => requestable(x) && isVerified(m, r, x.holder, SUPPLIER),
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
    if (!isVerified(m, r, caller, SUPPLIER)) expected = refusal(financing, "FinancingUnverifiedParty", caller, SUPPLIER);
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
    /** 0: pays the line's quote; 1: one fen below the request's minPaid (or the quote); 2: nothing. */
    readonly greed: number,
    /** "direct": approveFinancing; "signed": a relayed signature; "signOnly": signed, kept for later replay. */
    readonly how: "direct" | "signed" | "signOnly",
  ) {
    super();
  }

  async act(m: Model, r: Real): Promise<void> {
    const { financing } = r.f;
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
    let advance = 0n;
    let paid = 0n;
    const line = fin ? lineOf(m, fin.lineId) : undefined;
    if (line) {
      const q = quoteFinancing(line, rec.outstanding, rec.due, m.now);
      advance = q.advance;
      const floor = fin && fin.minPaid > 0n && fin.minPaid <= q.paid ? fin.minPaid : q.paid;
      paid = this.greed === 0 ? q.paid : this.greed === 1 && floor > 0n ? floor - 1n : 0n;
    }
    const approval = { lineId: fin?.lineId ?? 0n, advance, paid, registrationHash: REGISTRATION };
    if (this.how === "direct") {
      const expected = approvalRefusal(m, r, id, caller, approval);
      const receipt = await execute(expected, () => financing.connect(signer(r, caller)).approveFinancing(id, approval));
      if (receipt) applyApproval(m, r, id, caller, approval, receipt);
      return;
    }
    approvalNonce += 1n;
    const signed: SignedApproval = {
      id,
      financier: caller,
      approval,
      nonce: approvalNonce,
      deadline: m.now + 20n * DAY + HALF_DAY,
      signature: "",
      used: false,
    };
    const domain = { ...FINANCING_DOMAIN, chainId: r.chainId, verifyingContract: r.addresses.financing };
    signed.signature = await signer(r, caller).signTypedData(domain, FINANCING_TYPES.ApproveFinancing, {
      financier: caller,
      receivableId: id,
      approval,
      nonce: signed.nonce,
      deadline: signed.deadline,
    });
    m.signedApprovals.push(signed);
    if (this.how === "signed") await submitSignedApproval(m, r, signed);
  }

  toString(): string {
    const how = ["at the quote", "one fen short of the terms", "paying nothing"][this.greed];
    return `approveFinancing(#${this.pick} ${how}, ${this.how}, by ${callerLabel(this.caller)})`;
  }
}

let approvalNonce = 0n;

/** The refusal an approval by `financier` meets, in the order Financing checks (null: it succeeds). */
function approvalRefusal(
  m: Model,
  r: Real,
  id: bigint,
  financier: string,
  a: SignedApproval["approval"],
): Refusal | null {
  const { financing, receivables, token } = r.f;
  const rec = recOf(m, id);
  const fin = m.fins.get(id);
  const finStatus = fin?.status ?? FSt.None;
  if (!fin || finStatus !== FSt.Requested) return refusal(financing, "FinancingInvalidStatus", id, finStatus);
  if (fin.expiresAt < m.now) return refusal(financing, "FinancingRequestLapsed", id, fin.expiresAt);
  if (a.lineId !== fin.lineId) return refusal(financing, "FinancingLineMismatch", id, a.lineId, fin.lineId);
  const line = lineOf(m, fin.lineId);
  if (!line) throw new Error(`model: financing of ${id} names unknown line ${fin.lineId}`);
  if (!available(m, line)) return refusal(financing, "CreditLineUnavailable", fin.lineId);
  if (line.financier !== financier) return refusal(financing, "CreditLineUnauthorized", fin.lineId, financier);
  if (!isVerified(m, r, financier, FINANCIER)) return refusal(financing, "FinancingUnverifiedParty", financier, FINANCIER);
  if (!isVerified(m, r, fin.supplier, SUPPLIER)) {
    return refusal(financing, "FinancingUnverifiedParty", fin.supplier, SUPPLIER);
  }
  if (rec.status !== St.Accepted) return refusal(receivables, "ReceivableInvalidStatus", id, rec.status);
  if (rec.holder !== fin.supplier) return refusal(financing, "FinancingHolderChanged", id, fin.supplier, rec.holder);
  if (rec.due <= m.now) return refusal(financing, "FinancingReceivableOverdue", id, rec.due);
  if (!isVerified(m, r, rec.debtor, BUYER)) return refusal(financing, "FinancingUnverifiedParty", rec.debtor, BUYER);
  if (!inScope(line, rec.debtor, rec.holder)) {
    return refusal(financing, "CreditLineScopeMismatch", fin.lineId, rec.debtor, rec.holder);
  }
  const expectedAdvance = (rec.outstanding * line.maxAdvanceBps) / 10_000n;
  if (a.advance !== expectedAdvance || a.paid > a.advance) {
    return refusal(financing, "FinancingAdvanceMismatch", id, a.advance, a.paid, expectedAdvance);
  }
  if (a.paid < fin.minPaid || a.advance - a.paid > fin.maxDiscount) {
    return refusal(financing, "FinancingTermsNotMet", id, a.paid, fin.minPaid, a.advance - a.paid, fin.maxDiscount);
  }
  if (line.utilised + a.advance > line.limit) {
    return refusal(financing, "CreditLineLimitExceeded", fin.lineId, line.utilised, a.advance, line.limit);
  }
  if (m.paused && a.paid !== 0n) return refusal(token, "EnforcedPause");
  return null;
}

/** The model after an approval the chain accepted, with (2) and (8) checked on the act itself. */
function applyApproval(
  m: Model,
  r: Real,
  id: bigint,
  financier: string,
  a: SignedApproval["approval"],
  receipt: ContractTransactionReceipt,
): void {
  const { financing } = r.f;
  const rec = recOf(m, id);
  const fin = m.fins.get(id);
  const line = fin ? lineOf(m, fin.lineId) : undefined;
  if (!fin || !line) throw new Error("unreachable");
  // (2): a receivable already financed can never be approved again.
  expect(rec.financed, `(2) approving financed receivable ${id} must be refused`).to.equal(false);
  // (8): what the supplier is paid now, and in total once the reserve comes back.
  expect(a.paid, `(8) paid to the supplier of ${id}`).to.be.at.least(fin.minPaid);
  expect(a.advance - a.paid, `(8) discount on ${id}`).to.be.at.most(fin.maxDiscount);
  const approved = receipt.logs
    .map((log) => financing.interface.parseLog(log))
    .find((e) => e?.name === "FinancingApproved");
  expect(approved?.args.toArray(), "FinancingApproved").to.deep.equal([
    id,
    fin.lineId,
    financier,
    rec.holder,
    a.advance,
    a.paid,
    REGISTRATION,
  ]);
  credit(m, financier, -a.paid);
  credit(m, rec.holder, a.paid);
  rec.holder = financier;
  rec.status = St.Financed;
  rec.financed = true;
  fin.status = FSt.Active;
  fin.principal = a.advance;
  line.utilised += a.advance;
  m.approvals.set(id, (m.approvals.get(id) ?? 0) + 1);
}

/** Sends a signed approval (relayed by the outsider: anyone may relay a signature). */
async function submitSignedApproval(m: Model, r: Real, s: SignedApproval): Promise<void> {
  const { financing } = r.f;
  let expected: Refusal | null;
  if (m.now > s.deadline) expected = refusal(financing, "SignedActionExpired", s.deadline, anyValue);
  else if (s.used) expected = refusal(financing, "SignedActionNonceUsed", s.financier, s.nonce);
  else expected = approvalRefusal(m, r, s.id, s.financier, s.approval);
  const auth = { nonce: s.nonce, deadline: s.deadline, signature: s.signature };
  const receipt = await execute(expected, () =>
    financing.connect(r.f.outsider).approveFinancingBySig(s.financier, s.id, s.approval, auth),
  );
  if (!receipt) return;
  s.used = true;
  applyApproval(m, r, s.id, s.financier, s.approval, receipt);
}

/** An old approval signature presented again: after use, on a withdrawn and re-made request, on another line. */
class ReplayApproval extends LedgerCommand {
  constructor(readonly pick: number) {
    super();
  }

  check(m: Readonly<Model>): boolean {
    return m.signedApprovals.length > 0;
  }

  async act(m: Model, r: Real): Promise<void> {
    await submitSignedApproval(m, r, m.signedApprovals[this.pick % m.signedApprovals.length]);
  }

  toString(): string {
    return `replayApproval(#${this.pick})`;
  }
}

class RejectFinancing extends LedgerCommand {
  constructor(readonly pick: number, readonly prefer: boolean, readonly caller: number) {
    super();
  }

  async act(m: Model, r: Real): Promise<void> {
    const { financing } = r.f;
    const id = pickId(m, this.pick, this.prefer, (x) => m.fins.get(x.id)?.status === FSt.Requested);
    const fin = m.fins.get(id);
    const caller = callerAddress(r, this.caller, financierOf(m, r, id));
    const finStatus = fin?.status ?? FSt.None;
    let expected: Refusal | null = null;
    if (!fin || finStatus !== FSt.Requested) expected = refusal(financing, "FinancingInvalidStatus", id, finStatus);
    else if (lineOf(m, fin.lineId)?.financier !== caller) {
      expected = refusal(financing, "CreditLineUnauthorized", fin.lineId, caller);
    } else if (!isVerified(m, r, caller, FINANCIER)) {
      expected = refusal(financing, "FinancingUnverifiedParty", caller, FINANCIER);
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

  async act(m: Model, r: Real): Promise<void> {
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

/** A financier reprices, shrinks, lets lapse or closes a line, typically under pending requests. */
class UpdateLine extends LedgerCommand {
  constructor(
    readonly line: number,
    readonly caller: number,
    readonly maxAdvanceBps: bigint,
    readonly discountBps: bigint,
    /** 0 keeps the limit; 1 shrinks it to the utilisation; 2 below it; 3 doubles it. */
    readonly limitKind: number,
    /** 0 keeps the expiry; 1 lets it lapse at the next day; 2 extends it by 200 days. */
    readonly expiryKind: number,
    /** Closes the line instead (with pending requests on it, often). */
    readonly close: boolean,
  ) {
    super();
  }

  async act(m: Model, r: Real): Promise<void> {
    const { financing } = r.f;
    // Line 0: the line of the newest pending request, the one a hostile financier reprices.
    const pending = [...m.fins.values()].filter((f) => f.status === FSt.Requested);
    const lineId = this.line === 0 ? (pending.length > 0 ? pending[pending.length - 1].lineId : 1n) : BigInt(this.line);
    const line = lineOf(m, lineId);
    if (!line) throw new Error(`model: no line ${lineId}`);
    const caller = callerAddress(r, this.caller, line.financier);
    let expected: Refusal | null = null;
    if (line.financier !== caller) expected = refusal(financing, "CreditLineUnauthorized", line.id, caller);
    else if (!isVerified(m, r, caller, FINANCIER)) {
      expected = refusal(financing, "FinancingUnverifiedParty", caller, FINANCIER);
    }
    if (this.close) {
      if (!expected && !line.open) expected = refusal(financing, "CreditLineUnavailable", line.id);
      if (!(await execute(expected, () => financing.connect(signer(r, caller)).closeCreditLine(line.id)))) return;
      line.open = false;
      return;
    }
    const below = line.utilised > 0n ? line.utilised - 1n : 0n;
    const limit = [line.limit, line.utilised, below, line.limit * 2n][this.limitKind];
    const expiry = [line.expiry, m.now + HALF_DAY, m.now + 200n * DAY + HALF_DAY][this.expiryKind];
    const terms = { limit, maxAdvanceBps: this.maxAdvanceBps, discountBps: this.discountBps, expiry };
    if (expected === null && (limit === 0n || limit < line.utilised)) {
      expected = refusal(financing, "CreditLineInvalidLimit", limit, line.utilised);
    } else if (expected === null && expiry <= m.now) expected = refusal(financing, "CreditLineInvalidExpiry", expiry);
    const receipt = await execute(expected, () => financing.connect(signer(r, caller)).updateCreditLine(line.id, terms));
    if (!receipt) return;
    line.limit = limit;
    line.maxAdvanceBps = this.maxAdvanceBps;
    line.discountBps = this.discountBps;
    line.expiry = expiry;
  }

  toString(): string {
    if (this.close) return `closeCreditLine(${this.line}, by ${callerLabel(this.caller)})`;
    const limit = ["", ", limit to utilisation", ", limit below utilisation", ", limit doubled"][this.limitKind];
    const expiry = ["", ", lapsing tomorrow", ", extended"][this.expiryKind];
    return `updateCreditLine(${this.line === 0 ? "the pending request's line" : this.line} to ${this.maxAdvanceBps} / ${this.discountBps} bps${limit}${expiry}, by ${callerLabel(this.caller)})`;
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

  async act(m: Model, r: Real): Promise<void> {
    const { receivables, token } = r.f;
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
    } else if (!isActive(m, r, caller)) expected = refusal(receivables, "ReceivableUnverifiedParty", caller, 0);
    else if (m.paused) expected = refusal(token, "EnforcedPause");
    // A debtor's valid payment is never refused for its recipients: suspended or lapsed, they are held.
    if (!(await execute(expected, () => receivables.connect(signer(r, caller)).pay(id, amount)))) return;
    rec.outstanding -= amount;
    rec.paid += amount;
    if (rec.outstanding === 0n) rec.status = St.Paid;
    credit(m, caller, -amount);
    const fin = m.fins.get(id);
    if (!rec.financed || !fin) {
      deliver(m, r, rec.holder, amount);
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
    if (amount > toFinancier) deliver(m, r, fin.supplier, amount - toFinancier);
    if (toFinancier > 0n) deliver(m, r, rec.holder, toFinancier);
  }

  toString(): string {
    return `pay(#${this.pick}, ${this.kind}, by ${callerLabel(this.caller)})`;
  }
}

/** The debtor pays while the payment's recipient has just been suspended: the payment must be held. */
class PayHeld extends LedgerCommand {
  constructor(readonly pick: number, readonly kind: AmountKind, readonly fraction: bigint) {
    super();
  }

  async act(m: Model, r: Real): Promise<void> {
    const payable = (s: St) => s === St.Accepted || s === St.Financed || s === St.Defaulted;
    const id = pickId(m, this.pick, true, (x) => payable(x.status));
    const rec = recOf(m, id);
    const fin = m.fins.get(id);
    // The reserve's recipient when a payment goes past the financier's principal, else the holder.
    const reserve = rec.financed && fin && this.kind === "full" && rec.outstanding > fin.principal;
    const recipient = reserve && fin ? fin.supplier : rec.holder;
    if (isActive(m, r, recipient)) await new RegistryAct(r.name.get(recipient)!, "suspend").act(m, r);
    await new Pay(this.pick, true, -1, this.kind, this.fraction).act(m, r);
  }

  toString(): string {
    return `payHeld(#${this.pick}, ${this.kind})`;
  }
}

/** A payment reaches its recipient, or is held for it when the token would refuse it. */
function deliver(m: Model, r: Real, to: string, amount: bigint): void {
  if (isActive(m, r, to)) credit(m, to, amount);
  else m.held.set(to, (m.held.get(to) ?? 0n) + amount);
}

/** Anyone claims what the ledger holds for it. */
class Claim extends LedgerCommand {
  constructor(readonly pick: number, readonly caller: number) {
    super();
  }

  check(): boolean {
    return true;
  }

  async act(m: Model, r: Real): Promise<void> {
    const { receivables, token } = r.f;
    const holding = [...m.held.entries()].filter(([, v]) => v > 0n).map(([k]) => k);
    const caller =
      this.caller < 0 && holding.length > 0 ? holding[this.pick % holding.length] : addr(r, ACTOR_NAMES[Math.abs(this.caller) % 12]);
    // Half the time the officer first restores a held-for recipient (reinstated, KYC renewed).
    if (this.caller < 0 && !isActive(m, r, caller) && this.pick % 2 === 0 && m.held.has(caller)) {
      if (m.suspended.has(caller)) await new RegistryAct(r.name.get(caller)!, "reinstate").act(m, r);
      if (!isActive(m, r, caller)) await new RegistryAct(r.name.get(caller)!, "renew").act(m, r);
    }
    const amount = m.held.get(caller) ?? 0n;
    let expected: Refusal | null = null;
    if (amount === 0n) expected = refusal(receivables, "ReceivableNothingHeld", caller);
    else if (!isActive(m, r, caller)) expected = refusal(receivables, "ReceivableUnverifiedParty", caller, 0);
    else if (m.paused) expected = refusal(token, "EnforcedPause");
    if (!(await execute(expected, () => receivables.connect(signer(r, caller)).claim()))) return;
    m.held.delete(caller);
    credit(m, caller, amount);
  }

  toString(): string {
    return `claim(${this.caller < 0 ? `held #${this.pick}` : ACTOR_NAMES[this.caller % 12]})`;
  }
}

type RegistryAction = "suspend" | "reinstate" | "lapse" | "renew";

/** Who the newest payable receivable's next payment goes to: its financed supplier (reserve) or its holder. */
function recipientOf(m: Model, r: Real): string {
  const payable = m.ids.filter((id) => [St.Accepted, St.Financed, St.Defaulted].includes(recOf(m, id).status));
  if (payable.length === 0) return addr(r, "supplier");
  const rec = recOf(m, payable[payable.length - 1]);
  const fin = m.fins.get(rec.id);
  return rec.financed && fin && m.ids.length % 2 === 0 ? fin.supplier : rec.holder;
}

/** The compliance officer suspends, reinstates, lets KYC lapse (at the next day) or renews a member mid-life. */
class RegistryAct extends LedgerCommand {
  constructor(readonly who: ActorName | "recipient", readonly action: RegistryAction) {
    super();
  }

  check(): boolean {
    return true;
  }

  async act(m: Model, r: Real): Promise<void> {
    const { registry, officer } = r.f;
    const account = this.who === "recipient" ? recipientOf(m, r) : addr(r, this.who);
    if (this.action === "suspend" || this.action === "reinstate") {
      const suspended = m.suspended.has(account);
      let expected: Refusal | null = null;
      if (this.action === "suspend" && suspended) expected = refusal(registry, "RegistryAlreadySuspended", account);
      if (this.action === "reinstate" && !suspended) expected = refusal(registry, "RegistryNotSuspended", account);
      const send = () =>
        this.action === "suspend"
          ? registry.connect(officer).suspend(account, ethers.encodeBytes32String("HOSTILE"))
          : registry.connect(officer).reinstate(account);
      if (!(await execute(expected, send))) return;
      if (this.action === "suspend") m.suspended.add(account);
      else m.suspended.delete(account);
      return;
    }
    const expiry = this.action === "lapse" ? m.now + HALF_DAY : m.now + 600n * DAY + HALF_DAY;
    await execute(null, () => registry.connect(officer).renewKyc(account, expiry));
    m.kyc.set(account, expiry);
  }

  toString(): string {
    return `${this.action}(${this.who})`;
  }
}

/** The token's pauser pauses it, or unpauses it (restarting every grace period). */
class TogglePause extends LedgerCommand {
  check(): boolean {
    return true;
  }

  async act(m: Model, r: Real): Promise<void> {
    const { token, admin } = r.f;
    if (!m.paused) {
      await execute(null, () => token.connect(admin).pause());
      m.paused = true;
      return;
    }
    await execute(null, () => token.connect(admin).unpause());
    m.paused = false;
    m.unpausedModel = m.now;
    m.unpausedChain = (await token.pauseClock()).lastUnpausedAt;
  }

  toString(): string {
    return "togglePause()";
  }
}

class AdvanceAndMarkDefaulted extends LedgerCommand {
  constructor(readonly days: bigint, readonly pick: number, readonly prefer: boolean, readonly caller: number) {
    super();
  }

  check(m: Readonly<Model>): boolean {
    return m.elapsed + this.days * DAY <= MAX_ELAPSED;
  }

  async act(m: Model, r: Real): Promise<void> {
    const { receivables } = r.f;
    if (this.days > 0n) {
      await time.increase(this.days * DAY);
      m.now += this.days * DAY;
      m.elapsed += this.days * DAY;
    }
    if (m.ids.length === 0) return;
    const overdue = (x: Rec) => x.due + GRACE_PERIOD < m.now;
    // A quarter of the time the holder goes for a debtor who has paid in full.
    const paidFirst = this.pick % 2 === 1 ? [(x: Rec) => x.status === St.Paid && overdue(x)] : [];
    const id = pickId(
      m,
      this.pick,
      this.prefer,
      ...paidFirst,
      (x) => x.status === St.Financed && overdue(x),
      (x) => x.status === St.Accepted && overdue(x),
    );
    const rec = recOf(m, id);
    // Only the holder (the financier, once financed) may mark a default; any actor tries.
    const caller = this.caller < 0 ? rec.holder : addr(r, ACTOR_NAMES[this.caller]);
    // Due date plus grace, and a full grace period after the token's last unpause (chain time for
    // the error's argument; model time decides: the unpause and the check are whole days apart).
    const afterPause = m.unpausedChain + GRACE_PERIOD;
    const overdueAt = rec.due + GRACE_PERIOD > afterPause ? rec.due + GRACE_PERIOD : afterPause;
    const isOverdue =
      m.now > rec.due + GRACE_PERIOD && (m.unpausedModel === 0n || m.now >= m.unpausedModel + GRACE_PERIOD);
    let expected: Refusal | null = null;
    if (rec.status !== St.Accepted && rec.status !== St.Financed) {
      expected = refusal(receivables, "ReceivableInvalidStatus", id, rec.status);
    } else if (caller !== rec.holder) expected = refusal(receivables, "ReceivableUnauthorized", id, caller);
    else if (!isActive(m, r, caller)) expected = refusal(receivables, "ReceivableUnverifiedParty", caller, 0);
    else if (m.paused) expected = refusal(receivables, "ReceivableSettlementPaused", r.addresses.token);
    else if (!isOverdue) expected = refusal(receivables, "ReceivableNotOverdue", id, overdueAt);
    if (caller === ethers.ZeroAddress) return;
    if (!(await execute(expected, () => receivables.connect(signer(r, caller)).markDefaulted(id)))) return;
    rec.status = St.Defaulted;
  }

  toString(): string {
    return `advance ${this.days}d, markDefaulted(#${this.pick}, by ${this.caller < 0 ? "holder" : ACTOR_NAMES[this.caller]})`;
  }
}

class WriteOff extends LedgerCommand {
  constructor(readonly pick: number, readonly prefer: boolean, readonly caller: number) {
    super();
  }

  async act(m: Model, r: Real): Promise<void> {
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
    else if (!isVerified(m, r, caller, FINANCIER)) {
      expected = refusal(financing, "FinancingUnverifiedParty", caller, FINANCIER);
    } else if (rec.status !== St.Defaulted) {
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
const attestKindArb = fc.oneof(
  { arbitrary: fc.constant<AttestKind>("honest"), weight: 12 },
  { arbitrary: fc.constantFrom<AttestKind>("invented", "otherSeller", "expired", "self", "childSquat"), weight: 3 },
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
    attestKindArb,
  )
  .map(([seller, debtor, amount, days, reuse, kind]) => new Tokenise(seller, debtor, amount, days, reuse, kind));
const attestArb: Arb = fc
  .tuple(sellerArb, debtorArb, fc.bigInt({ min: 100_00n, max: 10_000_000_00n }), fc.bigInt({ min: 1n, max: 200n }))
  .map(([seller, debtor, amount, days]) => new AttestInvoice(seller, debtor, amount, days));
const submitArb: Arb = fc
  .tuple(fc.nat({ max: 1_000 }), fc.oneof(fc.constant(-1), fc.constantFrom(4, 5, 7, 8, 11)))
  .map(([p, c]) => new SubmitAttested(p, c));
const wrongTermsArb = fc.oneof({ arbitrary: fc.constant(0), weight: 8 }, { arbitrary: fc.integer({ min: 1, max: 4 }), weight: 2 });
const acceptArb: Arb = fc
  .tuple(pickArb, preferArb, callerArb, wrongTermsArb)
  .map(([p, pr, c, w]) => new Accept(p, pr, c, w));
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
  .tuple(
    pickArb,
    preferArb,
    callerArb,
    lineArb,
    fc.oneof({ arbitrary: fc.constant(true), weight: 3 }, { arbitrary: fc.constant(false), weight: 1 }),
    fc.integer({ min: 0, max: 40 }),
  )
  .map(([p, pr, c, l, tight, lapse]) => new RequestFinancing(p, pr, c, l, tight, lapse));
const greedArb = fc.oneof(
  { arbitrary: fc.constant(0), weight: 3 },
  { arbitrary: fc.constantFrom(1, 2), weight: 2 },
);
const approveHowArb = fc.oneof(
  { arbitrary: fc.constant<"direct" | "signed" | "signOnly">("direct"), weight: 3 },
  { arbitrary: fc.constantFrom<"direct" | "signed" | "signOnly">("signed", "signOnly"), weight: 3 },
);
const approveArb: Arb = fc
  .tuple(pickArb, preferArb, callerArb, greedArb, approveHowArb)
  .map(([p, pr, c, g, how]) => new ApproveFinancing(p, pr, c, g, how));
const replayArb: Arb = fc.nat({ max: 1_000 }).map((p) => new ReplayApproval(p));
const withdrawArb: Arb = idActArb.map(([p, pr, c]) => new WithdrawRequest(p, pr, c));
const updateLineArb: Arb = fc
  .tuple(
    fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 4 })),
    callerArb,
    fc.bigInt({ min: 1_000n, max: 10_000n }),
    fc.bigInt({ min: 0n, max: 10_000n }),
    fc.oneof({ arbitrary: fc.constant(0), weight: 3 }, { arbitrary: fc.integer({ min: 1, max: 3 }), weight: 2 }),
    fc.oneof({ arbitrary: fc.constant(0), weight: 4 }, { arbitrary: fc.integer({ min: 1, max: 2 }), weight: 1 }),
    fc.oneof({ arbitrary: fc.constant(false), weight: 5 }, { arbitrary: fc.constant(true), weight: 1 }),
  )
  .map(([l, c, a, d, lk, ek, close]) => new UpdateLine(l, c, a, d, lk, ek, close));
const rejectArb: Arb = idActArb.map(([p, pr, c]) => new RejectFinancing(p, pr, c));
const payHeldArb: Arb = fc
  .tuple(pickArb, amountKindArb, fractionArb)
  .map(([p, k, fr]) => new PayHeld(p, k, fr));
const payArb: Arb = fc
  .tuple(pickArb, preferArb, callerArb, amountKindArb, fractionArb)
  .map(([p, pr, c, k, fr]) => new Pay(p, pr, c, k, fr));
const advanceArb: Arb = fc
  .tuple(fc.bigInt({ min: 0n, max: 120n }), pickArb, preferArb, fc.oneof(fc.constant(-1), fc.nat({ max: 11 })))
  .map(([d, p, pr, c]) => new AdvanceAndMarkDefaulted(d, p, pr, c));
const writeOffArb: Arb = idActArb.map(([p, pr, c]) => new WriteOff(p, pr, c));
const claimArb: Arb = fc
  .tuple(fc.nat({ max: 1_000 }), fc.oneof({ arbitrary: fc.constant(-1), weight: 4 }, { arbitrary: fc.nat({ max: 11 }), weight: 1 }))
  .map(([p, c]) => new Claim(p, c));
const registryArb: Arb = fc
  .tuple(
    fc.oneof(
      { arbitrary: fc.constantFrom<ActorName>("supplier", "supplier2", "buyer", "buyer2", "financier", "financier2"), weight: 3 },
      { arbitrary: fc.constant<"recipient">("recipient"), weight: 3 },
    ),
    fc.constantFrom<RegistryAction>("suspend", "suspend", "suspend", "lapse", "lapse", "reinstate", "reinstate", "renew"),
  )
  .map(([who, action]) => new RegistryAct(who, action));
const pauseArb: Arb = fc.constant(null).map(() => new TogglePause());

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
    { arbitrary: advanceArb, weight: 4 },
    { arbitrary: writeOffArb, weight: 2 },
    { arbitrary: attestArb, weight: 2 },
    { arbitrary: submitArb, weight: 3 },
    { arbitrary: replayArb, weight: 2 },
    { arbitrary: payHeldArb, weight: 2 },
    { arbitrary: claimArb, weight: 3 },
    { arbitrary: registryArb, weight: 4 },
    { arbitrary: pauseArb, weight: 1 },
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
    suspended: new Set(),
    kyc: new Map(),
    paused: false,
    unpausedModel: 0n,
    unpausedChain: 0n,
    held: new Map(),
    pending: [],
    signedApprovals: [],
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
      doc: documentHash,
      paid: 0n,
      credited: 0n,
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
    if (MEMBERS.includes(n)) model.kyc.set(f.actors[n].address, (await f.registry.member(f.actors[n].address)).kycExpiry);
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
        heldFor: f.receivables.interface.getFunction("heldFor").selector,
        receivableOfDocument: f.receivables.interface.getFunction("receivableOfDocument").selector,
      },
      topics: {
        tokenised: f.receivables.interface.getEvent("ReceivableTokenised").topicHash,
        approved: f.financing.interface.getEvent("FinancingApproved").topicHash,
        requested: f.financing.interface.getEvent("FinancingRequested").topicHash,
        paid: f.receivables.interface.getEvent("ReceivablePaid").topicHash,
        creditNote: f.receivables.interface.getEvent("CreditNoteApplied").topicHash,
        defaulted: f.receivables.interface.getEvent("ReceivableDefaulted").topicHash,
        unpaused: f.token.interface.getEvent("Unpaused").topicHash,
      },
      chainId: (await ethers.provider.getNetwork()).chainId,
      blockTimes: new Map(),
      txSenders: new Map(),
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
