import type { IssuedKey } from '@omnihub/database/testing';
import type { SupabaseClient } from '@supabase/supabase-js';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startTestStack, type TestStack } from '../src/testing.ts';

/**
 * /rest/v1 through the real supabase-js 2.109, against the local stack: the
 * PostgREST behaviour OmniDash relies on, and the refusals it must get.
 */

let t: TestStack;
let a: IssuedKey;
let b: IssuedKey;
let c: IssuedKey;
type User = { id: string; email: string; password: string };
let adminA: User;
let operatorA: User;
let viewerA: User;
let adminB: User;
let asAdminA: SupabaseClient;
let asOperatorA: SupabaseClient;
let asViewerA: SupabaseClient;
let asAdminB: SupabaseClient;
let asAnon: SupabaseClient;
let asService: SupabaseClient;

/** Tenant A's tasks; in the read tests each is known by its priority (unique). */
const TASKS_A = [
  {
    action: 'scrape',
    target: 'lead-gen',
    priority: 1,
    status: 'queued',
    run_at: null,
    approval: false,
    error: null,
  },
  {
    action: 'enrich',
    target: 'lead-gen',
    priority: 3,
    status: 'running',
    run_at: '2030-01-01T00:00:00Z',
    approval: false,
    error: null,
  },
  {
    action: 'email',
    target: 'apex-sales',
    priority: 5,
    status: 'failed',
    run_at: null,
    approval: false,
    error: 'SMTP timeout',
  },
  {
    action: 'call',
    target: 'apex-sales',
    priority: 7,
    status: 'succeeded',
    run_at: '2030-02-01T00:00:00Z',
    approval: true,
    error: "'; drop table tasks; --",
  },
  {
    action: 'email.followup',
    target: 'apex-sales',
    priority: 9,
    status: 'waiting_approval',
    run_at: null,
    approval: true,
    error: 'Needs, commas',
  },
] as const;

async function insertTask(tenantId: string, task: (typeof TASKS_A)[number]): Promise<string> {
  const [row] = await t.db.sql`
    insert into public.tasks (tenant_id, target, action, priority, status, run_at, require_approval, error)
    values (${tenantId}, ${task.target}, ${task.action}, ${task.priority}, ${task.status},
            ${task.run_at}, ${task.approval}, ${task.error})
    returning id`;
  return row!.id as string;
}

async function taskCount(): Promise<number> {
  const [row] = await t.db.sql`select count(*)::int as n from public.tasks`;
  return row!.n as number;
}

/** The priorities of what a read returned, which identify tenant A's tasks. */
function priorities(data: unknown): number[] {
  return (data as { priority: number }[]).map((row) => row.priority);
}

/** supabase-js as OmniDash uses it once signed in: the anon key, and the user's access token. */
async function signedIn(user: { id: string; email: string }): Promise<SupabaseClient> {
  return t.supabaseAs(await t.accessToken(user));
}

/** Raw fetch on /rest/v1, for what supabase-js does not show (headers, exact statuses). */
function rest(
  path: string,
  { token, headers = {} }: { token?: string; headers?: Record<string, string> } = {},
): Promise<Response> {
  return fetch(`${t.stack.apiUrl}/rest/v1${path}`, {
    headers: {
      apikey: t.stack.anonKey,
      authorization: `Bearer ${token ?? t.stack.anonKey}`,
      ...headers,
    },
  });
}

beforeAll(async () => {
  t = await startTestStack();
  a = await t.issueKey({ tenant: 'rest-a', source: 'lead-gen' });
  b = await t.issueKey({ tenant: 'rest-b', source: 'lead-gen' });
  c = await t.issueKey({ tenant: 'rest-c', source: 'lead-gen' });
  adminA = await t.createUser({ tenantId: a.tenantId, role: 'admin' });
  operatorA = await t.createUser({ tenantId: a.tenantId, role: 'operator' });
  viewerA = await t.createUser({ tenantId: a.tenantId, role: 'viewer' });
  adminB = await t.createUser({ tenantId: b.tenantId, role: 'admin' });
  asAdminA = await signedIn(adminA);
  asOperatorA = await signedIn(operatorA);
  asViewerA = await signedIn(viewerA);
  asAdminB = await signedIn(adminB);
  asAnon = t.supabase();
  asService = t.supabase(t.stack.serviceRoleKey);
  for (const task of TASKS_A) await insertTask(a.tenantId, task);
  for (const task of TASKS_A.slice(0, 2)) await insertTask(b.tenantId, task);
});

afterAll(async () => {
  await t?.close();
});

