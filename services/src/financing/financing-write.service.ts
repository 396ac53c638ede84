/**
 * Financing acts signed by participants: a financier opens, updates and closes credit lines and
 * approves, rejects or writes off financings; the holder of an accepted receivable requests
 * financing on terms, and may withdraw its pending request. With settle "with-approval" the signed
 * request is kept off-chain as an offer (financing_offers) in the line's financier's queue; the
 * financier's signed approval is relayed with it in one transaction (financeSignedRequestBySig),
 * and the holder may withdraw the offer, which consumes its nonce on-chain.
 * Terms the signer did not name are proposed from the chain, and must come back in the signed post
 * exactly as signed (the typed data carries them): a request's terms default to the line's quote
 * now (the least the supplier will take) lapsing in REQUEST_LAPSE_DAYS; an approval's advance and
 * payout default to the line's quote now. The approval's registration number (movable-property
 * financing registry) goes on-chain as a hash; the number itself stays in the act's result and in
 * registration_numbers (registration.ts), where a financier also gives the number of a financing it
 * approved directly on-chain. Each act is an ActSpec run by ActPipeline (typed data to sign, signature
 * check, simulation of the relayed call, act + outbox row); its plan builds the act and, unless the
 * post is a replay, runs what must hold first:
 * - the financing compliance rules before every request (recorded, each run's id on the act);
 * - the financing's on-chain state before approve / reject / write-off, so "nothing requested"
 *   is a 404 and a wrong state a 409 in words rather than a bare revert;
 * - before handing out typed data, a simulation of the direct call from the signer (the plan's
 *   `direct`), so a participant is refused before signing an act the ledger would refuse now.
 * A signed act already recorded (same signer and nonce) skips the checks: posting it again answers
 * the first act even after the ledger's state has moved on (ActsService compares the digest).
 * HTTP statuses follow the contract's own refusals: 403 not yours, 404 unknown, 409 wrong state
 * or over the limit, 422 otherwise, whether compliance or the contract finds the problem.
 */
import { randomUUID } from "node:crypto";
import {
  BadRequestException,
  ConflictException,
  ForbiddenException,
  HttpException,
  HttpStatus,
  Injectable,
  NotFoundException,
  UnprocessableEntityException,
  type OnModuleInit,
} from "@nestjs/common";
import { InjectRepository } from "@nestjs/typeorm";
import { ZeroAddress, ZeroHash, encodeBytes32String, getAddress, type LogDescription, type TransactionReceipt } from "ethers";
import type { EntityManager, Repository } from "typeorm";
import { FINANCING_INTERFACE } from "../chain/ledger-abi";
import { ActPipeline } from "../acts/act-pipeline.service";
import { defineAct, type ActInput, type ActPlan } from "../acts/act-spec";
import { ActsService } from "../acts/acts.service";
import { parseLedgerError, revertToHttp } from "../acts/revert-to-http";
import { type AuthUser } from "../auth/auth.decorators";
import { ROLE_BITS } from "../../../shared/roles";
import { ChainService } from "../chain/chain.service";
import { hasLedgerFeature } from "../chain/deployment";
import { revertDataOf } from "../chain/errors";
import { parseReceivableId, ReceivableIdError, receivableIdHex } from "../../../shared/ids";
import { ComplianceService, type ComplianceRun } from "../compliance/compliance.service";
import { DbWriter } from "../database/db-writer";
import { CreditLineEntity, FinancingEntity, ReceivableEntity } from "../read-model/entities/projections.entity";
import type { FinancingDto } from "./dto/financing-read.dto";
import { RegistrationNumberEntity } from "./entities/registration-number.entity";
import { FinancingOfferEntity } from "./entities/financing-offer.entity";
import { FinancingReadService } from "./financing-read.service";
import type {
  FinancingOfferDto,
  ListOffersQueryDto,
  OfferStatus,
  ApproveFinancingDto,
  CreditLineTermsDto,
  OpenCreditLineDto,
  RejectFinancingDto,
  RequestFinancingDto,
  UpdateCreditLineDto,
} from "./dto/financing-write.dto";
import {
  approvalAtLineTerms,
  normaliseRegistrationNumber,
  quoteFinancing,
  registrationHash,
  requestTermsFromQuote,
  type ApprovalTerms,
  type RequestTerms,
} from "../../../shared/financing-terms";

const UINT64_MAX = 2n ** 64n - 1n;

/** IFinancing.Status, by its numeric value. */
const FINANCING_STATUS = ["none", "requested", "rejected", "active", "repaid", "written_off", "withdrawn"] as const;
/** How long a request stays open for the financier's answer unless the supplier names a lapse time. */
export const REQUEST_LAPSE_DAYS = 7;
/** An offer's signature deadline: at most this far out (the acts' own limit is 7 days), so it lapses with the request. */
const OFFER_MAX_DEADLINE_SECONDS = 7 * 86_400 - 300;
const REQUESTED = 1;
const ACTIVE = 3;
/** IReceivables.Status, by its numeric value. */
const RECEIVABLE_STATUS = ["none", "issued", "accepted", "financed", "paid", "defaulted", "cancelled", "split"] as const;
const DEFAULTED = 5;

