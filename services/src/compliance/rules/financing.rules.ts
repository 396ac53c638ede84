/**
 * Rules a financing request must meet before it is relayed: the same conditions the Financing
 * contract enforces (an accepted receivable held by the requester, not yet due, an open line in
 * scope with room for the advance), checked first so a participant learns why in words instead of
 * from a revert. They read the indexed projection, i.e. the ledger as of the last indexed block;
 * the contract remains the authority.
 */
import { getAddress, isAddress, ZeroAddress } from "ethers";
import { fail, pass, type Rule } from "./rule";

export interface FinancingInput {
  /** Receivable id: 0x-prefixed 32-byte hex. */
  receivableId: string;
  /** Address asking for financing (must hold the receivable). */
  requester: string;
  lineId: number;
  now?: Date;
}

export interface ReceivableFacts {
  status: string;
  holder: string | null;
  debtor: string;
  seller: string;
  outstanding: bigint;
  /** Unix seconds. */
  dueDate: number;
  financed: boolean;
}

export interface LineFacts {
  financier: string;
  debtor: string | null;
  supplier: string | null;
  limit: bigint;
  utilised: bigint;
  maxAdvanceBps: number;
  /** Unix seconds. */
  expiry: number;
  open: boolean;
}

export interface FinancingContext {
  financing: FinancingInput;
  now: Date;
  receivable: ReceivableFacts | null;
  line: LineFacts | null;
}

const same = (a: string | null, b: string | null) => !!a && !!b && a.toLowerCase() === b.toLowerCase();
const anyone = (a: string | null) => !a || a.toLowerCase() === ZeroAddress;
const address = (a: string) => (isAddress(a) ? getAddress(a) : a);
const BPS = 10_000n;

export const FINANCING_RULES: readonly Rule<FinancingContext>[] = [
  {
    code: "FINANCING_RECEIVABLE_ACCEPTED",
    subject: "financing",
    description: "The receivable exists, its debtor has accepted it, and it is not already financed.",
    evaluate: ({ financing, receivable: r }) => {
      if (!r) return fail(`Receivable ${financing.receivableId} is not on the ledger (or not indexed yet).`, { receivableId: financing.receivableId });
      const details = { status: r.status, financed: r.financed };
      if (r.financed || r.status === "financed") return fail("The receivable is already financed.", details);
      if (r.status !== "accepted") {
        return fail(`The receivable is ${r.status}; only a receivable its debtor has accepted can be financed.`, details);
      }
      return pass("The receivable is accepted by its debtor and not financed.", details);
    },
  },
  {
    code: "FINANCING_REQUESTER_IS_HOLDER",
    subject: "financing",
    description: "The requester holds the receivable.",
    evaluate: ({ financing, receivable: r }) => {
      const details = { requester: address(financing.requester), holder: r?.holder ?? null };
      if (!r) return fail("The receivable is not on the ledger, so it has no holder.", details);
      return same(r.holder, financing.requester)
        ? pass("The requester holds the receivable.", details)
        : // The reason reaches a requester who may not read the receivable: it never names the holder.
          fail(`Only the holder can ask to finance this receivable; ${address(financing.requester)} does not hold it.`, details);
    },
  },
  {
    code: "FINANCING_NOT_OVERDUE",
    subject: "financing",
    description: "The receivable is not yet due.",
    evaluate: ({ receivable: r, now }) => {
      if (!r) return fail("The receivable is not on the ledger.");
      const due = new Date(r.dueDate * 1000).toISOString();
      return r.dueDate > Math.floor(now.getTime() / 1000)
        ? pass(`Due on ${due}.`, { dueDate: due })
        : fail(`The receivable fell due on ${due}; a due receivable is collected, not financed.`, { dueDate: due });
    },
  },
  {
    code: "FINANCING_LINE_AVAILABLE",
    subject: "financing",
    description: "The credit line exists, is open and unexpired, and covers this debtor and supplier.",
    evaluate: ({ financing, line, receivable: r, now }) => {
      if (!line) return fail(`Credit line ${financing.lineId} does not exist (or is not indexed yet).`, { lineId: financing.lineId });
      const details = {
        lineId: financing.lineId,
        open: line.open,
        expiry: new Date(line.expiry * 1000).toISOString(),
        debtor: line.debtor,
        supplier: line.supplier,
      };
      if (!line.open) return fail(`Credit line ${financing.lineId} is closed.`, details);
      if (line.expiry <= Math.floor(now.getTime() / 1000)) return fail(`Credit line ${financing.lineId} expired on ${details.expiry}.`, details);
      if (r && !anyone(line.debtor) && !same(line.debtor, r.debtor)) {
        return fail(`Credit line ${financing.lineId} is for debtor ${line.debtor}, not ${r.debtor}.`, details);
      }
      if (!anyone(line.supplier) && !same(line.supplier, financing.requester)) {
        return fail(`Credit line ${financing.lineId} is for supplier ${line.supplier}, not ${address(financing.requester)}.`, details);
      }
      return pass(`Credit line ${financing.lineId} is open and covers these parties.`, details);
    },
  },
  {
    code: "FINANCING_LINE_HEADROOM",
    subject: "financing",
    description: "The advance (outstanding × the line's maximum advance rate) fits the line's unused limit.",
    evaluate: ({ financing, line, receivable: r }) => {
      if (!line || !r) return fail("The receivable or the credit line is not on the ledger.");
      const advance = (r.outstanding * BigInt(line.maxAdvanceBps)) / BPS;
      const free = line.limit > line.utilised ? line.limit - line.utilised : 0n;
      const details = { advance: advance.toString(), available: free.toString(), limit: line.limit.toString(), utilised: line.utilised.toString() };
      return advance <= free
        ? pass(`An advance of ${advance} fen fits the ${free} fen left on line ${financing.lineId}.`, details)
        : fail(`An advance of ${advance} fen exceeds the ${free} fen left on credit line ${financing.lineId}.`, details);
    },
  },
];
