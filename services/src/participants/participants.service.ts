/**
 * Members as the ledger sees them (the indexed registry), and the compliance officer's suspend /
 * reinstate requests. A request and its transaction (compliance key) enter the outbox together;
 * its completion handler records the outcome. At most one pending request per member.
 * The KYC sweep suspends members whose KYC has expired and flags those about to expire.
 */
import { readsEverything } from "../audit/read-scope";
import { randomUUID } from "node:crypto";
import {
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
import { InjectDataSource } from "@nestjs/typeorm";
import { encodeBytes32String, getAddress, isAddress } from "ethers";
import { DataSource, In, LessThanOrEqual, type EntityManager } from "typeorm";
import type { AuthUser } from "../auth/auth.decorators";
import { ChainService } from "../chain/chain.service";
import { maskToRoles } from "../../../shared/roles";
import { ComplianceCheckEntity } from "../compliance/entities/compliance-check.entity";
import { APP_CONFIG, type AppConfig } from "../config/env";
import { DbWriter } from "../database/db-writer";
import { MemberEntity } from "../indexer/entities/projections.entity";
import type { OutboxEntity } from "../outbox/entities/outbox.entity";
import { TxSenderService } from "../outbox/tx-sender.service";
import type { ListParticipantsQueryDto, ParticipantPageDto, ParticipantResponseDto } from "./dto/participant.dto";
import { ParticipantActionEntity, type ParticipantActionKind } from "./entities/participant-action.entity";

export const PARTICIPANT_ACTION_REFERENCE = "participant-action";
export const KYC_JOB = "kyc-job";

@Injectable()
export class ParticipantsService implements OnModuleInit, OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(ParticipantsService.name);
  private timer: NodeJS.Timeout | null = null;
  private sweeping: Promise<unknown> | null = null;

  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly db: DbWriter,
    private readonly sender: TxSenderService,
    private readonly chain: ChainService,
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

  async list(user: AuthUser, q: ListParticipantsQueryDto): Promise<ParticipantPageDto> {
    const limit = q.limit ?? 50;
    const qb = this.ds.getRepository(MemberEntity).createQueryBuilder("m");
    if (!readsEverything(user)) qb.andWhere("m.address = :me", { me: user.address });
    if (q.status) qb.andWhere("m.status = :s", { s: q.status });
    if (q.cursor) qb.andWhere("m.address > :c", { c: getAddress(q.cursor) });
    const rows = await qb.orderBy("m.address", "ASC").take(limit + 1).getMany();
    const page = rows.slice(0, limit);
    return {
      items: await Promise.all(page.map((m) => this.view(m))),
      nextCursor: rows.length > limit ? page[page.length - 1].address : null,
    };
  }

  async get(user: AuthUser, address: string): Promise<ParticipantResponseDto> {
    const a = normalise(address);
    if (a !== user.address && !readsEverything(user)) {
      throw new ForbiddenException("You can read only your own membership; compliance officers and auditors read all.");
    }
    const m = await this.ds.getRepository(MemberEntity).findOneBy({ address: a });
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
    const repo = this.ds.getRepository(MemberEntity);
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
      const runId = `kyc-warning-${m.address}-${day}`.slice(0, 36);
      await this.db.write(async (em) => {
        const already = await em.findOneBy(ComplianceCheckEntity, { subjectType: "member", subjectId: m.address, runId });
        if (already) return;
        await em.insert(ComplianceCheckEntity, {
          id: randomUUID(),
          runId,
          subjectType: "member",
          subjectId: m.address,
          ruleCode: "KYC_EXPIRY_WARNING",
          result: "review",
          reason: `KYC expires on ${new Date(m.kycExpiry * 1000).toISOString()}; renew it before then or the member is suspended.`,
          details: { kycExpiry: m.kycExpiry },
          createdAt: Date.now(),
        });
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
    const m = await this.ds.getRepository(MemberEntity).findOneBy({ address });
    if (!m) throw new NotFoundException(`${address} is not a ledger member.`);
    return m;
  }

  private async view(m: MemberEntity): Promise<ParticipantResponseDto> {
    const actions = await this.ds
      .getRepository(ParticipantActionEntity)
      .find({ where: { address: m.address, status: In(["pending", "done", "failed"]) }, order: { createdAt: "DESC" }, take: 20 });
    return {
      address: m.address,
      roles: maskToRoles(m.roles),
      status: m.status,
      verified: m.status === "active" && m.kycExpiry > Date.now() / 1000,
      kycExpiry: new Date(m.kycExpiry * 1000).toISOString(),
      jurisdiction: m.jurisdiction,
      entityIdHash: m.entityIdHash,
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
