/** Reads of receivables (the write side, signed acts, is the receivables-write module). */
import { Module } from "@nestjs/common";
import { ReadModelModule } from "../read-model/read-model.module";
import { ReceivablesReadController } from "./receivables-read.controller";
import { ReceivablesReadService } from "./receivables-read.service";

@Module({
  imports: [ReadModelModule],
  controllers: [ReceivablesReadController],
  providers: [ReceivablesReadService],
  exports: [ReceivablesReadService],
})
export class ReceivablesReadModule {}
