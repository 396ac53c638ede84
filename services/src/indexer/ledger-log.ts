/**
 * From raw chain logs to ledger-event rows, and from rows to the database: the pieces the indexer
 * and the audit verification (which refolds the chain into a throwaway database) must share, so
 * that a verification compares the live tables with exactly what the indexer would have written.
 * Nothing here keeps state beyond the contract addresses it decodes for.
 */
import { Interface, getAddress, type EventFragment, type JsonRpcProvider } from "ethers";
import type { EntityManager } from "typeorm";
import { FINANCING_INTERFACE, RECEIVABLES_INTERFACE, REGISTRY_INTERFACE, TOKEN_INTERFACE } from "../chain/ledger-abi";
import type { DeploymentRecord } from "../chain/deployment";
import { LedgerEventEntity, LedgerEventPartyEntity } from "../read-model/entities/ledger-event.entity";
import { ACTOR_ARG, ProjectionWriter, RECEIVABLE_ARG, resolveActor } from "../read-model/projector";
import { receivableIdHex } from "../../../shared/ids";
import { insertRows } from "../database/bulk";

const ZERO_ADDRESS = "0x0000000000000000000000000000000000000000";
const ADDRESS = /^0x[0-9a-fA-F]{40}$/;

/** The chain moved under a reader (a block or a log is from another fork): retry later. */
export class ReorgDetected extends Error {}

/** A block as eth_getBlockByNumber returns it; transactions only when asked for (with senders). */
export interface RpcBlock {
  number: string;
  hash: string;
  parentHash: string;
  timestamp: string;
  transactions: Array<{ hash: string; from: string; transactionIndex: string }>;
}

/** The block the indexer's first checkpoint sits on: just below the deployment, since nothing of
 * ours exists before it; indexing (and any recomputation) starts at the block after it. */
export function indexerStartBlock(deploymentBlock: number): number {
  return Math.max(0, deploymentBlock - 10);
}

/** Reads block `n`; with `withTxs`, its transactions' senders are EIP-55 checksummed. */
export async function readRpcBlock(provider: JsonRpcProvider, n: number, withTxs: boolean): Promise<RpcBlock> {
  const b = (await provider.send("eth_getBlockByNumber", ["0x" + n.toString(16), withTxs])) as RpcBlock | null;
  if (!b) throw new ReorgDetected(`block ${n} not found`);
  // Only what the decoder reads: a transaction's calldata (tens of KB for a batch) is not kept.
  b.transactions = withTxs ? b.transactions.map((t) => ({ hash: t.hash, from: getAddress(t.from), transactionIndex: t.transactionIndex })) : [];
  return b;
}

interface EventDecoder {
  contract: string;
  /** The contract's address, EIP-55 checksummed. */
  address: string;
  iface: Interface;
  fragment: EventFragment;
  /** Argument names in ABI order, and which of them is the receivable id / the actor. */
  names: string[];
  /** For events whose arguments are all static words (addresses, integers, bytesN, bools): where
   * each argument sits (topic index, or word index in the data) and how to read it. */
  fast: Array<{ topic: number | null; word: number; kind: "address" | "uint" | "int" | "bytes" | "bool"; bits: number }> | null;
  receivableArg: string | undefined;
  /** Where the receivable id sits when it is a uint read by decodeStatic: its 64 hex digits are the id's
   * canonical form already (no decimal round trip through BigInt). */
  receivableWord: { topic: number | null; word: number } | null;
  actorArg: string | undefined;
}

/** The fields of a log the decoder reads (ethers' Log has them; so does readLogs' output). */
export interface ChainLog {
  address: string;
  topics: readonly string[];
  data: string;
  blockNumber: number;
  blockHash: string;
  transactionHash: string;
  transactionIndex: number;
  index: number;
}

interface RpcLog {
  address: string;
  topics: string[];
  data: string;
  blockNumber: string;
  blockHash: string;
  transactionHash: string;
  transactionIndex: string;
  logIndex: string;
  removed?: boolean;
}

/**
 * eth_getLogs for `addresses` over [from, to], as plain objects: ethers' getLogs builds a Log
 * object per entry (with checks the indexer repeats anyway), a fifth of the indexer's time.
 */
export async function readLogs(provider: JsonRpcProvider, addresses: string[], from: number, to: number): Promise<ChainLog[]> {
  const raw = (await provider.send("eth_getLogs", [
    { address: addresses, fromBlock: "0x" + from.toString(16), toBlock: "0x" + to.toString(16) },
  ])) as RpcLog[];
  return raw
    .filter((l) => !l.removed)
    .map((l) => ({
      address: l.address,
      topics: l.topics,
      data: l.data,
      blockNumber: Number(l.blockNumber),
      blockHash: l.blockHash,
      transactionHash: l.transactionHash,
      transactionIndex: Number(l.transactionIndex),
      index: Number(l.logIndex),
    }));
}

