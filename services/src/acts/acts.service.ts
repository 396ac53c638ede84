/**
 * Participants' signed acts, end to end: build the EIP-712 typed data for the client to sign
 * (with a nonce the service proposes), verify a returned signature (ECDSA or ERC-1271), simulate
 * the relayed call so the contract's own refusal reaches the client as a clear HTTP error, then
 * record the act, its outbox transaction (relayer key) and its claims (keys only one pending act
 * may hold, e.g. an invoice being tokenised) in one database transaction. The act moves
 * pending -> confirmed | failed when the transaction settles, and its claims are released then.
 * The same signed act (same contract, signer and nonce) is accepted once; posting it again returns
 * the first act. Routes do not call this directly: ActPipeline (act-pipeline.service.ts) runs each
 * feature's declared acts through it.
 */
import { readsEverything } from "../audit/read-scope";
import { randomUUID } from "node:crypto";
import {
  BadRequestException,
  ConflictException,
  ForbiddenException,
  Inject,
  Injectable,
  Logger,
  NotFoundException,
  UnprocessableEntityException,
  type OnModuleInit,
} from "@nestjs/common";
import { InjectRepository } from "@nestjs/typeorm";
import { Interface, getAddress, type JsonRpcApiProvider, type JsonRpcTransactionRequest, type TransactionReceipt, type TypedDataField } from "ethers";
import { type EntityManager, type Repository } from "typeorm";
import type { QueryDeepPartialEntity } from "typeorm/query-builder/QueryPartialEntity";
import type { AuthUser } from "../auth/auth.decorators";
import { ChainService } from "../chain/chain.service";
import { revertDataOf } from "../chain/errors";
import { FINANCING_DOMAIN, FINANCING_TYPES, RECEIVABLES_DOMAIN, RECEIVABLES_STATEMENT_TYPES, RECEIVABLES_TYPES, typesForClients } from "../../../shared/eip712";
import { APP_CONFIG, type AppConfig } from "../config/env";
import { insertRows } from "../database/bulk";
import { inList } from "../database/raw-rows";
import { DbWriter } from "../database/db-writer";
import { IndexerService } from "../indexer/indexer.service";
import type { OutboxEntity } from "../outbox/entities/outbox.entity";
import { TxSenderService } from "../outbox/tx-sender.service";
import { ActClaimEntity, ActEntity, type ActContract } from "./entities/act.entity";
import { recoverSigner } from "./ecdsa";
import { typedDataDigest } from "./typed-data-digest";
import { bindActToRequestKey } from "./idempotency-keys";
import { invalidSignature, parseLedgerError, revertToHttp } from "./revert-to-http";

export const ACT_REFERENCE = "act";
const ERC1271_MAGIC = "0x1626ba7e";
const ERC1271 = new Interface(["function isValidSignature(bytes32 hash, bytes signature) view returns (bytes4)"]);
const DEFAULT_DEADLINE_SECONDS = 3600;
const MAX_DEADLINE_SECONDS = 7 * 86400;

/** What a feature hands over to sign and relay one act. */
export interface ActDraft {
  kind: string;
  contract: ActContract;
  primaryType: string;
  /** The act's fields except nonce and deadline (bigints allowed). */
  message: Record<string, unknown>;
  /** Calldata of the `…BySig` function given the authorization tuple. */
  encode(auth: { nonce: bigint; deadline: bigint; signature: string }): string;
  receivableId?: string | null;
  lineId?: number | null;
  result?: Record<string, unknown> | null;
  /**
   * Runs in the database transaction that records the act and its relay transaction; throwing
   * records neither (e.g. a conditional update that finds its row taken by a concurrent act).
   */
  record?: (m: EntityManager, act: ActEntity) => Promise<void>;
  /**
   * Keys at most one pending act may hold (an invoice being tokenised: `receivable:<id>`), claimed in
   * the transaction that records the act (table act_claims, primary key on the key) and released in
   * the one that settles it. A key another act holds refuses the act with ClaimTakenError and records
   * nothing, across processes sharing the database.
   */
  claims?: string[];
  /**
   * EIP-712 digests of this draft's message by "nonce:deadline", filled by prepare and read by
   * submit, for a draft the signed post reuses from its unsigned post (plan-cache.ts): the digest is
   * a pure function of the message, nonce and deadline (the domain is fixed for the process).
   */
  digests?: Map<string, string>;
}

