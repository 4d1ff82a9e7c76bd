import type { SupabaseClient } from '@supabase/supabase-js';
import { keepPreviousData, replaceEqualDeep, useQuery } from '@tanstack/react-query';
import { useSupabase } from '../../supabase-context.tsx';
import { selectPage } from '../paged-select.ts';
import { taskKeys, type TaskListParams } from './keys.ts';
import {
  newerVersion,
  TASK_LIST_COLUMNS,
  TASKS_PAGE_SIZE,
  type TaskListRow,
  type TaskPage,
} from './types.ts';

/**
 * One page of the tenant's tasks, newest first (tasks_tenant_created_idx),
 * with the exact number of tasks matching the filters.
 */
export function fetchTasks(
  supabase: SupabaseClient,
  tenantId: string,
  params: TaskListParams,
): Promise<TaskPage> {
  return selectPage<TaskListRow>(supabase, {
    table: 'tasks',
    columns: TASK_LIST_COLUMNS,
    equal: { tenant_id: tenantId, status: params.status, target: params.target },
    orderBy: 'created_at',
    page: params.page,
    pageSize: TASKS_PAGE_SIZE,
  });
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
