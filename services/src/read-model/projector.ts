/**
 * Folds ledger events into the projection tables. Every handler sets state from the event's own
 * values (the contracts emit absolute amounts: outstanding after a payment, principal after a
 * repayment) and derived figures such as a line's utilisation are recomputed, so applying the same
 * event stream from scratch always yields the same tables.
 */
import type { EntityManager, EntityTarget, ObjectLiteral } from "typeorm";
import type { QueryDeepPartialEntity } from "typeorm/query-builder/QueryPartialEntity";
import { voucherTerm } from "../compliance/voucher-term";
import { upsertRows } from "../database/bulk";
import { LedgerEventEntity } from "./entities/ledger-event.entity";
import {
  CreditLineEntity,
  FinancingEntity,
  HeldPaymentEntity,
  MemberEntity,
  PaymentEntity,
  ReceivableEntity,
  type FinancingStatus,
  type ReceivableStatus,
} from "./entities/projections.entity";
import { receivableIdHex } from "../../../shared/ids";

export { PROJECTION_TABLES } from "./entities";

const ZERO_ADDRESS = "0x0000000000000000000000000000000000000000";

type Args = LedgerEventEntity["args"];
const big = (a: Args, k: string) => BigInt(a[k] as string);
const num = (a: Args, k: string) => Number(a[k] as string);
const str = (a: Args, k: string) => a[k] as string;
/** The contracts' status enums, by index (None, which no imported record has, read as the first state). */
const RECEIVABLE_STATUS: ReadonlyArray<ReceivableStatus> = ["issued", "issued", "accepted", "financed", "paid", "defaulted", "cancelled", "split"];
const FINANCING_STATUS: ReadonlyArray<FinancingStatus> = ["requested", "requested", "rejected", "active", "repaid", "written_off", "withdrawn"];

type Handler = (e: LedgerEventEntity, m: EntityManager) => Promise<void>;

const KEYS = new Map<EntityTarget<ObjectLiteral>, string[]>([
  [MemberEntity, ["address"]],
  [ReceivableEntity, ["id"]],
  [PaymentEntity, ["txHash", "logIndex"]],
  [CreditLineEntity, ["id"]],
  [FinancingEntity, ["receivableId"]],
  [HeldPaymentEntity, ["recipient"]],
]);

/** Insert-or-replace in one statement (TypeORM's save reads the row first: a round trip per event). */
function put<T extends ObjectLiteral>(m: EntityManager, entity: EntityTarget<T>, row: QueryDeepPartialEntity<T>): Promise<unknown> {
  return m.upsert(entity, row, KEYS.get(entity as EntityTarget<ObjectLiteral>)!);
}

async function recomputeUtilisation(m: EntityManager, lineId: number, block: number): Promise<void> {
  const active = await m.find(FinancingEntity, { where: { lineId, status: "active" } });
  const utilised = active.reduce((s, f) => s + f.principal, 0n);
  await m.update(CreditLineEntity, { id: lineId }, { utilised, updatedBlock: block });
}

/**
 * The receivable's copy of its financing's financier (ReceivableEntity.financier): written with
 * every write of financings.financier (a request, an import; an approval through ReceivableAssigned).
 */
async function setFinancier(m: EntityManager, receivableId: string, financier: string | null): Promise<void> {
  await m.update(ReceivableEntity, { id: receivableId }, { financier });
}

/** A projection row to insert or replace. */
interface PutRow {
  entity: EntityTarget<ObjectLiteral>;
  row: ObjectLiteral;
}

/**
 * Events whose whole projection is one insert-or-replace of a row built from the event alone: a run
 * of them (a 200-invoice batch) is written as one multi-row statement by ProjectionWriter.
 */
