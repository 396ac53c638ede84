/**
 * The signed post of an act reuses the plan its unsigned post built for the same body.
 *
 * A client posts an act twice: without a signature (typed data to sign), then the same body with
 * nonce, deadline and signature. For a spec whose `plan` is a pure function of the request (its
 * `cachePlan` is set: tokenising, whose plan parses and normalises up to 200 invoices and computes
 * their fingerprints and receivable ids), the second post takes the plan the first one built, and
 * the EIP-712 digest `ActsService.prepare` computed for the proposed nonce and deadline
 * (`ActDraft.digests`). Nothing else is cached: every check of the ledger's or the database's
 * state (membership, duplicates on the ledger and in pending acts, compliance, the simulation) and
 * the signature itself still run on the signed post.
 *
 * The key is a SHA-256 of the act's name, the signer, the route's id and the body without its
 * signature fields, so a signed body that differs from the unsigned one in any field (or is posted
 * by another member, or to another receivable) misses and takes the full path. A body with an
 * uploaded file is keyed by the file's hash as well (the plan reads it as `documentHash`). Entries
 * are bounded (PLAN_CACHE_ENTRIES) and live PLAN_CACHE_TTL_MS; a miss (another replica, a restart, an
 * evicted entry) only costs the work the cache saves.
 */
import { createHash } from "node:crypto";
import { LRUCache } from "lru-cache";
import type { ActInput, PlanFields } from "./act-spec";

/** Entries kept: a batch plan holds 200 normalised invoices (~100 kB); 256 entries stay under ~30 MB. */
export const PLAN_CACHE_ENTRIES = 256;
/** Long enough for a client to sign (a hardware key, a person reading the typed data), short enough to stay small. */
export const PLAN_CACHE_TTL_MS = 120_000;

const SIGNATURE_FIELDS = new Set(["nonce", "deadline", "signature"]);

export class PlanCache {
  private readonly entries: LRUCache<string, PlanFields>;
  /** The key each request's plan was looked up under, for `forget` (no second hash of the body). */
  private readonly keys = new WeakMap<ActInput, string>();
  /** Posts served from the cache, and posts of cached specs that built their plan. */
  hits = 0;
  misses = 0;

  constructor(max = PLAN_CACHE_ENTRIES, ttlMs = PLAN_CACHE_TTL_MS) {
    this.entries = new LRUCache<string, PlanFields>({ max, ttl: ttlMs, ttlAutopurge: false, updateAgeOnGet: false });
  }

  /** The plan built for this request's body before, or a new one from `build` (kept if it succeeds). */
  async get(name: string, input: ActInput, build: () => PlanFields | Promise<PlanFields>): Promise<PlanFields> {
    const key = planKey(name, input);
    this.keys.set(input, key);
    const hit = this.entries.get(key);
    if (hit) {
      this.hits += 1;
      return hit;
    }
    this.misses += 1;
    const fields = await build();
    this.entries.set(key, fields);
    return fields;
  }

  /**
   * The act of this request's plan is recorded (its signed post succeeded): the entry has served
   * its purpose and goes now rather than at its TTL, so a batch's plan (~100 kB) is not kept two
   * minutes after its act. A repeated signed post (a retry) misses and rebuilds the same plan.
   */
  forget(input: ActInput): void {
    const key = this.keys.get(input);
    if (key !== undefined) this.entries.delete(key);
  }

  get size(): number {
    return this.entries.size;
  }

  clear(): void {
    this.entries.clear();
  }
}

/** SHA-256 over the act's name, signer, route id, uploaded file and body minus its signature fields. */
export function planKey(name: string, input: ActInput): string {
  const root = input.body;
  const body = JSON.stringify(root, function (this: unknown, k: string, v: unknown) {
    if (this === root && SIGNATURE_FIELDS.has(k)) return undefined;
    return typeof v === "bigint" ? `${v}n` : v;
  });
  const h = createHash("sha256");
  for (const part of [name, input.user.address.toLowerCase(), input.id ?? "", input.file ? createHash("sha256").update(input.file.buffer).digest("hex") : "", body]) {
    h.update(part);
    h.update("\u0000");
  }
  return h.digest("hex");
}
