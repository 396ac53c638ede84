/**
 * Sign-In with Ethereum (EIP-4361) and bearer sessions.
 *
 * A challenge is a SIWE message for one address with a fresh nonce, stored whole in
 * `auth_challenges` with an expiry. Login accepts the message back with its personal_sign signature
 * only if the message was ours (domain, URI, chain id), its nonce was issued for that very address,
 * is unused and unexpired, the text is exactly the one issued for the nonce (so no field can be
 * changed, added or dropped: statement, resources, times), and the signature is the address's over
 * that text: ECDSA for an ordinary account, ERC-1271 `isValidSignature` through the chain for a
 * contract wallet. The nonce is consumed by one conditional UPDATE in the same transaction that
 * creates the session, so two concurrent logins with one nonce yield one session. The signature is
 * checked before the nonce is consumed, so nobody can burn another address's challenge.
 *
 * Sessions hold only the SHA-256 of the token. Every refusal is a 401 naming the cause.
 */
import {
  BadRequestException,
  Inject,
  Injectable,
  Logger,
  ServiceUnavailableException,
  UnauthorizedException,
} from "@nestjs/common";
import { InjectRepository } from "@nestjs/typeorm";
import { getAddress, verifyMessage } from "ethers";
import { SiweMessage, checkContractWalletSignature, generateNonce } from "siwe";
import { LessThan, type Repository } from "typeorm";
import { ChainService } from "../chain/chain.service";
import { describeError, isRetryable } from "../chain/errors";
import { APP_CONFIG, type AppConfig } from "../config/env";
import { DbWriter } from "../database/db-writer";
import type { ChallengeResponseDto } from "./dto/challenge.dto";
import type { LoginResponseDto } from "./dto/login.dto";
import { AuthChallengeEntity, SessionEntity } from "./entities/auth.entity";
import { hashSessionToken, newSessionToken, parseBearer } from "./session-token";
import { CallerCache } from "./caller-cache";

export const SIWE_STATEMENT = "Sign in to the SCF ledger.";

const NEW_CHALLENGE = "request a new one with POST /auth/challenge";

function unauthorized(message: string): UnauthorizedException {
  return new UnauthorizedException(message);
}

const iso = (unixSeconds: number) => new Date(unixSeconds * 1000).toISOString();

