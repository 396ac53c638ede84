/**
 * The signed acts on a tokenised receivable: the debtor accepts (irrevocable) or repays it, the
 * seller cancels it before acceptance, the holder splits, transfers it or applies a credit note. Each
 * is relayed through ReceivableActRunner; the unsigned step checks early that the signed-in member is
 * the party the act needs, and the signed step's simulation is the authority.
 */
import { BadRequestException, ConflictException, ForbiddenException, HttpException, Injectable, NotFoundException } from "@nestjs/common";
import { InjectDataSource } from "@nestjs/typeorm";
import { getAddress } from "ethers";
import { DataSource } from "typeorm";
import type { ActDraft, SignatureFields } from "../acts/acts.service";
import { parseLedgerError, revertToHttp } from "../acts/revert-to-http";
import type { AuthUser } from "../auth/auth.decorators";
import { ChainService } from "../chain/chain.service";
import { revertDataOf } from "../chain/errors";
import { ReceivableEntity } from "../indexer/entities/projections.entity";
import type { UploadedDocument } from "./document-upload";
import type { CreditNoteDto, RepayReceivableDto, SplitReceivableDto, TransferReceivableDto } from "./dto/receivable-write.dto";
import { receivableIdHex } from "../../../shared/ids";
import { childIdOf } from "../../../shared/fingerprint";
import { IFACE, ReceivableActRunner, type WriteOutcome } from "./receivable-act-runner";
import { ReceivableDocumentsService } from "./receivable-documents.service";
import { RepayPermitService } from "./repay-permit.service";