/** What an offer's plan hands its later steps. */
interface OfferContext {
  id: { value: bigint; hex: string };
  terms: RequestTerms;
}

interface LineTerms {
  limit: bigint;
  maxAdvanceBps: bigint;
  discountBps: bigint;
  expiry: bigint;
}

/** A receivable id as the API takes it (0x hex or decimal), checked and normalised. */
function receivableIdArg(raw: string): { value: bigint; hex: string } {
  let value: bigint;
  try {
    value = parseReceivableId(raw, { shortHex: true });
  } catch (e) {
    if (e instanceof ReceivableIdError && e.reason === "range") throw new BadRequestException("The receivable id does not fit 256 bits.");
    throw new BadRequestException("The receivable id must be 0x-prefixed hex or a decimal integer.");
  }
  return { value, hex: receivableIdHex(value) };
}

@Injectable()
export class FinancingWriteService implements OnModuleInit {
  private readonly iface = FINANCING_INTERFACE;

  constructor(
    @InjectRepository(FinancingOfferEntity) private readonly offers: Repository<FinancingOfferEntity>,
    @InjectRepository(FinancingEntity) private readonly financings: Repository<FinancingEntity>,
    @InjectRepository(ReceivableEntity) private readonly receivables: Repository<ReceivableEntity>,
    @InjectRepository(CreditLineEntity) private readonly lines: Repository<CreditLineEntity>,
    private readonly acts: ActsService,
    private readonly pipeline: ActPipeline,
    private readonly chain: ChainService,
    private readonly compliance: ComplianceService,
    private readonly db: DbWriter,
    private readonly reads: FinancingReadService,
  ) {}

  onModuleInit(): void {
    this.pipeline.register(
      this.openCreditLine,
      this.updateCreditLine,
      this.closeCreditLine,
      this.requestFinancing,
      this.offer,
      this.withdrawRequest,
      this.approveFinancing,
      this.rejectFinancing,
      this.writeOff,
      this.approveOffer,
      this.withdrawOffer,
    );
    // The new line's id exists only once mined; the advance and payout depend on the block's time.
    this.acts.onConfirmed("open_line", (receipt) => {
      const e = this.financingEvent(receipt, "CreditLineOpened");
      if (!e) return {};
      const lineId = Number(e.args.lineId);
      return { lineId, result: { lineId } };
    });
    for (const kind of ["approve_financing", "approve_offer"]) {
      this.acts.onConfirmed(kind, (receipt) => {
        const e = this.financingEvent(receipt, "FinancingApproved");
        if (!e) return {};
        return { result: { lineId: Number(e.args.lineId), advance: e.args.advance as bigint, paid: e.args.paid as bigint } };
      });
    }
  }

  // ---------------------------------------------------------------- credit lines

  /** POST /credit-lines: the signed-in financier opens a line for a debtor and/or a supplier. */
  readonly openCreditLine = defineAct<OpenCreditLineDto>({
    name: "financing.open_line",
    kind: "open_line",
    contract: "Financing",
    primaryType: "OpenCreditLine",
    plan: ({ user, body }, replay) => {
      const financier = user.address;
      const debtor = body.debtor ? getAddress(body.debtor.toLowerCase()) : ZeroAddress;
      const supplier = body.supplier ? getAddress(body.supplier.toLowerCase()) : ZeroAddress;
      const terms = this.terms(body, !replay);
      if (!replay) {
        if (debtor === ZeroAddress && supplier === ZeroAddress) {
          throw new BadRequestException("A credit line must name the debtor, the supplier or both that it covers.");
        }
        if (debtor === financier || supplier === financier) {
          throw new UnprocessableEntityException("A financier cannot be the debtor or the supplier of its own credit line.");
        }
        if (debtor !== ZeroAddress && debtor === supplier) {
          throw new UnprocessableEntityException("The debtor and the supplier of a credit line must be different members.");
        }
      }
      return {
        message: { financier, debtor, supplier, terms },
        encode: (auth) => this.iface.encodeFunctionData("openCreditLineBySig", [financier, debtor, supplier, terms, auth]),
        direct: this.iface.encodeFunctionData("openCreditLine", [debtor, supplier, terms]),
      };
    },
  });

  /** POST /credit-lines/:id/update: new terms for one of the financier's lines. */
  readonly updateCreditLine = defineAct<UpdateCreditLineDto>({
    name: "financing.update_line",
    kind: "update_line",
    contract: "Financing",
    primaryType: "UpdateCreditLine",
    plan: ({ user, id, body }, replay) => {
      const financier = user.address;
      const lineId = Number(id);
      const terms = this.terms(body, !replay);
      return {
        message: { financier, lineId, terms },
        encode: (auth) => this.iface.encodeFunctionData("updateCreditLineBySig", [financier, lineId, terms, auth]),
        lineId,
        direct: this.iface.encodeFunctionData("updateCreditLine", [lineId, terms]),
      };
    },
  });

