/**
 * Where things are (service URL, keystores, sessions), the signing key, and the HTTP client that
 * signs in by itself (SIWE) when the cached session is missing or expired.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import type { Wallet } from "ethers";
import { ApiClient, ApiUnreachable, problemMessage, type Query, type Reply } from "../../../shared/client";
import { CliError, EXIT, usage } from "./errors";
import type { Page } from "../../../shared/api-types";

export interface GlobalOptions {
  url?: string;
  keysDir?: string;
  key?: string;
  json?: boolean;
}

/** What a command's work receives: the global options and the command's own (by commander's names). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Opts = GlobalOptions & Record<string, any>;

export function scfHome(): string {
  return process.env.SCF_HOME || join(homedir(), ".scf");
}

export function keysDir(o: GlobalOptions): string {
  return o.keysDir || process.env.SCF_KEYS_DIR || join(scfHome(), "keys");
}

export function serviceUrl(o: GlobalOptions): string {
  const raw = o.url || process.env.SCF_URL || "http://127.0.0.1:3000";
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw usage(`--url ${raw} is not a URL (e.g. http://127.0.0.1:3000)`);
  }
  if (u.protocol !== "http:" && u.protocol !== "https:") throw usage(`--url must be http:// or https:// (got ${raw})`);
  return raw.replace(/\/+$/, "");
}

/** Writes a file atomically (temp file + rename) with mode 0600. */
export function writePrivate(path: string, text: string): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, text, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, path);
}

const KEY_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export function checkKeyName(name: string): string {
  if (!KEY_NAME.test(name)) throw usage(`key name "${name}" must be letters, digits, dot, dash or underscore (at most 64)`);
  return name;
}

export function keyPath(o: GlobalOptions, name: string): string {
  return join(keysDir(o), `${checkKeyName(name)}.json`);
}

export function listKeys(o: GlobalOptions): Array<{ name: string; address: string; file: string }> {
  const dir = keysDir(o);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith(".json"))
    .sort()
    .map((f) => {
      let address = "?";
      try {
        const a = (JSON.parse(readFileSync(join(dir, f), "utf8")) as { address?: string }).address;
        if (a) address = toChecksum(a.startsWith("0x") ? a : `0x${a}`);
      } catch {
        address = "(unreadable)";
      }
      return { name: f.slice(0, -5), address, file: join(dir, f) };
    });
}

function toChecksum(a: string): string {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { getAddress } = require("ethers") as typeof import("ethers");
  return getAddress(a.toLowerCase());
}

/** The key to use: --key, SCF_KEY, or the only keystore there is. */
export function chosenKey(o: GlobalOptions): { name: string; address: string; file: string } {
  const keys = listKeys(o);
  const name = o.key || process.env.SCF_KEY;
  if (name) {
    const k = keys.find((x) => x.name === name);
    if (!k) throw new CliError(`No key named "${name}" in ${keysDir(o)}. Create one with: scf keys new ${name}`, EXIT.AUTH);
    return k;
  }
  if (keys.length === 1) return keys[0];
  if (!keys.length) throw new CliError(`No key in ${keysDir(o)}. Create one with: scf keys new NAME (or import one with scf keys import)`, EXIT.AUTH);
  throw usage(`Several keys in ${keysDir(o)} (${keys.map((k) => k.name).join(", ")}): choose one with --key NAME or SCF_KEY`);
}

/** The keystore password: SCF_PASSWORD, or a hidden prompt on a terminal. */
export async function password(prompt: string, confirm = false): Promise<string> {
  const env = process.env.SCF_PASSWORD;
  if (env !== undefined && env !== "") return env;
  if (!process.stdin.isTTY) {
    throw new CliError("The keystore password is needed: set SCF_PASSWORD, or run on a terminal to be asked for it.", EXIT.AUTH);
  }
  const first = await hiddenPrompt(prompt);
  if (confirm && (await hiddenPrompt("Repeat the password: ")) !== first) throw usage("The two passwords differ.");
  return first;
}

