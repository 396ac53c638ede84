/**
 * Gas benchmark: receipt `gasUsed` of every ledger act, sent directly by its participant and relayed
 * as its `…BySig` variant, beside plain OpenZeppelin baselines measured in the same run on the
 * in-process Hardhat network. Prints the table and rewrites the `gas` section of docs/BENCHMARKS.md.
 *
 *   npm run bench:gas
 *
 * Every scenario starts from one base snapshot (ledger deployed, members registered, funded, every
 * allowance at MaxUint256, established participants already holding receivables and credit lines),
 * prepares its own state, sends the direct transaction, reverts to the prepared state and sends the
 * relayed variant, so both variants meet identical storage. Nonces are unordered (a bitmap per
 * signer and contract): each signer draws consecutive nonces from a cursor that every scenario
 * resets, so an established participant's act lands in a bitmap word that already holds a used nonce
 * (a 5,000-gas update) and a first-ever participant's first act on a contract in a word never touched
 * (a new slot, 22,100); both are checked before signing. Calldata is realistic: pseudo-random
 * 32-byte hashes and non-round amounts, derived from a fixed seed, and every signed time is a
 * constant offset from a pinned start (START), so two runs give identical figures.
 * Each receipt is also traced (debug_traceTransaction) to count the storage writes and events
 * behind the number. Budgets are reported, not enforced: the exit code is 0 when a budget is missed
 * and non-zero only when the benchmark itself breaks.
 */
import { takeSnapshot, time, type SnapshotRestorer } from "@nomicfoundation/hardhat-network-helpers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import type { ContractTransactionResponse, TransactionResponse, TypedDataField } from "ethers";
import hre, { ethers, network } from "hardhat";
import {
  FINANCING_DOMAIN,
  FINANCING_TYPES,
  RECEIVABLES_DOMAIN,
  RECEIVABLES_TYPES,
  type FinancingAct,
  type ReceivablesAct,
} from "../shared/eip712";
import {
  anyTerms,
  approvalAtLineTerms,
  registrationHash,
  requestTermsFromQuote,
  type ApprovalTerms,
  type RequestTerms,
} from "../shared/financing-terms";
import { BaselineERC20__factory, BaselineERC721__factory } from "../typechain-types";
import type { BaselineERC20, BaselineERC721, IReceivables } from "../typechain-types";
import { receivableIdOf } from "../shared/fingerprint";
import { DEFAULT_PARAMS, deployLedger, type Ledger } from "./lib/deploy-ledger";
import { formatInt, machineDescription, markdownTable, writeBenchmarkSection } from "./lib/bench-doc";
import { ROLE_BITS } from "../shared/roles";

// ------------------------------------------------------------------ constants

const DAY = 24n * 3600n;
const YEAR = 365n * DAY;
const JURISDICTION_CN = "0x434e";
const BATCH = 50;
const TX_BASE = 21_000n;
/** Receivables.Status and Financing.Status values the checks read. */
const RS = { Issued: 1n, Accepted: 2n, Financed: 3n, Paid: 4n, Defaulted: 5n, Cancelled: 6n, Split: 7n } as const;
const FS = { Requested: 1n, Active: 3n, Repaid: 4n } as const;

// ------------------------------------------------------------------ pinned clock

/**
 * The instant set-up moves the chain to (2030-01-01T00:00:00Z). Every signed time — KYC, attestation
 * and line expiries, due dates, request lapses, act deadlines, quote instants — is this plus constants,
 * never the wall clock or the latest block, so the calldata (and its zero-byte count) is the same in
 * every run. Block timestamps still follow the wall clock from here on, a few seconds per run, which
 * stays far inside every window signed below (the shortest, an act's deadline, is an hour).
 */
const START = 1_893_456_000n;
/** The scenario's clock: START in the base state, moved only by `advance`. */
let clock = START;
function now(): bigint {
  return clock;
}
/** Moves the scenario's clock and the chain by `seconds`. */
async function advance(seconds: bigint): Promise<void> {
  clock += seconds;
  await time.increaseTo(clock);
}

// ------------------------------------------------------------------ deterministic "random" calldata

let seed = 0;
/** A pseudo-random 32-byte word: keccak of a counter, so every run sends the same kind of bytes. */
function word(): string {
  seed += 1;
  return ethers.keccak256(ethers.toUtf8Bytes(`bench-gas ${seed}`));
}
function freshAddress(): string {
  return ethers.getAddress(ethers.dataSlice(word(), 12));
}
/** Between lo and hi (inclusive), from a fresh word. */
function between(lo: bigint, hi: bigint): bigint {
  return lo + (BigInt(word()) % (hi - lo + 1n));
}

// ------------------------------------------------------------------ measurement

interface Breakdown {
  /** Gas the EVM spent before refunds (trace). */
  execution: bigint;
  refund: bigint;
  newSlots: number;
  newSlotGas: bigint;
  updates: number;
  updateGas: bigint;
  clears: number;
  clearGas: bigint;
  /** Writes of an unchanged value, or re-writes of a slot this transaction already wrote. */
  otherWrites: number;
  otherWriteGas: bigint;
  coldReads: number;
  coldReadGas: bigint;
  events: number;
  eventGas: bigint;
  calls: number;
}

interface Tx {
  label: string;
  hash: string;
  gasUsed: bigint;
  calldataBytes: number;
  calldataGas: bigint;
  /** EIP-7623 floor (Prague and later): 21,000 + 10 per calldata token. */
  floorGas: bigint;
  breakdown: Breakdown;
}

interface StructLog {
  op: string;
  gas: number;
  gasCost: number;
  depth: number;
  stack?: string[];
}

function hexToBigInt(s: string): bigint {
  return BigInt(s.startsWith("0x") ? s : `0x${s}`);
}

async function breakdownOf(hash: string, intrinsic: bigint, gasUsed: bigint): Promise<Breakdown> {
  const trace = (await network.provider.send("debug_traceTransaction", [
    hash,
    { disableMemory: true, disableStorage: true },
  ])) as { structLogs: StructLog[] };
  const logs = trace.structLogs;
  const b: Breakdown = {
    execution: 0n,
    refund: 0n,
    newSlots: 0,
    newSlotGas: 0n,
    updates: 0,
    updateGas: 0n,
    clears: 0,
    clearGas: 0n,
    otherWrites: 0,
    otherWriteGas: 0n,
    coldReads: 0,
    coldReadGas: 0n,
    events: 0,
    eventGas: 0n,
    calls: 0,
  };
  if (logs.length > 0) {
    const last = logs[logs.length - 1];
    b.execution = BigInt(logs[0].gas - last.gas + last.gasCost);
  }
  for (const step of logs) {
    const cost = BigInt(step.gasCost);
    if (step.op === "SSTORE") {
      const stack = step.stack ?? [];
      const value = stack.length >= 2 ? hexToBigInt(stack[stack.length - 2]) : 1n;
      if (cost >= 20_000n) {
        b.newSlots += 1;
        b.newSlotGas += cost;
      } else if (cost >= 2_900n && value === 0n) {
        b.clears += 1;
        b.clearGas += cost;
      } else if (cost >= 2_900n) {
        b.updates += 1;
        b.updateGas += cost;
      } else {
        b.otherWrites += 1;
        b.otherWriteGas += cost;
      }
    } else if (step.op === "SLOAD" && cost >= 2_100n) {
      b.coldReads += 1;
      b.coldReadGas += cost;
    } else if (step.op.startsWith("LOG")) {
      b.events += 1;
      b.eventGas += cost;
    } else if (step.op === "CALL" || step.op === "STATICCALL" || step.op === "DELEGATECALL") {
      b.calls += 1;
    }
  }
  const gross = intrinsic + b.execution;
  b.refund = gross > gasUsed ? gross - gasUsed : 0n;
  return b;
}

async function record(label: string, pending: Promise<ContractTransactionResponse | TransactionResponse>): Promise<Tx> {
  const sent = await pending;
  const receipt = await sent.wait();
  if (receipt === null || receipt.status !== 1) throw new Error(`${label}: transaction failed`);
  const data = ethers.getBytes(sent.data);
  const zeros = data.filter((x) => x === 0).length;
  const nonZeros = data.length - zeros;
  const calldataGas = BigInt(zeros * 4 + nonZeros * 16);
  const floorGas = TX_BASE + 10n * BigInt(zeros + 4 * nonZeros);
  return {
    label,
    hash: receipt.hash,
    gasUsed: receipt.gasUsed,
    calldataBytes: data.length,
    calldataGas,
    floorGas,
    breakdown: await breakdownOf(receipt.hash, TX_BASE + calldataGas, receipt.gasUsed),
  };
}

const sum = (txs: Tx[]): bigint => txs.reduce((acc, t) => acc + t.gasUsed, 0n);

