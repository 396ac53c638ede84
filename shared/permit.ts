/**
 * EIP-2612 permits of the settlement token (OpenZeppelin ERC20Permit): the typed data a member
 * signs, its signature in either of the two forms clients send, and the `permit` call a relayer
 * submits. Both of the service's relays (POST /settlement/permits and a repayment's attached permit)
 * build them here, so they cannot disagree about what a member signed.
 */
import { Signature } from "ethers";
import { PERMIT_TYPES } from "./eip712";

/** The token's EIP-712 domain as JSON carries it (chain id as a decimal string). */
export type PermitDomain = {
  name: string;
  version: string;
  chainId: string;
  verifyingContract: string;
};

export interface PermitMessage {
  owner: string;
  spender: string;
  value: bigint;
  nonce: bigint;
  deadline: bigint;
}

/** Reads the domain the token signs under (its ERC-5267 `eip712Domain()`). */
export async function permitDomainOf(token: {
  eip712Domain(): Promise<{ name: string; version: string; chainId: bigint; verifyingContract: string }>;
}): Promise<PermitDomain> {
  const d = await token.eip712Domain();
  return { name: d.name, version: d.version, chainId: d.chainId.toString(), verifyingContract: d.verifyingContract };
}

/** The typed data of a permit (ethers' form: `types` without EIP712Domain). */
export function permitTypedData(domain: PermitDomain, message: PermitMessage) {
  return { domain, types: PERMIT_TYPES, primaryType: "Permit" as const, message };
}

/**
 * A permit signature sent as 65 bytes of hex or as v, r and s; a v of 0 or 1 is taken as 27 or 28
 * (some wallets give the recovery id). Throws when it is not a well-formed ECDSA signature.
 */
export function permitSignature(sig: string | { v: number; r: string; s: string }): Signature {
  return typeof sig === "string" ? Signature.from(sig) : Signature.from({ r: sig.r, s: sig.s, v: sig.v < 27 ? sig.v + 27 : sig.v });
}

/** The arguments of the token's `permit(owner, spender, value, deadline, v, r, s)`. */
export function permitCallArgs(
  owner: string,
  spender: string,
  value: bigint,
  deadline: bigint,
  sig: Signature,
): [string, string, bigint, bigint, number, string, string] {
  return [owner, spender, value, deadline, sig.v, sig.r, sig.s];
}
