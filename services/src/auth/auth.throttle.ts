/**
 * A tighter rate limit for the unauthenticated sign-in endpoints: a tenth of the configured default
 * (THROTTLE_LIMIT per THROTTLE_TTL_MS), at least one. Deriving it from the configuration keeps the
 * ratio when an operator tunes the default, and lets tests that raise the default sign in freely.
 *
 * `@Throttle` is evaluated once per process while the configuration belongs to each application,
 * so a middleware of AuthModule stamps the application's limits on each auth request and the
 * limit functions read them back; without the stamp the conservative fallback applies.
 */
import { Throttle } from "@nestjs/throttler";
import type { ExecutionContext } from "@nestjs/common";
import type { AppConfig } from "../config/env";

export interface AuthThrottleLimits {
  limit: number;
  ttl: number;
}

const STAMP = Symbol("scf.authThrottle");
const FALLBACK: AuthThrottleLimits = { limit: 60, ttl: 60_000 };

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

/** The sign-in throttle, on the default throttler. */
export const AuthThrottle = () =>
  Throttle({ default: { limit: (ctx) => stamped(ctx).limit, ttl: (ctx) => stamped(ctx).ttl } });
