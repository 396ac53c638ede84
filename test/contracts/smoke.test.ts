import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { expect } from "chai";
import { acceptedReceivable, ledgerFixture, lineTerms } from "./helpers/fixture";
import { approvalFor, requestTerms } from "./helpers/financing";

describe("Ledger smoke: tokenise, accept, finance, repay", function () {
  it("runs one receivable through its whole life", async function () {
    const f = await loadFixture(ledgerFixture);
    const id = await acceptedReceivable(f);
    await f.financing.connect(f.financier).openCreditLine(f.buyer.address, f.supplier.address, await lineTerms());
    await f.financing.connect(f.supplier).requestFinancing(id, await requestTerms(1));
    const before = await f.token.balanceOf(f.supplier.address);
    await f.financing.connect(f.financier).approveFinancing(id, await approvalFor(f, id));
    expect(await f.receivables.ownerOf(id)).to.equal(f.financier.address);
    expect(await f.token.balanceOf(f.supplier.address)).to.be.greaterThan(before);
    const r = await f.receivables.receivable(id);
    await f.receivables.connect(f.buyer).pay(id, r.outstanding);
    expect((await f.receivables.receivable(id)).status).to.equal(4n);
    expect((await f.financing.creditLine(1)).utilised).to.equal(0n);
  });
});