// ------------------------------------------------------------------ the base state

type Signer = HardhatEthersSigner;

interface Base extends Ledger {
  admin: Signer;
  operator: Signer;
  /** The compliance key: holds INVOICE_ATTESTER_ROLE and signs every invoice attestation. */
  attester: Signer;
  issuer: Signer;
  /** Sends every …BySig transaction; holds no role. */
  relayer: Signer;
  buyer: Signer;
  /** Holds receivables, a settlement-token balance and used nonces (nonce 0 on both contracts). */
  supplier: Signer;
  /** Registered, but no receivables, no settlement tokens, unused nonces. */
  newSupplier: Signer;
  /** Holds receivables, two used credit lines (lines[90], lines[100]) and used nonces (0 on both contracts). */
  financier: Signer;
  /** Registered, funded and approved, but no line, no receivables, unused nonces. */
  newFinancier: Signer;
  lines: { 90: bigint; 100: bigint };
  nft: BaselineERC721;
  erc20: BaselineERC20;
  chainId: bigint;
  receivablesAddress: string;
  financingAddress: string;
}

let B: Base;

async function buildBase(): Promise<Base> {
  const [admin, operator, officer, issuer, relayer, buyer, supplier, newSupplier, financier, newFinancier] =
    await ethers.getSigners();
  const ledger = await deployLedger(admin, {
    admin: admin.address,
    onboardingOperator: operator.address,
    complianceOfficer: officer.address,
    issuer: issuer.address,
  });
  const nft = await new BaselineERC721__factory(admin).deploy();
  const erc20 = await new BaselineERC20__factory(admin).deploy();
  await nft.waitForDeployment();
  await erc20.waitForDeployment();
  const { chainId } = await ethers.provider.getNetwork();
  B = {
    ...ledger,
    admin,
    operator,
    attester: officer,
    issuer,
    relayer,
    buyer,
    supplier,
    newSupplier,
    financier,
    newFinancier,
    lines: { 90: 0n, 100: 0n },
    nft,
    erc20,
    chainId,
    receivablesAddress: await ledger.receivables.getAddress(),
    financingAddress: await ledger.financing.getAddress(),
  };
  const { registry, token, receivables, financing } = ledger;

  const kycExpiry = now() + 2n * YEAR;
  const members: Array<[Signer, number]> = [
    [buyer, ROLE_BITS.buyer],
    [supplier, ROLE_BITS.supplier],
    [newSupplier, ROLE_BITS.supplier],
    [financier, ROLE_BITS.financier],
    [newFinancier, ROLE_BITS.financier],
  ];
  for (const [who, roles] of members) {
    await (await registry.connect(operator).register(who.address, roles, kycExpiry, JURISDICTION_CN, word())).wait();
  }
  for (const who of [buyer, financier, newFinancier]) {
    await (await token.connect(issuer).mint(who.address, 100_000_000_00n)).wait();
  }
  await (await token.connect(buyer).approve(B.receivablesAddress, ethers.MaxUint256)).wait();
  for (const who of [financier, newFinancier]) {
    await (await token.connect(who).approve(B.financingAddress, ethers.MaxUint256)).wait();
  }
  // Established participants have relayed acts before: nonce 0 is used on both contracts, so the
  // bitmap word their next nonces fall in is already non-zero. Their cursors start at 1.
  for (const who of [buyer, supplier, financier]) {
    await (await receivables.connect(who).invalidateNonce(0n)).wait();
    await (await financing.connect(who).invalidateNonce(0n)).wait();
    for (const space of ["receivables", "financing"] as const) baseNonceCursor.set(cursorKey(space, who.address), 1n);
  }
  B.lines[90] = await openLine(financier, 9_000n);
  B.lines[100] = await openLine(financier, 10_000n);
  // The established supplier holds receivables and has been paid advances; the financier holds
  // one receivable financed on each line, so both lines are in use.
  const held = await issue(supplier, 6);
  for (const id of held) await (await receivables.connect(buyer).accept(id, termsOf(id))).wait();
  await finance(held[0], B.lines[90]);
  await finance(held[1], B.lines[100]);
  // Baseline ERC-20: A holds tokens before the measured transfer to a new holder.
  await (await erc20.connect(admin).mint(admin.address, 1_000_000_00n)).wait();
  return B;
}

// ------------------------------------------------------------------ scenario helpers

async function invoice(debtor: string, dueIn?: bigint): Promise<IReceivables.InvoiceStruct> {
  return {
    debtor,
    faceValue: between(10_000_00n, 2_000_000_00n),
    dueDate: now() + (dueIn ?? between(30n * DAY, 180n * DAY)),
    documentHash: word(),
    fingerprint: word(),
  };
}

/** Terms of every invoice attested here, by receivable id: what the debtor's acceptance names. */
const termsById = new Map<bigint, IReceivables.TermsStruct>();

/** The attester's signature over one invoice of `seller` (or, `batch`, over a batch), valid a day. */
async function attestation(
  seller: Signer,
  invoices: IReceivables.InvoiceStruct[],
  batch: boolean,
): Promise<IReceivables.AttestationStruct> {
  const expiry = now() + DAY;
  const sellerAddress = await seller.getAddress();
  for (const inv of invoices) {
    termsById.set(idOf(inv), { seller: sellerAddress, faceValue: inv.faceValue, dueDate: inv.dueDate, documentHash: inv.documentHash });
  }
  const domain = { ...RECEIVABLES_DOMAIN, chainId: B.chainId, verifyingContract: B.receivablesAddress };
  const signature = batch
    ? await B.attester.signTypedData(domain, RECEIVABLES_TYPES.InvoiceBatchAttestation as Types, { seller: sellerAddress, invoices, expiry })
    : await B.attester.signTypedData(domain, RECEIVABLES_TYPES.InvoiceAttestation as Types, { seller: sellerAddress, invoice: invoices[0], expiry });
  return { expiry, signature };
}

function termsOf(id: bigint): IReceivables.TermsStruct {
  const t = termsById.get(id);
  if (!t) throw new Error(`no attested terms for receivable ${id}`);
  return t;
}

/** Tokenises `n` invoices owed by the buyer in one batch (which keeps the holder's balance exact). */
async function issue(seller: Signer, n: number, dueIn?: bigint): Promise<bigint[]> {
  const invoices: IReceivables.InvoiceStruct[] = [];
  for (let i = 0; i < n; i++) invoices.push(await invoice(B.buyer.address, dueIn));
  await (await B.receivables.connect(seller).tokeniseBatch(invoices, await attestation(seller, invoices, true))).wait();
  return invoices.map(idOf);
}

async function accepted(seller: Signer, dueIn?: bigint): Promise<bigint> {
  const [id] = await issue(seller, 1, dueIn);
  await (await B.receivables.connect(B.buyer).accept(id, termsOf(id))).wait();
  return id;
}

async function openLine(financier: Signer, maxAdvanceBps: bigint): Promise<bigint> {
  const terms = await lineTerms(maxAdvanceBps);
  await (await B.financing.connect(financier).openCreditLine(B.buyer.address, ethers.ZeroAddress, terms)).wait();
  return B.financing.creditLineCount();
}

async function lineTerms(maxAdvanceBps: bigint) {
  return {
    limit: between(40_000_000_00n, 60_000_000_00n),
    maxAdvanceBps,
    discountBps: 450n,
    expiry: now() + YEAR,
  };
}

async function finance(id: bigint, lineId: bigint, supplier = B.supplier, financier = B.financier): Promise<void> {
  await (await B.financing.connect(supplier).requestFinancing(id, await reqTerms(lineId))).wait();
  await (await B.financing.connect(financier).approveFinancing(id, await approval(id))).wait();
}

/** Request terms held to the line's quote now, lapsing in 30 days (what the service hands out). */
async function reqTerms(lineId: bigint, id?: bigint): Promise<RequestTerms> {
  const at = now();
  if (id === undefined) return anyTerms(lineId, at + 30n * DAY);
  const q = await approvalAtLineTerms(B, id, REGISTRATION, at, lineId);
  return requestTermsFromQuote(lineId, { paid: q.paid, discount: q.advance - q.paid }, at + 30n * DAY);
}

/** The approval of `id` at its line's current terms (quoted now: payouts only grow with time). */
async function approval(id: bigint, lineId?: bigint): Promise<ApprovalTerms> {
  return approvalAtLineTerms(B, id, REGISTRATION, now(), lineId);
}

function deadline(): bigint {
  return now() + 3600n;
}

type Types = Record<string, TypedDataField[]>;

// ------------------------------------------------------------------ unordered nonces

/** ISignedActions.Authorization: what a relayed act carries besides its own fields. */
interface Auth {
  nonce: bigint;
  deadline: bigint;
  signature: string;
}
type NonceSpace = "receivables" | "financing";

