import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Sql } from '@omnihub/database';
import { MIGRATIONS_DIR } from '@omnihub/database/paths';
import { createTestDatabase, type TestDatabase } from '@omnihub/database/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAs, signedIn, type Tx } from './as-role.ts';
import { arrangeTenant, type TenantFixture } from './fixtures.ts';

/**
 * 20261121001800_dashboard_query_speed.sql changes how the runner's numbers
 * are read, never what they are: runner_stats, port_stats and port_metrics
 * must answer exactly what their definitions before it answered. Those
 * definitions are loaded from the earlier migrations into a schema of their
 * own, `reference` (with the helpers they call renamed into it), and both
 * are asked in one transaction, so now() is the same for both.
 */

let db: TestDatabase;
let sql: Sql;
let a: TenantFixture;
let b: TenantFixture;

/** `create [or replace] function <name>(…) … $$;` as written in a migration. */
function definition(migration: string, name: string): string {
  const text = readFileSync(join(MIGRATIONS_DIR, migration), 'utf8');
  const start = text.search(
    new RegExp(`create (or replace )?function ${name.replace('.', '\\.')}\\(`),
  );
  if (start === -1) throw new Error(`${name} is not defined in ${migration}`);
  const end = text.indexOf('\n$$;', start);
  return text.slice(start, end + '\n$$;'.length);
}

/** The earlier definitions, calling each other (not the new ones) inside `reference`. */
async function loadReference(): Promise<void> {
  const renamed = [
    'omnilink.worker_online_after',
    'omnilink.task_is_ready',
    'omnilink.target_stats',
    'omnilink.port_stats',
    'omnilink.port_metrics',
    'public.runner_stats',
  ];
  const sources = [
    definition('20261121001200_runner_stats_and_dead_letters.sql', 'omnilink.worker_online_after'),
    definition('20261121001200_runner_stats_and_dead_letters.sql', 'omnilink.task_is_ready'),
    definition('20261121001200_runner_stats_and_dead_letters.sql', 'omnilink.target_stats'),
    definition('20261121001200_runner_stats_and_dead_letters.sql', 'omnilink.port_stats'),
    definition('20261121001200_runner_stats_and_dead_letters.sql', 'public.runner_stats'),
    definition('20261121001300_metrics.sql', 'omnilink.port_metrics'),
  ];
  await sql`create schema reference`;
  await sql`grant usage on schema reference to authenticated`;
  for (const source of sources) {
    let text = source.replace(/create (or replace )?function/, 'create function');
    for (const name of renamed)
      text = text.replaceAll(name, `reference.${name.slice(name.indexOf('.') + 1)}`);
    await sql.unsafe(text);
  }
}

/**
 * Tasks in every status over three targets (names that sort apart), with
 * finishes inside and outside the last 5 minutes (one even on a task still
 * running), ready ones of several priorities, scheduled ones due
 * and not due; a paused target without tasks, a limit on a target without
 * tasks, an integration whose only worker went quiet.
 */
async function arrangeRunner(tenant: TenantFixture, seed: number): Promise<void> {
  const id = tenant.tenantId;
  await sql`
    insert into public.tasks
      (tenant_id, target, action, status, priority, run_at, attempts, finished_at, lease_expires_at, created_at)
    select ${id}::uuid,
      (array['lead-gen', 'apex-sales', 'b.zeta'])[1 + (n + ${seed}::int) % 3],
      (array['call', 'echo', 'limited'])[1 + n % 3],
      s.status,
      1 + (n * 7 + ${seed}::int) % 10,
      case n % 5
        when 0 then now() - make_interval(secs => n * 13)
        when 1 then now() + make_interval(secs => n * 11)
      end,
      case when s.status in ('running', 'succeeded', 'failed') then 1 else 0 end,
      case
        when s.status in ('succeeded', 'failed', 'canceled') then now() - make_interval(secs => n * 17)
        when n = 3 then now() - interval '1 minute'
      end,
      case when s.status = 'running' then now() + interval '5 minutes' end,
      now() - make_interval(secs => n * 29)
    from generate_series(1, 140) n
    cross join lateral (
      select (array['queued', 'waiting_approval', 'approved', 'running', 'succeeded', 'failed', 'canceled'])[1 + (n + ${seed}::int) % 7] as status
    ) s`;
  // The oldest ready task of each target, each found a different way: the
  // highest priority, the lowest, and a due run_at older than any creation
  // (past a task created earlier still that is not due yet).
  await sql`
    insert into public.tasks (tenant_id, target, action, status, priority, run_at, created_at)
    values (${id}, 'lead-gen', 'echo', 'queued', 10, null, now() - interval '30 days'),
           (${id}, 'lead-gen', 'echo', 'queued', 10, now() + interval '1 day', now() - interval '50 days'),
           (${id}, 'apex-sales', 'echo', 'approved', 1, null, now() - interval '20 days'),
           (${id}, 'b.zeta', 'echo', 'queued', 5, now() - interval '40 days', now() - interval '1 day')`;
  await sql`insert into public.task_targets (tenant_id, target, paused) values (${id}, 'a-paused', true)`;
  await sql`
    insert into public.task_action_limits (tenant_id, target, action, max_running)
    values (${id}, 'apex-sales', 'call', 3), (${id}, 'zz-limited-only', 'call', 1)`;
  const [integration] =
    await sql`select omnilink.ensure_integration(${id}::uuid, 'quiet-source') as id`;
  await sql`
    insert into public.workers (tenant_id, integration_id, source, worker_id, last_seen_at, last_claim_at)
    values (${id}, ${integration!.id}, 'quiet-source', 'gone', now() - interval '61 seconds', null),
           (${id}, ${tenant.integrationId}, 'lead-gen', 'here', now() - interval '5 seconds', now())`;
}

