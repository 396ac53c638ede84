/**
 * Whether an address holds COMPLIANCE_OFFICER on the registry contract. The role lives only in the
 * contract's AccessControl state (granting it emits no membership event the indexer projects), so
 * it is read from the chain, and cached per address for a few seconds because the guard asks on
 * every authenticated request. A grant or revoke therefore takes effect within TTL_MS.
 *
 * If the chain cannot be read the answer fails closed (not an officer) and that answer is cached
 * like any other, so an unreachable node is asked once per TTL rather than on every request.
 * Compliance work needs the chain anyway, so an officer loses nothing that would have worked.
 */
import { Injectable, Logger } from "@nestjs/common";
import { id } from "ethers";
import { ChainService } from "../chain/chain.service";

export const COMPLIANCE_OFFICER_ROLE = id("COMPLIANCE_OFFICER");

/** The part of the registry binding this reader needs (a unit test can pass a fake). */
export interface RoleSource {
  contracts: { registry: { hasRole(role: string, account: string): Promise<boolean> } };
}

const MAX_ENTRIES = 10_000;

@Injectable()
export class ComplianceRoleReader {
  static readonly TTL_MS = 5_000;

  private readonly logger = new Logger(ComplianceRoleReader.name);
  private readonly cache = new Map<string, { value: boolean; at: number }>();
  private readonly inflight = new Map<string, Promise<boolean>>();
  /** Replaceable in tests. */
  now: () => number = () => Date.now();

  constructor(private readonly chain: ChainService) {}

  async isComplianceOfficer(address: string): Promise<boolean> {
    const hit = this.cache.get(address);
    if (hit && this.now() - hit.at < ComplianceRoleReader.TTL_MS) return hit.value;
    // Concurrent requests of one caller share a single chain read.
    const pending = this.inflight.get(address);
    if (pending) return pending;
    const read = this.read(address).finally(() => this.inflight.delete(address));
    this.inflight.set(address, read);
    return read;
  }

  private async read(address: string): Promise<boolean> {
    let value: boolean;
    try {
      value = await (this.chain as RoleSource).contracts.registry.hasRole(COMPLIANCE_OFFICER_ROLE, address);
    } catch (err) {
      value = false;
      this.logger.warn(`cannot read COMPLIANCE_OFFICER for ${address} from the chain (treated as absent): ${(err as Error).message}`);
    }
    if (this.cache.size >= MAX_ENTRIES) this.prune();
    this.cache.set(address, { value, at: this.now() });
    return value;
  }

  private prune(): void {
    const cutoff = this.now() - ComplianceRoleReader.TTL_MS;
    for (const [k, v] of this.cache) if (v.at < cutoff) this.cache.delete(k);
    // Still full of fresh entries (many distinct callers within one TTL): start over.
    if (this.cache.size >= MAX_ENTRIES) this.cache.clear();
  }
}
