/**
 * Turns the contracts' custom errors into HTTP answers a participant's IT person can act on. The
 * contracts are the authority on every rule; the service simulates each relayed act first and
 * reports the contract's own refusal, so the HTTP error and the on-chain rule never disagree.
 */
import {
  ConflictException,
  ForbiddenException,
  HttpException,
  NotFoundException,
  UnprocessableEntityException,
} from "@nestjs/common";
import type { ErrorDescription } from "ethers";
import { LEDGER_INTERFACES as IFACES } from "../chain/ledger-abi";

const RECEIVABLE_STATUS = ["none", "issued", "accepted", "financed", "paid", "defaulted", "cancelled", "split"];
const FINANCING_STATUS = ["none", "requested", "rejected", "active", "repaid", "written_off", "withdrawn"];
const ROLE = (mask: bigint) =>
  [
    [1n, "supplier"],
    [2n, "buyer"],
    [4n, "financier"],
  ]
    .filter(([b]) => (mask & (b as bigint)) !== 0n)
    .map(([, n]) => n)
    .join(" or ") || "member";
const hex = (v: unknown) => "0x" + BigInt(v as bigint).toString(16).padStart(64, "0");

export function parseLedgerError(data: string | null): ErrorDescription | null {
  if (!data || data === "0x") return null;
  for (const i of IFACES) {
    try {
      const e = i.parseError(data);
      if (e) return e;
    } catch {
      /* next */
    }
  }
  return null;
}

/**
 * A signature that does not recover to the signer. 422, not 401: the caller's session is valid and
 * signing in again would not help; the signed content is wrong. The detail names the digest the
 * service computed, so a client can compare it with the one its wallet signed.
 */
export function invalidSignature(signer: string, digest: string | null, what = "this act", hint = "sign the typed data returned without a signature"): HttpException {
  return new UnprocessableEntityException({
    error: "InvalidSignature",
    message: `The signature is not ${signer}'s signature of ${what}${digest ? ` (EIP-712 digest ${digest})` : ""} (${hint}).`,
    ...(digest ? { digest } : {}),
  });
}

