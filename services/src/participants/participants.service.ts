/**
 * Members as the ledger sees them (the indexed registry), and the compliance officer's suspend /
 * reinstate requests. A request and its transaction (compliance key) enter the outbox together;
 * its completion handler records the outcome. At most one pending request per member.
 * The KYC sweep suspends members whose KYC has expired and flags those about to expire.
 */
import { readsEverything } from "../audit/read-scope";
import { randomUUID } from "node:crypto";
import {
  BadRequestException,
  ConflictException,
  ForbiddenException,
  Inject,
  Injectable,
  Logger,
  NotFoundException,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
  type OnModuleInit,
} from "@nestjs/common";
import { InjectRepository } from "@nestjs/typeorm";
import { encodeBytes32String, getAddress, isAddress } from "ethers";
import { In, LessThanOrEqual, type EntityManager, type Repository } from "typeorm";
import type { AuthUser } from "../auth/auth.decorators";
import { ChainService } from "../chain/chain.service";
import { maskToRoles } from "../../../shared/roles";
import { ComplianceService } from "../compliance/compliance.service";
import { review } from "../compliance/rules/rule";
import { ComplianceCheckEntity } from "../compliance/entities/compliance-check.entity";
import { APP_CONFIG, type AppConfig } from "../config/env";
import { DbWriter } from "../database/db-writer";
import { MemberEntity, ReceivableEntity } from "../read-model/entities/projections.entity";
import { ApprovedIdentities } from "../onboarding/approved-identities";
import type { ApplicationEntity } from "../onboarding/entities/application.entity";
import type { OutboxEntity } from "../outbox/entities/outbox.entity";
import { TxSenderService } from "../outbox/tx-sender.service";
import type { ListParticipantsQueryDto, ParticipantPageDto, ParticipantResponseDto } from "./dto/participant.dto";
import { ParticipantActionEntity, type ParticipantActionKind } from "./entities/participant-action.entity";
import { nameKey, taxIdHash } from "./participant-lookup";

export const PARTICIPANT_ACTION_REFERENCE = "participant-action";
export const KYC_JOB = "kyc-job";

