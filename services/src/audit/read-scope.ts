/**
 * Who may read what, and the small codecs every read endpoint shares (ids, cursors, times).
 *
 * The read model: auditors (verified members holding the AUDITOR role) and compliance officers
 * read everything; any other verified member reads only the records it is party to; anyone else
 * is refused by the routes' role guard. "Party to" a receivable means its seller, its debtor, its
 * current holder, or the financier of its financing. Split lineage does not widen that: a holder
 * of a child does not thereby read the parent, it sees only the tree's shape (see lineage).
 *
 * Cursors are opaque (base64url JSON) and carry a fingerprint of the query they were issued for,
 * so a cursor replayed against other filters or another sort is refused instead of silently
 * skipping rows. Pagination is keyset only: every page is an index range scan, never an OFFSET.
 */
import { createHash } from "node:crypto";
import { BadRequestException } from "@nestjs/common";
import { getAddress } from "ethers";
import { type AuthUser } from "../auth/auth.decorators";
import { ROLE_BITS } from "../../../shared/roles";
import { parseReceivableId, RECEIVABLE_ID_FORMS, receivableIdHex } from "../../../shared/ids";

/** Auditors and compliance officers read every record. */
export function readsEverything(user: AuthUser): boolean {
  return user.complianceOfficer || (user.verifiedMember && (user.roles & ROLE_BITS.auditor) !== 0);
}

/** A receivable id given as 0x-prefixed 32-byte hex or as a decimal uint256, as stored (0x + 64
 * lower-case hex digits); null when `raw` is neither. */
export function normaliseReceivableId(raw: string): string | null {
  try {
    return receivableIdHex(parseReceivableId(raw));
  } catch {
    return null;
  }
}

/** Like normaliseReceivableId, with a 400 a client can act on. */
export function receivableIdParam(raw: string, name = "id"): string {
  const id = normaliseReceivableId(raw);
  if (!id) {
    throw new BadRequestException(
      `${name} must be a receivable id: ${RECEIVABLE_ID_FORMS} (got "${raw.slice(0, 80)}")`,
    );
  }
  return id;
}

/** EIP-55 form of an address already validated as 40 hex digits. */
export function checksum(address: string): string {
  return getAddress(address.toLowerCase());
}

/** Unix seconds as ISO 8601. */
export function isoFromSeconds(seconds: number): string {
  return new Date(seconds * 1000).toISOString();
}

/** The first whole unix second at or after an ISO 8601 instant: chain times are whole seconds, so
 * `t >= bound(from)` and `t < bound(to)` give exactly the half-open range [from, to). */
export function secondsBound(iso: string): number {
  return Math.ceil(Date.parse(iso) / 1000);
}

/** Flattens a query value given once, repeated, or comma separated into a list of trimmed items. */
export function commaList(value: unknown): unknown {
  const parts = (Array.isArray(value) ? value : [value]).flatMap((v) => (typeof v === "string" ? v.split(",") : [v]));
  return parts.map((p) => (typeof p === "string" ? p.trim() : p)).filter((p) => p !== "");
}

type CursorValue = string | number;

/** Fingerprint of everything that shapes a result set except the cursor and page size. */
export function queryFingerprint(shape: Record<string, unknown>): string {
  const canonical = JSON.stringify(Object.keys(shape).sort().map((k) => [k, shape[k] ?? null]));
  return createHash("sha256").update(canonical).digest("base64url").slice(0, 16);
}

/** Encodes the keyset position after the last row of a page. */
export function encodeCursor(fingerprint: string, position: CursorValue[]): string {
  return Buffer.from(JSON.stringify({ q: fingerprint, p: position })).toString("base64url");
}

/** Decodes a cursor issued for the same query; `kinds` gives each position element's type. */
export function decodeCursor(cursor: string, fingerprint: string, kinds: Array<"string" | "number">): CursorValue[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
  } catch {
    parsed = null;
  }
  const c = parsed as { q?: unknown; p?: unknown } | null;
  const garbled = () =>
    new BadRequestException("cursor is not a cursor this service issued: pass nextCursor unchanged, or omit it to start again");
  if (!c || typeof c.q !== "string" || !Array.isArray(c.p)) throw garbled();
  if (c.q !== fingerprint) {
    throw new BadRequestException(
      "cursor was issued for a different query (filters or sort changed): keep the same filters while paging, or omit cursor to start again",
    );
  }
  const p = c.p as unknown[];
  const typed =
    p.length === kinds.length && p.every((v, i) => typeof v === kinds[i] && (typeof v !== "number" || Number.isSafeInteger(v)));
  if (!typed) throw garbled();
  return p as CursorValue[];
}