describe('reads with filters, order, range and count', () => {
  it('returns every row the member may see, as PostgREST renders them', async () => {
    const { data, error, status } = await asViewerA.from('tasks').select().order('priority');
    expect(error).toBeNull();
    expect(status).toBe(200);
    expect(priorities(data)).toEqual([1, 3, 5, 7, 9]);
    const enrich = (data as Record<string, unknown>[])[1]!;
    expect(enrich.tenant_id).toBe(a.tenantId);
    // Postgres's own JSON: timestamptz with offset, jsonb as JSON, arrays as arrays.
    expect(enrich.run_at).toBe('2030-01-01T00:00:00+00:00');
    expect(enrich.params).toEqual({ payload: {} });
    expect(enrich.depends_on).toEqual([]);
  });

  it.each([
    ['eq', (q: Q) => q.eq('action', 'enrich'), [3]],
    ['neq', (q: Q) => q.neq('target', 'apex-sales'), [1, 3]],
    ['gt', (q: Q) => q.gt('priority', 5), [7, 9]],
    ['gte', (q: Q) => q.gte('priority', 5), [5, 7, 9]],
    ['lt', (q: Q) => q.lt('priority', 3), [1]],
    ['lte', (q: Q) => q.lte('priority', 3), [1, 3]],
    ['gt on a timestamp', (q: Q) => q.gt('run_at', '2030-01-15T00:00:00Z'), [7]],
    ['in', (q: Q) => q.in('action', ['scrape', 'call']), [1, 7]],
    [
      'in with a quoted value holding a comma',
      (q: Q) => q.in('error', ['Needs, commas', 'x']),
      [9],
    ],
    ['in with an empty list', (q: Q) => q.in('action', []), []],
    ['is null', (q: Q) => q.is('run_at', null), [1, 5, 9]],
    ['is true', (q: Q) => q.is('require_approval', true), [7, 9]],
    ['is false', (q: Q) => q.is('require_approval', false), [1, 3, 5]],
    ['eq on a boolean', (q: Q) => q.eq('require_approval', true), [7, 9]],
    ['like with *', (q: Q) => q.like('action', 'email*'), [5, 9]],
    ['like with %', (q: Q) => q.like('action', '%mail%'), [5, 9]],
    ['like is case-sensitive', (q: Q) => q.like('error', '%TIMEOUT%'), []],
    ['ilike', (q: Q) => q.ilike('error', '*timeout*'), [5]],
    ['not eq', (q: Q) => q.not('status', 'eq', 'queued'), [3, 5, 7, 9]],
    ['not in', (q: Q) => q.not('priority', 'in', '(1,3)'), [5, 7, 9]],
    ['not is null', (q: Q) => q.not('run_at', 'is', null), [3, 7]],
    ['not like', (q: Q) => q.not('action', 'like', 'e*'), [1, 7]],
    ['two filters on one column', (q: Q) => q.gt('priority', 1).lt('priority', 9), [3, 5, 7]],
    ['or', (q: Q) => q.or('priority.eq.1,priority.eq.9'), [1, 9]],
    [
      'or with a nested and',
      (q: Q) => q.or('and(priority.gte.5,target.eq.apex-sales,status.neq.failed),action.eq.scrape'),
      [1, 7, 9],
    ],
    ['or with in and is', (q: Q) => q.or('action.in.(enrich,call),error.is.null'), [1, 3, 7]],
    ['a JSON path', (q: Q) => q.eq('params->>payload', '{}'), [1, 3, 5, 7, 9]],
  ])('filters with %s', async (_name, filter, expected) => {
    const { data, error } = await filter(asViewerA.from('tasks').select('priority')).order(
      'priority',
    );
    expect(error).toBeNull();
    expect(priorities(data)).toEqual(expected);
  });

  it('orders by several columns, descending, with nulls first or last', async () => {
    const desc = await asViewerA
      .from('tasks')
      .select('priority')
      .order('priority', { ascending: false });
    expect(priorities(desc.data)).toEqual([9, 7, 5, 3, 1]);
    const nullsFirst = await asViewerA
      .from('tasks')
      .select('priority')
      .order('run_at', { ascending: true, nullsFirst: true })
      .order('priority', { ascending: false });
    expect(priorities(nullsFirst.data)).toEqual([9, 5, 1, 3, 7]);
    const nullsLast = await asViewerA
      .from('tasks')
      .select('priority')
      .order('run_at', { ascending: false, nullsFirst: false })
      .order('priority');
    expect(priorities(nullsLast.data)).toEqual([7, 3, 1, 5, 9]);
  });

  it('pages with range() and limit()', async () => {
    const page = await asViewerA.from('tasks').select('priority').order('priority').range(1, 3);
    expect(priorities(page.data)).toEqual([3, 5, 7]);
    const limited = await asViewerA.from('tasks').select('priority').order('priority').limit(2);
    expect(priorities(limited.data)).toEqual([1, 3]);
  });

  it('counts exactly: the count of all matching rows, 206 for a partial page', async () => {
    const page = await asViewerA
      .from('tasks')
      .select('priority', { count: 'exact' })
      .neq('status', 'queued')
      .order('priority')
      .range(0, 1);
    expect(page.error).toBeNull();
    expect(page.count).toBe(4);
    expect(page.status).toBe(206);
    expect(priorities(page.data)).toEqual([3, 5]);

    const all = await asViewerA.from('tasks').select('priority', { count: 'exact' });
    expect(all.count).toBe(5);
    expect(all.status).toBe(200);

    const none = await asViewerA.from('tasks').select('*', { count: 'exact' }).eq('action', 'nope');
    expect(none.count).toBe(0);
    expect(none.data).toEqual([]);

    const head = await asViewerA.from('tasks').select('*', { count: 'exact', head: true });
    expect(head.count).toBe(5);
    expect(head.data).toBeNull();
  });

  it('writes Content-Range as PostgREST does, and honours a Range header', async () => {
    const token = await t.accessToken(viewerA);
    const get = (query: string, headers: Record<string, string> = {}) =>
      rest(`/tasks?${query}`, { token, headers });

    const counted = await get('select=priority&order=priority&limit=2', { prefer: 'count=exact' });
    expect(counted.status).toBe(206);
    expect(counted.headers.get('content-range')).toBe('0-1/5');
    expect(counted.headers.get('preference-applied')).toBe('count=exact');

    const uncounted = await get('select=priority&order=priority&offset=1&limit=2');
    expect(uncounted.status).toBe(200);
    expect(uncounted.headers.get('content-range')).toBe('1-2/*');

    const ranged = await get('select=priority&order=priority', { range: '1-2' });
    expect(ranged.headers.get('content-range')).toBe('1-2/*');
    expect(priorities(await ranged.json())).toEqual([3, 5]);

    const empty = await get('select=priority&action=eq.nope', { prefer: 'count=exact' });
    expect(empty.headers.get('content-range')).toBe('*/0');
    expect(empty.headers.get('content-type')).toBe('application/json; charset=utf-8');

    const beyond = await get('select=priority&offset=10', { prefer: 'count=exact' });
    expect(beyond.status).toBe(416);
    expect(await beyond.json()).toEqual({
      code: 'PGRST103',
      message: 'Requested range not satisfiable',
      details: 'An offset of 10 was requested, but there are only 5 rows.',
      hint: null,
    });

    const inverted = await get('select=priority', { range: '3-1' });
    expect(inverted.status).toBe(416);
  });

  it('selects columns with aliases, casts and JSON paths', async () => {
    const { data, error } = await asViewerA
      .from('tasks')
      .select('id, prio:priority, payload:params->payload, action::text, approval:require_approval')
      .eq('action', 'call');
    expect(error).toBeNull();
    expect(data).toHaveLength(1);
    const row = data![0] as Record<string, unknown>;
    expect(Object.keys(row)).toEqual(['id', 'prio', 'payload', 'action', 'approval']);
    expect(row).toMatchObject({ prio: 7, payload: {}, action: 'call', approval: true });
  });

  it('answers single() with one object, or PostgREST’s 406 when not exactly one row', async () => {
    const one = await asViewerA
      .from('tasks')
      .select('priority, action')
      .eq('action', 'scrape')
      .single();
    expect(one.error).toBeNull();
    expect(one.data).toEqual({ priority: 1, action: 'scrape' });

    const none = await asViewerA.from('tasks').select().eq('action', 'nope').single();
    expect(none.status).toBe(406);
    expect(none.error).toEqual({
      code: 'PGRST116',
      message: 'Cannot coerce the result to a single JSON object',
      details: 'The result contains 0 rows',
      hint: null,
    });

    const many = await asViewerA.from('tasks').select().single();
    expect(many.status).toBe(406);
    expect(many.error?.details).toBe('The result contains 5 rows');
  });

  it('answers maybeSingle() with null for no row and the row for one', async () => {
    const none = await asViewerA
      .from('tasks')
      .select('priority')
      .eq('action', 'nope')
      .maybeSingle();
    expect(none.error).toBeNull();
    expect(none.data).toBeNull();
    const one = await asViewerA.from('tasks').select('priority').eq('action', 'call').maybeSingle();
    expect(one.data).toEqual({ priority: 7 });
    const many = await asViewerA.from('tasks').select('priority').maybeSingle();
    expect(many.error?.code).toBe('PGRST116');
  });
});

