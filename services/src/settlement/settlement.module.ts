/** Settlement token: balances, relayed EIP-2612 permits and (test platforms only) the faucet. */
import { Module, type DynamicModule } from "@nestjs/common";
import { ActsModule } from "../acts/acts.module";
import type { AppConfig } from "../config/env";
import { OutboxModule } from "../outbox/outbox.module";
import { FaucetController, SettlementController } from "./settlement.controller";
import { SettlementService } from "./settlement.service";

@Module({})
export class SettlementModule {
  static forRoot(config: Pick<AppConfig, "FAUCET_ENABLED" | "ISSUER_KEYSTORE">): DynamicModule {
    const faucet = config.FAUCET_ENABLED && !!config.ISSUER_KEYSTORE;
    return {
      module: SettlementModule,
      imports: [ActsModule, OutboxModule],
      controllers: faucet ? [SettlementController, FaucetController] : [SettlementController],
      providers: [SettlementService],
      exports: [SettlementService],
    };
  }
}
