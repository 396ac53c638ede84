/**
 * Movable-property financing registration numbers (中登) the service knows, by the hash the ledger
 * records (`registrationHash` in shared/financing-terms.ts). The chain holds only the hash; a number is known
 * when a financier approved through the service or gave it later for an approval made directly on the
 * chain, and it is shown for a financing only when its hash is the one approved on-chain. A row is a
 * fact about the number (its hash), not about a financing, so one written for an act that later failed
 * misleads no one.
 */
import { Column, Entity, Index, PrimaryColumn } from "typeorm";
import { numberTransformer } from "../../common/columns";

@Entity("registration_numbers")
@Index("ix_registration_numbers_number", ["registrationNumber"])
export class RegistrationNumberEntity {
  @PrimaryColumn({ name: "registration_hash", type: "varchar", length: 66 })
  registrationHash!: string;

  /** Normalised (trimmed, upper case) as hashed. */
  @Column({ name: "registration_number", type: "varchar", length: 64 })
  registrationNumber!: string;

  /** "approval": given with a relayed approval; "financier": given later for an approval made on-chain. */
  @Column({ type: "varchar", length: 16 })
  source!: "approval" | "financier";

  @Column({ name: "recorded_by", type: "varchar", length: 42 })
  recordedBy!: string;

  @Column({ name: "recorded_at", type: "bigint", transformer: numberTransformer })
  recordedAt!: number;
}
