/**
 * The service's JSON answers as its clients read them: the web console, the CLI and the tests.
 * Amounts are fen as decimal strings, times ISO 8601, addresses EIP-55, receivable ids 0x + 64
 * lower-case hex digits. Each response class of the service (`services/src/…/dto`) `implements`
 * its interface here, so a field the service drops or retypes fails the type check, not a client.
 * Types only: nothing here runs, so any client may import it (`import type`).
 */

/** A cursor page (`?cursor=` the previous page's nextCursor; null on the last page). */
export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/** GET /receivables/:id and the items of GET /receivables. */
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
  createdBlock: number;
  createdTx: string;
  createdAt: string | null;
  updatedBlock: number;
  tokenisedAt: string | null;
  termDays: number | null;
  termOverSixMonths: boolean;
}

/** The debtor's signed dispute of an issued invoice (`dispute` of GET /receivables/:id). */
export interface ReceivableDispute {
  id: string;
  receivableId: string;
  debtor: string;
  reasonCode: string;
  text: string;
  open: boolean;
  closedBy: string | null;
  createdAt: string;
  nonce: string;
  deadline: string;
  signature: string;
  digest: string;
}

/** A (part) payment of a receivable by its debtor. */
export interface Payment {
  txHash: string;
  logIndex: number;
  debtor: string;
  holder: string;
  amount: string;
  outstandingAfter: string;
  blockNumber: number;
  time: string;
}

/** GET /receivables/:id: the receivable with its dispute, financing and payments. */
export interface ReceivableDetail extends Receivable {
  dispute: ReceivableDispute | null;
  financing: Financing | null;
  payments: Payment[];
}

/** GET /receivables/:id/lineage: the split tree; a node the caller is not party to withholds holder and outstanding. */
export interface LineageNode {
  id: string;
  parentId: string | null;
  faceValue: string;
  status: string;
  visible: boolean;
  outstanding: string | null;
  holder: string | null;
  dueDate: string;
  children: LineageNode[];
}

/** GET /credit-lines items. */
export interface CreditLine {
  id: number;
  financier: string;
  debtor: string | null;
  supplier: string | null;
  limit: string;
  utilised: string;
  available: string;
  maxAdvanceBps: number;
  discountBps: number;
  expiry: string;
  open: boolean;
  updatedBlock: number;
}

/** GET /financings items and `financing` of GET /receivables/:id. */
export interface Financing {
  receivableId: string;
  lineId: number;
  supplier: string;
  financier: string | null;
  status: string;
  principal: string;
  advance: string | null;
  paidToSupplier: string | null;
  rejectReason: string | null;
  rejectReasonText: string | null;
  minPaid: string | null;
  maxDiscount: string | null;
  expiresAt: string | null;
  registrationHash: string | null;
  registrationNumber: string | null;
  approvedAt: string | null;
  registrationDueBy: string | null;
  registrationOverdue: boolean;
  updatedBlock: number;
}

/** One decoded chain event (GET /receivables/:id/history, GET /audit/events). */
export interface LedgerEvent {
  txHash: string;
  logIndex: number;
  blockNumber: number;
  blockHash: string;
  txIndex: number;
  time: string;
  contract: string;
  address: string;
  event: string;
  args: Record<string, string | boolean>;
  txFrom: string;
  actor: string | null;
  receivableId: string | null;
  lineId: number | null;
  importedFrom: number | null;
}

/** A receivable's stored document (GET /receivables/:id/documents); its download path is its sha256. */
export interface ReceivableDocument {
  receivableId: string;
  sha256: string;
  filename: string;
  contentType: string;
  size: number;
  uploadedBy: string;
  createdAt: string;
}

/** One of an application's KYC documents. */
export interface StoredDocument {
  id: string;
  filename: string;
  contentType: string;
  size: number;
  sha256: string;
}

/** One compliance rule's outcome as an application shows it. */
export interface CheckSummary {
  code: string;
  result: string;
  reason: string;
}

/** A membership application (POST/GET /onboarding/applications). */
export interface Application {
  id: string;
  applicant: string;
  legalName: string;
  entityIdType: string;
  entityId: string;
  jurisdiction: string;
  roles: string[];
  status: string;
  screeningResult: string;
  checks: CheckSummary[];
  decisionReason: string | null;
  decidedBy: string | null;
  kycExpiry: string | null;
  txHash: string | null;
  documents: StoredDocument[];
  createdAt: string;
  updatedAt: string;
}

/** A compliance officer's suspension or reinstatement of a member. */
export interface ParticipantAction {
  id: string;
  action: string;
  status: string;
  reasonCode: string | null;
  reason: string | null;
  requestedBy: string;
  txHash: string | null;
  failureReason: string | null;
  createdAt: string;
}

/** A ledger member (GET /participants, GET /participants/:address). */
export interface Participant {
  address: string;
  roles: string[];
  status: string;
  verified: boolean;
  kycExpiry: string;
  jurisdiction: string;
  entityIdHash: string;
  legalName: string | null;
  entityId: string | null;
  entityIdType: "USCC" | "LEI" | null;
  suspensionReason: string | null;
  registeredBlock: number;
  actions: ParticipantAction[];
}

/** GET /auth/me: the signed-in caller as the service's access guard sees it. */
export interface Me {
  address: string;
  roles: number;
  roleNames: string[];
  verifiedMember: boolean;
  complianceOfficer: boolean;
  access: string[];
}

/** GET /payment-records/:buyer: how a buyer has paid what it owed (counts and fen; days are whole UTC days). */
export interface PaymentRecord {
  buyer: string;
  asOf: string;
  confirmed: { count: number; faceValue: string };
  paidOnTime: { count: number; faceValue: string };
  paidLate: { count: number; faceValue: string; daysLateMedian: number | null; daysLateP95: number | null; daysLateMax: number | null };
  creditedInFull: { count: number; faceValue: string };
  defaulted: { count: number; faceValue: string; outstanding: string };
  outstandingPastDue: { count: number; outstanding: string };
  outstandingNotYetDue: { count: number; outstanding: string };
}

/** A settlement transaction the service relayed or sent: a permit or a faucet mint. */
export interface SettlementOperation {
  id: string;
  kind: string;
  status: string;
  account: string;
  spender: string | null;
  value: string;
  txHash: string | null;
  blockNumber: number | null;
  failureReason: string | null;
  createdAt: string;
  updatedAt: string;
}
