/**
 * A small but complete ledger for read-side tests, driven straight on the chain by each
 * participant's own wallet (no service write endpoint involved): members of every role, invoices
 * issued, accepted, cancelled, split over three levels and transferred down the supply chain,
 * two credit lines, a financing approved and partly repaid, one rejected, one pending, payments.
 * Addresses are EIP-55 as ethers gives them; ids 0x + 64 lower-case hex digits as the service stores them.
 */
import { MaxUint256, ZeroAddress, encodeBytes32String, id as keccakId, keccak256, sha256, toUtf8Bytes, type Wallet } from "ethers";
import { anyTerms, approvalAtLineTerms, registrationHash } from "../../shared/financing-terms";
import type { TestEnv } from "./app";
import { receivableIdOf } from "../../shared/fingerprint";
import { attestInvoices, termsOf, type LedgerInvoice } from "./acts";
import { receivableIdHex } from "../../shared/ids";
import { ROLE_BITS } from "../../shared/roles";

/** The movable-property financing registration number of the scenario's one financing. */
export const SCENARIO_REGISTRATION = "0441202612040000001";

const DAY = 86_400;
export const YUAN = 100n;

export type MemberName = "supplierA" | "supplierB" | "supplierC" | "buyer" | "buyer2" | "financier" | "auditor" | "outsider";
export type CallerName = MemberName | "compliance" | "stranger";

const ROLES: Record<MemberName, number> = {
  supplierA: ROLE_BITS.supplier,
  supplierB: ROLE_BITS.supplier,
  supplierC: ROLE_BITS.supplier,
  buyer: ROLE_BITS.buyer,
  buyer2: ROLE_BITS.buyer,
  financier: ROLE_BITS.financier,
  auditor: ROLE_BITS.auditor,
  outsider: ROLE_BITS.supplier,
};

export interface LedgerScenario {
  wallets: Record<CallerName, Wallet>;
  /** Receivable ids by label (see build()). */
  ids: Record<string, string>;
  lines: { line1: number; line2: number };
}

let counter = 0;