beforeAll(async () => {
  db = await createTestDatabase();
  sql = db.sql;
  a = await arrangeTenant(sql, 'speed-a');
  b = await arrangeTenant(sql, 'speed-b');
  await arrangeRunner(a, 0);
  await arrangeRunner(b, 3);
  await loadReference();
});
afterAll(() => db?.drop());

/** Runs `fn` in a transaction that is always rolled back; returns what it returned. */
async function rolledBack<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
  let value: T | undefined;
  await sql
    .begin(async (tx) => {
      value = await fn(tx);
      throw new RollBack();
    })
    .catch((error: unknown) => {
      if (!(error instanceof RollBack)) throw error;
    });
  return value as T;
}
class RollBack extends Error {}

/** runner_stats now and before, in one transaction as A's viewer. */
async function bothRunnerStats() {
  const outcome = await runAs(sql, signedIn(a.users.viewer), async (tx) => {
    const [row] = await tx`
      select public.runner_stats(${a.tenantId}::uuid) as now,
             reference.runner_stats(${a.tenantId}::uuid) as before`;
    return {
      now: row!.now as { targets: { target: string; oldest_ready_age_seconds: number | null }[] },
      before: row!.before as unknown,
    };
  });
  if (!outcome.ok) throw new Error(`${outcome.code}: ${outcome.message}`);
  return outcome.value;
}

/** As the port calls them (service role, no RLS). */
async function bothPortAnswers(fn: 'port_stats' | 'port_metrics', tenant: TenantFixture) {
  const [row] = await sql`
    select omnilink.${sql(fn)}(${tenant.key.keyId}, ${tenant.keyHash}) as now,
           reference.${sql(fn)}(${tenant.key.keyId}, ${tenant.keyHash}) as before`;
  return { now: row!.now as unknown, before: row!.before as unknown };
}

/** Moves some of A's tasks on: claims, completions, a retry, new ready tasks. */
async function moveOn(): Promise<void> {
  await sql`
    update public.tasks set status = 'running', attempts = attempts + 1,
      lease_expires_at = now() + interval '1 minute'
    where id in (
      select id from public.tasks where tenant_id = ${a.tenantId} and status = 'queued'
      order by created_at limit 5)`;
  await sql`
    update public.tasks set status = 'succeeded', finished_at = now(), lease_expires_at = null
    where id in (
      select id from public.tasks where tenant_id = ${a.tenantId} and status = 'running'
      order by created_at limit 4)`;
  await sql`
    update public.tasks set status = 'queued', finished_at = null, run_at = null
    where id in (
      select id from public.tasks where tenant_id = ${a.tenantId} and status = 'failed'
      order by created_at limit 2)`;
  await sql`
    insert into public.tasks (tenant_id, target, action, priority, created_at)
    values (${a.tenantId}, 'new-target', 'echo', 10, now() - interval '3 hours'),
           (${a.tenantId}, 'lead-gen', 'echo', 1, now() - interval '2 days')`;
}

