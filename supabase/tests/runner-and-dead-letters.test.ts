import { randomUUID } from 'node:crypto';
import type { Sql } from '@omnihub/database';
import { createTestDatabase, type TestDatabase } from '@omnihub/database/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { anon, runAs, signedIn, type Actor, type Tx } from './as-role.ts';
import {
  addMember,
  arrangeWorld,
  createUser,
  failTask,
  insertTask,
  type World,
} from './fixtures.ts';
import { dumpTables, listTables, type TableRef } from './tables.ts';

let db: TestDatabase;
let sql: Sql;
let world: World;
let tables: TableRef[];

beforeAll(async () => {
  db = await createTestDatabase();
  sql = db.sql;
  world = await arrangeWorld(sql);
  tables = await listTables(sql, ['public', 'omnilink']);
});
afterAll(() => db.drop());

interface TargetStats {
  target: string;
  paused: boolean;
  tasks: Record<string, number>;
  finished_last_5m: number;
  oldest_ready_age_seconds: number | null;
  workers: { worker_id: string }[];
  limits: { action: string; max_running: number; running: number }[];
}

async function runnerStatsAs(actor: Actor, tenantId: string) {
  return runAs(sql, actor, async (tx) => {
    const [row] = await tx`select public.runner_stats(${tenantId}::uuid) as r`;
    return row!.r as { targets: TargetStats[]; generated_at: string };
  });
}

async function retryTasksAs(actor: Actor, tenantId: string, ids: readonly (string | null)[]) {
  return runAs(sql, actor, (tx) => callRetryTasks(tx, tenantId, ids));
}

async function callRetryTasks(tx: Tx, tenantId: string, ids: readonly (string | null)[]) {
  const [row] = await tx`
    select public.retry_tasks(${tenantId}::uuid, ${ids as string[]}::uuid[]) as r`;
  return row!.r as { retried: string[]; skipped: { id: string; status: string }[] };
}

/** A tenant of its own, so the numbers below are exactly what each test arranged. */
let tenantCount = 0;
async function freshTenant(): Promise<{ tenantId: string; operator: string; viewer: string }> {
  const slug = `runner-${++tenantCount}`;
  const [row] = await sql`select omnilink.ensure_tenant(${slug}) as id`;
  const tenantId = row!.id as string;
  const operator = await createUser(sql, `operator@${slug}.test`);
  const viewer = await createUser(sql, `viewer@${slug}.test`);
  await addMember(sql, tenantId, operator, 'operator');
  await addMember(sql, tenantId, viewer, 'viewer');
  return { tenantId, operator, viewer };
}

async function failedTasks(tenantId: string, n: number, spec = {}): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const id = await insertTask(sql, tenantId, { target: 'apex-sales', ...spec });
    await sql`update public.tasks set attempts = 3 where id = ${id}`;
    await failTask(sql, id);
    ids.push(id);
  }
  return ids;
}

