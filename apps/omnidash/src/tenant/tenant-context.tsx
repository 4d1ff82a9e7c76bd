import { createContext, useContext, type ReactNode } from 'react';
import type { Membership } from '../data/memberships/memberships-query.ts';
import { can, type Permission } from './permissions.ts';

export interface CurrentTenant extends Membership {
  can(permission: Permission): boolean;
}

const TenantContext = createContext<CurrentTenant | null>(null);

export function TenantProvider({
  membership,
  children,
}: {
  membership: Membership;
  children: ReactNode;
}) {
  const tenant: CurrentTenant = {
    ...membership,
    can: (permission) => can(membership.role, permission),
  };
  return <TenantContext.Provider value={tenant}>{children}</TenantContext.Provider>;
}

/** The tenant the dashboard shows, and the signed-in user's role in it. */
export function useTenant(): CurrentTenant {
  const tenant = useContext(TenantContext);
  if (!tenant) throw new Error('useTenant needs a <TenantProvider>.');
  return tenant;
}

const STORAGE_KEY = 'omnidash.tenant';

/** The tenant picked last on this browser, if the user still belongs to it. */
export function rememberedTenant(memberships: Membership[]): Membership | undefined {
  const slug = localStorage.getItem(STORAGE_KEY);
  return memberships.find((membership) => membership.slug === slug) ?? memberships[0];
}

export function rememberTenant(slug: string): void {
  localStorage.setItem(STORAGE_KEY, slug);
}

export function forgetTenant(): void {
  localStorage.removeItem(STORAGE_KEY);
}