const ROWS: Record<string, (e: LedgerEventEntity) => PutRow> = {
  "ParticipantRegistry.MemberRegistered": (e) => {
    const a = e.args;
    return {
      entity: MemberEntity,
      row: {
        address: str(a, "account"),
        roles: num(a, "roles"),
        status: "active",
        kycExpiry: num(a, "kycExpiry"),
        jurisdiction: Buffer.from(str(a, "jurisdiction").slice(2), "hex").toString("latin1"),
        entityIdHash: str(a, "entityIdHash"),
        suspensionReason: null,
        registeredBlock: e.blockNumber,
        updatedBlock: e.blockNumber,
      },
    };
  },
  "Receivables.ReceivableTokenised": (e) => {
    const a = e.args;
    return {
      entity: ReceivableEntity,
      row: {
        id: receivableIdHex(str(a, "id")),
        seller: str(a, "seller"),
        debtor: str(a, "debtor"),
        holder: str(a, "seller"),
        faceValue: big(a, "faceValue"),
        outstanding: big(a, "faceValue"),
        dueDate: num(a, "dueDate"),
        status: "issued",
        financed: false,
        parentId: null,
        documentHash: str(a, "documentHash"),
        createdBlock: e.blockNumber,
        createdTx: e.txHash,
        tokenisedAt: e.timestamp,
        termReview: voucherTerm(e.timestamp, num(a, "dueDate")).overSixMonths,
        updatedBlock: e.blockNumber,
      },
    };
  },
};

const putRow = async (m: EntityManager, r: PutRow): Promise<void> => {
  await put(m, r.entity, r.row);
};

/** A mint's Transfer changes nothing: ReceivableTokenised / ReceivableSplit record the new receivable. */
const isMint = (e: LedgerEventEntity) =>
  e.contract === "Receivables" && e.eventName === "Transfer" && str(e.args, "from") === ZERO_ADDRESS;

/**
 * Applies events in chain order, writing runs of ROWS events as one multi-row insert-or-replace per
 * table. Pending rows are written before any other event is applied (its handler may read or update
 * them), and by flush() at the end; the result is the same as applying each event with project().
 */
export class ProjectionWriter {
  private readonly pending = new Map<EntityTarget<ObjectLiteral>, Map<string, ObjectLiteral>>();

  constructor(private readonly m: EntityManager) {}

  async apply(e: LedgerEventEntity): Promise<void> {
    if (isMint(e)) return;
    const build = ROWS[`${e.contract}.${e.eventName}`];
    if (build) {
      const { entity, row } = build(e);
      const key = KEYS.get(entity)!.map((k) => String(row[k])).join("|");
      let rows = this.pending.get(entity);
      if (!rows) this.pending.set(entity, (rows = new Map()));
      rows.delete(key); // a later event for the same key wins, in its place in the order
      rows.set(key, row);
      return;
    }
    await this.flush();
    await project(e, this.m);
  }

  /** Everything pending, written; also what resolveActor must see before a Financing event. */
  async flush(): Promise<void> {
    for (const [entity, rows] of this.pending) {
      const all = [...rows.values()];
      await upsertRows(this.m, entity, all, KEYS.get(entity)!);
    }
    this.pending.clear();
  }
}

