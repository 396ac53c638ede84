/**
 * The ledger exit export as a file format, shared by the service (which writes it), the CLI (which
 * checks it) and the replay (which loads it): the files and their fields, the manifest, and the
 * check a recipient runs before trusting a single row. Pure: no database, no network.
 *
 * Every file is NDJSON: one record per line, each line the record's RFC 8785 canonical JSON (so a
 * row's bytes are a function of its content alone) followed by "\n". The manifest lists, per file,
 * the SHA-256 of the whole file AND of every row, and is signed (EIP-191) by the operator key
 * exactly as the regulator's pack is (export-pack-format.ts: same canonical JSON, same signature
 * file). Per-row hashes are what lets a check name the row that was altered ("receivables.ndjson
 * row 17") instead of only the file; re-verifying rows against the chain would need the old chain
 * to be reachable, which is exactly what an exit cannot assume.
 */
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { canonicalJson, readSignedManifest, sha256Hex, MANIFEST_FILE, SIGNATURE_FILE } from "./export-pack-format";

export { canonicalJson, sha256Hex, MANIFEST_FILE, SIGNATURE_FILE };

export const EXIT_FORMAT = "scf-ledger-exit";
export const EXIT_FORMAT_VERSION = 1;

/** Every amount is a decimal string in fen; ids are 0x + 64 hex; addresses EIP-55; times unix seconds. */
export interface ExitMember {
  address: string;
  roles: number;
  status: "active" | "suspended";
  kycExpiry: number;
  jurisdiction: string;
  entityIdHash: string;
  suspensionReason: string | null;
  registeredBlock: number;
}

export interface ExitReceivable {
  id: string;
  parentId: string | null;
  seller: string;
  debtor: string;
  holder: string | null;
  faceValue: string;
  outstanding: string;
  dueDate: number;
  status: "issued" | "accepted" | "financed" | "paid" | "defaulted" | "cancelled" | "split";
  financed: boolean;
  documentHash: string | null;
  termReview: boolean;
  createdBlock: number;
  createdTx: string;
  tokenisedAt: number | null;
}

export interface ExitCreditLine {
  id: number;
  financier: string;
  debtor: string | null;
  supplier: string | null;
  limit: string;
  utilised: string;
  maxAdvanceBps: number;
  discountBps: number;
  expiry: number;
  open: boolean;
}

export interface ExitFinancing {
  receivableId: string;
  lineId: number;
  supplier: string;
  financier: string | null;
  status: "requested" | "rejected" | "active" | "repaid" | "written_off" | "withdrawn";
  principal: string;
  advance: string | null;
  paidToSupplier: string | null;
  rejectReason: string | null;
  minPaid: string | null;
  maxDiscount: string | null;
  expiresAt: number | null;
  registrationHash: string | null;
  approvedAt: number | null;
}

export interface ExitPayment {
  txHash: string;
  logIndex: number;
  receivableId: string;
  debtor: string;
  holder: string;
  amount: string;
  outstandingAfter: string;
  blockNumber: number;
  timestamp: number;
}

export interface ExitBalance {
  account: string;
  balance: string;
}

export interface ExitEvent {
  txHash: string;
  logIndex: number;
  blockNumber: number;
  blockHash: string;
  txIndex: number;
  timestamp: number;
  contract: string;
  event: string;
  args: Record<string, string | boolean>;
  txFrom: string;
  actor: string | null;
}

/** The files of an export, in import order (members before what names them, parents before children). */
export const EXIT_FILES = ["members.ndjson", "balances.ndjson", "receivables.ndjson", "credit-lines.ndjson", "financings.ndjson", "payments.ndjson", "events.ndjson"] as const;
export type ExitFileName = (typeof EXIT_FILES)[number];

export interface ExitRows {
  "members.ndjson": ExitMember[];
  "balances.ndjson": ExitBalance[];
  "receivables.ndjson": ExitReceivable[];
  "credit-lines.ndjson": ExitCreditLine[];
  "financings.ndjson": ExitFinancing[];
  "payments.ndjson": ExitPayment[];
  "events.ndjson": ExitEvent[];
}

/** What names a row in a message: its id field. */
export const ROW_KEY: Record<ExitFileName, string[]> = {
  "members.ndjson": ["address"],
  "balances.ndjson": ["account"],
  "receivables.ndjson": ["id"],
  "credit-lines.ndjson": ["id"],
  "financings.ndjson": ["receivableId"],
  "payments.ndjson": ["txHash", "logIndex"],
  "events.ndjson": ["txHash", "logIndex"],
};

