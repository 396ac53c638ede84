/**
 * Signing acts the way a client does: the service answers an unsigned POST with EIP-712 typed data
 * (domain, types including EIP712Domain, primaryType, message with the proposed nonce and deadline);
 * the participant signs it with its own key.
 */
import type { TypedDataDomain, TypedDataField, Wallet } from "ethers";

/** The typed data of an act, as the service returns it. */
export interface ActTypedData {
  domain: Record<string, string>;
  types: Record<string, TypedDataField[]>;
  primaryType: string;
  message: Record<string, unknown> & { nonce: string; deadline: string };
}

/** Signs typed data as the service returns it (ethers derives EIP712Domain itself and refuses it in `types`). */
export function signTypedData(
  key: Pick<Wallet, "signTypedData">,
  td: { domain: TypedDataDomain | Record<string, unknown>; types: Record<string, TypedDataField[]>; message: Record<string, unknown> },
): Promise<string> {
  const types = { ...td.types };
  delete types.EIP712Domain;
  return key.signTypedData(td.domain as TypedDataDomain, types, td.message);
}