/** The HTTP exception for a contract revert (by its decoded custom error). */
export function revertToHttp(e: ErrorDescription | null, fallback: string): HttpException {
  if (!e) return new UnprocessableEntityException(`The ledger refused the act: ${fallback}`);
  const a = e.args;
  const code = { error: e.name };
  switch (e.name) {
    case "ReceivableUnverifiedParty":
    case "FinancingUnverifiedParty":
      return new ForbiddenException({ ...code, message: `${a[0]} is not a verified ${ROLE(a[1])} on the ledger (active membership with valid KYC is required).` });
    case "ReceivableDuplicate":
      return new ConflictException({ ...code, message: `This invoice is already on the ledger (receivable ${hex(a[0])}); an invoice can be tokenised only once.` });
    case "ReceivableDocumentUsed":
      return new ConflictException({ ...code, message: `Invoice document ${a[0]} is already on the ledger as receivable ${hex(a[1])}; a document can be tokenised only once.` });
    case "ReceivableAttestationExpired":
      return new UnprocessableEntityException({ ...code, message: `The invoice attestation expired at ${new Date(Number(a[0]) * 1000).toISOString()}; ask for a new one.` });
    case "ReceivableAttesterUnauthorized":
      return new UnprocessableEntityException({
        ...code,
        message: `The invoice attestation does not verify (it recovers to ${a[0]}, not an invoice attester): it was issued for another seller or other invoice data.`,
      });
    case "ReceivableTermsMismatch":
      return new ConflictException({
        ...code,
        message: `Receivable ${hex(a[0])} was recorded with another ${["seller", "face value", "due date", "document"][Number(a[1])]} than the accepted terms; nothing was accepted.`,
      });
    case "ReceivableNotFound":
      return new NotFoundException({ ...code, message: `Receivable ${hex(a[0])} does not exist.` });
    case "ReceivableInvalidStatus":
      return new ConflictException({ ...code, message: `Receivable ${hex(a[0])} is ${RECEIVABLE_STATUS[Number(a[1])]}; this act is not allowed in that state.` });
    case "ReceivableUnauthorized":
      return new ForbiddenException({ ...code, message: `${a[1]} is not the party this act on receivable ${hex(a[0])} belongs to.` });
    case "ReceivableSelfDealing":
      return new UnprocessableEntityException({ ...code, message: "The seller and the debtor must be different members." });
    case "ReceivableInvalidAmount":
      return new UnprocessableEntityException({ ...code, message: `Amount ${a[0]} is not allowed: it must be positive and at most 18446744073709551615 fen.` });
    case "ReceivableInvalidDueDate":
      return new UnprocessableEntityException({
        ...code,
        message: `Due date ${new Date(Number(a[0]) * 1000).toISOString()} must be after now and at most one year out (latest ${new Date(Number(a[2]) * 1000).toISOString()}).`,
      });
    case "ReceivableInvalidHash":
      return new UnprocessableEntityException({ ...code, message: "The document hash and fingerprint must not be zero." });
    case "ReceivableAmountExceedsOutstanding":
      return new UnprocessableEntityException({ ...code, message: `Amount ${a[1]} exceeds the outstanding ${a[2]} of receivable ${hex(a[0])}.` });
    case "ReceivableSplitSumMismatch":
      return new UnprocessableEntityException({ ...code, message: `The parts sum to ${a[1]} but the receivable's outstanding amount is ${a[2]}.` });
    case "ReceivableInvalidSplitCount":
      return new UnprocessableEntityException({ ...code, message: `A split needs 2 to 20 parts, not ${a[0]}.` });
    case "ReceivableBelowMinimumDenomination":
      return new UnprocessableEntityException({ ...code, message: `Part ${a[0]} is below the minimum denomination of ${a[1]} fen.` });
    case "ReceivableNotOverdue":
      return new ConflictException({ ...code, message: `The receivable is not overdue until ${new Date(Number(a[1]) * 1000).toISOString()}.` });
    case "ReceivableNothingHeld":
      return new ConflictException({ ...code, message: `Nothing is held for ${a[0]}: there is no payment to claim.` });
    case "ReceivableSettlementPaused":
      return new ConflictException({ ...code, message: "The settlement token is paused: nobody can pay, so no default can be marked." });
    case "ReceivableInvalidBatchSize":
      return new UnprocessableEntityException({ ...code, message: `A batch holds 1 to 200 invoices, not ${a[0]}.` });
    case "CreditLineNotFound":
      return new NotFoundException({ ...code, message: `Credit line ${a[0]} does not exist.` });
    case "CreditLineUnavailable":
      return new ConflictException({ ...code, message: `Credit line ${a[0]} is closed or expired.` });
    case "CreditLineUnauthorized":
      return new ForbiddenException({ ...code, message: `${a[1]} is not the financier of credit line ${a[0]}.` });
    case "CreditLineScopeMismatch":
      return new UnprocessableEntityException({ ...code, message: `Credit line ${a[0]} does not cover debtor ${a[1]} and supplier ${a[2]}.` });
    case "CreditLineLimitExceeded":
      return new ConflictException({
        ...code,
        message: `Financing ${a[2]} fen would lift credit line ${a[0]} to ${BigInt(a[1]) + BigInt(a[2])} fen, above its limit of ${a[3]} fen.`,
      });
    case "CreditLineInvalidScope":
    case "CreditLineInvalidLimit":
    case "CreditLineInvalidRates":
    case "CreditLineInvalidExpiry":
      return new UnprocessableEntityException({ ...code, message: `Invalid credit line terms (${e.name}: ${[...a].join(", ")}).` });
    case "FinancingNotHolder":
      return new ForbiddenException({ ...code, message: `${a[1]} does not hold receivable ${hex(a[0])}.` });
    case "FinancingInvalidReceivableStatus":
      return new ConflictException({ ...code, message: `Receivable ${hex(a[0])} is ${RECEIVABLE_STATUS[Number(a[1])]}; only an accepted receivable can be financed.` });
    case "FinancingInvalidStatus":
      return new ConflictException({ ...code, message: `The financing of receivable ${hex(a[0])} is ${FINANCING_STATUS[Number(a[1])]}; this act is not allowed in that state.` });
    case "FinancingHolderChanged":
      return new ConflictException({ ...code, message: `Receivable ${hex(a[0])} changed hands after the request; the new holder must request again.` });
    case "FinancingReceivableOverdue":
      return new ConflictException({ ...code, message: `Receivable ${hex(a[0])} is past its due date and cannot be financed.` });
    case "FinancingTermsNotMet":
      return new ConflictException({
        ...code,
        message:
          `The approval would pay ${a[1]} fen now with a discount of ${a[3]} fen; the supplier's request asks at least ` +
          `${a[2]} fen now and at most ${a[4]} fen discount. The line's terms no longer give what was requested.`,
      });
    case "FinancingAdvanceMismatch":
      return new ConflictException({ ...code, message: `The approval names an advance of ${a[1]} fen (paying ${a[2]}); the line now advances ${a[3]} fen on receivable ${hex(a[0])}.` });
    case "FinancingLineMismatch":
      return new ConflictException({ ...code, message: `The act names credit line ${a[1]} but the financing of receivable ${hex(a[0])} was requested on line ${a[2]}.` });
    case "FinancingRequestLapsed":
      return new ConflictException({ ...code, message: `The financing request for receivable ${hex(a[0])} lapsed at ${new Date(Number(a[1]) * 1000).toISOString()}.` });
    case "FinancingRequestPending":
      return new ConflictException({
        ...code,
        message: `A request on credit line ${a[1]} is pending for receivable ${hex(a[0])} until ${new Date(Number(a[2]) * 1000).toISOString()}: withdraw it or wait for an answer.`,
      });
    case "FinancingInvalidRequestTerms":
    case "FinancingRegistrationMissing":
      return new UnprocessableEntityException({ ...code, message: `Invalid financing terms (${e.name}: ${[...a].join(", ")}).` });
    case "SignedActionExpired":
      return new UnprocessableEntityException({ ...code, message: `The signature expired at ${new Date(Number(a[0]) * 1000).toISOString()}; sign again.` });
    case "SignedActionInvalidSignature":
      return invalidSignature(String(a[0]), null);
    case "SignedActionNonceUsed":
      return new ConflictException({ ...code, message: `Nonce ${a[1]} of ${a[0]} was already used; this signed act cannot be replayed.` });
    case "ERC20InsufficientBalance":
      return new ConflictException({ ...code, message: `${a[0]} has ${a[1]} fen of the settlement token but ${a[2]} are needed.` });
    case "ERC20InsufficientAllowance":
      return new ConflictException({
        ...code,
        message: `The ledger contract may move only ${a[1]} fen for this payer but ${a[2]} are needed: approve the contract on the settlement token first.`,
      });
    case "SettlementUnverifiedParty":
      return new ForbiddenException({ ...code, message: `${a[0]} may not hold or move the settlement token (not an active member).` });
    case "EnforcedPause":
      return new ConflictException({ ...code, message: "The settlement token is paused by its issuer." });
    default:
      return new UnprocessableEntityException({ ...code, message: `The ledger refused the act: ${e.name}(${[...a].join(", ")}).` });
  }
}
