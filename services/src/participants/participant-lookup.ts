/**
 * How a member is looked up by what people know of it: its legal name as printed, or the tax id an
 * invoice names. Pure functions, shared with the CLI.
 *
 * - `nameKey`: a legal name as a reader sees it, for comparison only: look-alike letters from other
 *   scripts read as the Latin ones they look like (the sanctions screener's `lookalikeLatin`, built
 *   on Unicode's UTS #39 confusables data), then NFKC (full-width forms), case, spaces, punctuation
 *   and invisible characters dropped. "ACME components", "Ａｃｍｅ Components" and "Аcme" with a
 *   Cyrillic А share a key (so do "C0" and "CO": 0 reads as O, 1 as l); a name matches when the query's key is part of the name's.
 * - `taxIdHash`: a tax id as printed (spaces, dashes, full-width forms allowed) checked as a unified
 *   social credit code (18 characters, GB 32100-2015 check character) or an LEI (20, ISO 17442
 *   check digits), and hashed as the registry records a member's entity id.
 */
import { stripInvisible } from "../../../shared/unicode";
import { describeEntityIdProblem } from "../compliance/entity-id";
import { lookalikeLatin } from "../compliance/sanctions/name-matching";
import { entityIdHash } from "../onboarding/onboarding.service";
import { normaliseInvoiceKey } from "../../../shared/fingerprint";

/** A legal name's comparison key (never shown). */
export function nameKey(name: string): string {
  return lookalikeLatin(stripInvisible(name))
    .normalize("NFKC")
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]/gu, "")
    .replace(/0/g, "o")
    .replace(/1/g, "l");
}

/** The tax id's registry hash, or why it is not a tax id (in words a caller can act on). */
export function taxIdHash(raw: string): { hash: string; type: "USCC" | "LEI"; key: string } | { problem: string } {
  const key = normaliseInvoiceKey(raw);
  const type = key.length === 18 ? "USCC" : key.length === 20 ? "LEI" : null;
  if (!type) {
    return { problem: `taxId "${raw.slice(0, 64)}" is neither a unified social credit code (18 characters) nor an LEI (20 characters)` };
  }
  const problem = describeEntityIdProblem(type, key);
  if (problem) return { problem: `taxId "${raw.slice(0, 64)}": ${problem}` };
  return { hash: entityIdHash(type, key), type, key };
}
