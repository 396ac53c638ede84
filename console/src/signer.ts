/**
 * Who signs in the page: a key decrypted from an encrypted keystore file (ethers; the key stays in
 * this tab's memory and is never sent anywhere) or an injected EIP-1193 wallet (window.ethereum, as
 * MetaMask provides), which signs with personal_sign and eth_signTypedData_v4 and keeps its key.
 */
import { Wallet } from "ethers";
import type { TypedData } from "./acts";

export interface PageSigner {
  address: string;
  via: "keystore" | "wallet";
  signMessage(message: string): Promise<string>;
  signTypedData(td: TypedData): Promise<string>;
}

export async function keystoreSigner(json: string, password: string): Promise<PageSigner> {
  const w = await Wallet.fromEncryptedJson(json, password);
  return {
    address: w.address,
    via: "keystore",
    signMessage: (m) => w.signMessage(m),
    signTypedData: (td) => {
      // ethers derives EIP712Domain from the domain itself and refuses it among the types.
      const types = { ...td.types };
      delete types.EIP712Domain;
      return w.signTypedData(td.domain, types, td.message);
    },
  };
}

interface Eip1193 {
  request(args: { method: string; params?: unknown[] }): Promise<unknown>;
}

export const injectedWallet = (): Eip1193 | undefined => (window as unknown as { ethereum?: Eip1193 }).ethereum;

export async function walletSigner(): Promise<PageSigner> {
  const eth = injectedWallet();
  if (!eth) throw new Error("No browser wallet (window.ethereum) in this page.");
  const [address] = (await eth.request({ method: "eth_requestAccounts" })) as string[];
  if (!address) throw new Error("The wallet shared no account.");
  const toHex = (s: string) => "0x" + Array.from(new TextEncoder().encode(s), (b) => b.toString(16).padStart(2, "0")).join("");
  return {
    address,
    via: "wallet",
    signMessage: async (m) => (await eth.request({ method: "personal_sign", params: [toHex(m), address] })) as string,
    // The typed data as the API answers it already names EIP712Domain, as eth_signTypedData_v4 wants.
    signTypedData: async (td) => (await eth.request({ method: "eth_signTypedData_v4", params: [address, JSON.stringify(td)] })) as string,
  };
}
