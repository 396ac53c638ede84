/**
 * Measures the durable chain: live throughput with journaling (ledger token transfers from several
 * keys over HTTP JSON-RPC, one block each), then replay speed at restart.
 *
 *   npm run bench:replay -- [blocks=3000]
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { HDNodeWallet, JsonRpcProvider, Mnemonic, Network, Wallet, id } from "ethers";
import { DEFAULT_PARAMS, deployLedger } from "../lib/deploy-ledger";
import { startDurableChain } from "../../platform/chain/durable-chain";

const MNEMONIC = "test test test test test test test test test test test junk";

async function main(): Promise<void> {
  const blocks = Number(process.argv[2] ?? 3000);
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "durable-bench-"));
  const lines: string[] = [];
  const log = (l: string) => lines.push(l);
  try {
    const chain = await startDurableChain({ dataDir, port: 0, log });
    const network = Network.from(31337);
    const provider = new JsonRpcProvider(chain.url, network, { staticNetwork: network, cacheTimeout: -1, pollingInterval: 20 });
    const root = HDNodeWallet.fromMnemonic(Mnemonic.fromPhrase(MNEMONIC), "m/44'/60'/0'/0");
    const acct = (i: number) => new Wallet(root.deriveChild(i).privateKey, provider);
    const admin = acct(0);
    const ledger = await deployLedger(admin, {
      admin: admin.address,
      onboardingOperator: acct(1).address,
      complianceOfficer: acct(2).address,
      issuer: admin.address,
    }, DEFAULT_PARAMS);
    const senders = [3, 4, 5, 6, 7, 8, 9, 10, 11, 12].map(acct);
    const kyc = Math.floor(Date.now() / 1000) + 365 * 86400;
    for (const s of senders) {
      await (await ledger.registry.connect(acct(1)).register(s.address, 1, kyc, "0x434e", id(s.address))).wait();
      await (await ledger.token.connect(admin).mint(s.address, 1_000_000_00n)).wait();
    }
    const setup = await provider.getBlockNumber();
    // Pre-signed token transfers, each sender in turn (one block each under automine).
    const perSender = Math.ceil((blocks - setup) / senders.length);
    const token = await ledger.token.getAddress();
    const signed: string[][] = await Promise.all(
      senders.map(async (s, k) => {
        const nonce = await provider.getTransactionCount(s.address);
        const out: string[] = [];
        for (let j = 0; j < perSender; j++) {
          const data = ledger.token.interface.encodeFunctionData("transfer", [senders[(k + 1) % senders.length].address, 1n]);
          out.push(
            await s.signTransaction({
              to: token, data, nonce: nonce + j, gasLimit: 100_000, maxFeePerGas: 10_000_000_000n,
              maxPriorityFeePerGas: 1n, chainId: 31337n, type: 2,
            }),
          );
        }
        return out;
      }),
    );
    const t0 = Date.now();
    await Promise.all(signed.map(async (list) => {
      for (const raw of list) await provider.send("eth_sendRawTransaction", [raw]);
    }));
    const live = (Date.now() - t0) / 1000;
    const total = await provider.getBlockNumber();
    console.log(`live: ${total - setup} transfers in ${live.toFixed(2)} s over HTTP = ${Math.round((total - setup) / live)} tx/s (each journaled + fsync'ed before the answer)`);
    provider.destroy();
    await chain.stop();
    const size = fs.statSync(path.join(dataDir, "chain", "journal.ndjson")).size;
    const t1 = Date.now();
    const again = await startDurableChain({ dataDir, port: 0, log });
    const startMs = Date.now() - t1;
    await again.stop();
    console.log(`journal: ${total} blocks, ${(size / 1e6).toFixed(1)} MB`);
    console.log(lines.filter((l) => l.includes("replayed")).join("\n"));
    console.log(`restart (create network + read journal + replay + listen): ${(startMs / 1000).toFixed(2)} s`);
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
