/**
 * Serves a provider over HTTP JSON-RPC with `hardhat node`'s own handler, so clients see the same
 * error objects (revert data included) as with `hardhat node`.
 */
import * as http from "node:http";
import { jsonRpcHttpHandler } from "./hardhat-network";
import type { Eip1193 } from "./rpc";

export interface RpcServer {
  url: string;
  /** Stops listening and drops every open connection. */
  close(): Promise<void>;
}

export async function serveJsonRpc(provider: Eip1193, host: string, port: number): Promise<RpcServer> {
  const handle = jsonRpcHttpHandler(provider);
  const server = http.createServer((req, res) => {
    void handle(req, res);
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const bound = (server.address() as { port: number }).port;
  return {
    url: `http://${host.includes(":") ? `[${host}]` : host}:${bound}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