export async function buildLedgerScenario(env: TestEnv): Promise<LedgerScenario> {
  const { chain, ledger } = env;
  const wallets = {} as Record<CallerName, Wallet>;
  for (const name of [...(Object.keys(ROLES) as MemberName[]), "compliance", "stranger"] as CallerName[]) {
    wallets[name] = await chain.fundedWallet();
  }
  const send = async (p: Promise<{ wait(): Promise<unknown> }>) => (await p).wait();
  const now = async () => (await chain.provider.getBlock("latest"))!.timestamp;
  const kycExpiry = (await now()) + 2 * 365 * DAY;
  for (const name of Object.keys(ROLES) as MemberName[]) {
    await send(
      ledger.registry.connect(env.keys.operator).register(wallets[name].address, ROLES[name], kycExpiry, "0x434e", keccakId(`entity ${name}`)),
    );
  }
  const admin = chain.account(0);
  await send(ledger.registry.connect(admin).grantRole(keccakId("COMPLIANCE_OFFICER"), wallets.compliance.address));
  for (const name of ["buyer", "buyer2", "financier"] as const) {
    await send(ledger.token.connect(admin).mint(wallets[name].address, 10_000_000n * YUAN));
  }
  const receivablesAddress = await ledger.receivables.getAddress();
  const financingAddress = await ledger.financing.getAddress();
  await send(ledger.token.connect(wallets.buyer).approve(receivablesAddress, MaxUint256));
  await send(ledger.token.connect(wallets.buyer2).approve(receivablesAddress, MaxUint256));
  await send(ledger.token.connect(wallets.financier).approve(financingAddress, MaxUint256));

  const ids: Record<string, string> = {};
  const start = await now();
  const accepting = new Map<bigint, ReturnType<typeof termsOf>>();
  const tokenise = async (label: string, seller: Wallet, debtor: Wallet, yuan: bigint, dueDays: number) => {
    counter += 1;
    const inv: LedgerInvoice = {
      debtor: debtor.address,
      faceValue: yuan * YUAN,
      dueDate: start + dueDays * DAY,
      documentHash: sha256(toUtf8Bytes(`invoice ${label} ${counter} ${Math.random()}`)),
      fingerprint: keccak256(toUtf8Bytes(`fingerprint ${label} ${counter} ${Math.random()}`)),
    };
    const attestation = await attestInvoices(
      env.keys.compliance,
      { chainId: chain.chainId, receivables: await ledger.receivables.getAddress() },
      seller.address,
      [inv],
      false,
    );
    await send(ledger.receivables.connect(seller).tokenise(inv, attestation));
    const id = receivableIdOf(inv.fingerprint);
    accepting.set(id, termsOf(seller.address, inv));
    ids[label] = receivableIdHex(id);
    return id;
  };
  const { supplierA, supplierB, supplierC, buyer, buyer2, financier } = wallets;
  const accept = (debtor: Wallet, id: bigint) => send(ledger.receivables.connect(debtor).accept(id, accepting.get(id)!));

  // A three-level split tree: root (A) -> c0 (A), c1 (-> B); B splits c1 -> g0 (B), g1 (-> C).
  const root = await tokenise("root", supplierA, buyer, 1_000_000n, 30);
  await accept(buyer, root);
  await send(ledger.receivables.connect(supplierA).split(root, [600_000n * YUAN, 400_000n * YUAN]));
  const c0 = await ledger.receivables.childId(root, 0);
  const c1 = await ledger.receivables.childId(root, 1);
  ids.c0 = receivableIdHex(c0);
  ids.c1 = receivableIdHex(c1);
  await send(ledger.receivables.connect(supplierA).transferFrom(supplierA.address, supplierB.address, c1));
  await send(ledger.receivables.connect(supplierB).split(c1, [250_000n * YUAN, 150_000n * YUAN]));
  const g0 = await ledger.receivables.childId(c1, 0);
  const g1 = await ledger.receivables.childId(c1, 1);
  ids.g0 = receivableIdHex(g0);
  ids.g1 = receivableIdHex(g1);
  await send(ledger.receivables.connect(supplierB).transferFrom(supplierB.address, supplierC.address, g1));

  // Credit lines: line1 for any supplier selling to buyer; line2 for A selling to buyer2.
  const expiry = start + 365 * DAY;
  const terms = (limit: bigint) => ({ limit: limit * YUAN, maxAdvanceBps: 9_000n, discountBps: 500n, expiry });
  await send(ledger.financing.connect(financier).openCreditLine(buyer.address, ZeroAddress, terms(5_000_000n)));
  await send(ledger.financing.connect(financier).openCreditLine(buyer2.address, supplierA.address, terms(2_000_000n)));
  const lines = { line1: 1, line2: 2 };

  const financed = await tokenise("financed", supplierA, buyer, 500_000n, 60);
  await accept(buyer, financed);
  const anyTermsOn = (lineId: number) => anyTerms(BigInt(lineId), BigInt(expiry));
  await send(ledger.financing.connect(supplierA).requestFinancing(financed, anyTermsOn(lines.line1)));
  const approval = await approvalAtLineTerms(ledger, financed, registrationHash(SCENARIO_REGISTRATION), BigInt(await now()));
  await send(ledger.financing.connect(financier).approveFinancing(financed, approval));
  await send(ledger.receivables.connect(buyer).pay(financed, 200_000n * YUAN));

  const paid = await tokenise("paid", supplierA, buyer, 300_000n, 60);
  await accept(buyer, paid);
  await send(ledger.receivables.connect(buyer).pay(paid, 300_000n * YUAN));

  await tokenise("issued", supplierA, buyer, 300_000n, 90);

  const rejected = await tokenise("rejected", supplierA, buyer, 200_000n, 120);
  await accept(buyer, rejected);
  await send(ledger.financing.connect(supplierA).requestFinancing(rejected, anyTermsOn(lines.line1)));
  await send(ledger.financing.connect(financier).rejectFinancing(rejected, lines.line1, encodeBytes32String("LIMIT_POLICY")));

  const cancelled = await tokenise("cancelled", supplierA, buyer, 150_000n, 150);
  await send(ledger.receivables.connect(supplierA).cancel(cancelled));

  const moved = await tokenise("moved", supplierA, buyer, 700_000n, 180);
  await accept(buyer, moved);
  await send(ledger.receivables.connect(supplierA).transferFrom(supplierA.address, supplierB.address, moved));

  const pending = await tokenise("pending", supplierA, buyer2, 800_000n, 200);
  await accept(buyer2, pending);
  await send(ledger.financing.connect(supplierA).requestFinancing(pending, anyTermsOn(lines.line2)));

  await tokenise("buyer2Issued", supplierA, buyer2, 120_000n, 210);
  const b1 = await tokenise("bAccepted", supplierB, buyer, 250_000n, 45);
  await accept(buyer, b1);
  await tokenise("bIssued", supplierB, buyer, 90_000n, 75);
  const b3 = await tokenise("bLarge", supplierB, buyer, 1_000_000n, 300);
  await accept(buyer, b3);
  return { wallets, ids, lines };
}