/** Cursors of the base state: established signers start at 1 (nonce 0 used), everyone else at 0. */
const baseNonceCursor = new Map<string, bigint>();
/** Next nonce per signer and contract; reset to the base cursors at the start of every scenario. */
let nonceCursor = new Map<string, bigint>();
/** Nonces signed since the variant started; each must be used once the variant has run. */
let signedNonces: Array<{ space: NonceSpace; signer: string; nonce: bigint }> = [];

function cursorKey(space: NonceSpace, signer: string): string {
  return `${space}:${signer}`;
}

function resetNonces(): void {
  nonceCursor = new Map(baseNonceCursor);
  signedNonces = [];
}

function nonceContract(space: NonceSpace) {
  return space === "receivables" ? B.receivables : B.financing;
}

/**
 * The signer's next nonce on `space`. An established signer's nonce must fall in a bitmap word that
 * already holds a used nonce (so the relay pays the 5,000-gas update); a first-ever signer's first
 * nonce in the scenario must fall in a word never touched (so it pays the new slot).
 */
async function takeNonce(space: NonceSpace, signer: Signer): Promise<bigint> {
  const key = cursorKey(space, signer.address);
  const start = baseNonceCursor.get(key);
  const nonce = nonceCursor.get(key) ?? start ?? 0n;
  nonceCursor.set(key, nonce + 1n);
  const word = await nonceContract(space).nonceBitmap(signer.address, nonce >> 8n);
  if (start !== undefined) {
    check(word !== 0n, `${space} nonce ${nonce} of established ${signer.address}: its bitmap word is empty`);
  } else if (nonce === 0n) {
    check(word === 0n, `${space} nonce 0 of first-ever ${signer.address}: its bitmap word is not empty`);
  }
  check(
    !(await nonceContract(space).isNonceUsed(signer.address, nonce)),
    `${space} nonce ${nonce} of ${signer.address} is already used`,
  );
  signedNonces.push({ space, signer: signer.address, nonce });
  return nonce;
}

/** Signs a Receivables act for `signer` with its next nonce and a one-hour deadline. */
async function signR(signer: Signer, act: ReceivablesAct, value: Record<string, unknown>): Promise<Auth> {
  const dl = deadline();
  const nonce = await takeNonce("receivables", signer);
  const domain = { ...RECEIVABLES_DOMAIN, chainId: B.chainId, verifyingContract: B.receivablesAddress };
  const signature = await signer.signTypedData(domain, RECEIVABLES_TYPES[act] as Types, {
    ...value,
    nonce,
    deadline: dl,
  });
  return { nonce, deadline: dl, signature };
}

/** Signs a Financing act for `signer` with its next nonce and a one-hour deadline. */
async function signF(signer: Signer, act: FinancingAct, value: Record<string, unknown>): Promise<Auth> {
  const dl = deadline();
  const nonce = await takeNonce("financing", signer);
  const domain = { ...FINANCING_DOMAIN, chainId: B.chainId, verifyingContract: B.financingAddress };
  const signature = await signer.signTypedData(domain, FINANCING_TYPES[act] as Types, {
    ...value,
    nonce,
    deadline: dl,
  });
  return { nonce, deadline: dl, signature };
}

/** Every benchmarked approval records the same registration number's hash. */
const REGISTRATION = registrationHash("04412026120400000001");

// ------------------------------------------------------------------ scenarios

/** Problems found by the post-transaction checks: a benchmark of an act that did not happen is void. */
const checkFailures: string[] = [];

/** A balance for a message; a wrapped-around counter is shown as such. */
function bal(n: bigint): string {
  return n > 2n ** 255n ? `2^256 − ${2n ** 256n - n} (wrapped below zero)` : n.toString();
}

function check(ok: boolean, what: string): void {
  if (!ok) checkFailures.push(what);
}

interface Measured {
  direct: Tx[];
  relayed?: Tx[];
}

let base: SnapshotRestorer;

/**
 * From the base snapshot: `prepare`, then the direct transactions, then (reverted to the prepared
 * state) the relayed ones. `verify` runs after each variant.
 */
async function scenario<C>(
  name: string,
  prepare: () => Promise<C>,
  direct: (c: C) => Promise<Tx[]>,
  relayed?: (c: C) => Promise<Tx[]>,
  verify?: (c: C, variant: string) => Promise<void>,
): Promise<Measured> {
  await base.restore();
  clock = START;
  resetNonces();
  const c = await prepare();
  const prepared = await takeSnapshot();
  const d = await direct(c);
  if (verify) await verify(c, `${name} (direct)`);
  let r: Tx[] | undefined;
  if (relayed) {
    await prepared.restore();
    signedNonces = [];
    r = await relayed(c);
    if (verify) await verify(c, `${name} (relayed)`);
    check(signedNonces.length > 0, `${name} (relayed): no nonce was signed`);
    for (const { space, signer, nonce } of signedNonces) {
      check(
        await nonceContract(space).isNonceUsed(signer, nonce),
        `${name} (relayed): ${space} nonce ${nonce} of ${signer} is not marked used`,
      );
    }
  }
  process.stdout.write(".");
  return { direct: d, relayed: r };
}

const idOf = (inv: IReceivables.InvoiceStruct): bigint => receivableIdOf(inv.fingerprint as string);

async function tokeniseScenario(name: string, seller: Signer): Promise<Measured> {
  const { receivables } = B;
  return scenario(
    name,
    async () => {
      const inv = await invoice(B.buyer.address);
      return { inv, att: await attestation(seller, [inv], false), before: await receivables.balanceOf(seller.address) };
    },
    async ({ inv, att }) => [await record("tokenise", receivables.connect(seller).tokenise(inv, att))],
    async ({ inv, att }) => {
      const auth = await signR(seller, "Tokenise", { seller: seller.address, invoice: inv });
      return [await record("tokeniseBySig", receivables.connect(B.relayer).tokeniseBySig(seller.address, inv, att, auth))];
    },
    async ({ inv, before }, variant) => {
      check((await receivables.ownerOf(idOf(inv))) === seller.address, `${variant}: ownerOf(id) is not the seller`);
      const after = await receivables.balanceOf(seller.address);
      check(
        after === before + 1n,
        `${variant}: balanceOf(seller) went ${bal(before)} → ${bal(after)}, expected ${bal(
          before + 1n,
        )}; the new token ` +
          `is not counted in the holder's balance, so this row lacks the balance write it should pay for`,
      );
    },
  );
}

async function approveScenario(name: string, worst: boolean): Promise<Measured> {
  const { receivables, financing, token } = B;
  const supplier = worst ? B.newSupplier : B.supplier;
  const financier = worst ? B.newFinancier : B.financier;
  return scenario(
    name,
    async () => {
      const lineId = worst ? await openLine(financier, 9_000n) : B.lines[90];
      const id = await accepted(supplier);
      await (await financing.connect(supplier).requestFinancing(id, await reqTerms(lineId, id))).wait();
      const state = {
        supplierTokens: await token.balanceOf(supplier.address),
        supplierHolds: await receivables.balanceOf(supplier.address),
        financierHolds: await receivables.balanceOf(financier.address),
        utilised: (await financing.creditLine(lineId)).utilised,
      };
      if (worst) {
        check(
          state.supplierTokens === 0n &&
            state.supplierHolds === 1n &&
            state.financierHolds === 0n &&
            state.utilised === 0n,
          `${name}: setup is not a first-ever financing (${JSON.stringify(state, (_, v) =>
            typeof v === "bigint" ? v.toString() : v,
          )})`,
        );
      } else {
        check(
          state.supplierTokens > 0n && state.supplierHolds > 1n && state.financierHolds > 0n && state.utilised > 0n,
          `${name}: setup is not an established financing`,
        );
      }
      return { id };
    },
    async ({ id }) => [
      await record("approveFinancing", financing.connect(financier).approveFinancing(id, await approval(id))),
    ],
    async ({ id }) => {
      const a = await approval(id);
      const auth = await signF(financier, "ApproveFinancing", { financier: financier.address, receivableId: id, approval: a });
      return [
        await record(
          "approveFinancingBySig",
          financing.connect(B.relayer).approveFinancingBySig(financier.address, id, a, auth),
        ),
      ];
    },
    async ({ id }, variant) => {
      check(
        (await receivables.ownerOf(id)) === financier.address,
        `${variant}: receivable not assigned to the financier`,
      );
      check((await financing.financing(id)).status === FS.Active, `${variant}: financing not active`);
    },
  );
}

