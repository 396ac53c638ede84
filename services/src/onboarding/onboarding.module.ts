import { Module } from "@nestjs/common";

/** Placeholder: filled in by the onboarding work. */
@Module({})
export class OnboardingModule {}
