import { Controller, Get } from "@nestjs/common";
import { ApiOperation, ApiTags } from "@nestjs/swagger";
import { HealthCheck, HealthCheckService, TypeOrmHealthIndicator, type HealthIndicatorResult } from "@nestjs/terminus";
import { Public } from "../auth/auth.decorators";
import { ChainService } from "../chain/chain.service";
import { IndexerService } from "../indexer/indexer.service";

/** Liveness of the database and the chain, and how far the indexer lags behind the confirmed head. */
@ApiTags("health")
@Controller("health")
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly db: TypeOrmHealthIndicator,
    private readonly chain: ChainService,
    private readonly indexer: IndexerService,
  ) {}

  @Get()
  @Public()
  @HealthCheck()
  @ApiOperation({ summary: "Database, chain and indexer health" })
  check() {
    return this.health.check([
      () => this.db.pingCheck("database"),
      async (): Promise<HealthIndicatorResult> => {
        const head = await this.chain.headNumber();
        return { chain: { status: "up", chainId: this.chain.chainId.toString(), head } };
      },
      async (): Promise<HealthIndicatorResult> => {
        const s = await this.indexer.status();
        return { indexer: { status: "up", checkpoint: s.checkpoint, head: s.head, lag: s.lag } };
      },
    ]);
  }
}