  /** POST /credit-lines/:id/close: no new financing on the line; running financings continue. */
  readonly closeCreditLine = defineAct({
    name: "financing.close_line",
    kind: "close_line",
    contract: "Financing",
    primaryType: "CloseCreditLine",
    plan: ({ user, id }) => {
      const financier = user.address;
      const lineId = Number(id);
      return {
        message: { financier, lineId },
        encode: (auth) => this.iface.encodeFunctionData("closeCreditLineBySig", [financier, lineId, auth]),
        lineId,
        direct: this.iface.encodeFunctionData("closeCreditLine", [lineId]),
      };
    },
  });

  // ---------------------------------------------------------------- financings

  /** POST /financings: the holder of an accepted receivable asks a credit line to finance it on terms. */
  readonly requestFinancing = defineAct<RequestFinancingDto>({
    name: "financing.request",
    kind: "request_financing",
    contract: "Financing",
    primaryType: "RequestFinancing",
    plan: async ({ user, body }, replay) => {
      const supplier = user.address;
      const id = receivableIdArg(body.receivableId);
      const lineId = body.lineId;
      const runId = replay ? null : await this.checkCompliance(id.hex, supplier, lineId);
      const terms = await this.requestTerms(body, id.value, !!body.signature, !replay);
      return {
        message: { supplier, receivableId: id.value, terms },
        encode: (auth) => this.iface.encodeFunctionData("requestFinancingBySig", [supplier, id.value, terms, auth]),
        receivableId: id.hex,
        lineId,
        result: { complianceRunId: runId },
        direct: this.iface.encodeFunctionData("requestFinancing", [id.value, terms]),
      };
    },
  });

  /** POST /financings/:id/withdraw: the requester takes back its pending request. */
  readonly withdrawRequest = defineAct({
    name: "financing.withdraw_request",
    kind: "withdraw_financing",
    contract: "Financing",
    primaryType: "WithdrawFinancingRequest",
    plan: async ({ user, id: rawId }, replay) => {
      const supplier = user.address;
      const id = receivableIdArg(rawId!);
      const f = await this.financingRecord(id.value);
      if (!replay) this.requireStatus(f.status, id.hex, REQUESTED, "withdrawn");
      return {
        message: { supplier, receivableId: id.value },
        encode: (auth) => this.iface.encodeFunctionData("withdrawFinancingRequestBySig", [supplier, id.value, auth]),
        receivableId: id.hex,
        lineId: f.lineId || null,
        direct: this.iface.encodeFunctionData("withdrawFinancingRequest", [id.value]),
      };
    },
  });

  /**
   * POST /financings/:id/approve: assignment, payment and utilisation in one step, naming the line,
   * the advance and the payout, and recording the registration number.
   */
  readonly approveFinancing = defineAct<ApproveFinancingDto>({
    name: "financing.approve",
    kind: "approve_financing",
    contract: "Financing",
    primaryType: "ApproveFinancing",
    plan: async ({ user, id: rawId, body }, replay) => {
      const financier = user.address;
      const id = receivableIdArg(rawId!);
      const registrationNumber = normaliseRegistrationNumber(body.registrationNumber);
      const f = await this.financingRecord(id.value);
      if (!replay) this.requireStatus(f.status, id.hex, REQUESTED, "approved");
      const approval = await this.approvalTerms(body, id.value, f.lineId, registrationHash(registrationNumber));
      return {
        message: { financier, receivableId: id.value, approval },
        encode: (auth) => this.iface.encodeFunctionData("approveFinancingBySig", [financier, id.value, approval, auth]),
        receivableId: id.hex,
        lineId: f.lineId || null,
        result: { registrationNumber, registrationHash: approval.registrationHash },
        direct: this.iface.encodeFunctionData("approveFinancing", [id.value, approval]),
      };
    },
    // The number is kept by its hash once the signed act is accepted; shown for a financing only when
    // that hash is the one approved on-chain (registration.ts).
    afterRecorded: async ({ user, body }) => {
      await this.keepRegistrationNumber(normaliseRegistrationNumber(body.registrationNumber), user.address, "approval");
    },
  });

  /**
   * POST /financings/:id/registration: the financier of an approved financing gives its registration
   * number, when the approval was made on-chain directly and the service does not know it. The number
   * must hash to the one approved on-chain. Giving a number already known is answered the same.
   */
  async recordRegistration(user: AuthUser, rawId: string, rawNumber: string): Promise<FinancingDto> {
    const id = receivableIdArg(rawId);
    const f = await this.financings.findOneBy({ receivableId: id.hex });
    if (!f) throw new NotFoundException(`receivable ${id.hex} has no financing (as indexed so far)`);
    if (f.financier !== user.address) {
      throw new ForbiddenException(`only the financier of the financing of ${id.hex} may give its registration number; ${user.address} is not`);
    }
    if (f.registrationHash === null) {
      throw new ConflictException({
        error: "FinancingNotApproved",
        message: `the financing of ${id.hex} is ${f.status}, not approved: its registration number is given with the approval`,
      });
    }
    const number = normaliseRegistrationNumber(rawNumber);
    const hash = registrationHash(number);
    if (hash !== f.registrationHash.toLowerCase()) {
      throw new UnprocessableEntityException({
        error: "RegistrationMismatch",
        message:
          `registration number ${number} hashes to ${hash}, but the approval of ${id.hex} recorded ${f.registrationHash} on-chain: ` +
          "check the number against the registry's certificate (letters are compared in upper case)",
      });
    }
    await this.keepRegistrationNumber(number, user.address, "financier");
    return this.reads.withRegistration(f);
  }

