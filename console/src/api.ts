/**
 * The API client: JSON or multipart requests with the session's bearer token; every error answer is
 * read as the service's RFC 9457 problem document and thrown as an ApiError carrying its title and
 * detail (what the page shows the user).
 */
import type { Page } from "../../shared/api-types";

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    readonly detail: string,
    readonly code?: string,
  ) {
    super(detail ? `${title}: ${detail}` : title);
  }
}

let token: string | null = null;
export const setToken = (t: string | null) => {
  token = t;
};

export interface RequestOptions {
  json?: unknown;
  form?: FormData;
  idempotencyKey?: string;
}

export async function request<T>(method: "GET" | "POST", path: string, o: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = { accept: "application/json, application/problem+json" };
  if (token) headers.authorization = `Bearer ${token}`;
  if (o.idempotencyKey) headers["idempotency-key"] = o.idempotencyKey;
  let body: BodyInit | undefined;
  if (o.json !== undefined) {
    headers["content-type"] = "application/json";
    body = JSON.stringify(o.json);
  } else if (o.form) body = o.form;
  const res = await fetch(path, { method, headers, body });
  const text = await res.text();
  let parsed: unknown = undefined;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = text;
  }
  if (!res.ok) {
    const p = (parsed && typeof parsed === "object" ? parsed : {}) as { title?: string; detail?: string; code?: string };
    throw new ApiError(res.status, p.title ?? `HTTP ${res.status}`, p.detail ?? (typeof parsed === "string" ? parsed : ""), p.code);
  }
  return parsed as T;
}

export const get = <T>(path: string) => request<T>("GET", path);
export const post = <T>(path: string, json: unknown = {}, idempotencyKey?: string) => request<T>("POST", path, { json, idempotencyKey });

/** Downloads a file with the bearer token (an <a href> cannot send it) and hands it to the browser. */
export async function download(path: string, filename: string): Promise<void> {
  const res = await fetch(path, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  if (!res.ok) {
    const p = (await res.json().catch(() => ({}))) as { title?: string; detail?: string };
    throw new ApiError(res.status, p.title ?? `HTTP ${res.status}`, p.detail ?? "");
  }
  const url = URL.createObjectURL(await res.blob());
  const a = document.createElement("a");
  a.href = url;
  a.download = filename;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** Every item of a cursor-paged list (the console's lists are small; the API pages at 100). */
export async function all<T>(path: string): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | null = null;
  for (let i = 0; i < 50; i++) {
    const sep = path.includes("?") ? "&" : "?";
    const page: Page<T> = await get<Page<T>>(`${path}${sep}limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
    items.push(...page.items);
    if (!page.nextCursor) break;
    cursor = page.nextCursor;
  }
  return items;
}
