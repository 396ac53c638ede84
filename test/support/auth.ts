/**
 * Signing in over HTTP for tests, the way a client does: POST /auth/challenge, personal_sign of
 * the returned EIP-4361 message, POST /auth/login. Throws with the server's answer on any refusal.
 */
import type { HDNodeWallet, Wallet } from "ethers";

export interface ChallengeBody {
  message: string;
  nonce: string;
  expiresAt: string;
}

export interface LoginBody {
  accessToken: string;
  tokenType: "Bearer";
  expiresAt: string;
  address: string;
}

async function postJson<T>(url: string, body: unknown, expected: number): Promise<T> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  if (res.status !== expected) throw new Error(`POST ${url} answered ${res.status} (expected ${expected}): ${text}`);
  return JSON.parse(text) as T;
}

/** A fresh challenge for `address`. */
export function requestChallenge(baseUrl: string, address: string): Promise<ChallengeBody> {
  return postJson<ChallengeBody>(`${baseUrl}/auth/challenge`, { address }, 201);
}

/** The full login answer for `wallet`. */
export async function login(baseUrl: string, wallet: Wallet | HDNodeWallet): Promise<LoginBody> {
  const { message } = await requestChallenge(baseUrl, wallet.address);
  const signature = await wallet.signMessage(message);
  return postJson<LoginBody>(`${baseUrl}/auth/login`, { message, signature }, 200);
}

/** Signs `wallet` in and returns its bearer token. */
export async function signIn(baseUrl: string, wallet: Wallet | HDNodeWallet): Promise<string> {
  return (await login(baseUrl, wallet)).accessToken;
}

/** The Authorization header for a token, for supertest's `.set(...)`. */
export function bearer(token: string): { Authorization: string } {
  return { Authorization: `Bearer ${token}` };
}