/** The act was not recorded: a pending act (of this or another process) holds these claim keys. */
export class ClaimTakenError extends Error {
  constructor(readonly keys: string[]) {
    super(`claim keys held by a pending act: ${keys.join(", ")}`);
    this.name = "ClaimTakenError";
  }
}

/** Claim rows per INSERT statement (3 parameters each, well under both engines' limits). */
const CLAIMS_PER_STATEMENT = 500;

/**
 * Derives what a mined act produced from its receipt (e.g. the id of a new credit line, known only
 * once mined). Pure: it reads the receipt's logs and returns fields to set on the act; `result` is
 * merged into the act's result.
 */
export type ConfirmationHook = (
  receipt: TransactionReceipt,
  act: ActEntity,
) => { result?: Record<string, unknown>; lineId?: number | null; receivableId?: string | null };

export interface SignatureFields {
  nonce?: string;
  deadline?: string;
  signature?: string;
}

export interface TypedDataPayload {
  domain: { name: string; version: string; chainId: string; verifyingContract: string };
  types: Record<string, TypedDataField[]>;
  primaryType: string;
  message: Record<string, unknown>;
}

export interface UnsignedAct {
  status: "unsigned";
  kind: string;
  typedData: TypedDataPayload;
  /** SHA-256-free EIP-712 digest the signature must cover. */
  digest: string;
}

@Injectable()
export class ActsService implements OnModuleInit {
  private readonly logger = new Logger(ActsService.name);
  private readonly confirmationHooks = new Map<string, ConfirmationHook>();
  /** The last eth_estimateGas answer per relayed call shape (simulateRelayed). */
  private readonly estimates = new Map<string, bigint>();
  /** The eth_estimateGas in flight per shape, settling to its figure or undefined if it failed. */
  private readonly estimating = new Map<string, Promise<bigint | undefined>>();

  constructor(
    @InjectRepository(ActEntity) private readonly acts: Repository<ActEntity>,
    @InjectRepository(ActClaimEntity) private readonly claims: Repository<ActClaimEntity>,
    private readonly db: DbWriter,
    private readonly chain: ChainService,
    private readonly sender: TxSenderService,
    private readonly indexer: IndexerService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    this.sender.onCompletion(ACT_REFERENCE, (row, m) => this.onSettled(row, m));
  }

  /**
   * Registers how to complete acts of `kind` once mined. The hook runs in the database transaction
   * that marks the act confirmed, so a confirmed act always carries its result.
   */
  onConfirmed(kind: string, hook: ConfirmationHook): void {
    this.confirmationHooks.set(kind, hook);
  }

  /** Domains and types of every act, for clients that build typed data themselves. */
  /** GET /eip712: the domains, every act's types, and the off-chain statements signed under the Receivables domain. */
  describe(): {
    receivables: { domain: TypedDataPayload["domain"]; types: typeof RECEIVABLES_TYPES; statements: typeof RECEIVABLES_STATEMENT_TYPES };
    financing: { domain: TypedDataPayload["domain"]; types: typeof FINANCING_TYPES };
  } {
    return {
      receivables: { domain: this.domain("Receivables"), types: RECEIVABLES_TYPES, statements: RECEIVABLES_STATEMENT_TYPES },
      financing: { domain: this.domain("Financing"), types: FINANCING_TYPES },
    };
  }

