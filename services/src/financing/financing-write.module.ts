/**
 * Financing writes: participant-signed credit-line and financing acts relayed through ActsService
 * (imported from the acts module), with the financing compliance rules run before every request.
 */
import { Module } from "@nestjs/common";
import { TypeOrmModule } from "@nestjs/typeorm";
import { ActsModule } from "../acts/acts.module";
import { ReadModelModule } from "../read-model/read-model.module";
import { FINANCING_ENTITIES } from "./entities";
import { ComplianceModule } from "../compliance/compliance.module";
import { FinancingReadModule } from "./financing-read.module";
import { FinancingOffersReadController, FinancingRegistrationController, FinancingWriteController } from "./financing-write.controller";
import { FinancingWriteService } from "./financing-write.service";

@Module({
  imports: [TypeOrmModule.forFeature(FINANCING_ENTITIES), ReadModelModule, ComplianceModule, ActsModule, FinancingReadModule],
  controllers: [FinancingWriteController, FinancingRegistrationController, FinancingOffersReadController],
  providers: [FinancingWriteService],
  exports: [FinancingWriteService],
})
export class FinancingWriteModule {}