  private keepRegistrationNumber(number: string, by: string, source: RegistrationNumberEntity["source"]): Promise<unknown> {
    return this.db.write((m) =>
      m
        .createQueryBuilder()
        .insert()
        .into(RegistrationNumberEntity)
        .values({ registrationHash: registrationHash(number), registrationNumber: number, source, recordedBy: by, recordedAt: Math.floor(Date.now() / 1000) })
        .orIgnore()
        .execute(),
    );
  }


  /** POST /financings/:id/reject: the code goes on-chain, the text stays with the act. */
  readonly rejectFinancing = defineAct<RejectFinancingDto>({
    name: "financing.reject",
    kind: "reject_financing",
    contract: "Financing",
    primaryType: "RejectFinancing",
    plan: async ({ user, id: rawId, body }, replay) => {
      const financier = user.address;
      const id = receivableIdArg(rawId!);
      const reasonCode = encodeBytes32String(body.reasonCode);
      const f = await this.financingRecord(id.value);
      if (!replay) this.requireStatus(f.status, id.hex, REQUESTED, "rejected");
      const lineId = f.lineId;
      return {
        message: { financier, receivableId: id.value, lineId, reasonCode },
        encode: (auth) => this.iface.encodeFunctionData("rejectFinancingBySig", [financier, id.value, lineId, reasonCode, auth]),
        receivableId: id.hex,
        lineId: f.lineId || null,
        result: { reasonCode: body.reasonCode, reason: body.reason ?? null },
        direct: this.iface.encodeFunctionData("rejectFinancing", [id.value, lineId, reasonCode]),
      };
    },
  });

  /** POST /financings/:id/write-off: the principal of a defaulted receivable leaves the line. */
  readonly writeOff = defineAct({
    name: "financing.write_off",
    kind: "write_off",
    contract: "Financing",
    primaryType: "WriteOff",
    plan: async ({ user, id: rawId }, replay) => {
      const financier = user.address;
      const id = receivableIdArg(rawId!);
      const f = await this.financingRecord(id.value);
      if (!replay) {
        this.requireStatus(f.status, id.hex, ACTIVE, "written off");
        const r = await this.chain.contracts.receivables.receivable(id.value);
        if (Number(r.status) !== DEFAULTED) {
          throw new ConflictException(
            `Receivable ${id.hex} is ${RECEIVABLE_STATUS[Number(r.status)]}, not defaulted: only a receivable marked defaulted ` +
              "(unpaid past its due date and grace period) can be written off.",
          );
        }
      }
      return {
        message: { financier, receivableId: id.value },
        encode: (auth) => this.iface.encodeFunctionData("writeOffBySig", [financier, id.value, auth]),
        receivableId: id.hex,
        lineId: f.lineId || null,
        direct: this.iface.encodeFunctionData("writeOff", [id.value]),
      };
    },
  });

  // ---------------------------------------------------------------- offers: financing in one transaction

  /**
   * POST /financings with settle "with-approval": the same RequestFinancing typed data and checks
   * as an on-chain request; the signed request is verified, simulated as the relayed call (so a
   * request the ledger would refuse now, or a nonce already used, is refused here) and kept as an
   * offer in the line's financier's queue instead of being relayed.
   */
  readonly offer = defineAct<RequestFinancingDto>({
    name: "financing.offer",
    kind: "financing_offer",
    contract: "Financing",
    primaryType: "RequestFinancing",
    plan: async ({ user, body }) => {
      if (!hasLedgerFeature(this.chain.deployment, "financing-offers")) {
        throw new ConflictException({
          error: "LedgerFeatureUnavailable",
          message:
            "This ledger's Financing contract was deployed before financing in one transaction existed (its deployment record lists no " +
            '"financing-offers" feature): request financing without "settle" and let the financier approve the request.',
        });
      }
      const supplier = user.address;
      const id = receivableIdArg(body.receivableId);
      const terms = await this.requestTerms(body, id.value, !!body.signature, true);
      // The signature must outlive the hour an act's typed data usually allows: the offer waits in
      // the financier's queue until it lapses (at the earlier of expiresAt and the deadline).
      const latest = BigInt(Math.floor(Date.now() / 1000) + OFFER_MAX_DEADLINE_SECONDS);
      const deadline = body.deadline ?? String(terms.expiresAt < latest ? terms.expiresAt : latest);
      return {
        message: { supplier, receivableId: id.value, terms },
        encode: (auth) => this.iface.encodeFunctionData("requestFinancingBySig", [supplier, id.value, terms, auth]),
        direct: this.iface.encodeFunctionData("requestFinancing", [id.value, terms]),
        signWith: body.signature ? undefined : { deadline },
        context: { id, terms },
      };
    },
    beforeSigning: async ({ user, body }, plan) => {
      await this.checkCompliance((plan.context as OfferContext).id.hex, user.address, body.lineId);
    },
    keep: (input, plan) => this.keepOffer(input, plan),
  });

