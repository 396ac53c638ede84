/** Core enterprises' payment records, computed from the ledger's projections (payment-record.ts). */
import { Module } from "@nestjs/common";
import { IndexerModule } from "../indexer/indexer.module";
import { ReadModelModule } from "../read-model/read-model.module";
import { PaymentRecordsController } from "./payment-records.controller";
import { PaymentRecordsService } from "./payment-records.service";

@Module({
  imports: [ReadModelModule, IndexerModule],
  controllers: [PaymentRecordsController],
  providers: [PaymentRecordsService],
  exports: [PaymentRecordsService],
})
export class PaymentRecordsModule {}