export interface ExitManifestFile {
  name: ExitFileName;
  rows: number;
  bytes: number;
  sha256: string;
  /** SHA-256 of each row's bytes (its canonical JSON, without the newline), in file order. */
  rowSha256: string[];
}

export interface ExitManifest {
  format: typeof EXIT_FORMAT;
  formatVersion: number;
  ledger: { chainId: string; ledgerVersion: number; contracts: Record<string, string>; operator: string; totalSupply: string };
  /** The whole ledger (auditors, compliance officers) or one member's records. */
  scope: { kind: "ledger" } | { kind: "member"; member: string };
  /** Every file is the state (and history) at this indexed block. */
  block: { number: number; hash: string };
  files: ExitManifestFile[];
  generatedAt: string;
}

/** One file's text from its rows: canonical JSON per line. */
export function ndjson(rows: readonly unknown[]): string {
  return rows.map((r) => canonicalJson(r) + "\n").join("");
}

export function manifestFile(name: ExitFileName, text: string): ExitManifestFile {
  const lines = text === "" ? [] : text.replace(/\n$/, "").split("\n");
  return { name, rows: lines.length, bytes: Buffer.byteLength(text), sha256: sha256Hex(text), rowSha256: lines.map((l) => sha256Hex(l)) };
}

export interface ExitCheck {
  ok: boolean;
  /** One line per problem, each naming the file (and the row, 1-based, when a row is at fault). */
  problems: string[];
  manifest: ExitManifest | null;
  signer: string | null;
}

/**
 * Checks an export directory before anything is loaded from it: the operator's signature over
 * manifest.json's bytes, then per file every row against its signed SHA-256 (naming the first
 * rows that differ), the row count and the whole file's SHA-256.
 */
export function verifyExitDir(dir: string, expectedOperator?: string): ExitCheck {
  const signed = readSignedManifest<ExitManifest>(dir, expectedOperator);
  const { manifest, signer } = signed;
  if (!manifest) return { ok: false, problems: signed.problems, manifest: null, signer: null };
  if (manifest.format !== EXIT_FORMAT || manifest.formatVersion !== EXIT_FORMAT_VERSION) {
    return { ok: false, problems: [`${MANIFEST_FILE}: format ${manifest.format} v${manifest.formatVersion}, expected ${EXIT_FORMAT} v${EXIT_FORMAT_VERSION}`], manifest, signer: null };
  }
  const problems = [...signed.problems];
  const listed = new Set<string>();
  for (const f of manifest.files ?? []) {
    listed.add(f.name);
    const path = join(dir, f.name);
    if (!(EXIT_FILES as readonly string[]).includes(f.name) || !existsSync(path)) {
      problems.push(`${f.name}: missing`);
      continue;
    }
    const text = readFileSync(path, "utf8");
    const lines = text === "" ? [] : text.replace(/\n$/, "").split("\n");
    const bad: number[] = [];
    lines.forEach((line, i) => {
      if (sha256Hex(line) !== f.rowSha256[i]) bad.push(i + 1);
    });
    for (const row of bad.slice(0, 5)) problems.push(`${f.name} row ${row}${rowLabel(f.name, lines[row - 1])}: does not match its SHA-256 in the signed manifest (the row was altered)`);
    if (bad.length > 5) problems.push(`${f.name}: ${bad.length - 5} more altered rows`);
    if (lines.length !== f.rows || f.rowSha256.length !== f.rows) problems.push(`${f.name}: ${lines.length} rows, the manifest says ${f.rows}`);
    if (!bad.length && sha256Hex(text) !== f.sha256) problems.push(`${f.name}: SHA-256 ${sha256Hex(text)} differs from the manifest's ${f.sha256} (the file was altered)`);
  }
  for (const name of EXIT_FILES) if (!listed.has(name)) problems.push(`${name}: not listed in the manifest`);
  for (const name of readdirSync(dir)) if (name.endsWith(".ndjson") && !listed.has(name)) problems.push(`${name}: not listed in the manifest`);
  return { ok: problems.length === 0, problems, manifest, signer };
}

/** The rows of one file of a checked export. */
export function readExitFile<N extends ExitFileName>(dir: string, name: N): ExitRows[N] {
  const text = readFileSync(join(dir, name), "utf8");
  return (text === "" ? [] : text.replace(/\n$/, "").split("\n").map((l) => JSON.parse(l) as unknown)) as ExitRows[N];
}

function rowLabel(name: ExitFileName, line: string | undefined): string {
  try {
    const row = JSON.parse(line ?? "") as Record<string, unknown>;
    return ` (${ROW_KEY[name].map((k) => `${k} ${String(row[k])}`).join(", ")})`;
  } catch {
    return " (not JSON)";
  }
}
