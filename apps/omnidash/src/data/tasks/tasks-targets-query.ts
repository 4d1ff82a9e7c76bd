import type { SupabaseClient } from '@supabase/supabase-js';
import { useQuery } from '@tanstack/react-query';
import { useSupabase } from '../../supabase-context.tsx';
import { unwrap } from '../errors.ts';
import { taskKeys } from './keys.ts';

/**
 * Where the tenant's tasks can go: the sources of its integrations (a
 * task's target is the source whose workers claim it), alphabetically.
 */
export async function fetchTaskTargets(
  supabase: SupabaseClient,
  tenantId: string,
): Promise<string[]> {
  const rows = unwrap(
    await supabase
      .from('integrations')
      .select('source')
      .eq('tenant_id', tenantId)
      .order('source', { ascending: true }),
  ) as { source: string }[];
  return rows.map((row) => row.source);
}

export function useTaskTargetsQuery(tenantId: string) {
  const supabase = useSupabase();
  return useQuery({
    queryKey: taskKeys.targets(tenantId),
    queryFn: () => fetchTaskTargets(supabase, tenantId),
  });
}
