/**
 * Settlement money for members who hold no ETH and send no transactions themselves: balances and
 * allowances read from the token, EIP-2612 permits signed by the member and relayed by the service
 * (relayer key), and — on test platforms only — a faucet through which a compliance officer mints
 * test money with the issuer key. Every transaction goes through the outbox; the outbox row is the
 * operation's record (reference "settlement", reference id = the member concerned), so a crash
 * loses nothing and `GET /settlement/operations/:id` follows it.
 *
 * Payments the ledger holds for a member that could not receive them (suspended, KYC lapsed when
 * the debtor paid) are read from the Receivables contract and claimed with a signed ClaimHeld act,
 * relayed like every participant act (ActPipeline), never with a service key. The service never
 * burns a member's balance: redemption is the member's own `redeem` (or a `burnFrom` of an
 * allowance it gave the issuer), and a forced burn is the ENFORCER key's, outside this service.
 */
import {
  BadRequestException,
  ConflictException,
  ForbiddenException,
  Inject,
  Injectable,
  NotFoundException,
  UnprocessableEntityException,
  type OnModuleInit,
} from "@nestjs/common";
import { InjectRepository } from "@nestjs/typeorm";
import { Signature, TypedDataEncoder, getAddress, recoverAddress } from "ethers";
import { PERMIT_TYPES, typesForClients } from "../../../shared/eip712";
import { permitCallArgs, permitDomainOf, permitSignature, permitTypedData, type PermitDomain } from "../../../shared/permit";
import type { Repository } from "typeorm";
import { RECEIVABLES_INTERFACE as RECEIVABLES } from "../chain/ledger-abi";
import { ActPipeline } from "../acts/act-pipeline.service";
import { defineAct } from "../acts/act-spec";
import { ActsService, jsonSafe } from "../acts/acts.service";
import { parseLedgerError, revertToHttp } from "../acts/revert-to-http";
import { type AuthUser } from "../auth/auth.decorators";
import { ROLE_BITS } from "../../../shared/roles";
import { ChainService } from "../chain/chain.service";
import { revertDataOf } from "../chain/errors";
import { APP_CONFIG, type AppConfig } from "../config/env";
import { DbWriter } from "../database/db-writer";
import { OutboxEntity } from "../outbox/entities/outbox.entity";
import { TxSenderService } from "../outbox/tx-sender.service";
import {
  FAUCET_MAX_FEN,
  SPENDERS,
  type BalanceResponseDto,
  type ClaimHeldDto,
  type FaucetRequestDto,
  type HeldResponseDto,
  type PermitRequestDto,
  type SettlementOperationDto,
  type SpenderName,
  type UnsignedPermitResponseDto,
} from "./dto/settlement.dto";

export const SETTLEMENT_REFERENCE = "settlement";
const PERMIT_KIND = "settlement.permit";
const MINT_KIND = "settlement.mint";
const DEFAULT_DEADLINE_SECONDS = 3600;
const MAX_DEADLINE_SECONDS = 30 * 86400;
const WAIT_MS = 60_000;
const UINT256_LIMIT = 2n ** 256n;

/** What POST /settlement/permits answers: the permit's typed data (200) or the relayed permit (202). */
export type PermitAnswer = { status: 200; body: UnsignedPermitResponseDto } | { status: 202; body: SettlementOperationDto };

@Injectable()
export class SettlementService implements OnModuleInit {
  private domain: Promise<PermitDomain> | null = null;

  constructor(
    @InjectRepository(OutboxEntity) private readonly outbox: Repository<OutboxEntity>,
    private readonly db: DbWriter,
    private readonly chain: ChainService,
    private readonly sender: TxSenderService,
    private readonly acts: ActsService,
    private readonly pipeline: ActPipeline,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    this.pipeline.register(this.claim);
    // What a claim paid is known once mined (a payment may have been held meanwhile): from PaymentClaimed.
    this.acts.onConfirmed("claim_held", (receipt) => {
      const address = this.chain.addresses.Receivables.toLowerCase();
      for (const log of receipt.logs) {
        if (log.address.toLowerCase() !== address) continue;
        const parsed = RECEIVABLES.parseLog(log);
        if (parsed?.name === "PaymentClaimed") return { result: { amount: (parsed.args.amount as bigint).toString() } };
      }
      return {};
    });
  }

  /** The faucet exists only on test platforms: FAUCET_ENABLED=true with an issuer key loaded. */
  get faucetEnabled(): boolean {
    return this.config.FAUCET_ENABLED && !!this.config.ISSUER_KEYSTORE && !!this.chain.wallets.issuer;
  }

  // ---------------------------------------------------------------- balance

