import { randomUUID } from 'node:crypto';
import type { Sql } from '@omnihub/database';
import { createTestDatabase, type TestDatabase } from '@omnihub/database/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { anon, probeAs, runAs, signedIn, type Actor, type Tx } from './as-role.ts';
import {
  arrangeWorld,
  failTask,
  insertTask,
  taskStatus,
  type Json,
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

interface ChainRow {
  relation: 'upstream' | 'task' | 'downstream';
  id: string;
  action: string;
  status: string;
  depends_on: string[];
  error: string | null;
}

async function chainOf(actor: Actor, tenantId: string, taskId: string) {
  return probeAs(sql, actor, async (tx) => {
    const rows = await tx`
      select relation, id, action, status, depends_on::text[] as depends_on, error
      from public.task_chain(${tenantId}::uuid, ${taskId}::uuid)`;
    return rows as unknown as ChainRow[];
  });
}

/** The chain as relation:action pairs, in the function's order. */
async function chainShape(taskId: string, actor: Actor = signedIn(world.a.users.viewer)) {
  const outcome = await chainOf(actor, world.a.tenantId, taskId);
  if (!outcome.ok) throw new Error(`task_chain refused: ${outcome.code} ${outcome.message}`);
  return outcome.value.map((row) => `${row.relation}:${row.action}`);
}

/** A task of tenant A with `action`, depending on `dependsOn`. */
const task = (action: string, dependsOn: string[] = [], tenantId = world.a.tenantId) =>
  insertTask(sql, tenantId, { action, depends_on: dependsOn });

function createChain(tx: Tx, tenantId: string, steps: Json, key: string | null = null) {
  return tx`
    select public.create_task_chain(${tenantId}::uuid, ${tx.json(steps)}::jsonb, ${key}::text) as r`;
}

type ChainAnswer = {
  status: string;
  tasks: { id: string; action: string; depends_on: string[] }[];
};

async function createChainAs(actor: Actor, steps: Json, key: string | null = null) {
  return runAs(sql, actor, async (tx) => {
    const [row] = await createChain(tx, world.a.tenantId, steps, key);
    return row!.r as ChainAnswer;
  });
}

const PIPELINE: Json = [
  { target: 'lead-gen', action: 'discover_leads', payload: { run_id: 'r1' }, priority: 7 },
  { target: 'lead-gen', action: 'enrich_lead', payload: { run_id: 'r1' } },
  { target: 'lead-gen', action: 'score_lead', payload: { run_id: 'r1' }, max_attempts: 5 },
];

describe('task_chain', () => {
  it('returns the task, everything upstream and everything downstream, transitively, in order', async () => {
    // a ← b ← c ← d, and e ← c: c's chain is a, b upstream; d, e downstream.
    const a = await task('a');
    const b = await task('b', [a]);
    const c = await task('c', [b]);
    await task('d', [c]);
    const e = await task('e', [c]);
    await task('f', [e]);
    const unrelated = await task('unrelated');
    await task('unrelated-child', [unrelated]);
    expect(await chainShape(c)).toEqual([
      'upstream:a',
      'upstream:b',
      'task:c',
      'downstream:d',
      'downstream:e',
      'downstream:f',
    ]);
    expect(await chainShape(a)).toEqual([
      'task:a',
      'downstream:b',
      'downstream:c',
      'downstream:d',
      'downstream:e',
      'downstream:f',
    ]);
  });

  it('lists a task reached by two paths once, and a task in no chain alone', async () => {
    // A diamond: top ← left, top ← right, bottom ← [left, right].
    const top = await task('top');
    const left = await task('left', [top]);
    const right = await task('right', [top]);
    const bottom = await task('bottom', [left, right]);
    expect((await chainShape(bottom)).sort()).toEqual(
      ['task:bottom', 'upstream:left', 'upstream:right', 'upstream:top'].sort(),
    );
    expect((await chainShape(top)).filter((m) => m === 'downstream:bottom')).toHaveLength(1);
    expect(await chainShape(await task('alone'))).toEqual(['task:alone']);
  });

  it('gives each member’s status, dependencies and error, so dependency_failed shows', async () => {
    const first = await task('first');
    const second = await task('second', [first]);
    const third = await task('third', [second]);
    await failTask(sql, first);
    const outcome = await chainOf(signedIn(world.a.users.viewer), world.a.tenantId, third);
    expect(outcome).toEqual({
      ok: true,
      value: [
        {
          relation: 'upstream',
          id: first,
          action: 'first',
          status: 'failed',
          depends_on: [],
          error: 'boom',
        },
        {
          relation: 'upstream',
          id: second,
          action: 'second',
          status: 'canceled',
          depends_on: [first],
          error: 'dependency_failed',
        },
        {
          relation: 'task',
          id: third,
          action: 'third',
          status: 'canceled',
          depends_on: [second],
          error: 'dependency_failed',
        },
      ],
    });
  });

  it('returns at most 200 upstream and 200 downstream, the nearest first', async () => {
    // One straight chain of 451 tasks, built in one statement; the middle one has 225 each way.
    const [row] = await sql`
      with recursive chain (n, id) as (
        select 1, (omnilink.insert_task(${world.a.tenantId}::uuid, '{"target":"lead-gen","action":"long-1"}') -> 'task' ->> 'id')::uuid
        union all
        select n + 1, (omnilink.insert_task(${world.a.tenantId}::uuid, jsonb_build_object(
          'target', 'lead-gen', 'action', 'long-' || (n + 1), 'depends_on', jsonb_build_array(id)
        )) -> 'task' ->> 'id')::uuid
        from chain where n < 451
      )
      select id from chain where n = 226`;
    const shape = await chainShape(row!.id as string);
    expect(shape.filter((m) => m.startsWith('upstream:'))).toHaveLength(200);
    expect(shape.filter((m) => m.startsWith('downstream:'))).toHaveLength(200);
    // Nearest first: the 200 nearest upstream are long-26 to long-225.
    expect(shape).toContain('upstream:long-26');
    expect(shape).not.toContain('upstream:long-25');
    expect(shape).toContain('downstream:long-426');
    expect(shape).not.toContain('downstream:long-427');
  });

  it('gives nothing to a member of another tenant, to an outsider, or for another tenant’s id', async () => {
    const parent = await task('secret-parent');
    const child = await task('secret-child', [parent]);
    for (const actor of [signedIn(world.b.users.admin), signedIn(world.outsiderId)]) {
      expect(await chainOf(actor, world.a.tenantId, child)).toEqual({ ok: true, value: [] });
    }
    // Tenant B's admin naming its own tenant with A's task id.
    expect(await chainOf(signedIn(world.b.users.admin), world.b.tenantId, child)).toEqual({
      ok: true,
      value: [],
    });
    // A member of A naming tenant A with B's task.
    const theirs = await task('theirs', [], world.b.tenantId);
    expect(await chainOf(signedIn(world.a.users.admin), world.a.tenantId, theirs)).toEqual({
      ok: true,
      value: [],
    });
  });

  it('is stable and security definer (its own membership check), with a pinned search_path', async () => {
    // Definer, so the GIN index on depends_on serves the recursion (RLS would
    // keep the non-leakproof @> from using it); the tests above are its gate.
    const rows = await sql`
      select p.provolatile, p.prosecdef, p.proconfig from pg_proc p
      join pg_namespace n on n.oid = p.pronamespace
      where n.nspname = 'public' and p.proname = 'task_chain'`;
    expect(rows.map((row) => ({ ...row }))).toEqual([
      { provolatile: 's', prosecdef: true, proconfig: ['search_path=""'] },
    ]);
  });

  it('is not executable by anon', async () => {
    const outcome = await chainOf(anon, world.a.tenantId, world.a.queuedTaskId);
    expect(outcome).toMatchObject({
      ok: false,
      code: '42501',
      message: 'permission denied for function task_chain',
    });
  });
});

describe('create_task_chain', () => {
  it('creates the steps as tasks, each depending on the one before, as the operator', async () => {
    const outcome = await createChainAs(signedIn(world.a.users.operator), PIPELINE);
    if (!outcome.ok) throw new Error(outcome.message);
    const [discover, enrich, score] = outcome.value.tasks;
    expect(outcome.value.status).toBe('created');
    expect(outcome.value.tasks.map((t) => [t.action, t.depends_on])).toEqual([
      ['discover_leads', []],
      ['enrich_lead', [discover!.id]],
      ['score_lead', [enrich!.id]],
    ]);
    const rows = await sql`
      select action, status, priority, max_attempts, params, created_by, has_dependents
      from public.tasks where id in ${sql([discover!.id, enrich!.id, score!.id])} order by action`;
    expect(rows).toEqual([
      {
        action: 'discover_leads',
        status: 'queued',
        priority: 7,
        max_attempts: 3,
        params: { payload: { run_id: 'r1' } },
        created_by: world.a.users.operator,
        has_dependents: true,
      },
      {
        action: 'enrich_lead',
        status: 'queued',
        priority: 5,
        max_attempts: 3,
        params: { payload: { run_id: 'r1' } },
        created_by: world.a.users.operator,
        has_dependents: true,
      },
      {
        action: 'score_lead',
        status: 'queued',
        priority: 5,
        max_attempts: 5,
        params: { payload: { run_id: 'r1' } },
        created_by: world.a.users.operator,
        has_dependents: false,
      },
    ]);
    expect(await chainShape(enrich!.id)).toEqual([
      'upstream:discover_leads',
      'task:enrich_lead',
      'downstream:score_lead',
    ]);
  });

  it('cancels the rest of a created chain when its first step fails', async () => {
    const outcome = await createChainAs(signedIn(world.a.users.operator), PIPELINE);
    if (!outcome.ok) throw new Error(outcome.message);
    const [discover, enrich, score] = outcome.value.tasks;
    await failTask(sql, discover!.id);
    const [enrichRow, scoreRow] = await Promise.all(
      [enrich!.id, score!.id].map(
        async (id) => (await sql`select status, error from public.tasks where id = ${id}`)[0],
      ),
    );
    expect([enrichRow, scoreRow]).toEqual([
      { status: 'canceled', error: 'dependency_failed' },
      { status: 'canceled', error: 'dependency_failed' },
    ]);
  });

  it('returns the same chain as duplicate when its idempotency key is sent again', async () => {
    const key = `chain-${randomUUID()}`;
    const first = await createChainAs(signedIn(world.a.users.operator), PIPELINE, key);
    const again = await createChainAs(signedIn(world.a.users.operator), PIPELINE, key);
    if (!first.ok || !again.ok) throw new Error('refused');
    expect(again.value.status).toBe('duplicate');
    expect(again.value.tasks.map((t) => t.id)).toEqual(first.value.tasks.map((t) => t.id));
    const [count] = await sql`
      select count(*)::int as n from public.tasks where idempotency_key like ${`${key}:%`}`;
    expect(count!.n).toBe(3);
  });

  const badSteps: { problem: string; steps: Json; key?: string; message: string }[] = [
    {
      problem: 'steps that are not an array',
      steps: { a: 1 },
      message: 'steps must be a JSON array of 2 to 20 steps.',
    },
    {
      problem: 'one step',
      steps: [PIPELINE_STEP()],
      message: 'steps must list 2 to 20 steps; it lists 1.',
    },
    {
      problem: '21 steps',
      steps: Array.from({ length: 21 }, PIPELINE_STEP),
      message: 'steps must list 2 to 20 steps; it lists 21.',
    },
    {
      problem: 'a step that is not an object',
      steps: [PIPELINE_STEP(), 'score_lead'],
      message:
        'Step 2 of 2: must be a JSON object with target, action and optionally payload, priority and max_attempts.',
    },
    {
      problem: 'a step naming its own dependencies',
      steps: [PIPELINE_STEP(), { ...PIPELINE_STEP(), depends_on: [randomUUID()] }],
      message:
        'Step 2 of 2: depends_on is not a step field: each step depends on the step before it.',
    },
    {
      problem: 'an unknown step field',
      steps: [{ ...PIPELINE_STEP(), colour: 'red' }, PIPELINE_STEP()],
      message:
        'Step 1 of 2: colour is not a step field; a step has target, action, payload, priority and max_attempts.',
    },
    {
      problem: 'a target that is a number',
      steps: [PIPELINE_STEP(), { ...PIPELINE_STEP(), target: 5 }],
      message: 'Step 2 of 2: target must be a string.',
    },
    {
      problem: 'a missing action',
      steps: [PIPELINE_STEP(), { target: 'lead-gen' }],
      message: "Step 2 of 2: action must be 1-100 characters of a-z, 0-9, '_', '.', ':' or '-'.",
    },
    {
      problem: 'a payload that is an array',
      steps: [{ ...PIPELINE_STEP(), payload: [1] }, PIPELINE_STEP()],
      message: 'Step 1 of 2: payload must be a JSON object.',
    },
    {
      problem: 'a payload over 16 KiB',
      steps: [
        PIPELINE_STEP(),
        PIPELINE_STEP(),
        { ...PIPELINE_STEP(), payload: { x: 'y'.repeat(17_000) } },
      ],
      message: 'Step 3 of 3: payload must be at most 16384 bytes of JSON.',
    },
    {
      problem: 'priority 11',
      steps: [PIPELINE_STEP(), { ...PIPELINE_STEP(), priority: 11 }],
      message: 'Step 2 of 2: priority must be from 1 to 10.',
    },
    {
      problem: 'a huge priority',
      steps: [PIPELINE_STEP(), { ...PIPELINE_STEP(), priority: 1e30 }],
      message: 'Step 2 of 2: priority must be from 1 to 10.',
    },
    {
      problem: 'a fractional max_attempts',
      steps: [{ ...PIPELINE_STEP(), max_attempts: 2.5 }, PIPELINE_STEP()],
      message: 'Step 1 of 2: max_attempts must be a whole number.',
    },
    {
      problem: 'a priority given as text',
      steps: [{ ...PIPELINE_STEP(), priority: '5' }, PIPELINE_STEP()],
      message: 'Step 1 of 2: priority must be a whole number.',
    },
    {
      problem: 'an idempotency key over 190 characters',
      steps: [PIPELINE_STEP(), PIPELINE_STEP()],
      key: 'k'.repeat(191),
      message: 'idempotency_key must be 1-190 characters (each step adds ":<n>").',
    },
  ];

  it.each(badSteps)(
    'refuses $problem with 22023 and a readable message, creating nothing',
    async ({ steps, key, message }) => {
      const before = await dumpTables(sql, tables);
      const outcome = await createChainAs(signedIn(world.a.users.operator), steps, key ?? null);
      expect(outcome).toEqual({ ok: false, code: '22023', message });
      expect(await dumpTables(sql, tables)).toEqual(before);
    },
  );

  it('creates nothing when a late step is refused after earlier ones were inserted', async () => {
    // The key's third step already names a task, so the chain half-matches: all of it is undone.
    const key = `half-${randomUUID()}`;
    await insertTask(sql, world.a.tenantId, { idempotency_key: `${key}:3` });
    const before = await dumpTables(sql, tables);
    const outcome = await createChainAs(signedIn(world.a.users.operator), PIPELINE, key);
    expect(outcome).toEqual({
      ok: false,
      code: '22023',
      message: 'idempotency_key was already used for other tasks; use a new key for a new chain.',
    });
    expect(await dumpTables(sql, tables)).toEqual(before);
  });

  it('accepts whole numbers written with a fraction part (5.0)', async () => {
    const outcome = await createChainAs(signedIn(world.a.users.operator), [
      { ...PIPELINE_STEP(), priority: 9.0 },
      PIPELINE_STEP(),
    ]);
    expect(outcome).toMatchObject({ ok: true });
  });
});

/** A valid step (a function, so each case gets its own object). */
function PIPELINE_STEP(): { [key: string]: Json } {
  return { target: 'lead-gen', action: 'echo', payload: {} };
}

describe('cycles are refused at creation', () => {
  /** create_task as tenant A's operator with p_depends_on. */
  async function createDependingOn(dependsOn: string[]) {
    return runAs(sql, signedIn(world.a.users.operator), async (tx) => {
      const [row] = await tx`
        select public.create_task(${world.a.tenantId}::uuid, 'lead-gen', 'cyclic',
          p_depends_on => ${`{${dependsOn.join(',')}}`}::uuid[]) as r`;
      return row!.r;
    });
  }

  it('refuses a dependency on a task id not created yet, such as the id the task itself would get', async () => {
    // Task ids are uuid_v7: the next one is a fresh uuid_v7, which names no task yet.
    const [{ id: future }] = (await sql`select omnilink.uuid_v7() as id`) as unknown as [
      { id: string },
    ];
    const before = await dumpTables(sql, tables);
    for (const ids of [[future], [world.a.queuedTaskId, future]]) {
      const outcome = await createDependingOn(ids);
      expect(outcome).toEqual({
        ok: false,
        code: '22023',
        message: 'depends_on lists tasks that do not exist in your tenant.',
      });
    }
    expect(await dumpTables(sql, tables)).toEqual(before);
  });

  it('lets no member rewrite depends_on afterwards, so an existing task can never come to depend on a later one', async () => {
    const first = await task('cycle-first');
    const second = await task('cycle-second', [first]);
    for (const role of ['operator', 'admin'] as const) {
      const outcome = await runAs(
        sql,
        signedIn(world.a.users[role]),
        (tx) =>
          tx`update public.tasks set depends_on = ${`{${second}}`}::uuid[] where id = ${first}`,
      );
      expect(outcome).toMatchObject({
        ok: false,
        code: '42501',
        message: 'permission denied for table tasks',
      });
    }
    const [row] = await sql`select depends_on::text[] as d from public.tasks where id = ${first}`;
    expect(row!.d).toEqual([]);
    expect(await taskStatus(sql, second)).toBe('queued');
  });

  it('builds a chain from earlier steps only: every task depends on one created before it', async () => {
    const outcome = await createChainAs(signedIn(world.a.users.operator), PIPELINE);
    if (!outcome.ok) throw new Error(outcome.message);
    const ids = outcome.value.tasks.map((t) => t.id);
    outcome.value.tasks.forEach((t, index) => {
      for (const dependency of t.depends_on) expect(ids.indexOf(dependency)).toBeLessThan(index);
    });
    // The chain read from any member ends, holding each task once.
    for (const id of ids) expect(new Set(await chainShape(id)).size).toBe(3);
  });
});