async function repayScenario(name: string, lineKey: 90 | 100 | null): Promise<Measured> {
  const { receivables, financing } = B;
  const buyer = B.buyer;
  return scenario(
    name,
    async () => {
      const id = await accepted(B.supplier);
      if (lineKey !== null) await finance(id, B.lines[lineKey]);
      return { id, amount: (await receivables.receivable(id)).outstanding };
    },
    async ({ id, amount }) => [await record("pay", receivables.connect(buyer).pay(id, amount))],
    async ({ id, amount }) => {
      const auth = await signR(buyer, "Pay", { debtor: buyer.address, receivableId: id, amount });
      return [await record("payBySig", receivables.connect(B.relayer).payBySig(buyer.address, id, amount, auth))];
    },
    async ({ id }, variant) => {
      check((await receivables.receivable(id)).status === RS.Paid, `${variant}: receivable not paid`);
      if (lineKey !== null)
        check((await financing.financing(id)).status === FS.Repaid, `${variant}: financing not repaid`);
    },
  );
}

/**
 * The whole lifecycle. Relayed, financing is either two acts (the holder's request, then the
 * financier's approval: 5 receipts) or, with `oneTx`, one: financeSignedRequestBySig carries the
 * holder's signed request and the financier's signed approval together (4 receipts), as the service
 * relays an offer the financier approves.
 */
async function lifecycleScenario(name: string, first: boolean, oneTx = false): Promise<Measured> {
  const { receivables, financing } = B;
  const supplier = first ? B.newSupplier : B.supplier;
  const financier = first ? B.newFinancier : B.financier;
  const buyer = B.buyer;
  const relayer = B.relayer;
  return scenario(
    name,
    async () => {
      const inv = await invoice(buyer.address);
      return {
        inv,
        att: await attestation(supplier, [inv], false),
        lineId: first ? await openLine(financier, 9_000n) : B.lines[90],
        before: await receivables.balanceOf(supplier.address),
      };
    },
    async ({ inv, att, lineId }) => {
      const id = idOf(inv);
      const txs = [await record("tokenise", receivables.connect(supplier).tokenise(inv, att))];
      txs.push(await record("accept", receivables.connect(buyer).accept(id, termsOf(id))));
      // The holder signs its request; its financier submits it with the approval in one transaction.
      const terms = await reqTerms(lineId, id);
      const request = await signF(supplier, "RequestFinancing", { supplier: supplier.address, receivableId: id, terms });
      const a = await approval(id, lineId);
      txs.push(
        await record(
          "financeSignedRequest",
          financing.connect(financier).financeSignedRequest(supplier.address, id, terms, request, a),
        ),
      );
      const amount = (await receivables.receivable(id)).outstanding;
      txs.push(await record("pay", receivables.connect(buyer).pay(id, amount)));
      return txs;
    },
    async ({ inv, att, lineId }) => {
      const id = idOf(inv);
      let auth = await signR(supplier, "Tokenise", { seller: supplier.address, invoice: inv });
      const txs = [
        await record("tokeniseBySig", receivables.connect(relayer).tokeniseBySig(supplier.address, inv, att, auth)),
      ];
      auth = await signR(buyer, "Accept", { debtor: buyer.address, receivableId: id, ...termsOf(id) });
      txs.push(await record("acceptBySig", receivables.connect(relayer).acceptBySig(buyer.address, id, termsOf(id), auth)));
      const terms = await reqTerms(lineId, id);
      auth = await signF(supplier, "RequestFinancing", { supplier: supplier.address, receivableId: id, terms });
      if (oneTx) {
        const a = await approval(id, lineId);
        const approvalAuth = await signF(financier, "ApproveSignedRequest", {
          financier: financier.address,
          supplier: supplier.address,
          receivableId: id,
          approval: a,
        });
        txs.push(
          await record(
            "financeSignedRequestBySig",
            financing
              .connect(relayer)
              .financeSignedRequestBySig(supplier.address, id, terms, auth, financier.address, a, approvalAuth),
          ),
        );
        const amount = (await receivables.receivable(id)).outstanding;
        auth = await signR(buyer, "Pay", { debtor: buyer.address, receivableId: id, amount });
        txs.push(await record("payBySig", receivables.connect(relayer).payBySig(buyer.address, id, amount, auth)));
        return txs;
      }
      txs.push(
        await record(
          "requestFinancingBySig",
          financing.connect(relayer).requestFinancingBySig(supplier.address, id, terms, auth),
        ),
      );
      const a = await approval(id);
      auth = await signF(financier, "ApproveFinancing", { financier: financier.address, receivableId: id, approval: a });
      txs.push(
        await record(
          "approveFinancingBySig",
          financing.connect(relayer).approveFinancingBySig(financier.address, id, a, auth),
        ),
      );
      const amount = (await receivables.receivable(id)).outstanding;
      auth = await signR(buyer, "Pay", { debtor: buyer.address, receivableId: id, amount });
      txs.push(await record("payBySig", receivables.connect(relayer).payBySig(buyer.address, id, amount, auth)));
      return txs;
    },
    async ({ inv, before }, variant) => {
      check((await receivables.receivable(idOf(inv))).status === RS.Paid, `${variant}: receivable not paid`);
      // Tokenised, then assigned to the financier: the supplier's receivable balance is back where it was.
      const after = await receivables.balanceOf(supplier.address);
      check(
        after === before,
        `${variant}: balanceOf(supplier) went ${bal(before)} → ${bal(after)}, expected ${bal(before)}`,
      );
    },
  );
}

// ------------------------------------------------------------------ the report

type BaselineKey = "empty" | "erc721" | "erc20";

interface Row {
  key: string;
  label: string;
  m: Measured;
  /** Divide the receipts' sum by this (batch rows). */
  per?: number;
  budget?: bigint;
  baseline: BaselineKey;
}

const BASELINE_NAMES: Record<BaselineKey, string> = {
  empty: "empty tx",
  erc721: "ERC721 mint",
  erc20: "ERC20 transfer",
};

function gasOf(txs: Tx[] | undefined, per = 1): bigint | undefined {
  if (txs === undefined) return undefined;
  return sum(txs) / BigInt(per);
}

