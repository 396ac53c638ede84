/**
 * What a route requires of its caller. Every route is authenticated unless marked `@Public()`;
 * `@RequireRoles(...)` lets through a caller holding ANY of the listed roles. Ledger roles come
 * from the caller's membership (the indexed registry: active and KYC valid); "compliance" is an
 * address holding COMPLIANCE_OFFICER on the registry contract.
 */
import { SetMetadata, createParamDecorator, type ExecutionContext } from "@nestjs/common";
import { ROLE_BITS } from "../../../shared/roles";

export type AccessRole = "supplier" | "buyer" | "financier" | "auditor" | "compliance" | "member";

export interface AuthUser {
  /** EIP-55 address the bearer token is bound to. */
  address: string;
  /** Registry role bit mask when the address is a verified member, else 0. */
  roles: number;
  /** Active, with KYC not expired. */
  verifiedMember: boolean;
  /** Holds COMPLIANCE_OFFICER on the registry. */
  complianceOfficer: boolean;
}

export const IS_PUBLIC = "auth:public";
export const REQUIRED_ROLES = "auth:roles";

/** No bearer token needed. */
export const Public = () => SetMetadata(IS_PUBLIC, true);

/** Caller must hold at least one of these roles. */
export const RequireRoles = (...roles: AccessRole[]) => SetMetadata(REQUIRED_ROLES, roles);

/** The authenticated caller. */
export const CurrentUser = createParamDecorator((_: unknown, ctx: ExecutionContext): AuthUser => {
  return ctx.switchToHttp().getRequest<{ user: AuthUser }>().user;
});

export function hasRole(user: AuthUser, role: AccessRole): boolean {
  switch (role) {
    case "compliance":
      return user.complianceOfficer;
    case "member":
      return user.verifiedMember;
    default:
      return user.verifiedMember && (user.roles & ROLE_BITS[role]) !== 0;
  }
}

/** Every role `@RequireRoles` understands, in the order /auth/me lists them. */
export const ACCESS_ROLES: readonly AccessRole[] = ["supplier", "buyer", "financier", "auditor", "compliance", "member"];

/** The roles `user` satisfies, i.e. what `@RequireRoles` lets it through for. */
export function accessRolesOf(user: AuthUser): AccessRole[] {
  return ACCESS_ROLES.filter((r) => hasRole(user, r));
}