type Q = ReturnType<ReturnType<SupabaseClient['from']>['select']>;

describe('RLS and privileges decide who sees and changes what', () => {
  it('shows a member of tenant A only tenant A’s rows', async () => {
    const { data } = await asViewerA.from('tasks').select('tenant_id');
    expect(data).toHaveLength(5);
    expect(new Set((data as { tenant_id: string }[]).map((row) => row.tenant_id))).toEqual(
      new Set([a.tenantId]),
    );
    const tenants = await asViewerA.from('tenants').select('id, slug');
    expect(tenants.data).toEqual([{ id: a.tenantId, slug: 'rest-a' }]);
  });

  it('reads as the user after a password sign-in through /auth/v1', async () => {
    const client = t.supabase();
    const signIn = await client.auth.signInWithPassword({
      email: viewerA.email,
      password: viewerA.password,
    });
    expect(signIn.error).toBeNull();
    const { data, error } = await client.from('tasks').select('priority').order('priority');
    expect(error).toBeNull();
    expect(priorities(data)).toEqual([1, 3, 5, 7, 9]);
  });

  it('shows a member of another tenant none of tenant A’s rows', async () => {
    const asked = await asAdminB.from('tasks').select('priority').eq('tenant_id', a.tenantId);
    expect(asked.error).toBeNull();
    expect(asked.data).toEqual([]);
    const own = await asAdminB.from('tasks').select('tenant_id');
    expect((own.data as { tenant_id: string }[]).map((row) => row.tenant_id)).toEqual([
      b.tenantId,
      b.tenantId,
    ]);
    const keys = await asAdminB.from('api_keys').select('id').eq('tenant_id', a.tenantId);
    expect(keys.data).toEqual([]);
  });

  it('refuses anon with PostgREST’s 401, since anon holds no privilege on the tables', async () => {
    for (const table of ['tasks', 'tenants', 'api_keys', 'telemetry_events']) {
      const { data, error, status } = await asAnon.from(table).select();
      expect(status).toBe(401);
      expect(data).toBeNull();
      expect(error).toEqual({
        code: '42501',
        message: `permission denied for table ${table}`,
        details: null,
        hint: null,
      });
    }
  });

  it('lets the service role read across tenants (it bypasses RLS)', async () => {
    const { count } = await asService.from('tasks').select('*', { count: 'exact', head: true });
    expect(count).toBe(7);
  });

  it('refuses a member’s insert, update and delete with 42501 and 403, changing nothing', async () => {
    const before = await taskCount();
    const insert = await asAdminA
      .from('tasks')
      .insert({ tenant_id: a.tenantId, target: 'lead-gen', action: 'sneak' })
      .select();
    expect(insert.status).toBe(403);
    expect(insert.error).toMatchObject({
      code: '42501',
      message: 'permission denied for table tasks',
    });

    const update = await asAdminA.from('tasks').update({ priority: 10 }).eq('action', 'scrape');
    expect(update.status).toBe(403);
    expect(update.error?.code).toBe('42501');

    const remove = await asAdminA.from('tasks').delete().eq('action', 'scrape');
    expect(remove.status).toBe(403);
    expect(remove.error?.code).toBe('42501');

    const settings = await asAdminA
      .from('tenant_settings')
      .update({ omnilink_enabled: false })
      .eq('tenant_id', a.tenantId);
    expect(settings.status).toBe(403);

    expect(await taskCount()).toBe(before);
    const [row] = await t.db
      .sql`select priority from public.tasks where tenant_id = ${a.tenantId} and action = 'scrape'`;
    expect(row!.priority).toBe(1);
  });

  it('refuses anon’s insert with 42501 and 401', async () => {
    const { status, error } = await asAnon
      .from('tasks')
      .insert({ tenant_id: a.tenantId, target: 'lead-gen', action: 'sneak' });
    expect(status).toBe(401);
    expect(error?.code).toBe('42501');
  });
});

