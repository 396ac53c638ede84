/**
 * The sanctions list in memory and name screening against it. The list is read once, when the
 * module starts, from SANCTIONS_LIST_FILE; a missing, unreadable or empty list stops the service
 * from starting (screening against nothing would pass everyone). Every listed name is prepared
 * once, so a screening is only comparisons.
 *
 * Names are compared as written and as they look (name-matching.ts), so look-alike letters, digits
 * for letters, zero-width characters and small capitals score as the name they imitate.
 *
 * Classification, on scores rounded to 3 decimals:
 * - full score ≥ SANCTIONS_MATCH_THRESHOLD → "fail" (a match), unless the listed name is an alias
 *   the list itself marks low quality, or one word pair is less alike than the review threshold
 *   (a different surname beside a shared long given name): those reach "review" only;
 * - full score ≥ SANCTIONS_REVIEW_THRESHOLD → "review";
 * - a strong containment (partial score ≥ SANCTIONS_MATCH_THRESHOLD: every word of the shorter name
 *   found in the longer) → "review";
 * - anything else is not reported.
 */
import { Inject, Injectable, Logger, type OnModuleInit } from "@nestjs/common";
import { APP_CONFIG, type AppConfig } from "../../config/env";
import { bagDistance, charBag, compactBound, prepareName, scoreNames, SimilarityCache, type NameForm, type PreparedName } from "./name-matching";
import { loadSanctionsList, type ListedName, type ListedType, type SanctionsList } from "./sanctions-list";

export interface SanctionsMatch {
  /** The list's reference of the entry (UN reference number, OFAC ent_num). */
  reference: string;
  type: ListedType;
  /** The entry's primary name. */
  listedName: string;
  /** The name or alias of the entry that matched. */
  matchedName: string;
  matchedAs: ListedName["kind"];
  /** Similarity in [0, 1], 3 decimals. */
  score: number;
  /** "full": the names are alike as wholes; "partial": one is contained in the other. */
  match: "full" | "partial";
  /**
   * The score needed the look-alike reading of the names (Cyrillic or Greek letters read as the
   * Latin ones they imitate, I read as l, digits 0 and 1 as letters): written differently, looks the same.
   */
  lookalike: boolean;
  result: "fail" | "review";
  programme: string | null;
}

export interface Thresholds {
  match: number;
  review: number;
}

interface PreparedEntry {
  index: number;
  name: ListedName;
  prepared: PreparedName;
}

type TokenIndex = Array<Array<{ token: string; bag: Int16Array; holders: number[] }>>;

/** Same length, and equal wherever `withDigits` has no digit; the listed word itself has none. */
function sameLettersAround(withDigits: string, listed: string): boolean {
  for (let i = 0; i < withDigits.length; i++) {
    const c = withDigits.charCodeAt(i);
    const l = listed.charCodeAt(i);
    if (l >= 48 && l <= 57) return false;
    if (c >= 48 && c <= 57) continue;
    if (c !== l) return false;
  }
  return true;
}

/** Distinct tokens of a prepared name's plain (0) or look-alike (1) forms. */
function tokensOfKind(p: PreparedName, kind: 0 | 1): Set<string> {
  return new Set(p.forms.filter((f) => f.lookalike === (kind === 1)).flatMap((f) => f.tokens));
}

/** Most matches reported for one name; enough for a human to judge, bounded for storage. */
export const MAX_MATCHES = 10;

const round3 = (x: number) => Math.round(x * 1000) / 1000;

/** A list with its names prepared; usable without Nest (unit tests, scripts). */
export class PreparedSanctionsList {
  private readonly names: PreparedEntry[] = [];

  /**
   * Distinct listed tokens grouped by kind of form (0: plain, 1: look-alike; forms are only compared
   * with forms of their kind) and by length; each with its character bag and the names holding it.
   */
  private readonly tokensByLength: [TokenIndex, TokenIndex] = [[], []];

  constructor(
    readonly list: SanctionsList,
    readonly thresholds: Thresholds,
  ) {
    if (thresholds.review > thresholds.match) throw new RangeError("the review threshold must not exceed the match threshold");
    const byToken = [new Map<string, number[]>(), new Map<string, number[]>()];
    list.entries.forEach((e, index) => {
      for (const name of e.names) {
        const prepared = prepareName(name.name);
        if (!prepared.forms.length) continue;
        const at = this.names.push({ index, name, prepared }) - 1;
        for (const kind of [0, 1] as const) {
          for (const token of tokensOfKind(prepared, kind)) {
            const holders = byToken[kind].get(token);
            if (holders) holders.push(at);
            else byToken[kind].set(token, [at]);
          }
        }
      }
    });
    for (const kind of [0, 1] as const) {
      for (const [token, holders] of byToken[kind]) {
        (this.tokensByLength[kind][token.length] ??= []).push({ token, bag: charBag(token), holders });
      }
    }
  }

  /**
   * Names that can score at least the review threshold; the rest are never aligned. Lossless: a
   * weighted average of pair similarities reaches a threshold only if some pair does, so an aligned
   * (or partial) score ≥ review needs a listed token within that similarity of a query token; the
   * joined-form score is bounded by `compactBound`. Scores are classified after rounding to 3
   * decimals, so the cut-off here sits half a thousandth lower.
   */
  private candidates(query: PreparedName, cache: SimilarityCache): Set<number> {
    const reviewT = this.thresholds.review - 0.0005;
    const out = new Set<number>();
    for (const kind of [0, 1] as const) {
      const index = this.tokensByLength[kind];
      for (const q of tokensOfKind(query, kind)) {
        const qBag = charBag(q);
        // A similarity ≥ reviewT allows a length gap of at most (1 − reviewT) × the longer length,
        // and at most that many characters missing on either side (see compactBound).
        const minLen = Math.ceil(q.length * reviewT - 1e-9);
        const maxLen = Math.floor(q.length / reviewT + 1e-9);
        for (let n = Math.max(1, minLen); n <= maxLen && n < index.length; n++) {
          const budget = (1 - reviewT) * Math.max(n, q.length) + 1e-9;
          for (const t of index[n] ?? []) {
            if (bagDistance(qBag, t.bag) > budget) continue;
            if (cache.get(q, t.token) >= reviewT) for (const h of t.holders) out.add(h);
          }
        }
      }
    }
    this.names.forEach((p, i) => {
      if (!out.has(i) && compactBound(query, p.prepared) >= reviewT) out.add(i);
    });
    return out;
  }