/** Decodes the four ledger contracts' logs into ledger-event rows. */
export class LedgerLogDecoder {
  /** address → topic0 → decoder, built once: ethers' parseLog re-hashes every event signature
   * of the ABI for each log it is given, which was 40 % of the indexer's time. */
  private readonly decoders = new Map<string, Map<string, EventDecoder>>();
  private readonly blockTxs = new WeakMap<RpcBlock, Map<string, string>>();

  constructor(contracts: DeploymentRecord["contracts"]) {
    const abis: Array<[string, string, Interface]> = [
      ["ParticipantRegistry", contracts.ParticipantRegistry, REGISTRY_INTERFACE],
      ["SettlementToken", contracts.SettlementToken, TOKEN_INTERFACE],
      ["Receivables", contracts.Receivables, RECEIVABLES_INTERFACE],
      ["Financing", contracts.Financing, FINANCING_INTERFACE],
    ];
    for (const [contract, address, iface] of abis) {
      const byTopic = new Map<string, EventDecoder>();
      iface.forEachEvent((fragment) => {
        if (fragment.anonymous) return;
        const names = fragment.inputs.map((i) => i.name);
        let topic = 1;
        let word = 0;
        const fast: NonNullable<EventDecoder["fast"]> = [];
        for (const input of fragment.inputs) {
          const m = /^(address|bool|uint|int|bytes)(\d*)$/.exec(input.type);
          const static32 = m && !(m[1] === "bytes" && !m[2]);
          if (!static32) {
            fast.length = 0;
            break;
          }
          const kind = m[1] as "address" | "uint" | "int" | "bytes" | "bool";
          // int: its width in bits (for the sign); bytesN: its length in bytes.
          const bits = kind === "int" ? Number(m[2] || 256) : kind === "bytes" ? Number(m[2]) : 0;
          fast.push(input.indexed ? { topic: topic++, word: 0, kind, bits } : { topic: null, word: word++, kind, bits });
        }
        const receivableArg = contract === "SettlementToken" ? undefined : RECEIVABLE_ARG.find((k) => names.includes(k));
        const fastComplete = fast.length === fragment.inputs.length;
        const rw = fastComplete && receivableArg !== undefined ? fast[names.indexOf(receivableArg)] : undefined;
        byTopic.set(fragment.topicHash, {
          contract,
          address: getAddress(address),
          iface,
          fragment,
          names,
          fast: fastComplete ? fast : null,
          receivableArg,
          receivableWord: rw && rw.kind === "uint" && rw.bits === 0 ? { topic: rw.topic, word: rw.word } : null,
          actorArg: ACTOR_ARG[fragment.name],
        });
      });
      this.decoders.set(address.toLowerCase(), byTopic);
    }
  }

  /** Lower-case addresses to pass to eth_getLogs. */
  get addresses(): string[] {
    return [...this.decoders.keys()];
  }

  /** The row for `log`, or null for a log of another contract or an event no ABI knows.
   * `block` must be the log's block fetched with its transactions (for the sender). */
  decode(log: ChainLog, block: RpcBlock): LedgerEventEntity | null {
    const d = log.topics.length ? this.decoders.get(log.address.toLowerCase())?.get(log.topics[0]) : undefined;
    if (!d) return null;
    let args: Record<string, string | boolean> | null = d.fast ? this.decodeStatic(d, log) : null;
    const fastArgs = args !== null;
    if (!args) {
      let values;
      try {
        values = d.iface.decodeEventLog(d.fragment, log.data, [...log.topics]);
      } catch {
        return null;
      }
      const decoded: Record<string, string | boolean> = {};
      d.fragment.inputs.forEach((input, i) => {
        const v = values[i] as unknown;
        if (input.baseType === "tuple" && input.components) {
          // A struct (an imported record): its fields are arguments of their own, so the feed and
          // the projector read `seller` or `faceValue` as they read any event's. A field named like
          // a top-level argument carries the same value (the indexed copy of it).
          const fields = v as ArrayLike<unknown>;
          input.components.forEach((c, j) => {
            if (!(c.name in decoded)) decoded[c.name] = typeof fields[j] === "boolean" ? (fields[j] as boolean) : String(fields[j]);
          });
          return;
        }
        decoded[input.name] = typeof v === "boolean" ? v : String(v);
      });
      args = decoded;
    }
    const e = new LedgerEventEntity();
    e.txHash = log.transactionHash;
    e.logIndex = log.index;
    e.blockNumber = log.blockNumber;
    e.blockHash = log.blockHash;
    e.txIndex = log.transactionIndex;
    e.timestamp = Number(block.timestamp);
    e.contract = d.contract;
    e.address = d.address;
    e.eventName = d.fragment.name;
    e.args = args;
    e.txFrom = this.senderOf(block, log.transactionHash) ?? ZERO_ADDRESS;
    // A mint's "from" is the zero address, not a participant.
    const actor = d.actorArg ? args[d.actorArg] : undefined;
    e.actor = typeof actor === "string" && actor !== ZERO_ADDRESS ? actor : null;
    e.receivableId = !(d.receivableArg && d.receivableArg in args)
      ? null
      : fastArgs && d.receivableWord
        ? "0x" + wordOf(log, d.receivableWord).toLowerCase()
        : receivableIdHex(args[d.receivableArg] as string);
    e.lineId = "lineId" in args ? Number(args.lineId) : null;
    return e;
  }