describe('inserts, updates and deletes (as the service role)', () => {
  it('inserts an object and returns it with return=representation (201)', async () => {
    const { data, error, status } = await asService
      .from('tasks')
      .insert({
        tenant_id: c.tenantId,
        target: 'lead-gen',
        action: 'one',
        priority: 2,
        params: { payload: { n: 1 } },
      })
      .select('action, priority, params, status');
    expect(error).toBeNull();
    expect(status).toBe(201);
    expect(data).toEqual([
      { action: 'one', priority: 2, params: { payload: { n: 1 } }, status: 'queued' },
    ]);
  });

  it('inserts an array with return=minimal (201, no body)', async () => {
    const { data, error, status } = await asService.from('tasks').insert([
      { tenant_id: c.tenantId, target: 'lead-gen', action: 'two', priority: 3 },
      { tenant_id: c.tenantId, target: 'lead-gen', action: 'three', priority: 4 },
    ]);
    expect(error).toBeNull();
    expect(status).toBe(201);
    expect(data).toBeNull();
    const [row] = await t.db
      .sql`select count(*)::int as n from public.tasks where tenant_id = ${c.tenantId} and action in ('two', 'three')`;
    expect(row!.n).toBe(2);
  });

  it('puts null in a missing key by default, and the column default with defaultToNull: false', async () => {
    const rows = [
      { tenant_id: c.tenantId, target: 'lead-gen', action: 'four', priority: 6 },
      { tenant_id: c.tenantId, target: 'lead-gen', action: 'five' },
    ];
    const nulls = await asService.from('tasks').insert(rows);
    expect(nulls.status).toBe(400);
    expect(nulls.error?.code).toBe('23502');

    const defaults = await asService
      .from('tasks')
      .insert(rows, { defaultToNull: false })
      .select('action, priority')
      .order('action');
    expect(defaults.error).toBeNull();
    expect(defaults.data).toEqual([
      { action: 'five', priority: 5 },
      { action: 'four', priority: 6 },
    ]);
  });

  it('updates with filters: 200 with the rows, or 204 without', async () => {
    const represented = await asService
      .from('tasks')
      .update({ priority: 8, error: 'bumped' })
      .eq('tenant_id', c.tenantId)
      .in('action', ['one', 'two'])
      .select('action, priority, error')
      .order('action');
    expect(represented.status).toBe(200);
    expect(represented.data).toEqual([
      { action: 'one', priority: 8, error: 'bumped' },
      { action: 'two', priority: 8, error: 'bumped' },
    ]);

    const minimal = await asService.from('tasks').update({ priority: 9 }).eq('action', 'three');
    expect(minimal.status).toBe(204);
    expect(minimal.data).toBeNull();
    const [row] = await t.db.sql`select priority from public.tasks where action = 'three'`;
    expect(row!.priority).toBe(9);
  });

  it('rolls back an update that single() refuses', async () => {
    const { status, error } = await asService
      .from('tasks')
      .update({ priority: 10 })
      .eq('tenant_id', c.tenantId)
      .select()
      .single();
    expect(status).toBe(406);
    expect(error?.code).toBe('PGRST116');
    const [row] = await t.db
      .sql`select count(*)::int as n from public.tasks where tenant_id = ${c.tenantId} and priority = 10`;
    expect(row!.n).toBe(0);
  });

  it('deletes with filters: 200 with the rows, or 204 without', async () => {
    const represented = await asService
      .from('tasks')
      .delete()
      .eq('tenant_id', c.tenantId)
      .eq('action', 'one')
      .select('action');
    expect(represented.status).toBe(200);
    expect(represented.data).toEqual([{ action: 'one' }]);

    const minimal = await asService.from('tasks').delete().eq('tenant_id', c.tenantId);
    expect(minimal.status).toBe(204);
    const [row] = await t.db
      .sql`select count(*)::int as n from public.tasks where tenant_id = ${c.tenantId}`;
    expect(row!.n).toBe(0);
  });

  it('refuses a body key that is not a column with PGRST204', async () => {
    const { status, error } = await asService
      .from('tasks')
      .insert({ tenant_id: c.tenantId, target: 'lead-gen', action: 'x', nope: 1 });
    expect(status).toBe(400);
    expect(error).toEqual({
      code: 'PGRST204',
      message: "Could not find the 'nope' column of 'tasks' in the schema cache",
      details: null,
      hint: null,
    });
  });

  it('answers a constraint violation with Postgres’s error and PostgREST’s status', async () => {
    const check = await asService
      .from('tasks')
      .insert({ tenant_id: c.tenantId, target: 'lead-gen', action: 'x', priority: 11 });
    expect(check.status).toBe(400);
    expect(check.error?.code).toBe('23514');

    const foreignKey = await asService.from('tasks').insert({
      tenant_id: '00000000-0000-0000-0000-000000000000',
      target: 'lead-gen',
      action: 'x',
    });
    expect(foreignKey.status).toBe(409);
    expect(foreignKey.error?.code).toBe('23503');
  });
});

