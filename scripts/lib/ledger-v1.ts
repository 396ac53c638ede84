/**
 * Ledger version 1, as far as the upgrade needs it: the ABI fragments of the v1 contracts (only
 * the views, events and admin calls read or used here — the v1 sources are not kept in this tree)
 * and a reader that takes a complete snapshot of a v1 ledger's state at one block.
 *
 * What v1 kept where (its storage is private, so everything comes from views and logs):
 *   - members: `MemberRegistered` logs name every account; `member(account)` gives roles, status,
 *     KYC expiry, jurisdiction and entity-id hash; the last `MemberSuspended` log the reason;
 *   - receivables: `ReceivableTokenised` logs (seller, document hash) and `ReceivableSplit` logs
 *     (children: the splitting holder is their seller) name every id ever minted, cancelled and
 *     split ones included; `receivable(id)` gives holder, debtor, amounts, due date, status,
 *     financed and parent. A v1 id IS its v1 fingerprint (`uint256(fingerprint)`);
 *   - credit lines: ids 1..`creditLineCount()`, `creditLine(id)`;
 *   - financings: `FinancingRequested` logs name every receivable ever put to a line;
 *     `financing(id)` gives supplier, line, status and the principal still owed; the approval's
 *     advance and payout come from `FinancingApproved`, a rejection's reason from `FinancingRejected`;
 *   - settlement token: every address a `Transfer` log names, with `balanceOf`; `totalSupply`.
 * Every view is read at the snapshot block, so the snapshot is one consistent state.
 */
import { Contract, Interface, type Log, type Provider } from "ethers";
import { receivableIdHex } from "../../shared/ids";

export const V1_REGISTRY_ABI = [
  "event MemberRegistered(address indexed account, uint8 roles, uint48 kycExpiry, bytes2 jurisdiction, bytes32 indexed entityIdHash)",
  "event MemberSuspended(address indexed account, bytes32 indexed reasonCode)",
  "event MemberReinstated(address indexed account)",
  "function member(address account) view returns (tuple(uint8 roles, uint8 status, uint48 kycExpiry, bytes2 jurisdiction, bytes32 entityIdHash))",
  "function suspend(address account, bytes32 reasonCode)",
];

export const V1_RECEIVABLES_ABI = [
  "event ReceivableTokenised(uint256 indexed id, address indexed seller, address indexed debtor, uint256 faceValue, uint256 dueDate, bytes32 documentHash)",
  "event ReceivableSplit(uint256 indexed parentId, uint256 indexed childId, address indexed holder, uint256 amount)",
  "event ReceivablePaid(uint256 indexed id, address indexed debtor, address indexed holder, uint256 amount, uint256 outstanding)",
  "function receivable(uint256 id) view returns (tuple(uint256 id, address holder, address debtor, uint256 faceValue, uint256 outstanding, uint256 dueDate, uint8 status, bool financed, uint256 parentId))",
  "function transferFrom(address from, address to, uint256 tokenId)",
];

export const V1_FINANCING_ABI = [
  "event FinancingRequested(uint256 indexed receivableId, uint256 indexed lineId, address indexed supplier)",
  "event FinancingRejected(uint256 indexed receivableId, uint256 indexed lineId, bytes32 reasonCode)",
  "event FinancingApproved(uint256 indexed receivableId, uint256 indexed lineId, address indexed financier, address supplier, uint256 advance, uint256 paid)",
  "function creditLineCount() view returns (uint256)",
  "function creditLine(uint256 lineId) view returns (tuple(uint256 id, address financier, address debtor, address supplier, uint256 limit, uint256 utilised, uint256 maxAdvanceBps, uint256 discountBps, uint256 expiry, bool open))",
  "function financing(uint256 receivableId) view returns (tuple(uint256 receivableId, address supplier, uint256 lineId, uint8 status, uint256 principal))",
];

export const V1_TOKEN_ABI = [
  "event Transfer(address indexed from, address indexed to, uint256 value)",
  "function balanceOf(address) view returns (uint256)",
  "function totalSupply() view returns (uint256)",
  "function paused() view returns (bool)",
  "function pause()",
  "function transfer(address to, uint256 amount) returns (bool)",
  "function hasRole(bytes32 role, address account) view returns (bool)",
];

/** v1 status enums, by index. */
export const V1_MEMBER_STATUS = ["none", "active", "suspended"] as const;
export const V1_RECEIVABLE_STATUS = ["none", "issued", "accepted", "financed", "paid", "defaulted", "cancelled", "split"] as const;
export const V1_FINANCING_STATUS = ["none", "requested", "rejected", "active", "repaid", "written_off"] as const;

