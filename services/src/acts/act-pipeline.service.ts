/**
 * The one protocol every participant-signed act goes through, for every feature. Posted without a
 * signature, an act answers 200 with the EIP-712 typed data to sign (after its early checks, so
 * nobody signs what will be refused); posted again with nonce, deadline and signature it is
 * verified, simulated and recorded with its outbox row (ActsService), answered 202 (with
 * `?wait=true` once confirmed and indexed, or failed). A signed act already recorded (same contract,
 * signer and nonce) skips every check and is answered as it was, so a client can retry freely.
 *
 * Features register their acts as ActSpecs (act-spec.ts) at module init; a name registered twice
 * is a defect and fails boot. One instance per process: its keyed locks let a second concurrent post
 * of the same invoice (single or batch) to this process be refused before it simulates anything;
 * across processes the act's claims (ActDraft.claims, inserted with the act) are the rule.
 */
import { BadRequestException, Injectable, type OnApplicationBootstrap } from "@nestjs/common";
import { DiscoveryService, MetadataScanner } from "@nestjs/core";
import { getAddress } from "ethers";
import { ChainService } from "../chain/chain.service";
import { revertDataOf } from "../chain/errors";
import { signedActOf, type ActAnswer, type ActInput, type ActPlan, type ActSpec } from "./act-spec";
import { ActsService, type SignatureFields } from "./acts.service";
import { actView } from "./dto/act.dto";
import type { ActEntity } from "./entities/act.entity";
import { PlanCache } from "./plan-cache";
import { parseLedgerError, revertToHttp } from "./revert-to-http";

@Injectable()
export class ActPipeline implements OnApplicationBootstrap {
  private readonly specs = new Map<string, ActSpec>();
  private readonly locks = new KeyedLocks();
  /** Plans of specs with `cachePlan`, from the unsigned post for the signed one (plan-cache.ts). */
  readonly plans = new PlanCache();

  constructor(
    private readonly acts: ActsService,
    private readonly chain: ChainService,
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
  ) {}

  /**
   * Every route bound with `@SignedAct("name")` names a registered act, checked once every module
   * has registered its own (module init), so a misspelt or unregistered act fails boot, not a request.
   */
  onApplicationBootstrap(): void {
    const missing: string[] = [];
    for (const wrapper of this.discovery.getControllers()) {
      const proto = wrapper.metatype?.prototype as Record<string, object> | undefined;
      if (!proto) continue;
      for (const method of this.scanner.getAllMethodNames(proto)) {
        const route = signedActOf(proto[method]);
        if (typeof route === "string" && !this.specs.has(route)) missing.push(`${wrapper.name}.${method} → ${route}`);
      }
    }
    if (missing.length) throw new Error(`routes bound to unregistered signed acts: ${missing.join(", ")}`);
  }

  /** Registers acts; a name already registered throws, so a duplicated act fails at boot. */
  register(...specs: Array<ActSpec<any>>): void { // eslint-disable-line @typescript-eslint/no-explicit-any -- each spec has its own body type
    for (const spec of specs) {
      if (this.specs.has(spec.name)) throw new Error(`signed act ${spec.name} is registered twice`);
      this.specs.set(spec.name, spec as ActSpec);
    }
  }

  /** The registered names, sorted (for the boot check of routes against specs). */
  names(): string[] {
    return [...this.specs.keys()].sort();
  }

  spec(name: string): ActSpec {
    const spec = this.specs.get(name);
    if (!spec) throw new Error(`no signed act ${name} is registered`);
    return spec;
  }

  /** Runs act `name` for one request: the typed data to sign, the accepted act, or a kept offer. */
  async run(name: string, input: ActInput): Promise<ActAnswer> {
    const spec = this.spec(name);
    try {
      return input.body.signature ? await this.signed(spec, input) : await this.unsigned(spec, input);
    } catch (err) {
      throw spec.refusal ? spec.refusal(err) : err;
    }
  }

  private async unsigned(spec: ActSpec, input: ActInput): Promise<ActAnswer> {
    const plan = await this.plan(spec, input, false);
    await spec.beforeSigning?.(input, plan);
    await spec.check?.(input, plan, false);
    if (plan.direct) await this.simulateDirect(input.user.address, plan);
    // (ActsService.allocateNonce is one atomic upsert: concurrent requests of a signer get
    // distinct nonces without a lock here.)
    const u = await this.acts.prepare(input.user.address, plan, this.signatureFields(input.body, plan));
    return { status: 200, body: { ...u, ...(await spec.unsignedExtra?.(input, u)) } };
  }