  domain(contract: ActContract): TypedDataPayload["domain"] {
    const base = contract === "Receivables" ? RECEIVABLES_DOMAIN : FINANCING_DOMAIN;
    return {
      name: base.name,
      version: base.version,
      chainId: this.chain.chainId.toString(),
      verifyingContract: contract === "Receivables" ? this.chain.addresses.Receivables : this.chain.addresses.Financing,
    };
  }

  private types(contract: ActContract, primaryType: string): Record<string, TypedDataField[]> {
    // Off-chain statements (a dispute) sign under the Receivables domain too.
    const table = (contract === "Receivables" ? { ...RECEIVABLES_TYPES, ...RECEIVABLES_STATEMENT_TYPES } : FINANCING_TYPES) as Record<
      string,
      Record<string, TypedDataField[]>
    >;
    const t = table[primaryType];
    if (!t) throw new Error(`unknown act type ${contract}.${primaryType}`);
    return t;
  }

  /** Whether `signer`'s act with `nonce` on `contract` is recorded (a signed post seen before). */
  async isRecorded(contract: ActContract, signer: string, nonce: bigint): Promise<boolean> {
    return (await this.recordedDigest(contract, signer, nonce)) !== null;
  }

  /**
   * The digest of `signer`'s act with `nonce` on `contract`, or null: one plain indexed SELECT
   * (ux_acts_nonce) on every signed post, without the query builder.
   */
  private async recordedDigest(contract: ActContract, signer: string, nonce: bigint): Promise<string | null> {
    const sql = this.db.isPostgres
      ? "SELECT typed_data_hash FROM acts WHERE contract = $1 AND signer = $2 AND nonce = $3"
      : "SELECT typed_data_hash FROM acts WHERE contract = ? AND signer = ? AND nonce = ?";
    const rows = (await this.db.manager.query(sql, [contract, signer, nonce.toString()])) as Array<{ typed_data_hash: string }>;
    return rows[0]?.typed_data_hash ?? null;
  }

  /** The typed data `signer` must sign for `draft`, with a proposed nonce and deadline. */
  async prepare(signer: string, draft: ActDraft, sig: SignatureFields): Promise<UnsignedAct> {
    const nonce = sig.nonce !== undefined ? parseUint(sig.nonce, "nonce") : await this.allocateNonce(draft.contract, signer);
    const deadline =
      sig.deadline !== undefined ? parseUint(sig.deadline, "deadline") : BigInt(Math.floor(Date.now() / 1000) + DEFAULT_DEADLINE_SECONDS);
    const typedData = this.typedData(draft, nonce, deadline);
    return {
      status: "unsigned",
      kind: draft.kind,
      typedData: jsonSafe({ ...typedData, types: typesForClients(typedData.domain, typedData.types) }) as TypedDataPayload,
      digest: this.digestOf(draft, typedData, nonce, deadline),
    };
  }

  /** The typed data's digest, from the draft's memo when it was computed for this nonce and deadline. */
  private digestOf(draft: Pick<ActDraft, "digests">, typed: TypedDataPayload, nonce: bigint, deadline: bigint): string {
    const key = `${nonce}:${deadline}`;
    const known = draft.digests?.get(key);
    if (known) return known;
    const digest = typedDataDigest(typed.domain, typed.types, typed.message);
    if (draft.digests) {
      if (draft.digests.size >= 8) draft.digests.clear(); // a plan is signed once or twice; never let it grow
      draft.digests.set(key, digest);
    }
    return digest;
  }

  private typedData(draft: Pick<ActDraft, "contract" | "primaryType" | "message">, nonce: bigint, deadline: bigint): TypedDataPayload {
    return {
      domain: this.domain(draft.contract),
      types: this.types(draft.contract, draft.primaryType),
      primaryType: draft.primaryType,
      message: { ...draft.message, nonce, deadline },
    };
  }

