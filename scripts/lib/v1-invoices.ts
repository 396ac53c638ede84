/**
 * Version-2 invoice identities for version-1 receivables.
 *
 * Version 1 identified an invoice by a salted hash over seller and buyer tax ids, number, issue date
 * and amount, and kept nothing else (its database holds the hash only). Version 2 identifies it by
 * seller and number. To stop a v1 invoice coming back on v2 under its v2 identity, the upgrade
 * needs each invoice's seller tax id and number, which only the operator's own records (the ERP
 * export the invoices were imported from) hold. This module reads such an export (the CLI's CSV
 * columns), recomputes each row's v1 fingerprint with v1's definition, and keeps the rows that are
 * a v1 receivable: the match proves the row describes that receivable, so its v2 fingerprint can be
 * reserved with it.
 */
import { readFileSync } from "node:fs";
import { AbiCoder, keccak256 } from "ethers";
import { invoiceFingerprint, normaliseInvoiceKey } from "../../shared/fingerprint";

/** Version 1's fingerprint (commit b7d8acc, services/src/receivables/fingerprint.ts), which was also its receivable id. */
export function v1Fingerprint(
  salt: string,
  inv: { sellerTaxId: string; buyerTaxId: string; invoiceNumber: string; issueDate: string; amount: bigint },
): string {
  const seller = normaliseInvoiceKey(inv.sellerTaxId);
  const buyer = normaliseInvoiceKey(inv.buyerTaxId);
  const number = normaliseInvoiceKey(inv.invoiceNumber);
  return keccak256(
    AbiCoder.defaultAbiCoder().encode(
      ["bytes32", "string", "string", "string", "string", "uint256"],
      [salt, seller, buyer, number, inv.issueDate, inv.amount],
    ),
  );
}

export interface InvoiceMatch {
  /** The v1 receivable id (= its v1 fingerprint), 0x + 64 hex. */
  v1Id: string;
  /** The invoice's v2 fingerprint (seller tax id + number). */
  v2Fingerprint: string;
  invoiceNumber: string;
  sellerTaxId: string;
}

export interface InvoiceFileResult {
  rows: number;
  matched: InvoiceMatch[];
  /** Rows that are no v1 receivable (another ledger's, or a typo), or unusable, with the reason. */
  unmatched: Array<{ line: number; reason: string }>;
}

const header = (h: string) => h.trim().toLowerCase().replace(/[\s-]+/g, "_");

function day(v: string): string | null {
  const m = /^(\d{4})[-/]?(\d{2})[-/]?(\d{2})$/.exec(v.trim());
  return m ? `${m[1]}-${m[2]}-${m[3]}` : null;
}

function fen(row: Record<string, string>): bigint | null {
  if (row.amount_fen?.trim()) return /^\d+$/.test(row.amount_fen.trim()) ? BigInt(row.amount_fen.trim()) : null;
  const y = (row.amount ?? "").replace(/[,¥\s]/g, "");
  const m = /^(\d+)(?:\.(\d{1,2}))?$/.exec(y);
  return m ? BigInt(m[1]) * 100n + BigInt((m[2] ?? "").padEnd(2, "0")) : null;
}

/**
 * Reads an invoice export (invoice_number, seller_tax_id, buyer_tax_id, issue_date, amount or
 * amount_fen; other columns ignored) and matches each row to a v1 receivable id.
 */
export function matchInvoiceFile(path: string, salt: string, v1RootIds: Set<string>): InvoiceFileResult {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { parse } = require("csv-parse/sync") as typeof import("csv-parse/sync");
  const records = parse(readFileSync(path), { bom: true, columns: (h: string[]) => h.map(header), skip_empty_lines: true, trim: true }) as Array<
    Record<string, string>
  >;
  const out: InvoiceFileResult = { rows: records.length, matched: [], unmatched: [] };
  records.forEach((row, i) => {
    const line = i + 2;
    const issueDate = day(row.issue_date ?? "");
    const amount = fen(row);
    if (!row.invoice_number || !row.seller_tax_id || !row.buyer_tax_id || !issueDate || amount === null) {
      out.unmatched.push({ line, reason: "needs invoice_number, seller_tax_id, buyer_tax_id, issue_date and amount (or amount_fen)" });
      return;
    }
    const inv = { sellerTaxId: row.seller_tax_id, buyerTaxId: row.buyer_tax_id, invoiceNumber: row.invoice_number, issueDate, amount };
    const v1Id = v1Fingerprint(salt, inv).toLowerCase();
    if (!v1RootIds.has(v1Id)) {
      out.unmatched.push({ line, reason: `no v1 receivable has this invoice's v1 fingerprint ${v1Id}` });
      return;
    }
    try {
      const v2Fingerprint = invoiceFingerprint(salt, { sellerTaxId: row.seller_tax_id, invoiceNumber: row.invoice_number });
      out.matched.push({ v1Id, v2Fingerprint, invoiceNumber: row.invoice_number, sellerTaxId: row.seller_tax_id });
    } catch (err) {
      out.unmatched.push({ line, reason: (err as Error).message });
    }
  });
  return out;
}
