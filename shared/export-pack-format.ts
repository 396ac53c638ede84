/**
 * The regulator's export pack as a file format, shared by the service (which writes it) and the CLI
 * (which checks it): the files and their columns, the manifest, the exact bytes the operator key
 * signs, and the check a recipient runs. Pure: no database, no network.
 *
 * Signed bytes: the manifest's canonical JSON (RFC 8785 — object keys sorted by UTF-16 code units,
 * no whitespace, UTF-8; the manifest holds only strings, safe integers, arrays and objects, for which
 * RFC 8785 is exactly this), which is also the whole content of manifest.json, no trailing newline.
 * The signature is EIP-191 version 0x45 (`personal_sign`) over those bytes and sits beside it in
 * manifest.sig.json, so it is never part of what it signs.
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { parse as parseCsv } from "csv-parse/sync";
import { getAddress, verifyMessage } from "ethers";

export const PACK_FORMAT = "scf-ledger-export-pack";
export const PACK_FORMAT_VERSION = 1;
export const MANIFEST_FILE = "manifest.json";
export const SIGNATURE_FILE = "manifest.sig.json";

/** Columns every row starts with: where the event is on the chain. */
export const LOCATION_COLUMNS = ["txHash", "blockNumber", "blockHash", "logIndex", "time", "signer"] as const;

/** The files of a pack, in order, with their own columns after the location columns. */
export const PACK_FILES = {
  "vouchers.csv": ["receivableId", "seller", "debtor", "faceValue", "dueDate", "documentHash", "fingerprint"],
  "acceptances.csv": ["receivableId", "debtor"],
  "transfers.csv": ["receivableId", "from", "to"],
  "splits.csv": ["parentId", "childId", "rootId", "depth", "holder", "amount"],
  "financings.csv": [
    "receivableId",
    "lineId",
    "financier",
    "supplier",
    "advance",
    "paid",
    "registrationHash",
    "registrationNumber",
    "requestMinPaid",
    "requestMaxDiscount",
    "requestExpiresAt",
    "requestTxHash",
  ],
  "payments.csv": ["kind", "receivableId", "lineId", "payer", "recipient", "amount", "outstanding", "toFinancier", "toSupplier", "principalOutstanding"],
  "defaults.csv": ["kind", "receivableId", "lineId", "holder", "amount"],
} as const;

export type PackFileName = keyof typeof PACK_FILES;
export const PACK_FILE_NAMES = Object.keys(PACK_FILES) as PackFileName[];

export function packColumns(name: PackFileName): string[] {
  return [...LOCATION_COLUMNS, ...PACK_FILES[name]];
}

export interface PackManifestFile {
  name: string;
  rows: number;
  bytes: number;
  sha256: string;
}

export interface PackManifest {
  format: typeof PACK_FORMAT;
  formatVersion: number;
  ledger: {
    chainId: string;
    ledgerVersion: number;
    contracts: Record<string, string>;
    /** The service's operator key (the registry's ONBOARDING_OPERATOR), which signs the manifest. */
    operator: string;
  };
  /** The period as asked: times (ISO 8601, half-open [from, to)) or blocks (half-open [fromBlock, toBlock)). */
  period: { from: string; to: string } | { fromBlock: number; toBlock: number };
  /** The blocks the pack covers, both inclusive; `last` = `first` - 1 when the period holds no block. */
  blocks: { first: number; last: number };
  files: PackManifestFile[];
  generatedAt: string;
}

export interface PackSignature {
  scheme: "EIP-191 personal_sign";
  signedFile: typeof MANIFEST_FILE;
  signer: string;
  signature: string;
}

/** RFC 8785 canonical JSON for values made of strings, safe integers, booleans, null, arrays and objects. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value === "string" || typeof value === "boolean") return JSON.stringify(value);
  if (typeof value === "number") {
    if (!Number.isSafeInteger(value)) throw new Error(`canonical JSON here takes safe integers only, not ${value}`);
    return String(value);
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  throw new Error(`canonical JSON cannot hold a ${typeof value}`);
}

export function sha256Hex(data: Buffer | string): string {
  return createHash("sha256").update(data).digest("hex");
}

export interface PackCheck {
  ok: boolean;
  /** One line per problem, each naming the file. */
  problems: string[];
  manifest: PackManifest | null;
  signer: string | null;
}

/**
 * Checks a pack directory: the signature over manifest.json's bytes, that its signer is the
 * manifest's operator, and every file's SHA-256, size and row count. `expectedOperator`, when the
 * recipient knows it independently (deployment record, the registry's ONBOARDING_OPERATOR role
 * holder), must match as well.
 */