describe('the runner numbers after 20261121001800 are the numbers before it', () => {
  it('runner_stats: every target, every field', async () => {
    const { now, before } = await bothRunnerStats();
    expect(now.targets.map((target) => target.target)).toEqual([
      'a-paused',
      'apex-sales',
      'b.zeta',
      'lead-gen',
      'paused-target',
      'quiet-source',
      'zz-limited-only',
    ]);
    // The arranged oldest ready tasks: 30 days (priority 10), 20 days (priority 1), due for 40 days.
    const days = (target: string) =>
      Math.floor(
        now.targets.find((stats) => stats.target === target)!.oldest_ready_age_seconds! / 86_400,
      );
    expect([days('lead-gen'), days('apex-sales'), days('b.zeta')]).toEqual([30, 20, 40]);
    expect(now).toEqual(before);
  });

  it('port_stats and port_metrics, for both tenants', async () => {
    for (const tenant of [a, b]) {
      const stats = await bothPortAnswers('port_stats', tenant);
      expect(stats.now).toMatchObject({ target: 'lead-gen' });
      expect(stats.now).toEqual(stats.before);
      const metrics = await bothPortAnswers('port_metrics', tenant);
      expect((metrics.now as { tasks: unknown[] }).tasks.length).toBeGreaterThan(0);
      expect(metrics.now).toEqual(metrics.before);
    }
  });

  it('still, after tasks are claimed, finished, retried and added', async () => {
    await moveOn();
    const { now, before } = await bothRunnerStats();
    expect(now.targets.map((target) => target.target)).toContain('new-target');
    expect(now).toEqual(before);
    const stats = await bothPortAnswers('port_stats', a);
    expect(stats.now).toEqual(stats.before);
    const metrics = await bothPortAnswers('port_metrics', a);
    expect(metrics.now).toEqual(metrics.before);
  });
});

describe('the rules stay inlinable', () => {
  it('task_is_ready and worker_online_after have no SET clause, so Postgres inlines them', async () => {
    const rows = await sql`
      select p.proname, p.proconfig, p.prosecdef, p.provolatile from pg_proc p
      join pg_namespace n on n.oid = p.pronamespace
      where n.nspname = 'omnilink' and p.proname in ('task_is_ready', 'worker_online_after')
      order by 1`;
    expect(rows.map((row) => ({ ...row }))).toEqual([
      { proname: 'task_is_ready', proconfig: null, prosecdef: false, provolatile: 's' },
      { proname: 'worker_online_after', proconfig: null, prosecdef: false, provolatile: 's' },
    ]);
    // Inlined, the plan shows the rule's own conditions, and the ready index serves them.
    await sql.begin(async (tx) => {
      await tx`set local enable_seqscan = off`;
      await tx`set local enable_bitmapscan = off`;
      const plan = (
        await tx`
          explain (verbose, costs off)
          select t.id from public.tasks t
          where t.tenant_id = ${a.tenantId} and t.target = 'lead-gen'
            and omnilink.task_is_ready(t.status, t.run_at)
          order by t.priority desc, t.created_at, t.id limit 1`
      )
        .map((row) => row['QUERY PLAN'] as string)
        .join('\n');
      expect(plan).not.toContain('task_is_ready');
      expect(plan).toContain('tasks_ready_idx');
    });
  });

  it('keep their meaning under a search_path that puts other functions and operators first', async () => {
    // Inlined, a body is read with the caller's search_path: every name in it is pg_catalog's.
    const outcome = await rolledBack(async (tx) => {
      await tx`create schema shadow`;
      await tx`create function shadow.now() returns timestamptz language sql as $$ select 'epoch'::timestamptz $$`;
      await tx`create function shadow.never(text, text) returns boolean language sql as $$ select false $$`;
      await tx`create operator shadow.= (leftarg = text, rightarg = text, function = shadow.never)`;
      await tx`create function shadow.never(timestamptz, timestamptz) returns boolean language sql as $$ select false $$`;
      await tx`create operator shadow.<= (leftarg = timestamptz, rightarg = timestamptz, function = shadow.never)`;
      await tx`set local search_path = shadow, pg_catalog, public`;
      const [row] = await tx`
        select omnilink.task_is_ready('queued', pg_catalog.now() - interval '1 second') as due,
               omnilink.task_is_ready('approved', null) as approved,
               omnilink.task_is_ready('queued', pg_catalog.now() + interval '1 hour') as later,
               omnilink.worker_online_after() > pg_catalog.now() - interval '2 minutes' as recent`;
      return row;
    });
    expect(outcome).toEqual({ due: true, approved: true, later: false, recent: true });
  });

  it('relies on priorities 1 to 10 for the oldest ready task (target_stats reads each)', async () => {
    const [row] = await sql`
      select pg_get_constraintdef(c.oid) as def from pg_constraint c
      where c.conname = 'tasks_priority_range'`;
    expect(row!.def).toBe('CHECK (((priority >= 1) AND (priority <= 10)))');
  });
});
