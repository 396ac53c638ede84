/**
 * The regulator's export pack for a period: one CSV per kind of act (vouchers, acceptances,
 * transfers, splits with lineage, financings with their registration and request terms, payments
 * with held and claimed ones, defaults and write-offs), every row located on the chain, and a
 * manifest with each file's row count and SHA-256 signed by the operator key (format and signed
 * bytes: shared/export-pack-format.ts; schema: docs/EXPORT-PACK.md).
 *
 * A period is resolved to a block range first (a time period through the chain's block times), and
 * every file is then a pure function of the indexed events in that range; so the manifest and the
 * files, fetched by separate requests, always agree, and a period that reaches past the indexed head
 * is refused rather than packed incomplete.
 */
import { createHash } from "node:crypto";
import { BadRequestException, ConflictException, Injectable } from "@nestjs/common";
import { InjectRepository } from "@nestjs/typeorm";
import { stringify } from "csv-stringify/sync";
import { ZeroAddress } from "ethers";
import { type Repository } from "typeorm";
import { ChainService } from "../chain/chain.service";
import { LEDGER_VERSION } from "../chain/deployment";
import { RegistrationNumbers } from "../financing/registration";
import { LedgerEventEntity } from "../read-model/entities/ledger-event.entity";
import { ReceivableEntity } from "../read-model/entities/projections.entity";
import { IndexerService } from "../indexer/indexer.service";
import {
  canonicalJson,
  MANIFEST_FILE,
  PACK_FILE_NAMES,
  PACK_FORMAT,
  PACK_FORMAT_VERSION,
  packColumns,
  type PackFileName,
  type PackManifest,
  type PackSignature,
} from "../../../shared/export-pack-format";
import { isoFromSeconds, secondsBound } from "./read-scope";
import { receivableIdHex } from "../../../shared/ids";

export interface PackPeriodQuery {
  from?: string;
  to?: string;
  fromBlock?: number;
  toBlock?: number;
}

export interface ResolvedPeriod {
  period: PackManifest["period"];
  first: number;
  last: number;
}

type Row = Record<string, string | number>;

/** The events each file is made of. */
const SOURCES: Record<PackFileName, string[]> = {
  "vouchers.csv": ["ReceivableTokenised"],
  "acceptances.csv": ["ReceivableAccepted"],
  "transfers.csv": ["Transfer"],
  "splits.csv": ["ReceivableSplit"],
  "financings.csv": ["FinancingApproved"],
  "payments.csv": ["ReceivablePaid", "FinancingRepaid", "PaymentHeld", "PaymentClaimed"],
  "defaults.csv": ["ReceivableDefaulted", "FinancingWrittenOff"],
};

const PAGE = 1_000;
const idHex = (v: string | undefined) => (v === undefined || v === "" ? "" : receivableIdHex(v));
const s = (args: Record<string, string | boolean>, k: string) => (args[k] === undefined ? "" : String(args[k]));

@Injectable()
export class ExportPackService {
  constructor(
    @InjectRepository(LedgerEventEntity) private readonly ledgerEvents: Repository<LedgerEventEntity>,
    private readonly registrationNumbers: RegistrationNumbers,
    @InjectRepository(ReceivableEntity) private readonly receivables: Repository<ReceivableEntity>,
    private readonly chain: ChainService,
    private readonly indexer: IndexerService,
  ) {}

  /** The block range of a period, refused when malformed (400) or not yet wholly indexed (409). */
  async resolve(q: PackPeriodQuery): Promise<ResolvedPeriod> {
    const byTime = q.from !== undefined || q.to !== undefined;
    const byBlock = q.fromBlock !== undefined || q.toBlock !== undefined;
    const invalid = (message: string) => new BadRequestException({ error: "InvalidPeriod", message });
    if (byTime === byBlock || (byTime && (q.from === undefined || q.to === undefined)) || (byBlock && (q.fromBlock === undefined || q.toBlock === undefined))) {
      throw invalid("Give the period as from and to (ISO 8601 times, [from, to)) or as fromBlock and toBlock (block numbers, [fromBlock, toBlock)), not both and not one end only.");
    }
    const head = (await this.indexer.checkpoint()).blockNumber;
    if (byBlock) {
      const fromBlock = q.fromBlock!;
      const toBlock = q.toBlock!;
      if (fromBlock >= toBlock) throw invalid(`fromBlock ${fromBlock} must be below toBlock ${toBlock} (the period is [fromBlock, toBlock)).`);
      if (toBlock - 1 > head) throw notIndexed(`block ${toBlock - 1}`, head);
      return { period: { fromBlock, toBlock }, first: fromBlock, last: toBlock - 1 };
    }
    const fromS = secondsBound(q.from!);
    const toS = secondsBound(q.to!);
    if (fromS >= toS) throw invalid(`from ${q.from} must be before to ${q.to} (the period is [from, to)).`);
    const headTime = await this.blockTime(head);
    // Complete only once a block at or after `to` is indexed: before that, the chain may still add
    // blocks inside the period.
    if (headTime < toS) throw notIndexed(`a block at or after ${q.to}`, head, headTime);
    const first = await this.firstBlockAtOrAfter(fromS, head);
    const last = (await this.firstBlockAtOrAfter(toS, head)) - 1;
    return { period: { from: isoFromSeconds(fromS), to: isoFromSeconds(toS) }, first, last: Math.max(last, first - 1) };
  }