describe('rpc() for the dashboard RPCs', () => {
  async function waitingTask(): Promise<string> {
    const { data, error } = await asOperatorA.rpc('create_task', {
      p_tenant_id: a.tenantId,
      p_target: 'lead-gen',
      p_action: 'needs-approval',
      p_require_approval: true,
    });
    expect(error).toBeNull();
    return (data as { task: { id: string } }).task.id;
  }

  function expectViewerRefused(
    result: { status: number; error: unknown; data: unknown },
    role = 'admin',
  ) {
    expect(result.status).toBe(403);
    expect(result.data).toBeNull();
    expect(result.error).toEqual({
      code: '42501',
      message: `This action needs the ${role} role in this tenant; you are viewer.`,
      details: null,
      hint: null,
    });
  }

  it('create_integration: an admin connects a source; a viewer is refused; a duplicate is 409', async () => {
    const made = await asAdminA.rpc('create_integration', {
      p_tenant_id: a.tenantId,
      p_source: 'apex-sales',
      p_name: 'APEX',
    });
    expect(made.error).toBeNull();
    expect(made.status).toBe(200);
    expect(made.data).toMatchObject({
      tenant_id: a.tenantId,
      source: 'apex-sales',
      name: 'APEX',
      created_by: adminA.id,
    });

    expectViewerRefused(
      await asViewerA.rpc('create_integration', { p_tenant_id: a.tenantId, p_source: 'other' }),
    );

    const duplicate = await asAdminA.rpc('create_integration', {
      p_tenant_id: a.tenantId,
      p_source: 'apex-sales',
    });
    expect(duplicate.status).toBe(409);
    expect(duplicate.error).toMatchObject({
      code: '23505',
      message: 'This tenant already has an integration for source apex-sales.',
    });

    const invalid = await asAdminA.rpc('create_integration', {
      p_tenant_id: a.tenantId,
      p_source: 'Bad Source',
    });
    expect(invalid.status).toBe(400);
    expect(invalid.error?.code).toBe('22023');
  });

  it('create_api_key and revoke_api_key: an admin issues and revokes; a viewer is refused', async () => {
    const issued = await asAdminA.rpc('create_api_key', {
      p_integration_id: a.integrationId,
      p_scopes: ['tasks:claim', 'events:write'],
      p_max_rpm: 120,
      p_name: 'from the dashboard',
    });
    expect(issued.error).toBeNull();
    const key = issued.data as Record<string, unknown>;
    expect(key.api_key).toMatch(/^omni\.[a-z0-9]{12}\.[A-Za-z0-9_-]{43}$/);
    expect(key).toMatchObject({
      integration_id: a.integrationId,
      scopes: ['events:write', 'tasks:claim'],
      max_rpm: 120,
      name: 'from the dashboard',
      revoked_at: null,
    });

    expectViewerRefused(
      await asViewerA.rpc('create_api_key', {
        p_integration_id: a.integrationId,
        p_scopes: ['events:write'],
      }),
    );
    const unknownScope = await asAdminA.rpc('create_api_key', {
      p_integration_id: a.integrationId,
      p_scopes: ['root'],
    });
    expect(unknownScope.status).toBe(400);
    expect(unknownScope.error?.code).toBe('22023');
    expect(unknownScope.error?.message).toContain('Unknown scope root');

    expectViewerRefused(await asViewerA.rpc('revoke_api_key', { p_key_id: key.key_id }));
    const revoked = await asAdminA.rpc('revoke_api_key', { p_key_id: key.key_id });
    expect(revoked.error).toBeNull();
    expect(revoked.data).toMatchObject({ key_id: key.key_id, revoked_by: adminA.id });
    expect((revoked.data as { revoked_at: string | null }).revoked_at).not.toBeNull();
  });

  it('create_task: an operator dispatches; a viewer is refused; a bad priority is 400', async () => {
    const created = await asOperatorA.rpc('create_task', {
      p_tenant_id: a.tenantId,
      p_target: 'lead-gen',
      p_action: 'scrape',
      p_payload: { query: 'dentists', pages: [1, 2] },
      p_priority: 2,
      p_run_at: '2031-01-01T00:00:00Z',
      p_depends_on: [],
    });
    expect(created.error).toBeNull();
    expect(created.data).toMatchObject({
      status: 'created',
      task: {
        target: 'lead-gen',
        action: 'scrape',
        priority: 2,
        status: 'queued',
        run_at: '2031-01-01T00:00:00+00:00',
        params: { payload: { query: 'dentists', pages: [1, 2] } },
      },
    });

    expectViewerRefused(
      await asViewerA.rpc('create_task', {
        p_tenant_id: a.tenantId,
        p_target: 'lead-gen',
        p_action: 'x',
      }),
      'operator',
    );

    const invalid = await asOperatorA.rpc('create_task', {
      p_tenant_id: a.tenantId,
      p_target: 'lead-gen',
      p_action: 'x',
      p_priority: 11,
    });
    expect(invalid.status).toBe(400);
    expect(invalid.error).toEqual({
      code: '22023',
      message: 'priority must be from 1 to 10.',
      details: null,
      hint: null,
    });
  });

  it('approve_task: an operator approves a waiting task; a viewer is refused; twice is PT409 → 409', async () => {
    const id = await waitingTask();
    expectViewerRefused(await asViewerA.rpc('approve_task', { p_task_id: id }), 'operator');
    const approved = await asOperatorA.rpc('approve_task', { p_task_id: id });
    expect(approved.error).toBeNull();
    expect(approved.data).toMatchObject({ id, status: 'approved', approved_by: operatorA.id });

    const again = await asOperatorA.rpc('approve_task', { p_task_id: id });
    expect(again.status).toBe(409);
    expect(again.error).toEqual({
      code: 'PT409',
      message: 'The task is approved; only a task waiting for approval can be approved.',
      details: null,
      hint: null,
    });
  });

  it('reject_task: an operator rejects with a reason; a viewer is refused', async () => {
    const id = await waitingTask();
    expectViewerRefused(await asViewerA.rpc('reject_task', { p_task_id: id }), 'operator');
    const rejected = await asOperatorA.rpc('reject_task', { p_task_id: id, p_reason: 'not now' });
    expect(rejected.error).toBeNull();
    expect(rejected.data).toMatchObject({ id, status: 'canceled', error: 'rejected: not now' });
  });

  it('cancel_task: an operator cancels; a viewer is refused; an ended task is 409', async () => {
    const { data } = await asOperatorA.rpc('create_task', {
      p_tenant_id: a.tenantId,
      p_target: 'lead-gen',
      p_action: 'to-cancel',
    });
    const id = (data as { task: { id: string } }).task.id;
    expectViewerRefused(await asViewerA.rpc('cancel_task', { p_task_id: id }), 'operator');
    const canceled = await asOperatorA.rpc('cancel_task', { p_task_id: id });
    expect(canceled.data).toMatchObject({ id, status: 'canceled', error: 'canceled' });
    const again = await asOperatorA.rpc('cancel_task', { p_task_id: id });
    expect(again.status).toBe(409);
    expect(again.error?.code).toBe('PT409');
  });

  it('retry_task: an operator retries a failed task; a viewer is refused; a queued one is 409', async () => {
    const [failed] = await t.db.sql`
      select id from public.tasks where tenant_id = ${a.tenantId} and status = 'failed'`;
    const id = failed!.id as string;
    expectViewerRefused(await asViewerA.rpc('retry_task', { p_task_id: id }), 'operator');
    const retried = await asOperatorA.rpc('retry_task', { p_task_id: id });
    expect(retried.error).toBeNull();
    expect(retried.data).toMatchObject({ id, status: 'queued', attempts: 0, error: null });
    const again = await asOperatorA.rpc('retry_task', { p_task_id: id });
    expect(again.status).toBe(409);
    expect(again.error?.message).toBe('The task is queued; only a failed task can be retried.');
    // Put it back for the read tests' sake.
    await t.db
      .sql`update public.tasks set status = 'failed', error = 'SMTP timeout' where id = ${id}`;
  });

  it('set_omnilink_enabled: an admin switches it; a viewer and an operator are refused', async () => {
    expectViewerRefused(
      await asViewerA.rpc('set_omnilink_enabled', { p_tenant_id: a.tenantId, p_enabled: false }),
    );
    const operator = await asOperatorA.rpc('set_omnilink_enabled', {
      p_tenant_id: a.tenantId,
      p_enabled: false,
    });
    expect(operator.status).toBe(403);
    expect(operator.error?.message).toBe(
      'This action needs the admin role in this tenant; you are operator.',
    );

    const off = await asAdminA.rpc('set_omnilink_enabled', {
      p_tenant_id: a.tenantId,
      p_enabled: false,
    });
    expect(off.error).toBeNull();
    expect(off.data).toMatchObject({
      tenant_id: a.tenantId,
      omnilink_enabled: false,
      updated_by: adminA.id,
    });
    const on = await asAdminA.rpc('set_omnilink_enabled', {
      p_tenant_id: a.tenantId,
      p_enabled: true,
    });
    expect(on.data).toMatchObject({ omnilink_enabled: true });
  });

  it('answers an id that is not found, or is another tenant’s, with PT404 → 404 and the same message', async () => {
    const unknown = await asOperatorA.rpc('approve_task', {
      p_task_id: '00000000-0000-0000-0000-000000000000',
    });
    expect(unknown.status).toBe(404);
    expect(unknown.error).toEqual({
      code: 'PT404',
      message: 'Not found.',
      details: null,
      hint: null,
    });

    // A member of another tenant learns nothing more than for a task that does not exist.
    const id = await waitingTask();
    const foreign = await asAdminB.rpc('approve_task', { p_task_id: id });
    expect(foreign.status).toBe(404);
    expect(foreign.error).toEqual(unknown.error);
  });

  it('refuses anon with 401: the RPCs are not granted to anon', async () => {
    const { status, error } = await asAnon.rpc('create_task', {
      p_tenant_id: a.tenantId,
      p_target: 'lead-gen',
      p_action: 'x',
    });
    expect(status).toBe(401);
    expect(error).toMatchObject({
      code: '42501',
      message: 'permission denied for function create_task',
    });
  });

  it('runs a GET call read-only, as PostgREST does: a writing RPC is refused with 405', async () => {
    const before = await taskCount();
    const { status, error } = await asOperatorA.rpc(
      'create_task',
      { p_tenant_id: a.tenantId, p_target: 'lead-gen', p_action: 'via-get' },
      { get: true },
    );
    expect(status).toBe(405);
    expect(error?.code).toBe('25006');
    expect(await taskCount()).toBe(before);
  });

  it('answers an unknown function or unknown arguments with PGRST202 (404)', async () => {
    const unknown = await asOperatorA.rpc('nope');
    expect(unknown.status).toBe(404);
    expect(unknown.error).toEqual({
      code: 'PGRST202',
      message: 'Could not find the function public.nope without parameters in the schema cache',
      details:
        'Searched for the function public.nope without parameters or with a single unnamed json/jsonb parameter, but no matches were found in the schema cache.',
      hint: null,
    });

    const wrongArgs = await asOperatorA.rpc('approve_task', { task_id: 'x' });
    expect(wrongArgs.status).toBe(404);
    expect(wrongArgs.error?.message).toBe(
      'Could not find the function public.approve_task(task_id) in the schema cache',
    );
    expect(wrongArgs.error?.hint).toBe(
      'Perhaps you meant to call the function public.approve_task(p_task_id)',
    );
  });
});

