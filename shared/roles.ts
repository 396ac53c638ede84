/** Ledger role names and the registry's role bit mask. */
export const ROLE_NAMES = ["supplier", "buyer", "financier", "auditor"] as const;
export type RoleName = (typeof ROLE_NAMES)[number];
const BITS: Record<RoleName, number> = { supplier: 1, buyer: 2, financier: 4, auditor: 8 };

export function rolesToMask(names: readonly RoleName[]): number {
  return names.reduce((m, n) => m | BITS[n], 0);
}

export function maskToRoles(mask: number): RoleName[] {
  return ROLE_NAMES.filter((n) => (mask & BITS[n]) !== 0);
}