describe('runner_stats', () => {
  it('gives every target of the tenant its counts, finishes, oldest ready age, workers, pause and limits', async () => {
    const { tenantId, viewer } = await freshTenant();
    // apex-sales: only tasks (no task_targets row), one of them running under a limit.
    const queued = await insertTask(sql, tenantId, { target: 'apex-sales', action: 'call_lead' });
    await sql`update public.tasks set created_at = now() - interval '120 seconds' where id = ${queued}`;
    await insertTask(sql, tenantId, {
      target: 'apex-sales',
      action: 'echo',
      run_at: new Date(Date.now() + 3_600_000).toISOString(),
    });
    const running = await insertTask(sql, tenantId, { target: 'apex-sales', action: 'call_lead' });
    await sql`update public.tasks set status = 'running', attempts = 1, lease_expires_at = now() + interval '1 minute' where id = ${running}`;
    await failedTasks(tenantId, 1);
    const oldDone = await insertTask(sql, tenantId, { target: 'apex-sales' });
    await sql`update public.tasks set status = 'succeeded', finished_at = now() - interval '10 minutes' where id = ${oldDone}`;
    await sql`
      insert into public.task_action_limits (tenant_id, target, action, max_running)
      values (${tenantId}, 'apex-sales', 'call_lead', 2), (${tenantId}, 'apex-sales', 'zz-idle', 5)`;
    // lead-gen: paused, no tasks, one worker seen now and one long ago.
    await sql`insert into public.task_targets (tenant_id, target, paused) values (${tenantId}, 'lead-gen', true)`;
    const [integration] = await sql`
      select omnilink.ensure_integration(${tenantId}::uuid, 'lead-gen') as id`;
    await sql`
      insert into public.workers (tenant_id, integration_id, source, worker_id, last_seen_at)
      values (${tenantId}, ${integration!.id}, 'lead-gen', 'lg-now', now()),
             (${tenantId}, ${integration!.id}, 'lead-gen', 'lg-gone', now() - interval '2 minutes')`;

    const outcome = await runnerStatsAs(signedIn(viewer), tenantId);
    if (!outcome.ok) throw new Error(`refused: ${outcome.code} ${outcome.message}`);
    const { targets } = outcome.value;
    expect(targets.map((target) => target.target)).toEqual(['apex-sales', 'lead-gen']);
    const [apex, leadGen] = targets as [TargetStats, TargetStats];
    expect(apex).toMatchObject({
      paused: false,
      tasks: {
        queued: 2,
        waiting_approval: 0,
        approved: 0,
        running: 1,
        succeeded: 1,
        failed: 1,
        canceled: 0,
      },
      finished_last_5m: 1,
      workers: [],
      limits: [
        { action: 'call_lead', max_running: 2, running: 1 },
        { action: 'zz-idle', max_running: 5, running: 0 },
      ],
    });
    // The task due in an hour is not ready: the age is the 2-minute-old one's.
    expect(apex.oldest_ready_age_seconds).toBeGreaterThanOrEqual(120);
    expect(apex.oldest_ready_age_seconds).toBeLessThan(180);
    expect(leadGen).toMatchObject({
      paused: true,
      finished_last_5m: 0,
      oldest_ready_age_seconds: null,
      limits: [],
    });
    expect(Object.values(leadGen.tasks)).toEqual([0, 0, 0, 0, 0, 0, 0]);
    expect(leadGen.workers.map((w) => w.worker_id)).toEqual(['lg-now']);
  });

  it('shows the port the same numbers for its target, plus generated_at', async () => {
    const a = world.a;
    const [port] = await sql`select omnilink.port_stats(${a.key.keyId}, ${a.keyHash}) as r`;
    const dashboard = await runnerStatsAs(signedIn(a.users.viewer), a.tenantId);
    if (!dashboard.ok) throw new Error(dashboard.message);
    const { generated_at: generatedAt, ...portStats } = port!.r as TargetStats & {
      generated_at: string;
    };
    expect(generatedAt).toEqual(expect.any(String));
    const leadGen = dashboard.value.targets.find((target) => target.target === 'lead-gen');
    expect(leadGen).toEqual(portStats);
    // The fixture's limit on lead-gen's "limited" action reaches the port too.
    expect(portStats).toMatchObject({
      paused: false,
      limits: [{ action: 'limited', max_running: 2, running: 0 }],
    });
    expect(dashboard.value.targets.map((target) => target.target)).toEqual([
      'lead-gen',
      'paused-target',
    ]);
  });

  it('refuses a member of another tenant and an id that exists nowhere alike (PT404), and anon (42501)', async () => {
    for (const tenantId of [world.b.tenantId, randomUUID()]) {
      expect(await runnerStatsAs(signedIn(world.a.users.admin), tenantId)).toEqual({
        ok: false,
        code: 'PT404',
        message: 'Not found.',
      });
    }
    expect(await runnerStatsAs(signedIn(world.outsiderId), world.a.tenantId)).toMatchObject({
      ok: false,
      code: 'PT404',
    });
    expect(await runnerStatsAs(anon, world.a.tenantId)).toMatchObject({
      ok: false,
      code: '42501',
      message: 'permission denied for function runner_stats',
    });
  });
});