/** "1 event", "3 events". */
function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? "" : "s"}`;
}

function describeBreakdown(tx: Tx): string {
  const b = tx.breakdown;
  const parts = [`${formatInt(TX_BASE)} base`, `${formatInt(tx.calldataGas)} calldata (${tx.calldataBytes} bytes)`];
  if (b.newSlots) parts.push(`${count(b.newSlots, "new slot")} ${formatInt(b.newSlotGas)}`);
  if (b.updates) parts.push(`${count(b.updates, "slot update")} ${formatInt(b.updateGas)}`);
  if (b.clears) parts.push(`${count(b.clears, "slot")} cleared ${formatInt(b.clearGas)}`);
  if (b.otherWrites) parts.push(`${count(b.otherWrites, "unchanged/repeat write")} ${formatInt(b.otherWriteGas)}`);
  parts.push(`${count(b.coldReads, "cold slot read")} ${formatInt(b.coldReadGas)}`);
  parts.push(`${count(b.events, "event")} ${formatInt(b.eventGas)}`);
  const accounted =
    TX_BASE + tx.calldataGas + b.newSlotGas + b.updateGas + b.clearGas + b.otherWriteGas + b.coldReadGas + b.eventGas;
  const rest = tx.gasUsed + b.refund - accounted;
  parts.push(
    `${formatInt(rest)} other execution (${count(b.calls, "call")} to other contracts, warm reads, hashing, checks)`,
  );
  let s = `${formatInt(tx.gasUsed)} = ${parts.join(" + ")}`;
  if (b.refund > 0n) s += ` − ${formatInt(b.refund)} refund`;
  return s;
}

/** The rows of one measured group, in the order they are measured. */
function rowCollector(): {
  rows: Row[];
  budgeted: (key: string, label: string, m: Measured, budget: bigint, baseline: BaselineKey, per?: number) => void;
  other: (key: string, label: string, m: Measured, baseline: BaselineKey) => void;
} {
  const rows: Row[] = [];
  return {
    rows,
    budgeted: (key, label, m, budget, baseline, per) => {
      rows.push({ key, label, m, budget, baseline, per });
    },
    other: (key, label, m, baseline) => {
      rows.push({ key, label, m, baseline });
    },
  };
}

// ------------------------------------------------------------------ the steps

/** Deploys the ledger and its participants and takes the snapshot every scenario starts from. */
async function setUp(): Promise<void> {
  console.log("Building the base state (ledger, members, balances, allowances, lines) …");
  const latest = BigInt(await time.latest());
  if (latest >= START) {
    throw new Error(
      `the chain's latest block (${latest}) is not before the benchmark's pinned start ${START}; ` +
        `unset HARDHAT_INITIAL_DATE or set it before 2030-01-01`,
    );
  }
  await time.increaseTo(START);
  await buildBase();
  base = await takeSnapshot();
}

/** Plain OpenZeppelin transactions on the same network, the yardsticks of the "vs baseline" column. */
async function measureBaselines(): Promise<Record<BaselineKey, bigint>> {
  const { relayer } = B;
  const empty = await scenario(
    "empty",
    async () => null,
    async () => [await record("transfer 0", relayer.sendTransaction({ to: B.admin.address, value: 0n }))],
  );
  const erc721 = await scenario(
    "erc721",
    async () => ({ to: freshAddress(), id: BigInt(word()) }),
    async ({ to, id }) => [await record("ERC721.mint", B.nft.connect(B.admin).mint(to, id))],
  );
  const erc20 = await scenario(
    "erc20",
    async () => ({ to: freshAddress(), amount: between(1_000_00n, 100_000_00n) }),
    async ({ to, amount }) => [await record("ERC20.transfer", B.erc20.connect(B.admin).transfer(to, amount))],
  );
  return {
    empty: sum(empty.direct),
    erc721: sum(erc721.direct),
    erc20: sum(erc20.direct),
  };
}

/** Budgeted: registering a member, tokenising (single, first, batch) and acceptance. */
async function measureOnboardingAndTokenising(): Promise<Row[]> {
  const { registry, receivables, buyer, supplier, relayer } = B;
  const { rows, budgeted } = rowCollector();
  budgeted(
    "register",
    "register a member",
    await scenario(
      "register",
      async () => ({ account: freshAddress(), kyc: now() + YEAR, entity: word() }),
      async ({ account, kyc, entity }) => [
        await record(
          "register",
          registry.connect(B.operator).register(account, ROLE_BITS.supplier | ROLE_BITS.buyer, kyc, JURISDICTION_CN, entity),
        ),
      ],
      undefined,
      async ({ account }, variant) =>
        check((await registry.member(account)).status === 1n, `${variant}: not registered`),
    ),
    80_000n,
    "erc721",
  );
  budgeted(
    "tokenise-first",
    "tokenise: seller's first receivable",
    await tokeniseScenario("tokenise (first)", B.newSupplier),
    140_000n,
    "erc721",
  );
  budgeted(
    "tokenise",
    "tokenise: seller already holds receivables",
    await tokeniseScenario("tokenise", supplier),
    115_000n,
    "erc721",
  );
  budgeted(
    "batch",
    `tokenise in a batch of ${BATCH}, per invoice`,
    await scenario(
      "tokeniseBatch",
      async () => {
        const invoices: IReceivables.InvoiceStruct[] = [];
        for (let i = 0; i < BATCH; i++) invoices.push(await invoice(buyer.address));
        const att = await attestation(supplier, invoices, true);
        return { invoices, att, before: await receivables.balanceOf(supplier.address) };
      },
      async ({ invoices, att }) => [await record("tokeniseBatch", receivables.connect(supplier).tokeniseBatch(invoices, att))],
      async ({ invoices, att }) => {
        const auth = await signR(supplier, "TokeniseBatch", { seller: supplier.address, invoices });
        return [
          await record(
            "tokeniseBatchBySig",
            receivables.connect(relayer).tokeniseBatchBySig(supplier.address, invoices, att, auth),
          ),
        ];
      },
      async ({ before }, variant) =>
        check((await receivables.balanceOf(supplier.address)) === before + BigInt(BATCH), `${variant}: balance`),
    ),
    65_000n,
    "erc721",
    BATCH,
  );
  budgeted(
    "accept",
    "accept",
    await scenario(
      "accept",
      async () => ({ id: (await issue(supplier, 1))[0] }),
      async ({ id }) => [await record("accept", receivables.connect(buyer).accept(id, termsOf(id)))],
      async ({ id }) => {
        const auth = await signR(buyer, "Accept", { debtor: buyer.address, receivableId: id, ...termsOf(id) });
        return [await record("acceptBySig", receivables.connect(relayer).acceptBySig(buyer.address, id, termsOf(id), auth))];
      },
      async ({ id }, variant) =>
        check((await receivables.receivable(id)).status === RS.Accepted, `${variant}: not accepted`),
    ),
    50_000n,
    "erc20",
  );
  return rows;
}

/** Budgeted: approving financing (established and first-ever parties) and repayment. */
async function measureFinancingAndRepayment(): Promise<Row[]> {
  const { rows, budgeted } = rowCollector();
  budgeted(
    "approve",
    "approve financing: supplier and financier already hold receivables",
    await approveScenario("approve", false),
    150_000n,
    "erc20",
  );
  budgeted(
    "approve-first",
    "approve financing: worst case (first ever)",
    await approveScenario("approve (first ever)", true),
    150_000n,
    "erc20",
  );
  budgeted(
    "repay-90",
    "repay in full: 90% advance (two transfers)",
    await repayScenario("repay 90%", 90),
    90_000n,
    "erc20",
  );
  budgeted(
    "repay-100",
    "repay in full: 100% advance (one transfer)",
    await repayScenario("repay 100%", 100),
    90_000n,
    "erc20",
  );
  budgeted(
    "repay-unfinanced",
    "repay in full: unfinanced",
    await repayScenario("repay unfinanced", null),
    90_000n,
    "erc20",
  );
  return rows;
}

/** Budgeted: a receivable's whole lifecycle, relayed act by act and with financing in one transaction. */
async function measureLifecycles(): Promise<Row[]> {
  const { rows, budgeted } = rowCollector();
  budgeted(
    "lifecycle",
    "whole lifecycle (4 receipts; relayed 5): established participants",
    await lifecycleScenario("lifecycle", false),
    350_000n,
    "erc20",
  );
  budgeted(
    "lifecycle-first",
    "whole lifecycle (4 receipts; relayed 5): first ever",
    await lifecycleScenario("lifecycle (first ever)", true),
    350_000n,
    "erc20",
  );
  budgeted(
    "lifecycle-one-tx",
    "whole lifecycle, financing relayed in one transaction (4 receipts; relayed 4): established participants",
    await lifecycleScenario("lifecycle (financing in one relayed transaction)", false, true),
    350_000n,
    "erc20",
  );
  return rows;
}

/** No budget: requesting financing and opening a credit line. */
async function measureFinancingSetUp(): Promise<Row[]> {
  const { financing, buyer, supplier, financier, relayer } = B;
  const { rows, other } = rowCollector();
  other(
    "request",
    "request financing",
    await scenario(
      "requestFinancing",
      async () => ({ id: await accepted(supplier) }),
      async ({ id }) => [
        await record(
          "requestFinancing",
          financing.connect(supplier).requestFinancing(id, await reqTerms(B.lines[90], id)),
        ),
      ],
      async ({ id }) => {
        const terms = await reqTerms(B.lines[90], id);
        const auth = await signF(supplier, "RequestFinancing", {
          supplier: supplier.address,
          receivableId: id,
          terms,
        });
        return [
          await record(
            "requestFinancingBySig",
            financing.connect(relayer).requestFinancingBySig(supplier.address, id, terms, auth),
          ),
        ];
      },
      async ({ id }, variant) =>
        check((await financing.financing(id)).status === FS.Requested, `${variant}: not requested`),
    ),
    "erc20",
  );
  other(
    "open-line",
    "open credit line",
    await scenario(
      "openCreditLine",
      async () => ({ terms: await lineTerms(8_500n), count: await financing.creditLineCount() }),
      async ({ terms }) => [
        await record(
          "openCreditLine",
          financing.connect(financier).openCreditLine(buyer.address, ethers.ZeroAddress, terms),
        ),
      ],
      async ({ terms }) => {
        const auth = await signF(financier, "OpenCreditLine", {
          financier: financier.address,
          debtor: buyer.address,
          supplier: ethers.ZeroAddress,
          terms,
        });
        return [
          await record(
            "openCreditLineBySig",
            financing
              .connect(relayer)
              .openCreditLineBySig(financier.address, buyer.address, ethers.ZeroAddress, terms, auth),
          ),
        ];
      },
      async ({ count }, variant) =>
        check((await financing.creditLineCount()) === count + 1n, `${variant}: no line opened`),
    ),
    "erc20",
  );
  return rows;
}

/** No budget: split, transfer, credit note and cancellation of a receivable. */
async function measureReceivableUpkeep(): Promise<Row[]> {
  const { receivables, supplier, financier, relayer } = B;
  const { rows, other } = rowCollector();
  other(
    "split",
    "split into 2",
    await scenario(
      "split",
      async () => {
        const id = await accepted(supplier);
        const outstanding = (await receivables.receivable(id)).outstanding;
        const first = (outstanding * 2n) / 5n;
        return { id, amounts: [first, outstanding - first] };
      },
      async ({ id, amounts }) => [await record("split", receivables.connect(supplier).split(id, amounts))],
      async ({ id, amounts }) => {
        const auth = await signR(supplier, "Split", { holder: supplier.address, receivableId: id, amounts });
        return [
          await record("splitBySig", receivables.connect(relayer).splitBySig(supplier.address, id, amounts, auth)),
        ];
      },
      async ({ id }, variant) => check((await receivables.receivable(id)).status === RS.Split, `${variant}: not split`),
    ),
    "erc721",
  );
  other(
    "transfer",
    "transfer (to a financier)",
    await scenario(
      "transfer",
      async () => ({ id: await accepted(supplier) }),
      async ({ id }) => [
        await record(
          "transferFrom",
          receivables.connect(supplier).transferFrom(supplier.address, financier.address, id),
        ),
      ],
      async ({ id }) => {
        const auth = await signR(supplier, "TransferReceivable", {
          holder: supplier.address,
          receivableId: id,
          to: financier.address,
        });
        return [
          await record(
            "transferBySig",
            receivables.connect(relayer).transferBySig(supplier.address, id, financier.address, auth),
          ),
        ];
      },
      async ({ id }, variant) => check((await receivables.ownerOf(id)) === financier.address, `${variant}: not moved`),
    ),
    "erc20",
  );
  other(
    "credit-note",
    "credit note (partial)",
    await scenario(
      "creditNote",
      async () => {
        const id = await accepted(supplier);
        const outstanding = (await receivables.receivable(id)).outstanding;
        return { id, amount: outstanding / 7n, hash: word(), outstanding };
      },
      async ({ id, amount, hash }) => [
        await record("applyCreditNote", receivables.connect(supplier).applyCreditNote(id, amount, hash)),
      ],
      async ({ id, amount, hash }) => {
        const auth = await signR(supplier, "CreditNote", {
          holder: supplier.address,
          receivableId: id,
          amount,
          creditNoteHash: hash,
        });
        return [
          await record(
            "applyCreditNoteBySig",
            receivables.connect(relayer).applyCreditNoteBySig(supplier.address, id, amount, hash, auth),
          ),
        ];
      },
      async ({ id, amount, outstanding }, variant) =>
        check((await receivables.receivable(id)).outstanding === outstanding - amount, `${variant}: not applied`),
    ),
    "erc20",
  );
  other(
    "cancel",
    "cancel",
    await scenario(
      "cancel",
      async () => ({ id: (await issue(supplier, 1))[0] }),
      async ({ id }) => [await record("cancel", receivables.connect(supplier).cancel(id))],
      async ({ id }) => {
        const auth = await signR(supplier, "Cancel", { seller: supplier.address, receivableId: id });
        return [await record("cancelBySig", receivables.connect(relayer).cancelBySig(supplier.address, id, auth))];
      },
      async ({ id }, variant) =>
        check((await receivables.receivable(id)).status === RS.Cancelled, `${variant}: not cancelled`),
    ),
    "erc20",
  );
  return rows;
}

/** No budget: invalidating a nonce in a used and in a fresh bitmap word. */
async function measureNonceInvalidation(): Promise<Row[]> {
  const { receivables, supplier } = B;
  const { rows, other } = rowCollector();
  other(
    "invalidate",
    "invalidateNonce: the word already holds a used nonce",
    await scenario(
      "invalidateNonce",
      async () => ({ nonce: await takeNonce("receivables", supplier) }),
      async ({ nonce }) => [await record("invalidateNonce", receivables.connect(supplier).invalidateNonce(nonce))],
      undefined,
      async ({ nonce }, variant) =>
        check(await receivables.isNonceUsed(supplier.address, nonce), `${variant}: nonce not marked used`),
    ),
    "empty",
  );
  other(
    "invalidate-new-word",
    "invalidateNonce: first nonce of a new block of 256",
    await scenario(
      "invalidateNonce (new word)",
      async () => {
        const nonce = 256n;
        check(
          (await receivables.nonceBitmap(supplier.address, nonce >> 8n)) === 0n,
          "invalidateNonce (new word): word 1 of the supplier is not empty",
        );
        return { nonce };
      },
      async ({ nonce }) => [await record("invalidateNonce", receivables.connect(supplier).invalidateNonce(nonce))],
      undefined,
      async ({ nonce }, variant) =>
        check(
          (await receivables.nonceBitmap(supplier.address, nonce >> 8n)) === 1n << (nonce & 0xffn),
          `${variant}: nonce not marked used`,
        ),
    ),
    "empty",
  );
  return rows;
}

/** No budget: marking a receivable defaulted. Measured last: it moves the clock past the due date
 * and grace period. */
async function measureDefault(): Promise<Row[]> {
  const { receivables, supplier } = B;
  const { rows, other } = rowCollector();
  other(
    "default",
    "markDefaulted",
    await scenario(
      "markDefaulted",
      async () => {
        const id = await accepted(supplier, 2n * DAY);
        await advance(2n * DAY + DEFAULT_PARAMS.gracePeriod + 60n);
        return { id };
      },
      async ({ id }) => [await record("markDefaulted", receivables.connect(supplier).markDefaulted(id))],
      undefined,
      async ({ id }, variant) =>
        check((await receivables.receivable(id)).status === RS.Defaulted, `${variant}: not defaulted`),
    ),
    "erc20",
  );
  process.stdout.write("\n\n");
  return rows;
}

// ------------------------------------------------------------------ the report steps

/**
 * The "within budget" cell of every row, and a line for every budget missed (direct before relayed,
 * in row order).
 */
function checkBudgets(rows: Row[]): { within: string[]; misses: string[] } {
  const misses: string[] = [];
  const within = rows.map((row) => {
    if (row.budget === undefined) return "—";
    const d = gasOf(row.m.direct, row.per) as bigint;
    const r = gasOf(row.m.relayed, row.per);
    const dOk = d <= row.budget;
    const rOk = r === undefined || r <= row.budget;
    let cell = dOk ? "yes" : "NO";
    if (!rOk) cell += " (BySig: NO)";
    if (!dOk) misses.push(`BUDGET MISSED: ${row.label}: direct ${formatInt(d)} > budget ${formatInt(row.budget)}`);
    if (!rOk && r !== undefined) {
      misses.push(`BUDGET MISSED (relayed): ${row.label}: BySig ${formatInt(r)} > budget ${formatInt(row.budget)}`);
    }
    return cell;
  });
  return { within, misses };
}

/** The baseline table and the table of every measured act (gas, budget verdict, ratio to its baseline). */
function renderTables(
  rows: Row[],
  baselines: Record<BaselineKey, bigint>,
  within: string[],
): { table: string; baselineTable: string } {
  const tableRows = rows.map((row, i) => {
    const d = gasOf(row.m.direct, row.per) as bigint;
    const r = gasOf(row.m.relayed, row.per);
    const perNote = row.per ? ` (${formatInt(sum(row.m.direct))} / ${row.per})` : "";
    const perNoteR = row.per && row.m.relayed ? ` (${formatInt(sum(row.m.relayed))} / ${row.per})` : "";
    const ratio = Number(d) / Number(baselines[row.baseline]);
    return [
      row.label,
      formatInt(d) + perNote,
      r === undefined ? "—" : formatInt(r) + perNoteR,
      row.budget === undefined ? "—" : formatInt(row.budget),
      within[i],
      `${ratio.toFixed(ratio < 10 ? 2 : 1)}× ${BASELINE_NAMES[row.baseline]}`,
    ];
  });
  const table = markdownTable(
    ["operation", "direct gas", "relayed (BySig) gas", "budget", "within budget", "vs baseline"],
    tableRows,
    ["l", "r", "r", "r", "l", "l"],
  );
  const baselineTable = markdownTable(
    ["baseline (same run)", "gas"],
    [
      ["empty transaction (0-value transfer to an existing EOA)", formatInt(baselines.empty)],
      ["OpenZeppelin ERC721 mint to a new owner (BaselineERC721.mint)", formatInt(baselines.erc721)],
      ["OpenZeppelin ERC20 transfer to a new holder (BaselineERC20.transfer)", formatInt(baselines.erc20)],
    ],
    ["l", "r"],
  );
  return { table, baselineTable };
}

/** "row label: receipt label" of every receipt whose gas the EIP-7623 calldata floor sets. */
function floorBound(rows: Row[]): string[] {
  return rows.flatMap((row) =>
    [...row.m.direct, ...(row.m.relayed ?? [])]
      .filter((t) => t.floorGas >= t.gasUsed)
      .map((t) => `${row.label}: ${t.label}`),
  );
}

/** Prints the tables, then the budgets missed, the failed checks and the calldata-floor notes. */
function printReport(baselineTable: string, table: string, misses: string[], floorBinding: string[]): void {
  console.log(baselineTable);
  console.log();
  console.log(table);
  console.log();
  for (const line of misses) console.log(line);
  if (misses.length === 0) console.log("All budgets met.");
  for (const line of checkFailures) console.log(`CHECK FAILED: ${line}`);
  for (const line of floorBinding) console.log(`NOTE: the EIP-7623 calldata floor sets the gas of ${line}`);
}

/** Rewrites the gas section of docs/BENCHMARKS.md. */
function writeReport(x: Omit<DocInput, "byKey">, rows: Row[]): void {
  writeBenchmarkSection("gas", buildDocument({ ...x, byKey: new Map(rows.map((r) => [r.key, r])) }));
  console.log(`\nWrote the gas section of docs/BENCHMARKS.md`);
}

async function main(): Promise<void> {
  const started = new Date();
  await setUp();
  process.stdout.write("Measuring ");
  const baselines = await measureBaselines();
  const rows: Row[] = [];
  for (const group of [
    measureOnboardingAndTokenising,
    measureFinancingAndRepayment,
    measureLifecycles,
    measureFinancingSetUp,
    measureReceivableUpkeep,
    measureNonceInvalidation,
    measureDefault,
  ]) {
    rows.push(...(await group()));
  }
  process.stdout.write("\n\n");

  const { within, misses } = checkBudgets(rows);
  const { table, baselineTable } = renderTables(rows, baselines, within);
  const floorBinding = floorBound(rows);
  printReport(baselineTable, table, misses, floorBinding);
  writeReport({ started, baselineTable, table, misses, baselines, floorBinding }, rows);
}

// ------------------------------------------------------------------ docs/BENCHMARKS.md

interface DocInput {
  started: Date;
  baselineTable: string;
  table: string;
  misses: string[];
  baselines: Record<BaselineKey, bigint>;
  byKey: Map<string, Row>;
  floorBinding: string[];
}

/** The contracts compiled with other optimizer runs (hardhat.config.ts overrides), e.g. " (Receivables 800)". */
function runsOverrides(): string {
  const parts = Object.entries(hre.config.solidity.overrides ?? {}).map(([file, c]) => {
    const runs = (c.settings as { optimizer?: { runs?: number } }).optimizer?.runs ?? 0;
    return `${file.replace(/^.*\//, "").replace(/\.sol$/, "")} ${formatInt(runs)}`;
  });
  return parts.length > 0 ? ` (${parts.join(", ")})` : "";
}

