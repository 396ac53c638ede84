/**
 * Reads of receivables: filtered lists, one receivable with its financing and payments, its event
 * history and its split lineage.
 *
 * Access (read-scope.ts): a member reads a receivable when it is its seller, its debtor, its
 * current holder or the financier of its financing; auditors and compliance officers read all. An
 * id that does not exist is 404 for everyone, an existing one the caller may not read is 403.
 * The lineage is the exception that shows more than the caller's own records: it returns the
 * whole split tree so a lower-tier holder can trace its part back to the accepted original, but
 * withholds the holder and outstanding amount of every node the caller is not party to.
 *
 * Lists are keyset-paginated on (sort key, id); the amount sort and range filters run on the
 * 20-digit zero-padded outstanding column, which orders as text exactly as the numbers do.
 */
import { BadRequestException, ForbiddenException, Inject, Injectable, NotFoundException } from "@nestjs/common";
import { InjectRepository } from "@nestjs/typeorm";
import { In, type Repository } from "typeorm";
import type { AuthUser } from "../auth/auth.decorators";
import { LedgerEventDto, type RawLedgerEventRow } from "../audit/dto/ledger-event.dto";
import {
  checksum,
  decodeCursor,
  encodeCursor,
  isoFromSeconds,
  receivableIdParam,
  queryFingerprint,
  readsEverything,
  secondsBound,
} from "../audit/read-scope";
import { padAmount } from "../common/columns";
import { APP_CONFIG, type AppConfig } from "../config/env";
import { RegistrationNumbers, registrationState } from "../financing/registration";
import { LedgerClock } from "../indexer/ledger-time";
import { compiledRaw } from "../database/compiled-select";
import { entitiesOf } from "../database/raw-rows";
import { FinancingDto } from "../financing/dto/financing-read.dto";
import { LedgerEventEntity } from "../read-model/entities/ledger-event.entity";
import { FinancingEntity, PaymentEntity, ReceivableEntity } from "../read-model/entities/projections.entity";
import { ApprovedIdentities } from "../onboarding/approved-identities";
import { taxIdHash } from "../participants/participant-lookup";
import { InvoiceIdentityError, invoiceFingerprint, invoiceNumberKey, receivableIdOf } from "../../../shared/fingerprint";
import { receivableIdHex } from "../../../shared/ids";
import { ReceivableDisputeEntity } from "./entities/receivable-dispute.entity";
import {
  PaymentDto,
  ReceivableDto,
  type LineageNodeDto,
  type ListReceivablesQueryDto,
  type RawReceivableRow,
  type ReceivableDetailDto,
  ReceivableDisputeDto,
  type ReceivablePageDto,
} from "./dto/receivable-read.dto";

const SORT_COLUMNS = { dueDate: "r.due_date", amount: "r.outstanding", createdAt: "r.created_block" } as const;
/** Deepest split chain followed upwards; far beyond what splitting a receivable ever produces. */
const MAX_DEPTH = 64;
const IN_CHUNK = 500;
/** Block time of the transaction that created receivable `r` (a scalar subquery on the event feed's key). */
const CREATED_AT_SQL = "(SELECT MIN(e.timestamp) FROM ledger_events e WHERE e.tx_hash = r.created_tx)";

