import { Column, Entity, Index, PrimaryColumn } from "typeorm";
import { numberTransformer } from "../../common/columns";

/**
 * A single-use Sign-In with Ethereum nonce with the exact message issued for it: login accepts a
 * signature of that text only, so no field of it (statement, resources, times) can be changed.
 */
@Entity("auth_challenges")
export class AuthChallengeEntity {
  @PrimaryColumn({ type: "varchar", length: 32 })
  nonce!: string;

  @Column({ type: "varchar", length: 42 })
  address!: string;

  @Column({ type: "text" })
  message!: string;

  @Column({ name: "expires_at", type: "bigint", transformer: numberTransformer })
  expiresAt!: number;

  @Column({ name: "used_at", type: "bigint", nullable: true, transformer: numberTransformer })
  usedAt!: number | null;

  @Column({ name: "created_at", type: "bigint", transformer: numberTransformer })
  createdAt!: number;
}

/** A bearer token (stored as its SHA-256) bound to one address. */
@Entity("sessions")
@Index("ix_sessions_address", ["address"])
export class SessionEntity {
  @PrimaryColumn({ name: "token_hash", type: "varchar", length: 64 })
  tokenHash!: string;

  @Column({ type: "varchar", length: 42 })
  address!: string;

  @Column({ name: "expires_at", type: "bigint", transformer: numberTransformer })
  expiresAt!: number;

  @Column({ name: "created_at", type: "bigint", transformer: numberTransformer })
  createdAt!: number;
}

/** The authentication feature's tables, registered by its module and collected by database/entities.ts. */
export const AUTH_ENTITIES = [AuthChallengeEntity, SessionEntity];