const HANDLERS: Record<string, Handler> = {
  "ParticipantRegistry.MemberRegistered": (e, m) => putRow(m, ROWS["ParticipantRegistry.MemberRegistered"](e)),
  "ParticipantRegistry.MemberUpdated": async (e, m) => {
    const a = e.args;
    await m.update(
      MemberEntity,
      { address: str(a, "account") },
      {
        roles: num(a, "roles"),
        jurisdiction: Buffer.from(str(a, "jurisdiction").slice(2), "hex").toString("latin1"),
        entityIdHash: str(a, "entityIdHash"),
        updatedBlock: e.blockNumber,
      },
    );
  },
  "ParticipantRegistry.KycRenewed": async (e, m) => {
    await m.update(
      MemberEntity,
      { address: str(e.args, "account") },
      { kycExpiry: num(e.args, "kycExpiry"), updatedBlock: e.blockNumber },
    );
  },
  "ParticipantRegistry.MemberSuspended": async (e, m) => {
    await m.update(
      MemberEntity,
      { address: str(e.args, "account") },
      { status: "suspended", suspensionReason: str(e.args, "reasonCode"), updatedBlock: e.blockNumber },
    );
  },
  "ParticipantRegistry.MemberReinstated": async (e, m) => {
    await m.update(
      MemberEntity,
      { address: str(e.args, "account") },
      { status: "active", suspensionReason: null, updatedBlock: e.blockNumber },
    );
  },

  "Receivables.ReceivableTokenised": (e, m) => putRow(m, ROWS["Receivables.ReceivableTokenised"](e)),
  "Receivables.Transfer": async (e, m) => {
    if (isMint(e)) return;
    const to = str(e.args, "to");
    await m.update(
      ReceivableEntity,
      { id: receivableIdHex(str(e.args, "tokenId")) },
      { holder: to === ZERO_ADDRESS ? null : to, updatedBlock: e.blockNumber },
    );
  },
  "Receivables.ReceivableAccepted": async (e, m) => {
    await m.update(ReceivableEntity, { id: receivableIdHex(str(e.args, "id")) }, { status: "accepted", updatedBlock: e.blockNumber });
  },
  "Receivables.ReceivableCancelled": async (e, m) => {
    await m.update(
      ReceivableEntity,
      { id: receivableIdHex(str(e.args, "id")) },
      { status: "cancelled", holder: null, updatedBlock: e.blockNumber },
    );
  },
  "Receivables.CreditNoteApplied": async (e, m) => {
    const outstanding = big(e.args, "outstanding");
    await m.update(
      ReceivableEntity,
      { id: receivableIdHex(str(e.args, "id")) },
      { outstanding, ...(outstanding === 0n ? { status: "paid" as const } : {}), updatedBlock: e.blockNumber },
    );
  },
  "Receivables.ReceivableSplit": async (e, m) => {
    const parentId = receivableIdHex(str(e.args, "parentId"));
    const parent = await m.findOneByOrFail(ReceivableEntity, { id: parentId });
    if (parent.status !== "split" || parent.holder !== null) {
      await m.update(ReceivableEntity, { id: parentId }, { status: "split", holder: null, updatedBlock: e.blockNumber });
    }
    const amount = big(e.args, "amount");
    await put(m, ReceivableEntity, {
      id: receivableIdHex(str(e.args, "childId")),
      seller: str(e.args, "holder"),
      debtor: parent.debtor,
      holder: str(e.args, "holder"),
      faceValue: amount,
      outstanding: amount,
      dueDate: parent.dueDate,
      status: "accepted",
      financed: false,
      parentId,
      documentHash: parent.documentHash,
      createdBlock: e.blockNumber,
      createdTx: e.txHash,
      tokenisedAt: parent.tokenisedAt,
      termReview: parent.termReview,
      updatedBlock: e.blockNumber,
    });
  },
  "Receivables.ReceivableAssigned": async (e, m) => {
    await m.update(
      ReceivableEntity,
      { id: receivableIdHex(str(e.args, "id")) },
      // The financier is also its financing's (FinancingApproved, same transaction: the contract
      // assigns only to the financing line's financier), copied here in the write this event makes anyway.
      { holder: str(e.args, "financier"), financier: str(e.args, "financier"), status: "financed", financed: true, updatedBlock: e.blockNumber },
    );
  },
  "Receivables.ReceivablePaid": async (e, m) => {
    const a = e.args;
    const id = receivableIdHex(str(a, "id"));
    const outstanding = big(a, "outstanding");
    await m.update(
      ReceivableEntity,
      { id },
      { outstanding, ...(outstanding === 0n ? { status: "paid" as const } : {}), updatedBlock: e.blockNumber },
    );
    await put(m, PaymentEntity, {
      txHash: e.txHash,
      logIndex: e.logIndex,
      receivableId: id,
      debtor: str(a, "debtor"),
      holder: str(a, "holder"),
      amount: big(a, "amount"),
      outstandingAfter: outstanding,
      blockNumber: e.blockNumber,
      timestamp: e.timestamp,
    });
  },
  "Receivables.ReceivableDefaulted": async (e, m) => {
    await m.update(ReceivableEntity, { id: receivableIdHex(str(e.args, "id")) }, { status: "defaulted", updatedBlock: e.blockNumber });
  },

  "Financing.CreditLineOpened": async (e, m) => {
    const a = e.args;
    await put(m, CreditLineEntity, {
      id: num(a, "lineId"),
      financier: str(a, "financier"),
      debtor: str(a, "debtor") === ZERO_ADDRESS ? null : str(a, "debtor"),
      supplier: str(a, "supplier") === ZERO_ADDRESS ? null : str(a, "supplier"),
      limit: big(a, "limit"),
      utilised: 0n,
      maxAdvanceBps: num(a, "maxAdvanceBps"),
      discountBps: num(a, "discountBps"),
      expiry: num(a, "expiry"),
      open: true,
      updatedBlock: e.blockNumber,
    });
  },
  "Financing.CreditLineUpdated": async (e, m) => {
    const a = e.args;
    await m.update(
      CreditLineEntity,
      { id: num(a, "lineId") },
      {
        limit: big(a, "limit"),
        maxAdvanceBps: num(a, "maxAdvanceBps"),
        discountBps: num(a, "discountBps"),
        expiry: num(a, "expiry"),
        updatedBlock: e.blockNumber,
      },
    );
  },
  "Financing.CreditLineClosed": async (e, m) => {
    await m.update(CreditLineEntity, { id: num(e.args, "lineId") }, { open: false, updatedBlock: e.blockNumber });
  },
  "Financing.FinancingRequested": async (e, m) => {
    const lineId = num(e.args, "lineId");
    const line = await m.findOneBy(CreditLineEntity, { id: lineId });
    const receivableId = receivableIdHex(str(e.args, "receivableId"));
    // A request replaces the receivable's financing (after a rejection, a withdrawal or a lapse),
    // perhaps with another financier's line.
    await setFinancier(m, receivableId, line?.financier ?? null);
    await put(m, FinancingEntity, {
      receivableId,
      lineId,
      supplier: str(e.args, "supplier"),
      financier: line?.financier ?? null,
      status: "requested",
      principal: 0n,
      advance: null,
      paidToSupplier: null,
      rejectReason: null,
      minPaid: big(e.args, "minPaid"),
      maxDiscount: big(e.args, "maxDiscount"),
      expiresAt: num(e.args, "expiresAt"),
      registrationHash: null,
      approvedAt: null,
      updatedBlock: e.blockNumber,
    });
  },
  "Financing.FinancingWithdrawn": async (e, m) => {
    await m.update(
      FinancingEntity,
      { receivableId: receivableIdHex(str(e.args, "receivableId")) },
      { status: "withdrawn", updatedBlock: e.blockNumber },
    );
  },
  "Financing.FinancingRejected": async (e, m) => {
    await m.update(
      FinancingEntity,
      { receivableId: receivableIdHex(str(e.args, "receivableId")) },
      { status: "rejected", rejectReason: str(e.args, "reasonCode"), updatedBlock: e.blockNumber },
    );
  },
  "Financing.FinancingApproved": async (e, m) => {
    const a = e.args;
    await m.update(
      FinancingEntity,
      { receivableId: receivableIdHex(str(a, "receivableId")) },
      {
        status: "active",
        financier: str(a, "financier"),
        principal: big(a, "advance"),
        advance: big(a, "advance"),
        paidToSupplier: big(a, "paid"),
        registrationHash: str(a, "registrationHash"),
        approvedAt: e.timestamp,
        updatedBlock: e.blockNumber,
      },
    );
    await recomputeUtilisation(m, num(a, "lineId"), e.blockNumber);
  },
  "Financing.FinancingRepaid": async (e, m) => {
    const a = e.args;
    const id = receivableIdHex(str(a, "receivableId"));
    const principal = big(a, "principal");
    const f = await m.findOneByOrFail(FinancingEntity, { receivableId: id });
    await m.update(
      FinancingEntity,
      { receivableId: id },
      {
        principal,
        ...(principal === 0n && f.status === "active" ? { status: "repaid" as const } : {}),
        updatedBlock: e.blockNumber,
      },
    );
    await recomputeUtilisation(m, num(a, "lineId"), e.blockNumber);
  },
  // Held money accumulates per recipient until a claim pays all of it out: the claim sets zero.
  "Receivables.PaymentHeld": async (e, m) => {
    const recipient = str(e.args, "recipient");
    const row = await m.findOneBy(HeldPaymentEntity, { recipient });
    await put(m, HeldPaymentEntity, {
      recipient,
      amount: (row?.amount ?? 0n) + big(e.args, "amount"),
      updatedBlock: e.blockNumber,
    });
  },
  "Receivables.PaymentClaimed": async (e, m) => {
    await put(m, HeldPaymentEntity, { recipient: str(e.args, "recipient"), amount: 0n, updatedBlock: e.blockNumber });
  },
  // A v1 ledger carried into this one (sealed import, scripts/upgrade-ledger.ts): each event holds
  // the whole record as v1 had it, so it is projected from the event alone, like a first event.
  "ParticipantRegistry.MemberImported": async (e, m) => {
    const a = e.args;
    await put(m, MemberEntity, {
      address: str(a, "account"),
      roles: num(a, "roles"),
      status: num(a, "status") === 2 ? "suspended" : "active",
      kycExpiry: num(a, "kycExpiry"),
      jurisdiction: Buffer.from(str(a, "jurisdiction").slice(2), "hex").toString("latin1"),
      entityIdHash: str(a, "entityIdHash"),
      suspensionReason: null,
      registeredBlock: e.blockNumber,
      updatedBlock: e.blockNumber,
    });
  },
  "Receivables.ReceivableImported": async (e, m) => {
    const a = e.args;
    const parent = BigInt(str(a, "parentId"));
    const holder = str(a, "holder");
    const doc = str(a, "documentHash");
    // A child carries its root's document, as a child split on this ledger does.
    const parentRow = parent === 0n ? null : await m.findOneBy(ReceivableEntity, { id: receivableIdHex(str(a, "parentId")) });
    await put(m, ReceivableEntity, {
      id: receivableIdHex(str(a, "id")),
      seller: str(a, "seller"),
      debtor: str(a, "debtor"),
      holder: holder === ZERO_ADDRESS ? null : holder,
      faceValue: big(a, "faceValue"),
      outstanding: big(a, "outstanding"),
      dueDate: num(a, "dueDate"),
      status: RECEIVABLE_STATUS[num(a, "status")],
      financed: a.financed === true || a.financed === "true",
      parentId: parent === 0n ? null : receivableIdHex(str(a, "parentId")),
      documentHash: parentRow ? parentRow.documentHash : BigInt(doc) === 0n ? null : doc,
      createdBlock: e.blockNumber,
      createdTx: e.txHash,
      updatedBlock: e.blockNumber,
    });
  },
  // A payment made on the older ledger: history only (the receivable was imported as it ended). The
  // row is this ledger's record of it (its tx, log and block, so it sorts before every later payment);
  // its time is the original payment's, so lateness reads as it was. The original tx, block and log
  // index stay in the event, in the audit feed.
  "Receivables.PaymentImported": async (e, m) => {
    const a = e.args;
    await put(m, PaymentEntity, {
      txHash: e.txHash,
      logIndex: e.logIndex,
      receivableId: receivableIdHex(str(a, "receivableId")),
      debtor: str(a, "debtor"),
      holder: str(a, "holder"),
      amount: big(a, "amount"),
      outstandingAfter: big(a, "outstandingAfter"),
      blockNumber: e.blockNumber,
      timestamp: num(a, "paidAt"),
    });
  },
  "Financing.CreditLineImported": async (e, m) => {
    const a = e.args;
    await put(m, CreditLineEntity, {
      id: num(a, "lineId"),
      financier: str(a, "financier"),
      debtor: str(a, "debtor") === ZERO_ADDRESS ? null : str(a, "debtor"),
      supplier: str(a, "supplier") === ZERO_ADDRESS ? null : str(a, "supplier"),
      limit: big(a, "limit"),
      utilised: big(a, "utilised"),
      maxAdvanceBps: num(a, "maxAdvanceBps"),
      discountBps: num(a, "discountBps"),
      expiry: num(a, "expiry"),
      open: a.open === true || a.open === "true",
      updatedBlock: e.blockNumber,
    });
  },
  "Financing.FinancingImported": async (e, m) => {
    const a = e.args;
    const lineId = num(a, "lineId");
    const status = FINANCING_STATUS[num(a, "status")];
    const line = await m.findOneBy(CreditLineEntity, { id: lineId });
    const receivableId = receivableIdHex(str(a, "receivableId"));
    await setFinancier(m, receivableId, line?.financier ?? null);
    await put(m, FinancingEntity, {
      receivableId,
      lineId,
      supplier: str(a, "supplier"),
      financier: line?.financier ?? null,
      status,
      principal: big(a, "principal"),
      // v1 recorded the advance and payout only in its approval event, and a request no terms: a
      // v1 request is imported as one whose terms lapsed (zero), so it can never be approved.
      advance: null,
      paidToSupplier: null,
      rejectReason: null,
      minPaid: status === "requested" ? 0n : null,
      maxDiscount: status === "requested" ? 0n : null,
      expiresAt: status === "requested" ? 0 : null,
      registrationHash: null,
      updatedBlock: e.blockNumber,
    });
    if (status === "active" || status === "repaid" || status === "written_off") await recomputeUtilisation(m, lineId, e.blockNumber);
  },
  "Financing.FinancingWrittenOff": async (e, m) => {
    const a = e.args;
    await m.update(
      FinancingEntity,
      { receivableId: receivableIdHex(str(a, "receivableId")) },
      { status: "written_off", updatedBlock: e.blockNumber },
    );
    await recomputeUtilisation(m, num(a, "lineId"), e.blockNumber);
  },
};

