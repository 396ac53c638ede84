/**
 * Runs the durable embedded chain as its own process:
 *
 *   npm run chain -- [--data-dir data] [--port 8545] [--host 127.0.0.1]
 *
 * Prints `DURABLE_CHAIN_READY {"url":…,"chainId":…,"blocksReplayed":…}` on one line once it serves.
 * SIGINT / SIGTERM stop it cleanly (nothing is lost on SIGKILL either: every block is journaled
 * before anyone learns of it). Exits 1 with the reason on stderr if the chain cannot start.
 */
import { startDurableChain } from "./chain/durable-chain";

function arg(name: string, fallback?: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

async function main(): Promise<void> {
  const dataDir = arg("data-dir", process.env.DATA_DIR ?? "data")!;
  const port = Number(arg("port", process.env.CHAIN_PORT ?? "8545"));
  const host = arg("host", "127.0.0.1");
  const chain = await startDurableChain({ dataDir, port, host, log: (line) => console.log(line) });
  console.log(`DURABLE_CHAIN_READY ${JSON.stringify({ url: chain.url, chainId: chain.chainId.toString(), blocksReplayed: chain.blocksReplayed })}`);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`durable chain: ${signal}, stopping`);
    chain.stop().then(
      () => process.exit(0),
      (e) => {
        console.error(e);
        process.exit(1);
      },
    );
  };
  process.on("SIGINT", () => stop("SIGINT"));
  process.on("SIGTERM", () => stop("SIGTERM"));
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