function buildDocument(x: DocInput): string {
  const solc = hre.config.solidity.compilers[0];
  const settings = solc.settings as {
    optimizer?: { enabled?: boolean; runs?: number };
    evmVersion?: string;
    viaIR?: boolean;
  };
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const hardhatVersion: string = require("hardhat/package.json").version;
  const hardfork = (hre.config.networks.hardhat as { hardfork?: string }).hardfork ?? "default";
  const row = (k: string): Row => {
    const r = x.byKey.get(k);
    if (r === undefined) throw new Error(`no row ${k}`);
    return r;
  };
  const d = (k: string): bigint => sum(row(k).m.direct) / BigInt(row(k).per ?? 1);
  const rel = (k: string): bigint => sum(row(k).m.relayed ?? []) / BigInt(row(k).per ?? 1);
  const tx0 = (k: string): Tx => row(k).m.direct[0];
  const g = formatInt;
  const b = (k: string) => tx0(k).breakdown;
  const overhead = (k: string) => g(rel(k) - d(k));

  const tokeniseDelta = d("tokenise-first") - d("tokenise");
  const balanceBug = b("tokenise-first").newSlots <= 2;
  const lcSum = (f: (t: Tx) => bigint): bigint => row("lifecycle").m.direct.reduce((acc, t) => acc + f(t), 0n);
  const balanceNote = balanceBug
    ? ` The two rows differ by only ${g(tokeniseDelta)} gas and the first-invoice trace shows ` +
      `${b("tokenise-first").newSlots} new slots, not 3: \`Receivables.tokenise\` never adds the token to ` +
      `\`_holdings\` (only \`tokeniseBatch\` and \`split\` do), so \`balanceOf\` undercounts and these rows ` +
      `are missing the balance write (about 22,100 for a first invoice, 5,000 after). Corrected, the ` +
      `first-invoice row would be about ${g(d("tokenise-first") + 22_100n)} and the other about ` +
      `${g(d("tokenise") + 5_000n)}.`
    : ` The first invoice costs ${g(tokeniseDelta)} more than a later one: the holder's balance slot ` +
      `goes 0 → 1 (a new slot, 22,100) instead of n → n+1 (5,000).`;

  const batchTotal = sum(row("batch").m.direct);
  const singleSaved = d("tokenise") - d("batch");
  const approveDelta = d("approve-first") - d("approve");
  const repayTransfer = d("repay-90") - d("repay-100");
  const routing = d("repay-100") - d("repay-unfinanced");
  const lc = row("lifecycle").m.direct;
  const nonceNew = d("invalidate-new-word");
  const nonceOld = d("invalidate");
  const lcFirst = row("lifecycle-first").m.direct;

  const paragraphs = [
    `**Register a member** (${g(d("register"))}). ${describeBreakdown(tx0("register"))}. The member record ` +
      `packs roles | status | KYC expiry | jurisdiction into one slot and the entity-id hash into a second, so ` +
      `onboarding is two new slots, two cold reads (the operator's role, the existing-member check) and one ` +
      `event. There is no relayed ` +
      `variant: the onboarding operator is the service's own key.`,
    `**Tokenise one invoice** (${g(d("tokenise-first"))} first, ${g(d("tokenise"))} later). ` +
      `${describeBreakdown(tx0("tokenise"))}. The record is two slots, both new: A = holder | outstanding | ` +
      `status | financed and B = debtor | faceValue | dueDate (the ERC-721 owner lives in slot A, so there is ` +
      `no separate owner slot), two registry calls (seller, then debtor: the registry account is cold on the ` +
      `first, each member slot is a cold read) and two events (ERC-721 Transfer and ReceivableTokenised with ` +
      `the document hash).${balanceNote} Relaying costs ${overhead("tokenise")} more for an established seller (the ` +
      `signer and the authorisation — nonce, deadline, 65-byte signature — in calldata, EIP-712 hashing of the ` +
      `invoice, ecrecover, setting the nonce's bit in a bitmap word that already holds a used nonce) and ` +
      `${overhead("tokenise-first")} for a seller's first signed act, whose bitmap word is a new slot.`,
    `**Tokenise in a batch of ${BATCH}** (${g(d("batch"))} per invoice, ${g(batchTotal)} in total). Per invoice ` +
      `the batch still writes the two new record slots (${g(b("batch").newSlotGas / BigInt(BATCH))} per ` +
      `invoice) and emits the two events; the 21,000 base, the seller's registry check, the debtor's ` +
      `registry check (one per run of the same debtor) and the single holder-balance update (+${BATCH}) are ` +
      `shared, which saves ${g(singleSaved)} per invoice against a single tokenise. Calldata is ` +
      `${g(tx0("batch").calldataGas / BigInt(BATCH))} per invoice (five words each). The relayed batch hashes ` +
      `every invoice into the signed struct, ${overhead("batch")} more per invoice.`,
    `**Accept** (${g(d("accept"))}). ${describeBreakdown(tx0("accept"))}. One write: the status byte of slot A ` +
      `(the slot is already non-zero, so an update, not a new slot). Before it, slot B is read for the debtor ` +
      `and the registry is asked whether the debtor is a verified buyer. Relayed: +${overhead("accept")}.`,
    `**Approve financing** (${g(d("approve"))} established, ${g(d("approve-first"))} first ever). ` +
      `${describeBreakdown(tx0("approve"))}. One transaction does the assignment (slot A of the receivable: ` +
      `holder, status and financed flag in one write; supplier's and financier's receivable balances), the ` +
      `financing record (status and principal, one slot), the line's utilisation (slot 2 of the line), and the ` +
      `payment of advance − discount from the financier to the supplier (two settlement-token balances). It ` +
      `asks the registry four times (financier and supplier in Financing, both ends of the token transfer) and ` +
      `calls Receivables and the token. OpenZeppelin's \`_approve(address(0), …)\` clears a token approval ` +
      `that is already empty, a cold write of an unchanged value (2,200). The first-ever case ` +
      `(${describeBreakdown(tx0("approve-first"))}) is ${g(approveDelta)} dearer: the financier's receivable ` +
      `balance, the supplier's settlement-token balance and the fresh line's utilisation are new slots ` +
      `(0 → non-zero), while the supplier's receivable balance goes to zero (a refund). Relayed: ` +
      `+${overhead("approve")} established, +${overhead("approve-first")} when the financier's first nonce opens a ` +
      `new bitmap word.`,
    `**Repay in full** (${g(d("repay-90"))} at a 90% advance, ${g(d("repay-100"))} at 100%, ` +
      `${g(d("repay-unfinanced"))} unfinanced). 90%: ${describeBreakdown(tx0("repay-90"))}. The receivable's ` +
      `slot A (outstanding → 0, status Paid), then Financing.onRepayment updates the financing record ` +
      `(principal → 0, Repaid) and the line's utilisation, then two settlement-token transfers from the debtor: ` +
      `the principal to the financier and the reserve to the supplier. At a 100% advance the reserve is zero ` +
      `and its transfer is skipped, saving ${g(repayTransfer)}; the routing through Financing costs ` +
      `${g(routing)} over an unfinanced repayment, which is one write and one transfer to the holder ` +
      `(${describeBreakdown(tx0("repay-unfinanced"))}). Each transfer asks the registry for both ends. ` +
      `Relayed: +${overhead("repay-90")}.`,
    `**Whole lifecycle** (${g(d("lifecycle"))} established, ${g(d("lifecycle-first"))} first ever). ` +
      `Established: ${lc.map((t) => `${t.label} ${g(t.gasUsed)}`).join(" + ")}. First ever (new supplier, new ` +
      `financier, new line): ${lcFirst.map((t) => `${t.label} ${g(t.gasUsed)}`).join(" + ")}. Across the ${lc.length} ` +
      `established receipts: ${g(BigInt(lc.length) * TX_BASE)} in bases, ${g(lcSum((t) => t.calldataGas))} calldata, ` +
      `${lcSum((t) => BigInt(t.breakdown.newSlots))} new slots (${g(lcSum((t) => t.breakdown.newSlotGas))}: the ` +
      `two record slots at tokenisation and the financing record, written once when the financier submits ` +
      `the holder's signed request with its approval), ` +
      `${lcSum((t) => BigInt(t.breakdown.updates + t.breakdown.clears))} updates ` +
      `(${g(lcSum((t) => t.breakdown.updateGas + t.breakdown.clearGas))}), ` +
      `${lcSum((t) => BigInt(t.breakdown.coldReads))} cold slot reads ` +
      `(${g(lcSum((t) => t.breakdown.coldReadGas))}), ${lcSum((t) => BigInt(t.breakdown.events))} events ` +
      `(${g(lcSum((t) => t.breakdown.eventGas))}) and ${lcSum((t) => BigInt(t.breakdown.calls))} calls between ` +
      `the contracts. Each transaction pays a base and re-reads the same cold state (registry members, ` +
      `the receivable record); approving the signed request in the financier's own transaction saves a ` +
      `base and the request's storage write. Relaying every act (request and approval separately) adds ${overhead("lifecycle")} for established ` +
      `participants and ${overhead("lifecycle-first")} first ever, where three of the five nonces open a new ` +
      `bitmap word (the new supplier's on Receivables and on Financing, the new financier's). Relayed with ` +
      `financing in one transaction (financeSignedRequestBySig: the holder's signed request and the financier's ` +
      `signed approval together, as the service relays an approved offer), the lifecycle is ${g(rel("lifecycle-one-tx"))} ` +
      `in 4 receipts (${(row("lifecycle-one-tx").m.relayed ?? []).map((t) => `${t.label} ${g(t.gasUsed)}`).join(" + ")}): ` +
      `${g(rel("lifecycle") - rel("lifecycle-one-tx"))} less than relaying request and approval apart, and ` +
      `${g(rel("lifecycle-one-tx") - d("lifecycle"))} more than the financier submitting the request itself (a second ` +
      `signature and nonce, and every act's signature in calldata).` +
      (balanceBug
        ? ` With the holder-balance defect above, the first-ever supplier's receivable balance is still 0 when ` +
          `the financier is assigned the receivable, and the unchecked decrement wraps it to 2^256 − 1: that ` +
          `approval pays a new slot (${g(lcFirst[2].gasUsed)} against ${g(d("approve-first"))} in the ` +
          `first-ever approval row) in place of the balance write tokenise skipped.`
        : ""),
    `**Unordered nonces** (invalidateNonce ${g(nonceOld)} in a word already in use, ${g(nonceNew)} opening a ` +
      `new one). A relayed act carries any nonce its signer has not used on that contract; the contract sets ` +
      `bit \`nonce % 256\` of the signer's bitmap word \`nonce / 256\`. A signer's first act in each block of ` +
      `256 nonces turns that word from zero to non-zero, a fresh slot (22,100 gas with its cold access); every ` +
      `later act in the block updates the word (5,000: a 2,100 cold read and a 2,900 write), the same prices ` +
      `as the sequential counter the contracts used before. invalidateNonce shows the two alone ` +
      `(${describeBreakdown(tx0("invalidate-new-word"))}; against ${describeBreakdown(tx0("invalidate"))}): ` +
      `${g(nonceNew - nonceOld)} apart. Nonces drawn consecutively per signer and contract, as here, keep 255 ` +
      `of every 256 acts on the update; scattered random nonces would pay the fresh slot nearly every time. ` +
      `What the unordered scheme does add is calldata and decoding: the nonce now travels with the deadline and ` +
      `signature in an \`Authorization\` struct (one more word plus the struct's offset), which adds roughly 500 gas ` +
      `to every relayed act against the sequential counter, whose nonce the contract read from storage (relaying ` +
      `overhead with the sequential counter → now: tokenise +15,264 → +${overhead("tokenise")}, accept +14,707 → ` +
      `+${overhead("accept")}, approve financing +14,662 → +${overhead("approve")}).`,
  ];

  const missesText = x.misses.length === 0 ? "All budgets met." : x.misses.map((m) => `- **${m}**`).join("\n");
  const checksText =
    checkFailures.length === 0
      ? ""
      : `\n\n**Checks that failed** (the state after the measured transaction was not what the act ` +
        `promises; the affected numbers are not final):\n\n${checkFailures.map((c) => `- ${c}`).join("\n")}`;
  const floorText =
    x.floorBinding.length === 0
      ? "The EIP-7623 calldata floor (Prague) binds for none of the transactions, and no opcode or precompile " +
        "these contracts use was repriced after Cancun, so the numbers hold on a Cancun chain (the evmVersion the contracts target)."
      : `The EIP-7623 calldata floor sets the gas of: ${x.floorBinding.join("; ")}.`;

  return [
    "## Gas per operation",
    "",
    "Receipt `gasUsed` of each act on the in-process Hardhat network, sent directly by its participant and,",
    "beside it, as the relayed `…BySig` variant (sent by a separate relayer account carrying the participant's",
    'EIP-712 signature). Both variants of a row start from the same state (EVM snapshot). "Established"',
    "participants already hold receivables, settlement tokens, used credit lines and used nonces (their next",
    'nonce falls in a bitmap word already in use); "first ever" ones have none, so their first nonce on a',
    "contract opens a new word. Every allowance is MaxUint256 and set beforehand, so no measured transfer writes",
    "an allowance. The budget is judged on the direct gas; a relayed variant over budget is flagged too.",
    "Figures repeat exactly from run to run: calldata comes from a fixed seed, and every signed time (expiries,",
    "due dates, deadlines) is a constant offset from a pinned start the chain is moved to at set-up.",
    "",
    x.baselineTable,
    "",
    x.table,
    "",
    missesText + checksText,
    "",
    `- Command: \`npm run bench:gas\` (\`hardhat run scripts/bench-gas.ts\`)`,
    `- Date: ${x.started.toISOString()}`,
    `- Machine: ${machineDescription()}`,
    `- Node ${process.version}, Hardhat ${hardhatVersion} (in-process network, hardfork ${hardfork})`,
    `- solc ${solc.version}, optimizer ${settings.optimizer?.enabled ? "on" : "off"} runs ` +
      `${formatInt(settings.optimizer?.runs ?? 0)}${runsOverrides()}, evmVersion ${settings.evmVersion}` +
      `${settings.viaIR ? ", via IR" : ""}`,
    `- ${floorText}`,
    "",
    "### Where the gas goes",
    "",
    "Each breakdown is read from the transaction's trace (`debug_traceTransaction`): the 21,000 base, calldata",
    "(4 gas per zero byte, 16 per other byte), storage writes by kind as priced at the SSTORE (new slot 0 →",
    "non-zero 20,000; update 2,900; clear to zero 2,900 with a 4,800 refund; unchanged value or a slot already",
    "written in the same transaction 100), cold slot reads (2,100 each: the first touch of a slot pays 2,100",
    "more, and a packed field is read before it is written, so the cold charge usually lands on that read; a",
    "write to a slot not read before costs 22,100 / 5,000 / 2,200 instead), events (LOG opcodes), and the rest",
    "of the execution (calls and cold contract accounts, warm reads, memory, hashing, ecrecover, checks).",
    "",
    paragraphs.join("\n\n"),
  ].join("\n");
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
