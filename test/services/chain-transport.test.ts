/**
 * The service's JSON-RPC transport (chain.service.ts: getUrlLinear + nativeJsonCoding) against a
 * local HTTP server playing the node: big answers arriving in many chunks come back whole and
 * exact (multi-byte UTF-8 split across chunks included), gzip is undone, and the failures the
 * sender and indexer rely on keep their shape: a timeout is ethers' TIMEOUT, a dropped connection
 * is Node's own error that isDroppedConnection recognises, a body that is not JSON says so.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { gzipSync } from "node:zlib";
import { expect } from "chai";
import { FetchRequest, JsonRpcProvider, Network, isError } from "ethers";
import { getUrlLinear, nativeJsonCoding } from "../../services/src/chain/chain.service";
import { isDroppedConnection } from "../../services/src/chain/errors";

type Handler = (body: { id: number; method: string; params: unknown[] }, req: IncomingMessage, res: ServerResponse) => void;

describe("chain transport: getUrlLinear and nativeJsonCoding", function () {
  let server: Server;
  let url: string;
  let handler: Handler;

  before(async function () {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => handler(JSON.parse(Buffer.concat(chunks).toString("utf8")), req, res));
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async function () {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  function provider(timeoutMs = 5_000): JsonRpcProvider {
    const request = new FetchRequest(url);
    request.timeout = timeoutMs;
    request.getUrlFunc = getUrlLinear;
    const network = Network.from(31337);
    const p = new JsonRpcProvider(request, network, { staticNetwork: network, batchMaxCount: 1, cacheTimeout: -1 });
    nativeJsonCoding(p);
    return p;
  }

  it("returns a large answer sent in many small chunks whole, with multi-byte characters split between chunks", async function () {
    const result = Array.from({ length: 20_000 }, (_, i) => ({ n: i, s: `发票-${i}-€` }));
    handler = ({ id }, _req, res) => {
      const bytes = Buffer.from(JSON.stringify({ jsonrpc: "2.0", id, result }), "utf8");
      res.writeHead(200, { "content-type": "application/json" });
      // Chunks of 7,169 bytes (not a multiple of 3) split the 3-byte characters at shifting offsets.
      let at = 0;
      const next = () => {
        if (at >= bytes.length) return res.end();
        const more = res.write(bytes.subarray(at, (at += 7 * 1024 + 1)));
        if (more) setImmediate(next);
        else res.once("drain", next);
      };
      next();
    };
    const p = provider();
    try {
      expect(await p.send("test_big", [])).to.deep.equal(result);
    } finally {
      p.destroy();
    }
  });

  it("undoes gzip content encoding", async function () {
    handler = ({ id }, _req, res) => {
      res.writeHead(200, { "content-type": "application/json", "content-encoding": "gzip" });
      res.end(gzipSync(JSON.stringify({ jsonrpc: "2.0", id, result: "0x7a69" })));
    };
    const p = provider();
    try {
      expect(await p.send("eth_chainId", [])).to.equal("0x7a69");
    } finally {
      p.destroy();
    }
  });

  it("turns a node that never answers into ethers' TIMEOUT", async function () {
    handler = () => undefined; // accepts, never answers
    const p = provider(300);
    try {
      const err = await p.send("eth_blockNumber", []).then(
        () => null,
        (e: unknown) => e,
      );
      expect(isError(err, "TIMEOUT"), String(err)).to.equal(true);
    } finally {
      p.destroy();
      server.closeAllConnections();
    }
  });

  it("reports a dropped connection as Node's own error, which isDroppedConnection recognises", async function () {
    handler = (_b, req) => req.socket.destroy();
    const p = provider();
    try {
      const err = await p.send("eth_blockNumber", []).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).to.be.instanceOf(Error);
      expect(isDroppedConnection(err), String(err)).to.equal(true);
    } finally {
      p.destroy();
    }
  });

  it("says so when the body is not JSON", async function () {
    handler = (_b, _req, res) => {
      res.writeHead(200, { "content-type": "text/html" });
      res.end("<html>proxy error</html>");
    };
    const p = provider();
    try {
      const err = await p.send("eth_blockNumber", []).then(
        () => null,
        (e: unknown) => e as Error,
      );
      expect(err?.message).to.match(/answered with a body that is not JSON/);
    } finally {
      p.destroy();
    }
  });
});