  /** The signed offer, verified, checked and simulated as the relayed call, kept for the line's financier. */
  private async keepOffer({ user, body }: ActInput<RequestFinancingDto>, plan: ActPlan): Promise<FinancingOfferDto> {
    const supplier = user.address;
    const { id, terms } = plan.context as OfferContext;
    const lineId = body.lineId;
    const signed = await this.acts.checkSigned(supplier, plan, body);
    const repo = this.offers;
    const existing = await repo.findOneBy({ supplier, nonce: signed.nonce.toString() });
    if (existing) {
      if (existing.typedDataHash === signed.digest) return this.offerView(existing);
      throw new ConflictException(`Nonce ${signed.nonce} of ${supplier} was already used for another offer; ask for new typed data.`);
    }
    await this.checkCompliance(id.hex, supplier, lineId);
    // The relayed request as the ledger would take it now: signature, unused nonce, holder, terms, line.
    const auth = { nonce: signed.nonce, deadline: signed.deadline, signature: signed.signature };
    await this.simulateAs(this.chain.relayerFor(supplier).address, plan.encode(auth));
    const line = await this.chain.contracts.financing.creditLine(lineId);
    const now = Date.now();
    const row = repo.create({
      id: randomUUID(),
      receivableId: id.hex,
      lineId,
      supplier,
      financier: getAddress(line.financier),
      minPaid: terms.minPaid,
      maxDiscount: terms.maxDiscount,
      expiresAt: Number(terms.expiresAt),
      nonce: signed.nonce.toString(),
      deadline: Number(signed.deadline),
      signature: signed.signature,
      typedDataHash: signed.digest,
      status: "open",
      actId: null,
      createdAt: now,
      updatedAt: now,
    });
    try {
      await repo.insert(row);
    } catch (err) {
      const again = await repo.findOneBy({ supplier, nonce: row.nonce });
      if (again?.typedDataHash === signed.digest) return this.offerView(again); // a concurrent identical post won
      throw err;
    }
    return this.offerView(row);
  }

  /** GET /financing-offers: the caller's offers (suppliers), its queue (financiers), or all (auditors, compliance). */
  async listOffers(user: AuthUser, q: ListOffersQueryDto): Promise<FinancingOfferDto[]> {
    const repo = this.offers;
    const rows = readsAll(user)
      ? await repo.find({ order: { createdAt: "DESC" }, take: 500 })
      : await repo.find({ where: [{ supplier: user.address }, { financier: user.address }], order: { createdAt: "DESC" }, take: 500 });
    const views = await Promise.all(rows.map((r) => this.offerView(r)));
    return q.status ? views.filter((v) => v.status === q.status) : views;
  }

  /** GET /financing-offers/:id */
  async getOffer(user: AuthUser, offerId: string): Promise<FinancingOfferDto> {
    const o = await this.loadOffer(offerId);
    if (!readsAll(user) && o.supplier !== user.address && o.financier !== user.address) {
      throw new ForbiddenException(`Only the supplier and the financier of offer ${offerId}, auditors and compliance officers can read it.`);
    }
    const view = await this.offerView(o);
    if (view.status !== "open") return view;
    // What approving now would advance and pay: the financier needs it (an allowance for the
    // advance) before it may read the receivable itself.
    const q = await approvalAtLineTerms(this.chain.contracts, BigInt(o.receivableId), ZeroHash, await this.chainTime(), BigInt(o.lineId)).catch(() => null);
    return { ...view, advanceNow: q ? q.advance.toString() : null, paidNow: q ? q.paid.toString() : null };
  }

