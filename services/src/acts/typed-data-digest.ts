/**
 * EIP-712 digests as ethers' `TypedDataEncoder.hash` computes them, without its per-call set-up:
 * `hash` hashes the domain separator again (an EIP712Domain struct, four fields) and builds a new
 * encoder for the types (type strings and their hashes) on every call. Here the separator is kept
 * per domain and the encoder per types object (both pure functions of their inputs; the service
 * has two domains and a fixed table of types), and only the message is hashed per call.
 *
 * Nested struct values that are frozen (`Object.freeze`, e.g. invoiceMessage's invoices) keep
 * their struct hash: an EIP-712 struct hash is `keccak256(typeHash ‖ encodeData(value))`, the
 * same bytes whichever message contains the struct. A batch's 200 invoices are then hashed once
 * per request, not once for the seller's digest and again for the attester's. The memo is keyed
 * by the struct's full encoded type (name and fields, with its referenced types) and the frozen
 * object's identity, in a WeakMap: it lives as long as the value does, and a frozen value cannot
 * change under it. Values that are not frozen are hashed every time.
 */
import { TypedDataEncoder, concat, keccak256, type TypedDataDomain, type TypedDataField } from "ethers";

const separators = new Map<string, string>();
const encoders = new WeakMap<Record<string, TypedDataField[]>, StructHasher>();
/** Struct hashes of frozen values, per encoded type ("Invoice(address debtor,…)"). */
const structHashes = new Map<string, WeakMap<object, string>>();

/** `TypedDataEncoder.hash(domain, types, message)`. */
export function typedDataDigest(domain: TypedDataDomain, types: Record<string, TypedDataField[]>, message: Record<string, unknown>): string {
  const key = JSON.stringify(domain, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v));
  let separator = separators.get(key);
  if (separator === undefined) {
    separator = TypedDataEncoder.hashDomain(domain);
    if (separators.size >= 64) separators.clear();
    separators.set(key, separator);
  }
  let hasher = encoders.get(types);
  if (hasher === undefined) {
    hasher = new StructHasher(TypedDataEncoder.from(types));
    encoders.set(types, hasher);
  }
  return keccak256(concat(["0x1901", separator, hasher.hashStruct(hasher.primaryType, message)]));
}

/** `TypedDataEncoder.hashStruct`, field by field, with the memo of frozen nested structs. */
class StructHasher {
  readonly primaryType: string;
  /** Per struct name: its type hash, its fields, and the memo for its encoded type. */
  private readonly structs = new Map<string, { typeHash: string; fields: TypedDataField[]; memo: WeakMap<object, string> }>();

  constructor(private readonly encoder: TypedDataEncoder) {
    this.primaryType = encoder.primaryType;
    for (const [name, fields] of Object.entries(encoder.types)) {
      const encoded = encoder.encodeType(name);
      let memo = structHashes.get(encoded);
      if (!memo) structHashes.set(encoded, (memo = new WeakMap()));
      this.structs.set(name, { typeHash: keccak256(Buffer.from(encoded, "utf8")), fields, memo });
    }
  }

  hashStruct(name: string, value: Record<string, unknown>): string {
    const s = this.structs.get(name)!;
    const frozen = Object.isFrozen(value);
    if (frozen) {
      const known = s.memo.get(value);
      if (known !== undefined) return known;
    }
    const words = [s.typeHash];
    for (const f of s.fields) words.push(this.encodeField(f.type, value[f.name]));
    const hash = keccak256(wordBytes(words));
    if (frozen) s.memo.set(value, hash);
    return hash;
  }

  /** The 32-byte word a field contributes to its struct's encodeData (EIP-712 `encodeData`). */
  private encodeField(type: string, value: unknown): string {
    if (this.structs.has(type)) return this.hashStruct(type, value as Record<string, unknown>);
    const array = /^(.+)\[(\d*)\]$/.exec(type);
    if (array && this.structs.has(array[1])) {
      const items = value as Array<Record<string, unknown>>;
      if (array[2] !== "" && items.length !== Number(array[2])) throw new Error(`array length mismatch; expected length ${array[2]}`);
      return keccak256(wordBytes(items.map((v) => this.hashStruct(array[1], v))));
    }
    if (type === "address" && typeof value === "string") return addressWord(this.encoder, value);
    // The canonical forms of the two atomic types of the invoice struct, written directly (ethers
    // converts each through byte arrays); every other form and every out-of-range value goes to
    // ethers below, which accepts or refuses it as before.
    if (type === "uint256" && typeof value === "bigint" && value >= 0n && value <= UINT256_MAX) return "0x" + value.toString(16).padStart(64, "0");
    if (type === "bytes32" && typeof value === "string" && WORD.test(value)) return value.toLowerCase();
    // Atomic and dynamic types, and arrays of them: ethers' own encoder (it hashes string/bytes/arrays).
    return this.encoder.encodeData(type, value);
  }
}

const UINT256_MAX = (1n << 256n) - 1n;
const WORD = /^0x[0-9a-fA-F]{64}$/;

/** The bytes of 0x-prefixed 32-byte words laid end to end (ethers' `concat`, natively). */
function wordBytes(words: readonly string[]): Buffer {
  return Buffer.from(words.map((w) => w.slice(2)).join(""), "hex");
}

/**
 * Address words by the exact string given: ethers' address encoder checks the EIP-55 checksum (a
 * keccak per call), and a batch names the same few debtors 200 times. Only what ethers accepted is
 * kept (a refused string throws again every time); bounded, cleared when full.
 */
const addressWords = new Map<string, string>();
function addressWord(encoder: TypedDataEncoder, value: string): string {
  let w = addressWords.get(value);
  if (w === undefined) {
    w = encoder.encodeData("address", value);
    if (addressWords.size >= 4_096) addressWords.clear();
    addressWords.set(value, w);
  }
  return w;
}
