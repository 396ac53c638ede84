/**
 * The invoice CSV an ERP exports, checked row by row before anything is sent. Pure functions (no
 * I/O but the optional document hasher), so the rules are unit-tested on their own.
 *
 * Columns (header names are case-insensitive; spaces and dashes count as underscores; unknown
 * columns are ignored):
 *   invoice_number   required
 *   buyer_address    the buyer's ledger address (0x…); may come from --buyer instead
 *   seller_tax_id    your tax id as printed on the invoice; may come from --seller-tax-id instead
 *   buyer_tax_id     required
 *   issue_date       YYYY-MM-DD (also YYYY/MM/DD or YYYYMMDD)
 *   due_date         same formats; after today, at most 365 days ahead and after the issue date
 *   amount           yuan, at most 2 decimals (1250.50, 1,250.50)   } one of the two;
 *   amount_fen       whole fen (125050)                               } both must agree
 *   currency         optional: CNY (also RMB, 人民币, ¥) or empty
 *   document_sha256  SHA-256 of the invoice document (64 hex, 0x optional) } one of the two
 *   document_file    path of the document, relative to the CSV file      }
 */
import { getAddress } from "ethers";
import { MAX_FEN, parseFen, yuanToFen } from "../../../shared/money";
// The ledger's own normalisation of tax ids and invoice numbers, so these checks match the fingerprint.
import { invoiceNumberKey, InvoiceIdentityError, normaliseInvoiceKey, taxIdKey } from "../../../shared/fingerprint";

export const MAX_TERM_DAYS = 365;

export interface BatchInvoice {
  debtor: string;
  invoiceNumber: string;
  sellerTaxId: string;
  buyerTaxId: string;
  issueDate: string;
  dueDate: string;
  /** Fen as a decimal string. */
  amount: string;
  documentHash: string;
}

export interface ValidRow {
  ok: true;
  line: number;
  invoice: BatchInvoice;
  /** The document file to upload once tokenised, when the row named one. */
  documentFile?: string;
  /** Normalised identity, for finding the same invoice twice in one file. */
  key: string;
}

export interface BadRow {
  ok: false;
  line: number;
  invoiceNumber: string;
  reasons: string[];
}

export type CheckedRow = ValidRow | BadRow;

export interface RowOptions {
  now: Date;
  /** --buyer: the buyer's address for rows without buyer_address. */
  defaultBuyer?: string;
  /** --seller-tax-id: for rows without seller_tax_id. */
  defaultSellerTaxId?: string;
  /** Members' addresses by normalised tax id (GET /participants?taxId=), for rows without buyer_address. */
  buyersByTaxId?: ReadonlyMap<string, string>;
  /** Returns the 0x SHA-256 of a document file named by a row, or throws if it cannot be read. */
  hashFile?: (path: string) => string;
}

export const KNOWN_COLUMNS = [
  "invoice_number",
  "buyer_address",
  "seller_tax_id",
  "buyer_tax_id",
  "issue_date",
  "due_date",
  "amount",
  "amount_fen",
  "currency",
  "document_sha256",
  "document_file",
] as const;

/** A header cell to its canonical column name ("Invoice Number" -> "invoice_number"). */
export function canonicalColumn(header: string): string {
  return header
    .replace(/^\uFEFF/, "")
    .trim()
    .toLowerCase()
    .replace(/[\s-]+/g, "_");
}

/** Missing required columns of a header row (given the defaults), as readable text, or []. */
export function missingColumns(headers: string[], opts: Pick<RowOptions, "defaultBuyer" | "defaultSellerTaxId">): string[] {
  const h = new Set(headers.map(canonicalColumn));
  const missing: string[] = [];
  for (const c of ["invoice_number", "buyer_tax_id", "issue_date", "due_date"]) if (!h.has(c)) missing.push(c);
  if (!h.has("seller_tax_id") && !opts.defaultSellerTaxId) missing.push("seller_tax_id (or pass --seller-tax-id …)");
  if (!h.has("amount") && !h.has("amount_fen")) missing.push("amount (yuan) or amount_fen");
  if (!h.has("document_sha256") && !h.has("document_file")) missing.push("document_sha256 or document_file");
  return missing;
}

