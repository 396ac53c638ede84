import { LedgerEventEntity, LedgerEventPartyEntity } from "./ledger-event.entity";
import { CreditLineEntity, FinancingEntity, HeldPaymentEntity, MemberEntity, PaymentEntity, ReceivableEntity } from "./projections.entity";

/**
 * The read model's tables: the ledger-event feed and the projections folded from it. Registered by
 * ReadModelModule (which the features that read them import) and collected by database/entities.ts.
 */
export const READ_MODEL_ENTITIES = [
  LedgerEventEntity,
  LedgerEventPartyEntity,
  MemberEntity,
  ReceivableEntity,
  CreditLineEntity,
  FinancingEntity,
  PaymentEntity,
  HeldPaymentEntity,
];
