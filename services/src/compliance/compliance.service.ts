/**
 * Compliance: runs a subject's rules and records every verdict. One run stores one
 * ComplianceCheckEntity per rule, all with the same run id and time, whatever the outcome, so the
 * record shows every reason at once. Run ids are time-ordered (UUIDv7).
 *
 * Pass the caller's EntityManager to read and store inside the caller's own transaction (the run
 * then commits or rolls back with the caller's work). Pass null and the run is one transaction of
 * its own through DbWriter; do not pass null from inside a DbWriter.write callback on SQLite (the
 * writer's lock is not re-entrant).
 */
import { BadRequestException, Inject, Injectable } from "@nestjs/common";
import type { EntityManager } from "typeorm";
import { APP_CONFIG, type AppConfig } from "../config/env";
import { DbWriter } from "../database/db-writer";
import { ComplianceRecords } from "./compliance.records";
import { ComplianceCheckResponseDto } from "./dto/compliance-check-response.dto";
import { ComplianceCheckEntity, type CheckResult } from "./entities/compliance-check.entity";
import { FINANCING_RULES, type FinancingInput } from "./rules/financing.rules";
import { CONCENTRATION_FLOOR_FEN, INVOICE_RULES, type InvoiceInput } from "./rules/invoice.rules";
import { APPLICATION_RULES, MEMBER_RULES, type ApplicationInput, type MemberInput, type PartyPolicy } from "./rules/party.rules";
import { evaluateRules, overallOf, SUBJECT_TYPES, type Rule, type RuleOutcome, type SubjectType } from "./rules/rule";
import { timeOrderedId } from "./run-id";
import { SanctionsScreener, type SanctionsMatch } from "./sanctions/sanctions-screener";

export type { SanctionsMatch } from "./sanctions/sanctions-screener";
export type { ApplicationInput, MemberInput } from "./rules/party.rules";
export type { InvoiceInput } from "./rules/invoice.rules";
export type { FinancingInput } from "./rules/financing.rules";

export interface ComplianceRun {
  runId: string;
  subjectType: string;
  subjectId: string;
  overall: "pass" | "fail" | "review";
  outcomes: Array<{ code: string; result: "pass" | "fail" | "review"; reason: string; details?: Record<string, unknown> }>;
}

/** Longest subject id the checks table stores. */
export const MAX_SUBJECT_ID_LENGTH = 80;

/** Parses "<type>:<id>" (the id may itself contain colons). Throws 400 with what is wrong. */
export function parseSubject(subject: string): { subjectType: SubjectType; subjectId: string } {
  const at = subject.indexOf(":");
  const type = at < 0 ? subject : subject.slice(0, at);
  const id = at < 0 ? "" : subject.slice(at + 1);
  if (!(SUBJECT_TYPES as readonly string[]).includes(type) || !id || id.length > MAX_SUBJECT_ID_LENGTH || /\s/.test(id)) {
    throw new BadRequestException(
      `subject must be "<type>:<id>" with type one of ${SUBJECT_TYPES.join(", ")} and an id of 1 to ${MAX_SUBJECT_ID_LENGTH} ` +
        `characters without spaces, e.g. "application:3f0c…" or "member:0xAbC…"`,
    );
  }
  return { subjectType: type as SubjectType, subjectId: id };
}

