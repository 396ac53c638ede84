/**
 * What tests sign besides a client's acts (those are shared/client.ts's signTypedData): the invoice
 * attester's signatures a participant calling the contracts directly needs, and an acceptance's terms.
 */
import type { Wallet } from "ethers";
import { RECEIVABLES_DOMAIN, RECEIVABLES_TYPES } from "../../shared/eip712";

/** An invoice as the Receivables contract takes it. */
export interface LedgerInvoice {
  debtor: string;
  faceValue: bigint;
  dueDate: bigint | number;
  documentHash: string;
  fingerprint: string;
}

/** The terms a debtor's acceptance names, for `inv` tokenised by `seller`. */
export function termsOf(seller: string, inv: LedgerInvoice): { seller: string; faceValue: bigint; dueDate: bigint; documentHash: string } {
  return { seller, faceValue: inv.faceValue, dueDate: BigInt(inv.dueDate), documentHash: inv.documentHash };
}

/**
 * The invoice attester's signature a participant calling `tokenise` / `tokeniseBatch` directly
 * needs (what POST /receivables/attestation hands out), signed here with the attester key itself.
 * One invoice signs InvoiceAttestation; `batch` signs InvoiceBatchAttestation over all of them.
 */
export async function attestInvoices(
  attester: Pick<Wallet, "signTypedData">,
  ledger: { chainId: bigint; receivables: string },
  seller: string,
  invoices: LedgerInvoice[],
  batch: boolean,
  // Service tests move the chain's clock by months; expiry is the contract tests' subject, not theirs.
  expiry = 4_102_444_800n,
): Promise<{ expiry: bigint; signature: string }> {
  const domain = { ...RECEIVABLES_DOMAIN, chainId: ledger.chainId, verifyingContract: ledger.receivables };
  const signature = batch
    ? await attester.signTypedData(domain, RECEIVABLES_TYPES.InvoiceBatchAttestation, { seller, invoices, expiry })
    : await attester.signTypedData(domain, RECEIVABLES_TYPES.InvoiceAttestation, { seller, invoice: invoices[0], expiry });
  return { expiry, signature };
}
