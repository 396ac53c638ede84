/**
 * The debtor disputes an invoice: a signed statement, not an on-chain act. The debtor of an issued
 * (unaccepted) receivable signs an EIP-712 DisputeInvoice (Receivables domain: debtor, receivable id,
 * reason code, text, nonce, deadline) through the same unsigned → signed route protocol as every act
 * (ActPipeline); the signed statement is verified (ECDSA or ERC-1271, ActsService.checkSigned) and
 * kept in receivable_disputes instead of being relayed (the spec's `keep` step, as a financing offer).
 *
 * Rules: only the receivable's debtor (403); only while the ledger says it is issued (409); one
 * dispute per receivable (409). A dispute is not withdrawn: it closes when the receivable leaves
 * "issued" — the debtor accepts after all (the seller corrected what was wrong), or the seller
 * cancels. Contracts are unchanged: no ledger rule depends on a dispute.
 */
import { ConflictException, ForbiddenException, Injectable, type OnModuleInit } from "@nestjs/common";
import { InjectRepository } from "@nestjs/typeorm";
import { getAddress } from "ethers";
import { randomUUID } from "node:crypto";
import type { Repository } from "typeorm";
import { ActPipeline } from "../acts/act-pipeline.service";
import { defineAct, type ActInput, type ActPlan } from "../acts/act-spec";
import { ActsService } from "../acts/acts.service";
import { ChainService } from "../chain/chain.service";
import { ReceivableEntity } from "../read-model/entities/projections.entity";
import { ReceivableDisputeDto } from "./dto/receivable-read.dto";
import type { DisputeReceivableDto } from "./dto/receivable-write.dto";
import { ReceivableDisputeEntity } from "./entities/receivable-dispute.entity";
import { ledgerReceivable } from "./receivable-lifecycle.service";

/** IReceivables.Status, by its uint8 value. */
const LEDGER_STATUS = ["none", "issued", "accepted", "financed", "paid", "defaulted", "cancelled", "split"] as const;
const ISSUED = 1n;

@Injectable()
export class ReceivableDisputeService implements OnModuleInit {
  constructor(
    @InjectRepository(ReceivableDisputeEntity) private readonly disputes: Repository<ReceivableDisputeEntity>,
    @InjectRepository(ReceivableEntity) private readonly receivables: Repository<ReceivableEntity>,
    private readonly pipeline: ActPipeline,
    private readonly acts: ActsService,
    private readonly chain: ChainService,
  ) {}

  onModuleInit(): void {
    this.pipeline.register(this.dispute);
  }

  /** POST /receivables/:id/dispute: the debtor does not confirm an issued receivable. */
  readonly dispute = defineAct<DisputeReceivableDto>({
    name: "receivables.dispute",
    kind: "dispute",
    contract: "Receivables",
    primaryType: "DisputeInvoice",
    plan: ({ user, id, body }) => ({
      message: { debtor: getAddress(user.address), receivableId: BigInt(id!), reasonCode: body.reasonCode, text: body.text ?? "" },
      encode: () => {
        throw new Error("a dispute is a signed statement kept off-chain; it is never relayed");
      },
      receivableId: id!,
    }),
    beforeSigning: (input) => this.requireDisputable(input),
    keep: (input, plan) => this.keep(input, plan),
  });

  /** The verified statement, recorded once; the same signed post again answers the first record. */
  private async keep(input: ActInput<DisputeReceivableDto>, plan: ActPlan): Promise<ReceivableDisputeDto> {
    const debtor = getAddress(input.user.address);
    const signed = await this.acts.checkSigned(debtor, plan, input.body);
    const repo = this.disputes;
    const again = await repo.findOneBy({ debtor, nonce: signed.nonce.toString() });
    if (again) {
      // A retry answers the first record, as it stands now (closed once the receivable left "issued").
      if (again.typedDataHash === signed.digest) return ReceivableDisputeDto.from(again, await this.statusOf(again.receivableId));
      throw new ConflictException(`Nonce ${signed.nonce} of ${debtor} was already used for another dispute; ask for new typed data.`);
    }
    await this.requireDisputable(input);
    const row = repo.create({
      id: randomUUID(),
      receivableId: input.id!,
      debtor,
      reasonCode: input.body.reasonCode,
      text: input.body.text ?? "",
      nonce: signed.nonce.toString(),
      deadline: Number(signed.deadline),
      signature: signed.signature,
      typedDataHash: signed.digest,
      createdAt: Date.now(),
    });
    try {
      await repo.insert(row);
    } catch (err) {
      // A concurrent post won the receivable's one dispute (or this very statement).
      const won = await repo.findOneBy({ receivableId: row.receivableId });
      if (won?.typedDataHash === signed.digest) return ReceivableDisputeDto.from(won, "issued");
      if (won) throw alreadyDisputed(row.receivableId, won);
      throw err;
    }
    return ReceivableDisputeDto.from(row, "issued");
  }

  private async statusOf(id: string): Promise<string> {
    return (await this.receivables.findOneBy({ id }))?.status ?? "issued";
  }

  /** The signed-in member is the debtor of `id`, which the ledger says is issued and nobody disputed yet. */
  private async requireDisputable({ user, id }: ActInput): Promise<void> {
    const who = getAddress(user.address);
    const view = await ledgerReceivable(this.chain, id!);
    if (getAddress(view.debtor) !== who) {
      throw new ForbiddenException({
        error: "ReceivableUnauthorized",
        message: `Only the debtor of receivable ${id} can dispute it; ${who} is not its debtor.`,
      });
    }
    if (BigInt(view.status) !== ISSUED) {
      const status = LEDGER_STATUS[Number(view.status)] ?? String(view.status);
      throw new ConflictException({
        error: "ReceivableNotDisputable",
        message: `Receivable ${id} is ${status}: only an issued receivable, not yet accepted, can be disputed.`,
      });
    }
    const existing = await this.disputes.findOneBy({ receivableId: id! });
    if (existing) throw alreadyDisputed(id!, existing);
  }
}

function alreadyDisputed(id: string, d: ReceivableDisputeEntity): ConflictException {
  return new ConflictException({
    error: "DisputeExists",
    message: `Receivable ${id} was already disputed (${d.reasonCode}, ${new Date(d.createdAt).toISOString()}); a receivable has one dispute.`,
  });
}
