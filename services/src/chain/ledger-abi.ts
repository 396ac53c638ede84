/**
 * The ledger's four contracts as the service reads them: one ethers `Interface` per contract for the
 * whole process, and contract objects built on it.
 *
 * Memory (docs/BENCHMARKS.md, "Where the service's memory goes"): each factory is imported from its
 * own file, because the `typechain-types` index loads all ~60 generated factories (OpenZeppelin's,
 * the importers', the test contracts'), each with its ABI as objects and its bytecode as a string,
 * for the life of the process. And an `Interface` holds a fragment object for every function,
 * event, error and parameter of its ABI (about 270 objects per contract): the service used to build
 * 19 of them for these four contracts (the error decoder, the HTTP error mapping, the indexer's
 * decoder, each write service and each connected contract its own). An Interface is read-only once
 * built, so one per contract serves them all.
 */
import { Contract, type ContractRunner } from "ethers";
import type { Financing, FinancingInterface } from "../../../typechain-types/contracts/financing/Financing";
import type { Receivables, ReceivablesInterface } from "../../../typechain-types/contracts/receivables/Receivables";
import type { ParticipantRegistry, ParticipantRegistryInterface } from "../../../typechain-types/contracts/registry/ParticipantRegistry";
import type { SettlementToken, SettlementTokenInterface } from "../../../typechain-types/contracts/settlement/SettlementToken";
import { Financing__factory } from "../../../typechain-types/factories/contracts/financing/Financing__factory";
import { Receivables__factory } from "../../../typechain-types/factories/contracts/receivables/Receivables__factory";
import { ParticipantRegistry__factory } from "../../../typechain-types/factories/contracts/registry/ParticipantRegistry__factory";
import { SettlementToken__factory } from "../../../typechain-types/factories/contracts/settlement/SettlementToken__factory";

export const RECEIVABLES_INTERFACE: ReceivablesInterface = Receivables__factory.createInterface();
export const FINANCING_INTERFACE: FinancingInterface = Financing__factory.createInterface();
export const REGISTRY_INTERFACE: ParticipantRegistryInterface = ParticipantRegistry__factory.createInterface();
export const TOKEN_INTERFACE: SettlementTokenInterface = SettlementToken__factory.createInterface();

/** The four, in the order custom errors are looked up (the receivables contract raises most). */
export const LEDGER_INTERFACES = [RECEIVABLES_INTERFACE, FINANCING_INTERFACE, REGISTRY_INTERFACE, TOKEN_INTERFACE] as const;

/** The ledger's contracts at `addresses`, on the shared interfaces (what each factory's `connect` does, on a new one). */
export function connectLedger(
  addresses: { ParticipantRegistry: string; SettlementToken: string; Receivables: string; Financing: string },
  runner: ContractRunner | null,
): { registry: ParticipantRegistry; token: SettlementToken; receivables: Receivables; financing: Financing } {
  return {
    registry: new Contract(addresses.ParticipantRegistry, REGISTRY_INTERFACE, runner) as unknown as ParticipantRegistry,
    token: new Contract(addresses.SettlementToken, TOKEN_INTERFACE, runner) as unknown as SettlementToken,
    receivables: new Contract(addresses.Receivables, RECEIVABLES_INTERFACE, runner) as unknown as Receivables,
    financing: new Contract(addresses.Financing, FINANCING_INTERFACE, runner) as unknown as Financing,
  };
}
