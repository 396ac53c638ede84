/**
 * Audit: the ledger event feed, the verification that recomputes the projection from chain logs
 * and compares it with the database, and the streamed CSV/JSON export. Reads only; the shared read
 * rules (who sees what, ids, cursors) live in read-scope.ts and are used by every read module.
 */
import { Module } from "@nestjs/common";
import { TypeOrmModule } from "@nestjs/typeorm";
import { FinancingReadModule } from "../financing/financing-read.module";
import { IndexerModule } from "../indexer/indexer.module";
import { PaymentRecordsModule } from "../payment-records/payment-records.module";
import { ReadModelModule } from "../read-model/read-model.module";
import { ReceivableDisputeEntity } from "../receivables/entities/receivable-dispute.entity";
import { AuditController } from "./audit.controller";
import { AuditService } from "./audit.service";
import { ExportPackService } from "./export-pack.service";
import { LedgerExportController } from "./ledger-export.controller";
import { LedgerExportService } from "./ledger-export.service";
import { VerifyService } from "./verify.service";

@Module({
  // The disputes dataset reads the receivables feature's table.
  imports: [TypeOrmModule.forFeature([ReceivableDisputeEntity]), ReadModelModule, FinancingReadModule, IndexerModule, PaymentRecordsModule],
  controllers: [AuditController, LedgerExportController],
  providers: [AuditService, VerifyService, ExportPackService, LedgerExportService],
  exports: [AuditService, VerifyService],
})
export class AuditModule {}
