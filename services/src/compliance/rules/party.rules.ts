/**
 * Rules about parties: applications to join the ledger and existing members (re-screening).
 * Sanctions and jurisdiction apply to both; identifier, documents and roles to applications; KYC
 * validity to members. The registry contract enforces roles, status and KYC expiry on-chain as
 * well; these rules decide what reaches it and record why.
 */
import { ALL_ROLES, ROLE_BITS } from "../../../../shared/roles";
import { isMixedScript, scriptsOf } from "../../../../shared/unicode";
import { describeEntityIdProblem, type EntityIdType } from "../entity-id";
import type { SanctionsMatch, Thresholds } from "../sanctions/sanctions-screener";
import { fail, pass, review, type Rule, type SubjectType, type Verdict } from "./rule";

export interface ApplicationInput {
  id: string;
  legalName: string;
  entityId: string;
  entityIdType: EntityIdType;
  jurisdiction: string;
  requestedRoles: number;
  documentCount: number;
}

export interface MemberInput {
  /** EIP-55 address of the member. */
  address: string;
  /** Legal name from the member's approved application. */
  legalName: string;
  jurisdiction: string;
  /** KYC expiry, unix seconds (as on the registry). */
  kycExpiry: number;
  now?: Date;
}

export interface SanctionsTools {
  screen(name: string): SanctionsMatch[];
  describe(): { source: string; format: string; generatedAt: string | null; entries: number; thresholds: Thresholds };
}

export interface PartyPolicy {
  allowedJurisdictions: readonly string[];
  /** A member whose KYC expires within this many days is flagged for review. */
  kycWarningDays: number;
}

export interface ApplicationContext {
  application: ApplicationInput;
  policy: PartyPolicy;
  sanctions: SanctionsTools;
}

export interface MemberContext {
  member: MemberInput;
  now: Date;
  policy: PartyPolicy;
  sanctions: SanctionsTools;
}

function screenName(sanctions: SanctionsTools, name: string): Verdict {
  const list = sanctions.describe();
  const matches = sanctions.screen(name);
  const details = {
    screenedName: name,
    list: { source: list.source, format: list.format, generatedAt: list.generatedAt, entries: list.entries },
    thresholds: list.thresholds,
    matches,
  };
  const hit = matches[0];
  if (!hit) return pass(`No name on the sanctions list (${list.source}, ${list.entries} entries) resembles "${name}".`, details);
  const entry = `list entry ${hit.reference} "${hit.matchedName}"${hit.matchedName === hit.listedName ? "" : ` (${hit.listedName})`}`;
  if (hit.result === "fail") {
    const read = hit.lookalike ? " once its look-alike characters are read as the letters they imitate" : "";
    return fail(
      `"${name}" matches sanctions ${entry}${read} with similarity ${hit.score.toFixed(3)}. ` +
        `Nothing can proceed for this party; if it is a different party, a compliance officer must document why.`,
      details,
    );
  }
  const how = hit.match === "partial" ? "contains or is contained in" : hit.lookalike ? "looks like" : "resembles";
  return review(
    `"${name}" ${how} sanctions ${entry} (similarity ${hit.score.toFixed(3)}); ` +
      `a compliance officer must confirm it is not the listed party.`,
    details,
  );
}

/**
 * A legal name that mixes scripts beyond UTS #39's highly restrictive profile (Latin with Cyrillic or
 * Greek letters, say) is how look-alike spellings are made; no registered name needs one.
 */
function singleScript(name: string): Verdict {
  const scripts = [...scriptsOf(name)].sort();
  const details = { name, scripts };
  if (!isMixedScript(name)) {
    return pass(scripts.length ? `"${name}" is written in ${scripts.join(" with ")} script.` : `"${name}" contains no letters.`, details);
  }
  return review(
    `"${name}" mixes the scripts ${scripts.join(", ")}; letters of one script can imitate another's, so a compliance officer ` +
      `must compare it with the registration documents.`,
    details,
  );
}

function singleScriptRule<C>(subject: SubjectType, name: (c: C) => string): Rule<C> {
  return {
    code: "LEGAL_NAME_SINGLE_SCRIPT",
    subject,
    description: "The legal name is written in one script, or Latin with Chinese, Japanese or Korean (UTS #39 highly restrictive); otherwise review.",
    evaluate: (c) => singleScript(name(c)),
  };
}

function jurisdiction(code: string, policy: PartyPolicy): Verdict {
  const c = code.trim().toUpperCase();
  const details = { jurisdiction: c, allowed: [...policy.allowedJurisdictions] };
  return policy.allowedJurisdictions.includes(c)
    ? pass(`Jurisdiction ${c} is served by this ledger.`, details)
    : fail(`Jurisdiction "${c}" is not served by this ledger (allowed: ${policy.allowedJurisdictions.join(", ")}).`, details);
}

