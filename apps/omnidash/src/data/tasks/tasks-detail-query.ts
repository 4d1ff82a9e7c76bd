import type { SupabaseClient } from '@supabase/supabase-js';
import { replaceEqualDeep, useQuery } from '@tanstack/react-query';
import { useSupabase } from '../../supabase-context.tsx';
import { unwrap } from '../errors.ts';
import { taskKeys } from './keys.ts';
import { isFinalStatus, newerVersion, type TaskRow } from './types.ts';

/** One task of the tenant, or null when there is none with this id (or it is another tenant's). */
export async function fetchTask(
  supabase: SupabaseClient,
  tenantId: string,
  taskId: string,
): Promise<TaskRow | null> {
  // An id that is not a UUID would be a 400 from Postgres; it names no task either.
  if (!UUID.test(taskId)) return null;
  const rows = unwrap(
    await supabase.from('tasks').select('*').eq('tenant_id', tenantId).eq('id', taskId).limit(1),
  ) as TaskRow[];
  return rows[0] ?? null;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The later of the cached and the fetched version (see newerVersion). */
export function mergeTask(previous: unknown, next: unknown): unknown {
  const before = previous as TaskRow | null | undefined;
  const after = next as TaskRow | null | undefined;
  if (!before || !after) return replaceEqualDeep(previous, next);
  return replaceEqualDeep(previous, newerVersion(before, after));
}

/** How the detail query reads and keeps a task; useTaskQuery's options (tests build observers from it). */
export function taskQueryOptions(supabase: SupabaseClient, tenantId: string, taskId: string) {
  return {
    queryKey: taskKeys.detail(tenantId, taskId),
    queryFn: () => fetchTask(supabase, tenantId, taskId),
    structuralSharing: mergeTask,
  };
}

/**
 * A task, kept current by the tenant's Realtime channel (tasks-realtime.ts).
 * `pollUnfinishedMs` re-reads a task that has not ended, for callers that
 * must not miss the end while the channel is down (useAgentTask).
 */
export function useTaskQuery(
  tenantId: string,
  taskId: string | null,
  options: { pollUnfinishedMs?: number | false } = {},
) {
  const supabase = useSupabase();
  return useQuery({
    ...taskQueryOptions(supabase, tenantId, taskId ?? ''),
    enabled: taskId !== null,
    refetchInterval: (query) => {
      const task = query.state.data;
      return task && !isFinalStatus(task.status) ? (options.pollUnfinishedMs ?? false) : false;
    },
  });
}
