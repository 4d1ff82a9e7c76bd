import type { Query, QueryClient } from '@tanstack/react-query';
import { invalidateSoon } from '../realtime/changes.ts';
import { taskKeys, type TaskListParams } from './keys.ts';
import { putChainMember } from './tasks-chain-cache.ts';
import {
  compareTimestamps,
  newerVersion,
  TASKS_PAGE_SIZE,
  type TaskListRow,
  type TaskPage,
  type TaskRow,
} from './types.ts';

/**
 * Where a changed task goes in the cache. Shared by the Realtime applier and
 * the mutations (which get the changed row back from their RPC).
 */

/** Newest first, as the list is ordered: created_at desc, then id desc. */
function compareNewestFirst(a: TaskListRow, b: TaskListRow): number {
  const time = compareTimestamps(b.created_at, a.created_at);
  if (time !== 0) return time;
  return a.id < b.id ? 1 : a.id > b.id ? -1 : 0;
}

function matches(params: TaskListParams, row: Pick<TaskRow, 'status' | 'target'>): boolean {
  return (
    (params.status === null || params.status === row.status) &&
    (params.target === null || params.target === row.target)
  );
}

/** Whether `row` sorts somewhere inside what `page` shows (or would, for the first page). */
function fallsWithin(params: TaskListParams, page: TaskPage, row: TaskListRow): boolean {
  const first = page.rows[0];
  const last = page.rows.at(-1);
  if (!first || !last) return params.page === 0;
  const afterFirst = compareNewestFirst(first, row) <= 0;
  const beforeLast = compareNewestFirst(row, last) <= 0;
  return (afterFirst || params.page === 0) && (beforeLast || page.rows.length < TASKS_PAGE_SIZE);
}

/** The columns a cached list row holds, taken from the new version (the list selects fewer). */
function projectOnto(cached: TaskListRow, row: TaskRow): TaskListRow {
  const projected = { ...cached } as Record<string, unknown>;
  for (const key of Object.keys(cached)) {
    if (key in row) projected[key] = row[key as keyof TaskRow];
  }
  return projected as unknown as TaskListRow;
}

/**
 * A new version of a task: it replaces the cached one wherever it is shown,
 * exactly (setQueryData), unless the cache already holds a later version. A
 * list page whose membership it changes (a status filter it now leaves or
 * enters, or a page fetched before the task existed) is refetched instead,
 * since its count and neighbours changed too.
 */
export function putTask(queryClient: QueryClient, tenantId: string, row: TaskRow): void {
  const lists = queryClient
    .getQueryCache()
    .findAll({ queryKey: taskKeys.lists(tenantId) }) as Query<TaskPage>[];
  for (const query of lists) {
    const params = query.queryKey[4] as TaskListParams;
    const page = query.state.data;
    if (!page) {
      // A first fetch in flight may answer from before this change.
      if (query.state.fetchStatus === 'fetching' && matches(params, row))
        invalidateSoon(queryClient, query.queryKey);
      continue;
    }
    const index = page.rows.findIndex((candidate) => candidate.id === row.id);
    const belongs = matches(params, row);
    if (index >= 0 && belongs) {
      const current = page.rows[index]!;
      const next = projectOnto(current, row);
      if (newerVersion(current, next) === current) continue;
      const rows = page.rows.slice();
      rows[index] = next;
      queryClient.setQueryData<TaskPage>(query.queryKey, { ...page, rows });
    } else if (index >= 0 || (belongs && fallsWithin(params, page, row))) {
      invalidateSoon(queryClient, query.queryKey);
    }
  }

  const detailKey = taskKeys.detail(tenantId, row.id);
  const detail = queryClient.getQueryState<TaskRow | null>(detailKey);
  if (detail?.data) {
    const merged = { ...detail.data, ...row };
    if (newerVersion(detail.data, merged) === merged)
      queryClient.setQueryData<TaskRow | null>(detailKey, merged);
  } else if (detail && detail.fetchStatus === 'fetching') {
    // Its first answer may predate this change (and TanStack joins, rather
    // than restarts, a first fetch): hold this version, which the answer,
    // through mergeTask, can only replace with a later one.
    queryClient.setQueryData<TaskRow | null>(detailKey, row);
  }
  // Attempts change with their task (claim, completion, cancel), and are not streamed.
  if (queryClient.getQueryState(taskKeys.attempts(tenantId, row.id)))
    invalidateSoon(queryClient, taskKeys.attempts(tenantId, row.id));
  putChainMember(queryClient, tenantId, row);
}

/** A task appeared or disappeared: every page may shift, and every count changes. */
export function taskSetChanged(queryClient: QueryClient, tenantId: string): void {
  invalidateSoon(queryClient, taskKeys.lists(tenantId));
}
