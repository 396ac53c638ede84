/**
 * The one connection to the chain: a JSON-RPC provider, the deployment's contracts as TypeChain
 * bindings (read-only; writes go through the transaction sender) and the service's own wallets.
 */
import { Injectable, Logger, type OnApplicationShutdown } from "@nestjs/common";
import retry from "async-retry";
import http from "node:http";
import https from "node:https";
import { gunzipSync } from "node:zlib";
import { assert, FetchRequest, getAddress, type Wallet, JsonRpcProvider, makeError, Network, type FetchCancelSignal, type GetUrlResponse } from "ethers";
import type { Financing, ParticipantRegistry, Receivables, SettlementToken } from "../../../typechain-types";
import { APP_CONFIG, type AppConfig } from "../config/env";
import { readDeployment, type DeploymentRecord } from "./deployment";
import { isDroppedConnection } from "./errors";
import { loadServiceWallets, type ServiceWallets } from "./keys";
import { connectLedger } from "./ledger-abi";

export interface LedgerContracts {
  registry: ParticipantRegistry;
  token: SettlementToken;
  receivables: Receivables;
  financing: Financing;
}

@Injectable()
export class ChainService implements OnApplicationShutdown {
  private readonly logger = new Logger(ChainService.name);

  constructor(
    readonly provider: JsonRpcProvider,
    readonly deployment: DeploymentRecord,
    readonly contracts: LedgerContracts,
    readonly wallets: ServiceWallets,
    readonly chainId: bigint,
    /**
     * For the indexer's reads (logs, blocks, head): a second connection that never batches. On the
     * shared provider a cheap call batched with an eth_getLogs of thousands of entries, or with the
     * estimate of a 200-invoice batch, waited for the whole batch's answer.
     */
    readonly reader: JsonRpcProvider = provider,
  ) {}

  /** Connects, checks the chain id and that every deployed contract has code, unlocks the keys. */
  static async connect(config: AppConfig): Promise<ChainService> {
    const network = Network.from(config.CHAIN_ID);
    // A bounded wait per JSON-RPC request: a node that accepts a request and never answers must
    // surface as a retryable timeout in the sender and indexer, not as a silent stall.
    const connect = (batchMaxCount: number) => {
      const request = new FetchRequest(config.RPC_URL);
      request.timeout = config.RPC_TIMEOUT_MS;
      request.getUrlFunc = getUrlLinear;
      const p = new JsonRpcProvider(request, network, {
        staticNetwork: network,
        batchMaxCount,
        pollingInterval: 250,
        // ethers caches identical calls for 250 ms by default: a nonce or gas estimate read twice in
        // quick succession would then be stale.
        cacheTimeout: -1,
      });
      nativeJsonCoding(p);
      retryDroppedConnections(p);
      return p;
    };
    // Concurrent calls leave as one JSON-RPC batch: the sender's broadcasts reach the node in
    // nonce order in one request.
    const provider = connect(100);
    let remote: bigint;
    try {
      remote = BigInt(await provider.send("eth_chainId", []));
    } catch (err) {
      provider.destroy();
      throw new Error(`Cannot reach the chain at RPC_URL=${config.RPC_URL}: ${(err as Error).message}`);
    }
    if (remote !== BigInt(config.CHAIN_ID)) {
      provider.destroy();
      throw new Error(`RPC_URL serves chain ${remote} but CHAIN_ID is ${config.CHAIN_ID}.`);
    }
    const deployment = readDeployment(config.paths.deployment);
    if (BigInt(deployment.chainId) !== remote) {
      provider.destroy();
      throw new Error(`${config.paths.deployment} is for chain ${deployment.chainId}, not ${remote}.`);
    }
    for (const [name, address] of Object.entries(deployment.contracts)) {
      if ((await provider.getCode(address)) === "0x") {
        provider.destroy();
        throw new Error(`No contract code for ${name} at ${address} on chain ${remote}: redeploy or fix DEPLOYMENT_FILE.`);
      }
    }
    const contracts: LedgerContracts = connectLedger(deployment.contracts, provider);
    const wallets = await loadServiceWallets({
      dir: config.paths.keystoreDir,
      password: config.KEYSTORE_PASSWORD,
      relayerKeys: config.RELAYER_KEYS,
      files: {
        operator: config.OPERATOR_KEYSTORE,
        compliance: config.COMPLIANCE_KEYSTORE,
        relayer: config.RELAYER_KEYSTORE,
        ...(config.ISSUER_KEYSTORE ? { issuer: config.ISSUER_KEYSTORE } : {}),
      },
    });
    return new ChainService(provider, deployment, contracts, wallets, remote, connect(1));
  }

  /**
   * The relayer key that relays the acts of `participant`: always the same one for a participant
   * (its acts leave in the order they were accepted, behind one nonce sequence), spread over the
   * pool by the participant's address.
   */
  relayerFor(participant: string | null | undefined): Wallet {
    const pool = this.wallets.relayers;
    if (pool.length === 1 || !participant) return pool[0];
    // An address is already a hash: its value spreads participants evenly over the pool.
    return pool[Number(BigInt(getAddress(participant)) % BigInt(pool.length))];
  }

  /** Addresses of the deployed contracts, keyed by contract name. */
  get addresses(): DeploymentRecord["contracts"] {
    return this.deployment.contracts;
  }

  async headNumber(): Promise<number> {
    return this.reader.getBlockNumber();
  }

