/**
 * `scf payment-record`: a core enterprise's record of paying its receivables (on time, late,
 * defaulted, past due), what financiers price a buyer's credit by.
 */
import { checkedAddress } from "../lib/args";
import { api, pages, type Opts } from "../lib/context";
import { EXIT } from "../lib/errors";
import { printJson, record, table, yuan } from "../lib/output";
import type { PaymentRecord } from "../../../shared/api-types";

/** One buyer's payment record (an address), or every buyer the caller may read. */
export async function paymentRecord(o: Opts, buyer?: string): Promise<number> {
  const a = api(o);
  if (buyer) {
    const r = await a.get<PaymentRecord>(`/payment-records/${await checkedAddress(buyer, "buyer")}`);
    if (o.json) return (printJson(r), EXIT.OK);
    const late = r.paidLate;
    record([
      ["buyer", r.buyer],
      ["as of", r.asOf],
      ["confirmed", `${r.confirmed.count} (${yuan(r.confirmed.faceValue)} yuan)`],
      ["paid on time", `${r.paidOnTime.count} (${yuan(r.paidOnTime.faceValue)} yuan)`],
      ["paid late", `${late.count} (${yuan(late.faceValue)} yuan)${late.count ? `; days late: median ${late.daysLateMedian}, p95 ${late.daysLateP95}, max ${late.daysLateMax}` : ""}`],
      ["credited in full", `${r.creditedInFull.count} (${yuan(r.creditedInFull.faceValue)} yuan)`],
      ["defaulted", `${r.defaulted.count} (${yuan(r.defaulted.outstanding)} yuan unpaid)`],
      ["past due", `${r.outstandingPastDue.count} (${yuan(r.outstandingPastDue.outstanding)} yuan outstanding)`],
      ["not yet due", `${r.outstandingNotYetDue.count} (${yuan(r.outstandingNotYetDue.outstanding)} yuan outstanding)`],
    ]);
    return EXIT.OK;
  }
  const p = await pages<PaymentRecord>(a, "/payment-records", {}, !!o.all);
  if (o.json) printJson(p);
  else
    table(
      ["buyer", "confirmed", "on time", "late", "days late (median / p95)", "defaulted", "past due", "past due (yuan)"],
      p.items.map((r) => [
        r.buyer,
        r.confirmed.count,
        r.paidOnTime.count,
        r.paidLate.count,
        r.paidLate.count ? `${r.paidLate.daysLateMedian} / ${r.paidLate.daysLateP95}` : "—",
        r.defaulted.count,
        r.outstandingPastDue.count,
        yuan(r.outstandingPastDue.outstanding),
      ]),
    );
  return EXIT.OK;
}