/** The reason code v1 members are suspended with when their ledger is closed by an upgrade. */
export const UPGRADE_SUSPENSION_REASON = "0x" + Buffer.from("LEDGER_UPGRADED").toString("hex").padEnd(64, "0");

export interface V1Addresses {
  ParticipantRegistry: string;
  SettlementToken: string;
  Receivables: string;
  Financing: string;
}

/** Every amount and id as a decimal string or 0x hex, so the snapshot is plain JSON. */
export interface V1Member {
  account: string;
  roles: number;
  /** The status before the upgrade closed the v1 ledger (a suspension by the upgrade does not count). */
  status: "active" | "suspended";
  suspensionReason: string | null;
  kycExpiry: number;
  /** Two ASCII letters. */
  jurisdiction: string;
  /** bytes2 as 0x hex, as the contracts take it. */
  jurisdictionHex: string;
  entityIdHash: string;
  registeredBlock: number;
}

export interface V1Receivable {
  /** 0x + 64 hex digits (the v1 fingerprint for a root). */
  id: string;
  parentId: string | null;
  seller: string;
  debtor: string;
  /** Null once burned (cancelled or split). */
  holder: string | null;
  faceValue: string;
  outstanding: string;
  dueDate: number;
  status: (typeof V1_RECEIVABLE_STATUS)[number];
  financed: boolean;
  /** The invoice document's hash (roots); children carry their root's. */
  documentHash: string;
  /** Root first, then children in the order they were split off (parents always before children). */
  order: number;
  createdBlock: number;
}

export interface V1CreditLine {
  id: number;
  financier: string;
  debtor: string | null;
  supplier: string | null;
  limit: string;
  utilised: string;
  maxAdvanceBps: number;
  discountBps: number;
  expiry: number;
  open: boolean;
}

export interface V1Financing {
  receivableId: string;
  lineId: number;
  supplier: string;
  financier: string;
  status: (typeof V1_FINANCING_STATUS)[number];
  /** What is still owed to the financier. */
  principal: string;
  /** Set once approved. */
  advance: string | null;
  paidToSupplier: string | null;
  rejectReason: string | null;
}

/** A v1 payment (its ReceivablePaid event), in chain order. */
export interface V1Payment {
  txHash: string;
  logIndex: number;
  receivableId: string;
  debtor: string;
  holder: string;
  amount: string;
  outstandingAfter: string;
  blockNumber: number;
  timestamp: number;
}

export interface V1Balance {
  account: string;
  balance: string;
}

export interface V1Snapshot {
  ledgerVersion: 1;
  chainId: string;
  block: number;
  blockHash: string;
  takenAt: string;
  contracts: V1Addresses;
  tokenPaused: boolean;
  totalSupply: string;
  members: V1Member[];
  receivables: V1Receivable[];
  creditLines: V1CreditLine[];
  financings: V1Financing[];
  balances: V1Balance[];
  /** Absent in a snapshot an earlier version of the upgrade wrote. */
  payments?: V1Payment[];
}

const ZERO = "0x0000000000000000000000000000000000000000";
const orNull = (a: string) => (a === ZERO ? null : a);

async function logsOf(provider: Provider, address: string, iface: Interface, event: string, from: number, to: number): Promise<Log[]> {
  const topic = iface.getEvent(event)!.topicHash;
  const out: Log[] = [];
  const STEP = 50_000;
  for (let start = from; start <= to; start += STEP) {
    out.push(...(await provider.getLogs({ address, topics: [topic], fromBlock: start, toBlock: Math.min(to, start + STEP - 1) })));
  }
  return out.sort((a, b) => a.blockNumber - b.blockNumber || a.index - b.index);
}

/** Runs `fn` over `items`, `n` at a time, keeping the order. */
async function mapLimit<T, R>(items: T[], n: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(n, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]);
      }
    }),
  );
  return out;
}

