/** Pure parts of the CLI: yuan <-> fen, the invoice CSV row checks, the lineage tree. */
import { expect } from "chai";
import { amountArg, fenToYuan, parseFen, yuanToFen } from "../../shared/money";
import { canonicalColumn, checkInvoiceFile, checkInvoiceRow, missingColumns, parseDay, type BadRow, type ValidRow } from "../../cli/src/lib/invoice-csv";
import { renderTree } from "../../cli/src/commands/audit";
import type { LineageNode } from "../../shared/api-types";

const NOW = new Date("2026-11-26T12:00:00Z");
const BUYER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
const SHA = "ab".repeat(32);

function row(over: Record<string, string> = {}): Record<string, string> {
  return {
    invoice_number: "INV-1",
    buyer_address: BUYER,
    seller_tax_id: "91330100MA2H000001",
    buyer_tax_id: "91330000MA2B000002",
    issue_date: "2026-11-20",
    due_date: "2027-02-20",
    amount: "1250.50",
    currency: "CNY",
    document_sha256: SHA,
    ...over,
  };
}

describe("CLI money: yuan <-> fen as bigint", function () {
  it("parses yuan strings exactly, never through floating point", function () {
    expect(yuanToFen("0.29")).to.equal(29n); // 0.29 * 100 = 28.999999999999996 in floats
    expect(yuanToFen("1250.5")).to.equal(125050n);
    expect(yuanToFen("1,250.50")).to.equal(125050n);
    expect(yuanToFen("¥1000")).to.equal(100000n);
    expect(yuanToFen(" 7 ")).to.equal(700n);
    expect(yuanToFen("0.01")).to.equal(1n);
    expect(yuanToFen("184467440737095516.15")).to.equal(2n ** 64n - 1n);
    expect(yuanToFen("99999999999999999999999.99")).to.equal(9999999999999999999999999n);
  });

  it("refuses signs, more than 2 decimals, exponents, bad grouping and junk with a reason", function () {
    for (const [bad, why] of [
      ["-1.00", /sign/],
      ["+1", /sign/],
      ["1.234", /more than 2 decimals/],
      ["1e5", /exponent/],
      ["1,25.00", /not an amount/],
      ["12,3456", /not an amount/],
      ["1.", /not an amount/],
      [".5", /not an amount/],
      ["abc", /not an amount/],
      ["", /empty/],
      ["1 000", /not an amount/],
    ] as const) {
      expect(() => yuanToFen(bad), bad).to.throw(why);
    }
  });

  it("formats fen as yuan with 2 decimals and thousands commas", function () {
    expect(fenToYuan(125050n)).to.equal("1,250.50");
    expect(fenToYuan("5")).to.equal("0.05");
    expect(fenToYuan(0n)).to.equal("0.00");
    expect(fenToYuan(-12345n)).to.equal("-123.45");
    expect(fenToYuan(2n ** 64n - 1n)).to.equal("184,467,440,737,095,516.15");
    expect(fenToYuan(123456789n, { group: false })).to.equal("1234567.89");
  });

  it("round-trips every formatted amount", function () {
    for (const v of [1n, 99n, 100n, 101n, 123456789012345678n, 2n ** 64n - 1n]) expect(yuanToFen(fenToYuan(v))).to.equal(v);
  });

  it("parses fen and command-line amounts within the ledger's range", function () {
    expect(parseFen("125050")).to.equal(125050n);
    expect(() => parseFen("12.5")).to.throw(/whole number of fen/);
    expect(amountArg("600000", false)).to.equal(60000000n);
    expect(amountArg("600000", true)).to.equal(600000n);
    expect(() => amountArg("0", false)).to.throw(/above zero/);
    expect(() => amountArg("184467440737095516.16", false)).to.throw(/maximum/);
  });
});