  /**
   * The checks of a signed act without recording it: nonce, deadline and signature fields well
   * formed, deadline in the future and at most MAX_DEADLINE_SECONDS out, and `signer`'s signature
   * (ECDSA or ERC-1271) over the draft's typed data. Returns the parsed fields and the digest.
   */
  async checkSigned(
    signerAddress: string,
    draft: Pick<ActDraft, "contract" | "primaryType" | "message">,
    sig: SignatureFields,
  ): Promise<{ nonce: bigint; deadline: bigint; signature: string; digest: string; message: Record<string, unknown> }> {
    const { nonce, deadline, signature, digest, message } = this.parseSigned(draft, sig);
    await this.verifySignature(getAddress(signerAddress), digest, signature);
    return { nonce, deadline, signature, digest, message };
  }

  private parseSigned(draft: Pick<ActDraft, "contract" | "primaryType" | "message" | "digests">, sig: SignatureFields) {
    if (sig.nonce === undefined || sig.deadline === undefined) {
      throw new BadRequestException("A signed act needs the nonce and deadline it was signed with.");
    }
    const nonce = parseUint(sig.nonce, "nonce");
    const deadline = parseUint(sig.deadline, "deadline");
    const signature = sig.signature ?? "";
    if (!/^0x([0-9a-fA-F]{2})+$/.test(signature)) throw new BadRequestException("signature must be 0x-prefixed hex.");
    const now = BigInt(Math.floor(Date.now() / 1000));
    if (deadline <= now) throw new UnprocessableEntityException("The signature's deadline has passed; ask for new typed data and sign again.");
    if (deadline > now + BigInt(MAX_DEADLINE_SECONDS)) {
      throw new UnprocessableEntityException(`The deadline may be at most ${MAX_DEADLINE_SECONDS / 86400} days out.`);
    }
    const typed = this.typedData(draft, nonce, deadline);
    const digest = this.digestOf(draft, typed, nonce, deadline);
    return { nonce, deadline, signature, digest, message: typed.message };
  }

  /** Verifies, simulates and records a signed act with its relay transaction. */
  async submit(signerAddress: string, draft: ActDraft, sig: SignatureFields): Promise<ActEntity> {
    const signer = getAddress(signerAddress);
    const { nonce, deadline, signature, digest, message } = this.parseSigned(draft, sig);

    const recorded = await this.recordedDigest(draft.contract, signer, nonce);
    if (recorded !== null) {
      if (recorded === digest) return this.acts.findOneByOrFail({ contract: draft.contract, signer, nonce: nonce.toString() });
      throw new ConflictException(`Nonce ${nonce} of ${signer} was already used for another act; ask for new typed data.`);
    }
    await this.verifySignature(signer, digest, signature);

    const to = draft.contract === "Receivables" ? this.chain.addresses.Receivables : this.chain.addresses.Financing;
    const data = draft.encode({ nonce, deadline, signature });
    const gasEstimate = await this.simulateRelayed(this.chain.relayerFor(signer).address, to, data);

    const id = randomUUID();
    try {
      return await this.db.write(async (m) => {
        const row = await this.sender.enqueue(m, {
          signer: "relayer",
          relayFor: signer,
          to,
          data,
          kind: `${draft.contract.toLowerCase()}.${draft.kind}`,
          referenceType: ACT_REFERENCE,
          referenceId: id,
          gasEstimate,
        });
        const t = Date.now();
        const act = m.create(ActEntity, {
          id,
          kind: draft.kind,
          contract: draft.contract,
          signer,
          nonce: nonce.toString(),
          deadline: Number(deadline),
          primaryType: draft.primaryType,
          message: jsonSafe(message) as Record<string, unknown>,
          signature,
          typedDataHash: digest,
          receivableId: draft.receivableId ?? null,
          lineId: draft.lineId ?? null,
          status: "pending",
          outboxId: row.id,
          txHash: null,
          blockNumber: null,
          failureReason: null,
          result: draft.result ? (jsonSafe(draft.result) as Record<string, unknown>) : null,
          createdAt: t,
          updatedAt: t,
        });
        await insertRows(m, ActEntity, [act]); // one plain INSERT (bulk.ts), not save's SELECT-then-INSERT
        if (draft.claims?.length) await this.claim(m, id, draft.claims, t);
        await bindActToRequestKey(m, id);
        if (draft.record) await draft.record(m, act);
        return act;
      });
    } catch (err) {
      const again = await this.acts.findOneBy({ contract: draft.contract, signer, nonce: nonce.toString() });
      if (again?.typedDataHash === digest) return again; // a concurrent identical post won
      if (again) throw new ConflictException(`Nonce ${nonce} of ${signer} was already used for another act.`);
      throw err;
    }
  }

