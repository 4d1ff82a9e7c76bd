import type { IssuedKey } from '@omnihub/database/testing';
import { startTestStack, type TestStack } from '@omnihub/local-stack/testing';
import type { SupabaseClient } from '@supabase/supabase-js';
import { QueryClient } from '@tanstack/react-query';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RowChange } from '../../src/data/realtime/changes.ts';
import { taskKeys, type TaskListParams } from '../../src/data/tasks/keys.ts';
import { approveTask } from '../../src/data/tasks/tasks-approve-mutation.ts';
import { fetchTaskAttempts } from '../../src/data/tasks/tasks-attempts-query.ts';
import { cancelTask } from '../../src/data/tasks/tasks-cancel-mutation.ts';
import { createTask, type CreateTaskInput } from '../../src/data/tasks/tasks-create-mutation.ts';
import { fetchTask } from '../../src/data/tasks/tasks-detail-query.ts';
import { fetchTasks } from '../../src/data/tasks/tasks-query.ts';
import { applyTaskChange } from '../../src/data/tasks/tasks-realtime.ts';
import { rejectTask } from '../../src/data/tasks/tasks-reject-mutation.ts';
import { retryTask } from '../../src/data/tasks/tasks-retry-mutation.ts';
import { fetchIntegrations } from '../../src/data/integrations/integrations-query.ts';
import { EXACT_COUNT_LIMIT } from '../../src/data/paged-select.ts';
import type { TaskPage } from '../../src/data/tasks/types.ts';
import { refusal } from './support.ts';

let t: TestStack;
let apex: IssuedKey;
let leadGen: IssuedKey;
let tenantId: string;
let operator: SupabaseClient;
let viewer: SupabaseClient;
let stranger: SupabaseClient;

async function clientFor(options: { tenantId: string; role: 'viewer' | 'operator' | 'admin' }) {
  const user = await t.createUser(options);
  return t.supabaseAs(await t.accessToken(user));
}

function input(overrides: Partial<CreateTaskInput> = {}): CreateTaskInput {
  return {
    target: 'apex-sales',
    action: 'echo',
    payload: { message: 'hello' },
    require_approval: false,
    priority: 5,
    run_at: null,
    max_attempts: 3,
    depends_on: [],
    ...overrides,
  };
}