/** Reads a line from the terminal without echoing it. */
export function hiddenPrompt(prompt: string): Promise<string> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const readline = require("node:readline") as typeof import("node:readline");
  return new Promise((resolve, reject) => {
    const rl = readline.createInterface({ input: process.stdin, output: process.stderr, terminal: true });
    const out = rl as unknown as { _writeToOutput: (s: string) => void; output: NodeJS.WriteStream };
    let prompted = false;
    out._writeToOutput = (s: string) => {
      if (!prompted) {
        process.stderr.write(s);
        prompted = true;
      }
    };
    rl.on("SIGINT", () => {
      rl.close();
      process.stderr.write("\n");
      reject(new CliError("Cancelled.", EXIT.INTERRUPTED));
    });
    rl.question(prompt, (answer) => {
      rl.close();
      process.stderr.write("\n");
      resolve(answer);
    });
  });
}

/** Decrypts the chosen keystore. */
export async function unlock(o: GlobalOptions): Promise<Wallet> {
  const k = chosenKey(o);
  const { Wallet } = await import("ethers");
  const json = readFileSync(k.file, "utf8");
  const pw = await password(`Password for key ${k.name} (${k.address}): `);
  try {
    return (await Wallet.fromEncryptedJson(json, pw)) as Wallet;
  } catch (e) {
    const m = (e as Error).message;
    if (/password/i.test(m)) throw new CliError(`Wrong password for key ${k.name}.`, EXIT.AUTH);
    throw new CliError(`Cannot read keystore ${k.file}: ${m}`, EXIT.AUTH);
  }
}

// ---------------------------------------------------------------- sessions

interface Session {
  accessToken: string;
  expiresAt: string;
}

function sessionsFile(): string {
  return join(scfHome(), "sessions.json");
}

function readSessions(): Record<string, Session> {
  try {
    return JSON.parse(readFileSync(sessionsFile(), "utf8")) as Record<string, Session>;
  } catch {
    return {};
  }
}

function saveSession(key: string, s: Session | null): void {
  const all = readSessions();
  const now = Date.now();
  for (const [k, v] of Object.entries(all)) if (Date.parse(v.expiresAt) <= now) delete all[k];
  if (s) all[key] = s;
  else delete all[key];
  mkdirSync(scfHome(), { recursive: true, mode: 0o700 });
  writePrivate(sessionsFile(), JSON.stringify(all, null, 2));
}

// ---------------------------------------------------------------- HTTP

export type ApiAnswer<T = unknown> = Reply<T>;

export function unreachable(url: string, e: unknown): CliError {
  const why = e instanceof ApiUnreachable ? e.reason : new ApiUnreachable(url, e).reason;
  return new CliError(`Cannot reach the SCF service at ${url} (${why}). Check --url / SCF_URL and that the service is running.`, EXIT.UNREACHABLE);
}

export interface RequestOptions {
  body?: unknown;
  form?: FormData;
  query?: Query;
  idempotencyKey?: string;
  /** Statuses returned to the caller instead of thrown (e.g. 409 for the import's own handling). */
  accept?: number[];
  raw?: boolean;
}

export class Api {
  private token: string | null = null;
  private wallet: Wallet | null = null;
  private readonly client: ApiClient;

  constructor(
    readonly url: string,
    readonly opts: GlobalOptions,
  ) {
    this.client = new ApiClient(url);
  }

  /** The signing wallet (asks for the password once). */
  async signer(): Promise<Wallet> {
    this.wallet ??= await unlock(this.opts);
    return this.wallet;
  }

  address(): string {
    return this.wallet?.address ?? chosenKey(this.opts).address;
  }

  private sessionKey(): string {
    return `${this.url}|${this.address()}`;
  }

  /** SIWE: challenge, personal_sign, login; caches the token. */
  async login(): Promise<Session & { address: string }> {
    const w = await this.signer();
    const ch = await this.fetchJson("POST", "/auth/challenge", { body: { address: w.address } }, false);
    const message = (ch.body as { message: string }).message;
    const signature = await w.signMessage(message);
    const res = await this.fetchJson("POST", "/auth/login", { body: { message, signature } }, false);
    const s = res.body as Session & { address: string };
    saveSession(this.sessionKey(), { accessToken: s.accessToken, expiresAt: s.expiresAt });
    this.token = s.accessToken;
    return s;
  }