  /**
   * Simulates the relayed call against the last block (like the unsigned step's simulation:
   * transactions still in the pool are not the ledger yet) and returns the gas figure the sender
   * signs with (gasLimitFor adds its headroom). A revert is refused with the ledger's decoded error.
   *
   * Estimating is simulating, but eth_estimateGas executes the call several times (a 200-invoice
   * batch: about three executions on Hardhat's EDR, each ~60-90 ms of the node's CPU). So when an
   * act of the same shape (contract, function, calldata length) was estimated before, one eth_call
   * with that estimate plus 2 % as its gas limit comes first: if it succeeds, the call needs at most
   * that much gas in the current state, and that figure is used, never less than an estimate now
   * would give. Any failure of that call (a revert, out of gas, a node that refuses) falls back to
   * eth_estimateGas, whose answer (figure or decoded refusal) is the verdict as before, so a revert
   * caused only by the lower limit is never reported as the ledger's.
   */
  private async simulateRelayed(from: string, to: string, data: string): Promise<bigint> {
    const shape = `${to}:${data.slice(0, 10)}:${data.length}`;
    const blockGas = await this.chain.blockGasLimit();
    // Acts of a new shape arriving together (clients starting at once) wait for the first one's
    // estimate rather than each running their own.
    const known = this.estimates.get(shape) ?? (await this.estimating.get(shape));
    if (known !== undefined) {
      // Never above what a block holds: a figure that fits is a figure a block can mine.
      const proven = known + known / 50n + 1_000n;
      const gas = proven > blockGas ? blockGas : proven;
      try {
        await this.chain.provider.send("eth_call", [rpcCall(this.chain.provider, { from, to, data, gasLimit: gas }), "latest"]);
        return gas;
      } catch {
        /* the estimate below decides */
      }
    }
    let estimate: bigint;
    // (ethers' estimateGas drops the block tag, hence the raw call.)
    const run = this.chain.provider
      .send("eth_estimateGas", [rpcCall(this.chain.provider, { from, to, data }), "latest"])
      .then((v: string) => BigInt(v));
    if (!this.estimating.has(shape)) {
      const settled = run.then(
        (e) => e,
        () => undefined, // a refused act tells nothing of the shape's gas: the waiters estimate themselves
      );
      this.estimating.set(shape, settled);
      void settled.then(() => this.estimating.get(shape) === settled && this.estimating.delete(shape));
    }
    try {
      estimate = await run;
    } catch (err) {
      const revert = revertDataOf(err);
      if (revert === null || revert === "0x") {
        // No reason given: perhaps the call needs more gas than a block holds, the estimate's
        // default bound (EDR: an empty revert, "requires at least N gas"; geth: "gas required
        // exceeds allowance"). One estimate with a higher bound tells, and gives the figure;
        // otherwise the refusal is reported as it was.
        const needed = await this.chain.provider
          .send("eth_estimateGas", [rpcCall(this.chain.provider, { from, to, data, gasLimit: blockGas * 4n }), "latest"])
          .then((v: string) => BigInt(v), () => null);
        if (needed !== null && needed > blockGas) throw exceedsBlockGas(needed, blockGas);
      }
      if (revert === null) throw err;
      throw revertToHttp(parseLedgerError(revert), revert.slice(0, 10));
    }
    if (estimate > blockGas) throw exceedsBlockGas(estimate, blockGas);
    if (this.estimates.size >= 256) this.estimates.clear(); // a handful of shapes in practice; never let it grow
    this.estimates.set(shape, estimate);
    return estimate;
  }