/** One call to the OmniLink Port as the agent holding `key`. */
async function port(key: IssuedKey, path: string, body: unknown) {
  const response = await fetch(`${t.stack.portUrl}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key.apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as any };
}

/** A worker of `key`'s target claims what is ready and completes `taskId` as told. */
async function work(
  key: IssuedKey,
  taskId: string,
  outcome: {
    status: 'succeeded' | 'failed';
    output?: unknown;
    error?: string;
    retryable?: boolean;
  },
) {
  const claim = await port(key, '/tasks/claim', { worker_id: 'test-worker', max_tasks: 100 });
  expect(claim.body.tasks.map((task: { id: string }) => task.id)).toContain(taskId);
  const done = await port(key, `/tasks/${taskId}/complete`, {
    worker_id: 'test-worker',
    ...outcome,
  });
  expect(done.status).toBe(200);
}

beforeAll(async () => {
  t = await startTestStack();
  apex = await t.issueKey({ tenant: 'acme', source: 'apex-sales' });
  leadGen = await t.issueKey({ tenant: 'acme', source: 'lead-gen' });
  await t.issueKey({ tenant: 'globex', source: 'apex-sales' });
  tenantId = apex.tenantId;
  operator = await clientFor({ tenantId, role: 'operator' });
  viewer = await clientFor({ tenantId, role: 'viewer' });
  const [globex] = await t.db.sql`select id from public.tenants where slug = 'globex'`;
  stranger = await clientFor({ tenantId: globex!.id as string, role: 'admin' });
});
afterAll(() => t?.close());

/** The targets the task forms offer: the sources of the tenant's integrations. */
const fetchTaskTargets = async (client: SupabaseClient, id: string) =>
  (await fetchIntegrations(client, id)).map((row) => row.source);

describe('task targets', () => {
  it('are the tenant’s integration sources, alphabetically', async () => {
    expect(await fetchTaskTargets(operator, tenantId)).toEqual(['apex-sales', 'lead-gen']);
    expect(leadGen.source).toBe('lead-gen');
  });

  it('are none of another tenant’s', async () => {
    expect(await fetchTaskTargets(stranger, tenantId)).toEqual([]);
  });
});

describe('creating a task', () => {
  it('creates it queued, with every option as sent', async () => {
    const dependency = await createTask(operator, tenantId, input());
    const runAt = new Date(Date.now() + 3_600_000).toISOString();
    const { status, task } = await createTask(
      operator,
      tenantId,
      input({
        target: 'lead-gen',
        action: 'score_lead',
        payload: { leads: [1, 2] },
        priority: 9,
        max_attempts: 7,
        run_at: runAt,
        depends_on: [dependency.task.id],
      }),
    );
    expect(status).toBe('created');
    expect(task).toMatchObject({
      tenant_id: tenantId,
      target: 'lead-gen',
      action: 'score_lead',
      params: { payload: { leads: [1, 2] } },
      status: 'queued',
      priority: 9,
      max_attempts: 7,
      depends_on: [dependency.task.id],
    });
    expect(Date.parse(task.run_at!)).toBe(Date.parse(runAt));
    // What the cache is seeded with is what a read returns.
    const read = await fetchTask(operator, tenantId, task.id);
    expect(read).toMatchObject({ ...task, run_at: expect.any(String) });
  });

  it('creates it waiting for approval when asked', async () => {
    const { task } = await createTask(operator, tenantId, input({ require_approval: true }));
    expect(task.status).toBe('waiting_approval');
  });

  it('returns the original for a repeated idempotency key, and creates nothing', async () => {
    const key = `form-${crypto.randomUUID()}`;
    const first = await createTask(operator, tenantId, input({ idempotency_key: key }));
    const again = await createTask(operator, tenantId, input({ idempotency_key: key }));
    expect(again.status).toBe('duplicate');
    expect(again.task.id).toBe(first.task.id);
    const [row] = await t.db
      .sql`select count(*)::int as n from public.tasks where idempotency_key = ${key}`;
    expect(row!.n).toBe(1);
  });

  it('refuses a viewer with the server’s message', async () => {
    const error = await refusal(createTask(viewer, tenantId, input()));
    expect(error.message).toBe(
      'This action needs the operator role in this tenant; you are viewer.',
    );
    expect(error.code).toBe('42501');
    expect(error.isRefusal).toBe(true);
  });

  it('refuses another tenant’s member as if the tenant did not exist', async () => {
    const error = await refusal(createTask(stranger, tenantId, input()));
    expect(error).toMatchObject({ message: 'Not found.', code: 'PT404', status: 404 });
  });

  it('passes on the server’s word for input the schema let through', async () => {
    const error = await refusal(
      createTask(
        operator,
        tenantId,
        input({ depends_on: ['0193a8f2-0000-7000-8000-000000000001'] }),
      ),
    );
    expect(error.message).toBe('depends_on lists tasks that do not exist in your tenant.');
  });
});

describe('listing tasks', () => {
  let ids: string[];
  let operatorOfListing: SupabaseClient;
  let listingTenant: string;
  const params = (overrides: Partial<TaskListParams> = {}): TaskListParams => ({
    status: null,
    target: null,
    page: 0,
    ...overrides,
  });

  beforeAll(async () => {
    // A tenant of its own, so counts are exact whatever other tests create.
    const own = await t.issueKey({ tenant: 'listing', source: 'apex-sales' });
    await t.issueKey({ tenant: 'listing', source: 'lead-gen' });
    const client = await clientFor({ tenantId: own.tenantId, role: 'operator' });
    ids = [];
    for (let i = 0; i < 30; i++) {
      const { task } = await createTask(
        client,
        own.tenantId,
        input({
          target: i % 3 === 0 ? 'lead-gen' : 'apex-sales',
          require_approval: i % 5 === 0,
          payload: { i },
        }),
      );
      ids.push(task.id);
    }
    operatorOfListing = client;
    listingTenant = own.tenantId;
  });

  it('pages 25 at a time, newest first, with the exact count', async () => {
    const first = await fetchTasks(operatorOfListing, listingTenant, params());
    expect(first).toMatchObject({ count: 30, exact: true, hasNext: true });
    expect(first.rows.map((row) => row.id)).toEqual(ids.slice().reverse().slice(0, 25));
    const second = await fetchTasks(operatorOfListing, listingTenant, params({ page: 1 }));
    expect(second).toMatchObject({ count: 30, exact: true, hasNext: false });
    expect(second.rows.map((row) => row.id)).toEqual(ids.slice(0, 5).reverse());
  });

  it('shows a list row without params or output (the detail has them)', async () => {
    const [row] = (await fetchTasks(operatorOfListing, listingTenant, params())).rows;
    expect(Object.keys(row!).sort()).toEqual(
      [
        'action',
        'attempts',
        'created_at',
        'error',
        'finished_at',
        'id',
        'max_attempts',
        'priority',
        'require_approval',
        'run_at',
        'status',
        'target',
        'updated_at',
      ].sort(),
    );
  });

  it('filters by status and by target, each and both, with matching counts', async () => {
    const waiting = await fetchTasks(
      operatorOfListing,
      listingTenant,
      params({ status: 'waiting_approval' }),
    );
    expect(waiting.count).toBe(6);
    expect(waiting.rows.every((row) => row.status === 'waiting_approval')).toBe(true);

    const leadGenTasks = await fetchTasks(
      operatorOfListing,
      listingTenant,
      params({ target: 'lead-gen' }),
    );
    expect(leadGenTasks.count).toBe(10);
    expect(leadGenTasks.rows.every((row) => row.target === 'lead-gen')).toBe(true);

    const both = await fetchTasks(
      operatorOfListing,
      listingTenant,
      params({ status: 'waiting_approval', target: 'lead-gen' }),
    );
    // i = 0, 15: multiples of both 3 and 5.
    expect(both.count).toBe(2);
    expect(both.rows.map((row) => row.id)).toEqual([ids[15], ids[0]]);
  });

  it('answers a page past the end with no rows and the real count', async () => {
    expect(await fetchTasks(operatorOfListing, listingTenant, params({ page: 5 }))).toEqual({
      rows: [],
      count: 30,
      exact: true,
      hasNext: false,
    });
  });

  it('lets a viewer read them all', async () => {
    const reader = await clientFor({ tenantId: listingTenant, role: 'viewer' });
    expect((await fetchTasks(reader, listingTenant, params())).count).toBe(30);
  });

  it('shows another tenant’s member nothing at all', async () => {
    expect(await fetchTasks(stranger, listingTenant, params())).toEqual({
      rows: [],
      count: 0,
      exact: true,
      hasNext: false,
    });
    expect(await fetchTask(stranger, listingTenant, ids[0]!)).toBeNull();
    // Even asking for the task under the stranger's own tenant id finds nothing.
    const [globex] = await t.db.sql`select id from public.tenants where slug = 'globex'`;
    expect(await fetchTask(stranger, globex!.id as string, ids[0]!)).toBeNull();
    expect(await fetchTaskAttempts(stranger, listingTenant, ids[0]!)).toEqual([]);
  });

  it('reads an id that is not a task id as no task', async () => {
    expect(await fetchTask(operatorOfListing, listingTenant, 'not-a-uuid')).toBeNull();
  });
});

describe('a list longer than the exact count limit', () => {
  const TOTAL = EXACT_COUNT_LIMIT + 30;
  let reader: SupabaseClient;
  let longTenant: string;
  let newestFirst: string[];
  const params = (overrides: Partial<TaskListParams> = {}): TaskListParams => ({
    status: null,
    target: null,
    page: 0,
    ...overrides,
  });

  beforeAll(async () => {
    const key = await t.issueKey({ tenant: 'long-list', source: 'lead-gen' });
    longTenant = key.tenantId;
    reader = await clientFor({ tenantId: longTenant, role: 'viewer' });
    // One statement: task n is n seconds old; every 35th failed.
    const rows = await t.db.sql`
      insert into public.tasks (tenant_id, target, action, status, created_at)
      select ${longTenant}, 'lead-gen', 'bulk',
             case when n % 35 = 0 then 'failed' else 'succeeded' end,
             now() - make_interval(secs => n)
      from generate_series(1, ${TOTAL}::int) n
      order by n
      returning id`;
    newestFirst = rows.map((row) => row.id as string);
  });

  it('says "more than" the limit past it, with the next page known', async () => {
    const first = await fetchTasks(reader, longTenant, params());
    expect(first).toMatchObject({ count: EXACT_COUNT_LIMIT, exact: false, hasNext: true });
    expect(first.rows.map((row) => row.id)).toEqual(newestFirst.slice(0, 25));
    // Rows 1,001–1,025: at least that many.
    const past = await fetchTasks(reader, longTenant, params({ page: 40 }));
    expect(past).toMatchObject({ count: 1025, exact: false, hasNext: true });
    expect(past.rows.map((row) => row.id)).toEqual(newestFirst.slice(1000, 1025));
  });

  it('knows the exact number on the last page, whatever the count said', async () => {
    const last = await fetchTasks(reader, longTenant, params({ page: 41 }));
    expect(last).toMatchObject({ count: TOTAL, exact: true, hasNext: false });
    expect(last.rows.map((row) => row.id)).toEqual(newestFirst.slice(1025));
  });

  it('counts exactly again when a filter narrows the list to the limit or less', async () => {
    const failed = await fetchTasks(reader, longTenant, params({ status: 'failed' }));
    expect(failed).toMatchObject({ count: Math.floor(TOTAL / 35), exact: true, hasNext: true });
  });

  it('answers a page past the end with no rows, still more than the limit', async () => {
    expect(await fetchTasks(reader, longTenant, params({ page: 60 }))).toEqual({
      rows: [],
      count: EXACT_COUNT_LIMIT,
      exact: false,
      hasNext: false,
    });
  });
});

describe('changing a task', () => {
  it('approves a task waiting for approval, and a worker can then run it', async () => {
    const { task } = await createTask(operator, tenantId, input({ require_approval: true }));
    const approved = await approveTask(operator, task.id);
    expect(approved).toMatchObject({
      id: task.id,
      status: 'approved',
      approved_at: expect.any(String),
    });
    await work(apex, task.id, { status: 'succeeded', output: { ok: 1 } });
    expect(await fetchTask(operator, tenantId, task.id)).toMatchObject({
      status: 'succeeded',
      output: { ok: 1 },
    });
  });

  it('rejects with a reason, which becomes the task’s error', async () => {
    const { task } = await createTask(operator, tenantId, input({ require_approval: true }));
    expect(await rejectTask(operator, task.id, '  not this week ')).toMatchObject({
      status: 'canceled',
      error: 'rejected: not this week',
    });
    const { task: other } = await createTask(operator, tenantId, input({ require_approval: true }));
    expect((await rejectTask(operator, other.id)).error).toBe('rejected');
  });

  it('cancels a running task and ends its attempt', async () => {
    const { task } = await createTask(operator, tenantId, input());
    const claim = await port(apex, '/tasks/claim', { worker_id: 'w-cancel', max_tasks: 100 });
    expect(claim.body.tasks.map((row: { id: string }) => row.id)).toContain(task.id);
    expect(await cancelTask(operator, task.id, 'wrong lead')).toMatchObject({
      status: 'canceled',
      error: 'canceled: wrong lead',
    });
    const attempts = await fetchTaskAttempts(operator, tenantId, task.id);
    expect(attempts).toMatchObject([
      { attempt: 1, worker_id: 'w-cancel', outcome: 'canceled', error: 'canceled: wrong lead' },
    ]);
    // The worker has lost it.
    const late = await port(apex, `/tasks/${task.id}/complete`, {
      worker_id: 'w-cancel',
      status: 'succeeded',
    });
    expect(late.status).toBe(409);
  });

  it('retries a failed task with fresh attempts, keeping the history', async () => {
    const { task } = await createTask(operator, tenantId, input({ max_attempts: 1 }));
    await work(apex, task.id, { status: 'failed', error: 'boom' });
    expect(await fetchTask(operator, tenantId, task.id)).toMatchObject({
      status: 'failed',
      error: 'boom',
    });
    expect(await retryTask(operator, task.id)).toMatchObject({
      status: 'queued',
      attempts: 0,
      error: null,
    });
    await work(apex, task.id, { status: 'succeeded' });
    const attempts = await fetchTaskAttempts(operator, tenantId, task.id);
    expect(attempts.map((attempt) => [attempt.attempt, attempt.outcome, attempt.error])).toEqual([
      [1, 'failed', 'boom'],
      [1, 'succeeded', null],
    ]);
  });

  it('passes on the server’s message when the status does not allow the change', async () => {
    const { task } = await createTask(operator, tenantId, input());
    expect(await refusal(approveTask(operator, task.id))).toMatchObject({
      message: 'The task is queued; only a task waiting for approval can be approved.',
      code: 'PT409',
      status: 409,
    });
    expect((await refusal(retryTask(operator, task.id))).message).toBe(
      'The task is queued; only a failed task can be retried.',
    );
    await cancelTask(operator, task.id);
    expect((await refusal(cancelTask(operator, task.id))).message).toBe(
      'The task already ended (canceled); only a task that has not ended can be canceled.',
    );
  });

  it('refuses every change to a viewer, with the server’s message, and changes nothing', async () => {
    const { task } = await createTask(operator, tenantId, input({ require_approval: true }));
    const message = 'This action needs the operator role in this tenant; you are viewer.';
    for (const change of [
      () => approveTask(viewer, task.id),
      () => rejectTask(viewer, task.id, 'no'),
      () => cancelTask(viewer, task.id),
      () => retryTask(viewer, task.id),
    ]) {
      expect(await refusal(change())).toMatchObject({ message, code: '42501', status: 403 });
    }
    expect(await fetchTask(viewer, tenantId, task.id)).toMatchObject({
      status: 'waiting_approval',
    });
  });

  it('refuses another tenant’s member as not found', async () => {
    const { task } = await createTask(operator, tenantId, input());
    expect(await refusal(cancelTask(stranger, task.id))).toMatchObject({
      message: 'Not found.',
      status: 404,
    });
    expect((await fetchTask(operator, tenantId, task.id))?.status).toBe('queued');
  });
});

describe('the Realtime applier', () => {
  it('moves a cached list row queued → running → succeeded without a refetch, and keeps the detail current', async () => {
    const queryClient = new QueryClient({ defaultOptions: { queries: { staleTime: Infinity } } });
    const listKey = taskKeys.list(tenantId, { status: null, target: null, page: 0 });
    const queuedKey = taskKeys.list(tenantId, { status: 'queued', target: null, page: 0 });
    const { task } = await createTask(operator, tenantId, input());
    queryClient.setQueryData(
      listKey,
      await fetchTasks(operator, tenantId, { status: null, target: null, page: 0 }),
    );
    queryClient.setQueryData(
      queuedKey,
      await fetchTasks(operator, tenantId, { status: 'queued', target: null, page: 0 }),
    );
    queryClient.setQueryData(
      taskKeys.detail(tenantId, task.id),
      await fetchTask(operator, tenantId, task.id),
    );

    const seen: string[] = [];
    const channel = operator
      .channel(`applier-${crypto.randomUUID()}`)
      .on(
        'postgres_changes',
        { event: '*', schema: 'public', table: 'tasks', filter: `tenant_id=eq.${tenantId}` },
        (payload) => {
          applyTaskChange(queryClient, tenantId, {
            type: payload.eventType as RowChange['type'],
            new: payload.new,
          });
          const row = queryClient
            .getQueryData<TaskPage>(listKey)!
            .rows.find((r) => r.id === task.id);
          // (The INSERT may still be on its way when the channel joins.)
          if (row && payload.eventType === 'UPDATE' && payload.new.id === task.id)
            seen.push(row.status);
        },
      );
    await new Promise<void>((resolve) =>
      channel.subscribe((state) => state === 'SUBSCRIBED' && resolve()),
    );
    try {
      await work(apex, task.id, { status: 'succeeded', output: { echoed: true } });
      await expect
        .poll(
          () =>
            queryClient.getQueryData<TaskPage>(listKey)!.rows.find((r) => r.id === task.id)?.status,
        )
        .toBe('succeeded');
      // Each step landed in the cached page itself: no fetch happened.
      expect(seen).toEqual(['running', 'succeeded']);
      expect(queryClient.getQueryState(listKey)!.isInvalidated).toBe(false);
      expect(queryClient.getQueryData(taskKeys.detail(tenantId, task.id))).toMatchObject({
        status: 'succeeded',
        output: { echoed: true },
        attempts: 1,
      });
      // The task left the "queued" list: that page is refetched, not patched.
      await expect.poll(() => queryClient.getQueryState(queuedKey)!.isInvalidated).toBe(true);
    } finally {
      await operator.removeChannel(channel);
    }
  });
});