  /**
   * POST /financing-offers/:id/approve: the line's financier signs ApproveSignedRequest (line,
   * advance, payout, registration; naming the supplier) and the service relays it with the
   * supplier's signed request: Financing.financeSignedRequestBySig, one transaction. Recording the
   * act moves the offer from open to approving in the same database transaction, so a concurrent
   * withdrawal (or second approval) finds it taken.
   */
  readonly approveOffer = defineAct<ApproveFinancingDto>({
    name: "financing.approve_offer",
    kind: "approve_offer",
    contract: "Financing",
    primaryType: "ApproveSignedRequest",
    plan: async ({ user, id: offerId, body }, replay) => {
      const financier = user.address;
      const o = await this.loadOffer(offerId!);
      if (o.financier !== financier) {
        throw new ForbiddenException({
          error: "CreditLineUnauthorized",
          message: `Offer ${offerId} is on credit line ${o.lineId} of ${o.financier}; only that financier can approve it (${financier} is not).`,
        });
      }
      if (!replay) await this.requireOpen(o, "approved");
      const id = receivableIdArg(o.receivableId);
      const registrationNumber = normaliseRegistrationNumber(body.registrationNumber);
      const approval = await this.approvalTerms(body, id.value, o.lineId, registrationHash(registrationNumber));
      if (!replay) {
        const discount = approval.advance - approval.paid;
        if (approval.paid < o.minPaid || discount > o.maxDiscount) {
          throw new UnprocessableEntityException({
            error: "FinancingTermsNotMet",
            message:
              `Approving offer ${offerId} now would pay the supplier ${approval.paid} fen with a discount of ${discount} fen; the offer asks at least ` +
              `${o.minPaid} fen now and at most ${o.maxDiscount} fen discount. The line's terms no longer meet it: restore them or let the offer lapse.`,
          });
        }
      }
      const terms: RequestTerms = { lineId: BigInt(o.lineId), minPaid: o.minPaid, maxDiscount: o.maxDiscount, expiresAt: BigInt(o.expiresAt) };
      const supplierAuth = { nonce: BigInt(o.nonce), deadline: BigInt(o.deadline), signature: o.signature };
      return {
        message: { financier, supplier: o.supplier, receivableId: id.value, approval },
        encode: (auth) =>
          this.iface.encodeFunctionData("financeSignedRequestBySig", [o.supplier, id.value, terms, supplierAuth, financier, approval, auth]),
        receivableId: id.hex,
        lineId: o.lineId,
        result: { offerId, registrationNumber, registrationHash: approval.registrationHash },
        record: (m, act) => this.takeOffer(m, o, "approving", act.id),
        // The financier submitting the signed request itself: the same checks as the relayed call.
        direct: this.iface.encodeFunctionData("financeSignedRequest", [o.supplier, id.value, terms, supplierAuth, approval]),
      };
    },
  });

  /**
   * POST /financing-offers/:id/withdraw: the supplier signs WithdrawFinancingOffer with the offer's
   * own nonce. Recording it moves the offer from open to withdrawn (refused once an approval is
   * being relayed), and the relayed call consumes the nonce on-chain, so the supplier's signed
   * request can never be used afterwards, through this service or any other way.
   */
  readonly withdrawOffer = defineAct({
    name: "financing.withdraw_offer",
    kind: "withdraw_offer",
    contract: "Financing",
    primaryType: "WithdrawFinancingOffer",
    plan: async ({ user, id: offerId, body }, replay) => {
      const supplier = user.address;
      const o = await this.loadOffer(offerId!);
      if (o.supplier !== supplier) {
        throw new ForbiddenException({ error: "FinancingNotHolder", message: `Offer ${offerId} is ${o.supplier}'s; only it can withdraw the offer.` });
      }
      if (body.nonce !== undefined && body.nonce !== o.nonce) {
        throw new UnprocessableEntityException({
          error: "FinancingOfferNonceMismatch",
          message: `A withdrawal must be signed with the offer's own nonce ${o.nonce} (it is what the withdrawal consumes), not ${body.nonce}.`,
        });
      }
      if (!replay) await this.requireOpen(o, "withdrawn");
      const id = receivableIdArg(o.receivableId);
      return {
        message: { supplier, receivableId: id.value },
        encode: (auth) => this.iface.encodeFunctionData("withdrawFinancingOfferBySig", [supplier, id.value, auth]),
        receivableId: id.hex,
        lineId: o.lineId,
        result: { offerId },
        record: (m, act) => this.takeOffer(m, o, "withdrawn", act.id),
        signWith: { nonce: o.nonce },
      };
    },
  });

  private async loadOffer(offerId: string): Promise<FinancingOfferEntity> {
    const o = await this.offers.findOneBy({ id: offerId });
    if (!o) throw new NotFoundException({ error: "FinancingOfferNotFound", message: `No financing offer ${offerId}.` });
    return o;
  }

  /** Refuses unless the offer can still be approved or withdrawn now: 409 (taken) or 422 (lapsed). */
  private async requireOpen(o: FinancingOfferEntity, verb: string): Promise<void> {
    const v = await this.offerView(o);
    if (v.status === "open") return;
    if (v.status === "expired") {
      throw new UnprocessableEntityException({
        error: "FinancingOfferExpired",
        message: `Offer ${o.id} lapsed at ${v.expiresAt < v.deadline ? v.expiresAt : v.deadline}; it can no longer be ${verb}. The supplier may make a new one.`,
      });
    }
    const why: Record<Exclude<OfferStatus, "open" | "expired">, [string, string]> = {
      withdrawn: ["FinancingOfferWithdrawn", "was withdrawn by its supplier"],
      approving: ["FinancingOfferApproving", `is being approved (act ${o.actId})`],
      financed: ["FinancingOfferFinanced", "is already financed"],
    };
    const [code, text] = why[v.status];
    throw new ConflictException({ error: code, message: `Offer ${o.id} ${text}; it can no longer be ${verb}.` });
  }

