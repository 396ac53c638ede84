/**
 * Members as the ledger sees them (read from the read model), the compliance officer's suspend /
 * reinstate requests sent through the outbox, and the KYC expiry sweep.
 */
import { Module } from "@nestjs/common";
import { TypeOrmModule } from "@nestjs/typeorm";
import { ComplianceModule } from "../compliance/compliance.module";
import { OutboxModule } from "../outbox/outbox.module";
import { OnboardingModule } from "../onboarding/onboarding.module";
import { ReadModelModule } from "../read-model/read-model.module";
import { PARTICIPANTS_ENTITIES } from "./entities/participant-action.entity";
import { ParticipantsController } from "./participants.controller";
import { ParticipantsService } from "./participants.service";

@Module({
  imports: [TypeOrmModule.forFeature(PARTICIPANTS_ENTITIES), ReadModelModule, OutboxModule, OnboardingModule, ComplianceModule],
  controllers: [ParticipantsController],
  providers: [ParticipantsService],
  exports: [ParticipantsService],
})
export class ParticipantsModule {}