function sanctionsRule<C>(subject: SubjectType, name: (c: C) => string): Rule<C> {
  return {
    code: "SANCTIONS_SCREENING",
    subject,
    description: "The legal name is screened against the sanctions list loaded at boot (names, aliases, original script).",
    evaluate: (c) => screenName((c as { sanctions: SanctionsTools }).sanctions, name(c)),
  };
}

export const APPLICATION_RULES: readonly Rule<ApplicationContext>[] = [
  sanctionsRule<ApplicationContext>("application", (c) => c.application.legalName),
  singleScriptRule<ApplicationContext>("application", (c) => c.application.legalName),
  {
    code: "ENTITY_ID_CHECKSUM",
    subject: "application",
    description: "The legal entity identifier is well formed with a correct check character (LEI: ISO 17442; USCC: GB 32100-2015).",
    evaluate: ({ application: a }) => {
      const problem = describeEntityIdProblem(a.entityIdType, a.entityId);
      const details = { entityIdType: a.entityIdType, entityId: a.entityId };
      return problem
        ? fail(`Entity id ${a.entityId}: ${problem}.`, details)
        : pass(`${a.entityIdType} ${a.entityId} is well formed and its check character is correct.`, details);
    },
  },
  {
    code: "ENTITY_ID_MATCHES_JURISDICTION",
    subject: "application",
    description: "A unified social credit code is issued only in mainland China (CN); an LEI may come from anywhere.",
    evaluate: ({ application: a }) => {
      const j = a.jurisdiction.trim().toUpperCase();
      const details = { entityIdType: a.entityIdType, jurisdiction: j };
      if (a.entityIdType === "USCC" && j !== "CN") {
        return review(
          `A unified social credit code identifies a mainland-China entity, but the jurisdiction given is ${j}; ` +
            `a compliance officer must confirm which is right (an entity outside mainland China should give its LEI).`,
          details,
        );
      }
      return pass(`A ${a.entityIdType} is consistent with jurisdiction ${j}.`, details);
    },
  },
  {
    code: "JURISDICTION_ALLOWED",
    subject: "application",
    description: "The jurisdiction of incorporation is one this ledger serves (ALLOWED_JURISDICTIONS).",
    evaluate: (c) => jurisdiction(c.application.jurisdiction, c.policy),
  },
  {
    code: "KYC_DOCUMENTS_PRESENT",
    subject: "application",
    description: "At least one KYC document (business licence, register extract) is attached.",
    evaluate: ({ application: a }) =>
      a.documentCount >= 1
        ? pass(`${a.documentCount} KYC document(s) attached.`, { documentCount: a.documentCount })
        : fail("No KYC document is attached: upload the business licence or a register extract with the application.", {
            documentCount: a.documentCount,
          }),
  },
  {
    code: "ROLES_REQUESTED_VALID",
    subject: "application",
    description: "The application requests at least one role, and only roles the registry knows.",
    evaluate: ({ application: a }) => {
      const details = { requestedRoles: a.requestedRoles, known: { ...ROLE_BITS } };
      if (!Number.isInteger(a.requestedRoles) || a.requestedRoles <= 0) {
        return fail("No role is requested: ask for at least one of supplier, buyer, financier, auditor.", details);
      }
      if ((a.requestedRoles & ~ALL_ROLES) !== 0) {
        return fail(`Role mask ${a.requestedRoles} contains bits the registry does not know (known mask ${ALL_ROLES}).`, details);
      }
      return pass("The requested roles are known to the registry.", details);
    },
  },
];

export const MEMBER_RULES: readonly Rule<MemberContext>[] = [
  sanctionsRule<MemberContext>("member", (c) => c.member.legalName),
  singleScriptRule<MemberContext>("member", (c) => c.member.legalName),
  {
    code: "JURISDICTION_ALLOWED",
    subject: "member",
    description: "The member's jurisdiction is still one this ledger serves.",
    evaluate: (c) => jurisdiction(c.member.jurisdiction, c.policy),
  },
  {
    code: "KYC_NOT_EXPIRED",
    subject: "member",
    description: "The member's KYC has not expired; within KYC_WARNING_DAYS of expiry it is flagged for renewal.",
    evaluate: ({ member, now, policy }) => {
      const nowSec = Math.floor(now.getTime() / 1000);
      const expiry = new Date(member.kycExpiry * 1000).toISOString();
      const details = { kycExpiry: member.kycExpiry, kycExpiryIso: expiry, warningDays: policy.kycWarningDays };
      if (member.kycExpiry <= nowSec) {
        return fail(`KYC expired on ${expiry}: the member must renew it before acting on the ledger.`, details);
      }
      if (member.kycExpiry <= nowSec + policy.kycWarningDays * 86_400) {
        return review(`KYC expires on ${expiry}, within ${policy.kycWarningDays} days: request renewal documents now.`, details);
      }
      return pass(`KYC valid until ${expiry}.`, details);
    },
  },
];
