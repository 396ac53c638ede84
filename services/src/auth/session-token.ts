/**
 * Bearer tokens: 32 random bytes, base64url. The database keeps only their SHA-256, so a leaked
 * `sessions` table cannot be replayed as credentials.
 */
import { createHash, randomBytes } from "node:crypto";

/** 32 bytes in base64url without padding. */
const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;

export function newSessionToken(): string {
  return randomBytes(32).toString("base64url");
}

/** Lower-case hex SHA-256: the `sessions.token_hash` key. */
export function hashSessionToken(token: string): string {
  return createHash("sha256").update(token, "utf8").digest("hex");
}

export type BearerParse =
  | { kind: "token"; token: string }
  | { kind: "missing" }
  | { kind: "malformed"; reason: string };

/** Reads `Authorization: Bearer <token>` (scheme case-insensitive, RFC 6750 §2.1). */
export function parseBearer(header: string | string[] | undefined): BearerParse {
  if (header === undefined || header === "") return { kind: "missing" };
  if (Array.isArray(header)) return { kind: "malformed", reason: "more than one Authorization header" };
  const m = /^Bearer +(\S+) *$/i.exec(header);
  if (!m) return { kind: "malformed", reason: 'the Authorization header is not "Bearer <token>"' };
  if (!TOKEN_PATTERN.test(m[1])) return { kind: "malformed", reason: "the bearer token is not a token this service issued" };
  return { kind: "token", token: m[1] };
}
