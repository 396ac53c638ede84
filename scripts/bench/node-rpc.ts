/**
 * The chain node's CPU per JSON-RPC method, priced one method at a time against a `hardhat node`
 * (automine, so no empty blocks are mined between calls) holding 200-invoice batch tokenisations.
 * Each method is called `--reps` times one after another; the node's CPU (user + system, from
 * /proc/<pid>/stat) over those calls, less its idle CPU over the same wall time, divided by the
 * calls, is its price. The calls are those a relayed batch act makes the node answer (see the e2e
 * section of docs/BENCHMARKS.md for how many of each per act). Prints only; asserts nothing.
 */
import { Wallet } from "ethers";
import { startChain } from "../../test/support/chain";
import { cleanupEnv, prepareEnv } from "../../test/support/app";
import { ROLE_BITS } from "../../shared/roles";
import { attest, chainNow, fmtSeconds, intFlag, invoice, nowSeconds, presign, processCpuMs, registerMembers, waitReceipts } from "./common";

const BATCH = 200;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function benchNodeRpc(flags: Map<string, string>): Promise<void> {
  const reps = intFlag(flags, "reps", 20);
  const chain = await startChain();
  const env = await prepareEnv(chain, { LOG_LEVEL: "error" });
  const pid = chain.process.pid!;
  try {
    const supplier = await chain.fundedWallet();
    const buyer = Wallet.createRandom();
    await registerMembers(env, [
      { address: supplier.address, roles: ROLE_BITS.supplier },
      { address: buyer.address, roles: ROLE_BITS.buyer },
    ]);
    const to = env.ledger.record.contracts.Receivables;
    const iface = env.ledger.receivables.interface;
    const due = (await chainNow(chain)) + 90 * 86400;
    let tag = 0;
    const batchData = async () => {
      const invs = Array.from({ length: BATCH }, () => invoice(buyer.address, `rpc-${Date.now()}-${++tag}`, due));
      return iface.encodeFunctionData("tokeniseBatch", [invs, await attest(env, supplier.address, invs)]);
    };
    const send = (method: string, params: unknown[]) => chain.provider.send(method, params);

    // One batch mined, for the reads of a block holding one (logs, full transactions, receipt).
    const first = await batchData();
    const gas = BigInt(await send("eth_estimateGas", [{ from: supplier.address, to, data: first }, "latest"]));
    const [raw] = await presign(supplier, chain, to, [{ data: first, gasLimit: gas + 100_000n }]);
    const hash = (await send("eth_sendRawTransaction", [raw])) as string;
    const block = await waitReceipts(chain, [hash], 20);
    const blockHex = "0x" + block.toString(16);
    const unsent = await batchData();
    const addresses = Object.values(env.ledger.record.contracts);
    console.log(`node-rpc: batch tx ${hash} in block ${block}, ${gas} gas estimated, ${(raw.length - 2) / 2} bytes raw`);

    const idle0 = processCpuMs(pid);
    const t0 = nowSeconds();
    await sleep(3_000);
    const idlePerSecond = (processCpuMs(pid) - idle0) / (nowSeconds() - t0);
    console.log(`node-rpc: idle node ${idlePerSecond.toFixed(1)} ms of CPU per second`);

    const price = async (name: string, call: () => Promise<unknown>, n = reps): Promise<number> => {
      await call(); // warm
      const c0 = processCpuMs(pid);
      const w0 = nowSeconds();
      for (let i = 0; i < n; i++) await call();
      const wall = nowSeconds() - w0;
      const ms = (processCpuMs(pid) - c0 - idlePerSecond * wall) / n;
      console.log(`node-rpc: ${name.padEnd(58)} ${ms.toFixed(1).padStart(7)} ms CPU/call, ${((1000 * wall) / n).toFixed(1).padStart(7)} ms wall/call (${n} calls)`);
      return ms;
    };
    const callTx = { from: supplier.address, to, data: unsent };
    // The executions, round robin (one call of each in turn, each call's node CPU summed per method),
    // so drift in the node's background work (its GC, other load) falls on all of them alike.
    const datas: { data: string; gasLimit: bigint }[] = [];
    for (let i = 0; i < reps + 1; i++) datas.push({ data: await batchData(), gasLimit: gas + 100_000n });
    const raws = await presign(supplier, chain, to, datas);
    let k = 0;
    const limit = "0x" + (gas + gas / 50n + 1_000n).toString(16);
    const executions: Array<[string, () => Promise<unknown>]> = [
      ["eth_call tokeniseBatch(200), latest", () => send("eth_call", [callTx, "latest"])],
      ["eth_call tokeniseBatch(200), pending", () => send("eth_call", [callTx, "pending"])],
      [`eth_call tokeniseBatch(200), latest, gas = estimate + 2 %`, () => send("eth_call", [{ ...callTx, gas: limit }, "latest"])],
      ["eth_estimateGas tokeniseBatch(200), latest", () => send("eth_estimateGas", [callTx, "latest"])],
      ["eth_estimateGas tokeniseBatch(200), pending", () => send("eth_estimateGas", [callTx, "pending"])],
      [
        "eth_sendRawTransaction(batch 200) + mining + 1 receipt",
        async () => {
          const h = (await send("eth_sendRawTransaction", [raws[k++]])) as string;
          await waitReceipts(chain, [h], 5);
        },
      ],
    ];
    const cpu = executions.map(() => 0);
    const wall = executions.map(() => 0);
    for (let r = 0; r < reps; r++) {
      for (const [i, [, call]] of executions.entries()) {
        const c0 = processCpuMs(pid);
        const w0 = nowSeconds();
        await call();
        wall[i] += nowSeconds() - w0;
        cpu[i] += processCpuMs(pid) - c0;
      }
    }
    executions.forEach(([name], i) =>
      console.log(
        `node-rpc: ${name.padEnd(58)} ${((cpu[i] - idlePerSecond * wall[i]) / reps).toFixed(1).padStart(7)} ms CPU/call, ` +
          `${((1000 * wall[i]) / reps).toFixed(1).padStart(7)} ms wall/call (${reps} calls, round robin)`,
      ),
    );
    await price("eth_getBlockByNumber(batch block, full txs)", () => send("eth_getBlockByNumber", [blockHex, true]));
    await price("eth_getBlockByNumber(batch block, hashes)", () => send("eth_getBlockByNumber", [blockHex, false]));
    await price("eth_getLogs(4 contracts, batch block)", () => send("eth_getLogs", [{ address: addresses, fromBlock: blockHex, toBlock: blockHex }]));
    await price("eth_getTransactionReceipt(batch tx)", () => send("eth_getTransactionReceipt", [hash]));
    await price("eth_getBlockReceipts(batch block)", () => send("eth_getBlockReceipts", [blockHex])).catch((e: Error) =>
      console.log(`node-rpc: eth_getBlockReceipts refused: ${e.message.slice(0, 120)}`),
    );
    await price("eth_blockNumber", () => send("eth_blockNumber", []), reps * 10);
    await price("eth_getBlockByNumber(latest, hashes)", () => send("eth_getBlockByNumber", ["latest", false]), reps * 10);
    await price("eth_getTransactionCount(pending)", () => send("eth_getTransactionCount", [supplier.address, "pending"]), reps * 10);
    await price("eth_gasPrice", () => send("eth_gasPrice", []), reps * 10);

    console.log(`node-rpc: done (${fmtSeconds(nowSeconds() - t0)} s)`);
  } finally {
    await cleanupEnv(env).catch(() => undefined);
    await chain.stop();
  }
}