  /**
   * Inserts the claims of act `actId`, in its recording transaction. ON CONFLICT DO NOTHING RETURNING
   * tells which keys were taken without aborting the transaction: on PostgreSQL an insert of a key
   * another open transaction inserted waits for it, and finds the key taken if that one commits; on
   * SQLite writes are serialised. Any key taken throws ClaimTakenError, which rolls everything back.
   */
  private async claim(m: EntityManager, actId: string, keys: string[], now: number): Promise<void> {
    // Sorted: two transactions inserting overlapping keys take them in one order, so on PostgreSQL
    // they wait for each other rather than deadlock (a batch [x, y] against a batch [y, x]).
    const wanted = [...new Set(keys)].sort();
    const got = new Set<string>();
    for (let i = 0; i < wanted.length; i += CLAIMS_PER_STATEMENT) {
      const part = wanted.slice(i, i + CLAIMS_PER_STATEMENT);
      const values = part.map((_, k) => (this.db.isPostgres ? `($${3 * k + 1}, $${3 * k + 2}, $${3 * k + 3})` : "(?, ?, ?)")).join(", ");
      const rows = (await m.query(
        `INSERT INTO act_claims (claim_key, act_id, created_at) VALUES ${values} ON CONFLICT (claim_key) DO NOTHING RETURNING claim_key`,
        part.flatMap((key) => [key, actId, now]),
      )) as Array<{ claim_key: string }>;
      for (const r of rows) got.add(r.claim_key);
    }
    const taken = wanted.filter((k) => !got.has(k));
    if (taken.length) throw new ClaimTakenError(taken);
  }

  /**
   * The first of `keys` a pending act holds, or null: one primary-key lookup per 500 keys, a plain
   * statement (it runs on both posts of every tokenisation and almost always finds nothing).
   */
  async heldClaim(keys: string[]): Promise<string | null> {
    const m = this.claims.manager;
    for (let i = 0; i < keys.length; i += 500) {
      const chunk = keys.slice(i, i + 500);
      const rows = (await m.query(`SELECT claim_key FROM act_claims WHERE claim_key IN ${inList(m, chunk)} LIMIT 1`, chunk)) as Array<{ claim_key: string }>;
      if (rows.length) return rows[0].claim_key;
    }
    return null;
  }

  private async verifySignature(signer: string, digest: string, signature: string): Promise<void> {
    let recovered: string | null = null;
    try {
      recovered = recoverSigner(digest, signature);
    } catch {
      recovered = null;
    }
    if (recovered === signer) return;
    if ((await this.chain.provider.getCode(signer)) !== "0x") {
      try {
        const res = await this.chain.provider.call({ to: signer, data: ERC1271.encodeFunctionData("isValidSignature", [digest, signature]) });
        if (res.slice(0, 10).toLowerCase() === ERC1271_MAGIC) return;
      } catch {
        /* not a valid contract signature */
      }
    }
    throw invalidSignature(signer, digest);
  }

