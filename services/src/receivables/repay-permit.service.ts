/**
 * EIP-2612 permits sent with a repayment: the permit typed data a debtor signs alongside the
 * payment, and the relay of that permit. The permit is relayed first and waited for until mined,
 * then the payment is submitted, so the payment's simulation sees the allowance; a payment whose own
 * signature is bad is refused before its permit is relayed.
 */
import {
  BadRequestException,
  HttpException,
  Injectable,
  ServiceUnavailableException,
  UnprocessableEntityException,
} from "@nestjs/common";
import { Signature, TypedDataEncoder, recoverAddress } from "ethers";
import { ActsService, jsonSafe, type ActDraft, type SignatureFields } from "../acts/acts.service";
import { invalidSignature, parseLedgerError, revertToHttp } from "../acts/revert-to-http";
import { ChainService } from "../chain/chain.service";
import { RECEIVABLES_TYPES, typesForClients } from "../../../shared/eip712";
import { permitCallArgs, permitDomainOf, permitSignature, permitTypedData, type PermitDomain } from "../../../shared/permit";
import { revertDataOf } from "../chain/errors";
import { DbWriter } from "../database/db-writer";
import { TxSenderService } from "../outbox/tx-sender.service";
import type { TypedDataDto } from "../acts/dto/act.dto";
import type { RepayReceivableDto } from "./dto/receivable-write.dto";

const PERMIT_WAIT_MS = 60_000;

@Injectable()
export class RepayPermitService {
  private permitDomain: Promise<PermitDomain> | null = null;

  constructor(
    private readonly acts: ActsService,
    private readonly chain: ChainService,
    private readonly db: DbWriter,
    private readonly sender: TxSenderService,
  ) {}

  private async tokenDomain(): Promise<PermitDomain> {
    this.permitDomain ??= permitDomainOf(this.chain.contracts.token);
    return this.permitDomain;
  }

  async permitTypedData(owner: string, value: bigint, deadline: bigint): Promise<TypedDataDto> {
    const nonce = await this.chain.contracts.token.nonces(owner);
    const td = permitTypedData(await this.tokenDomain(), { owner, spender: this.chain.addresses.Receivables, value, nonce, deadline });
    return { ...td, types: typesForClients(td.domain, td.types), message: jsonSafe(td.message) as TypedDataDto["message"] };
  }

  /**
   * Refuses a repayment whose own signature is bad before its permit is relayed: the permit would
   * otherwise land for an act that is then refused. Contract wallets are left to ActsService.
   */
  async precheckSignature(debtor: string, draft: ActDraft, sig: SignatureFields): Promise<void> {
    if (BigInt(sig.deadline!) <= BigInt(Math.floor(Date.now() / 1000))) {
      throw new UnprocessableEntityException("The signature's deadline has passed; ask for new typed data and sign again.");
    }
    const domain = this.acts.domain("Receivables");
    const digest = TypedDataEncoder.hash(domain, RECEIVABLES_TYPES.Pay, { ...draft.message, nonce: sig.nonce, deadline: sig.deadline });
    let recovered: string | null = null;
    try {
      recovered = recoverAddress(digest, sig.signature!);
    } catch {
      recovered = null;
    }
    if (recovered !== debtor && (await this.chain.provider.getCode(debtor)) === "0x") {
      throw invalidSignature(debtor, digest);
    }
  }

  /** Relays the debtor's EIP-2612 permit and waits until it is mined. */
  async relayPermit(debtor: string, amount: bigint, dto: RepayReceivableDto): Promise<void> {
    const token = this.chain.contracts.token;
    const spender = this.chain.addresses.Receivables;
    let value: bigint;
    let deadline: bigint;
    let sig: Signature;
    try {
      if (dto.permit) {
        value = BigInt(dto.permit.value);
        deadline = BigInt(dto.permit.deadline);
        sig = permitSignature(dto.permit);
      } else {
        value = amount;
        deadline = BigInt(dto.deadline!);
        sig = permitSignature(dto.permitSignature!);
      }
    } catch {
      throw new BadRequestException("The permit signature is not a well-formed ECDSA signature (r, s, v).");
    }
    if (value >= 2n ** 256n || deadline >= 2n ** 256n) throw new BadRequestException("permit value and deadline must fit uint256.");
    // A retry after the permit landed: the allowance is there and the permit's nonce is spent.
    if ((await token.allowance(debtor, spender)) >= amount) return;
    const data = token.interface.encodeFunctionData("permit", permitCallArgs(debtor, spender, value, deadline, sig));
    const to = this.chain.addresses.SettlementToken;
    try {
      await this.chain.provider.call({ from: this.chain.relayerFor(debtor).address, to, data });
    } catch (err) {
      const revert = revertDataOf(err);
      if (revert === null) throw err;
      throw permitError(revert, debtor);
    }
    const row = await this.db.write((m) => this.sender.enqueue(m, { signer: "relayer", relayFor: debtor, to, data, kind: "settlement.permit" }));
    const done = await this.sender.waitFor(row.id, PERMIT_WAIT_MS);
    if (done.status === "failed") {
      throw new UnprocessableEntityException(`The permit was relayed but failed on-chain (${done.failureReason}); the payment was not submitted.`);
    }
    if (done.status !== "mined") {
      throw new ServiceUnavailableException("The permit is relayed but not mined yet; post the same repayment again shortly.");
    }
  }
}

function permitError(revert: string, debtor: string): HttpException {
  const e = parseLedgerError(revert);
  if (e?.name === "ERC2612ExpiredSignature") {
    return new UnprocessableEntityException({
      error: e.name,
      message: `The permit expired at ${new Date(Number(e.args[0]) * 1000).toISOString()}; sign a new one.`,
    });
  }
  if (e?.name === "ERC2612InvalidSigner") {
    // 422 like every bad signature: the session is fine, the signed content is not.
    return new UnprocessableEntityException({
      error: e.name,
      message:
        `The permit is not ${debtor}'s signature of the permit typed data (it recovers to ${e.args[0]}): sign permitTypedData ` +
        "(owner = debtor, spender = the Receivables contract, the token's current permit nonce).",
    });
  }
  return revertToHttp(e, revert.slice(0, 10));
}