  /** The manifest of a period's pack (every file generated and hashed) and its EIP-191 signature. */
  async manifest(range: ResolvedPeriod): Promise<{ manifest: PackManifest; signature: PackSignature; manifestJson: string }> {
    const files: PackManifest["files"] = [];
    for (const name of PACK_FILE_NAMES) {
      const hash = createHash("sha256");
      let rows = 0;
      let bytes = 0;
      for await (const chunk of this.file(name, range)) {
        hash.update(chunk.text);
        bytes += Buffer.byteLength(chunk.text);
        rows += chunk.rows;
      }
      files.push({ name, rows, bytes, sha256: hash.digest("hex") });
    }
    const d = this.chain.deployment;
    const operator = this.chain.wallets.operator;
    const manifest: PackManifest = {
      format: PACK_FORMAT,
      formatVersion: PACK_FORMAT_VERSION,
      ledger: { chainId: String(this.chain.chainId), ledgerVersion: d.ledgerVersion ?? LEDGER_VERSION, contracts: { ...d.contracts }, operator: operator.address },
      period: range.period,
      blocks: { first: range.first, last: range.last },
      files,
      generatedAt: new Date().toISOString(),
    };
    const manifestJson = canonicalJson(manifest);
    const signature = await operator.signMessage(Buffer.from(manifestJson, "utf8"));
    return {
      manifest,
      manifestJson,
      signature: { scheme: "EIP-191 personal_sign", signedFile: MANIFEST_FILE, signer: operator.address, signature },
    };
  }

  /** One file of the pack as CSV text chunks (RFC 4180: CRLF, header row, UTF-8 without BOM). */
  async *file(name: PackFileName, range: ResolvedPeriod): AsyncGenerator<{ text: string; rows: number }> {
    const columns = packColumns(name);
    yield { text: stringify([columns], { record_delimiter: "windows" }), rows: 0 };
    let after: [number, number, number] | null = null;
    const roots = new Map<string, { rootId: string; depth: number }>();
    for (;;) {
      const qb = this.ledgerEvents
        .createQueryBuilder("e")
        .where("e.block_number >= :first AND e.block_number <= :last", { first: range.first, last: range.last })
        .andWhere("e.event_name IN (:...names)", { names: SOURCES[name] })
        .andWhere("e.contract IN (:...contracts)", { contracts: ["Receivables", "Financing"] });
      if (after) qb.andWhere("(e.block_number, e.tx_index, e.log_index) > (:ab, :at, :al)", { ab: after[0], at: after[1], al: after[2] });
      const events = await qb.orderBy("e.block_number", "ASC").addOrderBy("e.tx_index", "ASC").addOrderBy("e.log_index", "ASC").limit(PAGE).getMany();
      const rows: Row[] = [];
      for (const e of events) {
        const row = await this.row(name, e, roots);
        if (row) rows.push({ ...location(e), ...row });
      }
      if (rows.length) yield { text: stringify(rows, { columns, record_delimiter: "windows", cast: { number: String } }), rows: rows.length };
      if (events.length < PAGE) return;
      const l = events[events.length - 1];
      after = [l.blockNumber, l.txIndex, l.logIndex];
    }
  }

