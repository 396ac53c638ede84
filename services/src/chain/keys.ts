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

/**
 * The required keys, plus the settlement-token issuer key where ISSUER_KEYSTORE is configured (faucet),
 * and the relayer pool: `relayer` first, then the extra relayer keys of RELAYER_KEYS > 1.
 */
export type ServiceWallets = Record<RequiredServiceKey, Wallet> & { issuer?: Wallet; relayers: Wallet[] };

export interface KeystoreFiles {
  dir: string;
  files: Record<RequiredServiceKey, string> & { issuer?: string };
  password: string | undefined;
  /** How many relayer keys (RELAYER_KEYS): the relayer keystore, then relayerKeystoreFile(…, 1 … n-1). */
  relayerKeys?: number;
}

/**
 * The keystore file of relayer key `index` of the pool: the RELAYER_KEYSTORE file itself for 0, then the
 * same name with `-1`, `-2`, … before its extension (relayer.json → relayer-1.json).
 */
export function relayerKeystoreFile(base: string, index: number): string {
  if (index === 0) return base;
  const dot = base.lastIndexOf(".");
  return dot > 0 ? `${base.slice(0, dot)}-${index}${base.slice(dot)}` : `${base}-${index}`;
}

/** What a missing keystore's message tells the operator to run (the CLI writes `<name>.json`). */
function howToCreate(dir: string, file: string): string {
  const cli = file.endsWith(".json") ? `scf keys new ${file.slice(0, -".json".length)} --keys-dir ${dir}` : `scf keys new <name> --keys-dir ${dir}, renamed to ${file}`;
  return `Create it with \`${cli}\`, under the KEYSTORE_PASSWORD password, and fund it (npm start creates all keys of the embedded platform itself).`;
}

async function unlock(path: string, password: string, name: string, missing: string): Promise<Wallet> {
  if (!existsSync(path)) throw new Error(missing);
  try {
    const w = await Wallet.fromEncryptedJson(readFileSync(path, "utf8"), password);
    return w instanceof Wallet ? w : new Wallet(w.privateKey);
  } catch (err) {
    throw new Error(`Cannot unlock the ${name} keystore at ${path}: ${(err as Error).message}`);
  }
}

/** Decrypts the keystores; names the missing file or wrong password plainly. */
export async function loadServiceWallets(k: KeystoreFiles): Promise<ServiceWallets> {
  if (!k.password) {
    throw new Error("KEYSTORE_PASSWORD is not set: the service cannot unlock its keystores.");
  }
  const out: Partial<ServiceWallets> = {};
  for (const key of SERVICE_KEYS) {
    const path = join(k.dir, k.files[key]);
    out[key] = await unlock(path, k.password, key, `Keystore for the ${key} key not found at ${path}. ${howToCreate(k.dir, k.files[key])}`);
  }
  if (k.files.issuer) {
    const path = join(k.dir, k.files.issuer);
    out.issuer = await unlock(path, k.password, "issuer", `ISSUER_KEYSTORE: the issuer keystore was not found at ${path}.`);
  }
  const relayers = [out.relayer!];
  for (let i = 1; i < (k.relayerKeys ?? 1); i++) {
    const path = join(k.dir, relayerKeystoreFile(k.files.relayer, i));
    relayers.push(await unlock(path, k.password, `relayer ${i}`, `RELAYER_KEYS=${k.relayerKeys}: the keystore of relayer key ${i} was not found at ${path}.`));
  }
  // Each relayer key has its own nonce row: two entries of the pool holding one key would sign two
  // transactions with the same nonce.
  const others = new Set([out.operator!.address, out.compliance!.address, out.issuer?.address]);
  const seen = new Set<string>();
  for (const w of relayers) {
    if (seen.has(w.address) || others.has(w.address)) throw new Error(`The relayer keystores hold key ${w.address} twice, or one of the service's other keys: each relayer key must be its own.`);
    seen.add(w.address);
  }
  return { ...out, relayers } as ServiceWallets;
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