describe('retry_tasks', () => {
  it('retries the failed tasks and reports the others as skipped with their status, in the order given', async () => {
    const { tenantId, operator } = await freshTenant();
    const [first, second] = await failedTasks(tenantId, 2);
    const queued = await insertTask(sql, tenantId, { target: 'apex-sales' });
    const outcome = await retryTasksAs(signedIn(operator), tenantId, [
      second!,
      queued,
      first!,
      second!,
    ]);
    expect(outcome).toEqual({
      ok: true,
      value: { retried: [second, first], skipped: [{ id: queued, status: 'queued' }] },
    });
    const rows = await sql`
      select id, status, attempts, error, finished_at from public.tasks
      where id in ${sql([first!, second!])} order by id`;
    expect(rows.map(({ id: _id, ...rest }) => rest)).toEqual([
      { status: 'queued', attempts: 0, error: null, finished_at: null },
      { status: 'queued', attempts: 0, error: null, finished_at: null },
    ]);
  });

  it('refuses the whole call when one id is not of the tenant (another tenant’s or none), and changes nothing', async () => {
    const { tenantId, operator } = await freshTenant();
    const [mine] = await failedTasks(tenantId, 1);
    for (const stranger of [world.b.failedTaskId, randomUUID()]) {
      const before = await dumpTables(sql, tables);
      const outcome = await retryTasksAs(signedIn(operator), tenantId, [mine!, stranger]);
      expect(outcome).toEqual({
        ok: false,
        code: '22023',
        message: `task_ids lists 1 task(s) not in this tenant: ${stranger}.`,
      });
      expect(await dumpTables(sql, tables)).toEqual(before);
    }
  });

  it.each([
    ['no ids', [], 'task_ids must list at least one task.'],
    [
      '501 ids',
      Array.from({ length: 501 }, () => randomUUID()),
      'task_ids may list at most 500 tasks; it lists 501.',
    ],
    ['a null id', [null], 'task_ids must not contain null.'],
  ] as const)('refuses %s with 22023 and a readable message', async (_what, ids, message) => {
    const { tenantId, operator } = await freshTenant();
    const before = await dumpTables(sql, tables);
    expect(await retryTasksAs(signedIn(operator), tenantId, ids)).toEqual({
      ok: false,
      code: '22023',
      message,
    });
    expect(await dumpTables(sql, tables)).toEqual(before);
  });

  it('takes 500 ids in one call', async () => {
    const { tenantId, operator } = await freshTenant();
    const [row] = await sql`
      with made as (
        insert into public.tasks (tenant_id, target, action, status, error, finished_at)
        select ${tenantId}, 'apex-sales', 'echo', 'failed', 'boom', now() from generate_series(1, 500)
        returning id
      )
      select array_agg(id)::text[] as ids from made`;
    const ids = row!.ids as string[];
    const outcome = await retryTasksAs(signedIn(operator), tenantId, ids);
    expect(outcome).toMatchObject({ ok: true, value: { skipped: [] } });
    expect(outcome.ok && outcome.value.retried).toHaveLength(500);
  });

  it('is the same rule as retry_task: a viewer is refused, and retry_task still refuses a task that is not failed', async () => {
    const { tenantId, viewer, operator } = await freshTenant();
    const [failed] = await failedTasks(tenantId, 1);
    expect(await retryTasksAs(signedIn(viewer), tenantId, [failed!])).toMatchObject({
      ok: false,
      code: '42501',
    });
    const queued = await insertTask(sql, tenantId, { target: 'apex-sales' });
    expect(
      await runAs(sql, signedIn(operator), (tx) => tx`select public.retry_task(${queued}::uuid)`),
    ).toMatchObject({ ok: false, code: 'PT409' });
    const single = await runAs(sql, signedIn(operator), async (tx) => {
      const [row] = await tx`select * from public.retry_task(${failed!}::uuid)`;
      return row!;
    });
    expect(single).toMatchObject({
      ok: true,
      value: { id: failed, status: 'queued', attempts: 0 },
    });
  });
});

