import type { SupabaseClient } from '@supabase/supabase-js';
import { useQuery } from '@tanstack/react-query';
import { useSupabase } from '../../supabase-context.tsx';
import { unwrap } from '../errors.ts';
import { integrationKeys } from './keys.ts';

/** A row of public.integrations: an agent source connected to the tenant. */
export interface Integration {
  id: string;
  tenant_id: string;
  /** What the integration's keys act as (`lead-gen`, `crm-sync`); tasks with this target are theirs. */
  source: string;
  name: string;
  created_at: string;
}

/** One per source, so a tenant has a handful: read them all, by source. */
export async function fetchIntegrations(
  supabase: SupabaseClient,
  tenantId: string,
): Promise<Integration[]> {
  return unwrap(
    await supabase
      .from('integrations')
      .select('id, tenant_id, source, name, created_at')
      .eq('tenant_id', tenantId)
      .order('source'),
  ) as Integration[];
}

/** Not in the Realtime publication: the create mutation invalidates it. */
export function useIntegrationsQuery(tenantId: string) {
  const supabase = useSupabase();
  return useQuery({
    queryKey: integrationKeys.list(tenantId),
    queryFn: () => fetchIntegrations(supabase, tenantId),
  });
}

const sourcesOf = (integrations: Integration[]) => integrations.map((row) => row.source);

/**
 * Where the tenant's tasks can go: the sources of its integrations (a
 * task's target is the source whose workers claim it), alphabetically. The
 * same cached list as the integrations screen's, so one fetch serves both.
 */
export function useTaskTargetsQuery(tenantId: string) {
  const supabase = useSupabase();
  return useQuery({
    queryKey: integrationKeys.list(tenantId),
    queryFn: () => fetchIntegrations(supabase, tenantId),
    select: sourcesOf,
  });
}
