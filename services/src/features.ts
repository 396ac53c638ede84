/** Feature modules with routes; each registers its own entities, controllers and guards. */
import type { Type } from "@nestjs/common";
import { ActsModule } from "./acts/acts.module";
import { AuditModule } from "./audit/audit.module";
import { AuthModule } from "./auth/auth.module";
import { ComplianceModule } from "./compliance/compliance.module";
import { FinancingReadModule } from "./financing/financing-read.module";
import { FinancingWriteModule } from "./financing/financing-write.module";
import { OnboardingModule } from "./onboarding/onboarding.module";
import { ParticipantsModule } from "./participants/participants.module";
import { PaymentRecordsModule } from "./payment-records/payment-records.module";
import { ReceivablesReadModule } from "./receivables/receivables-read.module";
import { ReceivablesWriteModule } from "./receivables/receivables-write.module";

export const FEATURE_MODULES: Type[] = [AuthModule, ComplianceModule, OnboardingModule, ParticipantsModule, ActsModule, ReceivablesReadModule, FinancingReadModule, AuditModule, FinancingWriteModule, ReceivablesWriteModule, PaymentRecordsModule];
