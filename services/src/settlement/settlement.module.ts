/** Settlement token: balances, relayed EIP-2612 permits and (test platforms only) the faucet. */
import { Module, type DynamicModule } from "@nestjs/common";
import type { AppConfig } from "../config/env";
import { FaucetController, SettlementController } from "./settlement.controller";
import { SettlementService } from "./settlement.service";

@Module({})
export class SettlementModule {
  static forRoot(config: Pick<AppConfig, "FAUCET_ENABLED" | "ISSUER_KEYSTORE">): DynamicModule {
    const faucet = config.FAUCET_ENABLED && !!config.ISSUER_KEYSTORE;
    return {
      module: SettlementModule,
      controllers: faucet ? [SettlementController, FaucetController] : [SettlementController],
      providers: [SettlementService],
      exports: [SettlementService],
    };
  }
}
