/**
 * Registration references of financings (movable-property financing registry, 中登).
 *
 * Every approval carries a registration hash: the contract refuses one without
 * (FinancingRegistrationMissing). So "a financing without a registration" cannot mean a missing hash;
 * it means the service does not know the number behind the hash: the approval was made directly on
 * the chain (approveFinancing, financeSignedRequest) and the financier never gave the number. Such a
 * financing can be neither searched by its number nor checked against the registry. Once it has been
 * active for REGISTRATION_GRACE_DAYS after its approval, it is "registration overdue": flagged for
 * its financier and shown to auditors, until the financier gives the number
 * (POST /financings/:id/registration, checked against the on-chain hash). Repaid and written-off
 * financings are no longer flagged: nothing remains to register against.
 */
import { Injectable } from "@nestjs/common";
import { InjectRepository } from "@nestjs/typeorm";
import { In, type Repository } from "typeorm";
import type { FinancingEntity } from "../read-model/entities/projections.entity";
import { RegistrationNumberEntity } from "./entities/registration-number.entity";

export const DAY_SECONDS = 86_400;

/** The registration numbers financiers have given, for every feature that shows them. */
@Injectable()
export class RegistrationNumbers {
  constructor(@InjectRepository(RegistrationNumberEntity) private readonly rows: Repository<RegistrationNumberEntity>) {}

  /** Known registration numbers by their hash (unknown and null hashes are absent). */
  async byHash(hashes: Array<string | null>): Promise<Map<string, string>> {
    const wanted = [...new Set(hashes.filter((h): h is string => !!h))];
    const out = new Map<string, string>();
    for (let i = 0; i < wanted.length; i += 500) {
      const rows = await this.rows.findBy({ registrationHash: In(wanted.slice(i, i + 500)) });
      for (const r of rows) out.set(r.registrationHash, r.registrationNumber);
    }
    return out;
  }
}

export interface RegistrationState {
  number: string | null;
  /** When the number is due: approval time + the grace (unix seconds), null before approval. */
  dueBy: number | null;
  overdue: boolean;
}

export function registrationState(f: FinancingEntity, number: string | null, now: number, graceDays: number): RegistrationState {
  const dueBy = f.approvedAt === null ? null : f.approvedAt + graceDays * DAY_SECONDS;
  return {
    number,
    dueBy,
    overdue: f.status === "active" && f.registrationHash !== null && number === null && dueBy !== null && now >= dueBy,
  };
}

/** SQL (alias `f` for financings) for registrationState's `overdue`, with :regCutoff = now - grace. */
export const OVERDUE_SQL =
  "(f.status = 'active' AND f.registration_hash IS NOT NULL AND f.approved_at <= :regCutoff " +
  "AND NOT EXISTS (SELECT 1 FROM registration_numbers n WHERE n.registration_hash = f.registration_hash))";
