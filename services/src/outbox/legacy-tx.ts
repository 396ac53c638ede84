/**
 * The outbox's signed transactions (type 0 with EIP-155 replay protection), encoded and signed
 * here instead of through ethers' `Transaction` + `Wallet.signTransaction`: the same bytes (a
 * property test compares them for random fields, test/services/legacy-tx.test.ts), without ethers
 * turning the ~66 kB of a 200-invoice batch's calldata from hex to bytes one byte at a time in
 * JavaScript, RLP-encoding it through intermediate arrays and back to hex, twice (the unsigned hash,
 * then the signed encoding). That was ~35-45 ms of the relayer's CPU per batch act; here the hex is
 * converted by Buffer (native), @ethereumjs/rlp encodes the list of byte strings (no hex round
 * trips), and the digest is signed by libsecp256k1 (acts/ecdsa.ts, RFC 6979, low s: the signature ethers would make).
 *
 * Encoding (Ethereum yellow paper, appendix B; EIP-155):
 *   unsigned = rlp([nonce, gasPrice, gasLimit, to, value, data, chainId, 0, 0])
 *   raw      = rlp([nonce, gasPrice, gasLimit, to, value, data, v, r, s]), v = chainId * 2 + 35 + recid
 * Integers are big-endian without leading zeros (zero is the empty string); r and s likewise.
 */
import { RLP } from "@ethereumjs/rlp";
import { Transaction, getAddress, keccak256, type BaseWallet } from "ethers";
import { signDigestParts } from "../acts/ecdsa";

export interface LegacyTxFields {
  chainId: bigint;
  nonce: number;
  to: string;
  data: string;
  gasLimit: bigint;
  gasPrice: bigint;
  value: bigint;
}

export interface SignedTx {
  /** 0x-prefixed signed encoding, as eth_sendRawTransaction takes it. */
  raw: string;
  /** keccak256 of the signed encoding. */
  hash: string;
}

const UINT256_MAX = (1n << 256n) - 1n;

function uintBytes(v: bigint | number, what: string): Buffer {
  const n = BigInt(v);
  if (n < 0n || n > UINT256_MAX) throw new RangeError(`${what} does not fit uint256`);
  if (n === 0n) return Buffer.alloc(0);
  const hex = n.toString(16);
  return Buffer.from(hex.length % 2 ? "0" + hex : hex, "hex");
}

function hexBytes(v: string, bytes: number | null, what: string): Buffer {
  if (typeof v !== "string" || !/^0x/i.test(v) || v.length % 2 !== 0) throw new TypeError(`${what} is not 0x-prefixed whole-byte hex`);
  const b = Buffer.from(v.slice(2), "hex");
  // Buffer.from stops at the first pair that is not hex: a short result means a bad character.
  if (b.length * 2 !== v.length - 2) throw new TypeError(`${what} is not hex`);
  if (bytes !== null && b.length !== bytes) throw new TypeError(`${what} is not ${bytes} bytes`);
  return b;
}

/** RLP of a list of byte strings (@ethereumjs/rlp). */
function rlpList(items: Uint8Array[]): Buffer {
  const out = RLP.encode(items);
  return Buffer.from(out.buffer, out.byteOffset, out.byteLength);
}

const privateKeys = new WeakMap<BaseWallet, Buffer>();

/** Signs a type-0 (EIP-155) transaction with `wallet`'s key: the bytes ethers' Wallet.signTransaction gives. */
export function signLegacyTransaction(wallet: BaseWallet, tx: LegacyTxFields): SignedTx {
  let key = privateKeys.get(wallet);
  if (!key) {
    key = hexBytes(wallet.signingKey.privateKey, 32, "private key");
    privateKeys.set(wallet, key);
  }
  const chainId = BigInt(tx.chainId);
  if (chainId <= 0n) throw new RangeError("chainId must be positive (EIP-155)");
  const head = [
    uintBytes(tx.nonce, "nonce"),
    uintBytes(tx.gasPrice, "gasPrice"),
    uintBytes(tx.gasLimit, "gasLimit"),
    // getAddress: a mixed-case address with a wrong EIP-55 checksum is refused, as ethers does.
    hexBytes(getAddress(tx.to), 20, "to"),
    uintBytes(tx.value, "value"),
    hexBytes(tx.data, null, "data"),
  ];
  const digest = keccak256(rlpList([...head, uintBytes(chainId, "chainId"), Buffer.alloc(0), Buffer.alloc(0)]));
  const sig = signDigestParts(key, digest);
  if (!sig) {
    // No native binding in this process: ethers' own code (slow, the same bytes).
    const t = Transaction.from({ type: 0, chainId, nonce: tx.nonce, to: tx.to, data: tx.data, gasLimit: tx.gasLimit, gasPrice: tx.gasPrice, value: tx.value });
    t.signature = wallet.signingKey.sign(t.unsignedHash);
    return { raw: t.serialized, hash: keccak256(t.serialized) };
  }
  const v = chainId * 2n + 35n + BigInt(sig.recid);
  const raw = rlpList([...head, uintBytes(v, "v"), stripZeros(sig.r), stripZeros(sig.s)]);
  return { raw: "0x" + raw.toString("hex"), hash: keccak256(raw) };
}

function stripZeros(b: Uint8Array): Buffer {
  let i = 0;
  while (i < b.length && b[i] === 0) i++;
  return Buffer.from(b.subarray(i));
}
