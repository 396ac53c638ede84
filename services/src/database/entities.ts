/**
 * Every table the migrations create, assembled from the lists the features own. The Nest
 * application loads its entities from the modules (`TypeOrmModule.forFeature`, `autoLoadEntities`);
 * this list serves the data sources opened outside it (migration generator, audit verification's
 * scratch database, ledger upgrade, tests). test/integration/schema.test.ts checks that both agree
 * and that the migrations leave no difference with the entities.
 */
import { ACTS_ENTITIES } from "../acts/entities/act.entity";
import { AUTH_ENTITIES } from "../auth/entities/auth.entity";
import { COMPLIANCE_ENTITIES } from "../compliance/entities/compliance-check.entity";
import { FINANCING_ENTITIES } from "../financing/entities";
import { INDEXER_ENTITIES } from "../indexer/entities/indexer-state.entity";
import { ONBOARDING_ENTITIES } from "../onboarding/entities/application.entity";
import { OUTBOX_ENTITIES } from "../outbox/entities/outbox.entity";
import { PARTICIPANTS_ENTITIES } from "../participants/entities/participant-action.entity";
import { READ_MODEL_ENTITIES } from "../read-model/entities";
import { RECEIVABLES_ENTITIES } from "../receivables/entities/receivable-document.entity";

export const ENTITIES = [
  ...READ_MODEL_ENTITIES,
  ...INDEXER_ENTITIES,
  ...OUTBOX_ENTITIES,
  ...AUTH_ENTITIES,
  ...ONBOARDING_ENTITIES,
  ...COMPLIANCE_ENTITIES,
  ...PARTICIPANTS_ENTITIES,
  ...ACTS_ENTITIES,
  ...RECEIVABLES_ENTITIES,
  ...FINANCING_ENTITIES,
];