/** Reads the whole state of a v1 ledger at `block` (from its deployment block `fromBlock`). */
export async function readV1Snapshot(provider: Provider, addresses: V1Addresses, fromBlock: number, block: number): Promise<V1Snapshot> {
  const at = { blockTag: block };
  const regI = new Interface(V1_REGISTRY_ABI);
  const recI = new Interface(V1_RECEIVABLES_ABI);
  const finI = new Interface(V1_FINANCING_ABI);
  const tokI = new Interface(V1_TOKEN_ABI);
  const registry = new Contract(addresses.ParticipantRegistry, regI, provider);
  const receivables = new Contract(addresses.Receivables, recI, provider);
  const financing = new Contract(addresses.Financing, finI, provider);
  const token = new Contract(addresses.SettlementToken, tokI, provider);
  const header = await provider.getBlock(block);
  if (!header) throw new Error(`block ${block} not found`);

  // ---- members
  const registered = await logsOf(provider, addresses.ParticipantRegistry, regI, "MemberRegistered", fromBlock, block);
  const suspensions = await logsOf(provider, addresses.ParticipantRegistry, regI, "MemberSuspended", fromBlock, block);
  const lastReason = new Map<string, string>();
  for (const l of suspensions) {
    const p = regI.parseLog(l)!;
    const account = p.args.account as string;
    const reason = p.args.reasonCode as string;
    lastReason.set(account, reason);
  }
  const accounts = [...new Map(registered.map((l) => [regI.parseLog(l)!.args.account as string, l.blockNumber])).entries()];
  const members = await mapLimit(accounts, 20, async ([account, registeredBlock]): Promise<V1Member> => {
    const m = await registry.member(account, at);
    const raw = V1_MEMBER_STATUS[Number(m.status)];
    // A suspension by the upgrade itself (the v1 ledger being closed) is not the member's status.
    const byUpgrade = raw === "suspended" && lastReason.get(account) === UPGRADE_SUSPENSION_REASON;
    const status = raw === "suspended" && !byUpgrade ? "suspended" : "active";
    const jurisdictionHex = m.jurisdiction as string;
    return {
      account,
      roles: Number(m.roles),
      status,
      suspensionReason: status === "suspended" ? (lastReason.get(account) ?? null) : null,
      kycExpiry: Number(m.kycExpiry),
      jurisdiction: Buffer.from(jurisdictionHex.slice(2), "hex").toString("latin1"),
      jurisdictionHex,
      entityIdHash: m.entityIdHash as string,
      registeredBlock,
    };
  });

  // ---- receivables (roots, then split children, in chain order: parents before children)
  const minted: Array<{ id: bigint; parent: bigint | null; seller: string; documentHash: string | null; block: number }> = [];
  const tokenised = await logsOf(provider, addresses.Receivables, recI, "ReceivableTokenised", fromBlock, block);
  const splits = await logsOf(provider, addresses.Receivables, recI, "ReceivableSplit", fromBlock, block);
  const all = [...tokenised.map((l) => ({ l, kind: "t" as const })), ...splits.map((l) => ({ l, kind: "s" as const }))].sort(
    (a, b) => a.l.blockNumber - b.l.blockNumber || a.l.index - b.l.index,
  );
  const docOf = new Map<bigint, string>();
  for (const { l, kind } of all) {
    const p = recI.parseLog(l)!;
    if (kind === "t") {
      const id = p.args.id as bigint;
      docOf.set(id, p.args.documentHash as string);
      minted.push({ id, parent: null, seller: p.args.seller as string, documentHash: p.args.documentHash as string, block: l.blockNumber });
    } else {
      const id = p.args.childId as bigint;
      const parent = p.args.parentId as bigint;
      docOf.set(id, docOf.get(parent) ?? "0x" + "0".repeat(64));
      minted.push({ id, parent, seller: p.args.holder as string, documentHash: null, block: l.blockNumber });
    }
  }
  const receivableRows = await mapLimit(minted, 20, async (r): Promise<V1Receivable> => {
    const v = await receivables.receivable(r.id, at);
    const parentId = BigInt(v.parentId as bigint);
    return {
      id: receivableIdHex(r.id),
      parentId: parentId === 0n ? null : receivableIdHex(parentId),
      seller: r.seller,
      debtor: v.debtor as string,
      holder: orNull(v.holder as string),
      faceValue: (v.faceValue as bigint).toString(),
      outstanding: (v.outstanding as bigint).toString(),
      dueDate: Number(v.dueDate),
      status: V1_RECEIVABLE_STATUS[Number(v.status)],
      financed: v.financed as boolean,
      documentHash: r.documentHash ?? docOf.get(r.id)!,
      order: 0,
      createdBlock: r.block,
    };
  });
  receivableRows.forEach((r, i) => (r.order = i));

  // ---- credit lines
  const lineCount = Number(await financing.creditLineCount(at));
  const lineIds = Array.from({ length: lineCount }, (_, i) => i + 1);
  const creditLines = await mapLimit(lineIds, 20, async (id): Promise<V1CreditLine> => {
    const v = await financing.creditLine(id, at);
    return {
      id,
      financier: v.financier as string,
      debtor: orNull(v.debtor as string),
      supplier: orNull(v.supplier as string),
      limit: (v.limit as bigint).toString(),
      utilised: (v.utilised as bigint).toString(),
      maxAdvanceBps: Number(v.maxAdvanceBps),
      discountBps: Number(v.discountBps),
      expiry: Number(v.expiry),
      open: v.open as boolean,
    };
  });
  const financierOf = new Map(creditLines.map((l) => [l.id, l.financier]));

  // ---- financings
  const requested = await logsOf(provider, addresses.Financing, finI, "FinancingRequested", fromBlock, block);
  const approved = await logsOf(provider, addresses.Financing, finI, "FinancingApproved", fromBlock, block);
  const rejected = await logsOf(provider, addresses.Financing, finI, "FinancingRejected", fromBlock, block);
  const approval = new Map<bigint, { advance: bigint; paid: bigint }>();
  for (const l of approved) {
    const p = finI.parseLog(l)!;
    approval.set(p.args.receivableId as bigint, { advance: p.args.advance as bigint, paid: p.args.paid as bigint });
  }
  const rejection = new Map<bigint, string>();
  for (const l of rejected) {
    const p = finI.parseLog(l)!;
    rejection.set(p.args.receivableId as bigint, p.args.reasonCode as string);
  }
  const financedIds = [...new Set(requested.map((l) => finI.parseLog(l)!.args.receivableId as bigint))];
  const financings = await mapLimit(financedIds, 20, async (rid): Promise<V1Financing> => {
    const v = await financing.financing(rid, at);
    const status = V1_FINANCING_STATUS[Number(v.status)];
    const a = status === "active" || status === "repaid" || status === "written_off" ? approval.get(rid) : undefined;
    const lineId = Number(v.lineId);
    return {
      receivableId: receivableIdHex(rid),
      lineId,
      supplier: v.supplier as string,
      financier: financierOf.get(lineId)!,
      status,
      principal: (v.principal as bigint).toString(),
      advance: a ? a.advance.toString() : null,
      paidToSupplier: a ? a.paid.toString() : null,
      rejectReason: status === "rejected" ? (rejection.get(rid) ?? null) : null,
    };
  });

  // ---- payments (history: the receivables above hold what they left)
  const paidLogs = await logsOf(provider, addresses.Receivables, recI, "ReceivablePaid", fromBlock, block);
  const times = new Map<number, number>();
  await mapLimit([...new Set(paidLogs.map((l) => l.blockNumber))], 20, async (n) => times.set(n, (await provider.getBlock(n))!.timestamp));
  const payments = paidLogs.map((l): V1Payment => {
    const p = recI.parseLog(l)!;
    return {
      txHash: l.transactionHash,
      logIndex: l.index,
      receivableId: receivableIdHex(p.args.id as bigint),
      debtor: p.args.debtor as string,
      holder: p.args.holder as string,
      amount: (p.args.amount as bigint).toString(),
      outstandingAfter: (p.args.outstanding as bigint).toString(),
      blockNumber: l.blockNumber,
      timestamp: times.get(l.blockNumber)!,
    };
  });

  // ---- settlement token
  const transfers = await logsOf(provider, addresses.SettlementToken, tokI, "Transfer", fromBlock, block);
  const holders = new Set<string>();
  for (const l of transfers) {
    const p = tokI.parseLog(l)!;
    for (const a of [p.args.from as string, p.args.to as string]) if (a !== ZERO) holders.add(a);
  }
  const balances = (
    await mapLimit([...holders].sort(), 20, async (account) => ({ account, balance: ((await token.balanceOf(account, at)) as bigint).toString() }))
  ).filter((b) => b.balance !== "0");

  return {
    ledgerVersion: 1,
    chainId: (await provider.getNetwork()).chainId.toString(),
    block,
    blockHash: header.hash!,
    takenAt: new Date().toISOString(),
    contracts: addresses,
    tokenPaused: (await token.paused(at)) as boolean,
    totalSupply: ((await token.totalSupply(at)) as bigint).toString(),
    members,
    receivables: receivableRows,
    creditLines,
    financings,
    balances,
    payments,
  };
}

/** Counts per kind, for the summary and the report. */
export function snapshotCounts(s: V1Snapshot): Record<string, number> {
  const by = (st: string) => s.receivables.filter((r) => r.status === st).length;
  return {
    members: s.members.length,
    receivables: s.receivables.length,
    "receivables.roots": s.receivables.filter((r) => r.parentId === null).length,
    "receivables.children": s.receivables.filter((r) => r.parentId !== null).length,
    "receivables.cancelled": by("cancelled"),
    "receivables.split": by("split"),
    creditLines: s.creditLines.length,
    financings: s.financings.length,
    balances: s.balances.length,
    payments: s.payments?.length ?? 0,
  };
}
