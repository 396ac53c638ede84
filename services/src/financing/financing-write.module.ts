/**
 * Financing writes: participant-signed credit-line and financing acts relayed through ActsService
 * (a global module), with the financing compliance rules run before every request.
 */
import { Module } from "@nestjs/common";
import { ComplianceModule } from "../compliance/compliance.module";
import { FinancingReadModule } from "./financing-read.module";
import { FinancingOffersReadController, FinancingRegistrationController, FinancingWriteController } from "./financing-write.controller";
import { FinancingWriteService } from "./financing-write.service";

@Module({
  imports: [ComplianceModule, FinancingReadModule],
  controllers: [FinancingWriteController, FinancingRegistrationController, FinancingOffersReadController],
  providers: [FinancingWriteService],
  exports: [FinancingWriteService],
})
export class FinancingWriteModule {}
