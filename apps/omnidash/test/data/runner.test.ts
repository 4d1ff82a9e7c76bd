import type { IssuedKey } from '@omnihub/database/testing';
import { startTestStack, type TestStack } from '@omnihub/local-stack/testing';
import type { SupabaseClient } from '@supabase/supabase-js';
import { QueryClient } from '@tanstack/react-query';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { fetchDeadLetters, failureReason } from '../../src/data/runner/dead-letters-query.ts';
import { runnerKeys } from '../../src/data/runner/keys.ts';
import { setActionLimit } from '../../src/data/runner/runner-limit-mutation.ts';
import { setTargetPaused } from '../../src/data/runner/runner-pause-mutation.ts';
import { applyRunnerSwitchChange } from '../../src/data/runner/runner-realtime.ts';
import { fetchRunnerStats, type TargetStats } from '../../src/data/runner/runner-stats-query.ts';
import { retryTasks } from '../../src/data/tasks/tasks-retry-many-mutation.ts';
import { member, refusal } from './support.ts';

let t: TestStack;
let apex: IssuedKey;
let tenantId: string;
let admin: SupabaseClient;
let operator: SupabaseClient;
let viewer: SupabaseClient;
let stranger: SupabaseClient;
let strangerTaskId: string;

/** One call to the OmniLink Port as the agent holding `key`. */
async function port(key: IssuedKey, path: string, body?: unknown) {
  const response = await fetch(`${t.stack.portUrl}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { authorization: `Bearer ${key.apiKey}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as any };
}

async function createTasks(key: IssuedKey, n: number, spec: Record<string, unknown> = {}) {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const created = await port(key, '/tasks', { target: key.source, action: 'echo', ...spec });
    expect(created.status).toBe(201);
    ids.push(created.body.task.id as string);
  }
  return ids;
}

/** A worker claims what is ready and fails each of `ids` (the attempts of max_attempts 1 are used up). */
async function failThroughPort(key: IssuedKey, ids: string[], error: string, retryable = true) {
  const claim = await port(key, '/tasks/claim', { worker_id: 'w-fail', max_tasks: 100 });
  const claimed = claim.body.tasks.map((task: { id: string }) => task.id);
  expect(claimed).toEqual(expect.arrayContaining(ids));
  for (const id of ids) {
    const done = await port(key, `/tasks/${id}/complete`, {
      worker_id: 'w-fail',
      status: 'failed',
      error,
      retryable,
    });
    expect(done.body.task.status).toBe('failed');
  }
}

const statsOf = async (client: SupabaseClient, target: string): Promise<TargetStats> => {
  const stats = await fetchRunnerStats(client, tenantId);
  const found = stats.targets.find((row) => row.target === target);
  if (!found) throw new Error(`no stats for ${target}: ${JSON.stringify(stats)}`);
  return found;
};

beforeAll(async () => {
  t = await startTestStack();
  apex = await t.issueKey({ tenant: 'acme', source: 'apex-sales' });
  await t.issueKey({ tenant: 'acme', source: 'lead-gen' });
  const other = await t.issueKey({ tenant: 'globex', source: 'apex-sales' });
  tenantId = apex.tenantId;
  admin = (await member(t, tenantId, 'admin')).client;
  operator = (await member(t, tenantId, 'operator')).client;
  viewer = (await member(t, tenantId, 'viewer')).client;
  stranger = (await member(t, other.tenantId, 'admin')).client;
  strangerTaskId = (await createTasks(other, 1))[0]!;
});
afterAll(() => t?.close());