/** "2026-03-01", "2026/03/01", "20260301" -> "2026-03-01"; null if not a real calendar day. */
export function parseDay(text: string): string | null {
  const m = /^(\d{4})[-/]?(\d{2})[-/]?(\d{2})$/.exec(text.trim());
  if (!m) return null;
  const sep = text.trim().replace(/\d/g, "");
  if (sep !== "" && sep !== "--" && sep !== "//") return null;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const t = new Date(Date.UTC(y, mo - 1, d));
  if (t.getUTCFullYear() !== y || t.getUTCMonth() !== mo - 1 || t.getUTCDate() !== d) return null;
  return `${m[1]}-${m[2]}-${m[3]}`;
}

const dayMs = (day: string) => Date.parse(`${day}T00:00:00Z`);

function address(text: string): string | null {
  const s = text.trim();
  if (!/^0x[0-9a-fA-F]{40}$/.test(s)) return null;
  const hex = s.slice(2);
  if (hex !== hex.toLowerCase() && hex !== hex.toUpperCase()) {
    try {
      if (getAddress(s) !== s) return null; // mixed case with a wrong checksum: a typo
    } catch {
      return null;
    }
  }
  return getAddress(s.toLowerCase());
}

function taxOrNumber(value: string, column: string, reasons: string[]): string {
  const v = value.trim();
  if (!v) reasons.push(`${column} is empty`);
  else if (v.length > 64) reasons.push(`${column} is longer than 64 characters`);
  else if (!normaliseInvoiceKey(v)) reasons.push(`${column} "${v}" has no letters or digits`);
  return v;
}

/**
 * Checks one data row (`cells` by canonical column name; `line` is its line in the file) and
 * returns the invoice to submit, or every reason the row cannot be submitted.
 */
export function checkInvoiceRow(cells: Record<string, string | undefined>, line: number, opts: RowOptions): CheckedRow {
  const get = (c: string) => (cells[c] ?? "").trim();
  const reasons: string[] = [];
  const invoiceNumber = taxOrNumber(get("invoice_number"), "invoice_number", reasons);
  const sellerTaxId = taxOrNumber(get("seller_tax_id") || opts.defaultSellerTaxId || "", "seller_tax_id", reasons);
  const buyerTaxId = taxOrNumber(get("buyer_tax_id"), "buyer_tax_id", reasons);
  if (sellerTaxId && buyerTaxId && normaliseInvoiceKey(sellerTaxId) === normaliseInvoiceKey(buyerTaxId)) {
    reasons.push("seller_tax_id and buyer_tax_id are the same: an invoice to oneself cannot be tokenised");
  }
  // The ledger's identity rules, checked here so a bad row is named before anything is signed.
  let key = "";
  try {
    if (buyerTaxId) taxIdKey(buyerTaxId, "buyerTaxId");
    if (sellerTaxId && invoiceNumber) key = `${taxIdKey(sellerTaxId, "sellerTaxId")}|${invoiceNumberKey(invoiceNumber)}`;
  } catch (e) {
    if (!(e instanceof InvoiceIdentityError)) throw e;
    reasons.push(e.message);
  }

  const looked = buyerTaxId ? opts.buyersByTaxId?.get(normaliseInvoiceKey(buyerTaxId)) : undefined;
  const buyerText = get("buyer_address") || opts.defaultBuyer || looked || "";
  const debtor = buyerText ? address(buyerText) : null;
  if (!buyerText) {
    reasons.push(
      buyerTaxId
        ? `no ledger member is registered under buyer_tax_id ${buyerTaxId} (the buyer must be onboarded first; or give buyer_address / --buyer)`
        : "buyer_address is empty (give the buyer's ledger address, or --buyer for the whole file)",
    );
  }
  else if (!debtor) reasons.push(`buyer_address "${buyerText}" is not an address (0x + 40 hex digits; mixed case must be a valid checksum)`);

  const issueRaw = get("issue_date");
  const dueRaw = get("due_date");
  const issueDate = parseDay(issueRaw);
  const dueDate = parseDay(dueRaw);
  if (!issueDate) reasons.push(issueRaw ? `issue_date "${issueRaw}" is not a date (use YYYY-MM-DD)` : "issue_date is empty");
  if (!dueDate) reasons.push(dueRaw ? `due_date "${dueRaw}" is not a date (use YYYY-MM-DD)` : "due_date is empty");
  const now = opts.now.getTime();
  if (issueDate && dayMs(issueDate) > now + 86_400_000) reasons.push(`issue_date ${issueDate} is in the future`);
  if (dueDate) {
    if (dayMs(dueDate) <= now) reasons.push(`due_date ${dueDate} is not after today: a due invoice is collected, not tokenised`);
    else if (dayMs(dueDate) - now > MAX_TERM_DAYS * 86_400_000) reasons.push(`due_date ${dueDate} is more than ${MAX_TERM_DAYS} days ahead`);
    if (issueDate && dayMs(dueDate) <= dayMs(issueDate)) reasons.push(`due_date ${dueDate} is not after issue_date ${issueDate}`);
    else if (issueDate && dayMs(dueDate) - dayMs(issueDate) > MAX_TERM_DAYS * 86_400_000) {
      reasons.push(`the payment term from ${issueDate} to ${dueDate} is longer than ${MAX_TERM_DAYS} days`);
    }
  }

  let fen: bigint | null = null;
  const yuanText = get("amount");
  const fenText = get("amount_fen");
  try {
    if (yuanText) fen = yuanToFen(yuanText);
  } catch (e) {
    reasons.push(`amount ${(e as Error).message}`);
  }
  if (fenText) {
    try {
      const f = parseFen(fenText);
      if (fen !== null && f !== fen) reasons.push(`amount ${yuanText} yuan and amount_fen ${fenText} disagree`);
      fen ??= f;
    } catch (e) {
      reasons.push(`amount_fen ${(e as Error).message}`);
    }
  }
  if (!yuanText && !fenText) reasons.push("amount is empty (give amount in yuan or amount_fen)");
  else if (fen !== null && fen <= 0n) reasons.push("amount must be above zero");
  else if (fen !== null && fen > MAX_FEN) reasons.push("amount exceeds the ledger's maximum (2^64-1 fen)");

  const currency = get("currency");
  if (currency && !/^(CNY|RMB|人民币|¥|￥)$/i.test(currency)) {
    reasons.push(`currency ${currency} is not CNY: the ledger settles in yuan only`);
  }

  let documentHash = "";
  let documentFile: string | undefined;
  const sha = get("document_sha256");
  const file = get("document_file");
  if (sha) {
    const m = /^(?:0x)?([0-9a-fA-F]{64})$/.exec(sha);
    if (m) documentHash = "0x" + m[1].toLowerCase();
    else reasons.push(`document_sha256 "${sha.slice(0, 80)}" is not a SHA-256 (64 hex digits)`);
  }
  if (file) {
    if (!opts.hashFile) reasons.push("document_file cannot be read here");
    else {
      try {
        const h = opts.hashFile(file);
        if (documentHash && h !== documentHash) reasons.push(`document_file ${file} does not hash to document_sha256`);
        documentHash ||= h;
        documentFile = file;
      } catch (e) {
        reasons.push(`document_file ${file}: ${(e as Error).message}`);
      }
    }
  }
  if (!sha && !file) reasons.push("no invoice document: give document_sha256 or document_file");

  if (reasons.length) return { ok: false, line, invoiceNumber, reasons };
  const invoice: BatchInvoice = {
    debtor: debtor!,
    invoiceNumber,
    sellerTaxId,
    buyerTaxId,
    issueDate: issueDate!,
    dueDate: dueDate!,
    amount: fen!.toString(),
    documentHash,
  };
  return { ok: true, line, invoice, key, ...(documentFile ? { documentFile } : {}) };
}

