/** Reads of credit lines and financings (the write side, signed acts, lives with the acts module). */
import { Module } from "@nestjs/common";
import { TypeOrmModule } from "@nestjs/typeorm";
import { FINANCING_ENTITIES } from "./entities";
import { IndexerModule } from "../indexer/indexer.module";
import { ComplianceModule } from "../compliance/compliance.module";
import { ReadModelModule } from "../read-model/read-model.module";
import { FinancingReadController } from "./financing-read.controller";
import { FinancingReadService } from "./financing-read.service";
import { RegistrationNumbers } from "./registration";

@Module({
  imports: [TypeOrmModule.forFeature(FINANCING_ENTITIES), ReadModelModule, IndexerModule, ComplianceModule],
  controllers: [FinancingReadController],
  providers: [FinancingReadService, RegistrationNumbers],
  exports: [FinancingReadService, RegistrationNumbers, TypeOrmModule],
})
export class FinancingReadModule {}