describe('rpc() result shapes', () => {
  beforeAll(async () => {
    // Created after the stack read its catalog: found because a miss reads the catalog again.
    await t.db.sql.unsafe(`
      create function public.rest_test_add(a integer, b integer) returns integer
        language sql immutable as $$ select a + b $$;
      create function public.rest_test_echo(p_text text, p_times integer default 2) returns setof text
        language sql stable as $$ select p_text || '#' || g from generate_series(1, p_times) g $$;
      create function public.rest_test_rows(p_tags text[]) returns table (tag text, pos integer)
        language sql stable as $$ select x.t, x.o::integer from unnest(p_tags) with ordinality as x(t, o) $$;
      create function public.rest_test_noop() returns void language sql as $$ select $$;
      create function public.rest_test_missing() returns void language plpgsql
        as $$ begin raise exception 'Nothing here.' using errcode = 'P0002'; end $$;
      create function public.rest_test_json(p_doc jsonb) returns jsonb
        language sql immutable as $$ select jsonb_build_object('got', p_doc, 'at', '2030-01-01T00:00:00Z'::timestamptz) $$;
    `);
  });

  it('renders a scalar as a JSON value, by POST or GET', async () => {
    const posted = await asViewerA.rpc('rest_test_add', { a: 2, b: 3 });
    expect(posted.data).toBe(5);
    const got = await asViewerA.rpc('rest_test_add', { a: 40, b: 2 }, { get: true });
    expect(got.error).toBeNull();
    expect(got.data).toBe(42);
  });

  it('renders setof scalar as an array, using a parameter default', async () => {
    const { data } = await asViewerA.rpc('rest_test_echo', { p_text: 'x' });
    expect(data).toEqual(['x#1', 'x#2']);
    const three = await asViewerA.rpc('rest_test_echo', { p_text: 'y', p_times: 3 }, { get: true });
    expect(three.data).toEqual(['y#1', 'y#2', 'y#3']);
  });

  it('renders a table result as an array of objects, with array arguments by POST or GET', async () => {
    const posted = await asViewerA.rpc('rest_test_rows', { p_tags: ['a', 'b'] });
    expect(posted.data).toEqual([
      { tag: 'a', pos: 1 },
      { tag: 'b', pos: 2 },
    ]);
    const got = await asViewerA.rpc('rest_test_rows', { p_tags: ['c'] }, { get: true });
    expect(got.data).toEqual([{ tag: 'c', pos: 1 }]);
  });

  it('passes jsonb through both ways', async () => {
    const { data } = await asViewerA.rpc('rest_test_json', {
      p_doc: { n: 1.5, list: ['a', null] },
    });
    expect(data).toEqual({ got: { n: 1.5, list: ['a', null] }, at: '2030-01-01T00:00:00+00:00' });
  });

  it('never calls a function from a stale description after it is replaced', async () => {
    expect((await asViewerA.rpc('rest_test_add', { a: 2, b: 3 })).data).toBe(5);
    // Same name and arguments, another result shape (a DROP and CREATE: a new oid).
    await t.db.sql.unsafe(`
      drop function public.rest_test_add(integer, integer);
      create function public.rest_test_add(a integer, b integer) returns setof integer
        language sql immutable as $$ select a + b union all select a * b $$;
    `);
    expect((await asViewerA.rpc('rest_test_add', { a: 2, b: 3 })).data).toEqual([5, 6]);

    // Stable (so called read-only), then replaced in place by a volatile one that writes.
    await t.db.sql.unsafe(`
      create table public.rest_test_log (n integer);
      create function public.rest_test_touch() returns integer
        language sql stable as $$ select count(*)::integer from public.rest_test_log $$;
    `);
    expect((await asService.rpc('rest_test_touch')).data).toBe(0);
    await t.db.sql.unsafe(`
      create or replace function public.rest_test_touch() returns integer
        language sql volatile as $$ insert into public.rest_test_log values (1) returning n $$;
    `);
    const touched = await asService.rpc('rest_test_touch');
    expect(touched.error).toBeNull();
    expect(touched.data).toBe(1);
    const [row] = await t.db.sql`select count(*)::int as n from public.rest_test_log`;
    expect(row!.n).toBe(1);
  });

  it('answers a PL/pgSQL error other than P0001 with 500, as PostgREST does', async () => {
    const { status, error } = await asViewerA.rpc('rest_test_missing');
    expect(status).toBe(500);
    expect(error).toEqual({ code: 'P0002', message: 'Nothing here.', details: null, hint: null });
  });

  it('answers a void function with 204', async () => {
    const { status, data, error } = await asViewerA.rpc('rest_test_noop');
    expect(error).toBeNull();
    expect(status).toBe(204);
    expect(data).toBeNull();
  });
});

