import type { IssuedKey } from '@omnihub/database/testing';
import type { SupabaseClient } from '@supabase/supabase-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, type TestStack } from '../src/testing.ts';

let t: TestStack;
let key: IssuedKey;
let admin: SupabaseClient;
let operator: SupabaseClient;
let viewer: SupabaseClient;
let outsider: SupabaseClient;

const clientFor = async (tenantId: string, role: 'viewer' | 'operator' | 'admin') =>
  t.supabaseAs(await t.accessToken(await t.createUser({ tenantId, role })));

beforeAll(async () => {
  t = await startTestStack();
  key = await t.issueKey({ tenant: 'runner', source: 'apex-sales' });
  const other = await t.issueKey({ tenant: 'elsewhere', source: 'apex-sales' });
  admin = await clientFor(key.tenantId, 'admin');
  operator = await clientFor(key.tenantId, 'operator');
  viewer = await clientFor(key.tenantId, 'viewer');
  outsider = await clientFor(other.tenantId, 'admin');
});
afterAll(() => t?.close());

type Task = { id: string; action: string };

async function port(path: string, body: unknown) {
  const response = await fetch(`${t.stack.portUrl}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key.apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const json = (await response.json()) as { task?: Task; tasks?: Task[] };
  expect(response.status, JSON.stringify(json)).toBeLessThan(300);
  return json;
}

const create = async (action: string, count: number) => {
  const ids: string[] = [];
  for (let i = 0; i < count; i++)
    ids.push((await port('/tasks', { target: 'apex-sales', action })).task!.id);
  return ids;
};

/** `n` workers claim at the same moment; every task any of them got. */
async function claimAtOnce(n: number, body: Record<string, unknown> = {}): Promise<Task[]> {
  const answers = await Promise.all(
    Array.from({ length: n }, (_, i) =>
      port('/tasks/claim', { worker_id: `w${i}`, max_tasks: 5, ...body }),
    ),
  );
  return answers.flatMap((answer) => answer.tasks!);
}

const running = async (action: string) => {
  const [row] = await t.db.sql<{ n: number }[]>`
    select count(*)::int as n from public.tasks
    where tenant_id = ${key.tenantId} and action = ${action} and status = 'running'`;
  return row!.n;
};

const rpcError = async (
  promise: PromiseLike<{ error: { code?: string; message: string } | null }>,
) => (await promise).error;

describe('concurrency limits per target and action', () => {
  it('never lets 20 workers claiming at once run more than the limit', async () => {
    const { error } = await admin.rpc('set_action_limit', {
      p_tenant_id: key.tenantId,
      p_target: 'apex-sales',
      p_action: 'limited',
      p_max_running: 2,
    });
    expect(error).toBeNull();
    await create('limited', 30);
    const free = await create('unlimited', 5);

    const first = await claimAtOnce(20);
    expect(first.filter((task) => task.action === 'limited')).toHaveLength(2);
    // Other actions of the target are not held back by the limited one.
    expect(
      first
        .filter((task) => task.action === 'unlimited')
        .map((task) => task.id)
        .sort(),
    ).toEqual([...free].sort());
    expect(await running('limited')).toBe(2);

    // One finishes: exactly one slot opens, however many ask for it.
    const done = first.find((task) => task.action === 'limited')!;
    const [owner] = await t.db.sql<{ claimed_by: string }[]>`
      select claimed_by from public.tasks where id = ${done.id}`;
    await port(`/tasks/${done.id}/complete`, { worker_id: owner!.claimed_by, status: 'succeeded' });
    const second = await claimAtOnce(20);
    expect(second.filter((task) => task.action === 'limited')).toHaveLength(1);
    expect(await running('limited')).toBe(2);
  });

  it('lets everything be claimed again once the limit is lifted', async () => {
    const { error } = await admin.rpc('set_action_limit', {
      p_tenant_id: key.tenantId,
      p_target: 'apex-sales',
      p_action: 'limited',
      p_max_running: null,
    });
    expect(error).toBeNull();
    const claimed = await claimAtOnce(10, { max_tasks: 10, actions: ['limited'] });
    expect(claimed.length).toBe(27);
    expect(await running('limited')).toBe(29);
  });

  it('is set by admins only, with clear refusals, and changes nothing when refused', async () => {
    const args = {
      p_tenant_id: key.tenantId,
      p_target: 'apex-sales',
      p_action: 'x',
      p_max_running: 1,
    };
    expect(await rpcError(operator.rpc('set_action_limit', args))).toMatchObject({
      code: '42501',
      message: 'This action needs the admin role in this tenant; you are operator.',
    });
    expect(await rpcError(outsider.rpc('set_action_limit', args))).toMatchObject({
      code: 'PT404',
      message: 'Not found.',
    });
    expect(
      await rpcError(admin.rpc('set_action_limit', { ...args, p_max_running: 0 })),
    ).toMatchObject({
      code: '22023',
      message: 'max_running must be from 1 to 1000, or null for no limit.',
    });
    expect(
      await rpcError(admin.rpc('set_action_limit', { ...args, p_action: 'Not An Action' })),
    ).toMatchObject({ code: '22023' });
    expect(await t.db.sql`select * from public.task_action_limits where action = 'x'`).toEqual([]);
  });
});

describe('pausing a target', () => {
  it('holds its tasks back until it is resumed, and resuming wakes a waiting claim', async () => {
    const [task] = await create('paused-work', 1);
    const paused = await operator.rpc('set_target_paused', {
      p_tenant_id: key.tenantId,
      p_target: 'apex-sales',
      p_paused: true,
    });
    expect(paused.error).toBeNull();
    expect(paused.data).toMatchObject({ target: 'apex-sales', paused: true });
    expect(await claimAtOnce(3, { actions: ['paused-work'] })).toEqual([]);

    // A long poll waits through the pause and gets the task once resumed.
    const waiting = port('/tasks/claim', {
      worker_id: 'patient',
      actions: ['paused-work'],
      wait_ms: 20_000,
    });
    const resumed = await operator.rpc('set_target_paused', {
      p_tenant_id: key.tenantId,
      p_target: 'apex-sales',
      p_paused: false,
    });
    expect(resumed.error).toBeNull();
    expect((await waiting).tasks!.map((claimed) => claimed.id)).toEqual([task]);
  });

  it('is refused to viewers and to other tenants, and the refusal changes nothing', async () => {
    const args = { p_tenant_id: key.tenantId, p_target: 'apex-sales', p_paused: true };
    expect(await rpcError(viewer.rpc('set_target_paused', args))).toMatchObject({ code: '42501' });
    expect(await rpcError(outsider.rpc('set_target_paused', args))).toMatchObject({
      code: 'PT404',
    });
    const [row] = await t.db.sql`
      select paused from public.task_targets where tenant_id = ${key.tenantId} and target = 'apex-sales'`;
    expect(row).toEqual({ paused: false });
    // Members see the switch; other tenants do not.
    expect((await viewer.from('task_targets').select('target, paused')).data).toEqual([
      { target: 'apex-sales', paused: false },
    ]);
    expect((await outsider.from('task_targets').select('target')).data).toEqual([]);
  });
});