  async logout(): Promise<void> {
    saveSession(this.sessionKey(), null);
  }

  private async bearer(): Promise<string> {
    if (this.token) return this.token;
    const cached = readSessions()[this.sessionKey()];
    // Keep a margin so a token does not expire between this check and the request.
    if (cached && Date.parse(cached.expiresAt) > Date.now() + 30_000) return (this.token = cached.accessToken);
    return (await this.login()).accessToken;
  }

  async request<T = unknown>(method: string, path: string, o: RequestOptions = {}): Promise<ApiAnswer<T>> {
    const first = await this.fetchJson<T>(method, path, { ...o, accept: [...(o.accept ?? []), 401] }, true);
    if (first.status !== 401 || o.accept?.includes(401)) return first;
    // The cached session was refused (expired, logged out, service restarted): sign in again once.
    saveSession(this.sessionKey(), null);
    this.token = null;
    return this.fetchJson<T>(method, path, o, true);
  }

  get<T = unknown>(path: string, query?: RequestOptions["query"]): Promise<T> {
    return this.request<T>("GET", path, { query }).then((r) => r.body);
  }

  post<T = unknown>(path: string, body: unknown, o: Omit<RequestOptions, "body"> = {}): Promise<ApiAnswer<T>> {
    return this.request<T>("POST", path, { ...o, body });
  }

  /** Raw streaming GET (for exports). */
  async stream(path: string, query?: RequestOptions["query"]): Promise<Response> {
    const go = async () => {
      try {
        return await fetch(this.client.href(path, query), { headers: { authorization: `Bearer ${await this.bearer()}` } });
      } catch (e) {
        throw unreachable(this.url, e);
      }
    };
    let res = await go();
    if (res.status === 401) {
      saveSession(this.sessionKey(), null);
      this.token = null;
      res = await go();
    }
    if (!res.ok) {
      const text = await res.text();
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        /* text */
      }
      throw errorFor(res.status, body, path);
    }
    return res;
  }

  private async fetchJson<T>(method: string, path: string, o: RequestOptions, auth: boolean): Promise<ApiAnswer<T>> {
    const token = auth ? await this.bearer() : null;
    let res: Reply<T>;
    try {
      res = await this.client.request<T>(method, path, { ...o, token, timeoutMs: 120_000 });
    } catch (e) {
      throw unreachable(this.url, e);
    }
    if (res.status < 400 || o.accept?.includes(res.status)) return res;
    if (!auth && res.status === 401) throw new CliError(`Sign-in refused: ${problemMessage(res.body, res.status)}`, EXIT.AUTH);
    throw errorFor(res.status, res.body, path);
  }
}

export function errorFor(status: number, body: unknown, path: string): CliError {
  const msg = problemMessage(body, status);
  if (status === 401) return new CliError(`Not signed in or session refused (${msg}). Run: scf login`, EXIT.AUTH, body);
  if (status === 429) return new CliError(`The service is rate-limiting this client (${msg}); wait a minute and retry.`, EXIT.UNREACHABLE, body);
  if (status >= 500) return new CliError(`The service failed on ${path} (HTTP ${status}: ${msg}). Retry later; if it persists, tell the operator.`, EXIT.UNREACHABLE, body);
  return new CliError(`Refused (HTTP ${status}): ${msg}`, EXIT.REFUSED, body);
}

/** The API client for a command's options (--url, --key, --keys-dir). */
export const api = (o: Opts) => new Api(serviceUrl(o), o);

/** A list endpoint's items: one page, or every page with `all` (the --all option). */
export async function pages<T>(a: Api, path: string, query: Record<string, string | number | boolean | undefined>, all: boolean): Promise<Page<T>> {
  const items: T[] = [];
  let cursor = query.cursor as string | undefined;
  for (;;) {
    const p = await a.get<Page<T>>(path, { ...query, cursor });
    items.push(...p.items);
    if (!all || !p.nextCursor) return { items, nextCursor: p.nextCursor };
    cursor = p.nextCursor;
  }
}
