/**
 * The declaration of one participant-signed act: what it signs (EIP-712 primary type and message),
 * which contract call relays it (`encode`, and `direct` for the signer's own call), which checks run
 * and when, which keys it locks, and what it answers. Features declare their acts as ActSpecs and
 * register them with ActPipeline, which runs the one unsigned → signed → (wait) protocol for all of
 * them (act-pipeline.service.ts). A spec names steps, in the order the pipeline runs them:
 *
 *   unsigned post: draft → beforeSigning → check → simulate `direct` as the signer → typed data (+ extra)
 *   signed post:   recorded? → draft → signature fields → check → beforeSubmit → [lock: underLock → record]
 *                  → afterRecorded → wait
 *   replayed post (this signer's nonce already recorded): draft → record (answers the first act)
 *
 * On a replay nothing is checked against the ledger's current state: the first answer stands, even
 * after the state has moved on (ActsService compares the digest, so a changed body is a 409).
 */
import type { AuthUser } from "../auth/auth.decorators";
import type { UploadedDocument } from "../receivables/document-upload";
import type { ActDraft, SignatureFields, UnsignedAct } from "./acts.service";
import type { ActResponseDto } from "./dto/act.dto";
import type { ActContract, ActEntity } from "./entities/act.entity";

/** What a route hands to the pipeline: the signed-in member and the request's validated parts. */
export interface ActInput<B extends SignatureFields = SignatureFields> {
  user: AuthUser;
  body: B;
  /** The route's `:id` (receivable, credit line or offer id), already validated by its pipe. */
  id?: string;
  /** The multipart document, where the route takes one. */
  file?: UploadedDocument;
  /** `?wait=true`: answer once the act is confirmed and indexed, or failed. */
  wait?: boolean;
}

/** What the pipeline relays: the act's draft plus the signer's direct call and fixed signature fields. */
export interface ActPlan extends ActDraft {
  /** Calldata of the direct (unsigned) function, simulated from the signer before typed data goes out. */
  direct?: string;
  /** Signature fields the act must be signed with whatever the body says (an offer's own nonce, a longer deadline). */
  signWith?: Partial<SignatureFields>;
  /** What the spec's own later steps need from the plan (e.g. the normalised invoices they check). */
  context?: unknown;
}

/** What a spec's `plan` builds; the pipeline adds the spec's kind, contract and primary type. */
export type PlanFields = Omit<ActPlan, "kind" | "contract" | "primaryType">;

/** Every answer of an act route: 200 typed data, 202 the accepted act, or 201 a kept offer. */
export type ActAnswer =
  | { status: 200; body: UnsignedAct & Record<string, unknown> }
  | { status: 202; body: ActResponseDto }
  | { status: 201; body: object };

export interface ActSpec<B extends SignatureFields = SignatureFields> {
  /** `<feature>.<act>`, e.g. "receivables.accept"; one spec per name (a second registration fails boot). */
  name: string;
  /** The act's kind as recorded (`acts.kind`) and shown in answers: "accept", "open_line", … */
  kind: string;
  /** The contract whose `…BySig` function relays it, and whose EIP-712 domain and nonces it uses. */
  contract: ActContract;
  /** The EIP-712 primary type the participant signs. */
  primaryType: string;
  /**
   * Builds what is signed and relayed. `replay` is true when this signer's act with the posted nonce is
   * already recorded: the plan must then be rebuilt as it was signed, without refusing on the ledger's
   * current state. A spec whose checks need the plan's inputs may run them here when `!replay`.
   */
  plan(input: ActInput<B>, replay: boolean): PlanFields | Promise<PlanFields>;
  /**
   * The plan is a pure function of the signer, the route's id, the uploaded file and the body without
   * its signature fields (never of `replay` or of any state): the signed post then reuses the plan
   * (and typed-data digest) its unsigned post built (plan-cache.ts). Every check still runs.
   */
  cachePlan?: boolean;
  /** Early checks on the unsigned step only; the signed step's simulation is the authority. */
  beforeSigning?(input: ActInput<B>, plan: ActPlan): Promise<void>;
  /** Checks on both steps (never on a replay); what it returns is merged into the act's result. */
  check?(input: ActInput<B>, plan: ActPlan, signed: boolean): Promise<Record<string, unknown> | void>;
  /**
   * Keys (fingerprints) held while `underLock` runs and the act is recorded, in this process: a fast
   * path only; what binds across processes is the plan's `claims` (ActDraft), inserted with the act.
   */
  lockKeys?(input: ActInput<B>, plan: ActPlan): string[];
  /** Checks that must see every act recorded before it (signed step, under the locks). */
  underLock?(input: ActInput<B>, plan: ActPlan): Promise<void>;
  /** Signed step, before the act is verified and recorded (e.g. relay a permit first). */
  beforeSubmit?(input: ActInput<B>, plan: ActPlan): Promise<void>;
  /** Signed step, once the act is recorded or found again (e.g. link an uploaded document). */
  afterRecorded?(input: ActInput<B>, act: ActEntity): Promise<void>;
  /** Fields added to the unsigned answer (e.g. the permit typed data a repayment may carry). */
  unsignedExtra?(input: ActInput<B>, unsigned: UnsignedAct): Promise<Record<string, unknown>>;
  /**
   * A signed act that is kept rather than relayed (a financing offer): replaces recording; the
   * answer is 201 with what it returns.
   */
  keep?(input: ActInput<B>, plan: ActPlan): Promise<object>;
  /** Rewrites a refusal for this act (e.g. name the permit a repayment may carry); returns the error to throw. */
  refusal?(err: unknown): unknown;
}

/** Declares a spec with its body type checked; the pipeline stores specs without it. */
export function defineAct<B extends SignatureFields>(spec: ActSpec<B>): ActSpec<B> {
  return spec;
}

/** Whether a raw query asks to wait, for code before the route's pipes (a replay answered by its idempotency key). */
export function waitRequested(query: Record<string, unknown>): boolean {
  return query.wait === "true";
}

/** Metadata key: the act a route runs (set by `@SignedAct`). */
export const SIGNED_ACT = "acts:signed-act";

/** The act a route handler is bound to: a spec name, a choice by the request, or none. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- each route has its own body type
export type ActRoute = string | ((input: ActInput<any>) => string);

export function signedActOf(handler: object): ActRoute | undefined {
  return Reflect.getMetadata(SIGNED_ACT, handler) as ActRoute | undefined;
}
