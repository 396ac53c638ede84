/**
 * Receivables as the invoice and financing commands name them (by id or invoice number), and a
 * financing's registration as both print it.
 */
import type { Financing, Page, Receivable } from "../../../shared/api-types";
import { receivableId } from "./args";
import type { Api } from "./context";
import { CliError, EXIT } from "./errors";
import { day } from "./output";

/** The registration column: the number, "unknown", and the overdue flag. */
export function registrationText(f: Financing): string {
  if (!f.registrationHash) return "—";
  const number = f.registrationNumber ?? "unknown to the service";
  return f.registrationOverdue ? `${number} — OVERDUE since ${day(f.registrationDueBy)}: give it with scf finance register` : number;
}

/**
 * A receivable named on the command line by its id (0x + hex, or the long decimal form) or by the
 * number of the invoice it was tokenised from (GET /receivables?invoiceNumber=, within what the
 * caller may read). Invoice numbers are short (a VAT e-invoice's is 8 or 20 digits); a decimal id
 * is 60 digits or more.
 */
export async function receivableRef(a: Api, raw: string, sellerTaxId?: string): Promise<string> {
  const s = String(raw).trim();
  if (/^0x/i.test(s) || /^[0-9]{60,78}$/.test(s)) return receivableId(s);
  const p = await a.get<Page<Receivable>>("/receivables", { invoiceNumber: s, sellerTaxId, limit: 20 });
  if (p.items.length === 1) return p.items[0].id;
  if (!p.items.length) {
    throw new CliError(
      `No receivable you may read was tokenised from invoice number "${s}"${sellerTaxId ? ` of seller ${sellerTaxId}` : ""} ` +
        "(give the receivable id 0x…, or check the number; scf invoices list shows yours).",
      EXIT.REFUSED,
    );
  }
  throw new CliError(
    `Invoice number "${s}" names ${p.items.length} receivables (one per seller): ${p.items.map((r) => `${r.id} (seller ${r.seller})`).join(", ")}. ` +
      "Name the seller with --seller-tax-id, or give the receivable id.",
    EXIT.REFUSED,
  );
}
