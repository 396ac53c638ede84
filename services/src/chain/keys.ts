/**
 * The service's own keys (onboarding operator, compliance officer, relayer), each kept in an
 * encrypted JSON keystore. Participants' keys never come here: they sign their own acts.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Wallet, encryptKeystoreJsonSync, type HDNodeWallet } from "ethers";
import type { ServiceKey } from "../outbox/entities/outbox.entity";

/** The keys every service needs. */
export type RequiredServiceKey = Exclude<ServiceKey, "issuer">;
export const SERVICE_KEYS: readonly RequiredServiceKey[] = ["operator", "compliance", "relayer"];

/** The required keys, plus the settlement-token issuer key where ISSUER_KEYSTORE is configured (faucet). */
export type ServiceWallets = Record<RequiredServiceKey, Wallet> & { issuer?: Wallet };

export interface KeystoreFiles {
  dir: string;
  files: Record<RequiredServiceKey, string> & { issuer?: string };
  password: string | undefined;
}

/** Decrypts the three keystores; names the missing file or wrong password plainly. */
export async function loadServiceWallets(k: KeystoreFiles): Promise<ServiceWallets> {
  if (!k.password) {
    throw new Error("KEYSTORE_PASSWORD is not set: the service cannot unlock its keystores.");
  }
  const out: Partial<ServiceWallets> = {};
  for (const key of SERVICE_KEYS) {
    const path = join(k.dir, k.files[key]);
    if (!existsSync(path)) {
      throw new Error(`Keystore for the ${key} key not found at ${path}. Create keys with 'npm run keys:init'.`);
    }
    try {
      const w = await Wallet.fromEncryptedJson(readFileSync(path, "utf8"), k.password);
      out[key] = w instanceof Wallet ? w : new Wallet(w.privateKey);
    } catch (err) {
      throw new Error(`Cannot unlock the ${key} keystore at ${path}: ${(err as Error).message}`);
    }
  }
  if (k.files.issuer) {
    const path = join(k.dir, k.files.issuer);
    if (!existsSync(path)) throw new Error(`ISSUER_KEYSTORE: the issuer keystore was not found at ${path}.`);
    try {
      const w = await Wallet.fromEncryptedJson(readFileSync(path, "utf8"), k.password);
      out.issuer = w instanceof Wallet ? w : new Wallet(w.privateKey);
    } catch (err) {
      throw new Error(`Cannot unlock the issuer keystore at ${path}: ${(err as Error).message}`);
    }
  }
  return out as ServiceWallets;
}

/**
 * Writes a keystore for `wallet`. `fast` lowers the scrypt cost for tests and throwaway dev keys
 * (N = 2^10 instead of 2^17); never use it for keys that guard value.
 */
export function writeKeystore(path: string, wallet: Wallet | HDNodeWallet, password: string, fast = false): void {
  mkdirSync(join(path, ".."), { recursive: true });
  const json = encryptKeystoreJsonSync(
    { address: wallet.address, privateKey: wallet.privateKey },
    password,
    fast ? { scrypt: { N: 1 << 10 } } : {},
  );
  writeFileSync(path, json, { mode: 0o600 });
}
