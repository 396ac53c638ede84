/**
 * The pure parts of the voucher rules: the six-month term (calendar months in UTC, compared by day,
 * month ends clamped) and a buyer's payment record from its confirmed debts (each counted once, days
 * late by UTC day, median and nearest-rank p95), on hand-made ledgers with known answers.
 */
import { expect } from "chai";
import { addCalendarMonthsUtc, voucherTerm } from "../../services/src/compliance/voucher-term";
import { median, paymentRecord, percentile, type LeafRow } from "../../services/src/payment-records/payment-record";

const t = (iso: string) => Date.parse(iso) / 1000;
const BUYER = "0x2222222222222222222222222222222222222222";

describe("voucher rules: the six-month term", function () {
  it("is due on the day six calendar months after tokenisation at the latest; one day more is flagged", function () {
    const start = t("2026-03-15T10:30:00Z");
    expect(voucherTerm(start, t("2026-09-15T00:00:00Z"))).to.deep.equal({ termDays: 184, sixMonthsDay: "2026-09-15", overSixMonths: false });
    expect(voucherTerm(start, t("2026-09-15T23:59:59Z")).overSixMonths).to.equal(false);
    expect(voucherTerm(start, t("2026-09-16T00:00:00Z"))).to.deep.equal({ termDays: 185, sixMonthsDay: "2026-09-15", overSixMonths: true });
  });

  it("clamps to the month's end: 31 August + 6 months is the last day of February (28th, or 29th in a leap year)", function () {
    expect(voucherTerm(t("2026-08-31T12:00:00Z"), t("2027-02-28T00:00:00Z")).overSixMonths).to.equal(false);
    expect(voucherTerm(t("2026-08-31T12:00:00Z"), t("2027-03-01T00:00:00Z")).overSixMonths).to.equal(true);
    expect(new Date(addCalendarMonthsUtc(Date.parse("2027-08-31T00:00:00Z"), 6)).toISOString()).to.equal("2028-02-29T00:00:00.000Z");
    expect(new Date(addCalendarMonthsUtc(Date.parse("2026-12-31T23:00:00Z"), 6)).toISOString()).to.equal("2027-06-30T00:00:00.000Z");
  });

  it("reads days in UTC: a tokenisation at 23:59 UTC counts from that day", function () {
    expect(voucherTerm(t("2026-01-31T23:59:59Z"), t("2026-07-31T00:00:00Z")).overSixMonths).to.equal(false);
    expect(voucherTerm(t("2026-02-01T00:00:00Z"), t("2026-08-01T00:00:00Z")).overSixMonths).to.equal(false);
    expect(voucherTerm(t("2026-01-31T23:59:59Z"), t("2026-08-01T00:00:00Z")).overSixMonths).to.equal(true);
  });
});

describe("voucher rules: a buyer's payment record", function () {
  const due = t("2026-06-30T00:00:00Z");
  const leaf = (over: Partial<LeafRow>): LeafRow => ({
    debtor: BUYER,
    status: "accepted",
    faceValue: 100n,
    outstanding: 100n,
    dueDate: due,
    lastPaidAt: null,
    ...over,
  });

  it("puts each confirmed debt in exactly one class, with days late by UTC day", function () {
    const paid = (at: string, faceValue = 100n) => leaf({ status: "paid", outstanding: 0n, faceValue, lastPaidAt: t(at) });
    const leaves = [
      paid("2026-06-01T00:00:00Z"), // early
      paid("2026-06-30T23:59:59Z"), // on the due day: on time
      paid("2026-07-01T00:00:00Z", 200n), // 1 day late
      paid("2026-07-03T08:00:00Z", 300n), // 3 days late
      paid("2026-07-11T00:00:00Z", 400n), // 11 days late
      leaf({ status: "paid", outstanding: 0n }), // credit notes only
      leaf({ status: "defaulted", outstanding: 60n, lastPaidAt: t("2026-06-01T00:00:00Z") }),
      leaf({ status: "financed", outstanding: 70n }), // past due at asOf
      leaf({ status: "accepted", dueDate: t("2026-09-01T00:00:00Z") }), // not yet due
      leaf({ status: "accepted", dueDate: t("2026-07-20T00:00:00Z") }), // due today: not past due
    ];
    const r = paymentRecord(BUYER, leaves, t("2026-07-20T15:00:00Z"));
    expect(r.confirmed).to.deep.equal({ count: 10, faceValue: 1_600n });
    expect(r.paidOnTime).to.deep.equal({ count: 2, faceValue: 200n });
    expect(r.paidLate).to.deep.equal({ count: 3, faceValue: 900n, daysLateMedian: 3, daysLateP95: 11, daysLateMax: 11 });
    expect(r.creditedInFull).to.deep.equal({ count: 1, faceValue: 100n });
    expect(r.defaulted).to.deep.equal({ count: 1, faceValue: 100n, outstanding: 60n });
    expect(r.outstandingPastDue).to.deep.equal({ count: 1, outstanding: 70n });
    expect(r.outstandingNotYetDue).to.deep.equal({ count: 2, outstanding: 200n });
    const classes = r.paidOnTime.count + r.paidLate.count + r.creditedInFull.count + r.defaulted.count + r.outstandingPastDue.count + r.outstandingNotYetDue.count;
    expect(classes).to.equal(r.confirmed.count);
  });

  it("has no late statistics without late payments, and an empty record for a buyer with no debts", function () {
    const r = paymentRecord(BUYER, [], t("2026-07-01T00:00:00Z"));
    expect(r.confirmed.count).to.equal(0);
    expect(r.paidLate).to.deep.equal({ count: 0, faceValue: 0n, daysLateMedian: null, daysLateP95: null, daysLateMax: null });
  });

  it("takes the median as the mean of the middle two and the 95th percentile by nearest rank", function () {
    expect(median([1, 2, 4, 9])).to.equal(3);
    expect(median([5])).to.equal(5);
    const twenty = Array.from({ length: 20 }, (_, i) => i + 1);
    expect(percentile(twenty, 95)).to.equal(19);
    expect(percentile([...twenty, 21], 95)).to.equal(20);
    expect(percentile([7], 95)).to.equal(7);
  });
});