describe('two operators bulk-retrying the same tasks at once', () => {
  /**
   * A transaction as `userId` that calls retry_tasks, reports `called`, and
   * commits only once `release` resolves.
   */
  function heldRetry(
    userId: string,
    tenantId: string,
    ids: string[],
    release: Promise<void>,
    called: () => void = () => {},
  ) {
    return sql.begin(async (tx) => {
      const claims = JSON.stringify({ sub: userId, role: 'authenticated' });
      await tx`select set_config('request.jwt.claims', ${claims}, true)`;
      await tx.unsafe('set local role authenticated');
      const [xid] = await tx`select txid_current()::text as xid`;
      const result = await callRetryTasks(tx, tenantId, ids);
      called();
      await release;
      return { xid: xid!.xid as string, result };
    });
  }

  /** How many sessions wait for a row lock right now. */
  async function waitingForLocks(): Promise<number> {
    const [row] = await sql`
      select count(*)::int as n from pg_stat_activity
      where datname = current_database() and wait_event_type = 'Lock'`;
    return row!.n as number;
  }

  it('retries each task once: the second waits for the first, then skips them all as queued', async () => {
    const { tenantId, operator } = await freshTenant();
    const second = await createUser(sql, `operator-2@${tenantId}.test`);
    await addMember(sql, tenantId, second, 'operator');
    const ids = await failedTasks(tenantId, 3);

    let releaseFirst!: () => void;
    let firstCalled!: () => void;
    const calledFirst = new Promise<void>((resolve) => (firstCalled = resolve));
    const first = heldRetry(
      operator,
      tenantId,
      ids,
      new Promise((resolve) => (releaseFirst = resolve)),
      firstCalled,
    );
    // The first has locked and requeued all three (uncommitted) before the second starts.
    await calledFirst;
    // The other operator, ids in the reverse order: ordered locking, no deadlock.
    const other = heldRetry(second, tenantId, [...ids].reverse(), Promise.resolve());
    await expect.poll(waitingForLocks).toBe(1);
    releaseFirst();
    const [a, b] = await Promise.all([first, other]);

    expect(a.result).toEqual({ retried: ids, skipped: [] });
    expect(b.result).toEqual({
      retried: [],
      skipped: [...ids].reverse().map((id) => ({ id, status: 'queued' })),
    });
    // Each row was last written by the first transaction alone: one reset of its attempts.
    const rows = await sql`
      select status, attempts, xmin::text as xmin from public.tasks where id in ${sql(ids)}`;
    const firstXid = String(BigInt(a.xid) % 2n ** 32n);
    expect(rows).toEqual(ids.map(() => ({ status: 'queued', attempts: 0, xmin: firstXid })));
  });

  it('retries each task exactly once when both start together, whoever wins', async () => {
    const { tenantId, operator } = await freshTenant();
    const second = await createUser(sql, `operator-2@${tenantId}.test`);
    await addMember(sql, tenantId, second, 'operator');
    const ids = await failedTasks(tenantId, 20);
    const [a, b] = await Promise.all([
      retryTasksAs(signedIn(operator), tenantId, ids),
      retryTasksAs(signedIn(second), tenantId, [...ids].reverse()),
    ]);
    if (!a.ok || !b.ok) throw new Error(`refused: ${JSON.stringify([a, b])}`);
    const retried = [...a.value.retried, ...b.value.retried].sort();
    expect(retried).toEqual([...ids].sort());
    const skipped = [...a.value.skipped, ...b.value.skipped];
    expect(skipped.map((s) => s.id).sort()).toEqual([...ids].sort());
    expect(new Set(skipped.map((s) => s.status))).toEqual(new Set(['queued']));
  });
});

describe('dead letters', () => {
  it('a member lists the tenant’s failed tasks newest first with attempts and the last error, through the partial index', async () => {
    const { tenantId, viewer } = await freshTenant();
    const [older, newer] = await failedTasks(tenantId, 2);
    await sql`update public.tasks set finished_at = now() - interval '1 minute', error = 'lease_expired' where id = ${older!}`;
    const outcome = await runAs(
      sql,
      signedIn(viewer),
      (tx) => tx`
      select id, attempts, max_attempts, error from public.tasks
      where tenant_id = ${tenantId} and status = 'failed'
      order by finished_at desc, id desc`,
    );
    expect(outcome).toEqual({
      ok: true,
      value: [
        { id: newer, attempts: 3, max_attempts: 3, error: 'boom' },
        { id: older, attempts: 3, max_attempts: 3, error: 'lease_expired' },
      ],
    });
    const plan = await sql.begin(async (tx) => {
      // Tiny tables make any plan cheap: rule out the ones that do not use an index's order.
      await tx`set local enable_seqscan = off`;
      await tx`set local enable_sort = off`;
      return tx.unsafe(
        `explain select id from public.tasks where tenant_id = $1 and status = 'failed'
         order by finished_at desc, id desc limit 25`,
        [tenantId],
      );
    });
    expect(plan.map((row) => Object.values(row)[0]).join('\n')).toMatch(/tasks_failed_idx/);
  });
});
