import type { Role } from '../data/memberships/memberships-query.ts';

/**
 * What each role may do, as the RPCs decide it (omnilink.require_role): the
 * dashboard only disables what the database would refuse anyway.
 */
const MINIMUM_ROLE = {
  /** create, cancel and retry tasks; approve and reject them */
  operateTasks: 'operator',
  /** integrations and their API keys */
  manageIntegrations: 'admin',
  /** the tenant's OmniLink switch */
  switchOmniLink: 'admin',
  /** pause and resume a target's claims (set_target_paused) */
  pauseTargets: 'operator',
  /** set, change and lift action concurrency limits (set_action_limit) */
  limitActions: 'admin',
} as const satisfies Record<string, Role>;

export type Permission = keyof typeof MINIMUM_ROLE;

const RANK: Record<Role, number> = { viewer: 1, operator: 2, admin: 3 };

export function can(role: Role, permission: Permission): boolean {
  return RANK[role] >= RANK[MINIMUM_ROLE[permission]];
}

/** Says why a control is disabled, for its title and screen readers. */
export function needsRole(permission: Permission): string {
  return `Needs the ${MINIMUM_ROLE[permission]} role in this tenant.`;
}
