/**
 * A small typed client for the service's HTTP API, as every outside caller uses it: the CLI, the
 * demo, the end-to-end benchmark and the tests' helpers.
 *
 * - `ApiClient.request` sends JSON (or a form), an optional bearer token and Idempotency-Key, and
 *   returns status, parsed body and headers whatever the status; only a failure to reach the
 *   service throws (`ApiUnreachable`). `expect` turns any other status into an `ApiError` carrying
 *   the RFC 9457 problem document the service answers with.
 * - Sign-in is EIP-4361: POST /auth/challenge, personal_sign of its message, POST /auth/login.
 * - A participant's act is two POSTs to the same path: without a signature the service answers
 *   200 with the EIP-712 typed data (nonce and deadline proposed); the participant signs it and
 *   posts the same body with nonce, deadline, signature and any terms the service proposed
 *   (`signedBody`); 202 answers the accepted act, final when `?wait=true` was asked for, else
 *   followed with GET /acts/:id (`followAct`).
 */
import type { TypedDataDomain, TypedDataField } from "ethers";

export interface Reply<T = unknown> {
  status: number;
  body: T;
  headers: Headers;
}

/** An RFC 9457 problem document as the service writes it (`message` repeats `detail`). */
export interface Problem {
  type?: string;
  title?: string;
  status?: number;
  detail?: string;
  instance?: string;
  code?: string;
  message?: string | string[];
  [extension: string]: unknown;
}

/** The words of an error answer: the problem's message (or detail), an `error` name, else the raw text. */
export function problemMessage(body: unknown, status: number): string {
  if (body && typeof body === "object") {
    const b = body as Problem & { error?: unknown };
    if (Array.isArray(b.message)) return b.message.join("; ");
    if (typeof b.message === "string") return b.message;
    if (typeof b.detail === "string") return b.detail;
    if (typeof b.error === "string") return b.error;
  }
  if (typeof body === "string" && body.trim()) return body.trim().slice(0, 500);
  return `HTTP ${status}`;
}

/** An answer with a status the caller did not expect; `body` is the problem document. */
export class ApiError extends Error {
  constructor(
    readonly method: string,
    readonly path: string,
    readonly status: number,
    readonly body: unknown,
  ) {
    super(`${method} ${path}: HTTP ${status}: ${problemMessage(body, status)}`);
  }

  get problem(): Problem {
    return this.body && typeof this.body === "object" ? (this.body as Problem) : { status: this.status, detail: String(this.body ?? "") };
  }
}

/** The service could not be reached at all (refused, reset, timed out). */
export class ApiUnreachable extends Error {
  constructor(
    readonly url: string,
    readonly cause: unknown,
  ) {
    const c = (cause as { cause?: { code?: string; message?: string } }).cause;
    super(`cannot reach ${url}: ${c?.code ?? c?.message ?? (cause as Error).message}`);
  }

  /** The system's reason (ECONNREFUSED, …) when there is one. */
  get reason(): string {
    const c = (this.cause as { cause?: { code?: string; message?: string } }).cause;
    return c?.code ?? c?.message ?? (this.cause as Error).message;
  }
}

export type Query = Record<string, string | number | boolean | undefined>;

export interface RequestOptions {
  body?: unknown;
  form?: FormData;
  query?: Query;
  idempotencyKey?: string;
  /** Bearer token for this request; null sends none. Defaults to the client's token. */
  token?: string | null;
  timeoutMs?: number;
}

export class ApiClient {
  readonly baseUrl: string;

  constructor(
    baseUrl: string,
    /** The bearer token sent when a request names none. */
    public token: string | null = null,
  ) {
    this.baseUrl = baseUrl.replace(/\/+$/, "");
  }

  /** The same service with another caller's token. */
  as(token: string | null): ApiClient {
    return new ApiClient(this.baseUrl, token);
  }

  href(path: string, query?: Query): string {
    const u = new URL(this.baseUrl + path);
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined && v !== "") u.searchParams.set(k, String(v));
    return u.toString();
  }

  /** Sends a request and returns the answer whatever its status. Throws only ApiUnreachable. */
  async request<T = unknown>(method: string, path: string, o: RequestOptions = {}): Promise<Reply<T>> {
    const headers: Record<string, string> = { accept: "application/json" };
    const token = o.token === undefined ? this.token : o.token;
    if (token) headers.authorization = `Bearer ${token}`;
    if (o.idempotencyKey) headers["idempotency-key"] = o.idempotencyKey;
    let body: string | FormData | undefined;
    if (o.form) body = o.form;
    else if (o.body !== undefined) {
      headers["content-type"] = "application/json";
      body = JSON.stringify(o.body);
    }
    let res: Response;
    try {
      res = await fetch(this.href(path, o.query), {
        method,
        headers,
        body,
        signal: o.timeoutMs === undefined ? undefined : AbortSignal.timeout(o.timeoutMs),
      });
    } catch (e) {
      throw new ApiUnreachable(this.baseUrl, e);
    }
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      /* not JSON: the text itself */
    }
    return { status: res.status, body: parsed as T, headers: res.headers };
  }

  /** Sends a request and returns its body when the status is one of `expected`, else throws ApiError. */
  async expect<T = unknown>(expected: number | number[], method: string, path: string, o: RequestOptions = {}): Promise<T> {
    const r = await this.request<T>(method, path, o);
    if (!(Array.isArray(expected) ? expected : [expected]).includes(r.status)) throw new ApiError(method, path, r.status, r.body);
    return r.body;
  }

  get<T = unknown>(path: string, query?: Query): Promise<T> {
    return this.expect<T>(200, "GET", path, { query });
  }
}