describe('errors for names the catalog does not know', () => {
  it('answers an unknown table with PGRST205 (404), suggesting a close name', async () => {
    const unknown = await asViewerA.from('nope').select();
    expect(unknown.status).toBe(404);
    expect(unknown.error).toEqual({
      code: 'PGRST205',
      message: "Could not find the table 'public.nope' in the schema cache",
      details: null,
      hint: null,
    });
    const close = await asViewerA.from('task').select();
    expect(close.error?.hint).toBe("Perhaps you meant the table 'public.tasks'");
    // Tables outside public are not exposed, whatever the name says.
    const hidden = await asService.from('omnilink.api_key_secrets').select();
    expect(hidden.error?.code).toBe('PGRST205');
  });

  it('answers an unknown column in select, a filter or order with Postgres’s 42703 (400)', async () => {
    const expected = {
      code: '42703',
      message: 'column tasks.nope does not exist',
      details: null,
      hint: null,
    };
    const selected = await asViewerA.from('tasks').select('id, nope');
    expect(selected.status).toBe(400);
    expect(selected.error).toEqual(expected);
    expect((await asViewerA.from('tasks').select().eq('nope', 1)).error).toEqual(expected);
    expect((await asViewerA.from('tasks').select().order('nope')).error).toEqual(expected);
  });

  it('answers an embedded resource with PGRST200: the local stack knows no relationships', async () => {
    const { status, error } = await asViewerA.from('tasks').select('id, tenants(name)');
    expect(status).toBe(400);
    expect(error?.code).toBe('PGRST200');
    expect(error?.message).toBe(
      "Could not find a relationship between 'tasks' and 'tenants' in the schema cache",
    );
  });

  it('finds a table created after the stack started', async () => {
    await t.db.sql`create table public.rest_test_late (id integer primary key, label text)`;
    await t.db.sql`insert into public.rest_test_late values (1, 'late')`;
    const { data, error } = await asService.from('rest_test_late').select();
    expect(error).toBeNull();
    expect(data).toEqual([{ id: 1, label: 'late' }]);
  });

  it('answers a value of the wrong type with Postgres’s error (400)', async () => {
    const { status, error } = await asViewerA.from('tasks').select().eq('id', 'not-a-uuid');
    expect(status).toBe(400);
    expect(error).toMatchObject({
      code: '22P02',
      message: 'invalid input syntax for type uuid: "not-a-uuid"',
    });
  });

  it('answers an unknown operator with PGRST100 (400)', async () => {
    const { status, error } = await asViewerA
      .from('tasks')
      .select()
      .filter('priority', 'not.nope', 1);
    expect(status).toBe(400);
    expect(error?.code).toBe('PGRST100');
    expect(error?.details).toBe('unknown single value operator nope');
  });
});

describe('values are data, never SQL', () => {
  const injection = "'; drop table tasks; --";

  it('matches a SQL-looking value literally', async () => {
    const { data, error } = await asViewerA.from('tasks').select('priority').eq('error', injection);
    expect(error).toBeNull();
    expect(priorities(data)).toEqual([7]);
    const quoteTrick = await asViewerA
      .from('tasks')
      .select('priority')
      .eq('action', "x' or '1'='1");
    expect(quoteTrick.data).toEqual([]);
    const inList = await asViewerA
      .from('tasks')
      .select('priority')
      .in('error', [injection, '") or true; --'])
      .like('action', "%' or 1=1 --%");
    expect(inList.data).toEqual([]);
    const asRpcArg = await asOperatorA.rpc('reject_task', { p_task_id: "'; drop table tasks; --" });
    expect(asRpcArg.error?.code).toBe('22P02');
    expect(await taskCount()).toBeGreaterThan(0);
  });

  it('refuses a SQL-looking column name: unparsable, or an unknown column', async () => {
    const quoted = await asViewerA.from('tasks').select().eq('action"; drop table tasks; --', 'x');
    expect(quoted.status).toBe(400);
    expect(quoted.error?.code).toBe('PGRST100');
    // Spaces are legal in PostgREST field names: this one is a (missing) column.
    const spaced = await asViewerA.from('tasks').select().eq('drop table tasks', 'x');
    expect(spaced.status).toBe(400);
    expect(spaced.error).toMatchObject({
      code: '42703',
      message: 'column tasks.drop table tasks does not exist',
    });
    const ordered = await asViewerA.from('tasks').select().order('priority; drop table tasks');
    expect(ordered.status).toBe(400);
    expect(ordered.error?.code).toBe('PGRST100');
    const [row] = await t.db.sql`select to_regclass('public.tasks') is not null as exists`;
    expect(row!.exists).toBe(true);
  });
});

