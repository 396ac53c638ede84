/**
 * Reads of credit lines and financings, scoped to the caller.
 *
 * A credit line is readable by its financier and by the debtor or supplier it names; a financing
 * by its supplier, its financier and the debtor of its receivable. Auditors and compliance officers
 * read all (read-scope.ts). Lists page by keyset on the primary key (line id; receivable id), which
 * never changes, so a row cannot move between pages while a client pages through.
 * A financing's registration number is the one the service knows for the hash approved on-chain
 * (registration.ts); financiers, auditors and compliance officers find a financing by its number
 * (hashed as approved) and list those whose number is overdue. A financing's compliance checks
 * are its financier's to read (with auditors and compliance officers).
 */
import { ForbiddenException, Inject, Injectable, NotFoundException } from "@nestjs/common";
import { InjectRepository } from "@nestjs/typeorm";
import type { Repository } from "typeorm";
import { type AuthUser } from "../auth/auth.decorators";
import { ROLE_BITS } from "../../../shared/roles";
import { decodeCursor, encodeCursor, receivableIdParam, queryFingerprint, readsEverything } from "../audit/read-scope";
import { APP_CONFIG, type AppConfig } from "../config/env";
import { CreditLineEntity, FinancingEntity, ReceivableEntity } from "../read-model/entities/projections.entity";
import { LedgerClock } from "../indexer/ledger-time";
import { ComplianceService } from "../compliance/compliance.service";
import { ComplianceCheckResponseDto } from "../compliance/dto/compliance-check-response.dto";
import { registrationHash } from "../../../shared/financing-terms";
import { DAY_SECONDS, OVERDUE_SQL, RegistrationNumbers, registrationState } from "./registration";
import {
  CreditLineDto,
  FinancingDto,
  type CreditLinePageDto,
  type FinancingPageDto,
  type ListCreditLinesQueryDto,
  type ListFinancingsQueryDto,
} from "./dto/financing-read.dto";

@Injectable()
export class FinancingReadService {
  constructor(
    @InjectRepository(CreditLineEntity) private readonly creditLineRepo: Repository<CreditLineEntity>,
    @InjectRepository(FinancingEntity) private readonly financingRepo: Repository<FinancingEntity>,
    @InjectRepository(ReceivableEntity) private readonly receivables: Repository<ReceivableEntity>,
    private readonly registrationNumbers: RegistrationNumbers,
    private readonly clock: LedgerClock,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly compliance: ComplianceService,
  ) {}

  async creditLines(user: AuthUser, q: ListCreditLinesQueryDto): Promise<CreditLinePageDto> {
    const limit = q.limit ?? 50;
    const qb = this.creditLineRepo.createQueryBuilder("l");
    if (!readsEverything(user)) qb.andWhere("(l.financier = :me OR l.debtor = :me OR l.supplier = :me)", { me: user.address });
    if (q.open !== undefined) qb.andWhere("l.open = :open", { open: q.open });
    const fingerprint = queryFingerprint({ open: q.open ?? null, caller: readsEverything(user) ? "*" : user.address });
    if (q.cursor) {
      const [after] = decodeCursor(q.cursor, fingerprint, ["number"]);
      qb.andWhere("l.id > :after", { after });
    }
    const rows = await qb.orderBy("l.id", "ASC").limit(limit + 1).getMany();
    const page = rows.slice(0, limit);
    return {
      items: page.map(CreditLineDto.from),
      nextCursor: rows.length > limit ? encodeCursor(fingerprint, [page[page.length - 1].id]) : null,
    };
  }

  async creditLine(user: AuthUser, id: number): Promise<CreditLineDto> {
    const line = await this.creditLineRepo.findOneBy({ id });
    if (!line) throw new NotFoundException(`no credit line ${id} on the ledger (as indexed so far)`);
    if (!readsEverything(user) && ![line.financier, line.debtor, line.supplier].includes(user.address)) {
      throw new ForbiddenException(`${user.address} is neither the financier of credit line ${id} nor a debtor or supplier it names`);
    }
    return CreditLineDto.from(line);
  }

