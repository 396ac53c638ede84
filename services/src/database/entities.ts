/** Every entity the service persists, registered with TypeORM in one place. */
import { Index } from "typeorm";
import { ActEntity, IdempotencyKeyEntity, NonceAllocationEntity } from "../acts/entities/act.entity";
import { ApplicationDocumentEntity, ApplicationEntity } from "../onboarding/entities/application.entity";
import { AuthChallengeEntity, SessionEntity } from "../auth/entities/auth.entity";
import { ComplianceCheckEntity } from "../compliance/entities/compliance-check.entity";
import { RegistrationNumberEntity } from "../financing/entities/registration-number.entity";
import { FinancingOfferEntity } from "../financing/entities/financing-offer.entity";
import { IndexedBlockEntity, IndexerStateEntity } from "../indexer/entities/indexer-state.entity";
import { LedgerEventEntity, LedgerEventPartyEntity } from "../indexer/entities/ledger-event.entity";
import {
  CreditLineEntity,
  FinancingEntity,
  HeldPaymentEntity,
  MemberEntity,
  PaymentEntity,
  ReceivableEntity,
} from "../indexer/entities/projections.entity";
import { KeyNonceEntity, OutboxEntity } from "../outbox/entities/outbox.entity";
import { ParticipantActionEntity } from "../participants/entities/participant-action.entity";
import { ReceivableDocumentEntity } from "../receivables/entities/receivable-document.entity";

export const ENTITIES = [
  LedgerEventEntity,
  LedgerEventPartyEntity,
  IndexerStateEntity,
  IndexedBlockEntity,
  MemberEntity,
  ReceivableEntity,
  CreditLineEntity,
  FinancingEntity,
  PaymentEntity,
  HeldPaymentEntity,
  OutboxEntity,
  KeyNonceEntity,
  AuthChallengeEntity,
  SessionEntity,
  ApplicationEntity,
  ApplicationDocumentEntity,
  ComplianceCheckEntity,
  ParticipantActionEntity,
  ActEntity,
  NonceAllocationEntity,
  IdempotencyKeyEntity,
  ReceivableDocumentEntity,
  RegistrationNumberEntity,
  FinancingOfferEntity,
];

// Indexes of the read paths (query latency), declared here so the entity files stay as
// their owners keep them. A member's receivable list takes the receivables it finances from
// financings by financier (GET /receivables, receivables-read.service.ts).
Index("ix_financings_financier", ["financier", "receivableId"])(FinancingEntity);
