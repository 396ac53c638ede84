import { LedgerEventEntity, LedgerEventPartyEntity } from "./ledger-event.entity";
import { CreditLineEntity, FinancingEntity, HeldPaymentEntity, MemberEntity, PaymentEntity, ReceivableEntity } from "./projections.entity";

/** The tables the projector folds the ledger events into (verification compares them in this order). */
export const PROJECTION_TABLES = [MemberEntity, ReceivableEntity, CreditLineEntity, FinancingEntity, PaymentEntity, HeldPaymentEntity];

/**
 * The read model's tables: the ledger-event feed and the projections folded from it. Registered by
 * ReadModelModule (which the features that read them import) and collected by database/entities.ts.
 */
export const READ_MODEL_ENTITIES = [LedgerEventEntity, LedgerEventPartyEntity, ...PROJECTION_TABLES];