describe('runner stats', () => {
  it('are the numbers arranged through the port, for every target, and the same as GET /stats', async () => {
    await t.db.sql`delete from public.tasks where tenant_id = ${tenantId}`;
    const [running, succeeded, failed, queued] = await createTasks(apex, 4, { max_attempts: 1 });
    await createTasks(apex, 1, { require_approval: true });
    // One claim takes the three oldest: one stays running, one succeeds, one fails for good.
    const claim = await port(apex, '/tasks/claim', { worker_id: 'apex-w1', max_tasks: 3 });
    expect(claim.body.tasks.map((task: { id: string }) => task.id)).toEqual([
      running,
      succeeded,
      failed,
    ]);
    await port(apex, `/tasks/${succeeded}/complete`, { worker_id: 'apex-w1', status: 'succeeded' });
    await port(apex, `/tasks/${failed}/complete`, {
      worker_id: 'apex-w1',
      status: 'failed',
      error: 'boom',
    });
    await t.db
      .sql`update public.tasks set created_at = now() - interval '75 seconds' where id = ${queued!}`;
    await setActionLimit(admin, tenantId, { target: 'apex-sales', action: 'echo', maxRunning: 2 });

    const apexStats = await statsOf(viewer, 'apex-sales');
    expect(apexStats).toMatchObject({
      paused: false,
      tasks: {
        queued: 1,
        waiting_approval: 1,
        approved: 0,
        running: 1,
        succeeded: 1,
        failed: 1,
        canceled: 0,
      },
      finished_last_5m: 2,
      limits: [{ action: 'echo', max_running: 2, running: 1 }],
    });
    expect(apexStats.workers.map((worker) => worker.worker_id)).toEqual(['apex-w1']);
    expect(apexStats.oldest_ready_age_seconds).toBeGreaterThanOrEqual(75);

    // The port tells the agent the same (one rule in omnilink.target_stats).
    const { generated_at: _at, ...fromPort } = (await port(apex, '/stats')).body;
    expect(fromPort).toEqual({
      ...apexStats,
      oldest_ready_age_seconds: expect.any(Number),
      workers: [expect.objectContaining({ worker_id: 'apex-w1' })],
    });

    // lead-gen has an integration and nothing else: it is listed, all zeros.
    expect(await statsOf(viewer, 'lead-gen')).toMatchObject({
      paused: false,
      finished_last_5m: 0,
      oldest_ready_age_seconds: null,
      workers: [],
      limits: [],
    });
  });

  it('list a target that only has tasks (no integration, no switch)', async () => {
    const { data, error } = await operator.rpc('create_task', {
      p_tenant_id: tenantId,
      p_target: 'crm-sync',
      p_action: 'push',
    });
    expect(error).toBeNull();
    expect(data).toMatchObject({ status: 'created' });
    const stats = await fetchRunnerStats(viewer, tenantId);
    expect(stats.targets.map((row) => row.target)).toEqual(['apex-sales', 'crm-sync', 'lead-gen']);
    expect((await statsOf(viewer, 'crm-sync')).tasks.queued).toBe(1);
  });

  it('are refused to a member of another tenant with the same Not found as for no tenant', async () => {
    const error = await refusal(fetchRunnerStats(stranger, tenantId));
    expect(error).toMatchObject({ code: 'PT404', status: 404, message: 'Not found.' });
  });
});

describe('pause and limits', () => {
  it('an operator pauses a target and the stats say so; the viewer cannot', async () => {
    const error = await refusal(
      setTargetPaused(viewer, tenantId, { target: 'apex-sales', paused: true }),
    );
    expect(error).toMatchObject({
      code: '42501',
      message: 'This action needs the operator role in this tenant; you are viewer.',
    });
    expect((await statsOf(viewer, 'apex-sales')).paused).toBe(false);

    await setTargetPaused(operator, tenantId, { target: 'apex-sales', paused: true });
    expect((await statsOf(viewer, 'apex-sales')).paused).toBe(true);
    await setTargetPaused(operator, tenantId, { target: 'apex-sales', paused: false });
    expect((await statsOf(viewer, 'apex-sales')).paused).toBe(false);
  });

  it('an admin sets, changes and lifts a limit; an operator is refused', async () => {
    const error = await refusal(
      setActionLimit(operator, tenantId, { target: 'lead-gen', action: 'score', maxRunning: 3 }),
    );
    expect(error).toMatchObject({
      code: '42501',
      message: 'This action needs the admin role in this tenant; you are operator.',
    });
    await setActionLimit(admin, tenantId, { target: 'lead-gen', action: 'score', maxRunning: 3 });
    expect((await statsOf(viewer, 'lead-gen')).limits).toEqual([
      { action: 'score', max_running: 3, running: 0 },
    ]);
    await setActionLimit(admin, tenantId, { target: 'lead-gen', action: 'score', maxRunning: 5 });
    expect((await statsOf(viewer, 'lead-gen')).limits).toEqual([
      { action: 'score', max_running: 5, running: 0 },
    ]);
    const tooMany = await refusal(
      setActionLimit(admin, tenantId, { target: 'lead-gen', action: 'score', maxRunning: 1001 }),
    );
    expect(tooMany).toMatchObject({
      code: '22023',
      message: 'max_running must be from 1 to 1000, or null for no limit.',
    });
    await setActionLimit(admin, tenantId, {
      target: 'lead-gen',
      action: 'score',
      maxRunning: null,
    });
    expect((await statsOf(viewer, 'lead-gen')).limits).toEqual([]);
  });

  it('a pause made elsewhere reaches the tenant channel and refetches the cached stats', async () => {
    const queryClient = new QueryClient();
    queryClient.setQueryData(runnerKeys.stats(tenantId), await fetchRunnerStats(viewer, tenantId));
    const channel = viewer.channel(`runner-${crypto.randomUUID()}`).on(
      'postgres_changes',
      {
        event: 'UPDATE',
        schema: 'public',
        table: 'task_targets',
        filter: `tenant_id=eq.${tenantId}`,
      },
      (payload) =>
        applyRunnerSwitchChange(queryClient, tenantId, { type: 'UPDATE', new: payload.new }),
    );
    await new Promise<void>((resolve) =>
      channel.subscribe((state) => state === 'SUBSCRIBED' && resolve()),
    );
    try {
      await setTargetPaused(operator, tenantId, { target: 'apex-sales', paused: true });
      await expect
        .poll(() => queryClient.getQueryState(runnerKeys.stats(tenantId))?.isInvalidated)
        .toBe(true);
    } finally {
      await viewer.removeChannel(channel);
      await setTargetPaused(operator, tenantId, { target: 'apex-sales', paused: false });
    }
  });
});

