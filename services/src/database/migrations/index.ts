/** Migrations in the order they run. Generate new ones with `npm run db:migration -- Name`. */
import type { MigrationInterface } from "typeorm";
import { InitialSchema1795725091214 } from "./1795725091214-InitialSchema";
import { ParticipantActions1795726982278 } from "./1795726982278-ParticipantActions";
import { SignedActs1795727302631 } from "./1795727302631-SignedActs";
import { ReceivableDocuments1795727592660 } from "./1795727592660-ReceivableDocuments";
import { QueryIndexes1795737852855 } from "./1795737852855-QueryIndexes";
import { ChallengeMessage1796400420430 } from "./1796400420430-ChallengeMessage";
import { IdempotencyLeases1796400427516 } from "./1796400427516-IdempotencyLeases";
import { FinancingTerms1796402055565 } from "./1796402055565-FinancingTerms";
import { HeldPayments1796402103977 } from "./1796402103977-HeldPayments";
import { VoucherRules1796410148379 } from "./1796410148379-VoucherRules";
import { FinancingOffers1796410475599 } from "./1796410475599-FinancingOffers";
import { ReceivableDisputes1796425639036 } from "./1796425639036-ReceivableDisputes";
import { ActClaims1796505649342 } from "./1796505649342-ActClaims";
import { ReceivableDocumentHashIndex1796508979114 } from "./1796508979114-ReceivableDocumentHashIndex";
import { ReceivableFinancier1796530826140 } from "./1796530826140-ReceivableFinancier";
import { ComplianceRuns1796568286233 } from "./1796568286233-ComplianceRuns";

export const MIGRATIONS: Array<new () => MigrationInterface> = [
  InitialSchema1795725091214,
  ParticipantActions1795726982278,
  SignedActs1795727302631,
  ReceivableDocuments1795727592660,
  QueryIndexes1795737852855,
  ChallengeMessage1796400420430,
  IdempotencyLeases1796400427516,
  FinancingTerms1796402055565,
  HeldPayments1796402103977,
  VoucherRules1796410148379,
  FinancingOffers1796410475599,
  ReceivableDisputes1796425639036,
  ActClaims1796505649342,
  ReceivableDocumentHashIndex1796508979114,
  ReceivableFinancier1796530826140,
  ComplianceRuns1796568286233,
];