  /**
   * In the transaction recording `actId`: moves the offer from open (or from an approval that
   * failed on-chain) to `status`. One conditional update, so of an approval and a withdrawal racing
   * for the same offer exactly one is recorded; the other rolls back with 409.
   */
  private async takeOffer(m: EntityManager, o: FinancingOfferEntity, status: "approving" | "withdrawn", actId: string): Promise<void> {
    const res = await m
      .createQueryBuilder()
      .update(FinancingOfferEntity)
      .set({ status, actId, updatedAt: Date.now() })
      .where("id = :id", { id: o.id })
      .andWhere("(status = 'open' OR (status = 'approving' AND act_id IN (SELECT a.id FROM acts a WHERE a.status = 'failed')))")
      .execute();
    if (!res.affected) {
      throw new ConflictException({
        error: "FinancingOfferTaken",
        message: `Offer ${o.id} was approved or withdrawn meanwhile; it can no longer be ${status === "approving" ? "approved" : "withdrawn"}.`,
      });
    }
  }

  private async offerView(o: FinancingOfferEntity): Promise<FinancingOfferDto> {
    let status: OfferStatus = o.status === "withdrawn" ? "withdrawn" : "open";
    let lastFailure: string | null = null;
    if (o.status === "approving" && o.actId) {
      const act = await this.acts.find(o.actId);
      if (act?.status === "confirmed") status = "financed";
      else if (act?.status === "failed") lastFailure = act.failureReason;
      else status = "approving";
    }
    if (status === "open" && Math.min(o.expiresAt, o.deadline) <= Math.floor(Date.now() / 1000)) status = "expired";
    return {
      id: o.id,
      kind: "financing_offer",
      receivableId: o.receivableId,
      lineId: o.lineId,
      supplier: o.supplier,
      financier: o.financier,
      minPaid: o.minPaid.toString(),
      maxDiscount: o.maxDiscount.toString(),
      expiresAt: isoSeconds(BigInt(o.expiresAt)),
      deadline: isoSeconds(BigInt(o.deadline)),
      nonce: o.nonce,
      status,
      actId: o.actId,
      lastFailure,
      createdAt: new Date(o.createdAt).toISOString(),
    };
  }

  /** Runs `data` on Financing from `from` against the latest state; a ledger refusal is the answer. */
  private async simulateAs(from: string, data: string): Promise<void> {
    try {
      await this.chain.provider.call({ from, to: this.chain.addresses.Financing, data, blockTag: "latest" });
    } catch (err) {
      const revert = revertDataOf(err);
      if (revert === null) throw err;
      throw revertToHttp(parseLedgerError(revert), revert.slice(0, 10));
    }
  }

  // ---------------------------------------------------------------- shared steps

  private terms(dto: CreditLineTermsDto, check: boolean): LineTerms {
    const limit = BigInt(dto.limit);
    const expiryMs = Date.parse(dto.expiry);
    if (check) {
      if (limit > UINT64_MAX) throw new BadRequestException(`limit must be at most ${UINT64_MAX} fen.`);
      if (!Number.isFinite(expiryMs)) throw new BadRequestException("expiry must be an ISO 8601 date-time.");
      if (expiryMs <= Date.now()) {
        throw new UnprocessableEntityException(`expiry ${new Date(expiryMs).toISOString()} is not in the future.`);
      }
    }
    return {
      limit,
      maxAdvanceBps: BigInt(dto.maxAdvanceBps),
      discountBps: BigInt(dto.discountBps),
      expiry: BigInt(Math.floor((Number.isFinite(expiryMs) ? expiryMs : 0) / 1000)),
    };
  }

  /**
   * The request's terms: as the body names them, or (unsigned, none named) the line's quote now,
   * lapsing in REQUEST_LAPSE_DAYS. A signed body must name what it signed.
   */
  private async requestTerms(dto: RequestFinancingDto, receivableId: bigint, signed: boolean, check: boolean): Promise<RequestTerms> {
    const lineId = BigInt(dto.lineId);
    const named = [dto.minPaid, dto.maxDiscount, dto.expiresAt].filter((v) => v !== undefined).length;
    if (named === 3) {
      const expiresMs = Date.parse(dto.expiresAt!);
      if (check && expiresMs <= Date.now()) {
        throw new UnprocessableEntityException(`expiresAt ${new Date(expiresMs).toISOString()} is not in the future.`);
      }
      return { lineId, minPaid: BigInt(dto.minPaid!), maxDiscount: BigInt(dto.maxDiscount!), expiresAt: BigInt(Math.floor(expiresMs / 1000)) };
    }
    if (named > 0 || signed) {
      throw new BadRequestException(
        "Name all of minPaid, maxDiscount and expiresAt, or none (the service then proposes the line's quote); a signed request must carry the terms of the typed data it signed.",
      );
    }
    const at = await this.chainTime();
    const [line, r] = await Promise.all([
      this.chain.contracts.financing.creditLine(lineId),
      this.chain.contracts.receivables.receivable(receivableId),
    ]);
    const q = quoteFinancing(line, r.outstanding, r.dueDate, at);
    return requestTermsFromQuote(lineId, q, at + BigInt(REQUEST_LAPSE_DAYS * 86_400));
  }

