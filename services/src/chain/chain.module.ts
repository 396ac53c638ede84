import { Global, Module } from "@nestjs/common";
import { CHAIN_SERVICE_FACTORY, ChainService } from "./chain.service";

@Global()
@Module({ providers: [CHAIN_SERVICE_FACTORY], exports: [ChainService] })
export class ChainModule {}
