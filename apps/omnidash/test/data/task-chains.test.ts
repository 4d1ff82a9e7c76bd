import type { IssuedKey } from '@omnihub/database/testing';
import { startTestStack, type TestStack } from '@omnihub/local-stack/testing';
import type { SupabaseClient } from '@supabase/supabase-js';
import { QueryClient, QueryObserver } from '@tanstack/react-query';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RowChange } from '../../src/data/realtime/changes.ts';
import { taskKeys } from '../../src/data/tasks/keys.ts';
import { cancelTask } from '../../src/data/tasks/tasks-cancel-mutation.ts';
import {
  createTaskChain,
  type ChainStep,
} from '../../src/data/tasks/tasks-chain-create-mutation.ts';
import { fetchTaskChain, type TaskChainRow } from '../../src/data/tasks/tasks-chain-query.ts';
import { createTask } from '../../src/data/tasks/tasks-create-mutation.ts';
import { applyTaskChange } from '../../src/data/tasks/tasks-realtime.ts';
import { member, refusal } from './support.ts';

let t: TestStack;
let key: IssuedKey;
let tenantId: string;
let operator: SupabaseClient;
let viewer: SupabaseClient;
let stranger: SupabaseClient;

beforeAll(async () => {
  t = await startTestStack();
  key = await t.issueKey({ tenant: 'acme', source: 'lead-gen' });
  const other = await t.issueKey({ tenant: 'globex', source: 'lead-gen' });
  tenantId = key.tenantId;
  operator = (await member(t, tenantId, 'operator')).client;
  viewer = (await member(t, tenantId, 'viewer')).client;
  stranger = (await member(t, other.tenantId, 'admin')).client;
});
afterAll(() => t?.close());

const STEPS: ChainStep[] = [
  { target: 'lead-gen', action: 'discover_leads', payload: { run_id: 'r' } },
  { target: 'lead-gen', action: 'enrich_lead', payload: { run_id: 'r' }, priority: 8 },
  { target: 'lead-gen', action: 'score_lead', payload: { run_id: 'r' } },
];

async function taskCount(): Promise<number> {
  const [row] = await t.db.sql`select count(*)::int as n from public.tasks`;
  return row!.n as number;
}

const shape = (chain: TaskChainRow[]) =>
  chain.map((row) => `${row.relation}:${row.action}:${row.status}`);

describe('creating a chain', () => {
  it('creates the three tasks, each depending on the one before, as an operator', async () => {
    const { status, tasks } = await createTaskChain(operator, tenantId, STEPS);
    expect(status).toBe('created');
    expect(tasks.map((task) => [task.action, task.status, task.priority])).toEqual([
      ['discover_leads', 'queued', 5],
      ['enrich_lead', 'queued', 8],
      ['score_lead', 'queued', 5],
    ]);
    expect(tasks[1]!.depends_on).toEqual([tasks[0]!.id]);
    expect(tasks[2]!.depends_on).toEqual([tasks[1]!.id]);
    expect(tasks.every((task) => task.tenant_id === tenantId)).toBe(true);
  });

  it('creates nothing more when the same request is sent again with its key', async () => {
    const idempotencyKey = `omnidash-${crypto.randomUUID()}`;
    const first = await createTaskChain(operator, tenantId, STEPS, idempotencyKey);
    const before = await taskCount();
    const again = await createTaskChain(operator, tenantId, STEPS, idempotencyKey);
    expect(again.status).toBe('duplicate');
    expect(again.tasks.map((task) => task.id)).toEqual(first.tasks.map((task) => task.id));
    expect(await taskCount()).toBe(before);
  });

  it('refuses a viewer with the role message, creating nothing', async () => {
    const before = await taskCount();
    const error = await refusal(createTaskChain(viewer, tenantId, STEPS));
    expect(error.message).toBe(
      'This action needs the operator role in this tenant; you are viewer.',
    );
    expect(error.code).toBe('42501');
    expect(await taskCount()).toBe(before);
  });

  it('refuses another tenant’s member as if the tenant did not exist', async () => {
    const before = await taskCount();
    const error = await refusal(createTaskChain(stranger, tenantId, STEPS));
    expect(error).toMatchObject({ message: 'Not found.', status: 404 });
    expect(await taskCount()).toBe(before);
  });

  it('refuses a bad step with a message naming it, creating nothing', async () => {
    const before = await taskCount();
    const error = await refusal(
      createTaskChain(operator, tenantId, [STEPS[0]!, { ...STEPS[1]!, priority: 0 }]),
    );
    expect(error).toMatchObject({
      code: '22023',
      message: 'Step 2 of 2: priority must be from 1 to 10.',
    });
    expect(await taskCount()).toBe(before);
  });
});

