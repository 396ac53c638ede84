/** Feature modules with routes; each registers its own entities, controllers and guards. */
import type { Type } from "@nestjs/common";
import { ActsModule } from "./acts/acts.module";
import { AuthModule } from "./auth/auth.module";
import { ComplianceModule } from "./compliance/compliance.module";
import { OnboardingModule } from "./onboarding/onboarding.module";

export const FEATURE_MODULES: Type[] = [AuthModule, ComplianceModule, OnboardingModule, ActsModule];
