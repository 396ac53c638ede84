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
import { checksumOrNull } from "../common/address";
import type { EntityManager } from "typeorm";
import { APP_CONFIG, type AppConfig } from "../config/env";
import { DbWriter } from "../database/db-writer";
import { receivableIdHex } from "../../../shared/ids";
import { receivableIdOf } from "../../../shared/fingerprint";
import { ComplianceRecords, type SellerBook, type StoredCheck } from "./compliance.records";
import { ComplianceCheckResponseDto } from "./dto/compliance-check-response.dto";
import { ComplianceCheckEntity, type CheckResult } from "./entities/compliance-check.entity";
import { FINANCING_RULES, type FinancingInput } from "./rules/financing.rules";
import {
  CONCENTRATION_FLOOR_FEN,
  INVOICE_RULES,
  type InvoiceContext,
  type InvoiceFacts,
  type InvoiceInput,
  type OpenExposure,
} from "./rules/invoice.rules";
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
  async checkInvoice(m: EntityManager | null, inv: InvoiceSubject, opts: { storePassing?: boolean } = {}): Promise<ComplianceRun> {
    return (await this.checkInvoices(m, [inv], opts))[0];
  }

  /**
   * checkInvoice for every invoice of a batch: one run each, but the facts are read once for the
   * whole batch (one query for the fingerprints, one per seller for its open book) and the runs are
   * stored in one insert. Each invoice's concentration counts the batch's earlier invoices as open
   * exposure, as they will be once the batch is tokenised.
   */
  checkInvoices(m: EntityManager | null, invoices: readonly InvoiceSubject[], opts: { storePassing?: boolean } = {}): Promise<ComplianceRun[]> {
    const now = invoices[0]?.now ?? new Date();
    const policy = { concentrationLimitBps: this.config.CONCENTRATION_LIMIT_BPS, concentrationFloor: CONCENTRATION_FLOOR_FEN };
    return this.runAll(
      m,
      "invoice",
      invoices.map((i) => i.subjectId),
      INVOICE_RULES,
      opts.storePassing ?? true,
      async (em) => {
        const facts = await BatchInvoiceFacts.load(this.records, em, invoices);
        return (i) => ({ invoice: { ...invoices[i] }, now: invoices[i].now ?? now, policy, facts });
      },
      (ctx) => BatchInvoiceFacts.after(ctx),
    );
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

  /** The checks of a subject's latest run, in stored order (an application's screening as onboarding shows it). */
  latestRunChecks(subjectType: string, subjectId: string): Promise<ComplianceCheckEntity[]> {
    return this.records.latestRunChecks(subjectType, subjectId);
  }

  /**
   * Stores one check made outside the rules (the KYC sweep's expiry warning) as a run of its own, the
   * way every run is stored (its run row included, so it is listed under its subject), inside the
   * caller's transaction.
   */
  recordCheck(em: EntityManager, runId: string, subjectType: SubjectType, subjectId: string, outcome: RuleOutcome): Promise<void> {
    return this.records.storeRun(em, [toRow(outcome, runId, subjectType, subjectId, Date.now())]);
  }

  private async run<C>(
    m: EntityManager | null,
    subjectType: SubjectType,
    subjectId: string,
    rules: readonly Rule<C>[],
    storePassing: boolean,
    context: (em: EntityManager) => C | Promise<C>,
  ): Promise<ComplianceRun> {
    const runs = await this.runAll(m, subjectType, [subjectId], rules, storePassing, async (em) => {
      const ctx = await context(em);
      return () => ctx;
    });
    return runs[0];
  }

  /**
   * One run per subject id, evaluated in order. `contexts` prepares what the rules read (once for
   * all subjects) and returns each subject's context; `evaluated`, if given, sees each run's context
   * after its rules ran (a batch counting its earlier invoices).
   */
  private async runAll<C>(
    m: EntityManager | null,
    subjectType: SubjectType,
    subjectIds: readonly string[],
    rules: readonly Rule<C>[],
    storePassing: boolean,
    contexts: (em: EntityManager) => Promise<(index: number) => C>,
    evaluated?: (ctx: C) => void,
  ): Promise<ComplianceRun[]> {
    for (const subjectId of subjectIds) {
      if (!subjectId || subjectId.length > MAX_SUBJECT_ID_LENGTH) {
        throw new BadRequestException(`A compliance subject id must be 1 to ${MAX_SUBJECT_ID_LENGTH} characters.`);
      }
    }
    const evaluate = async (em: EntityManager): Promise<ComplianceRun[]> => {
      const contextOf = await contexts(em);
      const runs: ComplianceRun[] = [];
      for (const [i, subjectId] of subjectIds.entries()) {
        const ctx = contextOf(i);
        const outcomes = await evaluateRules(rules, ctx);
        evaluated?.(ctx);
        runs.push({ runId: timeOrderedId(), subjectType, subjectId, overall: overallOf(outcomes), outcomes });
      }
      return runs;
    };
    const store = (em: EntityManager, runs: readonly ComplianceRun[]) => {
      const createdAt = Date.now();
      return this.records.storeRun(
        em,
        runs.flatMap((run) => run.outcomes.map((o) => toRow(o, run.runId, subjectType, run.subjectId, createdAt))),
      );
    };
    const evaluateAndStore = async (em: EntityManager): Promise<ComplianceRun[]> => {
      const runs = await evaluate(em);
      await store(em, runs);
      return runs;
    };
    if (m) return evaluateAndStore(m);
    if (storePassing) return this.db.write(evaluateAndStore);
    // A preview (the unsigned step of an act): evaluate on a plain read; keep only the runs that
    // found something (fail or review), so a passing preview costs no write transaction — on SQLite
    // every write waits for every other.
    const runs = await evaluate(this.db.manager);
    const kept = runs.filter((r) => r.overall !== "pass");
    if (kept.length) await this.db.write((em) => store(em, kept));
    return runs;
  }
}