/**
 * Checks every row of a parsed file (`records[0]` is the header, `lines[i]` the line of
 * `records[i]`); a row repeating an earlier invoice (same identity once normalised) is bad too.
 */
export function checkInvoiceFile(records: string[][], lines: number[], opts: RowOptions): { header: string[]; rows: CheckedRow[]; missing: string[] } {
  const header = (records[0] ?? []).map(canonicalColumn);
  const missing = missingColumns(header, opts);
  if (missing.length) return { header, rows: [], missing };
  const seen = new Map<string, number>();
  const rows: CheckedRow[] = [];
  for (let i = 1; i < records.length; i++) {
    const rec = records[i];
    const line = lines[i];
    if (rec.every((c) => c.trim() === "")) continue;
    if (rec.length !== header.length) {
      rows.push({ ok: false, line, invoiceNumber: "", reasons: [`has ${rec.length} fields; the header has ${header.length}`] });
      continue;
    }
    const cells: Record<string, string> = {};
    header.forEach((h, j) => (cells[h] = rec[j]));
    const r = checkInvoiceRow(cells, line, opts);
    if (r.ok) {
      const first = seen.get(r.key);
      if (first !== undefined) {
        rows.push({ ok: false, line, invoiceNumber: r.invoice.invoiceNumber, reasons: [`the same invoice as line ${first} (same tax ids, number, issue date and amount)`] });
        continue;
      }
      seen.set(r.key, line);
    }
    rows.push(r);
  }
  return { header, rows, missing };
}
