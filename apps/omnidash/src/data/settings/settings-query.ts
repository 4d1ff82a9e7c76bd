import type { SupabaseClient } from '@supabase/supabase-js';
import { useQuery } from '@tanstack/react-query';
import type { Role } from '../memberships/memberships-query.ts';
import { useSupabase } from '../../supabase-context.tsx';
import { unwrap } from '../errors.ts';
import { settingsKeys } from './keys.ts';

/** A row of public.tenant_settings. */
export interface TenantSettingsRow {
  tenant_id: string;
  /** The tenant's OmniLink switch: false makes the port refuse this tenant's keys with 503. */
  omnilink_enabled: boolean;
  updated_at: string;
  /** Null until someone flips the switch (the row is made with the tenant). */
  updated_by: string | null;
}

export interface TenantSettings extends TenantSettingsRow {
  /**
   * The role of whoever changed the switch last, if they are still a member;
   * members cannot read each other's emails, so the role is what can be told.
   */
  updated_by_role: Role | null;
}

export async function fetchTenantSettings(
  supabase: SupabaseClient,
  tenantId: string,
): Promise<TenantSettings> {
  const row = unwrap(
    await supabase
      .from('tenant_settings')
      .select('tenant_id, omnilink_enabled, updated_at, updated_by')
      .eq('tenant_id', tenantId)
      .maybeSingle(),
  ) as TenantSettingsRow | null;
  // Every tenant gets a row when it is made; the port reads a missing one as "on" too.
  const settings: TenantSettingsRow = row ?? {
    tenant_id: tenantId,
    omnilink_enabled: true,
    updated_at: '',
    updated_by: null,
  };
  return {
    ...settings,
    updated_by_role: await memberRole(supabase, tenantId, settings.updated_by),
  };
}

async function memberRole(
  supabase: SupabaseClient,
  tenantId: string,
  userId: string | null,
): Promise<Role | null> {
  if (!userId) return null;
  const member = unwrap(
    await supabase
      .from('tenant_members')
      .select('role')
      .eq('tenant_id', tenantId)
      .eq('user_id', userId)
      .maybeSingle(),
  ) as { role: Role } | null;
  return member?.role ?? null;
}

/** Not in the Realtime publication: the switch mutation refetches it. */
export function useTenantSettingsQuery(tenantId: string) {
  const supabase = useSupabase();
  return useQuery({
    queryKey: settingsKeys.omnilink(tenantId),
    queryFn: () => fetchTenantSettings(supabase, tenantId),
  });
}