// ---------------------------------------------------------------- sign-in (EIP-4361)

export interface Challenge {
  message: string;
  nonce: string;
  expiresAt: string;
}

export interface Session {
  accessToken: string;
  tokenType: "Bearer";
  expiresAt: string;
  address: string;
}

interface MessageSigner {
  address: string;
  signMessage(message: string): Promise<string>;
}

export function requestChallenge(api: ApiClient, address: string): Promise<Challenge> {
  return api.expect<Challenge>(201, "POST", "/auth/challenge", { body: { address }, token: null });
}

/** Signs in as `wallet`: the session (bearer token, expiry). */
export async function login(api: ApiClient, wallet: MessageSigner): Promise<Session> {
  const { message } = await requestChallenge(api, wallet.address);
  const signature = await wallet.signMessage(message);
  return api.expect<Session>(200, "POST", "/auth/login", { body: { message, signature }, token: null });
}

// ---------------------------------------------------------------- signed acts

/** EIP-712 typed data as the service hands it out (`types` includes EIP712Domain). */
export interface TypedData {
  domain: Record<string, unknown>;
  types: Record<string, TypedDataField[]>;
  primaryType: string;
  message: Record<string, unknown>;
}

/** The typed data of a participant act: the service proposes its nonce and deadline. */
export interface ActTypedData extends TypedData {
  message: Record<string, unknown> & { nonce: string; deadline: string };
}

/** The 200 answer to an unsigned act. */
export interface UnsignedAct {
  status: "unsigned";
  kind: string;
  typedData: ActTypedData;
  digest: string;
  /** A repayment's EIP-2612 permit, to sign alongside when the allowance is short. */
  permitTypedData?: TypedData;
}

/** An accepted act (202, GET /acts/:id). */
export interface Act {
  id: string;
  kind: string;
  status: "pending" | "confirmed" | "failed";
  signer: string;
  nonce: string;
  receivableId: string | null;
  lineId: number | null;
  txHash: string | null;
  blockNumber: number | null;
  failureReason: string | null;
  result: Record<string, unknown> | null;
}

interface TypedDataSigner {
  signTypedData(domain: TypedDataDomain, types: Record<string, TypedDataField[]>, value: Record<string, unknown>): Promise<string>;
}

/** Signs typed data as the service hands it out (ethers derives EIP712Domain itself and refuses it in `types`). */
export function signTypedData(
  key: TypedDataSigner,
  td: { domain: TypedDataDomain | Record<string, unknown>; types: Record<string, TypedDataField[]>; message: Record<string, unknown> },
): Promise<string> {
  const types = { ...td.types };
  delete types.EIP712Domain;
  return key.signTypedData(td.domain as TypedDataDomain, types, td.message);
}

/**
 * The body fields a signed post must repeat from the typed data the service proposed: a request's
 * terms, an approval's amounts (empty for other acts). Clients merge them into the signed body.
 */
export function proposedFields(primaryType: string, message: Record<string, unknown>): Record<string, string> {
  if (primaryType === "RequestFinancing") {
    const t = message.terms as Record<string, string | number | bigint>;
    return {
      minPaid: String(t.minPaid),
      maxDiscount: String(t.maxDiscount),
      expiresAt: new Date(Number(t.expiresAt) * 1000).toISOString(),
    };
  }
  if (primaryType === "ApproveFinancing" || primaryType === "ApproveSignedRequest") {
    const a = message.approval as Record<string, string | number | bigint>;
    return { advance: String(a.advance), paid: String(a.paid) };
  }
  return {};
}

/** The signed POST's body: the terms the service proposed (as signed), the caller's body, nonce, deadline, signature. */
export function signedBody(body: Record<string, unknown>, td: TypedData, signature: string): Record<string, unknown> {
  return {
    ...proposedFields(td.primaryType, td.message),
    ...body,
    nonce: String(td.message.nonce),
    deadline: String(td.message.deadline),
    signature,
  };
}

/** Polls GET /acts/:id until the act is final or `timeoutMs` passes; returns its last state. */
export async function followAct(api: { get<T>(path: string): Promise<T> }, id: string, timeoutMs = 120_000): Promise<Act> {
  const until = Date.now() + timeoutMs;
  let delay = 100;
  for (;;) {
    const a = await api.get<Act>(`/acts/${id}`);
    if (a.status !== "pending" || Date.now() > until) return a;
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 1000);
  }
}
