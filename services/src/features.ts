/** Feature modules with routes; each registers its own entities, controllers and guards. */
import type { Type } from "@nestjs/common";

export const FEATURE_MODULES: Type[] = [];
