/**
 * The JSON-RPC shapes the durable chain reads from the network: an EIP-1193 provider and the block
 * and transaction objects of `eth_getBlockByNumber`, with quantities as 0x-hex strings.
 */

export interface Eip1193 {
  request(args: { method: string; params?: unknown[] }): Promise<unknown>;
}

/** A request on the network itself (params default to none). */
export type Rpc = (method: string, params?: unknown[]) => Promise<unknown>;

export interface RpcBlock {
  number: string;
  hash: string;
  timestamp: string;
  transactions: RpcTx[] | string[];
}

export interface RpcTx {
  hash: string;
  type: string;
  chainId?: string;
  nonce: string;
  gas: string;
  gasPrice?: string;
  maxFeePerGas?: string;
  maxPriorityFeePerGas?: string;
  maxFeePerBlobGas?: string;
  blobVersionedHashes?: string[];
  to: string | null;
  value: string;
  input: string;
  accessList?: { address: string; storageKeys: string[] }[];
  authorizationList?: unknown[];
  v: string;
  r: string;
  s: string;
  yParity?: string;
}

export function quantity(n: number | bigint): string {
  return "0x" + n.toString(16);
}
