/**
 * A load balancer for tests and benchmarks: a plain Node HTTP proxy in front of several service
 * replicas, each request to the next replica in turn (round robin), with keep-alive connections to
 * the replicas and the client's address appended to X-Forwarded-For, as a production balancer does
 * (so the replicas run with TRUST_PROXY_HOPS=1). It counts what each replica served.
 */
import { Agent, createServer, request, type IncomingMessage, type Server, type ServerResponse } from "node:http";

export interface Balancer {
  url: string;
  /** Requests forwarded to each upstream, in the order given. */
  served: number[];
  close(): Promise<void>;
}

export async function startBalancer(upstreams: string[]): Promise<Balancer> {
  const targets = upstreams.map((u) => new URL(u));
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const served = targets.map(() => 0);
  let next = 0;
  const forward = (req: IncomingMessage, res: ServerResponse) => {
    const i = next++ % targets.length;
    served[i] += 1;
    const target = targets[i];
    const prior = req.headers["x-forwarded-for"];
    const client = req.socket.remoteAddress ?? "";
    const headers = { ...req.headers, "x-forwarded-for": prior ? `${String(prior)}, ${client}` : client };
    const up = request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers, agent }, (upRes) => {
      res.writeHead(upRes.statusCode ?? 502, upRes.headers);
      upRes.pipe(res);
    });
    up.on("error", (err) => {
      if (res.headersSent) return res.destroy(err);
      res.writeHead(502, { "content-type": "application/problem+json" });
      res.end(JSON.stringify({ type: "about:blank", title: "Bad Gateway", status: 502, detail: `replica ${target.host}: ${err.message}` }));
    });
    req.pipe(up);
  };
  const server: Server = createServer(forward);
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    served,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      agent.destroy();
    },
  };
}