  private async row(name: PackFileName, e: LedgerEventEntity, roots: Map<string, { rootId: string; depth: number }>): Promise<Row | null> {
    const a = e.args;
    switch (name) {
      case "vouchers.csv":
        return {
          receivableId: idHex(s(a, "id")),
          seller: s(a, "seller"),
          debtor: s(a, "debtor"),
          faceValue: s(a, "faceValue"),
          dueDate: isoFromSeconds(Number(s(a, "dueDate"))),
          documentHash: s(a, "documentHash"),
          fingerprint: s(a, "fingerprint"),
        };
      case "acceptances.csv":
        return { receivableId: idHex(s(a, "id")), debtor: s(a, "debtor") };
      case "transfers.csv":
        // Mints and burns are the tokenisation, split and cancellation rows of their own files.
        if (e.contract !== "Receivables" || s(a, "from") === ZeroAddress || s(a, "to") === ZeroAddress) return null;
        return { receivableId: idHex(s(a, "tokenId")), from: s(a, "from"), to: s(a, "to") };
      case "splits.csv": {
        const parentId = idHex(s(a, "parentId"));
        const { rootId, depth } = await this.lineage(parentId, roots);
        return { parentId, childId: idHex(s(a, "childId")), rootId, depth: depth + 1, holder: s(a, "holder"), amount: s(a, "amount") };
      }
      case "financings.csv": {
        const rid = idHex(s(a, "receivableId"));
        const registrationNumber = (await this.registrationNumbers.byHash([s(a, "registrationHash")])).get(s(a, "registrationHash")) ?? "";
        const request = await this.ledgerEvents
          .createQueryBuilder("r")
          .where("r.receivable_id = :rid AND r.event_name = 'FinancingRequested'", { rid })
          .andWhere("(r.block_number, r.tx_index, r.log_index) < (:b, :t, :l)", { b: e.blockNumber, t: e.txIndex, l: e.logIndex })
          .orderBy("r.block_number", "DESC")
          .addOrderBy("r.tx_index", "DESC")
          .addOrderBy("r.log_index", "DESC")
          .getOne();
        return {
          receivableId: rid,
          lineId: s(a, "lineId"),
          financier: s(a, "financier"),
          supplier: s(a, "supplier"),
          advance: s(a, "advance"),
          paid: s(a, "paid"),
          registrationHash: s(a, "registrationHash"),
          registrationNumber,
          requestMinPaid: request ? s(request.args, "minPaid") : "",
          requestMaxDiscount: request ? s(request.args, "maxDiscount") : "",
          requestExpiresAt: request ? isoFromSeconds(Number(s(request.args, "expiresAt"))) : "",
          requestTxHash: request?.txHash ?? "",
        };
      }
      case "payments.csv":
        switch (e.eventName) {
          case "ReceivablePaid":
            return { kind: "paid", receivableId: idHex(s(a, "id")), payer: s(a, "debtor"), recipient: s(a, "holder"), amount: s(a, "amount"), outstanding: s(a, "outstanding") };
          case "FinancingRepaid":
            return {
              kind: "financing-repayment",
              receivableId: idHex(s(a, "receivableId")),
              lineId: s(a, "lineId"),
              toFinancier: s(a, "toFinancier"),
              toSupplier: s(a, "toSupplier"),
              principalOutstanding: s(a, "principal"),
            };
          case "PaymentHeld":
            return { kind: "held", receivableId: idHex(s(a, "id")), recipient: s(a, "recipient"), amount: s(a, "amount") };
          default:
            return { kind: "claimed", recipient: s(a, "recipient"), amount: s(a, "amount") };
        }
      case "defaults.csv":
        return e.eventName === "ReceivableDefaulted"
          ? { kind: "default", receivableId: idHex(s(a, "id")), holder: s(a, "holder"), amount: s(a, "outstanding") }
          : { kind: "write-off", receivableId: idHex(s(a, "receivableId")), lineId: s(a, "lineId"), amount: s(a, "principal") };
    }
  }

  /** The root of a receivable's split tree and its depth below it (0: the root itself). */
  private async lineage(id: string, memo: Map<string, { rootId: string; depth: number }>): Promise<{ rootId: string; depth: number }> {
    const known = memo.get(id);
    if (known) return known;
    const chain: string[] = [];
    let current: string | null = id;
    let found: { rootId: string; depth: number } | undefined;
    while (current && !(found = memo.get(current))) {
      chain.push(current);
      const r: Pick<ReceivableEntity, "parentId"> | null = await this.receivables.findOne({ where: { id: current }, select: { parentId: true, id: true } });
      current = r?.parentId ?? null;
    }
    let base = found ?? { rootId: chain[chain.length - 1], depth: -1 };
    for (let i = chain.length - 1; i >= 0; i--) {
      base = { rootId: base.rootId, depth: base.depth + 1 };
      memo.set(chain[i], base);
    }
    return memo.get(id)!;
  }

  private async blockTime(n: number): Promise<number> {
    const b = await this.chain.provider.getBlock(n);
    if (!b) throw new Error(`block ${n} not found on the chain`);
    return b.timestamp;
  }

  /** The first block in [0, head] whose time is at or after `t` (head + 1 if none): block times increase. */
  private async firstBlockAtOrAfter(t: number, head: number): Promise<number> {
    let lo = 0;
    let hi = head + 1;
    while (lo < hi) {
      const mid = Math.floor((lo + hi) / 2);
      if ((await this.blockTime(mid)) >= t) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }
}

function location(e: LedgerEventEntity): Row {
  return { txHash: e.txHash, blockNumber: e.blockNumber, blockHash: e.blockHash, logIndex: e.logIndex, time: isoFromSeconds(e.timestamp), signer: e.txFrom };
}

function notIndexed(what: string, head: number, headTime?: number): ConflictException {
  return new ConflictException({
    error: "PeriodNotIndexed",
    message:
      `The period reaches past what the ledger has indexed (up to block ${head}${headTime !== undefined ? `, ${isoFromSeconds(headTime)}` : ""}); ` +
      `a pack must be complete, so it needs ${what} indexed. Ask again once the period has closed and been indexed.`,
  });
}