@Injectable()
export class ReceivableLifecycleService {
  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly runner: ReceivableActRunner,
    private readonly chain: ChainService,
    private readonly documents: ReceivableDocumentsService,
    private readonly permits: RepayPermitService,
  ) {}

  /** POST /receivables/:id/accept: the debtor confirms the debt (irrevocable). */
  async accept(user: AuthUser, id: string, sig: SignatureFields, wait: boolean): Promise<WriteOutcome> {
    const debtor = getAddress(user.address);
    // The debtor consents to the terms as recorded (indexed from the ReceivableTokenised event): the
    // contract refuses them if the record under this id says otherwise (a squatter's copy).
    const terms = await this.termsOf(id);
    return this.runner.run(
      user,
      {
        kind: "accept",
        contract: "Receivables",
        primaryType: "Accept",
        message: { debtor, receivableId: BigInt(id), ...terms },
        encode: (a) => IFACE.encodeFunctionData("acceptBySig", [debtor, id, terms, a]),
        receivableId: id,
        result: { seller: terms.seller, faceValue: terms.faceValue.toString(), dueDate: terms.dueDate.toString(), documentHash: terms.documentHash },
      },
      sig,
      wait,
      { hint: () => this.requireParty(id, debtor, "debtor", "accept") },
    );
  }

  /** POST /receivables/:id/cancel: the seller withdraws a receivable not yet accepted. */
  cancel(user: AuthUser, id: string, sig: SignatureFields, wait: boolean): Promise<WriteOutcome> {
    const seller = getAddress(user.address);
    return this.runner.run(
      user,
      {
        kind: "cancel",
        contract: "Receivables",
        primaryType: "Cancel",
        message: { seller, receivableId: BigInt(id) },
        encode: (a) => IFACE.encodeFunctionData("cancelBySig", [seller, id, a]),
        receivableId: id,
      },
      sig,
      wait,
      { hint: () => this.requireParty(id, seller, "holder", "cancel") },
    );
  }

  /** POST /receivables/:id/split: the holder splits an accepted receivable into parts. */
  split(user: AuthUser, id: string, dto: SplitReceivableDto, wait: boolean): Promise<WriteOutcome> {
    const holder = getAddress(user.address);
    const amounts = dto.amounts.map((a) => BigInt(a));
    const childIds = amounts.map((_, i) => receivableIdHex(childIdOf(id, i)));
    return this.runner.run(
      user,
      {
        kind: "split",
        contract: "Receivables",
        primaryType: "Split",
        message: { holder, receivableId: BigInt(id), amounts },
        encode: (a) => IFACE.encodeFunctionData("splitBySig", [holder, id, amounts, a]),
        receivableId: id,
        result: { childIds },
      },
      dto,
      wait,
      { hint: () => this.requireParty(id, holder, "holder", "split") },
    );
  }

  /** POST /receivables/:id/transfer: the holder transfers an accepted receivable. */
  transfer(user: AuthUser, id: string, dto: TransferReceivableDto, wait: boolean): Promise<WriteOutcome> {
    const holder = getAddress(user.address);
    const to = getAddress(dto.to.toLowerCase());
    return this.runner.run(
      user,
      {
        kind: "transfer",
        contract: "Receivables",
        primaryType: "TransferReceivable",
        message: { holder, receivableId: BigInt(id), to },
        encode: (a) => IFACE.encodeFunctionData("transferBySig", [holder, id, to, a]),
        receivableId: id,
        result: { to },
      },
      dto,
      wait,
      { hint: () => this.requireParty(id, holder, "holder", "transfer") },
    );
  }

  /** POST /receivables/:id/credit-notes: the holder lowers the outstanding amount (dilution). */
  creditNote(user: AuthUser, id: string, dto: CreditNoteDto, file: UploadedDocument | undefined, wait: boolean): Promise<WriteOutcome> {
    const holder = getAddress(user.address);
    if (!dto.creditNoteHash) {
      throw new BadRequestException("Send the credit note as multipart field 'document', or its SHA-256 as creditNoteHash.");
    }
    const hash = dto.creditNoteHash.toLowerCase();
    const amount = BigInt(dto.amount);
    return this.runner.run(
      user,
      {
        kind: "credit_note",
        contract: "Receivables",
        primaryType: "CreditNote",
        message: { holder, receivableId: BigInt(id), amount, creditNoteHash: hash },
        encode: (a) => IFACE.encodeFunctionData("applyCreditNoteBySig", [holder, id, amount, hash, a]),
        receivableId: id,
        result: { amount: dto.amount, creditNoteHash: hash },
      },
      dto,
      wait,
      {
        hint: () => this.requireParty(id, holder, "holder", "issue a credit note on"),
        afterSubmit: async () => {
          if (file) await this.documents.link(id, file, holder);
        },
      },
    );
  }

  /** POST /receivables/:id/repay: the debtor pays the holder in the settlement token. */
  repay(user: AuthUser, id: string, dto: RepayReceivableDto, wait: boolean): Promise<WriteOutcome> {
    const debtor = getAddress(user.address);
    const amount = BigInt(dto.amount);
    if (dto.permit && dto.permitSignature) throw new BadRequestException("Send either permit or permitSignature, not both.");
    const draft: ActDraft = {
      kind: "pay",
      contract: "Receivables",
      primaryType: "Pay",
      message: { debtor, receivableId: BigInt(id), amount },
      encode: (a) => IFACE.encodeFunctionData("payBySig", [debtor, id, amount, a]),
      receivableId: id,
      result: { amount: dto.amount },
    };
    return this.runner.run(user, draft, dto, wait, {
      hint: () => this.requireParty(id, debtor, "debtor", "repay"),
      beforeSubmit: async () => {
        if (dto.permit || dto.permitSignature) {
          await this.permits.precheckSignature(debtor, draft, dto);
          await this.permits.relayPermit(debtor, amount, dto);
        }
      },
      unsignedExtra: async (u) => ({
        permitTypedData: await this.permits.permitTypedData(debtor, amount, BigInt(u.typedData.message.deadline as string)),
      }),
    }).catch((err: unknown) => {
      // The contract's allowance error names approve(); a relayed client can also send a permit.
      if (err instanceof HttpException && (err.getResponse() as { error?: string }).error === "ERC20InsufficientAllowance") {
        const body = err.getResponse() as { error: string; message: string };
        throw new ConflictException({
          ...body,
          message: `${body.message} Or send an EIP-2612 permit with the repayment (permit, or permitSignature over permitTypedData).`,
        });
      }
      throw err;
    });
  }

  /** The recorded terms of `id` the debtor's acceptance names. */
  private async termsOf(id: string): Promise<{ seller: string; faceValue: bigint; dueDate: bigint; documentHash: string }> {
    const r = await this.ds.getRepository(ReceivableEntity).findOneBy({ id });
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

  /** Early check on the unsigned step: the receivable exists and `who` is its debtor or holder. */
  private async requireParty(id: string, who: string, role: "debtor" | "holder", act: string): Promise<void> {
    let view: { holder: string; debtor: string };
    try {
      view = await this.chain.contracts.receivables.receivable(id);
    } catch (err) {
      const data = revertDataOf(err);
      if (data === null) throw err;
      throw revertToHttp(parseLedgerError(data), data.slice(0, 10));
    }
    const party = role === "debtor" ? view.debtor : view.holder;
    if (getAddress(party) !== who) {
      throw new ForbiddenException({
        error: "ReceivableUnauthorized",
        message: `Only the ${role} of receivable ${id} can ${act} it; ${who} is not its ${role}.`,
      });
    }
  }
}