  private async signed(spec: ActSpec, input: ActInput): Promise<ActAnswer> {
    const replay = spec.keep ? false : await this.isRecorded(spec, input.user.address, input.body);
    const plan = await this.plan(spec, input, replay);
    const sig = this.signatureFields(input.body, plan);
    requireSignedFields(sig);
    if (spec.keep) return { status: 201, body: await spec.keep(input, plan) };
    let act: ActEntity;
    if (replay) {
      // ActsService answers the recorded act as it was, or 409 if the body changed.
      act = await this.acts.submit(input.user.address, plan, sig);
    } else {
      const extra = await spec.check?.(input, plan, true);
      if (extra) plan.result = { ...plan.result, ...extra };
      await spec.beforeSubmit?.(input, plan);
      act = await this.locks.run(spec.lockKeys?.(input, plan) ?? [], async () => {
        await spec.underLock?.(input, plan);
        return this.acts.submit(input.user.address, plan, sig);
      });
    }
    if (spec.cachePlan) this.plans.forget(input);
    await spec.afterRecorded?.(input, act);
    if (input.wait) act = await this.acts.waitFor(act.id);
    return { status: 202, body: actView(act) };
  }

  private async plan(spec: ActSpec, input: ActInput, replay: boolean): Promise<ActPlan> {
    const fields = spec.cachePlan
      ? await this.plans.get(spec.name, input, async () => ({ ...(await spec.plan(input, replay)), digests: new Map<string, string>() }))
      : await spec.plan(input, replay);
    return { kind: spec.kind, contract: spec.contract, primaryType: spec.primaryType, ...fields };
  }

  private signatureFields(body: SignatureFields, plan: ActPlan): SignatureFields {
    return plan.signWith ? { ...body, ...plan.signWith } : body;
  }

  /** The one "already recorded?" question: this signer's act with the posted nonce exists on the spec's contract. */
  private async isRecorded(spec: ActSpec, signer: string, sig: SignatureFields): Promise<boolean> {
    if (sig.nonce === undefined || !/^\d{1,78}$/.test(sig.nonce)) return false;
    const nonce = BigInt(sig.nonce);
    if (nonce >= 2n ** 256n) return false;
    return this.acts.isRecorded(spec.contract, getAddress(signer), nonce);
  }

  /**
   * Runs the direct function from the signer against the latest state. A decoded ledger error is
   * the answer; anything else (a node that will not simulate for this sender, transport trouble)
   * is left to the signed step, which simulates the relayed call itself.
   */
  private async simulateDirect(from: string, plan: ActPlan): Promise<void> {
    const to = plan.contract === "Receivables" ? this.chain.addresses.Receivables : this.chain.addresses.Financing;
    try {
      await this.chain.provider.call({ from, to, data: plan.direct });
    } catch (err) {
      const revert = revertDataOf(err);
      const parsed = parseLedgerError(revert);
      if (parsed) throw revertToHttp(parsed, revert!.slice(0, 10));
    }
  }
}

/** A signed post names the nonce and deadline it was signed with, as a uint256 nonce. */
function requireSignedFields(sig: SignatureFields): void {
  if (sig.nonce === undefined || sig.deadline === undefined) {
    throw new BadRequestException("A signed act needs the nonce and deadline it was signed with.");
  }
  if (/^\d{1,78}$/.test(sig.nonce) && BigInt(sig.nonce) >= 2n ** 256n) throw new BadRequestException("nonce does not fit uint256.");
}

/** In-process locks keyed by string; several keys are taken in sorted order, so two callers never deadlock. */
export class KeyedLocks {
  private readonly tails = new Map<string, Promise<void>>();

  async run<T>(keys: string[], fn: () => Promise<T>): Promise<T> {
    const releases: Array<() => void> = [];
    try {
      for (const k of [...new Set(keys)].sort()) releases.push(await this.acquire(k));
      return await fn();
    } finally {
      for (const r of releases.reverse()) r();
    }
  }

  private async acquire(key: string): Promise<() => void> {
    const prev = this.tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((r) => (release = r));
    const tail = prev.then(() => mine);
    this.tails.set(key, tail);
    await prev;
    return () => {
      release();
      if (this.tails.get(key) === tail) this.tails.delete(key);
    };
  }
}
