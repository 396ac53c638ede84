/**
 * Core enterprises' payment records (payment-record.ts), read from the projections: receivables,
 * payments, members, and the acceptance events of the event feed.
 *
 * Access: financiers, auditors and compliance officers read every buyer's record; a buyer reads its
 * own; anyone else is refused (403). A buyer is a member holding the buyer role; another address is
 * 404. Records list by buyer address (keyset).
 */
import { BadRequestException, ForbiddenException, Injectable, NotFoundException } from "@nestjs/common";
import { InjectRepository } from "@nestjs/typeorm";
import { isAddress } from "ethers";
import type { Repository } from "typeorm";
import { type AuthUser } from "../auth/auth.decorators";
import { ROLE_BITS } from "../../../shared/roles";
import { checksum, decodeCursor, encodeCursor, queryFingerprint, readsEverything } from "../audit/read-scope";
import { ReceivableEntity } from "../read-model/entities/projections.entity";
import { Members } from "../read-model/members";
import { LedgerClock } from "../indexer/ledger-time";
import { paymentRecord, type LeafRow, type PaymentRecord } from "./payment-record";
import { PaymentRecordDto, type ListPaymentRecordsQueryDto, type PaymentRecordPageDto } from "./payment-record.dto";

const IN_CHUNK = 500;

/** Reads every buyer's record: financiers price the buyers' risk; auditors and compliance read all. */
export function readsEveryRecord(user: AuthUser): boolean {
  return readsEverything(user) || (user.verifiedMember && (user.roles & ROLE_BITS.financier) !== 0);
}

const isBuyer = (user: AuthUser) => user.verifiedMember && (user.roles & ROLE_BITS.buyer) !== 0;

@Injectable()
export class PaymentRecordsService {
  constructor(
    private readonly members: Members,
    @InjectRepository(ReceivableEntity) private readonly receivables: Repository<ReceivableEntity>,
    private readonly clock: LedgerClock,
  ) {}

  async one(user: AuthUser, rawBuyer: string): Promise<PaymentRecordDto> {
    if (!isAddress(rawBuyer) || !/^0x[0-9a-fA-F]{40}$/.test(rawBuyer)) {
      throw new BadRequestException(`buyer must be an address: 0x followed by 40 hex digits (got "${rawBuyer.slice(0, 80)}")`);
    }
    const buyer = checksum(rawBuyer);
    if (!readsEveryRecord(user) && !(isBuyer(user) && user.address === buyer)) {
      throw new ForbiddenException(
        `${user.address} may not read ${buyer}'s payment record: financiers, auditors and compliance officers read every buyer's, a buyer only its own`,
      );
    }
    const member = await this.members.byAddress(buyer);
    if (!member || (member.roles & ROLE_BITS.buyer) === 0) {
      throw new NotFoundException(`${buyer} is not a buyer on the ledger (as indexed so far): no payment record`);
    }
    const [record] = await this.records([buyer]);
    return PaymentRecordDto.from(record);
  }

  async list(user: AuthUser, q: ListPaymentRecordsQueryDto): Promise<PaymentRecordPageDto> {
    const all = readsEveryRecord(user);
    if (!all && !isBuyer(user)) {
      throw new ForbiddenException(
        `${user.address} may not read payment records: financiers, auditors and compliance officers read every buyer's, a buyer its own`,
      );
    }
    const limit = q.limit ?? 50;
    const fingerprint = queryFingerprint({ caller: all ? "*" : user.address });
    const after = q.cursor ? (decodeCursor(q.cursor, fingerprint, ["string"])[0] as string) : null;
    const rows = await this.buyersAfter(after, limit + 1, all ? null : user.address);
    const page = rows.slice(0, limit);
    return {
      items: (await this.records(page)).map(PaymentRecordDto.from),
      nextCursor: rows.length > limit ? encodeCursor(fingerprint, [page[page.length - 1]]) : null,
    };
  }

  /** Buyers (members holding the buyer role) after `after` in address order; only `only` if given. */
  buyersAfter(after: string | null, limit: number, only: string | null = null): Promise<string[]> {
    return this.members.buyersAfter(after, limit, only);
  }


  /** The records of `buyers` (EIP-55), in that order, as of the ledger time. */
  async records(buyers: readonly string[]): Promise<PaymentRecord[]> {
    const asOf = await this.clock.now();
    const byBuyer = new Map<string, LeafRow[]>(buyers.map((b) => [b, []]));
    for (let i = 0; i < buyers.length; i += IN_CHUNK) {
      const rows = (await this.receivables.query(
        `SELECT r.debtor AS debtor, r.status AS status, r.face_value AS face_value, r.outstanding AS outstanding, r.due_date AS due_date,
                (SELECT MAX(p.timestamp) FROM payments p WHERE p.receivable_id = r.id) AS last_paid_at
           FROM receivables r
          WHERE r.debtor IN (${buyers.slice(i, i + IN_CHUNK).map((_, j) => this.param(j + 1)).join(", ")})
            AND r.status IN ('accepted', 'financed', 'paid', 'defaulted')
            AND (r.parent_id IS NOT NULL OR EXISTS (SELECT 1 FROM ledger_events e WHERE e.receivable_id = r.id
                 AND e.contract = 'Receivables' AND e.event_name = 'ReceivableAccepted'))`,
        buyers.slice(i, i + IN_CHUNK),
      )) as Array<{ debtor: string; status: string; face_value: string; outstanding: string; due_date: string | number; last_paid_at: string | number | null }>;
      for (const r of rows) {
        byBuyer.get(r.debtor)?.push({
          debtor: r.debtor,
          status: r.status,
          faceValue: BigInt(r.face_value),
          outstanding: BigInt(r.outstanding),
          dueDate: Number(r.due_date),
          lastPaidAt: r.last_paid_at === null ? null : Number(r.last_paid_at),
        });
      }
    }
    return buyers.map((b) => paymentRecord(b, byBuyer.get(b)!, asOf));
  }

  private param(i: number): string {
    return this.receivables.manager.connection.options.type === "postgres" ? `$${i}` : "?";
  }
}
