import { Module } from "@nestjs/common";
import { MulterModule } from "@nestjs/platform-express";
import { DocumentsStore, DocumentsSweeper, stagedUploads } from "../common/documents.store";
import { ComplianceModule } from "../compliance/compliance.module";
import { APP_CONFIG, type AppConfig } from "../config/env";
import { ParticipantsController } from "../participants/participants.controller";
import { ParticipantsService } from "../participants/participants.service";
import { OnboardingController } from "./onboarding.controller";
import { OnboardingService } from "./onboarding.service";
import { ApplicationUploadGate } from "./upload-gate";

/** Applications, decisions, and the members they produce (participants, KYC expiry job). */
@Module({
  imports: [
    ComplianceModule,
    MulterModule.registerAsync({
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => ({
        ...stagedUploads(config),
        limits: { fileSize: config.MAX_UPLOAD_BYTES, files: 10, fields: 20 },
      }),
    }),
  ],
  controllers: [OnboardingController, ParticipantsController],
  providers: [OnboardingService, ParticipantsService, DocumentsStore, DocumentsSweeper, ApplicationUploadGate],
  exports: [OnboardingService, ParticipantsService, DocumentsStore],
})
export class OnboardingModule {}
