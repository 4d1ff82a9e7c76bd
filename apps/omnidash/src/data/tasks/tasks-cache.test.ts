import { QueryClient, QueryObserver } from '@tanstack/react-query';
import { describe, expect, it } from 'vitest';
import { taskKeys, type TaskListParams } from './keys.ts';
import { putTask } from './tasks-cache.ts';
import { mergeTask, taskQueryOptions } from './tasks-detail-query.ts';
import { mergeTaskPage } from './tasks-query.ts';
import { applyTaskChange } from './tasks-realtime.ts';
import { TASK_LIST_COLUMNS, type TaskListRow, type TaskPage, type TaskRow } from './types.ts';

const TENANT = 't1';

function row(n: number, overrides: Partial<TaskRow> = {}): TaskRow {
  return {
    id: `00000000-0000-7000-8000-${String(n).padStart(12, '0')}`,
    tenant_id: TENANT,
    target: 'apex-sales',
    action: 'echo',
    params: { payload: { n } },
    status: 'queued',
    priority: 5,
    run_at: null,
    require_approval: false,
    attempts: 0,
    max_attempts: 3,
    claimed_by: null,
    lease_expires_at: null,
    output: null,
    output_truncated: false,
    error: null,
    progress: null,
    depends_on: [],
    idempotency_key: null,
    approved_at: null,
    finished_at: null,
    created_at: `2026-11-21T10:00:${String(n).padStart(2, '0')}.000000+00:00`,
    updated_at: `2026-11-21T10:00:${String(n).padStart(2, '0')}.000000+00:00`,
    ...overrides,
  };
}

function listRow(task: TaskRow): TaskListRow {
  return Object.fromEntries(TASK_LIST_COLUMNS.map((key) => [key, task[key]])) as TaskListRow;
}

const params = (overrides: Partial<TaskListParams> = {}): TaskListParams => ({
  status: null,
  target: null,
  page: 0,
  ...overrides,
});

/** A cache holding `pages` (newest first) as fetched. */
function cacheWith(pages: [TaskListParams, TaskRow[], number][]) {
  const queryClient = new QueryClient({ defaultOptions: { queries: { staleTime: Infinity } } });
  for (const [listParams, rows, count] of pages)
    queryClient.setQueryData<TaskPage>(taskKeys.list(TENANT, listParams), {
      rows: rows.map(listRow),
      count,
      exact: true,
      hasNext: false,
    });
  return queryClient;
}

const page = (queryClient: QueryClient, listParams: TaskListParams) =>
  queryClient.getQueryData<TaskPage>(taskKeys.list(TENANT, listParams))!;
const invalidated = (queryClient: QueryClient, listParams: TaskListParams) =>
  queryClient.getQueryState(taskKeys.list(TENANT, listParams))!.isInvalidated;

