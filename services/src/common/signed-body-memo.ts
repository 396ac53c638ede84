/**
 * A signed act's body is validated in full once: on its unsigned post.
 *
 * A client posts an act twice, without a signature (typed data to sign), then the same body with
 * nonce, deadline and signature. For the DTO classes registered here (the batch tokenisation: 200
 * nested invoices, class-validator's dearest body), the global validation pipe remembers a SHA-256 of
 * each body it validated without an error, minus the three signature fields; a later body of the same
 * class that hashes the same has the same values in every other field, so class-validator would find
 * nothing there again, and only its signature fields are validated (with SignatureFieldsDto's own
 * rules, the same messages under the same field names). A body that differs in any other byte of
 * its JSON value takes the full path. The key is computed from the object class-validator would
 * validate (after class-transformer), so it covers exactly what was validated; a value JSON cannot
 * hold (undefined, a function, a Date or other object with its own JSON form, -0, NaN) makes the body
 * unkeyed, and it is validated in full.
 *
 * Sound only for a class whose rules are pure functions of its JSON value and whose other fields'
 * rules do not look at the signature fields (no ValidateIf, no class-level rule reading them): the
 * classes opt in by calling `validateSignedBodyOnce`. Entries (64-character hashes) are bounded and
 * live as long as a plan (acts/plan-cache.ts).
 */
import { createHash } from "node:crypto";
import { LRUCache } from "lru-cache";
import { SignatureFieldsDto } from "../acts/dto/act.dto";

export const SIGNATURE_FIELDS: readonly string[] = ["nonce", "deadline", "signature"];
const SIGNATURE_SET = new Set(SIGNATURE_FIELDS);

/** Bodies remembered per class, and how long (the plan cache's TTL: long enough for a client to sign). */
export const SIGNED_BODY_MEMO_ENTRIES = 4096;
export const SIGNED_BODY_MEMO_TTL_MS = 120_000;

const registered = new WeakSet<object>();

/** Opts a signed-act body class (a SignatureFieldsDto) into validating its unsigned part once. */
export function validateSignedBodyOnce(cls: new (...args: never[]) => SignatureFieldsDto): void {
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

/** The signature fields the object holds (own properties), as a SignatureFieldsDto to validate alone. */
function signatureFieldsOf(object: object): SignatureFieldsDto {
  const out = new SignatureFieldsDto();
  for (const f of SIGNATURE_FIELDS) {
    if (Object.prototype.hasOwnProperty.call(object, f)) (out as Record<string, unknown>)[f] = (object as Record<string, unknown>)[f];
  }
  return out;
}

export class SignedBodyMemo {
  private readonly byClass = new WeakMap<object, LRUCache<string, true>>();
  /** Bodies validated only in their signature fields, and bodies of registered classes validated in full. */
  hits = 0;
  misses = 0;

  constructor(
    private readonly max = SIGNED_BODY_MEMO_ENTRIES,
    private readonly ttlMs = SIGNED_BODY_MEMO_TTL_MS,
  ) {}

  /**
   * Validates `object` with `validate` (class-validator through the pipe): in full, unless it is of a
   * registered class and its body minus the signature fields validated without an error before, in
   * which case only its signature fields are.
   */
  async validate<E>(object: object, validate: (o: object) => Promise<E[]> | E[]): Promise<E[]> {
    const cls = (object as { constructor?: unknown }).constructor;
    if (typeof cls !== "function" || !registered.has(cls)) return validate(object);
    const key = signedBodyKey(object);
    let seen = this.byClass.get(cls);
    if (key !== null && seen?.get(key)) {
      this.hits += 1;
      return validate(signatureFieldsOf(object));
    }
    this.misses += 1;
    const errors = await validate(object);
    if (key !== null && errors.length === 0) {
      if (!seen) this.byClass.set(cls, (seen = new LRUCache<string, true>({ max: this.max, ttl: this.ttlMs, ttlAutopurge: false, updateAgeOnGet: false })));
      seen.set(key, true);
    }
    return errors;
  }
}
