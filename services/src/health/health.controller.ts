/**
 * Probes as orchestrators expect them. Liveness (`/health/live`) says only that the process
 * answers HTTP, so a restart is never triggered by a dependency's outage; readiness
 * (`/health/ready`, and `/health` for existing monitors) checks the database, the chain, the
 * indexer's lag and the outbox's oldest pending transaction, each within HEALTH_CHECK_TIMEOUT_MS,
 * and answers 503 naming each failing part. Probes are never rate-limited.
 */
import { Controller, Get } from "@nestjs/common";
import { ApiOkResponse, ApiOperation, ApiServiceUnavailableResponse, ApiTags } from "@nestjs/swagger";
import { HealthCheck, HealthCheckService, type HealthCheckResult } from "@nestjs/terminus";
import { SkipThrottle } from "@nestjs/throttler";
import { Public } from "../auth/auth.decorators";
import { ReadinessChecks } from "./readiness.checks";

const READY_DESCRIPTION =
  "Terminus report: `status` ok, `info` with database (ping ms), chain (chain id, head), indexer " +
  "(checkpoint, head, lag, maxLag), outbox (pending, oldestPendingAgeMs, maxAgeMs), and redis (ping ms) where REDIS_URL is set";
const UNREADY_DESCRIPTION =
  "A part failed or did not answer within HEALTH_CHECK_TIMEOUT_MS: a problem document (code ServiceUnavailable) " +
  "whose `error` holds each failing part (database, chain, indexer, outbox, redis) with a message saying why, " +
  "`info` the parts that are up and `details` all of them";

@ApiTags("health")
@Controller("health")
@Public()
@SkipThrottle()
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly checks: ReadinessChecks,
  ) {}

  @Get("live")
  @ApiOperation({ summary: "Liveness: the process answers (checks no dependency)" })
  @ApiOkResponse({ description: "Always `{ status: \"ok\" }` while the process serves HTTP" })
  live(): { status: "ok" } {
    return { status: "ok" };
  }

  @Get("ready")
  @HealthCheck({ swaggerDocumentation: false })
  @ApiOperation({ summary: "Readiness: database, chain, indexer lag and outbox age, each within its timeout" })
  @ApiOkResponse({ description: READY_DESCRIPTION })
  @ApiServiceUnavailableResponse({ description: UNREADY_DESCRIPTION })
  ready(): Promise<HealthCheckResult> {
    return this.readiness();
  }

  @Get()
  @HealthCheck({ swaggerDocumentation: false })
  @ApiOperation({ summary: "Readiness (same as /health/ready)" })
  @ApiOkResponse({ description: READY_DESCRIPTION })
  @ApiServiceUnavailableResponse({ description: UNREADY_DESCRIPTION })
  check(): Promise<HealthCheckResult> {
    return this.readiness();
  }

  private readiness(): Promise<HealthCheckResult> {
    return this.health.check([
      () => this.checks.database(),
      () => this.checks.chain(),
      () => this.checks.indexer(),
      () => this.checks.outbox(),
      ...(this.checks.usesRedis ? [() => this.checks.redis()] : []),
    ]);
  }
}
