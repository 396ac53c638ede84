/**
 * `scf keys`: the participant's signing keys, kept only as encrypted keystores (ethers' scrypt JSON,
 * files of mode 0600) so a key never lies on disk in clear; every signed act and sign-in unlocks one.
 */
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { checkKeyName, keyPath, keysDir, listKeys, password, writePrivate, type Opts } from "../lib/context";
import { CliError, EXIT, usage } from "../lib/errors";
import { printJson, table } from "../lib/output";

async function writeKey(o: Opts, name: string, privateKey: string): Promise<number> {
  const path = keyPath(o, name);
  if (existsSync(path) && !o.force) throw usage(`A key named ${name} already exists (${path}); use --force to overwrite it.`);
  const { Wallet, encryptKeystoreJson } = await import("ethers");
  const w = new Wallet(privateKey);
  const pw = await password(`New password for key ${name}: `, true);
  if (pw.length < 8) throw usage("Choose a password of at least 8 characters.");
  // SCF_SCRYPT_N lowers the scrypt cost for tests only; the default is ethers' (2^17).
  const n = process.env.SCF_SCRYPT_N ? Number(process.env.SCF_SCRYPT_N) : undefined;
  const json = n ? await encryptKeystoreJson({ address: w.address, privateKey: w.privateKey }, pw, { scrypt: { N: n } }) : await w.encrypt(pw);
  mkdirSync(keysDir(o), { recursive: true, mode: 0o700 });
  writePrivate(path, json);
  if (o.json) printJson({ name, address: w.address, file: path });
  else process.stdout.write(`Key ${name}: ${w.address} (encrypted in ${path})\n`);
  return EXIT.OK;
}

export async function keysNew(o: Opts, name: string): Promise<number> {
  const { Wallet } = await import("ethers");
  return writeKey(o, name, Wallet.createRandom().privateKey);
}

export async function keysImport(o: Opts, name: string): Promise<number> {
  let text: string;
  if (o.privateKeyFile) {
    if (!existsSync(o.privateKeyFile)) throw usage(`No such file: ${o.privateKeyFile}`);
    text = readFileSync(o.privateKeyFile, "utf8");
  } else {
    if (process.stdin.isTTY) throw usage("Give --private-key-file FILE, or pipe the private key on stdin (scf keys import NAME < key.txt).");
    text = readFileSync(0, "utf8");
  }
  const m = /^\s*(?:0x)?([0-9a-fA-F]{64})\s*$/.exec(text);
  if (!m) throw usage("The private key must be 64 hex digits (0x optional), alone in the file.");
  if (!o.privateKeyFile && !process.env.SCF_PASSWORD) {
    throw new CliError("The key came on stdin, so the password cannot be asked on the terminal: set SCF_PASSWORD, or use --private-key-file.", EXIT.AUTH);
  }
  return writeKey(o, name, "0x" + m[1]);
}

export async function keysList(o: Opts): Promise<number> {
  const keys = listKeys(o);
  if (o.json) printJson(keys.map(({ name, address }) => ({ name, address })));
  else if (!keys.length) process.stdout.write(`No keys in ${keysDir(o)}. Create one with: scf keys new NAME\n`);
  else table(["name", "address"], keys.map((k) => [k.name, k.address]));
  return EXIT.OK;
}

/** The address of one key, alone on a line (for scripts: `--debtor "$(scf keys address buyer)"`). */
export async function keysAddress(o: Opts, name: string): Promise<number> {
  const k = listKeys(o).find((x) => x.name === checkKeyName(name));
  if (!k) throw new CliError(`No key named "${name}" in ${keysDir(o)}. Create one with: scf keys new ${name}`, EXIT.AUTH);
  if (o.json) printJson({ name: k.name, address: k.address });
  else process.stdout.write(`${k.address}\n`);
  return EXIT.OK;
}
