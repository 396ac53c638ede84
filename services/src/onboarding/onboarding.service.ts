/**
 * Onboarding: applications with KYC documents, screening on submission, and a compliance
 * officer's decision. Approval writes the application's new state and the registration
 * transaction (operator key) to the outbox in one database transaction; the sender's completion
 * handler moves the application to `approved` or `failed` in the same transaction that settles
 * the transaction, so an application is never left approved-but-unregistered or the reverse.
 * One open application per address; one registration per legal entity.
 * KYC documents stream to a staging folder and enter the document store only with an accepted
 * application: who may apply is checked before the upload is read (ApplicationUploadGate), the
 * legal entity once the form is parsed, and an applicant's documents together and the whole store
 * are capped (UPLOAD_APPLICANT_MAX_BYTES, DOCUMENTS_MAX_TOTAL_BYTES).
 */
import { readsEverything } from "../audit/read-scope";
import { randomUUID } from "node:crypto";
import {
  BadRequestException,
  ConflictException,
  ForbiddenException,
  Inject,
  Injectable,
  NotFoundException,
  PayloadTooLargeException,
  type OnModuleInit,
} from "@nestjs/common";
import { InjectRepository } from "@nestjs/typeorm";
import { getAddress, id as keccakText, hexlify, toUtf8Bytes } from "ethers";
import { In, type EntityManager, type Repository } from "typeorm";
import type { AuthUser } from "../auth/auth.decorators";
import { ChainService } from "../chain/chain.service";
import { DocumentsStore, attachment, type StagedFile } from "../common/documents.store";
import { maskToRoles, rolesToMask } from "../../../shared/roles";
import { ComplianceService, type ComplianceRun } from "../compliance/compliance.service";
import { APP_CONFIG, type AppConfig } from "../config/env";
import { DbWriter } from "../database/db-writer";
import { Members } from "../read-model/members";
import type { OutboxEntity } from "../outbox/entities/outbox.entity";
import { TxSenderService } from "../outbox/tx-sender.service";
import type {
  ApplicationPageDto,
  ApplicationResponseDto,
  ApproveApplicationDto,
  CreateApplicationDto,
  ListApplicationsQueryDto,
} from "./dto/application.dto";
import { ApplicationDocumentEntity, ApplicationEntity, type ApplicationStatus } from "./entities/application.entity";

export type UploadedDocument = StagedFile;

const OPEN: ApplicationStatus[] = ["submitted", "needs_review", "approving"];
const DECIDABLE: ApplicationStatus[] = ["submitted", "needs_review"];
export const APPLICATION_REFERENCE = "application";

/** keccak256 of "<type>:<id>", as recorded on-chain as the member's entity id hash. */
export function entityIdHash(type: string, entityId: string): string {
  return keccakText(`${type}:${entityId.toUpperCase()}`);
}

@Injectable()
export class OnboardingService implements OnModuleInit {
  constructor(
    private readonly members: Members,
    @InjectRepository(ApplicationEntity) private readonly applications: Repository<ApplicationEntity>,
    @InjectRepository(ApplicationDocumentEntity) private readonly applicationDocuments: Repository<ApplicationDocumentEntity>,
    private readonly db: DbWriter,
    private readonly sender: TxSenderService,
    private readonly chain: ChainService,
    private readonly compliance: ComplianceService,
    private readonly documents: DocumentsStore,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    this.sender.onCompletion(APPLICATION_REFERENCE, (row, m) => this.onRegistrationSettled(row, m));
  }

  /** Refuses an address that may not apply now: a member, or one with an application open. */
  async assertMayApply(applicant: string): Promise<void> {
    const address = getAddress(applicant);
    const member = await this.members.byAddress(address);
    if (member) throw new ConflictException(`${address} is already a ledger member; no application is needed.`);
    const open = await this.applications.findOne({ where: { applicant: address, status: In(OPEN) } });
    if (open) throw new ConflictException(`${address} already has an open application (${open.id}, ${open.status}).`);
  }

  /** Refuses `bytes` more of documents from `applicant` beyond its cap or the store's (413). */
  async assertUploadFits(applicant: string, bytes: number): Promise<void> {
    const cap = this.config.UPLOAD_APPLICANT_MAX_BYTES;
    const row = (await this.applicationDocuments
      .createQueryBuilder("d")
      .innerJoin(ApplicationEntity, "a", "a.id = d.application_id")
      .where("a.applicant = :applicant", { applicant: getAddress(applicant) })
      .select("COALESCE(SUM(d.size), 0)", "used")
      .getRawOne()) as { used: string | number };
    const used = Number(row.used);
    if (used + bytes > cap) {
      throw new PayloadTooLargeException(
        `An applicant's documents may total at most ${cap} bytes; ${used} are stored for ${getAddress(applicant)} and this upload is ${bytes}.`,
      );
    }
    if ((await this.documents.usedBytes()) + bytes > this.config.DOCUMENTS_MAX_TOTAL_BYTES) {
      throw new PayloadTooLargeException("Document storage is full; try again later or contact the platform operator.");
    }
  }

