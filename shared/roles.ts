/**
 * Ledger roles: the bits of ParticipantRegistry's role mask (contracts/libraries/Roles.sol) by the
 * names the API uses. The one table; test/contracts/SharedFacts.test.ts checks it against Roles.sol
 * and against what a deployed registry accepts, so it cannot drift from the contracts.
 */
export const ROLE_BITS = { supplier: 1, buyer: 2, financier: 4, auditor: 8 } as const;
export type RoleName = keyof typeof ROLE_BITS;
export const ROLE_NAMES: readonly RoleName[] = Object.keys(ROLE_BITS) as RoleName[];
/** Every bit the registry knows (Roles.ALL); a mask with any other bit is refused on-chain. */
export const ALL_ROLES = Object.values(ROLE_BITS).reduce((m: number, b) => m | b, 0);

export function rolesToMask(names: readonly RoleName[]): number {
  return names.reduce((m, n) => m | ROLE_BITS[n], 0);
}

/** The names of the roles a mask holds, in the table's order. */
export function maskToRoles(mask: number): RoleName[] {
  return ROLE_NAMES.filter((n) => (mask & ROLE_BITS[n]) !== 0);
}