/** Applies one event to the projections (events with no projection are only kept in the feed). */
export async function project(e: LedgerEventEntity, m: EntityManager): Promise<void> {
  const h = HANDLERS[`${e.contract}.${e.eventName}`];
  if (h) await h(e, m);
}

/**
 * The participant of an event that does not name it (see ACTOR_ARG): a line's financier for its
 * acts on the line, the debtor for a repayment (it is the debtor's payment that repays). Read from
 * the projections just before the event is applied.
 */
export async function resolveActor(e: LedgerEventEntity, m: EntityManager): Promise<string | null> {
  if (e.contract !== "Financing") return null;
  switch (e.eventName) {
    case "CreditLineUpdated":
    case "CreditLineClosed":
    case "FinancingRejected":
    case "FinancingWrittenOff":
      return (await m.findOneBy(CreditLineEntity, { id: num(e.args, "lineId") }))?.financier ?? null;
    case "FinancingRepaid":
      return (await m.findOneBy(ReceivableEntity, { id: receivableIdHex(str(e.args, "receivableId")) }))?.debtor ?? null;
    default:
      return null;
  }
}

/** Which argument names the participant an event's act belongs to. */
export const ACTOR_ARG: Record<string, string> = {
  MemberRegistered: "account",
  MemberUpdated: "account",
  KycRenewed: "account",
  MemberSuspended: "account",
  MemberReinstated: "account",
  ReceivableTokenised: "seller",
  ReceivableAccepted: "debtor",
  ReceivableCancelled: "seller",
  CreditNoteApplied: "holder",
  ReceivableSplit: "holder",
  ReceivableAssigned: "financier",
  ReceivablePaid: "debtor",
  ReceivableDefaulted: "holder",
  PaymentHeld: "recipient",
  PaymentClaimed: "recipient",
  Redeemed: "by",
  ForcedBurn: "enforcer",
  CreditLineOpened: "financier",
  FinancingRequested: "supplier",
  FinancingWithdrawn: "supplier",
  FinancingApproved: "financier",
  Transfer: "from",
  Approval: "owner",
  NonceInvalidated: "signer",
};

/** Arguments that carry a receivable id. */
export const RECEIVABLE_ARG = ["id", "receivableId", "childId", "tokenId"];