  private blockGas?: { value: bigint; at: number };

  /**
   * The latest block's gas limit: a transaction whose gas limit is higher can never be mined (nodes
   * refuse it outright). Read at most every `maxAgeMs`: it changes only by the network's
   * configuration (a Besu genesis transition, `evm_setBlockGasLimit` on a test node).
   */
  async blockGasLimit(maxAgeMs = 30_000): Promise<bigint> {
    if (!this.blockGas || Date.now() - this.blockGas.at > maxAgeMs) {
      const block = (await this.provider.send("eth_getBlockByNumber", ["latest", false])) as { gasLimit: string };
      this.blockGas = { value: BigInt(block.gasLimit), at: Date.now() };
    }
    return this.blockGas.value;
  }

  onApplicationShutdown(): void {
    this.logger.log("closing chain provider");
    this.provider.destroy();
    if (this.reader !== this.provider) this.reader.destroy();
  }
}

/**
 * ethers' own Node transport (utils/geturl.js), except that the response is gathered once at the
 * end: ethers grows it chunk by chunk, copying everything received so far at each chunk, which is
 * quadratic in the size of big answers (a block with 200-invoice batches, a range of logs) and was
 * ~6 % of the service's CPU under batch load. Same errors (Node's own, TIMEOUT, CANCELLED), same
 * per-request timeout, same default agent.
 */
export function getUrlLinear(req: FetchRequest, signal?: FetchCancelSignal): Promise<GetUrlResponse> {
  assert(signal == null || !signal.cancelled, "request cancelled before sending", "CANCELLED");
  const url = new URL(req.url);
  assert(url.protocol === "http:" || url.protocol === "https:", `unsupported protocol ${url.protocol}`, "UNSUPPORTED_OPERATION", {
    operation: "request",
  });
  const abort = new AbortController();
  const request = (url.protocol === "http:" ? http : https).request(url, {
    method: req.method,
    headers: { ...req.headers },
    signal: abort.signal,
  });
  request.setTimeout(req.timeout);
  if (req.body) request.write(Buffer.from(req.body));
  request.end();
  return new Promise((resolve, reject) => {
    signal?.addListener(() => {
      abort.abort();
      reject(makeError("request cancelled", "CANCELLED"));
    });
    request.on("timeout", () => reject(makeError("request timeout", "TIMEOUT")));
    request.on("error", reject);
    request.once("response", (resp) => {
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(resp.headers)) headers[k] = Array.isArray(v) ? v.join(", ") : (v ?? "");
      const chunks: Buffer[] = [];
      resp.on("data", (chunk: Buffer) => chunks.push(chunk));
      resp.on("error", reject);
      resp.on("end", () => {
        let body: Buffer | null = chunks.length ? Buffer.concat(chunks) : null;
        try {
          if (body && headers["content-encoding"] === "gzip") body = gunzipSync(body);
        } catch (error) {
          return reject(makeError("bad response data", "SERVER_ERROR", { request: req, info: { error } }));
        }
        resolve({
          statusCode: resp.statusCode ?? 0,
          statusMessage: resp.statusMessage ?? "",
          headers,
          body: body ? new Uint8Array(body.buffer, body.byteOffset, body.byteLength) : null,
        });
      });
    });
  });
}

/**
 * JSON-RPC bodies encoded and decoded by Node (native) instead of ethers' UTF-8 routines, which walk
 * the bytes one code point at a time in JavaScript: with 200-invoice batches (60 KB of calldata per
 * transaction, 200 logs per receipt) they took a third of the service's CPU. Otherwise the request
 * is ethers' own: the same FetchRequest (timeout, agent), the same HTTP status check.
 */
export function nativeJsonCoding(provider: JsonRpcProvider): void {
  provider._send = async (payload) => {
    const request = provider._getConnection();
    request.body = Buffer.from(JSON.stringify(payload), "utf8");
    request.setHeader("content-type", "application/json");
    const response = await request.send();
    response.assertOk();
    const body = response.body;
    let json: unknown;
    try {
      json = body ? JSON.parse(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString("utf8")) : null;
    } catch (err) {
      throw new Error(`the node at ${request.url} answered with a body that is not JSON: ${(err as Error).message}`);
    }
    return (Array.isArray(json) ? json : [json]) as Awaited<ReturnType<JsonRpcProvider["_send"]>>;
  };
}

/**
 * Re-sends a JSON-RPC request whose connection was dropped before any answer (ECONNRESET, "socket
 * hang up", EPIPE). Node's HTTP agent and a node's server both close idle keep-alive sockets after
 * about 5 s, and a request written onto a socket the server is closing at that moment is lost
 * without an answer. Re-sending is safe for every method the service uses: reads are idempotent
 * and a re-sent raw transaction is the same bytes ("already known").
 */
export function retryDroppedConnections(provider: JsonRpcProvider, retries = 3): void {
  const send = provider._send.bind(provider);
  provider._send = (payload) =>
    retry(
      async (bail) => {
        try {
          return await send(payload);
        } catch (err) {
          if (!isDroppedConnection(err)) bail(err as Error);
          throw err;
        }
      },
      { retries, minTimeout: 50, maxTimeout: 1_000, factor: 3 },
    );
}

export const CHAIN_SERVICE_FACTORY = {
  provide: ChainService,
  inject: [APP_CONFIG],
  useFactory: (config: AppConfig) => ChainService.connect(config),
};