@Injectable()
export class ParticipantsService implements OnModuleInit, OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(ParticipantsService.name);
  private timer: NodeJS.Timeout | null = null;
  private sweeping: Promise<unknown> | null = null;

  constructor(
    @InjectRepository(MemberEntity) private readonly members: Repository<MemberEntity>,
    @InjectRepository(ParticipantActionEntity) private readonly participantActions: Repository<ParticipantActionEntity>,
    @InjectRepository(ReceivableEntity) private readonly receivables: Repository<ReceivableEntity>,
    private readonly approved: ApprovedIdentities,
    private readonly db: DbWriter,
    private readonly sender: TxSenderService,
    private readonly chain: ChainService,
    private readonly compliance: ComplianceService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    this.sender.onCompletion(PARTICIPANT_ACTION_REFERENCE, (row, m) => this.onActionSettled(row, m));
  }

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => {
      if (this.sweeping) return;
      this.sweeping = this.kycSweep()
        .catch((err: unknown) => this.logger.error(`KYC sweep failed: ${(err as Error).message}`))
        .finally(() => (this.sweeping = null));
    }, this.config.KYC_JOB_INTERVAL_MS);
    this.timer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.sweeping;
  }

  /**
   * Without a lookup: yourself (compliance officers and auditors: every member). With one (name,
   * taxId or address): the members it finds within the caller's read scope, which for a lookup is
   * yourself and your counterparties (members you share a receivable or its financing with), or
   * everyone for compliance officers and auditors. A tax id is what an invoice prints, so any
   * verified member may find the member registered under one, counterparty or not: it is how a
   * supplier addresses an invoice to its buyer.
   */
  async list(user: AuthUser, q: ListParticipantsQueryDto): Promise<ParticipantPageDto> {
    const limit = q.limit ?? 50;
    const all = readsEverything(user);
    const lookups = [q.name, q.taxId, q.address].filter((v) => v !== undefined).length;
    if (lookups > 1) throw new BadRequestException("Give one of name, taxId or address, not several.");
    const qb = this.members.createQueryBuilder("m");
    if (q.taxId !== undefined) {
      const t = taxIdHash(q.taxId);
      if ("problem" in t) throw new BadRequestException(`${t.problem}.`);
      if (!all && !user.verifiedMember) {
        throw new ForbiddenException("Looking members up by tax id is for verified members, compliance officers and auditors.");
      }
      qb.andWhere("m.entityIdHash = :h", { h: t.hash });
    } else if (q.name !== undefined || q.address !== undefined) {
      let within = all ? null : await this.counterparties(user.address);
      if (q.address !== undefined) within = (within ?? [getAddress(q.address.toLowerCase())]).filter((a) => a === getAddress(q.address!.toLowerCase()));
      if (q.name !== undefined) {
        const key = nameKey(q.name);
        if (key.length < 2) throw new BadRequestException("name must hold at least two letters or digits.");
        const named = [...(await this.identities(within)).entries()].filter(([, app]) => nameKey(app.legalName).includes(key)).map(([a]) => a);
        within = named;
      }
      if (!within!.length) return { items: [], nextCursor: null };
      qb.andWhere("m.address IN (:...within)", { within });
    } else if (!all) qb.andWhere("m.address = :me", { me: user.address });
    if (q.status) qb.andWhere("m.status = :s", { s: q.status });
    if (q.cursor) qb.andWhere("m.address > :c", { c: getAddress(q.cursor) });
    const rows = await qb.orderBy("m.address", "ASC").take(limit + 1).getMany();
    const page = rows.slice(0, limit);
    const ids = await this.identities(page.map((m) => m.address));
    return {
      items: await Promise.all(page.map((m) => this.view(m, ids.get(m.address) ?? null))),
      nextCursor: rows.length > limit ? page[page.length - 1].address : null,
    };
  }

  /** `me` and every member it shares a receivable with (seller, debtor, holder, or financier of its financing). */
  private async counterparties(me: string): Promise<string[]> {
    // r.financier is the financier of the receivable's financing (the projector's copy of financings.financier).
    const rows = await this.receivables
      .createQueryBuilder("r")
      .select(["r.seller AS seller", "r.debtor AS debtor", "r.holder AS holder", "r.financier AS financier"])
      .distinct(true)
      .where("(r.seller = :me OR r.debtor = :me OR r.holder = :me OR r.financier = :me)", { me })
      .getRawMany<{ seller: string; debtor: string; holder: string | null; financier: string | null }>();
    const out = new Set<string>([me]);
    for (const t of rows) for (const a of [t.seller, t.debtor, t.holder, t.financier]) if (a) out.add(a);
    return [...out];
  }

  /** The latest approved application of each address (all addresses when `addresses` is null). */
  private identities(addresses: string[] | null): Promise<Map<string, ApplicationEntity>> {
    return this.approved.ofAddresses(addresses);
  }

  async get(user: AuthUser, address: string): Promise<ParticipantResponseDto> {
    const a = normalise(address);
    if (a !== user.address && !readsEverything(user)) {
      throw new ForbiddenException("You can read only your own membership; compliance officers and auditors read all.");
    }
    const m = await this.members.findOneBy({ address: a });
    if (!m) throw new NotFoundException(`${a} is not a ledger member.`);
    return this.view(m);
  }

  async suspend(officer: AuthUser | typeof KYC_JOB, address: string, reason: string, reasonCode = "COMPLIANCE_REVIEW"): Promise<ParticipantResponseDto> {
    const a = normalise(address);
    await this.request(officer, a, "suspend", reason, reasonCode, (status) => {
      if (status === "suspended") throw new ConflictException(`${a} is already suspended.`);
    });
    return this.view(await this.member(a));
  }

  async reinstate(officer: AuthUser, address: string, reason: string | undefined): Promise<ParticipantResponseDto> {
    const a = normalise(address);
    await this.request(officer, a, "reinstate", reason ?? null, null, (status) => {
      if (status !== "suspended") throw new ConflictException(`${a} is not suspended.`);
    });
    return this.view(await this.member(a));
  }

  /**
   * Suspends active members whose KYC has expired and records a review check for those expiring
   * within KYC_WARNING_DAYS. Returns what it did.
   */
  async kycSweep(now = new Date()): Promise<{ suspended: string[]; warned: string[] }> {
    const nowSec = Math.floor(now.getTime() / 1000);
    const repo = this.members;
    const expired = await repo.find({ where: { status: "active", kycExpiry: LessThanOrEqual(nowSec) } });
    const suspended: string[] = [];
    for (const m of expired) {
      try {
        await this.suspend(KYC_JOB, m.address, `KYC expired on ${new Date(m.kycExpiry * 1000).toISOString()}`, "KYC_EXPIRED");
        suspended.push(m.address);
      } catch (err) {
        if (!(err instanceof ConflictException)) throw err; // a request is already pending
      }
    }
    const soon = await repo.find({
      where: { status: "active", kycExpiry: LessThanOrEqual(nowSec + this.config.KYC_WARNING_DAYS * 86400) },
    });
    const warned: string[] = [];
    const day = new Date(now).toISOString().slice(0, 10);
    for (const m of soon.filter((x) => x.kycExpiry > nowSec)) {
      // One warning per member and day: the run id (36 characters at most) names both. It was
      // `kyc-warning-<address>-<day>` cut to 36, which dropped the day, so a member was warned once ever.
      const runId = `kyc-${day}-${m.address.slice(2, 22).toLowerCase()}`;
      await this.db.write(async (em) => {
        const already = await em.findOneBy(ComplianceCheckEntity, { subjectType: "member", subjectId: m.address, runId });
        if (already) return;
        const reason = `KYC expires on ${new Date(m.kycExpiry * 1000).toISOString()}; renew it before then or the member is suspended.`;
        await this.compliance.recordCheck(em, runId, "member", m.address, { code: "KYC_EXPIRY_WARNING", ...review(reason, { kycExpiry: m.kycExpiry }) });
        warned.push(m.address);
      });
    }
    if (suspended.length || warned.length) {
      this.logger.warn(`KYC sweep: suspending ${suspended.length} expired member(s), ${warned.length} expiring soon`);
    }
    return { suspended, warned };
  }

  private async request(
    by: AuthUser | typeof KYC_JOB,
    address: string,
    action: ParticipantActionKind,
    reason: string | null,
    reasonCode: string | null,
    check: (onChainStatus: "active" | "suspended") => void,
  ): Promise<void> {
    // The registry is the authority: the projection may lag behind a suspension just mined.
    const onChain = await this.chain.contracts.registry.member(address);
    await this.db.write(async (em) => {
      const member = await em.findOneBy(MemberEntity, { address });
      if (!member || onChain.status === 0n) throw new NotFoundException(`${address} is not a ledger member.`);
      check(onChain.status === 2n ? "suspended" : "active");
      const pending = await em.findOneBy(ParticipantActionEntity, { address, status: "pending" });
      if (pending) throw new ConflictException(`A ${pending.action} request for ${address} is already in progress (${pending.id}).`);
      const registry = this.chain.contracts.registry.interface;
      const data =
        action === "suspend"
          ? registry.encodeFunctionData("suspend", [address, encodeBytes32String(reasonCode!)])
          : registry.encodeFunctionData("reinstate", [address]);
      const id = randomUUID();
      const row = await this.sender.enqueue(em, {
        signer: "compliance",
        to: this.chain.addresses.ParticipantRegistry,
        data,
        kind: `registry.${action}`,
        referenceType: PARTICIPANT_ACTION_REFERENCE,
        referenceId: id,
      });
      const now = Date.now();
      await em.insert(ParticipantActionEntity, {
        id,
        address,
        action,
        reasonCode,
        reason,
        requestedBy: by === KYC_JOB ? KYC_JOB : by.address,
        status: "pending",
        outboxId: row.id,
        txHash: null,
        failureReason: null,
        createdAt: now,
        updatedAt: now,
      });
    });
  }

  private async onActionSettled(row: OutboxEntity, m: EntityManager): Promise<void> {
    await m.update(
      ParticipantActionEntity,
      { id: row.referenceId!, status: "pending" },
      {
        status: row.status === "mined" ? "done" : "failed",
        txHash: row.txHash,
        failureReason: row.status === "mined" ? null : row.failureReason,
        updatedAt: Date.now(),
      },
    );
  }

  private async member(address: string): Promise<MemberEntity> {
    const m = await this.members.findOneBy({ address });
    if (!m) throw new NotFoundException(`${address} is not a ledger member.`);
    return m;
  }

  /** `identity`: its approved application if already read (null: it has none), else read here. */
  private async view(m: MemberEntity, identity?: ApplicationEntity | null): Promise<ParticipantResponseDto> {
    if (identity === undefined) identity = (await this.identities([m.address])).get(m.address) ?? null;
    // A later application of the same address for another entity is not this membership's identity.
    const id = identity?.entityIdHash === m.entityIdHash ? identity : undefined;
    const actions = await this.participantActions.find({ where: { address: m.address, status: In(["pending", "done", "failed"]) }, order: { createdAt: "DESC" }, take: 20 });
    return {
      address: m.address,
      roles: maskToRoles(m.roles),
      status: m.status,
      verified: m.status === "active" && m.kycExpiry > Date.now() / 1000,
      kycExpiry: new Date(m.kycExpiry * 1000).toISOString(),
      jurisdiction: m.jurisdiction,
      entityIdHash: m.entityIdHash,
      legalName: id?.legalName ?? null,
      entityId: id?.entityId ?? null,
      entityIdType: id?.entityIdType ?? null,
      suspensionReason: m.suspensionReason,
      registeredBlock: m.registeredBlock,
      actions: actions.map((x) => ({
        id: x.id,
        action: x.action,
        status: x.status,
        reasonCode: x.reasonCode,
        reason: x.reason,
        requestedBy: x.requestedBy,
        txHash: x.txHash,
        failureReason: x.failureReason,
        createdAt: new Date(x.createdAt).toISOString(),
      })),
    };
  }
}

function normalise(address: string): string {
  if (!isAddress(address)) throw new NotFoundException(`${address} is not an address.`);
  return getAddress(address);
}