describe('dead letters', () => {
  it('lists only failed tasks, the latest failure first, with why, filtered and paged', async () => {
    await t.db.sql`delete from public.tasks where tenant_id = ${tenantId}`;
    const exhausted = await createTasks(apex, 2, { max_attempts: 1 });
    await failThroughPort(apex, exhausted, 'smtp down');
    const [fatal] = await createTasks(apex, 1, { max_attempts: 3 });
    await failThroughPort(apex, [fatal!], 'bad payload', false);
    await createTasks(apex, 1);
    const leadGen = await t.issueKey({ tenant: 'acme', source: 'lead-gen' });
    const [otherTarget] = await createTasks(leadGen, 1, { max_attempts: 1 });
    await failThroughPort(leadGen, [otherTarget!], 'no leads');

    const page = await fetchDeadLetters(viewer, tenantId, { target: null, page: 0 });
    expect(page.count).toBe(4);
    expect(page.rows.map((row) => row.id)).toEqual([otherTarget, fatal, ...exhausted.reverse()]);
    expect(page.rows.map((row) => failureReason(row))).toEqual([
      'All 1 attempt used.',
      'Not retryable: failed on attempt 1 of 3.',
      'All 1 attempt used.',
      'All 1 attempt used.',
    ]);
    expect(page.rows[1]).toMatchObject({ error: 'bad payload', attempts: 1, max_attempts: 3 });

    const apexOnly = await fetchDeadLetters(viewer, tenantId, { target: 'apex-sales', page: 0 });
    expect(apexOnly.count).toBe(3);
    expect(new Set(apexOnly.rows.map((row) => row.target))).toEqual(new Set(['apex-sales']));
    expect(await fetchDeadLetters(viewer, tenantId, { target: null, page: 1 })).toEqual({
      rows: [],
      count: 4,
      exact: true,
      hasNext: false,
    });
    expect(await fetchDeadLetters(stranger, tenantId, { target: null, page: 0 })).toEqual({
      rows: [],
      count: 0,
      exact: true,
      hasNext: false,
    });
  });

  it('says when a lease expired on the last attempt', () => {
    expect(failureReason({ attempts: 3, max_attempts: 3, error: 'lease_expired' })).toBe(
      'The lease expired on the last attempt (3 of 3).',
    );
  });
});

describe('retrying dead letters', () => {
  // A clean queue with no limit, so the failing worker gets every task it asks for.
  beforeEach(async () => {
    await t.db.sql`delete from public.tasks where tenant_id = ${tenantId}`;
    await t.db.sql`delete from public.task_action_limits where tenant_id = ${tenantId}`;
  });

  it('retries the selection, skips what is no longer failed, and they leave the list', async () => {
    const ids = await createTasks(apex, 3, { max_attempts: 1 });
    await failThroughPort(apex, ids, 'flaky');
    const { error } = await operator.rpc('retry_task', { p_task_id: ids[2] });
    expect(error).toBeNull();

    const result = await retryTasks(operator, tenantId, ids);
    expect(result).toEqual({
      retried: [ids[0], ids[1]],
      skipped: [{ id: ids[2], status: 'queued' }],
    });
    const rows = await t.db.sql`
      select status, attempts from public.tasks where id in ${t.db.sql(ids)}`;
    expect(rows).toEqual(ids.map(() => ({ status: 'queued', attempts: 0 })));
    const page = await fetchDeadLetters(viewer, tenantId, { target: null, page: 0 });
    expect(page.rows.map((row) => row.id)).not.toEqual(expect.arrayContaining([ids[0]]));
  });

  it('refuses a viewer, and refuses a whole call that names another tenant’s task, changing nothing', async () => {
    const [failed] = await createTasks(apex, 1, { max_attempts: 1 });
    await failThroughPort(apex, [failed!], 'flaky');
    expect(await refusal(retryTasks(viewer, tenantId, [failed!]))).toMatchObject({
      code: '42501',
      message: 'This action needs the operator role in this tenant; you are viewer.',
    });
    expect(await refusal(retryTasks(operator, tenantId, [failed!, strangerTaskId]))).toMatchObject({
      code: '22023',
      status: 400,
      message: `task_ids lists 1 task(s) not in this tenant: ${strangerTaskId}.`,
    });
    const [row] = await t.db.sql`select status from public.tasks where id = ${failed!}`;
    expect(row!.status).toBe('failed');
    expect(await refusal(retryTasks(stranger, tenantId, [failed!]))).toMatchObject({
      code: 'PT404',
      message: 'Not found.',
    });
  });
});
