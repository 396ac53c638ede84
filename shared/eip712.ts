/**
 * EIP-712 typed-data definitions of every participant act, exactly as the contracts hash them.
 * Shared by the service (`GET /eip712`, signature checks before relaying), the CLI, the scripts and
 * the tests: a change to a contract's typehash must change this file, and the signed-action tests
 * and test/contracts/SharedFacts.test.ts (which compares each type with the contract's typehash
 * string) fail until it does.
 */
import type { TypedDataField } from "ethers";

type Types = Record<string, TypedDataField[]>;

// EIP-712's own domain type: the fields a domain may have, in the standard's order.
const DOMAIN_FIELDS: TypedDataField[] = [
  { name: "name", type: "string" },
  { name: "version", type: "string" },
  { name: "chainId", type: "uint256" },
  { name: "verifyingContract", type: "address" },
  { name: "salt", type: "bytes32" },
];

/**
 * The types to hand a client: `types` with `EIP712Domain` (the fields `domain` has) added, as
 * MetaMask's `eth_signTypedData_v4`, viem and eth-sig-util expect. ethers derives the domain type
 * itself and refuses it in `types`, so the service keeps hashing with the plain `types`.
 */
export function typesForClients(domain: object, types: Types): Types {
  const present = DOMAIN_FIELDS.filter((f) => (domain as Record<string, unknown>)[f.name] !== undefined);
  return { EIP712Domain: present, ...types };
}

const Invoice: TypedDataField[] = [
  { name: "debtor", type: "address" },
  { name: "faceValue", type: "uint256" },
  { name: "dueDate", type: "uint256" },
  { name: "documentHash", type: "bytes32" },
  { name: "fingerprint", type: "bytes32" },
];

const LineTerms: TypedDataField[] = [
  { name: "limit", type: "uint256" },
  { name: "maxAdvanceBps", type: "uint256" },
  { name: "discountBps", type: "uint256" },
  { name: "expiry", type: "uint256" },
];
const RequestTerms: TypedDataField[] = [
  { name: "lineId", type: "uint256" },
  { name: "minPaid", type: "uint256" },
  { name: "maxDiscount", type: "uint256" },
  { name: "expiresAt", type: "uint256" },
];
const Approval: TypedDataField[] = [
  { name: "lineId", type: "uint256" },
  { name: "advance", type: "uint256" },
  { name: "paid", type: "uint256" },
  { name: "registrationHash", type: "bytes32" },
];

const tail: TypedDataField[] = [
  { name: "nonce", type: "uint256" },
  { name: "deadline", type: "uint256" },
];

/** Acts verified by the Receivables contract (domain name "SCF Receivables", version "1"). */
export const RECEIVABLES_TYPES = {
  Tokenise: { Tokenise: [{ name: "seller", type: "address" }, { name: "invoice", type: "Invoice" }, ...tail], Invoice },
  TokeniseBatch: {
    TokeniseBatch: [{ name: "seller", type: "address" }, { name: "invoices", type: "Invoice[]" }, ...tail],
    Invoice,
  },
  /** Signed by an invoice attester (INVOICE_ATTESTER_ROLE), not by a participant: no nonce. */
  InvoiceAttestation: {
    InvoiceAttestation: [
      { name: "seller", type: "address" },
      { name: "invoice", type: "Invoice" },
      { name: "expiry", type: "uint256" },
    ],
    Invoice,
  },
  InvoiceBatchAttestation: {
    InvoiceBatchAttestation: [
      { name: "seller", type: "address" },
      { name: "invoices", type: "Invoice[]" },
      { name: "expiry", type: "uint256" },
    ],
    Invoice,
  },
  Accept: {
    Accept: [
      { name: "debtor", type: "address" },
      { name: "receivableId", type: "uint256" },
      { name: "seller", type: "address" },
      { name: "faceValue", type: "uint256" },
      { name: "dueDate", type: "uint256" },
      { name: "documentHash", type: "bytes32" },
      ...tail,
    ],
  },
  Cancel: { Cancel: [{ name: "seller", type: "address" }, { name: "receivableId", type: "uint256" }, ...tail] },
  CreditNote: {
    CreditNote: [
      { name: "holder", type: "address" },
      { name: "receivableId", type: "uint256" },
      { name: "amount", type: "uint256" },
      { name: "creditNoteHash", type: "bytes32" },
      ...tail,
    ],
  },
  Split: {
    Split: [
      { name: "holder", type: "address" },
      { name: "receivableId", type: "uint256" },
      { name: "amounts", type: "uint256[]" },
      ...tail,
    ],
  },
  TransferReceivable: {
    TransferReceivable: [
      { name: "holder", type: "address" },
      { name: "receivableId", type: "uint256" },
      { name: "to", type: "address" },
      ...tail,
    ],
  },
  Pay: {
    Pay: [
      { name: "debtor", type: "address" },
      { name: "receivableId", type: "uint256" },
      { name: "amount", type: "uint256" },
      ...tail,
    ],
  },
  ClaimHeld: { ClaimHeld: [{ name: "recipient", type: "address" }, ...tail] },
} satisfies Record<string, Types>;