/** What checkInvoice reads about one invoice; `now` defaults to the time of the call. */
export type InvoiceSubject = Omit<InvoiceInput, "now"> & { now?: Date };

/**
 * The invoice rules' facts for a batch, read once: fingerprints already tokenised, and each seller's
 * open book, to which every evaluated invoice of the batch is added for the ones after it.
 */
class BatchInvoiceFacts implements InvoiceFacts {
  private constructor(
    private readonly statuses: Map<string, string>,
    private readonly books: Map<string, SellerBook>,
  ) {}

  static async load(records: ComplianceRecords, em: EntityManager, invoices: readonly InvoiceSubject[]): Promise<BatchInvoiceFacts> {
    const statuses = await records.tokenisedStatuses(
      em,
      invoices.flatMap((i) => {
        const fp = i.fingerprint.trim().toLowerCase();
        return /^0x[0-9a-f]{64}$/.test(fp) ? [receivableIdHex(receivableIdOf(fp))] : [];
      }),
    );
    const books = new Map<string, SellerBook>();
    for (const seller of new Set(invoices.map((i) => checksummed(i.seller)))) {
      books.set(seller.toLowerCase(), await records.openBook(em, seller));
    }
    return new BatchInvoiceFacts(statuses, books);
  }

  /** Counts an evaluated invoice into its seller's book, for the invoices after it. */
  static after(ctx: InvoiceContext): void {
    const facts = ctx.facts as BatchInvoiceFacts;
    const book = facts.books.get(ctx.invoice.seller.trim().toLowerCase());
    const face = ctx.invoice.faceValue;
    if (!book || face <= 0n) return;
    const d = ctx.invoice.debtor.trim().toLowerCase();
    book.total += face;
    book.byDebtor.set(d, (book.byDebtor.get(d) ?? 0n) + face);
    book.receivables += 1;
  }

  tokenisedStatus(receivableId: string): Promise<string | null> {
    return Promise.resolve(this.statuses.get(receivableId) ?? null);
  }

  openExposure(seller: string, debtor: string): Promise<OpenExposure> {
    const book = this.books.get(seller.trim().toLowerCase());
    return Promise.resolve({
      sellerTotal: book?.total ?? 0n,
      debtorTotal: book?.byDebtor.get(debtor.trim().toLowerCase()) ?? 0n,
      receivables: book?.receivables ?? 0,
    });
  }
}

const checksummed = (a: string) => {
  const t = a.trim();
  return checksumOrNull(t) !== null ? checksumOrNull(t.toLowerCase())! : t;
};

function toRow(o: RuleOutcome, runId: string, subjectType: string, subjectId: string, createdAt: number): StoredCheck {
  return {
    id: timeOrderedId(createdAt),
    runId,
    subjectType,
    subjectId,
    ruleCode: o.code,
    result: o.result as CheckResult,
    reason: o.reason,
    details: o.details ? detailsJson(o.details) : null,
    createdAt,
  };
}

/**
 * The stored text of a check's details (a JSON column): bigints become decimal strings (amounts are
 * never JSON numbers). The same text the column got when the parsed value went through simple-json:
 * JSON.stringify of JSON.parse of a JSON.stringify output gives that output again.
 */
export function detailsJson(details: Record<string, unknown>): string {
  // The rules give amounts as decimal strings already: most details hold no bigint, and
  // JSON.stringify without a replacer (which calls back into JavaScript for every key) is ~2× faster.
  // A bigint makes it throw (and nothing else does for these plain values); only then the replacer
  // runs. The replacer changes nothing but bigints, so both give the same text.
  try {
    return JSON.stringify(details);
  } catch (err) {
    if (!(err instanceof TypeError)) throw err;
    return JSON.stringify(details, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v));
  }
}
