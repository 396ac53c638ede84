/**
 * Receivables writes: participant-signed acts on receivables (declared as ActSpecs, run by ActPipeline) and the
 * documents linked to them. Reads (lists, history, lineage) live in the receivables read module.
 */
import { Module } from "@nestjs/common";
import { MulterModule } from "@nestjs/platform-express";
import { TypeOrmModule } from "@nestjs/typeorm";
import { memoryStorage } from "multer";
import { ActsModule } from "../acts/acts.module";
import { DocumentsModule } from "../common/documents.module";
import { MULTIPART_UTF8 } from "../common/documents.store";
import { ComplianceModule } from "../compliance/compliance.module";
import { APP_CONFIG, type AppConfig } from "../config/env";
import { OutboxModule } from "../outbox/outbox.module";
import { ReadModelModule } from "../read-model/read-model.module";
import { RECEIVABLES_ENTITIES } from "./entities/receivable-document.entity";
import { ReceivablesWriteController } from "./receivables-write.controller";
import { InvoiceChecksService } from "./invoice-checks.service";
import { ReceivableDocumentsService } from "./receivable-documents.service";
import { ReceivableDisputeService } from "./receivable-dispute.service";
import { ReceivableLifecycleService } from "./receivable-lifecycle.service";
import { ReceivableTokeniseService } from "./receivable-tokenise.service";
import { RepayPermitService } from "./repay-permit.service";

@Module({
  imports: [
    TypeOrmModule.forFeature(RECEIVABLES_ENTITIES),
    ReadModelModule,
    ComplianceModule,
    ActsModule,
    OutboxModule,
    DocumentsModule,
    MulterModule.registerAsync({
      inject: [APP_CONFIG],
      // One document per request; the form fields are the invoice's few text fields.
      useFactory: (config: AppConfig) => ({
        storage: memoryStorage(),
        ...MULTIPART_UTF8,
        limits: { fileSize: config.MAX_UPLOAD_BYTES, files: 1, fields: 30 },
      }),
    }),
  ],
  controllers: [ReceivablesWriteController],
  providers: [
    InvoiceChecksService,
    ReceivableTokeniseService,
    ReceivableLifecycleService,
    ReceivableDisputeService,
    ReceivableDocumentsService,
    RepayPermitService,
  ],
})
export class ReceivablesWriteModule {}
