/**
 * What the access guard reads on every authenticated request, kept for a moment: the session of a
 * bearer token and the indexed membership of an address. Without it every request reads both from
 * the database before doing its own work (two round trips of the three a typical read makes).
 *
 * Freshness:
 * - a sign-out through this process forgets its session at once; a session's own expiry is checked
 *   on every request, cached or not;
 * - the indexer reports every committed membership change (registration, update, KYC renewal,
 *   suspension, reinstatement) and a rolled-back range, and the affected addresses are forgotten at
 *   once, so a suspension bites at the next request once indexed, as without the cache;
 * - what this process cannot hear of (a sign-out through another API replica, a change indexed by
 *   another process) is seen within CALLER_CACHE_MS (2 s by default; 0 turns the cache off);
 * - KYC expiry is judged against the clock at each request, from the cached expiry.
 */
import { Inject, Injectable, Optional, type OnModuleInit } from "@nestjs/common";
import { LRUCache } from "lru-cache";
import { APP_CONFIG, type AppConfig } from "../config/env";
import type { MemberEntity } from "../read-model/entities/projections.entity";
import { IndexerService } from "../indexer/indexer.service";

export interface CachedSession {
  address: string;
  expiresAt: number;
}
/** The fields of a member row the guard uses; null: not a member. */
export type CachedMember = Pick<MemberEntity, "roles" | "status" | "kycExpiry"> | null;

/** Sessions, and members, kept at most (each: the least recently used goes first). */
export const CALLER_CACHE_ENTRIES = 20_000;

@Injectable()
export class CallerCache implements OnModuleInit {
  private readonly sessions: LRUCache<string, CachedSession>;
  private readonly members: LRUCache<string, { member: CachedMember }>;
  private readonly enabled: boolean;
  /** Bumped by every membership change: a read that started before it must not be cached. */
  private generation = 0;

  constructor(
    @Inject(APP_CONFIG) config: Pick<AppConfig, "CALLER_CACHE_MS">,
    @Optional() private readonly indexer?: IndexerService,
  ) {
    this.enabled = config.CALLER_CACHE_MS > 0;
    // Bounded by count through `maxSize` with every entry weighing 1, not through `max`: given
    // `max`, lru-cache allocates its key, value, link and TTL arrays for all 20,000 entries at
    // construction (about 0.7 MiB per cache, held for the life of the process) where the usual load
    // is a few dozen callers; without it they grow with the entries. The bound and eviction order
    // are the same.
    const opts = { maxSize: CALLER_CACHE_ENTRIES, sizeCalculation: () => 1, ttl: Math.max(1, config.CALLER_CACHE_MS) };
    this.sessions = new LRUCache<string, CachedSession>(opts);
    this.members = new LRUCache<string, { member: CachedMember }>(opts);
  }

  onModuleInit(): void {
    this.indexer?.onMembersChanged((accounts) => {
      this.generation++;
      if (accounts === null) this.members.clear();
      else for (const a of accounts) this.members.delete(a);
    });
  }

  async session(tokenHash: string, load: () => Promise<CachedSession | null>): Promise<CachedSession | null> {
    const hit = this.enabled ? this.sessions.get(tokenHash) : undefined;
    if (hit) return hit;
    const s = await load();
    // Unknown tokens are not cached: a token signed in a moment later must work at once.
    if (s && this.enabled) this.sessions.set(tokenHash, { address: s.address, expiresAt: s.expiresAt });
    return s;
  }

  async member(address: string, load: () => Promise<CachedMember>): Promise<CachedMember> {
    const hit = this.enabled ? this.members.get(address) : undefined;
    if (hit) return hit.member;
    const generation = this.generation;
    const m = await load();
    const member = m ? { roles: m.roles, status: m.status, kycExpiry: m.kycExpiry } : null;
    if (this.enabled && generation === this.generation) this.members.set(address, { member });
    return member;
  }

  /** A session ended here (sign-out): refuse its token from the next request. */
  forgetSession(tokenHash: string): void {
    this.sessions.delete(tokenHash);
  }
}
