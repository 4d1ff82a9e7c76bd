import type { SupabaseClient } from '@supabase/supabase-js';
import { keepPreviousData, replaceEqualDeep, useQuery } from '@tanstack/react-query';
import { useSupabase } from '../../supabase-context.tsx';
import { unwrap } from '../errors.ts';
import { taskKeys, type TaskListParams } from './keys.ts';
import {
  newerVersion,
  TASK_LIST_COLUMNS,
  TASKS_PAGE_SIZE,
  type TaskListRow,
  type TaskPage,
} from './types.ts';

/** PostgREST's answer to an offset past the last row (a page number from an old URL). */
const RANGE_NOT_SATISFIABLE = 'PGRST103';

/**
 * One page of the tenant's tasks, newest first (tasks_tenant_created_idx),
 * with the exact number of tasks matching the filters.
 */
export async function fetchTasks(
  supabase: SupabaseClient,
  tenantId: string,
  params: TaskListParams,
): Promise<TaskPage> {
  const from = params.page * TASKS_PAGE_SIZE;
  const filtered = (columns: string, head = false) => {
    let query = supabase
      .from('tasks')
      .select(columns, { count: 'exact', head })
      .eq('tenant_id', tenantId);
    if (params.status) query = query.eq('status', params.status);
    if (params.target) query = query.eq('target', params.target);
    return query;
  };
  const result = await filtered(TASK_LIST_COLUMNS.join(','))
    .order('created_at', { ascending: false })
    .order('id', { ascending: false })
    .range(from, from + TASKS_PAGE_SIZE - 1);
  if (result.error?.code === RANGE_NOT_SATISFIABLE) {
    // Past the end: an empty page that still knows the total, so the screen can lead back.
    const total = await filtered('id', true);
    unwrap(total);
    return { rows: [], count: total.count ?? 0 };
  }
  const rows = unwrap(result) as unknown as TaskListRow[];
  return { rows, count: result.count ?? rows.length };
}

/**
 * A fetched page, except rows the cache already holds in a later version:
 * a fetch that started before a Realtime change must not undo it.
 */
export function mergeTaskPage(previous: unknown, next: unknown): unknown {
  const before = previous as TaskPage | undefined;
  const after = next as TaskPage | undefined;
  if (!before || !after) return replaceEqualDeep(previous, next);
  const known = new Map(before.rows.map((row) => [row.id, row]));
  const rows = after.rows.map((row) => {
    const cached = known.get(row.id);
    return cached ? newerVersion(cached, row) : row;
  });
  return replaceEqualDeep(previous, { ...after, rows });
}

export function useTasksQuery(tenantId: string, params: TaskListParams) {
  const supabase = useSupabase();
  return useQuery({
    queryKey: taskKeys.list(tenantId, params),
    queryFn: () => fetchTasks(supabase, tenantId, params),
    // Paging or filtering keeps the old rows on screen until the new ones arrive.
    placeholderData: keepPreviousData,
    structuralSharing: mergeTaskPage,
  });
}