/** Acts verified by the Financing contract (domain name "SCF Financing", version "1"). */
export const FINANCING_TYPES = {
  OpenCreditLine: {
    OpenCreditLine: [
      { name: "financier", type: "address" },
      { name: "debtor", type: "address" },
      { name: "supplier", type: "address" },
      { name: "terms", type: "LineTerms" },
      ...tail,
    ],
    LineTerms,
  },
  UpdateCreditLine: {
    UpdateCreditLine: [
      { name: "financier", type: "address" },
      { name: "lineId", type: "uint256" },
      { name: "terms", type: "LineTerms" },
      ...tail,
    ],
    LineTerms,
  },
  CloseCreditLine: {
    CloseCreditLine: [{ name: "financier", type: "address" }, { name: "lineId", type: "uint256" }, ...tail],
  },
  RequestFinancing: {
    RequestFinancing: [
      { name: "supplier", type: "address" },
      { name: "receivableId", type: "uint256" },
      { name: "terms", type: "RequestTerms" },
      ...tail,
    ],
    RequestTerms,
  },
  WithdrawFinancingRequest: {
    WithdrawFinancingRequest: [{ name: "supplier", type: "address" }, { name: "receivableId", type: "uint256" }, ...tail],
  },
  ApproveFinancing: {
    ApproveFinancing: [
      { name: "financier", type: "address" },
      { name: "receivableId", type: "uint256" },
      { name: "approval", type: "Approval" },
      ...tail,
    ],
    Approval,
  },
  ApproveSignedRequest: {
    ApproveSignedRequest: [
      { name: "financier", type: "address" },
      { name: "supplier", type: "address" },
      { name: "receivableId", type: "uint256" },
      { name: "approval", type: "Approval" },
      ...tail,
    ],
    Approval,
  },
  /** Its nonce is the withdrawn offer's own: verifying it consumes the offer's nonce. */
  WithdrawFinancingOffer: {
    WithdrawFinancingOffer: [{ name: "supplier", type: "address" }, { name: "receivableId", type: "uint256" }, ...tail],
  },
  RejectFinancing: {
    RejectFinancing: [
      { name: "financier", type: "address" },
      { name: "receivableId", type: "uint256" },
      { name: "lineId", type: "uint256" },
      { name: "reasonCode", type: "bytes32" },
      ...tail,
    ],
  },
  WriteOff: {
    WriteOff: [{ name: "financier", type: "address" }, { name: "receivableId", type: "uint256" }, ...tail],
  },
} satisfies Record<string, Types>;

/**
 * Statements signed under the Receivables domain that no contract verifies: kept off-chain with
 * their signature so an auditor can check who said them (GET /receivables/:id shows them). A
 * statement names the receivable and the signer, and the domain names the chain and the contract,
 * so it cannot be replayed onto another receivable or ledger; no `…BySig` function takes it, so it
 * cannot be relayed either.
 */
export const RECEIVABLES_STATEMENT_TYPES = {
  /** The debtor does not confirm an issued (unaccepted) receivable: reason code and optional text. */
  DisputeInvoice: {
    DisputeInvoice: [
      { name: "debtor", type: "address" },
      { name: "receivableId", type: "uint256" },
      { name: "reasonCode", type: "string" },
      { name: "text", type: "string" },
      ...tail,
    ],
  },
} satisfies Record<string, Types>;

export type ReceivablesAct = keyof typeof RECEIVABLES_TYPES;
export type FinancingAct = keyof typeof FINANCING_TYPES;

/** EIP-2612 permit of the settlement token (OpenZeppelin ERC20Permit). */
export const PERMIT_TYPES: Types = {
  Permit: [
    { name: "owner", type: "address" },
    { name: "spender", type: "address" },
    { name: "value", type: "uint256" },
    { name: "nonce", type: "uint256" },
    { name: "deadline", type: "uint256" },
  ],
};

export const RECEIVABLES_DOMAIN = { name: "SCF Receivables", version: "1" } as const;
export const FINANCING_DOMAIN = { name: "SCF Financing", version: "1" } as const;
