/**
 * The two-step protocol every participant-signed receivables act goes through, with the hooks each
 * kind of act adds around ActsService. Posted without a signature, an act answers the EIP-712 typed
 * data to sign (after the early checks, so nobody signs something that will be refused); posted again
 * with nonce, deadline and signature it is verified, simulated and queued for the relayer. A signed
 * act already accepted (same signer and nonce) skips every check and is answered as it was, so a
 * client can retry freely.
 *
 * One instance per process: its per-fingerprint locks are what keep two concurrent posts of the
 * same invoice (single or batch) from both being accepted.
 */
import { BadRequestException, Injectable } from "@nestjs/common";
import { InjectDataSource } from "@nestjs/typeorm";
import { getAddress } from "ethers";
import { DataSource } from "typeorm";
import { Receivables__factory } from "../../../typechain-types";
import { ActsService, type ActDraft, type SignatureFields, type UnsignedAct } from "../acts/acts.service";
import { actView, type ActResponseDto } from "../acts/dto/act.dto";
import { ActEntity } from "../acts/entities/act.entity";
import type { AuthUser } from "../auth/auth.decorators";
import type { UnsignedReceivableActDto } from "./dto/receivable-write.dto";

/** What a write endpoint answers: the typed data to sign (200) or the accepted act (202). */
export type WriteOutcome = { status: 200; body: UnsignedReceivableActDto } | { status: 202; body: ActResponseDto };

/** The Receivables contract's interface, to encode the `...BySig` calls the acts relay. */
export const IFACE = Receivables__factory.createInterface();

/** Extra steps around ActsService for one kind of act. */
export interface ActHooks {
  /** Early checks on the unsigned step only (the signed step's simulation is the authority). */
  hint?: () => Promise<void>;
  /** Checks on both steps (not on the replay of an accepted act). */
  check?: () => Promise<void>;
  /** Fingerprints to lock while `locked` runs and the act is inserted. */
  lockKeys?: string[];
  /** Checks that must see every act inserted before (run under the locks, signed step). */
  locked?: () => Promise<void>;
  /** Signed step, before the act is verified and recorded (e.g. relay a permit). */
  beforeSubmit?: () => Promise<void>;
  /** Signed step, once the act is recorded (or found again). */
  afterSubmit?: (act: ActEntity) => Promise<void>;
  /** Extra fields for the unsigned answer. */
  unsignedExtra?: (u: UnsignedAct) => Promise<Partial<UnsignedReceivableActDto>>;
}

@Injectable()
export class ReceivableActRunner {
  private readonly locks = new KeyedLocks();

  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly acts: ActsService,
  ) {}

  async run(user: AuthUser, draft: ActDraft, sig: SignatureFields, wait: boolean, hooks: ActHooks): Promise<WriteOutcome> {
    if (!sig.signature) {
      await hooks.hint?.();
      await hooks.check?.();
      // (ActsService.allocateNonce is one atomic upsert: concurrent requests of a signer get
      // distinct nonces without a lock here.)
      const u = await this.acts.prepare(user.address, draft, sig);
      return { status: 200, body: { ...(u as UnsignedReceivableActDto), ...(await hooks.unsignedExtra?.(u)) } };
    }
    if (sig.nonce === undefined || sig.deadline === undefined) {
      throw new BadRequestException("A signed act needs the nonce and deadline it was signed with.");
    }
    const nonce = BigInt(sig.nonce);
    if (nonce >= 2n ** 256n) throw new BadRequestException("nonce does not fit uint256.");
    // Acts store the nonce in canonical decimal ("007" was accepted as "7").
    let act = await this.ds.getRepository(ActEntity).findOneBy({ contract: draft.contract, signer: getAddress(user.address), nonce: nonce.toString() });
    if (act) {
      // A retry of an accepted act: ActsService answers it as it was, or 409 if the body changed.
      act = await this.acts.submit(user.address, draft, sig);
    } else {
      await hooks.check?.();
      await hooks.beforeSubmit?.();
      act = await this.locks.run(hooks.lockKeys ?? [], async () => {
        await hooks.locked?.();
        return this.acts.submit(user.address, draft, sig);
      });
    }
    await hooks.afterSubmit?.(act);
    if (wait) act = await this.acts.waitFor(act.id);
    return { status: 202, body: actView(act) };
  }
}

/** In-process locks keyed by string; several keys are taken in sorted order, so two callers never deadlock. */
class KeyedLocks {
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
