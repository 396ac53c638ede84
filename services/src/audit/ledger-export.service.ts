/**
 * The exit export: a member's (or, for auditors and compliance officers, the whole ledger's)
 * complete records and history in a form another system can load, signed by the operator key.
 * Format and check: ledger-export-format.ts; schema: docs/LEDGER-EXPORT.md.
 *
 * Every file is the projection at one indexed block: the rows are read between two reads of the
 * indexer checkpoint and read again if it moved, so the files never mix two states; balances come
 * from the chain at that same block. Scope follows read-scope.ts: a member is party to a
 * receivable as seller, debtor, holder or financier of its financing, and sees its own member
 * record, credit lines, financings, payments on those receivables, balance and events.
 */
import { ForbiddenException, Injectable, ServiceUnavailableException } from "@nestjs/common";
import { InjectRepository } from "@nestjs/typeorm";
import { getAddress, ZeroAddress } from "ethers";
import { In, type Repository } from "typeorm";
import { ChainService } from "../chain/chain.service";
import { LEDGER_VERSION } from "../chain/deployment";
import type { AuthUser } from "../auth/auth.decorators";
import { LedgerEventEntity, LedgerEventPartyEntity } from "../read-model/entities/ledger-event.entity";
import { CreditLineEntity, FinancingEntity, PaymentEntity, ReceivableEntity } from "../read-model/entities/projections.entity";
import { Members } from "../read-model/members";
import { IndexerService } from "../indexer/indexer.service";
import {
  canonicalJson,
  EXIT_FILES,
  EXIT_FORMAT,
  EXIT_FORMAT_VERSION,
  manifestFile,
  MANIFEST_FILE,
  ndjson,
  type ExitFileName,
  type ExitManifest,
  type ExitRows,
} from "../../../shared/ledger-export-format";
import type { PackSignature } from "../../../shared/export-pack-format";
import { readsEverything } from "./read-scope";

export interface LedgerExport {
  manifest: ExitManifest;
  signature: PackSignature;
  files: Record<ExitFileName, string>;
}

const str = (v: bigint | null) => (v === null ? null : v.toString());

@Injectable()
export class LedgerExportService {
  constructor(
    // No one-snapshot read: export() reads the checkpoint before and after and reads again if it moved.
    private readonly members: Members,
    @InjectRepository(ReceivableEntity) private readonly receivables: Repository<ReceivableEntity>,
    @InjectRepository(FinancingEntity) private readonly financings: Repository<FinancingEntity>,
    @InjectRepository(CreditLineEntity) private readonly lines: Repository<CreditLineEntity>,
    @InjectRepository(PaymentEntity) private readonly payments: Repository<PaymentEntity>,
    @InjectRepository(LedgerEventEntity) private readonly events: Repository<LedgerEventEntity>,
    private readonly chain: ChainService,
    private readonly indexer: IndexerService,
  ) {}

  /** The export `user` may take: the whole ledger, or `member`'s records (its own unless it reads everything). */
  async export(user: AuthUser, member?: string): Promise<LedgerExport> {
    const all = readsEverything(user);
    if (member && !all && getAddress(member) !== user.address) {
      throw new ForbiddenException("A member exports its own records only; auditors and compliance officers export any member's or the whole ledger.");
    }
    const scope: ExitManifest["scope"] = all && !member ? { kind: "ledger" } : { kind: "member", member: getAddress(member ?? user.address) };
    for (let attempt = 0; attempt < 5; attempt++) {
      const before = await this.indexer.checkpoint();
      const rows = await this.rows(scope, before.blockNumber);
      const after = await this.indexer.checkpoint();
      if (after.blockNumber === before.blockNumber && after.blockHash === before.blockHash) return this.sign(scope, { number: before.blockNumber, hash: before.blockHash }, rows);
    }
    throw new ServiceUnavailableException("The indexer kept moving while the export was read; try again.");
  }