  /** Proposes the next nonce for `signer` on `contract`, skipping any already used on-chain. */
  async allocateNonce(contract: ActContract, signer: string): Promise<bigint> {
    const s = getAddress(signer);
    const c = contract === "Receivables" ? this.chain.contracts.receivables : this.chain.contracts.financing;
    for (;;) {
      // One atomic statement: concurrent requests of one signer never get the same value, and the
      // first request of a new signer cannot collide on the primary key.
      const n = await this.db.write(async (m) => {
        const sql = this.db.isPostgres
          ? `INSERT INTO nonce_allocations (contract, signer, next_nonce) VALUES ($1, $2, 1)
             ON CONFLICT (contract, signer) DO UPDATE SET next_nonce = nonce_allocations.next_nonce + 1 RETURNING next_nonce`
          : `INSERT INTO nonce_allocations (contract, signer, next_nonce) VALUES (?, ?, 1)
             ON CONFLICT (contract, signer) DO UPDATE SET next_nonce = next_nonce + 1 RETURNING next_nonce`;
        const rows = (await m.query(sql, [contract, s])) as Array<{ next_nonce: string | number }>;
        return BigInt(rows[0].next_nonce) - 1n;
      });
      if (!(await c.isNonceUsed(s, n))) return n;
    }
  }

  /** Waits until the act is final and, when confirmed, until the indexer has projected its block. */
  async waitFor(id: string, timeoutMs = 60_000): Promise<ActEntity> {
    const act = await this.acts.findOneByOrFail({ id });
    const until = Date.now() + timeoutMs;
    await this.sender.waitFor(act.outboxId, timeoutMs);
    for (;;) {
      const a = await this.acts.findOneByOrFail({ id });
      if (a.status === "failed") return a;
      if (a.status === "confirmed") {
        const { checkpoint } = await this.indexer.status();
        if (checkpoint >= (a.blockNumber ?? 0) || Date.now() > until) return a;
      }
      if (Date.now() > until) return a;
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  findById(id: string): Promise<ActEntity> {
    return this.acts.findOneByOrFail({ id });
  }

  /** The act with this id, or null (for features that show the state of an act they recorded). */
  find(id: string): Promise<ActEntity | null> {
    return this.acts.findOneBy({ id });
  }

  async get(user: AuthUser, id: string): Promise<ActEntity> {
    const act = /^[0-9a-f-]{36}$/i.test(id) ? await this.acts.findOneBy({ id }) : null;
    if (!act) throw new NotFoundException(`No act ${id}.`);
    if (act.signer !== user.address && !readsEverything(user)) {
      throw new ForbiddenException("Only the signer, auditors and compliance officers can read this act.");
    }
    return act;
  }

  /**
   * Settles the act of a final outbox row, in the transaction that makes the row final: its status,
   * and the release of its claims (a failed tokenisation's invoice can be presented again; a
   * confirmed one is on-chain, where the contract refuses it again, and soon in the projection).
   */
  private async onSettled(row: OutboxEntity, m: EntityManager): Promise<void> {
    // Plain statements (no query builder): every relayed act settles through here, in the sender's
    // settling transaction. Only an act whose kind has a confirmation hook reads its whole row.
    const pg = this.db.isPostgres;
    const id = row.referenceId!;
    await m.query(pg ? "DELETE FROM act_claims WHERE act_id = $1" : "DELETE FROM act_claims WHERE act_id = ?", [id]);
    const derived = row.status === "mined" ? await this.confirmationFields(row, m) : {};
    const fields = {
      status: row.status === "mined" ? ("confirmed" as const) : ("failed" as const),
      txHash: row.txHash,
      blockNumber: row.blockNumber,
      failureReason: row.status === "mined" ? null : row.failureReason,
      updatedAt: Date.now(),
    };
    if (Object.keys(derived).length) {
      await m.update(ActEntity, { id, status: "pending" }, { ...fields, ...derived });
      return;
    }
    const p = pg ? ["$1", "$2", "$3", "$4", "$5", "$6"] : ["?", "?", "?", "?", "?", "?"];
    await m.query(
      `UPDATE acts SET status = ${p[0]}, tx_hash = ${p[1]}, block_number = ${p[2]}, failure_reason = ${p[3]}, updated_at = ${p[4]} ` +
        `WHERE id = ${p[5]} AND status = 'pending'`,
      [fields.status, fields.txHash, fields.blockNumber, fields.failureReason, fields.updatedAt, id],
    );
  }

  /**
   * Fields a confirmation hook derives from the receipt. The receipt is fetched inside the
   * settling transaction (one RPC round trip while the write is open, only for kinds with a hook);
   * if it cannot be read, throwing rolls the settlement back and the sender settles the row again
   * on its next pass, so the act is never confirmed without its result. A hook that throws is a
   * defect: the act is confirmed without the derived fields rather than left pending forever.
   */
  private async confirmationFields(row: OutboxEntity, m: EntityManager): Promise<QueryDeepPartialEntity<ActEntity>> {
    const sql = this.db.isPostgres ? "SELECT kind FROM acts WHERE id = $1 AND status = 'pending'" : "SELECT kind FROM acts WHERE id = ? AND status = 'pending'";
    const kind = ((await m.query(sql, [row.referenceId!])) as Array<{ kind: string }>)[0]?.kind;
    if (kind === undefined || !this.confirmationHooks.has(kind)) return {};
    const act = await m.findOneBy(ActEntity, { id: row.referenceId!, status: "pending" });
    const hook = act ? this.confirmationHooks.get(act.kind) : undefined;
    if (!act || !hook) return {};
    const receipt = await this.chain.provider.getTransactionReceipt(row.txHash!);
    if (!receipt) throw new Error(`receipt of ${row.txHash} is not available yet`);
    let derived: ReturnType<ConfirmationHook>;
    try {
      derived = hook(receipt, act);
    } catch (err) {
      this.logger.error(`act ${act.id} (${act.kind}): confirmation hook failed: ${(err as Error).message}`);
      return {};
    }
    const { result, ...columns } = derived;
    if (!result) return columns;
    // The JSON column defeats TypeORM's deep-partial typing; the merged result is plain JSON.
    return { ...columns, result: jsonSafe({ ...(act.result ?? {}), ...result }) as QueryDeepPartialEntity<Record<string, unknown>> };
  }
}

function parseUint(v: string, name: string): bigint {
  if (!/^\d{1,78}$/.test(v)) throw new BadRequestException(`${name} must be a decimal integer string.`);
  const n = BigInt(v);
  if (n >= 2n ** 256n) throw new BadRequestException(`${name} does not fit uint256.`);
  return n;
}

/** Bigints as decimal strings, recursively, for JSON. */
export function jsonSafe(v: unknown): unknown {
  if (typeof v === "bigint") return v.toString();
  if (Array.isArray(v)) return v.map(jsonSafe);
  if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, jsonSafe(x)]));
  return v;
}

