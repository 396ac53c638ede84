/** The API's read models as the console uses them (amounts are fen as decimal strings). */
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
  createdBlock: number;
}

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
}

export interface Financing {
  receivableId: string;
  lineId: number;
  supplier: string;
  financier: string | null;
  status: string;
  principal: string;
  advance: string | null;
  paidToSupplier: string | null;
  minPaid: string | null;
  maxDiscount: string | null;
  expiresAt: string | null;
  rejectReason: string | null;
}

export interface LedgerEvent {
  txHash: string;
  logIndex: number;
  blockNumber: number;
  time: string;
  contract: string;
  event: string;
  args: Record<string, string | boolean>;
  actor: string | null;
  receivableId: string | null;
}

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

export interface DocumentRow {
  id: string;
  filename: string;
  contentType: string;
  size: number;
  sha256: string;
}
