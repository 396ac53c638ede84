/**
 * Receivables writes: participant-signed acts on receivables (declared as ActSpecs, run by ActPipeline) and the
 * documents linked to them. Reads (lists, history, lineage) live in the receivables read module.
 */
import { Module } from "@nestjs/common";
import { MulterModule } from "@nestjs/platform-express";
import { TypeOrmModule } from "@nestjs/typeorm";
import { memoryStorage } from "multer";
import { DocumentsStore, MULTIPART_UTF8 } from "../common/documents.store";
import { ComplianceModule } from "../compliance/compliance.module";
import { APP_CONFIG, type AppConfig } from "../config/env";
import { ReceivableDocumentEntity } from "./entities/receivable-document.entity";
import { ReceivablesWriteController } from "./receivables-write.controller";
import { InvoiceChecksService } from "./invoice-checks.service";
import { ReceivableDocumentsService } from "./receivable-documents.service";
import { ReceivableLifecycleService } from "./receivable-lifecycle.service";
import { ReceivableTokeniseService } from "./receivable-tokenise.service";
import { RepayPermitService } from "./repay-permit.service";

@Module({
  imports: [
    ComplianceModule,
    TypeOrmModule.forFeature([ReceivableDocumentEntity]),
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
    ReceivableDocumentsService,
    RepayPermitService,
    DocumentsStore,
  ],
})
export class ReceivablesWriteModule {}