@Injectable()
export class AuthService {
  private readonly logger = new Logger(AuthService.name);

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly db: DbWriter,
    private readonly chain: ChainService,
    @InjectRepository(AuthChallengeEntity) private readonly challenges: Repository<AuthChallengeEntity>,
    private readonly callers: CallerCache,
  ) {}

  /** Issues a SIWE message for `address` (lower-case or EIP-55) with a fresh single-use nonce. */
  async createChallenge(address: string): Promise<ChallengeResponseDto> {
    const account = getAddress(address);
    const nowMs = Date.now();
    const now = Math.floor(nowMs / 1000);
    const expiresAt = now + this.config.CHALLENGE_TTL_SECONDS;
    const nonce = generateNonce();
    const message = new SiweMessage({
      domain: this.config.SIWE_DOMAIN,
      address: account,
      statement: SIWE_STATEMENT,
      uri: this.config.SIWE_URI,
      version: "1",
      chainId: this.config.CHAIN_ID,
      nonce,
      issuedAt: new Date(nowMs).toISOString(),
      expirationTime: iso(expiresAt),
    }).prepareMessage();
    await this.db.write(async (m) => {
      // Expired challenges can never be redeemed: prune them as new ones arrive.
      await m.delete(AuthChallengeEntity, { expiresAt: LessThan(now) });
      await m.insert(AuthChallengeEntity, { nonce, address: account, message, expiresAt, usedAt: null, createdAt: now });
    });
    return { message, nonce, expiresAt: iso(expiresAt) };
  }

  /** Verifies a signed challenge and opens a session; 401 naming the first problem found. */
  async login(messageText: string, signature: string): Promise<LoginResponseDto> {
    const msg = parseSiwe(messageText);
    const nowMs = Date.now();
    const now = Math.floor(nowMs / 1000);

    if (msg.domain !== this.config.SIWE_DOMAIN) {
      throw unauthorized(`wrong domain: the message is for "${msg.domain}", this service signs in "${this.config.SIWE_DOMAIN}"`);
    }
    if (msg.uri !== this.config.SIWE_URI) {
      throw unauthorized(`wrong uri: the message is for "${msg.uri}", this service signs in "${this.config.SIWE_URI}"`);
    }
    if (msg.chainId !== this.config.CHAIN_ID) {
      throw unauthorized(`wrong chain id: the message is for chain ${msg.chainId}, this ledger is chain ${this.config.CHAIN_ID}`);
    }
    const challenge = await this.challenges.findOneBy({ nonce: msg.nonce });
    if (!challenge) throw unauthorized(`unknown nonce: this service did not issue nonce ${msg.nonce} (or it expired); ${NEW_CHALLENGE}`);
    if (challenge.address !== msg.address) {
      throw unauthorized(`nonce was issued for another address, not ${msg.address}; ${NEW_CHALLENGE} for this address`);
    }
    if (challenge.usedAt !== null) throw unauthorized(`nonce already used: each challenge signs in once; ${NEW_CHALLENGE}`);
    if (challenge.expiresAt <= now) throw unauthorized(`message expired: its challenge expired at ${iso(challenge.expiresAt)}; ${NEW_CHALLENGE}`);
    if (msg.expirationTime && Date.parse(msg.expirationTime) <= nowMs) {
      throw unauthorized(`message expired: its Expiration Time ${msg.expirationTime} has passed; ${NEW_CHALLENGE}`);
    }
    if (msg.notBefore && Date.parse(msg.notBefore) > nowMs) {
      throw unauthorized(`message not yet valid: its Not Before is ${msg.notBefore}`);
    }
    if (messageText !== challenge.message) throw unauthorized(describeTampering(msg, challenge.message));
    if (!(await this.signatureMatches(msg, messageText, signature))) {
      throw unauthorized(
        `signature does not match the address ${msg.address}: sign the message unchanged with personal_sign using that account's key`,
      );
    }

    const token = newSessionToken();
    const expiresAt = now + this.config.SESSION_TTL_SECONDS;
    await this.db.write(async (m) => {
      const consumed = await m
        .createQueryBuilder()
        .update(AuthChallengeEntity)
        .set({ usedAt: now })
        .where("nonce = :nonce AND used_at IS NULL AND expires_at > :now", { nonce: msg.nonce, now })
        .execute();
      if (consumed.affected !== 1) {
        // Lost a race with a concurrent login (or the challenge expired meanwhile).
        throw unauthorized(`nonce already used: each challenge signs in once; ${NEW_CHALLENGE}`);
      }
      await m.delete(SessionEntity, { address: msg.address, expiresAt: LessThan(now) });
      await m.insert(SessionEntity, { tokenHash: hashSessionToken(token), address: msg.address, expiresAt, createdAt: now });
    });
    return { accessToken: token, tokenType: "Bearer", expiresAt: iso(expiresAt), address: msg.address };
  }

  /** Ends the session of the request's bearer token (the guard has already checked it). */
  async logout(authorization: string | undefined): Promise<void> {
    const parsed = parseBearer(authorization);
    if (parsed.kind !== "token") throw unauthorized("missing bearer token");
    const tokenHash = hashSessionToken(parsed.token);
    await this.db.write((m) => m.delete(SessionEntity, { tokenHash }));
    this.callers.forgetSession(tokenHash);
  }

  /**
   * ECDSA first (no chain access needed); otherwise, if the address holds code, the wallet's own
   * ERC-1271 verdict on the EIP-191 hash of the message.
   */
  private async signatureMatches(msg: SiweMessage, text: string, signature: string): Promise<boolean> {
    try {
      if (verifyMessage(text, signature) === msg.address) return true;
    } catch {
      // Not a 65-byte ECDSA signature: may still be a contract wallet's.
    }
    let code: string;
    try {
      code = await this.chain.provider.getCode(msg.address);
    } catch (err) {
      this.logger.warn(`cannot read code at ${msg.address}: ${(err as Error).message}`);
      throw new ServiceUnavailableException("cannot reach the chain to check a contract wallet's signature; try again shortly");
    }
    if (code === "0x") return false;
    try {
      return await checkContractWalletSignature(msg, signature, this.chain.provider as never);
    } catch (err) {
      if (isRetryable(err)) {
        this.logger.warn(`ERC-1271 check for ${msg.address} failed: ${describeError(err)}`);
        throw new ServiceUnavailableException("cannot reach the chain to check a contract wallet's signature; try again shortly");
      }
      // A revert or an undecodable answer is the wallet's refusal.
      return false;
    }
  }
}

/** The EIP-4361 fields by the names the message itself gives them, in message order. */
const SIWE_FIELDS: ReadonlyArray<readonly [name: string, read: (m: SiweMessage) => string | undefined]> = [
  ["scheme", (m) => m.scheme],
  ["domain", (m) => m.domain],
  ["address", (m) => m.address],
  ["statement", (m) => m.statement],
  ["URI", (m) => m.uri],
  ["Version", (m) => m.version],
  ["Chain ID", (m) => String(m.chainId)],
  ["Nonce", (m) => m.nonce],
  ["Issued At", (m) => m.issuedAt],
  ["Expiration Time", (m) => m.expirationTime],
  ["Not Before", (m) => m.notBefore],
  ["Request ID", (m) => m.requestId],
  ["Resources", (m) => (m.resources?.length ? m.resources.join(", ") : undefined)],
];

/**
 * Why a login message is not the one issued for its nonce, naming each field that differs, so a
 * client that rebuilt or edited the message learns what to stop changing.
 */
function describeTampering(sent: SiweMessage, issuedText: string): string {
  const issued = new SiweMessage(issuedText);
  const shown = (v: string | undefined) => (v === undefined ? "absent" : JSON.stringify(v));
  const diffs = SIWE_FIELDS.filter(([, read]) => read(sent) !== read(issued)).map(
    ([name, read]) => `${name} is ${shown(read(sent))} where the service issued ${shown(read(issued))}`,
  );
  const what = diffs.length
    ? diffs.join("; ")
    : "its fields match but its text does not (spacing, line endings or field order)";
  return `message differs from the one issued for this nonce: ${what}; sign exactly the message POST /auth/challenge returned`;
}

/** Parses an EIP-4361 message; a text that is not one is a malformed request, not a refusal. */
function parseSiwe(text: string): SiweMessage {
  try {
    return new SiweMessage(text);
  } catch (err) {
    const reason = ((err as Error).message ?? String(err)).split("\n")[0];
    throw new BadRequestException(
      `message is not an EIP-4361 Sign-In with Ethereum message (${reason}); send it exactly as POST /auth/challenge returned it`,
    );
  }
}