  async balance(user: AuthUser, address: string | undefined): Promise<BalanceResponseDto> {
    const who = address ? getAddress(address.toLowerCase()) : getAddress(user.address);
    if (who !== getAddress(user.address) && !canReadEveryone(user)) {
      throw new ForbiddenException("Only auditors and compliance officers can read another member's balance; omit ?address= to read your own.");
    }
    const token = this.chain.contracts.token;
    const [balance, toReceivables, toFinancing] = await Promise.all([
      token.balanceOf(who),
      token.allowance(who, this.chain.addresses.Receivables),
      token.allowance(who, this.chain.addresses.Financing),
    ]);
    return {
      address: who,
      balance: balance.toString(),
      allowances: { Receivables: toReceivables.toString(), Financing: toFinancing.toString() },
    };
  }

  // ---------------------------------------------------------------- held payments

  /** GET /settlement/held: what the ledger holds for the caller (or, for auditors and compliance, ?address=). */
  async held(user: AuthUser, address: string | undefined): Promise<HeldResponseDto> {
    const who = address ? getAddress(address.toLowerCase()) : getAddress(user.address);
    if (who !== getAddress(user.address) && !canReadEveryone(user)) {
      throw new ForbiddenException("Only auditors and compliance officers can read what is held for another member; omit ?address= to read your own.");
    }
    return { address: who, held: (await this.chain.contracts.receivables.heldFor(who)).toString() };
  }

  /**
   * POST /settlement/claim: the recipient takes everything held for it, as a signed act relayed
   * like a repayment (ClaimHeld typed data, then the signature). Refused early, before anything is
   * signed, when nothing is held or the recipient still cannot receive; the contract checks again.
   */
  readonly claim = defineAct<ClaimHeldDto>({
    name: "settlement.claim",
    kind: "claim_held",
    contract: "Receivables",
    primaryType: "ClaimHeld",
    plan: ({ user }) => {
      const recipient = getAddress(user.address);
      return { message: { recipient }, encode: (a) => RECEIVABLES.encodeFunctionData("claimBySig", [recipient, a]) };
    },
    beforeSigning: async ({ user }) => {
      const recipient = getAddress(user.address);
      const held = await this.chain.contracts.receivables.heldFor(recipient);
      if (held === 0n) {
        throw new ConflictException({ error: "ReceivableNothingHeld", message: `Nothing is held for ${recipient}: there is no payment to claim.` });
      }
      if (!(await this.chain.contracts.registry.isActiveMember(recipient))) {
        throw new ForbiddenException({
          error: "ReceivableUnverifiedParty",
          message: `${recipient} cannot receive the settlement token yet (not an active member with valid KYC); the money stays held until it can.`,
        });
      }
    },
  });

  // ---------------------------------------------------------------- permits