  /**
   * The same values ethers' decodeEventLog gives (addresses EIP-55, integers as decimal strings,
   * bytesN as lower-case hex, booleans), read straight from the topics and 32-byte data words for
   * events without dynamic arguments — every ledger event but a few. ethers' generic decoder, with
   * a keccak256 per address, was most of the indexer's CPU time; addresses repeat, so their
   * checksums are memoised. Null (fall back to ethers) when the log does not have the right shape.
   */
  private decodeStatic(d: EventDecoder, log: ChainLog): Record<string, string | boolean> | null {
    const fast = d.fast!;
    const data = log.data.startsWith("0x") ? log.data.slice(2) : log.data;
    const words = fast.filter((f) => f.topic === null).length;
    if (log.topics.length !== 1 + fast.length - words || data.length < words * 64) return null;
    const args: Record<string, string | boolean> = {};
    for (const [i, f] of fast.entries()) {
      const hex = f.topic !== null ? log.topics[f.topic].slice(2) : data.slice(f.word * 64, f.word * 64 + 64);
      if (hex.length !== 64) return null;
      const name = d.names[i];
      switch (f.kind) {
        case "address":
          args[name] = this.checksum("0x" + hex.slice(24));
          break;
        case "bool":
          args[name] = BigInt("0x" + hex) !== 0n;
          break;
        case "uint":
          args[name] = BigInt("0x" + hex).toString();
          break;
        case "int":
          args[name] = BigInt.asIntN(f.bits, BigInt("0x" + hex)).toString();
          break;
        case "bytes":
          args[name] = "0x" + hex.slice(0, f.bits * 2).toLowerCase();
          break;
      }
    }
    return args;
  }

  private readonly checksums = new Map<string, string>();

  private checksum(lower: string): string {
    let c = this.checksums.get(lower);
    if (!c) {
      c = getAddress(lower);
      if (this.checksums.size > 100_000) this.checksums.clear();
      this.checksums.set(lower, c);
    }
    return c;
  }

  private senderOf(block: RpcBlock, txHash: string): string | undefined {
    let senders = this.blockTxs.get(block);
    if (!senders) {
      senders = new Map(block.transactions.map((t) => [t.hash, t.from]));
      this.blockTxs.set(block, senders);
    }
    return senders.get(txHash);
  }
}

/** The 64 hex digits of a static argument: its topic, or its word of the data (decodeStatic checked the shape). */
function wordOf(log: ChainLog, at: { topic: number | null; word: number }): string {
  if (at.topic !== null) return log.topics[at.topic].slice(2);
  const data = log.data.startsWith("0x") ? log.data.slice(2) : log.data;
  return data.slice(at.word * 64, at.word * 64 + 64);
}

/** Every non-zero address among an event's arguments, once each: who the event concerns. */
export function eventParties(e: LedgerEventEntity): LedgerEventPartyEntity[] {
  const parties: LedgerEventPartyEntity[] = [];
  const seen = new Set<string>();
  for (const v of Object.values(e.args)) {
    // Length and the zero address first: most arguments are 66-character ids and hashes or numbers.
    if (typeof v === "string" && v.length === 42 && v !== ZERO_ADDRESS && ADDRESS.test(v) && !seen.has(v)) {
      seen.add(v);
      parties.push({ txHash: e.txHash, logIndex: e.logIndex, address: v, blockNumber: e.blockNumber });
    }
  }
  return parties;
}

/** Appends `events` to the feed with their parties and folds them, in chain order (block, tx
 * index, log index), into the projections, inside the caller's transaction. An event whose
 * arguments do not name its participant gets its actor from the projections as they stand just
 * before it (see resolveActor). */
export async function appendAndProject(m: EntityManager, unordered: LedgerEventEntity[]): Promise<void> {
  if (unordered.length === 0) return;
  const events = [...unordered].sort((a, b) => a.blockNumber - b.blockNumber || a.txIndex - b.txIndex || a.logIndex - b.logIndex);
  const writer = new ProjectionWriter(m);
  for (const e of events) {
    if (e.actor === undefined || e.actor === null) {
      // resolveActor reads the projections as they stand before the event (Financing events only).
      if (e.contract === "Financing") await writer.flush();
      e.actor = await resolveActor(e, m);
    }
    await writer.apply(e);
  }
  await writer.flush();
  await insertRows(m, LedgerEventEntity, events);
  await insertRows(m, LedgerEventPartyEntity, events.flatMap(eventParties));
}
