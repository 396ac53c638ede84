/**
 * Rate limits of the unauthenticated sign-in endpoints.
 *
 * Per client IP: a tenth of the configured default (THROTTLE_LIMIT per THROTTLE_TTL_MS), at least
 * one. Deriving it from the configuration keeps the ratio when an operator tunes the default, and
 * lets tests that raise the default sign in freely. The client IP is Express's `req.ip`, which
 * reads X-Forwarded-For only through the TRUST_PROXY_HOPS proxies the operator trusts, so clients
 * behind a load balancer each get their own allowance and nobody can pick theirs by sending the
 * header directly.
 *
 * Per address: login attempts naming one address (the address line of the SIWE message) share the
 * same allowance from every IP, so rotating IPs does not buy more guesses against one account.
 *
 * `@Throttle` is evaluated once per process while the configuration belongs to each application,
 * so a middleware of AuthModule stamps the application's limits on each auth request and the
 * limit functions read them back; without the stamp the conservative fallback applies. The
 * per-address throttler is built from each application's configuration in `signInAddressThrottler`.
 */
import { applyDecorators, Logger, SetMetadata, type ExecutionContext } from "@nestjs/common";
import type { ThrottlerStorageRedisService } from "@nest-lab/throttler-storage-redis";
import { Throttle, type ThrottlerLimitDetail, type ThrottlerOptions } from "@nestjs/throttler";
import type { AppConfig } from "../config/env";

export interface AuthThrottleLimits {
  limit: number;
  ttl: number;
}

const STAMP = Symbol("scf.authThrottle");
const FALLBACK: AuthThrottleLimits = { limit: 60, ttl: 60_000 };
const BY_SIWE_ADDRESS = "scf:throttleBySiweAddress";

/** Name of the throttler that counts login attempts per signing address. */
export const SIGN_IN_ADDRESS_THROTTLER = "signin-address";

export function authThrottleLimits(config: Pick<AppConfig, "THROTTLE_LIMIT" | "THROTTLE_TTL_MS">): AuthThrottleLimits {
  return { limit: Math.max(1, Math.floor(config.THROTTLE_LIMIT / 10)), ttl: config.THROTTLE_TTL_MS };
}

type Stamped = { [STAMP]?: AuthThrottleLimits };

/** Express middleware that makes this application's limits visible to `@AuthThrottle()`. */
export function authThrottleMiddleware(limits: AuthThrottleLimits) {
  return (req: Stamped, _res: unknown, next: () => void): void => {
    req[STAMP] = limits;
    next();
  };
}

function stamped(ctx: ExecutionContext): AuthThrottleLimits {
  return ctx.switchToHttp().getRequest<Stamped>()[STAMP] ?? FALLBACK;
}

/** The sign-in throttle per client IP, on the default throttler. */
export const AuthThrottle = () =>
  Throttle({ default: { limit: (ctx) => stamped(ctx).limit, ttl: (ctx) => stamped(ctx).ttl } });

/** The sign-in throttle per IP, plus the per-address one on the address the body's SIWE message names. */
export const AuthThrottleBySiweAddress = () => applyDecorators(AuthThrottle(), SetMetadata(BY_SIWE_ADDRESS, true));

/**
 * The address line of an EIP-4361 message (its second line), lower-cased; null when the body has
 * none. The guard runs before validation, so the body is read defensively.
 */
export function siweAddressOf(body: unknown): string | null {
  const message = (body as { message?: unknown } | undefined)?.message;
  if (typeof message !== "string") return null;
  const line = message.split("\n", 2)[1];
  return line !== undefined && /^0x[0-9a-fA-F]{40}$/.test(line) ? line.toLowerCase() : null;
}

/**
 * The per-address throttler for ThrottlerModule: it applies only to routes marked
 * `@AuthThrottleBySiweAddress()` whose body names an address, and keys on the address alone (not
 * the route), with the same allowance as the per-IP sign-in throttle.
 */
export function signInAddressThrottler(config: Pick<AppConfig, "THROTTLE_LIMIT" | "THROTTLE_TTL_MS">): ThrottlerOptions {
  const { limit, ttl } = authThrottleLimits(config);
  const address = (ctx: ExecutionContext) => siweAddressOf(ctx.switchToHttp().getRequest<{ body?: unknown }>().body);
  return {
    name: SIGN_IN_ADDRESS_THROTTLER,
    limit,
    ttl,
    skipIf: (ctx) => Reflect.getMetadata(BY_SIWE_ADDRESS, ctx.getHandler()) !== true || address(ctx) === null,
    getTracker: (_req, ctx) => address(ctx) ?? "",
    generateKey: (_ctx, tracker, name) => `${name}:${tracker}`,
  };
}

// The Redis store (and ioredis under it) is loaded only when REDIS_URL asks for it: a single process
// keeps its counters in memory and need not hold a Redis client's code.
let redisStorageClass: typeof ThrottlerStorageRedisService | undefined;

/** Whether `store` is the Redis rate-limit store built by `throttlerStorage`. */
export function isRedisStorage(store: unknown): store is ThrottlerStorageRedisService {
  return redisStorageClass !== undefined && store instanceof redisStorageClass;
}

/**
 * Where the counters live: Redis when REDIS_URL is set, so replicas behind one load balancer grant
 * one allowance; otherwise undefined (the throttler's in-memory store, right for one process).
 * While Redis is unreachable a throttled request fails after one retry instead of waiting in
 * ioredis' offline queue, and readiness names Redis (health/readiness.checks.ts).
 */
export function throttlerStorage(config: Pick<AppConfig, "REDIS_URL">): ThrottlerStorageRedisService | undefined {
  if (!config.REDIS_URL) return undefined;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  redisStorageClass ??= (require("@nest-lab/throttler-storage-redis") as typeof import("@nest-lab/throttler-storage-redis")).ThrottlerStorageRedisService;
  const storage = new redisStorageClass(config.REDIS_URL, { maxRetriesPerRequest: 1, connectTimeout: 2_000 });
  const logger = new Logger("RateLimitStore");
  let last = "";
  storage.redis.on("error", (err: Error) => {
    // ioredis repeats the same error at every reconnection attempt: say it once per outage.
    if (err.message !== last) logger.warn(`Redis for rate limits: ${err.message}`);
    last = err.message;
  });
  storage.redis.on("ready", () => {
    last = "";
  });
  return storage;
}

/** The 429's message: which allowance ran out (the client's or the address's) and when it renews. */
export function throttledMessage(_ctx: ExecutionContext, detail: ThrottlerLimitDetail): string {
  const wait = `try again in ${detail.timeToBlockExpire} s`;
  return detail.key.startsWith(`${SIGN_IN_ADDRESS_THROTTLER}:`)
    ? `too many sign-in attempts for address ${detail.tracker} from any client (${detail.limit} per ${detail.ttl / 1000} s); ${wait}`
    : `too many requests from this client (${detail.limit} per ${detail.ttl / 1000} s on this route); ${wait}`;
}