  /** POST /settlement/permits: the typed data to sign, or the signed permit relayed. */
  async permit(user: AuthUser, dto: PermitRequestDto, wait: boolean): Promise<PermitAnswer> {
    const owner = getAddress(user.address);
    const spender = this.spenderAddress(dto.spender);
    const value = uint(dto.value, "value");
    const hasSignature = dto.signature !== undefined || dto.v !== undefined || dto.r !== undefined || dto.s !== undefined;
    const now = BigInt(Math.floor(Date.now() / 1000));

    if (!hasSignature) {
      const deadline = dto.deadline !== undefined ? uint(dto.deadline, "deadline") : now + BigInt(DEFAULT_DEADLINE_SECONDS);
      this.checkDeadline(deadline, now);
      const typedData = await this.permitTypedData(owner, spender, value, deadline);
      return {
        status: 200,
        body: {
          status: "unsigned",
          kind: "permit",
          typedData: jsonSafe({ ...typedData, types: typesForClients(typedData.domain, PERMIT_TYPES) }) as UnsignedPermitResponseDto["typedData"],
          digest: TypedDataEncoder.hash(typedData.domain, PERMIT_TYPES, typedData.message),
        },
      };
    }

    if (dto.deadline === undefined) {
      throw new BadRequestException("A signed permit needs the deadline it was signed with (unix seconds, decimal string).");
    }
    const deadline = uint(dto.deadline, "deadline");
    const sig = parseSignature(dto);
    const token = this.chain.contracts.token;
    const data = token.interface.encodeFunctionData("permit", permitCallArgs(owner, spender, value, deadline, sig));

    // The same signed permit posted again: answer the first relay (its nonce is spent by now).
    const earlier = await this.findByData(owner, PERMIT_KIND, data);
    if (earlier) return { status: 202, body: await this.view(wait ? await this.sender.waitFor(earlier.id, WAIT_MS) : earlier) };

    this.checkDeadline(deadline, now);
    const nonce = await token.nonces(owner);
    const domain = await this.tokenDomain();
    const digest = TypedDataEncoder.hash(domain, PERMIT_TYPES, { owner, spender, value, nonce, deadline });
    let recovered: string | null = null;
    try {
      recovered = recoverAddress(digest, sig);
    } catch {
      recovered = null;
    }
    if (recovered !== owner) {
      // 422, not 401: the session is valid; the signed content is not. The digest lets a client
      // compare what it signed with what the service computed.
      throw new UnprocessableEntityException({
        error: "InvalidPermitSignature",
        message:
          `The signature is not ${owner}'s signature of this permit (owner ${owner}, spender ${dto.spender} ${spender}, value ${value}, ` +
          `permit nonce ${nonce}, deadline ${deadline}; EIP-712 digest ${digest}). Post the body without a signature to get the typed data, sign it, and post it again.`,
        digest,
      });
    }
    const pending = await this.outbox.find({
      where: { referenceType: SETTLEMENT_REFERENCE, referenceId: owner, kind: PERMIT_KIND },
      order: { seq: "DESC" },
      take: 20,
    });
    if (pending.some((r) => r.status !== "mined" && r.status !== "failed")) {
      throw new ConflictException({
        error: "PermitPending",
        message: `A permit of ${owner} is still being relayed; wait until it is confirmed (GET /settlement/operations/:id), then sign a new one.`,
      });
    }
    await this.simulate(this.chain.relayerFor(owner).address, this.chain.addresses.SettlementToken, data, owner);
    const row = await this.db.write((m) =>
      this.sender.enqueue(m, {
        signer: "relayer",
        relayFor: owner,
        to: this.chain.addresses.SettlementToken,
        data,
        kind: PERMIT_KIND,
        referenceType: SETTLEMENT_REFERENCE,
        referenceId: owner,
      }),
    );
    return { status: 202, body: await this.view(wait ? await this.sender.waitFor(row.id, WAIT_MS) : row) };
  }

  // ---------------------------------------------------------------- faucet

  /** POST /settlement/faucet: a compliance officer mints test money to a verified member. */
  async faucet(user: AuthUser, dto: FaucetRequestDto, wait: boolean): Promise<SettlementOperationDto> {
    if (!this.faucetEnabled) throw new NotFoundException("Cannot POST /settlement/faucet");
    if (!user.complianceOfficer) {
      throw new ForbiddenException(`Only compliance officers can use the faucet; ${user.address} is not a compliance officer.`);
    }
    const to = getAddress(dto.to.toLowerCase());
    const amount = uint(dto.amount, "amount");
    if (amount === 0n) throw new BadRequestException("amount must be at least 1 fen.");
    if (amount > FAUCET_MAX_FEN) {
      throw new BadRequestException(`amount may be at most ${FAUCET_MAX_FEN} fen (100,000,000.00 yuan) per faucet call.`);
    }
    if (!(await this.chain.contracts.registry.isActiveMember(to))) {
      throw new UnprocessableEntityException({
        error: "SettlementUnverifiedParty",
        message: `${to} is not a verified member (active, with valid KYC); only verified members may hold the settlement token. Onboard it first.`,
      });
    }
    const issuer = this.chain.wallets.issuer!;
    const data = this.chain.contracts.token.interface.encodeFunctionData("mint", [to, amount]);
    await this.simulate(issuer.address, this.chain.addresses.SettlementToken, data, to);
    const row = await this.db.write((m) =>
      this.sender.enqueue(m, {
        signer: "issuer",
        to: this.chain.addresses.SettlementToken,
        data,
        kind: MINT_KIND,
        referenceType: SETTLEMENT_REFERENCE,
        referenceId: to,
      }),
    );
    return this.view(wait ? await this.sender.waitFor(row.id, WAIT_MS) : row);
  }

  // ---------------------------------------------------------------- operations

  async operation(user: AuthUser, id: string): Promise<SettlementOperationDto> {
    const row = /^[0-9a-f-]{36}$/i.test(id)
      ? await this.outbox.findOneBy({ id, referenceType: SETTLEMENT_REFERENCE })
      : null;
    if (!row) throw new NotFoundException(`No settlement operation ${id}.`);
    if (row.referenceId !== getAddress(user.address) && !canReadEveryone(user)) {
      throw new ForbiddenException("Only the member concerned, auditors and compliance officers can read this operation.");
    }
    return this.view(row);
  }

  // ---------------------------------------------------------------- helpers

  private spenderAddress(name: SpenderName): string {
    if (!SPENDERS.includes(name)) throw new BadRequestException("spender must be Receivables or Financing");
    return name === "Receivables" ? this.chain.addresses.Receivables : this.chain.addresses.Financing;
  }

