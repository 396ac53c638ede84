/**
 * Compliance: rules with recorded reasons (sanctions screening, entity identifiers, jurisdiction,
 * KYC, invoice sanity, duplicates, concentration, financing pre-flight) and read access to the
 * record. Other modules import this module and call ComplianceService; the sanctions list is
 * loaded once at start-up and a bad list stops the service from starting.
 */
import { Module } from "@nestjs/common";
import { TypeOrmModule } from "@nestjs/typeorm";
import { ReadModelModule } from "../read-model/read-model.module";
import { ComplianceController } from "./compliance.controller";
import { ComplianceRecords } from "./compliance.records";
import { ComplianceService } from "./compliance.service";
import { COMPLIANCE_ENTITIES } from "./entities/compliance-check.entity";
import { SanctionsScreener } from "./sanctions/sanctions-screener";

@Module({
  imports: [TypeOrmModule.forFeature(COMPLIANCE_ENTITIES), ReadModelModule],
  controllers: [ComplianceController],
  providers: [ComplianceService, ComplianceRecords, SanctionsScreener],
  exports: [ComplianceService],
})
export class ComplianceModule {}
