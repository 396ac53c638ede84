/**
 * A signed act's body is transformed and validated in full once: on its unsigned post.
 *
 * A client posts an act twice, without a signature (typed data to sign), then the same body with
 * nonce, deadline and signature. For the DTO classes registered here (the batch tokenisation: 200
 * nested invoices, class-validator's and class-transformer's dearest body), the global validation
 * pipe keys each body it receives by a SHA-256 of its JSON value minus the three signature fields,
 * as it arrived (before class-transformer). A body it transformed and validated without an error
 * is remembered under that key with the DTO it became: its other fields (the invoices) deeply
 * frozen, so the handler of the unsigned post and every later post served from them share values
 * nobody can change. A later body of the same class under the same key has the same values in
 * every other field, so class-transformer would build equal objects and class-validator would find
 * nothing there again: only its signature fields are transformed and validated (as a
 * SignatureFieldsDto, through the same pipe: the same messages under the same field names), and
 * the handler gets a new instance of the class holding the remembered fields and these. A body
 * that differs in any other byte of its JSON value takes the full path. A body that holds a value
 * JSON cannot hold as it is (undefined, a function, -0, NaN, …), or whose DTO does (a Date, a Map),
 * is neither served nor remembered.
 *
 * Sound only for a class whose transformation and rules are pure functions of its JSON value and
 * whose other fields' transforms and rules do not look at the signature fields (no ValidateIf, no
 * Transform or class-level rule reading them), and whose handler does not change the DTO's nested
 * values (they are frozen: a write throws): the classes opt in by calling `validateSignedBodyOnce`.
 * Entries are bounded (a batch's DTOs are ~85 kB) and live as long as a plan (acts/plan-cache.ts).
 */
import { createHash } from "node:crypto";
import { LRUCache } from "lru-cache";
import { SignatureFieldsDto } from "../acts/dto/act.dto";

export const SIGNATURE_FIELDS: readonly string[] = ["nonce", "deadline", "signature"];
const SIGNATURE_SET = new Set(SIGNATURE_FIELDS);

/**
 * Bodies remembered per class, and how long (the plan cache's bound and TTL: a batch's DTOs are
 * ~85 kB, so 256 entries stay under ~22 MB; long enough for a client to sign).
 */
export const SIGNED_BODY_MEMO_ENTRIES = 256;
export const SIGNED_BODY_MEMO_TTL_MS = 120_000;

type DtoClass = new () => SignatureFieldsDto;
const registered = new WeakSet<object>();

/** Opts a signed-act body class (a SignatureFieldsDto) into transforming and validating its unsigned part once. */
export function validateSignedBodyOnce(cls: DtoClass): void {
  registered.add(cls);
}

/**
 * SHA-256 of the object's JSON value without its top-level signature fields, or null when the object
 * holds anything JSON.stringify would not write as it is (then the body is not remembered).
 */
export function signedBodyKey(object: object): string | null {
  let keyable = true;
  const text = JSON.stringify(object, function (this: Record<string, unknown>, key: string, value: unknown) {
    if (this === (object as unknown) && SIGNATURE_SET.has(key)) return undefined;
    const raw = this[key];
    switch (typeof raw) {
      case "string":
      case "boolean":
        return value;
      case "number":
        if (!Number.isFinite(raw) || Object.is(raw, -0)) keyable = false;
        return value;
      case "object":
        if (raw === null || Array.isArray(raw)) return value;
        if (Object.prototype.toString.call(raw) !== "[object Object]" || typeof (raw as { toJSON?: unknown }).toJSON === "function") keyable = false;
        return value;
      default:
        // undefined, a function, a symbol or a bigint: not written as it is (a bigint would throw).
        keyable = false;
        return undefined;
    }
  });
  if (!keyable || text === undefined) return null;
  return createHash("sha256").update(text).digest("hex");
}

/** The signature fields the value holds (own properties), as they came, to transform and validate alone. */
function signatureFieldsOf(value: object): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of SIGNATURE_FIELDS) {
    if (Object.prototype.hasOwnProperty.call(value, f)) out[f] = (value as Record<string, unknown>)[f];
  }
  return out;
}

/**
 * Whether `value` is plain data (strings, booleans, finite numbers, null, undefined, arrays and
 * objects without a JSON form of their own, as class-transformer builds DTOs), checked before it is
 * frozen and shared.
 */
function isPlainData(value: unknown): boolean {
  switch (typeof value) {
    case "string":
    case "boolean":
    case "undefined":
      return true;
    case "number":
      return Number.isFinite(value) && !Object.is(value, -0);
    case "object": {
      if (value === null) return true;
      if (Array.isArray(value)) return value.every(isPlainData);
      if (Object.prototype.toString.call(value) !== "[object Object]" || typeof (value as { toJSON?: unknown }).toJSON === "function") return false;
      return Object.values(value).every(isPlainData);
    }
    default:
      return false;
  }
}

function deepFreeze(value: unknown): void {
  if (typeof value !== "object" || value === null || Object.isFrozen(value)) return;
  Object.freeze(value);
  for (const v of Object.values(value)) deepFreeze(v);
}

/** A validated body's DTO fields other than the signature fields, frozen, in the DTO's own order. */
type Remembered = ReadonlyArray<readonly [string, unknown]>;

export class SignedBodyMemo {
  private readonly byClass = new WeakMap<object, LRUCache<string, Remembered>>();
  /** Bodies served from a remembered DTO, and bodies of registered classes transformed and validated in full. */
  hits = 0;
  misses = 0;

  constructor(
    private readonly max = SIGNED_BODY_MEMO_ENTRIES,
    private readonly ttlMs = SIGNED_BODY_MEMO_TTL_MS,
  ) {}

  /**
   * The DTO of `value` for the class `metatype`: built by `full` (the pipe's own transformation and
   * validation, which throws the refusal), unless it is of a registered class and its body minus the
   * signature fields was accepted before, in which case only its signature fields go through
   * `signatureOnly` (the same pipe, for SignatureFieldsDto) and are set on a new instance holding
   * the remembered fields.
   */
  async transform(
    value: unknown,
    metatype: unknown,
    full: (value: unknown) => Promise<unknown>,
    signatureOnly: (fields: Record<string, unknown>) => Promise<SignatureFieldsDto>,
  ): Promise<unknown> {
    if (typeof metatype !== "function" || !registered.has(metatype) || typeof value !== "object" || value === null || Array.isArray(value)) {
      return full(value);
    }
    const cls = metatype as DtoClass;
    const key = signedBodyKey(value);
    let seen = this.byClass.get(cls);
    const remembered = key !== null ? seen?.get(key) : undefined;
    if (remembered) {
      this.hits += 1;
      const signature = await signatureOnly(signatureFieldsOf(value));
      const out = new cls() as unknown as Record<string, unknown>;
      for (const [k, v] of remembered) out[k] = v;
      for (const f of SIGNATURE_FIELDS) out[f] = (signature as unknown as Record<string, unknown>)[f];
      return out;
    }
    this.misses += 1;
    const dto = await full(value);
    if (key === null || typeof dto !== "object" || dto === null || dto.constructor !== cls) return dto;
    const fields = Object.entries(dto).filter(([k]) => !SIGNATURE_SET.has(k));
    if (!fields.every(([, v]) => isPlainData(v))) return dto;
    for (const [, v] of fields) deepFreeze(v);
    if (!seen) this.byClass.set(cls, (seen = new LRUCache<string, Remembered>({ max: this.max, ttl: this.ttlMs, ttlAutopurge: false, updateAgeOnGet: false })));
    seen.set(key, fields);
    return dto;
  }
}