  /** The approval's amounts: as the body names them, or (unsigned, none named) the line's quote now. */
  private async approvalTerms(dto: ApproveFinancingDto, receivableId: bigint, lineId: number, registration: string): Promise<ApprovalTerms> {
    if (dto.advance !== undefined && dto.paid !== undefined) {
      return { lineId: BigInt(lineId), advance: BigInt(dto.advance), paid: BigInt(dto.paid), registrationHash: registration };
    }
    if (dto.advance !== undefined || dto.paid !== undefined || dto.signature) {
      throw new BadRequestException(
        "Name both advance and paid, or neither (the service then proposes the line's quote); a signed approval must carry the amounts of the typed data it signed.",
      );
    }
    return approvalAtLineTerms(this.chain.contracts, receivableId, registration, await this.chainTime(), BigInt(lineId));
  }

  private async chainTime(): Promise<bigint> {
    const block = await this.chain.provider.getBlock("latest");
    return BigInt(block?.timestamp ?? Math.floor(Date.now() / 1000));
  }

  private async financingRecord(receivableId: bigint): Promise<{ status: number; lineId: number }> {
    const f = await this.chain.contracts.financing.financing(receivableId);
    return { status: Number(f.status), lineId: Number(f.lineId) };
  }

  private requireStatus(status: number, receivableHex: string, wanted: number, verb: string): void {
    if (status === 0) throw new NotFoundException(`No financing has been requested for receivable ${receivableHex}.`);
    if (status !== wanted) {
      throw new ConflictException(
        `The financing of receivable ${receivableHex} is ${FINANCING_STATUS[status]}; only ${
          wanted === REQUESTED ? "a requested" : "an active"
        } financing can be ${verb}.`,
      );
    }
  }

  /**
   * Runs and records the financing rules; returns the run id, or refuses with every failed rule's
   * reason. The status names the first problem in the order the contract meets them: the
   * receivable's state (404 unknown, 409 not accepted or already financed), the requester
   * (403 not the holder), due date and line (404 unknown line, 409 closed, expired, out of scope
   * or without headroom); any other failed rule answers 422.
   */
  private async checkCompliance(receivableId: string, requester: string, lineId: number): Promise<string> {
    const run = await this.compliance.checkFinancing(null, { receivableId, requester, lineId });
    if (run.overall !== "fail") return run.runId;
    let failed = run.outcomes.filter((o) => o.result === "fail");
    const status = await this.complianceStatus(failed, receivableId, lineId);
    // A requester who does not hold the receivable learns that, and nothing else about it.
    if (status === HttpStatus.FORBIDDEN) failed = failed.filter((f) => f.code === "FINANCING_REQUESTER_IS_HOLDER");
    throw new HttpException(
      {
        error: "ComplianceRefused",
        message: `Financing of receivable ${receivableId} on credit line ${lineId} refused: ${failed.map((f) => f.reason).join(" ")}`,
        complianceRunId: run.runId,
        failures: failed.map(({ code, reason }) => ({ code, reason })),
      },
      status,
    );
  }

  private async complianceStatus(failed: ComplianceRun["outcomes"], receivableId: string, lineId: number): Promise<number> {
    const codes = new Set(failed.map((f) => f.code));
    if (codes.has("FINANCING_RECEIVABLE_ACCEPTED")) {
      const known = await this.receivables.existsBy({ id: receivableId });
      return known ? HttpStatus.CONFLICT : HttpStatus.NOT_FOUND;
    }
    if (codes.has("FINANCING_REQUESTER_IS_HOLDER")) return HttpStatus.FORBIDDEN;
    if (codes.has("FINANCING_NOT_OVERDUE")) return HttpStatus.CONFLICT;
    if (codes.has("FINANCING_LINE_AVAILABLE")) {
      const known = await this.lines.existsBy({ id: lineId });
      return known ? HttpStatus.CONFLICT : HttpStatus.NOT_FOUND;
    }
    if (codes.has("FINANCING_LINE_HEADROOM")) return HttpStatus.CONFLICT;
    return HttpStatus.UNPROCESSABLE_ENTITY;
  }

  private financingEvent(receipt: TransactionReceipt, name: string): LogDescription | null {
    const address = this.chain.addresses.Financing.toLowerCase();
    for (const log of receipt.logs) {
      if (log.address.toLowerCase() !== address) continue;
      const parsed = this.iface.parseLog(log);
      if (parsed?.name === name) return parsed;
    }
    return null;
  }
}

function isoSeconds(s: bigint): string {
  return new Date(Number(s) * 1000).toISOString();
}

/** Auditors and compliance officers read every offer. */
function readsAll(user: AuthUser): boolean {
  return user.complianceOfficer || (user.verifiedMember && (user.roles & ROLE_BITS.auditor) !== 0);
}