describe('reading a chain', () => {
  it('gives a viewer the whole chain, dependencies first, from any member', async () => {
    const { tasks } = await createTaskChain(operator, tenantId, STEPS);
    for (const task of tasks) {
      const chain = await fetchTaskChain(viewer, tenantId, task.id);
      expect(chain.map((row) => row.id)).toEqual(tasks.map((row) => row.id));
      expect(chain.find((row) => row.relation === 'task')!.id).toBe(task.id);
    }
    expect(shape(await fetchTaskChain(viewer, tenantId, tasks[1]!.id))).toEqual([
      'upstream:discover_leads:queued',
      'task:enrich_lead:queued',
      'downstream:score_lead:queued',
    ]);
  });

  it('gives another tenant’s member nothing, even naming its own tenant', async () => {
    const { tasks } = await createTaskChain(operator, tenantId, STEPS);
    expect(await fetchTaskChain(stranger, tenantId, tasks[0]!.id)).toEqual([]);
    const [globex] = await t.db.sql`select id from public.tenants where slug = 'globex'`;
    expect(await fetchTaskChain(stranger, globex!.id as string, tasks[0]!.id)).toEqual([]);
  });
});

describe('a cached chain over Realtime', () => {
  it('shows the cancel of the first task and the dependency_failed of the rest in place, and a new dependent by a refetch', async () => {
    const queryClient = new QueryClient({ defaultOptions: { queries: { retry: false } } });
    // Realtime delivers what it decodes after a channel joins, which can include
    // a change committed just before; so the channel joins first and the chain's
    // own inserts are awaited before anything is cached or counted.
    const inserted = new Set<string>();
    const channel = viewer
      .channel(`chain-${crypto.randomUUID()}`)
      .on(
        'postgres_changes',
        { event: '*', schema: 'public', table: 'tasks', filter: `tenant_id=eq.${tenantId}` },
        (payload) => {
          if (payload.eventType === 'INSERT') inserted.add((payload.new as { id: string }).id);
          applyTaskChange(queryClient, tenantId, {
            type: payload.eventType as RowChange['type'],
            new: payload.new,
          });
        },
      );
    await new Promise<void>((resolve) =>
      channel.subscribe((state) => state === 'SUBSCRIBED' && resolve()),
    );
    let unsubscribe = () => {};
    try {
      const { tasks } = await createTaskChain(operator, tenantId, STEPS);
      const [discover, enrich, score] = tasks;
      await expect
        .poll(() => tasks.every((task) => inserted.has(task.id)), { timeout: 10_000 })
        .toBe(true);

      const chainKey = taskKeys.chain(tenantId, score!.id);
      // An observer keeps the query active, so an invalidation refetches it as the screen would.
      const observer = new QueryObserver(queryClient, {
        queryKey: chainKey,
        queryFn: () => fetchTaskChain(viewer, tenantId, score!.id),
      });
      unsubscribe = observer.subscribe(() => {});
      await expect.poll(() => queryClient.getQueryData<TaskChainRow[]>(chainKey)?.length).toBe(3);
      let fetches = 0;
      queryClient.getQueryCache().subscribe((event) => {
        if (
          event.query.queryHash === observer.getCurrentQuery().queryHash &&
          event.type === 'updated' &&
          event.action.type === 'fetch'
        )
          fetches += 1;
      });

      await cancelTask(operator, discover!.id, 'wrong goal');
      await expect
        .poll(() => shape(queryClient.getQueryData<TaskChainRow[]>(chainKey)!), {
          timeout: 10_000,
        })
        .toEqual([
          'upstream:discover_leads:canceled',
          'upstream:enrich_lead:canceled',
          'task:score_lead:canceled',
        ]);
      const chain = queryClient.getQueryData<TaskChainRow[]>(chainKey)!;
      expect(chain.map((row) => row.error)).toEqual([
        'canceled: wrong goal',
        'dependency_failed',
        'dependency_failed',
      ]);
      // Each status landed in the cached chain itself: no fetch happened.
      expect(fetches).toBe(0);

      // A task created later depending on the scoring task joins the chain.
      const follow = await createTask(operator, tenantId, {
        target: 'lead-gen',
        action: 'follow_up',
        payload: {},
        require_approval: false,
        priority: 5,
        run_at: null,
        max_attempts: 3,
        depends_on: [score!.id],
      });
      await expect
        .poll(() => queryClient.getQueryData<TaskChainRow[]>(chainKey)!.map((row) => row.id), {
          timeout: 10_000,
        })
        .toEqual([discover!.id, enrich!.id, score!.id, follow.task.id]);
      expect(enrich!.depends_on).toEqual([discover!.id]);
    } finally {
      unsubscribe();
      await viewer.removeChannel(channel);
    }
  });
});
