/**
 * Members as indexed so far (the `members` projection), for the features that need a member's
 * record: the auth guard, onboarding, the invoice checks, payment records and the ledger export.
 * Read-only; the projector alone writes the table.
 */
import { Injectable } from "@nestjs/common";
import { InjectRepository } from "@nestjs/typeorm";
import type { Repository } from "typeorm";
import { ROLE_BITS } from "../../../shared/roles";
import { compiledRaw } from "../database/compiled-select";
import { entitiesOf } from "../database/raw-rows";
import { MemberEntity } from "./entities/projections.entity";

@Injectable()
export class Members {
  constructor(@InjectRepository(MemberEntity) private readonly members: Repository<MemberEntity>) {}

  /**
   * The member at `address` (EIP-55), or null if none is indexed. A compiled statement (SQL built
   * once, compiled-select.ts) hydrated with the driver's conversions (raw-rows.ts): the invoice
   * checks read the seller and each debtor on both posts of every tokenisation.
   */
  async byAddress(address: string): Promise<MemberEntity | null> {
    const raw = await compiledRaw(this.members, "members.byAddress", { address }, (p) =>
      this.members.createQueryBuilder("m").where("m.address = :address", p).limit(1),
    );
    return (entitiesOf(this.members, raw, "m")[0] as MemberEntity | null | undefined) ?? null;
  }

  /** The member registered under the legal entity id hash `hash` (as hashed on-chain), or null. */
  byEntityIdHash(hash: string): Promise<MemberEntity | null> {
    return this.members.findOneBy({ entityIdHash: hash });
  }

  /** Every member in registration order, or only `address`'s record. */
  list(address?: string): Promise<MemberEntity[]> {
    return this.members.find({ where: address ? { address } : {}, order: { registeredBlock: "ASC", address: "ASC" } });
  }

  /** Addresses of members holding the buyer role after `after` in address order, at most `limit`; only `only` if given. */
  async buyersAfter(after: string | null, limit: number, only: string | null = null): Promise<string[]> {
    const qb = this.members
      .createQueryBuilder("m")
      .select("m.address", "address")
      .where(`(m.roles & ${ROLE_BITS.buyer}) <> 0`);
    if (only) qb.andWhere("m.address = :only", { only });
    if (after) qb.andWhere("m.address > :after", { after });
    const rows = await qb.orderBy("m.address", "ASC").limit(limit).getRawMany<{ address: string }>();
    return rows.map((r) => r.address);
  }
}