  async financings(user: AuthUser, q: ListFinancingsQueryDto): Promise<FinancingPageDto> {
    const limit = q.limit ?? 50;
    const qb = this.financingRepo.createQueryBuilder("f");
    if (!readsEverything(user)) {
      qb.andWhere(
        "(f.supplier = :me OR f.financier = :me OR EXISTS (SELECT 1 FROM receivables r WHERE r.id = f.receivable_id AND r.debtor = :me))",
        { me: user.address },
      );
    }
    if (q.status?.length) qb.andWhere("f.status IN (:...statuses)", { statuses: q.status });
    if (q.lineId !== undefined) qb.andWhere("f.line_id = :lineId", { lineId: q.lineId });
    if (q.registrationNumber !== undefined || q.registrationOverdue !== undefined) {
      if (!readsEverything(user) && (user.roles & ROLE_BITS.financier) === 0) {
        throw new ForbiddenException(
          `searching financings by registration is for financiers, auditors and compliance officers; ${user.address} is neither`,
        );
      }
    }
    const now = await this.clock.now();
    if (q.registrationNumber !== undefined) {
      qb.andWhere("f.registration_hash = :regHash", { regHash: registrationHash(q.registrationNumber) });
    }
    if (q.registrationOverdue !== undefined) {
      qb.andWhere(q.registrationOverdue ? OVERDUE_SQL : `NOT ${OVERDUE_SQL}`, {
        regCutoff: now - this.config.REGISTRATION_GRACE_DAYS * DAY_SECONDS,
      });
    }
    const fingerprint = queryFingerprint({
      status: q.status ? [...q.status].sort() : null,
      lineId: q.lineId ?? null,
      registrationHash: q.registrationNumber !== undefined ? registrationHash(q.registrationNumber) : null,
      registrationOverdue: q.registrationOverdue ?? null,
      caller: readsEverything(user) ? "*" : user.address,
    });
    if (q.cursor) {
      const [after] = decodeCursor(q.cursor, fingerprint, ["string"]);
      qb.andWhere("f.receivable_id > :after", { after });
    }
    const rows = await qb.orderBy("f.receivable_id", "ASC").limit(limit + 1).getMany();
    const page = rows.slice(0, limit);
    const numbers = await this.registrationNumbers.byHash(page.map((f) => f.registrationHash));
    return {
      items: page.map((f) => FinancingDto.from(f, this.registration(f, numbers, now))),
      nextCursor: rows.length > limit ? encodeCursor(fingerprint, [page[page.length - 1].receivableId]) : null,
    };
  }

  async financing(user: AuthUser, rawId: string): Promise<FinancingDto> {
    const id = receivableIdParam(rawId, "receivableId");
    const f = await this.financingRepo.findOneBy({ receivableId: id });
    if (!f) throw new NotFoundException(`receivable ${id} has no financing (as indexed so far)`);
    if (!readsEverything(user) && f.supplier !== user.address && f.financier !== user.address) {
      const r = await this.receivables.findOneBy({ id });
      if (r?.debtor !== user.address) {
        throw new ForbiddenException(`${user.address} is neither the supplier, the financier nor the debtor of the financing of ${id}`);
      }
    }
    return this.withRegistration(f);
  }

  /**
   * The compliance pre-flight of a financing request (subject "financing:<receivable id>"), newest
   * run first, for the financier it is addressed to: the one who decides on it. The supplier and
   * the debtor read the financing but not the verdicts (a refused request's verdicts were already
   * the requester's answer); auditors and compliance officers read all.
   */
  async checks(user: AuthUser, rawId: string): Promise<ComplianceCheckResponseDto[]> {
    const id = receivableIdParam(rawId, "receivableId");
    const f = await this.financingRepo.findOneBy({ receivableId: id });
    if (!f) throw new NotFoundException(`receivable ${id} has no financing (as indexed so far)`);
    if (!readsEverything(user) && f.financier !== user.address) {
      throw new ForbiddenException(`only the financier of the financing of ${id} (and auditors, compliance officers) read its compliance checks`);
    }
    return (await this.compliance.listChecks("financing", id)).map((e) => ComplianceCheckResponseDto.from(e));
  }

  /** The financing as the API shows it, with its registration number and whether it is overdue. */
  async withRegistration(f: FinancingEntity): Promise<FinancingDto> {
    const numbers = await this.registrationNumbers.byHash([f.registrationHash]);
    return FinancingDto.from(f, this.registration(f, numbers, await this.clock.now()));
  }

  private registration(f: FinancingEntity, numbers: Map<string, string>, now: number) {
    return registrationState(f, numbers.get(f.registrationHash ?? "") ?? null, now, this.config.REGISTRATION_GRACE_DAYS);
  }
}