describe("CLI invoice CSV checks", function () {
  it("accepts a good row and converts it to the batch API's shape", function () {
    const r = checkInvoiceRow(row(), 2, { now: NOW }) as ValidRow;
    expect(r.ok).to.equal(true);
    expect(r.invoice).to.deep.equal({
      debtor: BUYER,
      invoiceNumber: "INV-1",
      sellerTaxId: "91330100MA2H000001",
      buyerTaxId: "91330000MA2B000002",
      issueDate: "2026-11-20",
      dueDate: "2027-02-20",
      amount: "125050",
      documentHash: "0x" + SHA,
    });
  });

  it("takes amount_fen, date variants, a lower-case address and the --buyer / --seller-tax-id defaults", function () {
    const r = checkInvoiceRow(
      row({ amount: "", amount_fen: "125050", issue_date: "2026/11/20", due_date: "20270220", buyer_address: "", seller_tax_id: "" }),
      3,
      { now: NOW, defaultBuyer: BUYER.toLowerCase(), defaultSellerTaxId: "91330100MA2H000001" },
    ) as ValidRow;
    expect(r.ok, JSON.stringify(r)).to.equal(true);
    expect(r.invoice.amount).to.equal("125050");
    expect(r.invoice.issueDate).to.equal("2026-11-20");
    expect(r.invoice.dueDate).to.equal("2027-02-20");
    expect(r.invoice.debtor).to.equal(BUYER);
  });

  it("reports every reason a row is bad", function () {
    const cases: Array<[Record<string, string>, RegExp]> = [
      [{ amount: "12.345" }, /amount .*more than 2 decimals/],
      [{ amount: "-5" }, /sign/],
      [{ amount: "0" }, /above zero/],
      [{ amount: "" }, /amount is empty/],
      [{ amount: "10.00", amount_fen: "999" }, /disagree/],
      [{ due_date: "2026-11-01" }, /not after today/],
      [{ due_date: "2028-01-01" }, /more than 365 days ahead/],
      [{ issue_date: "2026-02-30" }, /issue_date "2026-02-30" is not a date/],
      [{ issue_date: "2026-12-20" }, /in the future/],
      [{ issue_date: "2026-11-20", due_date: "2026-11-19" }, /not after today|not after issue_date/],
      [{ buyer_address: "0x1234" }, /not an address/],
      [{ buyer_address: "0x70997970c51812dc3A010C7d01b50e0d17dc79C8" }, /not an address/],
      [{ buyer_address: "" }, /no ledger member is registered under buyer_tax_id 91330000MA2B000002/],
      [{ buyer_address: "", buyer_tax_id: "" }, /buyer_address is empty/],
      [{ invoice_number: "" }, /invoice_number is empty/],
      [{ invoice_number: "--//" }, /no letters or digits/],
      [{ buyer_tax_id: "91330100-MA2H000001" }, /the same/],
      [{ currency: "USD" }, /not CNY/],
      [{ document_sha256: "xyz" }, /not a SHA-256/],
      [{ document_sha256: "" }, /no invoice document/],
    ];
    for (const [over, why] of cases) {
      const r = checkInvoiceRow(row(over), 7, { now: NOW }) as BadRow;
      expect(r.ok, JSON.stringify(over)).to.equal(false);
      expect(r.line).to.equal(7);
      expect(r.reasons.join("; "), JSON.stringify(over)).to.match(why);
    }
    const many = checkInvoiceRow(row({ amount: "x", due_date: "soon", currency: "EUR" }), 9, { now: NOW }) as BadRow;
    expect(many.reasons).to.have.length(3);
  });

  it("hashes document files through the given reader and reports unreadable ones", function () {
    const ok = checkInvoiceRow(row({ document_sha256: "", document_file: "inv.pdf" }), 2, { now: NOW, hashFile: () => "0x" + "cd".repeat(32) }) as ValidRow;
    expect(ok.invoice.documentHash).to.equal("0x" + "cd".repeat(32));
    expect(ok.documentFile).to.equal("inv.pdf");
    const bad = checkInvoiceRow(row({ document_sha256: "", document_file: "gone.pdf" }), 2, {
      now: NOW,
      hashFile: () => {
        throw new Error("file not found");
      },
    }) as BadRow;
    expect(bad.reasons[0]).to.match(/gone\.pdf: file not found/);
  });

  it("checks a whole file: header names, field counts, repeated invoices, blank lines", function () {
    const header = ["Invoice Number", "buyer-address", "SELLER_TAX_ID", "buyer_tax_id", "issue_date", "due_date", "amount", "document_sha256", "erp_internal_id"];
    const good = [ "INV-1", BUYER, "S1", "B1", "2026-11-20", "2027-01-20", "100.00", SHA, "x" ];
    const records = [header, good, ["INV-2", BUYER, "S1"], [" inv 1 ", BUYER, "S1", "B1", "2026-11-20", "2027-01-21", "100", SHA, "y"], ["", "", "", "", "", "", "", "", ""], [...good.slice(0, 6), "1.001", SHA, "z"]];
    const { rows, missing } = checkInvoiceFile(records, [1, 2, 3, 4, 5, 6], { now: NOW });
    expect(missing).to.deep.equal([]);
    expect(rows.map((r) => [r.line, r.ok])).to.deep.equal([
      [2, true],
      [3, false],
      [4, false],
      [6, false],
    ]);
    expect((rows[1] as BadRow).reasons[0]).to.match(/3 fields; the header has 9/);
    expect((rows[2] as BadRow).reasons[0]).to.match(/same invoice as line 2/);
    expect((rows[3] as BadRow).reasons[0]).to.match(/more than 2 decimals/);
  });

  it("takes the buyer's address from the members looked up by buyer_tax_id when the row gives none", function () {
    const buyersByTaxId = new Map([["91330000MA2B000002", BUYER]]);
    const r = checkInvoiceRow(row({ buyer_address: "", buyer_tax_id: "9133 0000-ma2b000002" }), 2, { now: NOW, buyersByTaxId });
    expect(r.ok).to.equal(true);
    expect((r as ValidRow).invoice.debtor).to.equal(BUYER);
    // An address given in the row wins over the lookup.
    const other = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC";
    const given = checkInvoiceRow(row({ buyer_address: other }), 3, { now: NOW, buyersByTaxId });
    expect((given as ValidRow).invoice.debtor).to.equal(other);
  });

  it("names missing columns, and accepts the defaults in their place", function () {
    expect(missingColumns(["invoice_number"], {})).to.include.members(["buyer_tax_id", "amount (yuan) or amount_fen", "document_sha256 or document_file"]);
    const h = ["invoice_number", "buyer_tax_id", "issue_date", "due_date", "amount_fen", "document_file"];
    // No buyer_address column: the buyer is looked up by buyer_tax_id.
    expect(missingColumns(h, {})).to.deep.equal(["seller_tax_id (or pass --seller-tax-id …)"]);
    expect(missingColumns(h, { defaultBuyer: BUYER, defaultSellerTaxId: "S" })).to.deep.equal([]);
    expect(canonicalColumn("\uFEFFInvoice Number ")).to.equal("invoice_number");
  });

  it("parses calendar days strictly", function () {
    expect(parseDay("2024-02-29")).to.equal("2024-02-29");
    expect(parseDay("2025-02-29")).to.equal(null);
    expect(parseDay("2026/03/01")).to.equal("2026-03-01");
    expect(parseDay("2026-03/01")).to.equal(null);
    expect(parseDay("26-03-01")).to.equal(null);
  });
});

describe("CLI lineage tree", function () {
  it("draws children with ├── and └── and marks the asked node", function () {
    const node = (id: string, face: string, status: string, children: LineageNode[] = []): LineageNode => ({
      id: "0x" + id.repeat(64).slice(0, 64),
      parentId: null,
      faceValue: face,
      status,
      visible: true,
      outstanding: face,
      holder: null,
      dueDate: "2027-01-01T00:00:00.000Z",
      children,
    });
    const tree = node("a", "100000000", "split", [node("b", "60000000", "paid"), node("c", "40000000", "split", [node("d", "10000000", "accepted"), node("e", "30000000", "accepted")])]);
    const lines = renderTree(tree, "0x" + "d".repeat(64));
    expect(lines).to.have.length(5);
    expect(lines[0]).to.match(/^0xaaaaaaaaaa.*1,000,000\.00 yuan {2}split/);
    expect(lines[1]).to.match(/^├── 0xbbbb.* 600,000\.00 yuan {2}paid/);
    expect(lines[2]).to.match(/^└── 0xcccc/);
    expect(lines[3]).to.match(/^ {4}├── 0xdddd.*◀$/);
    expect(lines[4]).to.match(/^ {4}└── 0xeeee/);
  });
});
