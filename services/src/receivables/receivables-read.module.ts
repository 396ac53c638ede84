/** Reads of receivables (the write side, signed acts, is the receivables-write module). */
import { Module } from "@nestjs/common";
import { TypeOrmModule } from "@nestjs/typeorm";
import { FinancingReadModule } from "../financing/financing-read.module";
import { IndexerModule } from "../indexer/indexer.module";
import { OnboardingModule } from "../onboarding/onboarding.module";
import { ReadModelModule } from "../read-model/read-model.module";
import { ReceivablesReadController } from "./receivables-read.controller";
import { ReceivablesReadService } from "./receivables-read.service";
import { ReceivableDisputeEntity } from "./entities/receivable-dispute.entity";

@Module({
  // A financed receivable shows its registration number (RegistrationNumbers, from financing); an
  // invoice number is looked up under the tax ids members registered with (ApprovedIdentities).
  // Disputes are the receivables feature's own table (registered with the write module's entities).
  imports: [TypeOrmModule.forFeature([ReceivableDisputeEntity]), ReadModelModule, IndexerModule, FinancingReadModule, OnboardingModule],
  controllers: [ReceivablesReadController],
  providers: [ReceivablesReadService],
  exports: [ReceivablesReadService],
})
export class ReceivablesReadModule {}
