import { expect } from "chai";
import { AbiCoder, Interface, JsonRpcProvider, Network, makeError, type JsonRpcError, type JsonRpcPayload } from "ethers";
import {
  Financing__factory,
  ParticipantRegistry__factory,
  Receivables__factory,
  SettlementToken__factory,
} from "../../typechain-types";
import {
  decodeRevertData,
  describeError,
  isAlreadySubmitted,
  isDroppedConnection,
  isRetryable,
  isRevert,
  revertDataOf,
  rpcMessageOf,
} from "../../services/src/chain/errors";

const registry = new Interface(ParticipantRegistry__factory.abi);
const receivables = new Interface(Receivables__factory.abi);
const financing = new Interface(Financing__factory.abi);
const token = new Interface(SettlementToken__factory.abi);
const ACCOUNT = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
const ROLE = "0x" + "ab".repeat(32);
const TX_HASH = "0x4dd9077a89d02baa3582e1e4f6900c32c160a513d19c53605cc7cba15e17a6f0";

/** ethers' own translation of a node's JSON-RPC error, as JsonRpcProvider throws it. */
const network = Network.from(31337);
const provider = new JsonRpcProvider("http://127.0.0.1:9", network, { staticNetwork: network });
function fromNode(method: string, error: { code: number; message: string; data?: unknown }): Error {
  const payload: JsonRpcPayload = { method, params: [method === "eth_sendRawTransaction" ? "0x02" : { to: ACCOUNT, data: "0x" }], id: 1, jsonrpc: "2.0" };
  const response: JsonRpcError = { id: 1, error };
  return provider.getRpcError(payload, response);
}

function callException(data: string | null): Error {
  return makeError("execution reverted", "CALL_EXCEPTION", {
    action: "estimateGas",
    data,
    reason: null,
    transaction: { to: ACCOUNT, data: "0x" },
    invocation: null,
    revert: null,
  });
}

function refused(): Error {
  return Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:8545"), { code: "ECONNREFUSED", errno: -111, syscall: "connect" });
}

