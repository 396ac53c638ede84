import { Module } from "@nestjs/common";
import { TypeOrmModule } from "@nestjs/typeorm";
import { MulterModule } from "@nestjs/platform-express";
import { DocumentsModule } from "../common/documents.module";
import { stagedUploads } from "../common/documents.store";
import { ComplianceModule } from "../compliance/compliance.module";
import { APP_CONFIG, type AppConfig } from "../config/env";
import { OutboxModule } from "../outbox/outbox.module";
import { ReadModelModule } from "../read-model/read-model.module";
import { ONBOARDING_ENTITIES } from "./entities/application.entity";
import { OnboardingController } from "./onboarding.controller";
import { ApprovedIdentities } from "./approved-identities";
import { OnboardingService } from "./onboarding.service";
import { ApplicationUploadGate } from "./upload-gate";

/** Applications and decisions: KYC documents, compliance screening, and on-chain registration of the members they produce. */
@Module({
  imports: [
    TypeOrmModule.forFeature(ONBOARDING_ENTITIES),
    ReadModelModule,
    ComplianceModule,
    OutboxModule,
    DocumentsModule,
    MulterModule.registerAsync({
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => ({
        ...stagedUploads(config),
        limits: { fileSize: config.MAX_UPLOAD_BYTES, files: 10, fields: 20 },
      }),
    }),
  ],
  controllers: [OnboardingController],
  providers: [OnboardingService, ApplicationUploadGate, ApprovedIdentities],
  exports: [OnboardingService, ApprovedIdentities],
})
export class OnboardingModule {}
