/**
 * The signed acts on a tokenised receivable, declared as ActSpecs: the debtor accepts (irrevocable)
 * or repays it, the seller cancels it before acceptance, the holder splits, transfers it or applies a
 * credit note. The unsigned step checks early that the signed-in member is the party the act needs;
 * the signed step's simulation is the authority.
 */
import { BadRequestException, ConflictException, ForbiddenException, HttpException, Injectable, NotFoundException, type OnModuleInit } from "@nestjs/common";
import { InjectRepository } from "@nestjs/typeorm";
import { getAddress } from "ethers";
import type { Repository } from "typeorm";
import { RECEIVABLES_INTERFACE } from "../chain/ledger-abi";
import { ActPipeline } from "../acts/act-pipeline.service";
import { defineAct, type ActInput } from "../acts/act-spec";
import { parseLedgerError, revertToHttp } from "../acts/revert-to-http";
import { ChainService } from "../chain/chain.service";
import { revertDataOf } from "../chain/errors";
import { ReceivableEntity } from "../read-model/entities/projections.entity";
import type { CreditNoteDto, ReceivableActDto, RepayReceivableDto, SplitReceivableDto, TransferReceivableDto } from "./dto/receivable-write.dto";
import { receivableIdHex } from "../../../shared/ids";
import { childIdOf } from "../../../shared/fingerprint";
import { ReceivableDocumentsService } from "./receivable-documents.service";
import { RepayPermitService } from "./repay-permit.service";

/** The Receivables contract's interface, to encode the `...BySig` calls the acts relay. */
export const IFACE = RECEIVABLES_INTERFACE;

@Injectable()
export class ReceivableLifecycleService implements OnModuleInit {
  constructor(
    @InjectRepository(ReceivableEntity) private readonly receivables: Repository<ReceivableEntity>,
    private readonly pipeline: ActPipeline,
    private readonly chain: ChainService,
    private readonly documents: ReceivableDocumentsService,
    private readonly permits: RepayPermitService,
  ) {}

  onModuleInit(): void {
    this.pipeline.register(this.accept, this.cancel, this.split, this.transfer, this.creditNote, this.repay);
  }

  /** POST /receivables/:id/accept: the debtor confirms the debt (irrevocable). */
  readonly accept = defineAct<ReceivableActDto>({
    name: "receivables.accept",
    kind: "accept",
    contract: "Receivables",
    primaryType: "Accept",
    plan: async ({ user, id }) => {
      const debtor = getAddress(user.address);
      // The debtor consents to the terms as recorded (indexed from the ReceivableTokenised event): the
      // contract refuses them if the record under this id says otherwise (a squatter's copy).
      const terms = await this.termsOf(id!);
      return {
        message: { debtor, receivableId: BigInt(id!), ...terms },
        encode: (a) => IFACE.encodeFunctionData("acceptBySig", [debtor, id!, terms, a]),
        receivableId: id!,
        result: { seller: terms.seller, faceValue: terms.faceValue.toString(), dueDate: terms.dueDate.toString(), documentHash: terms.documentHash },
      };
    },
    beforeSigning: (input) => this.requireParty(input, "debtor", "accept"),
  });

  /** POST /receivables/:id/cancel: the seller withdraws a receivable not yet accepted. */
  readonly cancel = defineAct<ReceivableActDto>({
    name: "receivables.cancel",
    kind: "cancel",
    contract: "Receivables",
    primaryType: "Cancel",
    plan: ({ user, id }) => {
      const seller = getAddress(user.address);
      return {
        message: { seller, receivableId: BigInt(id!) },
        encode: (a) => IFACE.encodeFunctionData("cancelBySig", [seller, id!, a]),
        receivableId: id!,
      };
    },
    beforeSigning: (input) => this.requireParty(input, "holder", "cancel"),
  });

  /** POST /receivables/:id/split: the holder splits an accepted receivable into parts. */
  readonly split = defineAct<SplitReceivableDto>({
    name: "receivables.split",
    kind: "split",
    contract: "Receivables",
    primaryType: "Split",
    plan: ({ user, id, body }) => {
      const holder = getAddress(user.address);
      const amounts = body.amounts.map((a) => BigInt(a));
      const childIds = amounts.map((_, i) => receivableIdHex(childIdOf(id!, i)));
      return {
        message: { holder, receivableId: BigInt(id!), amounts },
        encode: (a) => IFACE.encodeFunctionData("splitBySig", [holder, id!, amounts, a]),
        receivableId: id!,
        result: { childIds },
      };
    },
    beforeSigning: (input) => this.requireParty(input, "holder", "split"),
  });

  /** POST /receivables/:id/transfer: the holder transfers an accepted receivable. */
  readonly transfer = defineAct<TransferReceivableDto>({
    name: "receivables.transfer",
    kind: "transfer",
    contract: "Receivables",
    primaryType: "TransferReceivable",
    plan: ({ user, id, body }) => {
      const holder = getAddress(user.address);
      const to = getAddress(body.to.toLowerCase());
      return {
        message: { holder, receivableId: BigInt(id!), to },
        encode: (a) => IFACE.encodeFunctionData("transferBySig", [holder, id!, to, a]),
        receivableId: id!,
        result: { to },
      };
    },
    beforeSigning: (input) => this.requireParty(input, "holder", "transfer"),
  });