  async submit(applicant: string, dto: CreateApplicationDto, files: UploadedDocument[]): Promise<ApplicationResponseDto> {
    const address = getAddress(applicant);
    const hash = entityIdHash(dto.entityIdType, dto.entityId);
    await this.assertMayApply(address);
    const sameEntity = await this.members.byEntityIdHash(hash);
    if (sameEntity) {
      throw new ConflictException(`This legal entity is already registered under ${sameEntity.address}.`);
    }
    await this.assertUploadFits(address, files.reduce((n, f) => n + f.size, 0));
    const stored = await Promise.all(files.map(async (f) => ({ file: f, sha256: await DocumentsStore.sha256OfFile(f.path) })));
    const id = randomUUID();
    await this.db.write(async (m) => {
      const open = await m.findOne(ApplicationEntity, { where: { applicant: address, status: In(OPEN) } });
      if (open) throw new ConflictException(`${address} already has an open application (${open.id}, ${open.status}).`);
      const taken = await m.findOne(ApplicationEntity, {
        where: { entityIdHash: hash, status: In(["approving", "approved"]) },
      });
      if (taken) throw new ConflictException(`This legal entity is already being registered under ${taken.applicant}.`);
      const now = Date.now();
      const app = m.create(ApplicationEntity, {
        id,
        applicant: address,
        legalName: dto.legalName,
        entityId: dto.entityId,
        entityIdType: dto.entityIdType,
        entityIdHash: hash,
        jurisdiction: dto.jurisdiction,
        requestedRoles: rolesToMask(dto.roles),
        status: "submitted",
        screeningResult: "pass",
        decisionReason: null,
        decidedBy: null,
        kycExpiry: null,
        outboxId: null,
        txHash: null,
        createdAt: now,
        updatedAt: now,
      });
      for (const { file, sha256 } of stored) {
        await m.insert(ApplicationDocumentEntity, {
          id: randomUUID(),
          applicationId: id,
          filename: Array.from(file.originalname).slice(0, 200).join(""),
          contentType: (file.mimetype || "application/octet-stream").slice(0, 100),
          size: file.size,
          sha256,
          createdAt: now,
        });
      }
      const run = await this.compliance.screenApplication(m, {
        id,
        legalName: dto.legalName,
        entityId: dto.entityId,
        entityIdType: dto.entityIdType,
        jurisdiction: dto.jurisdiction,
        requestedRoles: app.requestedRoles,
        documentCount: stored.length,
      });
      app.screeningResult = run.overall;
      if (run.overall === "fail") {
        app.status = "rejected";
        app.decisionReason = `Rejected automatically by screening: ${failures(run)}`;
      } else if (run.overall === "review") {
        app.status = "needs_review";
      }
      await m.insert(ApplicationEntity, app);
      // Last, so a refused application leaves its uploads in staging (discarded with the
      // request); should the commit still fail, the sweep removes the unreferenced files.
      for (const { file, sha256 } of stored) await this.documents.adopt(file, sha256);
    });
    return this.view(id);
  }

  async list(user: AuthUser, q: ListApplicationsQueryDto): Promise<ApplicationPageDto> {
    const limit = q.limit ?? 50;
    const qb = this.applications.createQueryBuilder("a");
    if (!readsEverything(user)) qb.andWhere("a.applicant = :me", { me: user.address });
    if (q.status) qb.andWhere("a.status = :status", { status: q.status });
    if (q.cursor) {
      const [createdAt, id] = decodeCursor(q.cursor);
      qb.andWhere("(a.created_at < :c OR (a.created_at = :c AND a.id < :id))", { c: createdAt, id });
    }
    const rows = await qb.orderBy("a.created_at", "DESC").addOrderBy("a.id", "DESC").take(limit + 1).getMany();
    const page = rows.slice(0, limit);
    return {
      items: await Promise.all(page.map((r) => this.view(r.id))),
      nextCursor: rows.length > limit ? encodeCursor(page[page.length - 1]) : null,
    };
  }

  async get(user: AuthUser, id: string): Promise<ApplicationResponseDto> {
    const app = await this.find(id);
    if (app.applicant !== user.address && !readsEverything(user)) {
      throw new ForbiddenException("Only the applicant, compliance officers and auditors can read this application.");
    }
    return this.view(id);
  }

  /** One KYC document of an application, as an attachment (applicant, compliance officers, auditors). */
  async download(user: AuthUser, id: string, documentId: string): Promise<ReturnType<typeof attachment>> {
    await this.get(user, id);
    const doc = await this.applicationDocuments.findOneBy({ id: documentId, applicationId: id });
    if (!doc) throw new NotFoundException(`Application ${id} has no document ${documentId}.`);
    const content = this.documents.get(doc.sha256);
    if (!content || DocumentsStore.sha256(content) !== doc.sha256) {
      throw new ConflictException(`Document ${documentId} of application ${id} is missing or altered in storage; restore it from backup.`);
    }
    return attachment(content, doc.filename, doc.contentType);
  }

