/**
 * A counting JSON-RPC proxy for benchmarks: sits between a service and its node, forwards every
 * request unchanged, and counts per method the calls (each entry of a JSON-RPC batch is one call)
 * and the bytes of requests and answers. Diagnostic only: it adds its own CPU to the process that
 * runs it (the benchmark's), never to the service's or the node's.
 */
import { Agent, createServer, request, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";

export interface MethodCount {
  calls: number;
  requestBytes: number;
  answerBytes: number;
}

export interface RpcProxy {
  url: string;
  /** Counts since the last reset, by method. */
  counts(): Map<string, MethodCount>;
  reset(): void;
  stop(): Promise<void>;
}

const readBody = (m: IncomingMessage): Promise<Buffer> =>
  new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    m.on("data", (d: Buffer) => parts.push(d));
    m.on("end", () => resolve(Buffer.concat(parts)));
    m.on("error", reject);
  });

type RpcEntry = { method?: string; params?: unknown };

/** The method, with the called function's selector for calls and estimates ("eth_call 0x1234abcd"). */
function methodOf(e: RpcEntry): string {
  const tx = Array.isArray(e.params) ? (e.params[0] as { data?: unknown; input?: unknown } | undefined) : undefined;
  const data = tx && typeof tx === "object" ? (tx.data ?? tx.input) : undefined;
  return (e.method ?? "?") + ((e.method === "eth_call" || e.method === "eth_estimateGas") && typeof data === "string" ? ` ${data.slice(0, 10)}` : "");
}

export async function startRpcProxy(target: string): Promise<RpcProxy> {
  const to = new URL(target);
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  let counts = new Map<string, MethodCount>();
  const add = (method: string, req: number, ans: number) => {
    const c = counts.get(method) ?? { calls: 0, requestBytes: 0, answerBytes: 0 };
    c.calls++;
    c.requestBytes += req;
    c.answerBytes += ans;
    counts.set(method, c);
  };
  const server = createServer((req, res) => {
    void (async () => {
      const body = await readBody(req);
      const upstream = await new Promise<IncomingMessage>((resolve, reject) => {
        const r = request(
          { host: to.hostname, port: to.port, path: to.pathname, method: req.method, agent, headers: { "content-type": "application/json", "content-length": body.length } },
          resolve,
        );
        r.on("error", reject);
        r.end(body);
      });
      const answer = await readBody(upstream);
      res.writeHead(upstream.statusCode ?? 502, { "content-type": "application/json", "content-length": answer.length });
      res.end(answer);
      try {
        const q = JSON.parse(body.toString("utf8")) as RpcEntry | RpcEntry[];
        const a = JSON.parse(answer.toString("utf8")) as unknown;
        const qs = Array.isArray(q) ? q : [q];
        const as = Array.isArray(a) ? a : [a];
        qs.forEach((e, i) => add(methodOf(e), Buffer.byteLength(JSON.stringify(e)), Buffer.byteLength(JSON.stringify(as[i] ?? null))));
      } catch {
        add("(unparsed)", body.length, answer.length);
      }
    })().catch((err: Error) => {
      res.writeHead(502);
      res.end(err.message);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    counts: () => counts,
    reset: () => {
      counts = new Map();
    },
    stop: async () => {
      agent.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The counts as lines: method, calls, calls per act, kB per call, answered kB per act. */
export function describeCounts(counts: Map<string, MethodCount>, acts: number): string[] {
  return [...counts.entries()]
    .sort((a, b) => b[1].calls - a[1].calls)
    .map(
      ([m, c]) =>
        `${m.padEnd(30)} ${String(c.calls).padStart(6)} calls, ${(c.calls / acts).toFixed(1).padStart(6)} per act, ` +
        `request ${(c.requestBytes / c.calls / 1000).toFixed(1)} kB, answer ${(c.answerBytes / c.calls / 1000).toFixed(1)} kB per call`,
    );
}