@Injectable()
export class ComplianceService {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly sanctions: SanctionsScreener,
    private readonly records: ComplianceRecords,
    private readonly db: DbWriter,
  ) {}

  private get partyPolicy(): PartyPolicy {
    return { allowedJurisdictions: this.config.ALLOWED_JURISDICTIONS, kycWarningDays: this.config.KYC_WARNING_DAYS };
  }

  /** KYC screening of an onboarding application (subject "application", id = application id). */
  screenApplication(
    m: EntityManager | null,
    a: { id: string; legalName: string; entityId: string; entityIdType: "LEI" | "USCC"; jurisdiction: string; requestedRoles: number; documentCount: number },
  ): Promise<ComplianceRun> {
    const application: ApplicationInput = { ...a };
    return this.run(m, "application", a.id, APPLICATION_RULES, true, () => ({
      application,
      policy: this.partyPolicy,
      sanctions: this.sanctions,
    }));
  }

  /** Re-screening of an existing member (subject "member", id = its address). */
  screenMember(m: EntityManager | null, member: MemberInput): Promise<ComplianceRun> {
    const now = member.now ?? new Date();
    return this.run(m, "member", member.address, MEMBER_RULES, true, () => ({
      member,
      now,
      policy: this.partyPolicy,
      sanctions: this.sanctions,
    }));
  }

  /** Sanity, duplicate and concentration checks of an invoice before tokenisation (subject "invoice"). */
  checkInvoice(
    m: EntityManager | null,
    inv: { subjectId: string; seller: string; debtor: string; faceValue: bigint; issueDate: Date; dueDate: Date; fingerprint: string; now?: Date },
    opts: { storePassing?: boolean } = {},
  ): Promise<ComplianceRun> {
    const invoice: InvoiceInput = { ...inv };
    const now = inv.now ?? new Date();
    return this.run(m, "invoice", inv.subjectId, INVOICE_RULES, opts.storePassing ?? true, (em) => ({
      invoice,
      now,
      policy: { concentrationLimitBps: this.config.CONCENTRATION_LIMIT_BPS, concentrationFloor: CONCENTRATION_FLOOR_FEN },
      facts: {
        tokenisedStatus: (id: string) => this.records.tokenisedStatus(em, id),
        openExposure: (seller: string, debtor: string) => this.records.openExposure(em, seller, debtor),
      },
    }));
  }

  /** Pre-flight checks of a financing request (subject "financing", id = receivable id). */
  checkFinancing(m: EntityManager | null, f: FinancingInput): Promise<ComplianceRun> {
    const now = f.now ?? new Date();
    const receivableId = f.receivableId.toLowerCase();
    return this.run(m, "financing", receivableId, FINANCING_RULES, true, async (em) => ({
      financing: { ...f, receivableId },
      now,
      receivable: await this.records.receivable(em, receivableId),
      line: await this.records.creditLine(em, f.lineId),
    }));
  }

  /** Sanctions matches for a name, best first (empty: nothing on the list resembles it). Stores nothing. */
  screenName(name: string): SanctionsMatch[] {
    return this.sanctions.screen(name);
  }

  /** GET /compliance/checks: a "<type>:<id>" subject's checks as the API shows them (400 if malformed). */
  async checksOf(subject: string): Promise<ComplianceCheckResponseDto[]> {
    const { subjectType, subjectId } = parseSubject(subject);
    return (await this.listChecks(subjectType, subjectId)).map((e) => ComplianceCheckResponseDto.from(e));
  }

  /** Stored checks of a subject, newest run first, each run's rules in evaluation order. */
  listChecks(subjectType: string, subjectId: string): Promise<ComplianceCheckEntity[]> {
    return this.records.checksFor(subjectType, subjectId);
  }

  private async run<C>(
    m: EntityManager | null,
    subjectType: SubjectType,
    subjectId: string,
    rules: readonly Rule<C>[],
    storePassing: boolean,
    context: (em: EntityManager) => C | Promise<C>,
  ): Promise<ComplianceRun> {
    if (!subjectId || subjectId.length > MAX_SUBJECT_ID_LENGTH) {
      throw new BadRequestException(`A compliance subject id must be 1 to ${MAX_SUBJECT_ID_LENGTH} characters.`);
    }
    const evaluate = async (em: EntityManager) => {
      const outcomes = await evaluateRules(rules, await context(em));
      return { runId: timeOrderedId(), subjectType, subjectId, overall: overallOf(outcomes), outcomes };
    };
    const store = (em: EntityManager, run: ComplianceRun) => {
      const createdAt = Date.now();
      return this.records.storeRun(em, run.outcomes.map((o) => toEntity(o, run.runId, subjectType, subjectId, createdAt)));
    };
    const evaluateAndStore = async (em: EntityManager): Promise<ComplianceRun> => {
      const run = await evaluate(em);
      await store(em, run);
      return run;
    };
    if (m) return evaluateAndStore(m);
    if (storePassing) return this.db.write(evaluateAndStore);
    // A preview (the unsigned step of an act): evaluate on a plain read; keep the run only when it
    // found something (fail or review), so a passing preview costs no write transaction — on SQLite
    // every write waits for every other.
    const run = await evaluate(this.db.ds.manager);
    if (run.overall !== "pass") await this.db.write((em) => store(em, run));
    return run;
  }
}

function toEntity(o: RuleOutcome, runId: string, subjectType: string, subjectId: string, createdAt: number): ComplianceCheckEntity {
  const e = new ComplianceCheckEntity();
  e.id = timeOrderedId(createdAt);
  e.runId = runId;
  e.subjectType = subjectType;
  e.subjectId = subjectId;
  e.ruleCode = o.code;
  e.result = o.result as CheckResult;
  e.reason = o.reason;
  e.details = o.details ? jsonSafe(o.details) : null;
  e.createdAt = createdAt;
  return e;
}

/** Details go into a JSON column: bigints become decimal strings (amounts are never JSON numbers). */
function jsonSafe(details: Record<string, unknown>): Record<string, unknown> {
  return JSON.parse(JSON.stringify(details, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v))) as Record<string, unknown>;
}
