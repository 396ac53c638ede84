/**
 * The indexer's log decoder reads static event arguments straight from topics and data words
 * (ethers' generic decoder was most of the indexer's CPU). For every event of the four ledger
 * ABIs, with generated argument values, its rows must carry exactly what ethers' decodeEventLog
 * gives, rendered the way the indexer always stored them (a struct's fields as arguments of their own).
 */
import { expect } from "chai";
import fc from "fast-check";
import { Interface, Wallet, hexlify, type EventFragment, type ParamType } from "ethers";
import {
  Financing__factory,
  ParticipantRegistry__factory,
  Receivables__factory,
  SettlementToken__factory,
} from "../../typechain-types";
import { LedgerLogDecoder, type ChainLog, type RpcBlock } from "../../services/src/indexer/ledger-log";
import { RECEIVABLE_ARG } from "../../services/src/read-model/projector";
import { receivableIdHex } from "../../shared/ids";

const ADDR = {
  ParticipantRegistry: Wallet.createRandom().address,
  SettlementToken: Wallet.createRandom().address,
  Receivables: Wallet.createRandom().address,
  Financing: Wallet.createRandom().address,
};
const ABIS = {
  ParticipantRegistry: ParticipantRegistry__factory.abi,
  SettlementToken: SettlementToken__factory.abi,
  Receivables: Receivables__factory.abi,
  Financing: Financing__factory.abi,
};
const TX = "0x" + "ab".repeat(32);
const BLOCK: RpcBlock = { number: "0x10", hash: "0x" + "cd".repeat(32), parentHash: "0x" + "ef".repeat(32), timestamp: "0x64", transactions: [{ hash: TX, from: ADDR.Receivables, transactionIndex: "0x0" }] };

function arbitraryFor(p: ParamType): fc.Arbitrary<unknown> {
  if (p.baseType === "tuple") return fc.tuple(...p.components!.map(arbitraryFor));
  const m = /^(address|bool|uint|int|bytes|string)(\d*)$/.exec(p.type);
  if (!m) throw new Error(`no generator for ${p.type}`);
  const bits = Number(m[2] || 256);
  switch (m[1]) {
    case "address":
      return fc.uint8Array({ minLength: 20, maxLength: 20 }).map((b) => hexlify(b));
    case "bool":
      return fc.boolean();
    case "uint":
      return fc.bigInt({ min: 0n, max: (1n << BigInt(bits)) - 1n });
    case "int":
      return fc.bigInt({ min: -(1n << BigInt(bits - 1)), max: (1n << BigInt(bits - 1)) - 1n });
    case "bytes":
      return m[2] ? fc.uint8Array({ minLength: bits, maxLength: bits }).map((b) => hexlify(b)) : fc.uint8Array({ maxLength: 80 }).map((b) => hexlify(b));
    default:
      return fc.string();
  }
}

describe("LedgerLogDecoder", function () {
  const decoder = new LedgerLogDecoder(ADDR);

  for (const [contract, abi] of Object.entries(ABIS) as Array<[keyof typeof ADDR, (typeof ABIS)[keyof typeof ABIS]]>) {
    const iface = new Interface(abi);
    const events: EventFragment[] = [];
    iface.forEachEvent((e) => events.push(e));
    for (const fragment of events) {
      it(`${contract}.${fragment.name}: the row's arguments equal ethers' decoding`, function () {
        fc.assert(
          fc.property(fc.tuple(...fragment.inputs.map(arbitraryFor)), (values) => {
            const { data, topics } = iface.encodeEventLog(fragment, values);
            const log: ChainLog = { address: ADDR[contract].toLowerCase(), topics, data, blockNumber: 16, blockHash: BLOCK.hash, transactionHash: TX, transactionIndex: 0, index: 3 };
            const row = decoder.decode(log, BLOCK);
            expect(row, "decoded").to.not.equal(null);
            const expected = iface.decodeEventLog(fragment, data, topics);
            const want: Record<string, string | boolean> = {};
            fragment.inputs.forEach((input, i) => {
              const v = expected[i] as unknown;
              if (input.baseType === "tuple") {
                // A struct's fields are arguments of their own; a top-level argument of the same name wins.
                input.components!.forEach((c, j) => {
                  const f = (v as unknown[])[j];
                  if (!(c.name in want)) want[c.name] = typeof f === "boolean" ? f : String(f);
                });
                return;
              }
              want[input.name] = typeof v === "boolean" ? v : String(v);
            });
            expect(row!.args).to.deep.equal(want);
            expect(row!.eventName).to.equal(fragment.name);
            expect(row!.contract).to.equal(contract);
            expect(row!.address).to.equal(ADDR[contract]);
            expect(row!.txFrom).to.equal(ADDR.Receivables);
            // The receivable id (read from its word where the fast path decoded it): the canonical form of the argument.
            const key = contract === "SettlementToken" ? undefined : RECEIVABLE_ARG.find((k) => fragment.inputs.some((i) => i.name === k));
            expect(row!.receivableId).to.equal(key && key in want ? receivableIdHex(want[key] as string) : null);
          }),
          { numRuns: 40 },
        );
      });
    }
  }

  it("ignores logs of other contracts, unknown topics and malformed data", function () {
    const iface = new Interface(ABIS.Receivables);
    const fragment = iface.getEvent("ReceivableAccepted")!;
    const { data, topics } = iface.encodeEventLog(fragment, fragment.inputs.map((p) => (p.type === "address" ? ADDR.Financing : 1n)));
    const base: ChainLog = { address: ADDR.Receivables, topics, data, blockNumber: 16, blockHash: BLOCK.hash, transactionHash: TX, transactionIndex: 0, index: 0 };
    expect(decoder.decode({ ...base, address: Wallet.createRandom().address }, BLOCK)).to.equal(null);
    expect(decoder.decode({ ...base, topics: ["0x" + "11".repeat(32), ...topics.slice(1)] }, BLOCK)).to.equal(null);
    expect(decoder.decode({ ...base, topics: topics.slice(0, 1) }, BLOCK)).to.equal(null);
  });
});
