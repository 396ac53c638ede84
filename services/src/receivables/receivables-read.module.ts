/** Reads of receivables (the write side, signed acts, is the receivables-write module). */
import { Module } from "@nestjs/common";
import { ReceivablesReadController } from "./receivables-read.controller";
import { ReceivablesReadService } from "./receivables-read.service";

@Module({
  controllers: [ReceivablesReadController],
  providers: [ReceivablesReadService],
  exports: [ReceivablesReadService],
})
export class ReceivablesReadModule {}
