/** Migrations in the order they run. Generate new ones with `npm run db:migration -- Name`. */
import type { MigrationInterface } from "typeorm";
import { InitialSchema1795725091214 } from "./1795725091214-InitialSchema";

export const MIGRATIONS: Array<new () => MigrationInterface> = [InitialSchema1795725091214];