  /** The verdict on one listed name, or null when it is not alike enough to report. */
  private judge(query: PreparedName, p: PreparedEntry, cache: SimilarityCache): SanctionsMatch | null {
    const { match: matchT, review: reviewT } = this.thresholds;
    const s = scoreNames(query, p.prepared, cache);
    const full = round3(s.full);
    const partial = round3(s.partial);
    let result: SanctionsMatch["result"] | null = null;
    let kind: SanctionsMatch["match"] = "full";
    let score = full;
    if (full >= matchT) result = p.name.lowQuality || s.digitsRead || round3(s.weakest) < reviewT ? "review" : "fail";
    else if (full >= reviewT) result = "review";
    else if (partial >= matchT) {
      result = "review";
      kind = "partial";
      score = partial;
    }
    if (!result) return null;
    const e = this.list.entries[p.index];
    return {
      reference: e.reference,
      type: e.type,
      listedName: e.primaryName,
      matchedName: p.name.name,
      matchedAs: p.name.kind,
      score,
      match: kind,
      lookalike: kind === "full" && s.lookalike,
      result,
      programme: e.programme,
    };
  }

  get entryCount(): number {
    return this.list.entries.length;
  }

  /**
   * Adds to a screened name a look-alike form in which each word mixing letters with digits that
   * the confusables table does not read (3, 4, 5, 7, 8, …) is replaced by the first listed word of
   * its length that has the same letters everywhere else ("n4rv3ks" → a listed "narveks"): such
   * digits stand in for some letter, and only the list's vocabulary says which. A word needs two
   * letters for this, and a match found only this way is a guess, so it is only ever reviewed.
   */
  private withDigitsRead(query: PreparedName): PreparedName {
    const extra: NameForm[] = [];
    for (const f of query.forms) {
      if (!f.lookalike) continue;
      let read = false;
      const tokens = f.tokens.map((t) => {
        if (!/[0-9]/.test(t) || (t.match(/[a-z]/g)?.length ?? 0) < 2) return t;
        const hit = (this.tokensByLength[1][t.length] ?? []).find((x) => sameLettersAround(t, x.token));
        if (!hit) return t;
        read = true;
        return hit.token;
      });
      if (read) extra.push({ tokens, compact: tokens.join(""), lookalike: true, digitsRead: true });
    }
    return extra.length ? { ...query, forms: [...query.forms, ...extra] } : query;
  }

  /** Entries whose names are alike to `name`, best first, one (the best) per entry. */
  screen(name: string): SanctionsMatch[] {
    const plain = prepareName(name);
    if (!plain.forms.length) return [];
    const query = this.withDigitsRead(plain);
    const best = new Map<number, SanctionsMatch>();
    const cache = new SimilarityCache();
    for (const at of this.candidates(query, cache)) {
      // The name without digits read can be the stronger verdict: a guess only ever reaches review.
      for (const q of query === plain ? [plain] : [plain, query]) {
        const m = this.judge(q, this.names[at], cache);
        const prev = best.get(this.names[at].index);
        if (m && (!prev || rank(m) > rank(prev))) best.set(this.names[at].index, m);
      }
    }
    return [...best.values()].sort((a, b) => rank(b) - rank(a) || a.reference.localeCompare(b.reference)).slice(0, MAX_MATCHES);
  }
}

/** Orders matches: fails before reviews, then full before partial, then by score. */
function rank(m: SanctionsMatch): number {
  return (m.result === "fail" ? 4 : 0) + (m.match === "full" ? 2 : 0) + m.score;
}

@Injectable()
export class SanctionsScreener implements OnModuleInit {
  private readonly logger = new Logger(SanctionsScreener.name);
  private prepared: PreparedSanctionsList | null = null;
  private loadedAt: Date | null = null;

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  onModuleInit(): void {
    const started = Date.now();
    const list = loadSanctionsList(this.config.paths.sanctions);
    this.prepared = new PreparedSanctionsList(list, {
      match: this.config.SANCTIONS_MATCH_THRESHOLD,
      review: this.config.SANCTIONS_REVIEW_THRESHOLD,
    });
    this.loadedAt = new Date();
    this.logger.log(
      `Sanctions list ${list.source} (${list.format}) loaded: ${list.entries.length} entries in ${Date.now() - started} ms`,
    );
  }

  private get ready(): PreparedSanctionsList {
    if (!this.prepared) throw new Error("the sanctions list is not loaded yet");
    return this.prepared;
  }

  screen(name: string): SanctionsMatch[] {
    return this.ready.screen(name);
  }

  /** What the checks record about the list they were screened against. */
  describe(): { source: string; format: string; generatedAt: string | null; entries: number; loadedAt: string | null; thresholds: Thresholds } {
    const p = this.ready;
    return {
      source: p.list.source,
      format: p.list.format,
      generatedAt: p.list.generatedAt,
      entries: p.entryCount,
      loadedAt: this.loadedAt?.toISOString() ?? null,
      thresholds: p.thresholds,
    };
  }
}