@Injectable()
export class ReceivablesReadService {
  constructor(
    @InjectRepository(ReceivableEntity) private readonly receivables: Repository<ReceivableEntity>,
    @InjectRepository(FinancingEntity) private readonly financings: Repository<FinancingEntity>,
    @InjectRepository(PaymentEntity) private readonly payments: Repository<PaymentEntity>,
    @InjectRepository(LedgerEventEntity) private readonly ledgerEvents: Repository<LedgerEventEntity>,
    @InjectRepository(ReceivableDisputeEntity) private readonly disputes: Repository<ReceivableDisputeEntity>,
    private readonly registrationNumbers: RegistrationNumbers,
    private readonly clock: LedgerClock,
    private readonly identities: ApprovedIdentities,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async list(user: AuthUser, q: ListReceivablesQueryDto): Promise<ReceivablePageDto> {
    const all = readsEverything(user);
    const limit = q.limit ?? 50;
    const sort = q.sort ?? "dueDate";
    const desc = sort.startsWith("-");
    const sortKey = sort.replace(/^-/, "") as keyof typeof SORT_COLUMNS;
    const col = SORT_COLUMNS[sortKey];

    const party = q.party ? checksum(q.party) : null;
    if (party && !all && party !== user.address) {
      throw new ForbiddenException(
        `the party filter is for auditors and compliance officers; ${user.address} lists its own receivables with role=seller|debtor|holder|financier`,
      );
    }
    // Everything but "is party to": applied inside each branch below (or directly without one).
    const conds: Array<[string, Record<string, unknown>]> = [];
    switch (q.role) {
      case "seller":
      case "debtor":
      case "holder":
      case "financier": // r.financier: its financing's financier (ReceivableEntity.financier)
        conds.push([`r.${q.role} = :roleOf`, { roleOf: user.address }]);
        break;
    }
    if (q.status?.length) conds.push(["r.status IN (:...statuses)", { statuses: q.status }]);
    if (q.termReview !== undefined) conds.push(["r.term_review = :termReview", { termReview: q.termReview }]);
    if (q.disputed !== undefined) {
      conds.push([`${q.disputed ? "" : "NOT "}EXISTS (SELECT 1 FROM receivable_disputes rd WHERE rd.receivable_id = r.id)`, {}]);
    }
    if (q.dueFrom) conds.push(["r.due_date >= :dueFrom", { dueFrom: secondsBound(q.dueFrom) }]);
    if (q.dueTo) conds.push(["r.due_date < :dueTo", { dueTo: secondsBound(q.dueTo) }]);
    if (q.minAmount) conds.push(["r.outstanding >= :minAmount", { minAmount: padAmount(BigInt(q.minAmount)) }]);
    if (q.maxAmount) conds.push(["r.outstanding <= :maxAmount", { maxAmount: padAmount(BigInt(q.maxAmount)) }]);
    let invoice: { number: string; seller: string | null } | null = null;
    if (q.sellerTaxId !== undefined && q.invoiceNumber === undefined) throw new BadRequestException("sellerTaxId goes with invoiceNumber.");
    if (q.invoiceNumber !== undefined) {
      const found = await this.byInvoiceNumber(q.invoiceNumber, q.sellerTaxId);
      if (!found.ids.length) return { items: [], nextCursor: null };
      conds.push(["r.id IN (:...invoiceIds)", { invoiceIds: found.ids }]);
      invoice = { number: found.key, seller: found.seller };
    }

    const fingerprint = queryFingerprint({
      status: q.status ? [...new Set(q.status)].sort() : null,
      role: q.role ?? null,
      party,
      termReview: q.termReview ?? null,
      disputed: q.disputed ?? null,
      dueFrom: q.dueFrom ? secondsBound(q.dueFrom) : null,
      dueTo: q.dueTo ? secondsBound(q.dueTo) : null,
      minAmount: q.minAmount ? BigInt(q.minAmount).toString() : null,
      maxAmount: q.maxAmount ? BigInt(q.maxAmount).toString() : null,
      invoice,
      sort,
      caller: all ? "*" : user.address,
    });
    const dir = desc ? "DESC" : "ASC";
    if (q.cursor) {
      const [value, id] = decodeCursor(q.cursor, fingerprint, [sortKey === "amount" ? "string" : "number", "string"]);
      // A row comparison, so the (…, sort column, id) indexes seek straight to the position.
      conds.push([`(${col}, r.id) ${desc ? "<" : ">"} (:cv, :cid)`, { cv: value, cid: id }]);
    }

    // A member lists what it is party to; a party filter (auditors) likewise. "Party to" is four
    // alternatives (seller, debtor, holder, financier of its financing): as one OR no index serves
    // it, so each alternative is its own branch, ordered and limited on its own index
    // (ix_receivables_seller/debtor/holder/financier), and the page is taken from the union of the
    // branches' first limit + 1 rows. The financier of its financing is the receivable's own
    // financier column (a copy the projector keeps), so that branch too is a range of one index,
    // whatever the size of the caller's book; it was a join over every financing of the caller.
    // A role of the caller's own (role=…, whose condition names the caller) already makes the caller
    // party to every row it selects: that condition alone is the list, one index range, with no
    // union. (In the union each branch would carry it too, and the planner may read a whole branch,
    // e.g. a financier's holder branch by ix_receivables_financier, to filter it.)
    const scope = !all ? user.address : party;
    const partyOf = q.role && scope === user.address ? null : scope;
    const params: Record<string, unknown> = Object.assign(partyOf ? { partyOf } : {}, ...conds.map(([, p]) => p));
    // The statement's shape: the conditions' text (values are parameters), the branches, order and page size.
    const shape = `receivables.list:${!!partyOf}:${col}:${dir}:${limit}:${conds.map(([sql]) => sql).join(" AND ")}`;
    const raw = await compiledRaw<RawReceivableRow>(this.receivables, shape, params, (p) => {
      const qb = this.receivables.createQueryBuilder("r");
      if (partyOf) {
        const where = conds.map(([sql]) => ` AND ${sql}`).join("");
        const tail = ` ORDER BY ${col} ${dir}, r.id ${dir} LIMIT ${limit + 1}`;
        const branches = [
          `SELECT b0.id FROM (SELECT r.id FROM receivables r WHERE r.seller = :partyOf${where}${tail}) b0`,
          `SELECT b1.id FROM (SELECT r.id FROM receivables r WHERE r.debtor = :partyOf${where}${tail}) b1`,
          `SELECT b2.id FROM (SELECT r.id FROM receivables r WHERE r.holder = :partyOf${where}${tail}) b2`,
          `SELECT b3.id FROM (SELECT r.id FROM receivables r WHERE r.financier = :partyOf${where}${tail}) b3`,
        ];
        qb.where(`r.id IN (${branches.join(" UNION ")})`, p);
      } else {
        for (const [sql] of conds) qb.andWhere(sql, p);
      }
      return qb
        .addSelect(CREATED_AT_SQL, "created_at")
        .orderBy(col, dir)
        .addOrderBy("r.id", dir)
        .limit(limit + 1);
    });
    const page = raw.slice(0, limit);
    let nextCursor: string | null = null;
    if (raw.length > limit) {
      const last = page[page.length - 1];
      const value =
        sortKey === "amount" ? padAmount(BigInt(last.r_outstanding)) : Number(sortKey === "dueDate" ? last.r_due_date : last.r_created_block);
      nextCursor = encodeCursor(fingerprint, [value, last.r_id]);
    }
    // Rows to JSON without an entity in between (ReceivableDto.fromRaw).
    return { items: page.map(ReceivableDto.fromRaw), nextCursor };
  }

  /**
   * The ids of the receivables tokenised from invoice `number`: an invoice is its seller's tax id
   * and its number (fingerprint.ts), so the id is computed for the seller named, or for each tax id
   * a member registered with (approved applications), and kept where a receivable has it. The
   * caller's read scope is applied by the list on top.
   */
  private async byInvoiceNumber(number: string, sellerTaxId: string | undefined): Promise<{ ids: string[]; key: string; seller: string | null }> {
    let key: string;
    try {
      key = invoiceNumberKey(number);
    } catch (err) {
      if (err instanceof InvoiceIdentityError) throw new BadRequestException(err.message);
      throw err;
    }
    let sellers: string[];
    if (sellerTaxId !== undefined) {
      const t = taxIdHash(sellerTaxId);
      if ("problem" in t) throw new BadRequestException(`${t.problem.replace(/^taxId/, "sellerTaxId")}.`);
      sellers = [t.key];
    } else {
      sellers = await this.identities.entityIds();
    }
    const candidates = sellers.map((tax) => receivableIdHex(receivableIdOf(invoiceFingerprint(this.config.FINGERPRINT_SALT, { sellerTaxId: tax, invoiceNumber: number }))));
    const ids: string[] = [];
    for (let i = 0; i < candidates.length; i += IN_CHUNK) {
      const rows = await this.receivables.find({ select: { id: true }, where: { id: In(candidates.slice(i, i + IN_CHUNK)) } });
      ids.push(...rows.map((r) => r.id));
    }
    return { ids, key, seller: sellerTaxId === undefined ? null : sellers[0] };
  }

  async get(user: AuthUser, rawId: string): Promise<ReceivableDetailDto> {
    const { receivable, financing, createdAt, dispute } = await this.readable(user, rawId, { dispute: true });
    const payments = entitiesOf(
      this.payments,
      await compiledRaw(this.payments, "receivable.payments", { id: receivable.id }, (p) =>
        this.payments.createQueryBuilder("p").where("p.receivable_id = :id", p).orderBy("p.block_number", "ASC").addOrderBy("p.log_index", "ASC"),
      ),
      "p",
    ) as PaymentEntity[];
    return {
      ...ReceivableDto.from(receivable, createdAt),
      financing: financing
        ? FinancingDto.from(
            financing,
            registrationState(
              financing,
              (await this.registrationNumbers.byHash([financing.registrationHash])).get(financing.registrationHash ?? "") ?? null,
              await this.clock.now(),
              this.config.REGISTRATION_GRACE_DAYS,
            ),
          )
        : null,
      payments: payments.map(PaymentDto.from),
      dispute: dispute ? ReceivableDisputeDto.from(dispute, receivable.status) : null,
    };
  }

  /** Its events and its financing's in chain order, with the split events that created its
   * children (those are indexed under each child's id). */
  async history(user: AuthUser, rawId: string): Promise<LedgerEventDto[]> {
    // Children first (they come with the receivable, by ix_receivables_parent): an IN (subquery)
    // inside the OR below would keep PostgreSQL from combining the two index scans on
    // ix_ledger_events_receivable and make it scan the whole feed.
    const { receivable, children } = await this.readable(user, rawId, { children: true });
    const params: Record<string, unknown> = { id: receivable.id };
    for (let i = 0; i < children.length; i += IN_CHUNK) params[`children${i}`] = children.slice(i, i + IN_CHUNK);
    const raw = await compiledRaw<RawLedgerEventRow>(this.ledgerEvents, "receivable.history", params, (p) => {
      const qb = this.ledgerEvents.createQueryBuilder("e").where("e.receivable_id = :id", p);
      for (let i = 0; i < children.length; i += IN_CHUNK) {
        qb.orWhere(`(e.contract = 'Receivables' AND e.event_name = 'ReceivableSplit' AND e.receivable_id IN (:...children${i}))`, p);
      }
      return qb.orderBy("e.block_number", "ASC").addOrderBy("e.tx_index", "ASC").addOrderBy("e.log_index", "ASC");
    });
    return raw.map(LedgerEventDto.fromRaw);
  }

  /**
   * The split tree containing the receivable, from its root ancestor down, in one statement after
   * the access check: a recursive walk up to the root and down from it, each node with its
   * financier and the position of its ReceivableSplit event (children in split order).
   */
  async lineage(user: AuthUser, rawId: string): Promise<LineageNodeDto> {
    const { receivable } = await this.readable(user, rawId);
    const tree = `
      WITH RECURSIVE up(id, parent_id, depth) AS (
        SELECT id, parent_id, 0 FROM receivables WHERE id = :lineageOf
        UNION ALL
        SELECT p.id, p.parent_id, up.depth + 1 FROM receivables p JOIN up ON p.id = up.parent_id WHERE up.depth < ${MAX_DEPTH}
      ),
      down(id, depth) AS (
        SELECT id, 0 FROM up WHERE depth = (SELECT MAX(depth) FROM up)
        UNION ALL
        SELECT c.id, down.depth + 1 FROM receivables c JOIN down ON c.parent_id = down.id WHERE down.depth < ${MAX_DEPTH}
      )
      SELECT id FROM down`;
    const raw = await compiledRaw<{ r_id: string; financier: string | null; split_position: string | number | null }>(
      this.receivables,
      "receivable.lineage",
      { lineageOf: receivable.id },
      (p) =>
        this.receivables
          .createQueryBuilder("r")
          .leftJoin(FinancingEntity, "f", "f.receivable_id = r.id")
          .addSelect("f.financier", "financier")
          .addSelect(
            `(SELECT e.block_number * 1000000 + e.log_index FROM ledger_events e
          WHERE e.receivable_id = r.id AND e.contract = 'Receivables' AND e.event_name = 'ReceivableSplit' LIMIT 1)`,
            "split_position",
          )
          .where(`r.id IN (${tree})`, p),
    );
    const entities = entitiesOf(this.receivables, raw, "r") as ReceivableEntity[];
    const extra = new Map(raw.map((x) => [x.r_id, x]));
    const nodes = new Map(entities.map((r) => [r.id, r]));
    const position = (id: string) => {
      const p = extra.get(id)?.split_position;
      return p === null || p === undefined ? Infinity : Number(p);
    };
    const childrenOf = new Map<string, string[]>();
    let rootId = receivable.id;
    for (const r of entities) {
      if (r.parentId && nodes.has(r.parentId)) childrenOf.set(r.parentId, [...(childrenOf.get(r.parentId) ?? []), r.id]);
      else rootId = r.id;
    }
    for (const ids of childrenOf.values()) ids.sort((a, b) => position(a) - position(b) || a.localeCompare(b));

    const all = readsEverything(user);
    const build = (id: string): LineageNodeDto => {
      const r = nodes.get(id)!;
      const visible = all || [r.seller, r.debtor, r.holder, extra.get(id)?.financier ?? undefined].includes(user.address);
      return {
        id: r.id,
        parentId: r.parentId,
        faceValue: r.faceValue.toString(),
        status: r.status,
        visible,
        outstanding: visible ? r.outstanding.toString() : null,
        holder: visible ? r.holder : null,
        dueDate: isoFromSeconds(r.dueDate),
        children: (childrenOf.get(id) ?? []).map(build),
      };
    };
    return build(rootId);
  }

  /**
   * The receivable, its financing and the block time of its creation, in one statement, once the
   * caller is allowed to read them (else 404/403). The same statement also brings, when asked, its
   * dispute (at most one: ux_receivable_disputes_receivable) and the ids of its direct children
   * (`OR r.parent_id = :id`, a second index arm), each of which would otherwise be a round trip of
   * its own: on a loaded machine a statement costs the service far more CPU than its columns do.
   */
  private async readable(
    user: AuthUser,
    rawId: string,
    also: { dispute?: boolean; children?: boolean } = {},
  ): Promise<{
    receivable: ReceivableEntity;
    financing: FinancingEntity | null;
    createdAt: number | null;
    dispute: ReceivableDisputeEntity | null;
    children: string[];
  }> {
    const id = receivableIdParam(rawId);
    const rows = await compiledRaw(this.receivables, `receivable.readable:${!!also.children}:${!!also.dispute}`, { id }, (p) => {
      const qb = this.receivables
        .createQueryBuilder("r")
        .leftJoinAndSelect(FinancingEntity, "f", "f.receivable_id = r.id")
        .addSelect(CREATED_AT_SQL, "created_at")
        .where(also.children ? "(r.id = :id OR r.parent_id = :id)" : "r.id = :id", p);
      if (also.dispute) qb.leftJoinAndSelect(ReceivableDisputeEntity, "d", "d.receivable_id = r.id");
      return qb;
    });
    const raw = also.children ? rows.filter((x) => x.r_id === id) : rows;
    const children = also.children ? rows.filter((x) => x.r_id !== id).map((x) => x.r_id as string) : [];
    const receivable = entitiesOf(this.receivables, raw, "r")[0];
    if (!receivable) throw new NotFoundException(`no receivable ${id} on the ledger (as indexed so far)`);
    const financing = entitiesOf(this.financings, raw, "f")[0];
    const dispute = also.dispute ? entitiesOf(this.disputes, raw, "d")[0] : null;
    const parties = [receivable.seller, receivable.debtor, receivable.holder, financing?.financier];
    if (!readsEverything(user) && !parties.includes(user.address)) {
      throw new ForbiddenException(
        `${user.address} is not party to receivable ${id}: only its seller, debtor, current holder and financier, auditors and compliance officers may read it`,
      );
    }
    const createdAt = raw[0]?.created_at;
    return { receivable, financing, createdAt: createdAt === null || createdAt === undefined ? null : Number(createdAt), dispute, children };
  }
}
