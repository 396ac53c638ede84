/** Reads of receivables (the write side, signed acts, is the receivables-write module). */
import { Module } from "@nestjs/common";
import { TypeOrmModule } from "@nestjs/typeorm";
import { RegistrationNumberEntity } from "../financing/entities/registration-number.entity";
import { IndexerModule } from "../indexer/indexer.module";
import { ReadModelModule } from "../read-model/read-model.module";
import { ReceivablesReadController } from "./receivables-read.controller";
import { ReceivablesReadService } from "./receivables-read.service";

@Module({
  // A financed receivable shows its registration number (a financing table, read here).
  imports: [TypeOrmModule.forFeature([RegistrationNumberEntity]), ReadModelModule, IndexerModule],
  controllers: [ReceivablesReadController],
  providers: [ReceivablesReadService],
  exports: [ReceivablesReadService],
})
export class ReceivablesReadModule {}