describe('putTask', () => {
  it('puts the new version into every page that shows it, with only the list’s columns', () => {
    const [a, b] = [row(2), row(1)];
    const queryClient = cacheWith([
      [params(), [a, b], 2],
      [params({ target: 'apex-sales' }), [a, b], 2],
    ]);
    const running = {
      ...b,
      status: 'running' as const,
      attempts: 1,
      updated_at: '2026-11-21T10:01:00Z',
    };
    putTask(queryClient, TENANT, running);
    for (const listParams of [params(), params({ target: 'apex-sales' })]) {
      expect(page(queryClient, listParams).rows[1]).toEqual(listRow(running));
      expect(page(queryClient, listParams).rows[1]).not.toHaveProperty('params');
      expect(page(queryClient, listParams).rows[0]).toBe(page(queryClient, listParams).rows[0]);
      expect(invalidated(queryClient, listParams)).toBe(false);
    }
  });

  it('never puts an older version over a newer one', () => {
    const done = row(1, { status: 'succeeded', updated_at: '2026-11-21T10:05:00.000002+00:00' });
    const queryClient = cacheWith([[params(), [done], 1]]);
    putTask(queryClient, TENANT, {
      ...done,
      status: 'running',
      updated_at: '2026-11-21T10:05:00.000001+00:00',
    });
    expect(page(queryClient, params()).rows[0]!.status).toBe('succeeded');
  });

  it('has a filtered page refetched when the task leaves or enters it', async () => {
    const task = row(3);
    const queryClient = cacheWith([
      [params({ status: 'queued' }), [task], 1],
      [params({ status: 'running' }), [], 0],
      [params({ status: 'failed' }), [], 0],
    ]);
    putTask(queryClient, TENANT, {
      ...task,
      status: 'running',
      updated_at: '2026-11-21T11:00:00Z',
    });
    await expect.poll(() => invalidated(queryClient, params({ status: 'queued' }))).toBe(true);
    await expect.poll(() => invalidated(queryClient, params({ status: 'running' }))).toBe(true);
    // The row it left still shows the old status until the refetch answers: no half-updated page.
    expect(page(queryClient, params({ status: 'queued' })).rows[0]!.status).toBe('queued');
    expect(invalidated(queryClient, params({ status: 'failed' }))).toBe(false);
  });

  it('has the page refetched that should show a task it lacks, and no other', async () => {
    const rows = Array.from({ length: 25 }, (_, i) => row(50 - i));
    const queryClient = cacheWith([
      [params(), rows, 40],
      [params({ page: 1 }), [row(25), row(24)], 40],
    ]);
    // Newer than anything on the first page: fetched before it existed.
    putTask(
      queryClient,
      TENANT,
      row(59, { status: 'running', updated_at: '2026-11-21T12:00:00Z' }),
    );
    await expect.poll(() => invalidated(queryClient, params())).toBe(true);
    expect(invalidated(queryClient, params({ page: 1 }))).toBe(false);
  });

  it('merges the new version into a cached detail, and holds it for one whose first fetch is in flight', async () => {
    const task = row(4);
    const queryClient = cacheWith([]);
    queryClient.setQueryData(taskKeys.detail(TENANT, task.id), task);
    const succeeded = {
      ...task,
      status: 'succeeded' as const,
      output: { ok: true },
      updated_at: '2026-11-21T11:00:00Z',
    };
    putTask(queryClient, TENANT, succeeded);
    expect(queryClient.getQueryData(taskKeys.detail(TENANT, task.id))).toEqual(succeeded);

    // A detail on screen with no data yet, whose fetch may predate the change.
    const other = row(5);
    let fetches = 0;
    const observer = new QueryObserver(queryClient, {
      ...taskQueryOptions(null as never, TENANT, other.id),
      queryFn: async () => {
        fetches++;
        await new Promise((resolve) => setTimeout(resolve, 20));
        return other;
      },
    });
    const unsubscribe = observer.subscribe(() => {});
    expect(queryClient.getQueryState(taskKeys.detail(TENANT, other.id))?.fetchStatus).toBe(
      'fetching',
    );
    putTask(queryClient, TENANT, {
      ...other,
      status: 'running',
      updated_at: '2026-11-21T11:00:00Z',
    });
    await expect
      .poll(() => queryClient.getQueryData<TaskRow>(taskKeys.detail(TENANT, other.id))?.status)
      .toBe('running');
    // The first fetch's older answer did not put the old status back.
    await expect
      .poll(() => queryClient.getQueryState(taskKeys.detail(TENANT, other.id))?.fetchStatus)
      .toBe('idle');
    expect(queryClient.getQueryData<TaskRow>(taskKeys.detail(TENANT, other.id))?.status).toBe(
      'running',
    );
    unsubscribe();
    expect(fetches).toBe(1);

    // Nobody shows this one: nothing is cached for it.
    putTask(queryClient, TENANT, row(6));
    expect(queryClient.getQueryState(taskKeys.detail(TENANT, row(6).id))).toBeUndefined();
  });
});

describe('fetched data meets the cache', () => {
  it('keeps a cached row that is newer than the fetched one', () => {
    const cached: TaskPage = {
      rows: [listRow(row(1, { status: 'succeeded', updated_at: '2026-11-21T10:09:00Z' }))],
      count: 1,
      exact: true,
      hasNext: false,
    };
    const fetched: TaskPage = {
      rows: [
        listRow(row(2)),
        listRow(row(1, { status: 'running', updated_at: '2026-11-21T10:08:00Z' })),
      ],
      count: 2,
      exact: true,
      hasNext: false,
    };
    const merged = mergeTaskPage(cached, fetched) as TaskPage;
    expect(merged.rows.map((r) => r.status)).toEqual(['queued', 'succeeded']);
    expect(merged.count).toBe(2);
  });

  it('keeps a cached detail that is newer than the fetched one', () => {
    const newer = row(1, { status: 'succeeded', updated_at: '2026-11-21T10:09:00Z' });
    expect(mergeTask(newer, row(1, { status: 'running' }))).toBe(newer);
    expect(mergeTask(row(1), null)).toBeNull();
  });
});

describe('applyTaskChange', () => {
  it('refetches the lists on an INSERT', async () => {
    const queryClient = cacheWith([[params(), [row(1)], 1]]);
    applyTaskChange(queryClient, TENANT, { type: 'INSERT', new: row(2) as never });
    await expect.poll(() => invalidated(queryClient, params())).toBe(true);
  });
});

describe('a list whose first fetch is in flight', () => {
  it('is fetched again after it answers, when a change may have come too late for it', async () => {
    const queryClient = new QueryClient();
    let fetches = 0;
    const key = taskKeys.list(TENANT, params());
    const observer = new QueryObserver(queryClient, {
      queryKey: key,
      queryFn: async () => {
        fetches++;
        await new Promise((resolve) => setTimeout(resolve, 20));
        return {
          rows: [listRow(row(1))],
          count: 1,
          exact: true,
          hasNext: false,
        } satisfies TaskPage;
      },
    });
    const unsubscribe = observer.subscribe(() => {});
    putTask(queryClient, TENANT, row(1, { status: 'running', updated_at: '2026-11-21T11:00:00Z' }));
    await expect.poll(() => fetches).toBe(2);
    unsubscribe();
  });
});
