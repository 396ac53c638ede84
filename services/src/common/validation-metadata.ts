/**
 * class-validator's rules looked up once per DTO class instead of on every request.
 *
 * Each `validate` call asks the global MetadataStorage for the rules of the object's class
 * (`getTargetValidationMetadatas`), which walks every class that has rules (`instanceof` each, to
 * find inherited ones), filters them and then groups them by property (`groupByPropertyName`):
 * the same answer for a class every time, recomputed per request (about half of class-validator's
 * CPU on the list and audit query DTOs). The rules are registered by the decorators when the DTO
 * modules load, so after boot they do not change. This keeps each answer per class and options,
 * and drops everything kept when a rule is added (a class loaded later, `registerSchema`), so
 * validation, and its messages, are exactly class-validator's own. Installed once, by the global
 * validation pipe.
 */
import { getMetadataStorage, type MetadataStorage } from "class-validator";

type Lookup = MetadataStorage["getTargetValidationMetadatas"];
type Grouping = MetadataStorage["groupByPropertyName"];
type ValidationMetadata = ReturnType<Lookup>[number];

const installed = new WeakSet<MetadataStorage>();

export function cacheValidationMetadata(storage: MetadataStorage = getMetadataStorage()): void {
  if (installed.has(storage)) return;
  installed.add(storage);
  const lookup: Lookup = storage.getTargetValidationMetadatas.bind(storage);
  const grouping: Grouping = storage.groupByPropertyName.bind(storage);
  const addMetadata = storage.addValidationMetadata.bind(storage);
  let byTarget = new Map<unknown, Map<string, ValidationMetadata[]>>();
  let grouped = new WeakMap<ValidationMetadata[], ReturnType<Grouping>>();

  storage.addValidationMetadata = (metadata) => {
    byTarget = new Map();
    grouped = new WeakMap();
    addMetadata(metadata);
  };
  storage.getTargetValidationMetadatas = (target, schema, always, strictGroups, groups) => {
    const key = `${schema}\u0000${always}\u0000${strictGroups}\u0000${groups ? groups.join("\u0001") : "-"}`;
    let forTarget = byTarget.get(target);
    if (!forTarget) byTarget.set(target, (forTarget = new Map()));
    let found = forTarget.get(key);
    if (!found) forTarget.set(key, (found = lookup(target, schema, always, strictGroups, groups)));
    return found;
  };
  storage.groupByPropertyName = (metadata) => {
    let found = grouped.get(metadata);
    if (!found) grouped.set(metadata, (found = grouping(metadata)));
    return found;
  };
}
