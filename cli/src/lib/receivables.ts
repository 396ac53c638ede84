/**
 * A receivable as the service answers it (GET /receivables/:id), read by the invoice and the
 * financing commands, and its financing's registration as both print it.
 */
import { day } from "./output";

export interface Receivable {
  id: string;
  seller: string;
  debtor: string;
  holder: string | null;
  faceValue: string;
  outstanding: string;
  dueDate: string;
  status: string;
  financed: boolean;
  parentId: string | null;
  documentHash: string | null;
  createdTx: string;
  createdAt: string | null;
  tokenisedAt: string | null;
  termDays: number | null;
  termOverSixMonths: boolean;
}

/** The registration column: the number, "unknown", and the overdue flag. */
export function registrationText(f: Record<string, unknown>): string {
  if (!f.registrationHash) return "—";
  const number = (f.registrationNumber as string | null) ?? "unknown to the service";
  return f.registrationOverdue ? `${number} — OVERDUE since ${day(f.registrationDueBy as string)}: give it with scf finance register` : number;
}