  async approve(officer: AuthUser, id: string, dto: ApproveApplicationDto, wait: boolean): Promise<ApplicationResponseDto> {
    const days = dto.kycValidityDays ?? this.config.KYC_VALIDITY_DAYS;
    const outbox = await this.db.write(async (m) => {
      const app = await m.findOneBy(ApplicationEntity, { id });
      if (!app) throw new NotFoundException(`No application ${id}.`);
      this.assertDecidable(app);
      if (app.screeningResult === "fail") throw new ConflictException("Screening failed for this application; it cannot be approved.");
      const kycExpiry = Math.floor(Date.now() / 1000) + days * 86400;
      const data = this.chain.contracts.registry.interface.encodeFunctionData("register", [
        app.applicant,
        app.requestedRoles,
        kycExpiry,
        hexlify(toUtf8Bytes(app.jurisdiction)),
        app.entityIdHash,
      ]);
      const row = await this.sender.enqueue(m, {
        signer: "operator",
        to: this.chain.addresses.ParticipantRegistry,
        data,
        kind: "registry.register",
        referenceType: APPLICATION_REFERENCE,
        referenceId: id,
      });
      const res = await m
        .createQueryBuilder()
        .update(ApplicationEntity)
        .set({ status: "approving", decidedBy: officer.address, kycExpiry, outboxId: row.id, updatedAt: Date.now() })
        .where("id = :id AND status IN (:...from)", { id, from: DECIDABLE })
        .execute();
      if (!res.affected) throw new ConflictException(`Application ${id} was decided by someone else just now.`);
      return row;
    });
    if (wait) await this.sender.waitFor(outbox.id, 60_000);
    return this.view(id);
  }

  async reject(officer: AuthUser, id: string, reason: string): Promise<ApplicationResponseDto> {
    await this.db.write(async (m) => {
      const app = await m.findOneBy(ApplicationEntity, { id });
      if (!app) throw new NotFoundException(`No application ${id}.`);
      this.assertDecidable(app);
      await m.update(
        ApplicationEntity,
        { id },
        { status: "rejected", decidedBy: officer.address, decisionReason: reason, updatedAt: Date.now() },
      );
    });
    return this.view(id);
  }

  private async onRegistrationSettled(row: OutboxEntity, m: EntityManager): Promise<void> {
    if (row.status === "mined") {
      await m.update(
        ApplicationEntity,
        { id: row.referenceId!, status: "approving" },
        { status: "approved", txHash: row.txHash, updatedAt: Date.now() },
      );
    } else {
      await m.update(
        ApplicationEntity,
        { id: row.referenceId!, status: "approving" },
        { status: "failed", txHash: row.txHash, decisionReason: row.failureReason, updatedAt: Date.now() },
      );
    }
  }

  private assertDecidable(app: ApplicationEntity): void {
    if (!DECIDABLE.includes(app.status)) {
      throw new ConflictException(`Application ${app.id} is ${app.status}; only submitted or needs_review applications can be decided.`);
    }
  }

  private async find(id: string): Promise<ApplicationEntity> {
    const app = /^[0-9a-f-]{36}$/i.test(id) ? await this.applications.findOneBy({ id }) : null;
    if (!app) throw new NotFoundException(`No application ${id}.`);
    return app;
  }

  async view(id: string): Promise<ApplicationResponseDto> {
    const a = await this.find(id);
    const docs = await this.applicationDocuments.find({ where: { applicationId: id }, order: { createdAt: "ASC" } });
    const checks = await this.compliance.latestRunChecks("application", id);
    return {
      id: a.id,
      applicant: a.applicant,
      legalName: a.legalName,
      entityIdType: a.entityIdType,
      entityId: a.entityId,
      jurisdiction: a.jurisdiction,
      roles: maskToRoles(a.requestedRoles),
      status: a.status,
      screeningResult: a.screeningResult,
      checks: checks.map((c) => ({ code: c.ruleCode, result: c.result, reason: c.reason })),
      decisionReason: a.decisionReason,
      decidedBy: a.decidedBy,
      kycExpiry: a.kycExpiry ? new Date(a.kycExpiry * 1000).toISOString() : null,
      txHash: a.txHash,
      documents: docs.map((d) => ({ id: d.id, filename: d.filename, contentType: d.contentType, size: d.size, sha256: d.sha256 })),
      createdAt: new Date(a.createdAt).toISOString(),
      updatedAt: new Date(a.updatedAt).toISOString(),
    };
  }
}

function failures(run: ComplianceRun): string {
  return run.outcomes
    .filter((o) => o.result === "fail")
    .map((o) => `${o.code}: ${o.reason}`)
    .join("; ");
}

function encodeCursor(a: ApplicationEntity): string {
  return Buffer.from(`${a.createdAt}|${a.id}`).toString("base64url");
}

function decodeCursor(c: string): [number, string] {
  const [t, id] = Buffer.from(c, "base64url").toString().split("|");
  const n = Number(t);
  if (!Number.isSafeInteger(n) || !id) throw new BadRequestException("cursor is not one this API returned");
  return [n, id];
}
