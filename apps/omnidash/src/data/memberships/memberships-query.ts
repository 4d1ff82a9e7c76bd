import type { SupabaseClient } from '@supabase/supabase-js';
import { useQuery } from '@tanstack/react-query';
import { useSupabase } from '../../supabase-context.tsx';
import { unwrap } from '../errors.ts';
import { membershipKeys } from './keys.ts';

export type Role = 'viewer' | 'operator' | 'admin';

export interface Membership {
  tenantId: string;
  slug: string;
  name: string;
  role: Role;
}

/**
 * The user's tenants, by name. Two plain reads rather than one embedded
 * select: RLS lets a member read exactly these rows either way.
 */
export async function fetchMemberships(
  supabase: SupabaseClient,
  userId: string,
): Promise<Membership[]> {
  const members = unwrap(
    await supabase.from('tenant_members').select('tenant_id, role').eq('user_id', userId),
  ) as { tenant_id: string; role: Role }[];
  if (members.length === 0) return [];
  const tenants = unwrap(
    await supabase
      .from('tenants')
      .select('id, slug, name')
      .in(
        'id',
        members.map((member) => member.tenant_id),
      ),
  ) as { id: string; slug: string; name: string }[];
  const roles = new Map(members.map((member) => [member.tenant_id, member.role]));
  return tenants
    .map((tenant) => ({
      tenantId: tenant.id,
      slug: tenant.slug,
      name: tenant.name,
      role: roles.get(tenant.id)!,
    }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

export function useMembershipsQuery(userId: string) {
  const supabase = useSupabase();
  return useQuery({
    queryKey: membershipKeys.mine(userId),
    queryFn: () => fetchMemberships(supabase, userId),
  });
}
