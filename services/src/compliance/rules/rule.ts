/**
 * The rules engine. A rule has a stable code (stored with every verdict, so reports and clients may
 * key on it), a subject type it applies to, and an evaluation that returns pass / fail / review
 * with a reason a person can act on. A run evaluates every rule of a subject type, in order, and
 * never stops early: the record shows every reason at once.
 *
 * A rule that throws does not pass: its verdict is "review" with the error as the reason, so a
 * defect in one rule is seen by a person rather than hidden.
 */
import type { CheckResult } from "../entities/compliance-check.entity";

export type SubjectType = "application" | "member" | "invoice" | "financing";
export const SUBJECT_TYPES: readonly SubjectType[] = ["application", "member", "invoice", "financing"];

export interface Verdict {
  result: CheckResult;
  reason: string;
  details?: Record<string, unknown>;
}

export interface RuleOutcome extends Verdict {
  code: string;
}

export interface Rule<C> {
  readonly code: string;
  readonly subject: SubjectType;
  /** What the rule checks, for the documentation and the API. */
  readonly description: string;
  evaluate(ctx: C): Verdict | Promise<Verdict>;
}

export const pass = (reason: string, details?: Record<string, unknown>): Verdict => ({ result: "pass", reason, details });
export const fail = (reason: string, details?: Record<string, unknown>): Verdict => ({ result: "fail", reason, details });
export const review = (reason: string, details?: Record<string, unknown>): Verdict => ({ result: "review", reason, details });

/**
 * Evaluates every rule in order; see the file comment on rules that throw. A verdict given
 * synchronously is taken as it is, without an `await` (most rules are synchronous, and a 200-invoice
 * act evaluates 1,800 of them on each POST: each await cost a promise and a turn of the microtask
 * queue); a promise is awaited, and a rejection is treated as a throw, as before.
 */
export async function evaluateRules<C>(rules: readonly Rule<C>[], ctx: C): Promise<RuleOutcome[]> {
  const outcomes: RuleOutcome[] = [];
  for (const rule of rules) {
    let v: Verdict;
    try {
      const given = rule.evaluate(ctx);
      v = isPromiseLike(given) ? await given : given;
    } catch (err) {
      v = review(`The rule could not be evaluated (${(err as Error).message}); a compliance officer must check it by hand.`, {
        error: (err as Error).name,
      });
    }
    const outcome: RuleOutcome = { code: rule.code, result: v.result, reason: v.reason };
    if (v.details !== undefined) outcome.details = v.details;
    outcomes.push(outcome);
  }
  return outcomes;
}

/** fail if any rule failed, else review if any asked for review, else pass. */
export function overallOf(outcomes: readonly { result: CheckResult }[]): CheckResult {
  if (outcomes.some((o) => o.result === "fail")) return "fail";
  if (outcomes.some((o) => o.result === "review")) return "review";
  return "pass";
}

function isPromiseLike<T>(v: T | PromiseLike<T>): v is PromiseLike<T> {
  return typeof (v as { then?: unknown } | null)?.then === "function";
}
