/**
 * EIP-712 digests as ethers' `TypedDataEncoder.hash` computes them, without its per-call set-up:
 * `hash` hashes the domain separator again (an EIP712Domain struct, four fields) and builds a new
 * encoder for the types (type strings and their hashes) on every call. Here the separator is kept
 * per domain and the encoder per types object (both pure functions of their inputs; the service
 * has two domains and a fixed table of types), and only the message is hashed per call.
 */
import { TypedDataEncoder, concat, keccak256, type TypedDataDomain, type TypedDataField } from "ethers";

const separators = new Map<string, string>();
const encoders = new WeakMap<Record<string, TypedDataField[]>, TypedDataEncoder>();

/** `TypedDataEncoder.hash(domain, types, message)`. */
export function typedDataDigest(domain: TypedDataDomain, types: Record<string, TypedDataField[]>, message: Record<string, unknown>): string {
  const key = JSON.stringify(domain, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v));
  let separator = separators.get(key);
  if (separator === undefined) {
    separator = TypedDataEncoder.hashDomain(domain);
    if (separators.size >= 64) separators.clear();
    separators.set(key, separator);
  }
  let encoder = encoders.get(types);
  if (encoder === undefined) {
    encoder = TypedDataEncoder.from(types);
    encoders.set(types, encoder);
  }
  return keccak256(concat(["0x1901", separator, encoder.hash(message)]));
}
