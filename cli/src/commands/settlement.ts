/**
 * `scf settlement …`: the settlement token the ledger pays with. Balance and allowances, EIP-2612
 * permits letting a ledger contract draw the caller's tokens, and payments the ledger holds for a
 * member that could not receive them (suspended, KYC lapsed) until it claims them.
 */
import { done, signedAct, wait } from "../lib/acts";
import { amount, checkedAddress } from "../lib/args";
import { api, type Opts } from "../lib/context";
import { CliError, EXIT, usage } from "../lib/errors";
import { printJson, record, status, yuan } from "../lib/output";
import { signPermit, type Balance } from "../lib/settlement";
import type { SettlementOperation } from "../../../shared/api-types";

export async function settlementBalance(o: Opts): Promise<number> {
  const b = await api(o).get<Balance>("/settlement/balance", { address: o.address });
  if (o.json) printJson(b);
  else
    record([
      ["address", b.address],
      ["balance", `${yuan(b.balance)} yuan`],
      ["allowance to Receivables (repayments)", `${yuan(b.allowances.Receivables)} yuan`],
      ["allowance to Financing (advances)", `${yuan(b.allowances.Financing)} yuan`],
    ]);
  return EXIT.OK;
}

export async function settlementPermit(o: Opts): Promise<number> {
  const spender = String(o.spender);
  if (spender !== "Receivables" && spender !== "Financing") throw usage("--spender must be Receivables (repayments) or Financing (financing advances)");
  const op = await signPermit(api(o), spender, amount(o.amount, !!o.fen, "--amount"), o.json);
  if (o.json) printJson(op);
  else process.stdout.write(`permit ${op.status}: ${spender} may draw ${yuan(op.value)} yuan${op.txHash ? ` (tx ${op.txHash})` : ""}\n`);
  return EXIT.OK;
}

interface Held {
  address: string;
  held: string;
}

/** What the ledger holds for the signed-in address (payments made while it could not receive them). */
export async function settlementHeld(o: Opts): Promise<number> {
  const h = await api(o).get<Held>("/settlement/held", { address: o.address ? await checkedAddress(o.address, "--address") : undefined });
  if (o.json) printJson(h);
  else if (BigInt(h.held) === 0n) process.stdout.write(`Nothing is held for ${h.address}.\n`);
  else
    process.stdout.write(
      `${yuan(h.held)} yuan is held for ${h.address}: payments made while it could not receive the settlement token. ` +
        `Claim it with: scf settlement claim (once it is an active member with valid KYC)\n`,
    );
  return EXIT.OK;
}

/** Signs the ClaimHeld act the service prepares, waits for it, prints the amount claimed. */
export async function settlementClaim(o: Opts): Promise<number> {
  const a = api(o);
  // Read first, to say what is claimed; the service and the contract check again.
  const h = await a.get<Held>("/settlement/held");
  if (BigInt(h.held) === 0n) {
    throw new CliError(`Nothing is held for ${h.address}: there is no payment to claim (scf settlement held shows it).`, EXIT.REFUSED, { code: "ReceivableNothingHeld", held: "0" });
  }
  status(o.json, `${yuan(h.held)} yuan is held for ${h.address}; claiming it.`);
  const act = await signedAct(a, "/settlement/claim", {}, { wait: wait(o), json: o.json });
  const claimed = act.result?.amount as string | undefined;
  return done(o, act, claimed !== undefined ? `\nclaimed ${yuan(claimed)} yuan` : "");
}

/**
 * Test money (`POST /settlement/faucet`): a compliance officer mints settlement tokens to a
 * verified member, where the platform enables the faucet (`npm start` does; production does not).
 */
export async function settlementFaucet(o: Opts): Promise<number> {
  const to = await checkedAddress(o.to, "--to");
  const fen = amount(o.amount, !!o.fen, "--amount");
  const res = await api(o).request<SettlementOperation>("POST", "/settlement/faucet", {
    body: { to, amount: fen.toString() },
    query: { wait: o.wait === false ? undefined : "true" },
    accept: [404],
  });
  if (res.status === 404) {
    throw new CliError(
      `This service has no test-money faucet: it is enabled only on test platforms (FAUCET_ENABLED=true with an issuer key; npm start turns it on). ` +
        "On a real ledger the settlement token comes from the digital-currency wallet.",
      EXIT.REFUSED,
    );
  }
  const op = res.body;
  if (o.json) printJson(op);
  else process.stdout.write(`faucet ${op.status}: ${yuan(fen.toString())} yuan to ${to}${op.txHash ? ` (tx ${op.txHash})` : ""}\n`);
  return op.status === "failed" ? EXIT.ACT_FAILED : EXIT.OK;
}