  private async rows(scope: ExitManifest["scope"], block: number): Promise<ExitRows & { totalSupply: bigint }> {
    const m = scope.kind === "member" ? scope.member : null;
    const members = await this.members.list(m ?? undefined);

    let receivables: ReceivableEntity[];
    let financings: FinancingEntity[];
    if (m) {
      const financed = await this.financings.find({ where: [{ financier: m }, { supplier: m }] });
      const ids = new Set(financed.map((f) => f.receivableId));
      receivables = await this.receivables.find({ where: [{ seller: m }, { debtor: m }, { holder: m }, { id: In([...ids]) }] });
      for (const r of receivables) ids.add(r.id);
      financings = await this.financings.find({ where: { receivableId: In([...ids]) } });
    } else {
      receivables = await this.receivables.find();
      financings = await this.financings.find();
    }
    // Parents before children (a child is created after its parent), then by id: the import order.
    receivables.sort((a, b) => a.createdBlock - b.createdBlock || Number(a.parentId !== null) - Number(b.parentId !== null) || (a.id < b.id ? -1 : 1));
    financings.sort((a, b) => (a.receivableId < b.receivableId ? -1 : 1));
    const rids = receivables.map((r) => r.id);

    const lines = await this.lines.find({ where: m ? [{ financier: m }, { debtor: m }, { supplier: m }] : {}, order: { id: "ASC" } });
    const payments = await this.payments.find({
      where: m ? { receivableId: In(rids) } : {},
      order: { blockNumber: "ASC", txHash: "ASC", logIndex: "ASC" },
    });

    const eventQuery = this.events.createQueryBuilder("e").where("e.block_number <= :block", { block });
    if (m) eventQuery.andWhere((qb) => `(e.tx_hash, e.log_index) IN ${qb.subQuery().select("p.tx_hash, p.log_index").from(LedgerEventPartyEntity, "p").where("p.address = :m").getQuery()}`, { m });
    const events = await eventQuery.orderBy("e.block_number", "ASC").addOrderBy("e.tx_index", "ASC").addOrderBy("e.log_index", "ASC").getMany();

    // Balances at the export block: every account the settlement token ever moved money to or from.
    const token = this.chain.contracts.token;
    const accounts = new Set<string>(m ? [m] : []);
    if (!m) {
      const transfers = await this.events.find({ where: { contract: "SettlementToken", eventName: "Transfer" } });
      for (const t of transfers) for (const a of [t.args.from, t.args.to]) if (typeof a === "string" && a !== ZeroAddress) accounts.add(getAddress(a));
    }
    const balances: ExitRows["balances.ndjson"] = [];
    for (const account of [...accounts].sort()) {
      const balance = await token.balanceOf(account, { blockTag: block });
      if (balance > 0n) balances.push({ account, balance: balance.toString() });
    }
    const totalSupply = await token.totalSupply({ blockTag: block });

    return {
      totalSupply,
      "members.ndjson": members.map((x) => ({
        address: x.address,
        roles: x.roles,
        status: x.status,
        kycExpiry: x.kycExpiry,
        jurisdiction: x.jurisdiction,
        entityIdHash: x.entityIdHash,
        suspensionReason: x.suspensionReason,
        registeredBlock: x.registeredBlock,
      })),
      "balances.ndjson": balances,
      "receivables.ndjson": receivables.map((r) => ({
        id: r.id,
        parentId: r.parentId,
        seller: r.seller,
        debtor: r.debtor,
        holder: r.holder,
        faceValue: r.faceValue.toString(),
        outstanding: r.outstanding.toString(),
        dueDate: r.dueDate,
        status: r.status,
        financed: r.financed,
        documentHash: r.documentHash,
        termReview: r.termReview,
        createdBlock: r.createdBlock,
        createdTx: r.createdTx,
        tokenisedAt: r.tokenisedAt,
      })),
      "credit-lines.ndjson": lines.map((l) => ({
        id: l.id,
        financier: l.financier,
        debtor: l.debtor,
        supplier: l.supplier,
        limit: l.limit.toString(),
        utilised: l.utilised.toString(),
        maxAdvanceBps: l.maxAdvanceBps,
        discountBps: l.discountBps,
        expiry: l.expiry,
        open: l.open,
      })),
      "financings.ndjson": financings.map((f) => ({
        receivableId: f.receivableId,
        lineId: f.lineId,
        supplier: f.supplier,
        financier: f.financier,
        status: f.status,
        principal: f.principal.toString(),
        advance: str(f.advance),
        paidToSupplier: str(f.paidToSupplier),
        rejectReason: f.rejectReason,
        minPaid: str(f.minPaid),
        maxDiscount: str(f.maxDiscount),
        expiresAt: f.expiresAt,
        registrationHash: f.registrationHash,
        approvedAt: f.approvedAt,
      })),
      "payments.ndjson": payments.map((p) => ({
        txHash: p.txHash,
        logIndex: p.logIndex,
        receivableId: p.receivableId,
        debtor: p.debtor,
        holder: p.holder,
        amount: p.amount.toString(),
        outstandingAfter: p.outstandingAfter.toString(),
        blockNumber: p.blockNumber,
        timestamp: p.timestamp,
      })),
      "events.ndjson": events.map((e) => ({
        txHash: e.txHash,
        logIndex: e.logIndex,
        blockNumber: e.blockNumber,
        blockHash: e.blockHash,
        txIndex: e.txIndex,
        timestamp: e.timestamp,
        contract: e.contract,
        event: e.eventName,
        args: e.args,
        txFrom: e.txFrom,
        actor: e.actor,
      })),
    };
  }

  private async sign(scope: ExitManifest["scope"], block: ExitManifest["block"], rows: ExitRows & { totalSupply: bigint }): Promise<LedgerExport> {
    const files = Object.fromEntries(EXIT_FILES.map((name) => [name, ndjson(rows[name])])) as Record<ExitFileName, string>;
    const d = this.chain.deployment;
    const operator = this.chain.wallets.operator;
    const manifest: ExitManifest = {
      format: EXIT_FORMAT,
      formatVersion: EXIT_FORMAT_VERSION,
      ledger: {
        chainId: String(this.chain.chainId),
        ledgerVersion: d.ledgerVersion ?? LEDGER_VERSION,
        contracts: { ...d.contracts },
        operator: operator.address,
        totalSupply: rows.totalSupply.toString(),
      },
      scope,
      block,
      files: EXIT_FILES.map((name) => manifestFile(name, files[name])),
      generatedAt: new Date().toISOString(),
    };
    const manifestJson = canonicalJson(manifest);
    const signature = await operator.signMessage(Buffer.from(manifestJson, "utf8"));
    return { manifest, signature: { scheme: "EIP-191 personal_sign", signedFile: MANIFEST_FILE, signer: operator.address, signature }, files };
  }
}