  /** POST /receivables/:id/credit-notes: the holder lowers the outstanding amount (dilution). */
  readonly creditNote = defineAct<CreditNoteDto>({
    name: "receivables.credit_note",
    kind: "credit_note",
    contract: "Receivables",
    primaryType: "CreditNote",
    plan: ({ user, id, body }) => {
      const holder = getAddress(user.address);
      if (!body.creditNoteHash) {
        throw new BadRequestException("Send the credit note as multipart field 'document', or its SHA-256 as creditNoteHash.");
      }
      const hash = body.creditNoteHash.toLowerCase();
      const amount = BigInt(body.amount);
      return {
        message: { holder, receivableId: BigInt(id!), amount, creditNoteHash: hash },
        encode: (a) => IFACE.encodeFunctionData("applyCreditNoteBySig", [holder, id!, amount, hash, a]),
        receivableId: id!,
        result: { amount: body.amount, creditNoteHash: hash },
      };
    },
    beforeSigning: (input) => this.requireParty(input, "holder", "issue a credit note on"),
    afterRecorded: async ({ user, id, file }) => {
      if (file) await this.documents.link(id!, file, getAddress(user.address));
    },
  });

  /** POST /receivables/:id/repay: the debtor pays the holder in the settlement token. */
  readonly repay = defineAct<RepayReceivableDto>({
    name: "receivables.repay",
    kind: "pay",
    contract: "Receivables",
    primaryType: "Pay",
    plan: ({ user, id, body }) => {
      const debtor = getAddress(user.address);
      const amount = BigInt(body.amount);
      if (body.permit && body.permitSignature) throw new BadRequestException("Send either permit or permitSignature, not both.");
      return {
        message: { debtor, receivableId: BigInt(id!), amount },
        encode: (a) => IFACE.encodeFunctionData("payBySig", [debtor, id!, amount, a]),
        receivableId: id!,
        result: { amount: body.amount },
      };
    },
    beforeSigning: (input) => this.requireParty(input, "debtor", "repay"),
    beforeSubmit: async ({ user, body }, plan) => {
      if (body.permit || body.permitSignature) {
        const debtor = getAddress(user.address);
        await this.permits.precheckSignature(debtor, plan, body);
        await this.permits.relayPermit(debtor, BigInt(body.amount), body);
      }
    },
    unsignedExtra: async ({ user, body }, u) => ({
      permitTypedData: await this.permits.permitTypedData(getAddress(user.address), BigInt(body.amount), BigInt(u.typedData.message.deadline as string)),
    }),
    refusal: (err) => {
      // The contract's allowance error names approve(); a relayed client can also send a permit.
      if (err instanceof HttpException && (err.getResponse() as { error?: string }).error === "ERC20InsufficientAllowance") {
        const body = err.getResponse() as { error: string; message: string };
        return new ConflictException({
          ...body,
          message: `${body.message} Or send an EIP-2612 permit with the repayment (permit, or permitSignature over permitTypedData).`,
        });
      }
      return err;
    },
  });

  /** The recorded terms of `id` the debtor's acceptance names. */
  private async termsOf(id: string): Promise<{ seller: string; faceValue: bigint; dueDate: bigint; documentHash: string }> {
    const r = await this.receivables.findOneBy({ id });
    if (r?.documentHash) {
      return { seller: getAddress(r.seller), faceValue: BigInt(r.faceValue), dueDate: BigInt(r.dueDate), documentHash: r.documentHash.toLowerCase() };
    }
    // Mined but not indexed yet (a client accepting right after `?wait=true`): the event itself.
    const receivables = this.chain.contracts.receivables;
    const [log] = await receivables.queryFilter(receivables.filters.ReceivableTokenised(id), this.chain.deployment.blockNumber);
    if (!log) throw new NotFoundException(`Receivable ${id} is not a tokenised invoice on the ledger (a split part is accepted with its parent).`);
    const a = log.args;
    return { seller: getAddress(a.seller), faceValue: a.faceValue, dueDate: a.dueDate, documentHash: a.documentHash.toLowerCase() };
  }

  /** Early check on the unsigned step: the receivable exists and the signed-in member is its debtor or holder. */
  private async requireParty({ user, id }: ActInput, role: "debtor" | "holder", act: string): Promise<void> {
    const who = getAddress(user.address);
    const view = await ledgerReceivable(this.chain, id!);
    const party = role === "debtor" ? view.debtor : view.holder;
    if (getAddress(party) !== who) {
      throw new ForbiddenException({
        error: "ReceivableUnauthorized",
        message: `Only the ${role} of receivable ${id} can ${act} it; ${who} is not its ${role}.`,
      });
    }
  }
}

/** The ledger's view of receivable `id` now; the contract's refusal (an unknown id) as its HTTP error. */
export async function ledgerReceivable(chain: ChainService, id: string): Promise<{ holder: string; debtor: string; status: bigint }> {
  try {
    return await chain.contracts.receivables.receivable(id);
  } catch (err) {
    const data = revertDataOf(err);
    if (data === null) throw err;
    throw revertToHttp(parseLedgerError(data), data.slice(0, 10));
  }
}