describe("chain errors (services/src/chain/errors.ts)", function () {
  after(function () {
    provider.destroy();
  });

  describe("decodeRevertData", function () {
    it("decodes each ledger contract's custom errors with their arguments", function () {
      expect(decodeRevertData(registry.encodeErrorResult("RegistryMemberExists", [ACCOUNT]))).to.equal(`RegistryMemberExists(${ACCOUNT})`);
      expect(decodeRevertData(receivables.encodeErrorResult("ReceivableInvalidStatus", [123n, 2]))).to.equal("ReceivableInvalidStatus(123, 2)");
      expect(decodeRevertData(financing.encodeErrorResult("CreditLineLimitExceeded", [1n, 2n, 3n, 4n]))).to.equal(
        "CreditLineLimitExceeded(1, 2, 3, 4)",
      );
      expect(decodeRevertData(token.encodeErrorResult("ERC20InsufficientBalance", [ACCOUNT, 5n, 7n]))).to.equal(
        `ERC20InsufficientBalance(${ACCOUNT}, 5, 7)`,
      );
      expect(decodeRevertData(registry.encodeErrorResult("AccessControlUnauthorizedAccount", [ACCOUNT, ROLE]))).to.equal(
        `AccessControlUnauthorizedAccount(${ACCOUNT}, ${ROLE})`,
      );
      expect(decodeRevertData(financing.encodeErrorResult("CreditLineIdsExhausted", []))).to.equal("CreditLineIdsExhausted()");
    });

    it("decodes Solidity's built-in Error(string) and Panic(uint256)", function () {
      const error = "0x08c379a0" + AbiCoder.defaultAbiCoder().encode(["string"], ["boom"]).slice(2);
      const panic = "0x4e487b71" + AbiCoder.defaultAbiCoder().encode(["uint256"], [0x11]).slice(2);
      expect(decodeRevertData(error)).to.equal("Error(boom)");
      expect(decodeRevertData(panic)).to.equal("Panic(17)");
    });

    it("names an unknown selector or malformed data by its selector, and returns null for no data", function () {
      expect(decodeRevertData("0xdeadbeef00")).to.equal("unknown revert data 0xdeadbeef");
      const truncated = registry.encodeErrorResult("RegistryMemberExists", [ACCOUNT]).slice(0, 20);
      expect(decodeRevertData(truncated)).to.equal(`unknown revert data ${truncated.slice(0, 10)}`);
      expect(decodeRevertData("0x")).to.equal(null);
      expect(decodeRevertData(null)).to.equal(null);
      expect(decodeRevertData(undefined)).to.equal(null);
    });
  });

  describe("revertDataOf and rpcMessageOf", function () {
    const data = registry.encodeErrorResult("RegistryUnknownMember", [ACCOUNT]);

    it("find revert data at the top, in info.error and in a nested error object", function () {
      expect(revertDataOf(callException(data))).to.equal(data);
      expect(revertDataOf({ info: { error: { data } } })).to.equal(data);
      expect(revertDataOf({ error: { data: { message: "reverted", data } } })).to.equal(data);
      expect(revertDataOf(fromNode("eth_estimateGas", { code: 3, message: "execution reverted", data }))).to.equal(data);
      expect(revertDataOf(refused())).to.equal(null);
      expect(revertDataOf(null)).to.equal(null);
    });

    it("find the node's own message nested in an ethers error", function () {
      const known = fromNode("eth_sendRawTransaction", { code: -32000, message: `Known transaction: ${TX_HASH}` });
      expect(rpcMessageOf(known)).to.equal(`Known transaction: ${TX_HASH}`);
      expect(rpcMessageOf(refused())).to.equal(null);
    });
  });

  describe("isRevert", function () {
    it("is true for a CALL_EXCEPTION, with or without data, and for any error carrying revert data", function () {
      expect(isRevert(callException(registry.encodeErrorResult("RegistryMemberExists", [ACCOUNT])))).to.equal(true);
      expect(isRevert(callException(null))).to.equal(true);
      expect(isRevert(fromNode("eth_estimateGas", { code: 3, message: "execution reverted", data: "0x12345678" }))).to.equal(true);
      expect(isRevert({ error: { data: { data: "0x12345678" } } })).to.equal(true);
    });

    it("is false for transport failures and refusals of a raw transaction", function () {
      expect(isRevert(refused())).to.equal(false);
      expect(isRevert(makeError("network down", "NETWORK_ERROR", { event: "x" }))).to.equal(false);
      expect(isRevert(fromNode("eth_sendRawTransaction", { code: -32000, message: "Nonce too low. Expected nonce to be 2 but got 1." }))).to.equal(false);
      expect(isRevert(fromNode("eth_sendRawTransaction", { code: -32000, message: `Known transaction: ${TX_HASH}`, data: { message: "Known transaction" } }))).to.equal(
        false,
      );
    });
  });

  describe("isRetryable", function () {
    it("is true for transport trouble: refused or reset connections, timeouts, server and network errors", function () {
      expect(isRetryable(refused())).to.equal(true);
      expect(isRetryable(Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET" }))).to.equal(true);
      expect(isRetryable(new Error("socket hang up"))).to.equal(true);
      expect(isRetryable(new TypeError("fetch failed"))).to.equal(true);
      expect(isRetryable(makeError("request timeout", "TIMEOUT", { operation: "request", reason: "timeout" }))).to.equal(true);
      expect(isRetryable(makeError("bad response", "SERVER_ERROR", { request: null as never, response: null as never }))).to.equal(true);
      expect(isRetryable(makeError("network changed", "NETWORK_ERROR", { event: "changed" }))).to.equal(true);
      expect(isRetryable(new Error("503 Service Unavailable"))).to.equal(true);
    });

    it("is false for reverts and for the node's refusals, which are final", function () {
      expect(isRetryable(callException(registry.encodeErrorResult("RegistryMemberExists", [ACCOUNT])))).to.equal(false);
      expect(isRetryable(fromNode("eth_estimateGas", { code: 3, message: "execution reverted", data: "0x12345678" }))).to.equal(false);
      expect(isRetryable(fromNode("eth_sendRawTransaction", { code: -32000, message: "Nonce too low. Expected nonce to be 2 but got 1." }))).to.equal(false);
      expect(isRetryable(fromNode("eth_sendRawTransaction", { code: -32000, message: "insufficient funds for gas * price + value" }))).to.equal(false);
      expect(isRetryable(new Error("invalid raw transaction"))).to.equal(false);
      // A network timeout hidden in a revert is still a revert.
      expect(isRetryable(Object.assign(callException("0x12345678"), { message: "network timeout" }))).to.equal(false);
    });
  });

  describe("isDroppedConnection", function () {
    it("is true for a connection dropped before an answer, at the top or in a nested cause", function () {
      expect(isDroppedConnection(new Error("socket hang up"))).to.equal(true);
      expect(isDroppedConnection(Object.assign(new Error("fetch failed"), { cause: Object.assign(new Error("read"), { code: "ECONNRESET" }) }))).to.equal(true);
      expect(isDroppedConnection(new Error("write EPIPE"))).to.equal(true);
    });
    it("is false for timeouts, refusals and reverts (not safe or not useful to re-send at once)", function () {
      expect(isDroppedConnection(new Error("request timeout"))).to.equal(false);
      expect(isDroppedConnection(new Error("connect ECONNREFUSED 127.0.0.1:8545"))).to.equal(false);
      expect(isDroppedConnection(new Error("execution reverted"))).to.equal(false);
    });
  });

  describe("isAlreadySubmitted", function () {
    it("recognises 'known transaction', 'already known' and a spent nonce, however ethers wraps them", function () {
      expect(isAlreadySubmitted(fromNode("eth_sendRawTransaction", { code: -32000, message: `Known transaction: ${TX_HASH}` }))).to.equal(true);
      expect(isAlreadySubmitted(fromNode("eth_sendRawTransaction", { code: -32000, message: "already known" }))).to.equal(true);
      expect(isAlreadySubmitted(fromNode("eth_sendRawTransaction", { code: -32000, message: "Nonce too low. Expected nonce to be 2 but got 1." }))).to.equal(true);
      expect(isAlreadySubmitted(makeError("nonce has already been used", "NONCE_EXPIRED", { transaction: {} }))).to.equal(true);
      expect(isAlreadySubmitted(new Error("transaction already imported"))).to.equal(true);
    });

    it("does not take other refusals or transport errors for a previous submission", function () {
      expect(isAlreadySubmitted(fromNode("eth_sendRawTransaction", { code: -32000, message: "replacement transaction underpriced" }))).to.equal(false);
      expect(isAlreadySubmitted(fromNode("eth_sendRawTransaction", { code: -32000, message: "Nonce too high. Expected nonce to be 2 but got 4." }))).to.equal(false);
      expect(isAlreadySubmitted(refused())).to.equal(false);
      expect(isAlreadySubmitted(callException(null))).to.equal(false);
      expect(isAlreadySubmitted(null)).to.equal(false);
    });
  });

  describe("describeError", function () {
    it("names a revert by its decoded custom error", function () {
      const data = registry.encodeErrorResult("RegistryMemberExists", [ACCOUNT]);
      expect(describeError(callException(data))).to.equal(`reverted: RegistryMemberExists(${ACCOUNT})`);
      expect(describeError(fromNode("eth_estimateGas", { code: 3, message: "execution reverted", data }))).to.equal(
        `reverted: RegistryMemberExists(${ACCOUNT})`,
      );
      expect(describeError(callException("0xdeadbeef"))).to.equal("reverted: unknown revert data 0xdeadbeef");
    });

    it("adds what the node said when ethers could only say 'could not coalesce error'", function () {
      const known = fromNode("eth_sendRawTransaction", { code: -32000, message: `Known transaction: ${TX_HASH}` });
      expect(describeError(known)).to.equal(`could not coalesce error: Known transaction: ${TX_HASH}`);
      const low = fromNode("eth_sendRawTransaction", { code: -32000, message: "Nonce too low. Expected nonce to be 2 but got 1." });
      expect(describeError(low)).to.equal("nonce has already been used: Nonce too low. Expected nonce to be 2 but got 1.");
    });

    it("falls back to the short message, the message, or the value itself", function () {
      expect(describeError(makeError("request timeout", "TIMEOUT", { operation: "request", reason: "timeout" }))).to.equal("request timeout");
      expect(describeError(refused())).to.equal("connect ECONNREFUSED 127.0.0.1:8545");
      expect(describeError("plain text")).to.equal("plain text");
      expect(describeError(callException(null))).to.equal("execution reverted");
    });
  });
});