export function verifyPackDir(dir: string, expectedOperator?: string): PackCheck {
  const signed = readSignedManifest<PackManifest>(dir, expectedOperator);
  const { manifest, signer } = signed;
  if (!manifest) return { ok: false, problems: signed.problems, manifest: null, signer: null };
  const problems: string[] = [];
  if (manifest.format !== PACK_FORMAT || manifest.formatVersion !== PACK_FORMAT_VERSION) {
    problems.push(`${MANIFEST_FILE}: format ${manifest.format} v${manifest.formatVersion}, expected ${PACK_FORMAT} v${PACK_FORMAT_VERSION}`);
  }
  problems.push(...signed.problems);
  const listed = new Set<string>();
  for (const f of manifest.files ?? []) {
    listed.add(f.name);
    const path = join(dir, f.name);
    if (f.name.includes("/") || f.name.includes("\\") || !existsSync(path)) {
      problems.push(`${f.name}: missing`);
      continue;
    }
    const bytes = readFileSync(path);
    if (sha256Hex(bytes) !== f.sha256) {
      problems.push(`${f.name}: SHA-256 ${sha256Hex(bytes)} differs from the manifest's ${f.sha256} (the file was altered)`);
    }
    if (bytes.length !== f.bytes) problems.push(`${f.name}: ${bytes.length} bytes, the manifest says ${f.bytes}`);
    try {
      const rows = (parseCsv(bytes, { columns: true, skip_empty_lines: true }) as unknown[]).length;
      if (rows !== f.rows) problems.push(`${f.name}: ${rows} rows, the manifest says ${f.rows}`);
    } catch (e) {
      problems.push(`${f.name}: not valid CSV (${(e as Error).message})`);
    }
  }
  for (const name of readdirSync(dir)) {
    if (name.endsWith(".csv") && !listed.has(name)) problems.push(`${name}: not listed in the manifest`);
  }
  return { ok: problems.length === 0, problems, manifest, signer };
}

/**
 * Reads `dir`'s manifest.json and manifest.sig.json and checks the EIP-191 signature over the
 * manifest's bytes: its signer must be the manifest's `ledger.operator`, and `expectedOperator` when
 * the recipient names one. `manifest` is null when either file is missing or not JSON.
 */
export function readSignedManifest<M extends { ledger: { operator: string } }>(
  dir: string,
  expectedOperator?: string,
): { manifest: M | null; signer: string | null; problems: string[] } {
  const manifestPath = join(dir, MANIFEST_FILE);
  const sigPath = join(dir, SIGNATURE_FILE);
  if (!existsSync(manifestPath)) return { manifest: null, signer: null, problems: [`${MANIFEST_FILE}: missing in ${dir}`] };
  if (!existsSync(sigPath)) return { manifest: null, signer: null, problems: [`${SIGNATURE_FILE}: missing in ${dir}`] };
  const manifestBytes = readFileSync(manifestPath);
  let manifest: M;
  let sig: PackSignature;
  try {
    manifest = JSON.parse(manifestBytes.toString("utf8")) as M;
  } catch (e) {
    return { manifest: null, signer: null, problems: [`${MANIFEST_FILE}: not JSON (${(e as Error).message})`] };
  }
  try {
    sig = JSON.parse(readFileSync(sigPath, "utf8")) as PackSignature;
  } catch (e) {
    return { manifest: null, signer: null, problems: [`${SIGNATURE_FILE}: not JSON (${(e as Error).message})`] };
  }
  const problems: string[] = [];
  let signer: string | null = null;
  try {
    signer = verifyMessage(manifestBytes, sig.signature);
  } catch (e) {
    problems.push(`${SIGNATURE_FILE}: the signature cannot be read (${(e as Error).message})`);
  }
  if (signer) {
    const operator = safeAddress(manifest.ledger?.operator);
    if (!operator) problems.push(`${MANIFEST_FILE}: ledger.operator is not an address`);
    else if (signer !== operator) {
      problems.push(`${MANIFEST_FILE}: signed by ${signer}, not by the ledger's operator ${operator} (the manifest or its signature was altered)`);
    }
    if (safeAddress(sig.signer) !== signer) problems.push(`${SIGNATURE_FILE}: names signer ${sig.signer}, but the signature recovers ${signer}`);
    if (expectedOperator && safeAddress(expectedOperator) !== signer) {
      problems.push(`${SIGNATURE_FILE}: signed by ${signer}, not by the operator you named (${expectedOperator})`);
    }
  }
  return { manifest, signer, problems };
}

function safeAddress(a: unknown): string | null {
  try {
    return typeof a === "string" ? getAddress(a) : null;
  } catch {
    return null;
  }
}
