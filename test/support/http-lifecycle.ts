/**
 * The whole story over HTTP, each participant signing with its own key: onboarding of a core
 * enterprise (buyer), a tier-1 and a tier-2 supplier, a bank and an auditor; tokenise; accept;
 * split and pass part to tier 2; request financing; approve; repay; audit history and lineage;
 * verification finds no difference. Shared by the lifecycle suite (hardhat node) and the anvil
 * suite (interval mining), so both nodes run exactly the same story.
 */
import { expect } from "chai";
import { MaxUint256, Wallet, id as keccakId, type TypedDataField } from "ethers";
import request from "supertest";
import { bearer, signIn } from "./auth";
import type { TestChain } from "./chain";
import type { TestEnv } from "./app";
import { freshUscc } from "./entity-ids";
import { proposedFields, signTypedData } from "../../shared/client";

interface TypedData {
  domain: Record<string, unknown>;
  types: Record<string, TypedDataField[]>;
  message: Record<string, unknown>;
}

export async function runHttpLifecycle(chain: TestChain, env: TestEnv, svc: { url: string }): Promise<void> {
  const api = () => request(svc.url);

  /** Posts `body` unsigned, signs the returned typed data with `wallet`, posts it signed and waits. */
  async function act(wallet: Wallet, token: string, path: string, body: Record<string, unknown>) {
    const draft = await api().post(path).set(bearer(token)).send(body);
    expect(draft.status, `${path} unsigned: ${JSON.stringify(draft.body)}`).to.equal(200);
    const td = draft.body.typedData as TypedData;
    const signature = await signTypedData(wallet, td);
    const res = await api()
      .post(`${path}?wait=true`)
      .set(bearer(token))
      .set("Idempotency-Key", `${path}-${td.message.nonce}`)
      .send({ ...proposedFields(draft.body.typedData.primaryType as string, td.message), ...body, nonce: String(td.message.nonce), deadline: String(td.message.deadline), signature });
    expect(res.status, `${path} signed: ${JSON.stringify(res.body)}`).to.equal(202);
    expect(res.body.status, `${path}: ${res.body.failureReason}`).to.equal("confirmed");
    return res.body as { id: string; result: Record<string, unknown> | null; receivableId: string | null; txHash: string };
  }

  // --- onboarding: each party applies with its own key, a compliance officer approves
  const officer = await chain.fundedWallet();
  await (await env.ledger.registry.connect(chain.account(0)).grantRole(keccakId("COMPLIANCE_OFFICER"), officer.address)).wait();
  const officerToken = await signIn(svc.url, officer);
  const parties = {
    buyer: { wallet: Wallet.createRandom() as unknown as Wallet, roles: "buyer", name: "Zhejiang Example Motors Group Co., Ltd." },
    tier1: { wallet: Wallet.createRandom() as unknown as Wallet, roles: "supplier", name: "Taizhou Example Castings Co., Ltd." },
    tier2: { wallet: Wallet.createRandom() as unknown as Wallet, roles: "supplier", name: "Wenling Example Machining Co., Ltd." },
    bank: { wallet: Wallet.createRandom() as unknown as Wallet, roles: "financier", name: "Example Commercial Bank Hangzhou Branch" },
    auditor: { wallet: Wallet.createRandom() as unknown as Wallet, roles: "auditor", name: "Example Audit Partners LLP" },
  };
  const tokens: Record<string, string> = {};
  // Invoices name the parties' registered entity ids; the ledger's attester checks both.
  const taxIds: Record<string, string> = Object.fromEntries(Object.keys(parties).map((k) => [k, freshUscc()]));
  for (const [k, p] of Object.entries(parties)) {
    tokens[k] = await signIn(svc.url, p.wallet);
    const app = await api()
      .post("/onboarding/applications")
      .set(bearer(tokens[k]))
      .field("legalName", p.name)
      .field("entityIdType", "USCC")
      .field("entityId", taxIds[k])
      .field("jurisdiction", "CN")
      .field("roles", p.roles)
      .attach("documents", Buffer.from(`business licence of ${p.name}`), "licence.pdf")
      .expect(201);
    expect(app.body.status, k).to.equal("submitted");
    const ok = await api().post(`/onboarding/applications/${app.body.id}/approve?wait=true`).set(bearer(officerToken)).send({}).expect(202);
    expect(ok.body.status, k).to.equal("approved");
  }
  const { buyer, tier1, tier2, bank } = parties;
  // Settlement money: the issuer funds the buyer and the bank; each approves the ledger contracts.
  const issuer = chain.account(0);
  for (const p of [buyer, bank]) {
    await (await chain.account(0).sendTransaction({ to: p.wallet.address, value: 10n ** 18n })).wait();
    await (await env.ledger.token.connect(issuer).mint(p.wallet.address, 10_000_000_00n)).wait();
  }
  await (await env.ledger.token.connect(buyer.wallet.connect(chain.provider)).approve(env.ledger.record.contracts.Receivables, MaxUint256)).wait();
  await (await env.ledger.token.connect(bank.wallet.connect(chain.provider)).approve(env.ledger.record.contracts.Financing, MaxUint256)).wait();

  // --- tokenise (tier 1) and accept (buyer)
  const due = new Date(Date.now() + 90 * 86400_000).toISOString();
  const invoice = {
    debtor: buyer.wallet.address,
    invoiceNumber: "INV-2026-0042",
    sellerTaxId: taxIds.tier1,
    buyerTaxId: taxIds.buyer,
    issueDate: new Date().toISOString().slice(0, 10),
    dueDate: due,
    amount: "100000000",
    documentHash: "0x" + "ab".repeat(32),
  };
  const tokenised = await act(tier1.wallet, tokens.tier1, "/receivables", invoice);
  const id = tokenised.receivableId!;
  expect(id).to.match(/^0x[0-9a-f]{64}$/);
  // The same invoice again, with a look-alike number, is refused.
  const dup = await api()
    .post("/receivables")
    .set(bearer(tokens.tier1))
    .send({ ...invoice, invoiceNumber: "inv 2026‐0042" });
  expect(dup.status).to.equal(409);
  await act(buyer.wallet, tokens.buyer, `/receivables/${id}/accept`, {});

  // --- split 60/40 and pass 40 to tier 2
  await act(tier1.wallet, tokens.tier1, `/receivables/${id}/split`, { amounts: ["60000000", "40000000"] });
  const lineage = await api().get(`/receivables/${id}/lineage`).set(bearer(tokens.tier1)).expect(200);
  const children = lineage.body.children as Array<{ id: string; faceValue: string }>;
  expect(children.map((c) => c.faceValue)).to.deep.equal(["60000000", "40000000"]);
  const [keep, pass] = children.map((c) => c.id);
  await act(tier1.wallet, tokens.tier1, `/receivables/${pass}/transfer`, { to: tier2.wallet.address });
  const passed = await api().get(`/receivables/${pass}`).set(bearer(tokens.tier2)).expect(200);
  expect(passed.body.holder).to.equal(tier2.wallet.address);

  // --- financing of the 60 % part kept by tier 1
  const line = await act(bank.wallet, tokens.bank, "/credit-lines", {
    debtor: buyer.wallet.address,
    limit: "500000000",
    maxAdvanceBps: 9000,
    discountBps: 500,
    expiry: new Date(Date.now() + 365 * 86400_000).toISOString(),
  });
  const lineId = Number(line.result?.lineId ?? line.result?.lineID);
  expect(lineId).to.be.greaterThan(0);
  await act(tier1.wallet, tokens.tier1, "/financings", { receivableId: keep, lineId });
  const before = await env.ledger.token.balanceOf(tier1.wallet.address);
  await act(bank.wallet, tokens.bank, `/financings/${keep}/approve`, { registrationNumber: "04412026120400000009" });
  expect(await env.ledger.receivables.ownerOf(BigInt(keep))).to.equal(bank.wallet.address);
  const advanced = (await env.ledger.token.balanceOf(tier1.wallet.address)) - before;
  expect(advanced > 0n && advanced <= 54_000_000n).to.equal(true);
  // Financing it twice is refused.
  const again = await api().post(`/financings/${keep}/approve`).set(bearer(tokens.bank)).send({ registrationNumber: "04412026120400000009" });
  expect([404, 409]).to.include(again.status);

  // --- repay both parts at maturity (the buyer pays whoever holds each)
  await act(buyer.wallet, tokens.buyer, `/receivables/${keep}/repay`, { amount: "60000000" });
  await act(buyer.wallet, tokens.buyer, `/receivables/${pass}/repay`, { amount: "40000000" });
  expect(await env.ledger.token.balanceOf(tier2.wallet.address)).to.equal(40_000_000n);
  const repaidLine = await api().get(`/credit-lines/${lineId}`).set(bearer(tokens.bank)).expect(200);
  expect(repaidLine.body.utilised).to.equal("0");

  // --- the auditor reads everything and verification is clean
  const history = await api().get(`/receivables/${keep}/history`).set(bearer(tokens.auditor)).expect(200);
  const names = (history.body as Array<{ eventName?: string; event?: string }>).map((e) => e.eventName ?? e.event);
  for (const n of ["ReceivableSplit", "ReceivableAssigned", "FinancingApproved", "ReceivablePaid", "FinancingRepaid"]) {
    expect(names, n).to.include(n);
  }
  const tree = await api().get(`/receivables/${pass}/lineage`).set(bearer(tokens.auditor)).expect(200);
  expect(tree.body.id).to.equal(id);
  await api().get(`/receivables/${keep}`).set(bearer(tokens.tier2)).expect(403);
  const verify = await api().get("/audit/verify").set(bearer(tokens.auditor)).expect(200);
  expect(verify.body.differences, JSON.stringify(verify.body.differences)).to.deep.equal([]);
  expect(verify.body.ok).to.equal(true);
  const csv = await api().get("/audit/export?format=csv").set(bearer(tokens.auditor)).expect(200);
  expect(csv.text.split("\n")[0]).to.match(/tx_?hash/i);
}
