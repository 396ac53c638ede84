import { Module } from "@nestjs/common";
import { TerminusModule } from "@nestjs/terminus";
import { IndexerModule } from "../indexer/indexer.module";
import { OutboxModule } from "../outbox/outbox.module";
import { HealthController } from "./health.controller";
import { ReadinessChecks } from "./readiness.checks";

@Module({ imports: [TerminusModule, IndexerModule, OutboxModule], controllers: [HealthController], providers: [ReadinessChecks] })
export class HealthModule {}
