/**
 * The global access guard (registered as APP_GUARD by AuthModule). Every route needs a live bearer
 * session unless marked `@Public()`; the caller's AuthUser is rebuilt on each request from the
 * indexed membership (so a suspension or KYC expiry bites at the next request, not at the next
 * sign-in) and from the registry's COMPLIANCE_OFFICER role; then `@RequireRoles` is enforced.
 * Session and member rows are read through CallerCache (see there for what that changes).
 * Refusals: 401 with a WWW-Authenticate challenge (RFC 6750) for missing, malformed, unknown or
 * expired tokens; 403 naming the roles a route needs.
 */
import {
  ForbiddenException,
  Inject,
  Injectable,
  UnauthorizedException,
  type CanActivate,
  type ExecutionContext,
} from "@nestjs/common";
import { Reflector } from "@nestjs/core";
import { InjectRepository } from "@nestjs/typeorm";
import type { Repository } from "typeorm";
import { Members } from "../read-model/members";
import {
  IS_PUBLIC,
  REQUIRED_ROLES,
  accessRolesOf,
  hasRole,
  type AccessRole,
  type AuthUser,
} from "./auth.decorators";
import { CallerCache } from "./caller-cache";
import { ComplianceRoleReader } from "./compliance-role.reader";
import { SessionEntity } from "./entities/auth.entity";
import { hashSessionToken, parseBearer } from "./session-token";

const REALM = 'Bearer realm="scf-ledger"';
const SIGN_IN = "sign in again with POST /auth/challenge and POST /auth/login";

/** What the guard reads; narrow so a unit test can pass fakes. */
export type SessionLookup = Pick<Repository<SessionEntity>, "findOneBy">;
export type MemberLookup = Pick<Members, "byAddress">;
export type OfficerLookup = Pick<ComplianceRoleReader, "isComplianceOfficer">;

interface HttpRequest {
  headers: Record<string, string | string[] | undefined>;
  user?: AuthUser;
}
interface HttpResponse {
  setHeader(name: string, value: string): unknown;
}

@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    @InjectRepository(SessionEntity) private readonly sessions: SessionLookup,
    @Inject(Members) private readonly members: MemberLookup,
    @Inject(ComplianceRoleReader) private readonly officers: OfficerLookup,
    private readonly cache: CallerCache,
  ) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    // Only HTTP routes exist; anything else is refused rather than let through unchecked.
    if (ctx.getType() !== "http") return false;
    const targets = [ctx.getHandler(), ctx.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, targets)) return true;

    const http = ctx.switchToHttp();
    const req = http.getRequest<HttpRequest>();
    const res = http.getResponse<HttpResponse>();
    const user = await this.authenticate(req, res);
    req.user = user;

    const required = this.reflector.getAllAndOverride<AccessRole[] | undefined>(REQUIRED_ROLES, targets);
    if (required?.length && !required.some((r) => hasRole(user, r))) {
      throw new ForbiddenException(forbiddenMessage(user, required));
    }
    return true;
  }

  /** The caller behind the request's bearer token, or a 401. */
  private async authenticate(req: HttpRequest, res: HttpResponse): Promise<AuthUser> {
    const parsed = parseBearer(req.headers.authorization);
    if (parsed.kind === "missing") {
      res.setHeader("WWW-Authenticate", REALM);
      throw new UnauthorizedException(
        `missing bearer token: send "Authorization: Bearer <token>" with the accessToken from POST /auth/login`,
      );
    }
    if (parsed.kind === "malformed") throw invalidToken(res, `${parsed.reason}; ${SIGN_IN}`);

    const tokenHash = hashSessionToken(parsed.token);
    const session = await this.cache.session(tokenHash, () => this.sessions.findOneBy({ tokenHash }));
    if (!session) throw invalidToken(res, `bearer token is not valid (unknown or signed out); ${SIGN_IN}`);
    const nowSec = Math.floor(Date.now() / 1000);
    if (session.expiresAt <= nowSec) {
      throw invalidToken(res, `bearer token expired at ${new Date(session.expiresAt * 1000).toISOString()}; ${SIGN_IN}`);
    }
    return this.resolveUser(session.address, nowSec);
  }

  /** Roles as the ledger sees them now: membership from the projection, the officer role from the chain. */
  async resolveUser(address: string, nowSec = Math.floor(Date.now() / 1000)): Promise<AuthUser> {
    const [member, complianceOfficer] = await Promise.all([
      this.cache.member(address, () => this.members.byAddress(address)),
      this.officers.isComplianceOfficer(address),
    ]);
    const verifiedMember = !!member && member.status === "active" && member.kycExpiry > nowSec;
    return { address, roles: verifiedMember ? member!.roles : 0, verifiedMember, complianceOfficer };
  }
}

function invalidToken(res: HttpResponse, description: string): UnauthorizedException {
  // RFC 6750 §3: quoted-string values may not contain '"' or '\'.
  const quoted = description.replace(/["\\]/g, "'");
  res.setHeader("WWW-Authenticate", `${REALM}, error="invalid_token", error_description="${quoted}"`);
  return new UnauthorizedException(description);
}

function forbiddenMessage(user: AuthUser, required: AccessRole[]): string {
  const held = accessRolesOf(user);
  const why = user.verifiedMember
    ? ""
    : " (it is not a verified member: unregistered, suspended or with expired KYC, so it holds no ledger role)";
  return (
    `this route requires the role ${required.join(" or ")}; ` +
    `${user.address} holds ${held.length ? held.join(", ") : "none"}${why}`
  );
}
