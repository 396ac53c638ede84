import { Module } from "@nestjs/common";

/** Placeholder: filled in by the compliance work. */
@Module({})
export class ComplianceModule {}
