import { FinancingOfferEntity } from "./financing-offer.entity";
import { RegistrationNumberEntity } from "./registration-number.entity";

/** The financing feature's tables, registered by its module and collected by database/entities.ts. */
export const FINANCING_ENTITIES = [RegistrationNumberEntity, FinancingOfferEntity];