  private checkDeadline(deadline: bigint, now: bigint): void {
    if (deadline <= now) {
      throw new UnprocessableEntityException({
        error: "PermitExpired",
        message: `The permit's deadline ${new Date(Number(deadline) * 1000).toISOString()} has passed; choose a later deadline and sign again.`,
      });
    }
    if (deadline > now + BigInt(MAX_DEADLINE_SECONDS)) {
      throw new UnprocessableEntityException({
        error: "PermitDeadlineTooFar",
        message: `The permit's deadline may be at most ${MAX_DEADLINE_SECONDS / 86400} days from now.`,
      });
    }
  }

  private async tokenDomain(): Promise<PermitDomain> {
    this.domain ??= permitDomainOf(this.chain.contracts.token);
    return this.domain;
  }

  private async permitTypedData(owner: string, spender: string, value: bigint, deadline: bigint) {
    const nonce = await this.chain.contracts.token.nonces(owner);
    return permitTypedData(await this.tokenDomain(), { owner, spender, value, nonce, deadline });
  }

  /** Dry-runs the call so a refusal comes back now, with the contract's reason, and nothing is queued. */
  private async simulate(from: string, to: string, data: string, account: string): Promise<void> {
    try {
      await this.chain.provider.call({ from, to, data });
    } catch (err) {
      const revert = revertDataOf(err);
      if (revert === null) throw err;
      const e = parseLedgerError(revert);
      if (e?.name === "ERC2612InvalidSigner") {
        throw new UnprocessableEntityException({ error: e.name, message: `The permit is not ${account}'s signature of the permit typed data.` });
      }
      if (e?.name === "ERC2612ExpiredSignature") {
        throw new UnprocessableEntityException({ error: e.name, message: "The permit's deadline has passed on the chain; sign a new one." });
      }
      throw revertToHttp(e, revert.slice(0, 10));
    }
  }

  private async findByData(account: string, kind: string, data: string): Promise<OutboxEntity | null> {
    const rows = await this.outbox.find({
      where: { referenceType: SETTLEMENT_REFERENCE, referenceId: account, kind },
      order: { seq: "DESC" },
      take: 100,
    });
    return rows.find((r) => r.data === data) ?? null;
  }

  private async view(row: OutboxEntity): Promise<SettlementOperationDto> {
    const token = this.chain.contracts.token.interface;
    let spender: string | null = null;
    let value = "0";
    if (row.kind === PERMIT_KIND) {
      const args = token.decodeFunctionData("permit", row.data);
      const s = getAddress(String(args[1]));
      spender = s === this.chain.addresses.Receivables ? "Receivables" : s === this.chain.addresses.Financing ? "Financing" : s;
      value = (args[2] as bigint).toString();
    } else {
      const args = token.decodeFunctionData("mint", row.data);
      value = (args[1] as bigint).toString();
    }
    return {
      id: row.id,
      kind: row.kind === PERMIT_KIND ? "permit" : "mint",
      status: row.status === "mined" ? "confirmed" : row.status === "failed" ? "failed" : "pending",
      account: row.referenceId!,
      spender,
      value,
      txHash: row.status === "mined" || row.status === "failed" || row.status === "sent" ? row.txHash : null,
      blockNumber: row.blockNumber,
      failureReason: row.failureReason,
      createdAt: new Date(row.createdAt).toISOString(),
      updatedAt: new Date(row.updatedAt).toISOString(),
    };
  }
}

function canReadEveryone(user: AuthUser): boolean {
  return user.complianceOfficer || (user.verifiedMember && (user.roles & ROLE_BITS.auditor) !== 0);
}

function uint(v: string, name: string): bigint {
  if (!/^\d{1,78}$/.test(v)) throw new BadRequestException(`${name} must be a decimal integer string.`);
  const n = BigInt(v);
  if (n >= UINT256_LIMIT) throw new BadRequestException(`${name} does not fit uint256.`);
  return n;
}

function parseSignature(dto: PermitRequestDto): Signature {
  if (dto.signature !== undefined && (dto.v !== undefined || dto.r !== undefined || dto.s !== undefined)) {
    throw new BadRequestException("Send either signature or v, r and s, not both.");
  }
  try {
    if (dto.signature !== undefined) return permitSignature(dto.signature);
    if (dto.v === undefined || dto.r === undefined || dto.s === undefined) throw new Error("incomplete");
    return permitSignature({ v: dto.v, r: dto.r, s: dto.s });
  } catch {
    throw new BadRequestException("The permit signature is not a well-formed ECDSA signature: send signature (65 bytes as 0x hex) or all of v, r and s.");
  }
}
