/**
 * From raw chain logs to ledger-event rows, and from rows to the database: the pieces the indexer
 * and the audit verification (which refolds the chain into a throwaway database) must share, so
 * that a verification compares the live tables with exactly what the indexer would have written.
 * Nothing here keeps state beyond the contract addresses it decodes for.
 */
import { Interface, getAddress, type JsonRpcProvider, type Log } from "ethers";
import type { EntityManager } from "typeorm";
import {
  Financing__factory,
  ParticipantRegistry__factory,
  Receivables__factory,
  SettlementToken__factory,
} from "../../../typechain-types";
import type { DeploymentRecord } from "../chain/deployment";
import { LedgerEventEntity, LedgerEventPartyEntity } from "./entities/ledger-event.entity";
import { ACTOR_ARG, RECEIVABLE_ARG, idHex, project, resolveActor } from "./projector";

const ZERO_ADDRESS = "0x0000000000000000000000000000000000000000";

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
  b.transactions = withTxs ? b.transactions.map((t) => ({ ...t, from: getAddress(t.from) })) : [];
  return b;
}

/** Decodes the four ledger contracts' logs into ledger-event rows. */
export class LedgerLogDecoder {
  private readonly decoders: Map<string, { name: string; iface: Interface }>;

  constructor(contracts: DeploymentRecord["contracts"]) {
    this.decoders = new Map([
      [contracts.ParticipantRegistry.toLowerCase(), { name: "ParticipantRegistry", iface: new Interface(ParticipantRegistry__factory.abi) }],
      [contracts.SettlementToken.toLowerCase(), { name: "SettlementToken", iface: new Interface(SettlementToken__factory.abi) }],
      [contracts.Receivables.toLowerCase(), { name: "Receivables", iface: new Interface(Receivables__factory.abi) }],
      [contracts.Financing.toLowerCase(), { name: "Financing", iface: new Interface(Financing__factory.abi) }],
    ]);
  }

  /** Lower-case addresses to pass to eth_getLogs. */
  get addresses(): string[] {
    return [...this.decoders.keys()];
  }

  /** The row for `log`, or null for a log of another contract or an event no ABI knows.
   * `block` must be the log's block fetched with its transactions (for the sender). */
  decode(log: Log, block: RpcBlock): LedgerEventEntity | null {
    const d = this.decoders.get(log.address.toLowerCase());
    if (!d) return null;
    let parsed;
    try {
      parsed = d.iface.parseLog({ topics: [...log.topics], data: log.data });
    } catch {
      parsed = null;
    }
    if (!parsed) return null;
    const args: Record<string, string | boolean> = {};
    parsed.fragment.inputs.forEach((input, i) => {
      const v = parsed.args[i];
      args[input.name] = typeof v === "boolean" ? v : String(v);
    });
    const tx = block.transactions.find((t) => t.hash === log.transactionHash);
    const actorArg = ACTOR_ARG[parsed.name];
    const ridArg = RECEIVABLE_ARG.find((k) => k in args && d.name !== "SettlementToken");
    const e = new LedgerEventEntity();
    e.txHash = log.transactionHash;
    e.logIndex = log.index;
    e.blockNumber = log.blockNumber;
    e.blockHash = log.blockHash;
    e.txIndex = log.transactionIndex;
    e.timestamp = Number(block.timestamp);
    e.contract = d.name;
    e.address = log.address;
    e.eventName = parsed.name;
    e.args = args;
    e.txFrom = tx ? tx.from : ZERO_ADDRESS;
    // A mint's "from" is the zero address, not a participant.
    const actor = actorArg ? args[actorArg] : undefined;
    e.actor = typeof actor === "string" && actor !== ZERO_ADDRESS ? actor : null;
    e.receivableId = ridArg ? idHex(args[ridArg] as string) : null;
    e.lineId = "lineId" in args ? Number(args.lineId) : null;
    return e;
  }
}

/** Every non-zero address among an event's arguments, once each: who the event concerns. */
export function eventParties(e: LedgerEventEntity): LedgerEventPartyEntity[] {
  const parties: LedgerEventPartyEntity[] = [];
  const seen = new Set<string>();
  for (const v of Object.values(e.args)) {
    if (typeof v === "string" && /^0x[0-9a-fA-F]{40}$/.test(v) && !/^0x0{40}$/.test(v) && !seen.has(v)) {
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
  for (const e of events) {
    e.actor ??= await resolveActor(e, m);
    await project(e, m);
  }
  for (let i = 0; i < events.length; i += 200) {
    await m.createQueryBuilder().insert().into(LedgerEventEntity).values(events.slice(i, i + 200)).execute();
  }
  const parties = events.flatMap(eventParties);
  for (let i = 0; i < parties.length; i += 300) {
    await m.createQueryBuilder().insert().into(LedgerEventPartyEntity).values(parties.slice(i, i + 300)).execute();
  }
}
