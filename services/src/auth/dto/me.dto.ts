/** GET /auth/me: the caller as the access guard sees it. */
import { ApiProperty } from "@nestjs/swagger";
import { ACCESS_ROLES, type AccessRole } from "../auth.decorators";
import { ROLE_BITS } from "../../../../shared/roles";
import type { Me } from "../../../../shared/api-types";

export class MeResponseDto implements Me {
  @ApiProperty({ description: "EIP-55 address the bearer token is bound to" })
  address!: string;

  @ApiProperty({ description: "Registry role bit mask (supplier 1, buyer 2, financier 4, auditor 8); 0 unless a verified member" })
  roles!: number;

  @ApiProperty({ description: "Ledger roles held, by name", enum: Object.keys(ROLE_BITS), isArray: true })
  roleNames!: string[];

  @ApiProperty({ description: "Registered, active, and KYC not expired" })
  verifiedMember!: boolean;

  @ApiProperty({ description: "Holds COMPLIANCE_OFFICER on the registry contract" })
  complianceOfficer!: boolean;

  @ApiProperty({
    description: "Every role that routes' role requirements accept from this caller",
    enum: ACCESS_ROLES,
    isArray: true,
  })
  access!: AccessRole[];
}