describe('paths and methods', () => {
  it('answers what PostgREST answers for paths and methods it does not serve', async () => {
    const nested = await rest('/tasks/extra');
    expect(nested.status).toBe(404);
    expect(await nested.json()).toMatchObject({ code: 'PGRST125' });

    const rpcPatch = await fetch(`${t.stack.apiUrl}/rest/v1/rpc/create_task`, {
      method: 'PATCH',
      headers: { apikey: t.stack.anonKey, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(rpcPatch.status).toBe(405);
    expect(await rpcPatch.json()).toMatchObject({
      code: 'PGRST101',
      message: 'Cannot use the PATCH method on RPC',
    });

    const badJson = await fetch(`${t.stack.apiUrl}/rest/v1/tasks`, {
      method: 'POST',
      headers: { apikey: t.stack.serviceRoleKey, 'content-type': 'application/json' },
      body: '{not json',
    });
    expect(badJson.status).toBe(400);
    expect(await badJson.json()).toMatchObject({ code: 'PGRST102' });
  });

  it('answers HEAD with the headers of GET and no body', async () => {
    const response = await fetch(`${t.stack.apiUrl}/rest/v1/tasks?select=id`, {
      method: 'HEAD',
      headers: {
        apikey: t.stack.anonKey,
        authorization: `Bearer ${await t.accessToken(viewerA)}`,
        prefer: 'count=exact',
        'accept-profile': 'public',
      },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-range')).toMatch(/^0-\d+\/\d+$/);
    expect(response.headers.get('content-profile')).toBe('public');
    expect(await response.text()).toBe('');
  });
});

describe('the gateway and the token', () => {
  const url = () => `${t.stack.apiUrl}/rest/v1/tasks?select=id`;

  it('wants an apikey header, and one of this stack', async () => {
    const missing = await fetch(url());
    expect(missing.status).toBe(401);
    expect(await missing.json()).toMatchObject({ message: 'No API key found in request' });

    const foreign = await fetch(url(), {
      headers: { apikey: 'eyJhbGciOiJIUzI1NiJ9.e30.c2lnbmF0dXJl' },
    });
    expect(foreign.status).toBe(401);
    expect(await foreign.json()).toMatchObject({ message: 'Invalid API key' });

    // A user's access token is a session, not one of the project's API keys.
    const userToken = await fetch(url(), { headers: { apikey: await t.accessToken(viewerA) } });
    expect(userToken.status).toBe(401);
    expect(await userToken.json()).toMatchObject({ message: 'Invalid API key' });
  });

  it('takes the apikey from the query too, and does not read it as a filter or an argument', async () => {
    const token = await t.accessToken(viewerA);
    const headers = { authorization: `Bearer ${token}` };
    const read = await fetch(`${url()}&limit=1&apikey=${t.stack.anonKey}`, { headers });
    expect(read.status).toBe(200);
    const call = await fetch(
      `${t.stack.apiUrl}/rest/v1/rpc/rest_test_echo?p_text=q&apikey=${t.stack.anonKey}`,
      { headers },
    );
    expect(call.status).toBe(200);
    expect(await call.json()).toEqual(['q#1', 'q#2']);
  });

  it('refuses a body over 8 MiB with 413 before reading it, changing nothing', async () => {
    const before = await t.db.sql`select count(*)::int as n from tasks`;
    const response = await fetch(`${t.stack.apiUrl}/rest/v1/tasks`, {
      method: 'POST',
      headers: {
        apikey: t.stack.serviceRoleKey,
        'content-type': 'application/json',
      },
      body: JSON.stringify({ action: 'x'.repeat(8 * 1024 * 1024) }),
    });
    expect(response.status).toBe(413);
    expect(await response.json()).toMatchObject({ message: expect.stringMatching(/larger than/) });
    expect(await t.db.sql`select count(*)::int as n from tasks`).toEqual(before);
  });

  it('refuses an expired token with PGRST303 and a tampered one with PGRST301', async () => {
    // Signed two hours ago: its one-hour lifetime is over.
    vi.useFakeTimers({ toFake: ['Date'] });
    let expired: string;
    try {
      vi.setSystemTime(Date.now() - 2 * 3600 * 1000);
      expired = await t.accessToken(viewerA);
    } finally {
      vi.useRealTimers();
    }
    const old = await rest('/tasks?select=id', { token: expired });
    expect(old.status).toBe(401);
    expect(old.headers.get('www-authenticate')).toBe(
      'Bearer error="invalid_token", error_description="JWT expired"',
    );
    expect(await old.json()).toEqual({
      code: 'PGRST303',
      message: 'JWT expired',
      details: null,
      hint: null,
    });

    const token = await t.accessToken(viewerA);
    const tampered = `${token.slice(0, -2)}${token.endsWith('AA') ? 'BB' : 'AA'}`;
    const bad = await rest('/tasks?select=id', { token: tampered });
    expect(bad.status).toBe(401);
    expect(await bad.json()).toMatchObject({ code: 'PGRST301' });

    const garbage = await rest('/tasks?select=id', { token: 'not-a-jwt' });
    expect(await garbage.json()).toMatchObject({
      code: 'PGRST301',
      message: 'Expected 3 parts in JWT; got 1',
    });
  });

  it('exposes only public: another profile is PGRST106 (406)', async () => {
    const response = await rest('/tasks?select=id', {
      headers: { 'accept-profile': 'omnilink' },
    });
    expect(response.status).toBe(406);
    expect(await response.json()).toEqual({
      code: 'PGRST106',
      message: 'Invalid schema: omnilink',
      details: null,
      hint: 'Only the following schemas are exposed: public',
    });
    const schema = await asService.schema('auth').from('users').select();
    expect(schema.error?.code).toBe('PGRST106');
  });

  it('answers a CORS preflight and exposes Content-Range to browsers', async () => {
    const preflight = await fetch(url(), {
      method: 'OPTIONS',
      headers: {
        origin: 'http://localhost:5173',
        'access-control-request-method': 'PATCH',
        'access-control-request-headers':
          'authorization, apikey, content-type, prefer, x-client-info',
      },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('*');
    const allowed = preflight.headers.get('access-control-allow-headers')!.split(',');
    for (const header of [
      'authorization',
      'apikey',
      'content-type',
      'prefer',
      'range',
      'accept-profile',
      'content-profile',
      'x-client-info',
    ])
      expect(allowed).toContain(header);
    expect(preflight.headers.get('access-control-allow-methods')).toContain('PATCH');

    const get = await rest('/tasks?select=id', { headers: { origin: 'http://localhost:5173' } });
    expect(get.headers.get('access-control-allow-origin')).toBe('*');
    expect(get.headers.get('access-control-expose-headers')).toContain('Content-Range');
  });
});
