/**
 * Signing in over HTTP for tests, the way a client does (shared/client.ts): POST /auth/challenge,
 * personal_sign of the returned EIP-4361 message, POST /auth/login. Throws with the server's answer
 * on any refusal.
 */
import type { HDNodeWallet, Wallet } from "ethers";
import { ApiClient, login as clientLogin, requestChallenge as clientChallenge, type Challenge, type Session } from "../../shared/client";

/** A fresh challenge for `address`. */
export function requestChallenge(baseUrl: string, address: string): Promise<Challenge> {
  return clientChallenge(new ApiClient(baseUrl), address);
}

/** The full login answer for `wallet`. */
export function login(baseUrl: string, wallet: Wallet | HDNodeWallet): Promise<Session> {
  return clientLogin(new ApiClient(baseUrl), wallet);
}

/** Signs `wallet` in and returns its bearer token. */
export async function signIn(baseUrl: string, wallet: Wallet | HDNodeWallet): Promise<string> {
  return (await login(baseUrl, wallet)).accessToken;
}

/** The Authorization header for a token, for supertest's `.set(...)`. */
export function bearer(token: string): { Authorization: string } {
  return { Authorization: `Bearer ${token}` };
}