/** A relayed call that needs more gas than a block of this chain holds: no node would ever mine it. */
function exceedsBlockGas(needed: bigint, blockGas: bigint): UnprocessableEntityException {
  return new UnprocessableEntityException({
    error: "ActExceedsBlockGasLimit",
    message:
      `This act needs about ${needed} gas, more than one block of this chain holds (${blockGas}), so it could never be mined. ` +
      "Split it into smaller acts (fewer invoices per batch).",
  });
}

const LOWER_HEX_BYTES = /^0x(?:[0-9a-f]{2})*$/;

/**
 * ethers' getRpcTransaction (the JSON-RPC form of a call), without re-encoding calldata that is
 * already lower-case hex: ethers' hexlify parses it into bytes and rebuilds the string one
 * character at a time, ~2.6 MB of short-lived strings and arrays for the 66 kB of a 200-invoice
 * batch (the largest allocation site of the signed POST, found with a sampling heap profile). Such
 * calldata is exactly what hexlify returns, so the request is the same JSON, key for key.
 */
export function rpcCall(provider: Pick<JsonRpcApiProvider, "getRpcTransaction">, tx: { from: string; to: string; data: string; gasLimit?: bigint }): JsonRpcTransactionRequest {
  if (!LOWER_HEX_BYTES.test(tx.data)) return provider.getRpcTransaction(tx);
  const out = provider.getRpcTransaction({ ...tx, data: "0x" });
  out.data = tx.data;
  return out;
}
