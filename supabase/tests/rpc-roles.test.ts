import { randomUUID } from 'node:crypto';
import type { Sql } from '@omnihub/database';
import { createTestDatabase, issueKey, type TestDatabase } from '@omnihub/database/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { anon, runAs, signedIn, sqlState, type Actor, type Tx } from './as-role.ts';
import {
  arrangeWorld,
  failTask,
  insertTask,
  sha256Hex,
  taskStatus,
  type Json,
  type TenantFixture,
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

/** The ids an RPC acts on, all in one tenant; fresh for each test so a success cannot spoil the next. */
interface Targets {
  tenantId: string;
  integrationId: string;
  keyId: string;
  waitingTaskId: string;
  queuedTaskId: string;
  failedTaskId: string;
  scheduleId: string;
  /** Unused source and action names, so a created row is recognisable. */
  newSource: string;
  newAction: string;
}

let targetCount = 0;

async function freshTargets(tenant: TenantFixture): Promise<Targets> {
  const n = ++targetCount;
  const key = await issueKey(sql, { tenant: tenant.slug, source: `rpc-${n}` });
  const failedTaskId = await insertTask(sql, tenant.tenantId, {});
  await failTask(sql, failedTaskId);
  const [schedule] = await sql`
    insert into public.task_schedules (tenant_id, name, cron, target, action)
    values (${tenant.tenantId}, ${`schedule-${n}`}, '*/5 * * * *', 'lead-gen', 'echo')
    returning id`;
  return {
    scheduleId: schedule!.id as string,
    tenantId: tenant.tenantId,
    integrationId: key.integrationId,
    keyId: key.keyId,
    waitingTaskId: await insertTask(sql, tenant.tenantId, { require_approval: true }),
    queuedTaskId: await insertTask(sql, tenant.tenantId, {}),
    failedTaskId,
    newSource: `new-source-${n}`,
    newAction: `new-action-${n}`,
  };
}

/** Ids that exist nowhere: what a caller probing blindly would send. */
function missingTargets(): Targets {
  return {
    tenantId: randomUUID(),
    integrationId: randomUUID(),
    keyId: 'nosuchkey00',
    waitingTaskId: randomUUID(),
    queuedTaskId: randomUUID(),
    failedTaskId: randomUUID(),
    scheduleId: randomUUID(),
    newSource: 'new-source-missing',
    newAction: 'new-action-missing',
  };
}

const uuidArray = (ids: readonly string[]): string => `{${ids.join(',')}}`;

function callCreateTask(
  tx: Tx,
  args: {
    tenantId: string;
    target?: string;
    action?: string;
    payload?: Json;
    priority?: number;
    dependsOn?: readonly string[];
  },
) {
  return tx`
    select public.create_task(
      p_tenant_id => ${args.tenantId}::uuid,
      p_target => ${args.target ?? 'lead-gen'}::text,
      p_action => ${args.action ?? 'echo'}::text,
      p_payload => ${tx.json(args.payload ?? {})}::jsonb,
      p_priority => ${args.priority ?? 5}::integer,
      p_depends_on => ${uuidArray(args.dependsOn ?? [])}::uuid[]
    ) as r`;
}

interface RpcCase {
  name: string;
  minRole: 'operator' | 'admin';
  call: (tx: Tx, t: Targets) => Promise<unknown>;
  /** Asserts, as the superuser, that the call did its job on t for this caller. */
  checkEffect: (t: Targets, callerId: string) => Promise<void>;
}

const RPCS: RpcCase[] = [
  {
    name: 'set_omnilink_enabled',
    minRole: 'admin',
    call: (tx, t) => tx`select public.set_omnilink_enabled(${t.tenantId}::uuid, false)`,
    checkEffect: async (t, callerId) => {
      const rows = await sql`
        select omnilink_enabled, updated_by from public.tenant_settings where tenant_id = ${t.tenantId}`;
      expect(rows).toEqual([{ omnilink_enabled: false, updated_by: callerId }]);
      // Leave the switch on for the tests that follow.
      await sql`update public.tenant_settings set omnilink_enabled = true where tenant_id = ${t.tenantId}`;
    },
  },
  {
    name: 'create_integration',
    minRole: 'admin',
    call: (tx, t) => tx`select public.create_integration(${t.tenantId}::uuid, ${t.newSource})`,
    checkEffect: async (t, callerId) => {
      const rows = await sql`
        select created_by from public.integrations where tenant_id = ${t.tenantId} and source = ${t.newSource}`;
      expect(rows).toEqual([{ created_by: callerId }]);
    },
  },
  {
    name: 'create_api_key',
    minRole: 'admin',
    call: (tx, t) =>
      tx`select public.create_api_key(${t.integrationId}::uuid, '{tasks:create}'::text[])`,
    checkEffect: async (t, callerId) => {
      const rows = await sql`
        select scopes::text as scopes from public.api_keys
        where integration_id = ${t.integrationId} and created_by = ${callerId}`;
      expect(rows).toEqual([{ scopes: '{tasks:create}' }]);
    },
  },
  {
    name: 'revoke_api_key',
    minRole: 'admin',
    call: (tx, t) => tx`select public.revoke_api_key(${t.keyId})`,
    checkEffect: async (t, callerId) => {
      const [row] = await sql`
        select revoked_at is not null as revoked, revoked_by from public.api_keys where key_id = ${t.keyId}`;
      expect(row).toEqual({ revoked: true, revoked_by: callerId });
    },
  },
  {
    name: 'create_task',
    minRole: 'operator',
    call: (tx, t) => callCreateTask(tx, { tenantId: t.tenantId, action: t.newAction }),
    checkEffect: async (t, callerId) => {
      const rows = await sql`
        select status, created_by from public.tasks where tenant_id = ${t.tenantId} and action = ${t.newAction}`;
      expect(rows).toEqual([{ status: 'queued', created_by: callerId }]);
    },
  },
  {
    name: 'create_task_chain',
    minRole: 'operator',
    call: (tx, t) => {
      const step = { target: 'lead-gen', action: t.newAction };
      return tx`select public.create_task_chain(${t.tenantId}::uuid, ${tx.json([step, step])}::jsonb)`;
    },
    checkEffect: async (t, callerId) => {
      const rows = await sql`
        select cardinality(depends_on) as deps, created_by from public.tasks
        where tenant_id = ${t.tenantId} and action = ${t.newAction} order by cardinality(depends_on)`;
      expect(rows).toEqual([
        { deps: 0, created_by: callerId },
        { deps: 1, created_by: callerId },
      ]);
    },
  },
  {
    name: 'approve_task',
    minRole: 'operator',
    call: (tx, t) => tx`select public.approve_task(${t.waitingTaskId}::uuid)`,
    checkEffect: async (t, callerId) => {
      const [row] =
        await sql`select status, approved_by from public.tasks where id = ${t.waitingTaskId}`;
      expect(row).toEqual({ status: 'approved', approved_by: callerId });
    },
  },
  {
    name: 'reject_task',
    minRole: 'operator',
    call: (tx, t) => tx`select public.reject_task(${t.waitingTaskId}::uuid, 'not now')`,
    checkEffect: async (t) => {
      const [row] = await sql`select status, error from public.tasks where id = ${t.waitingTaskId}`;
      expect(row).toEqual({ status: 'canceled', error: 'rejected: not now' });
    },
  },
  {
    name: 'cancel_task',
    minRole: 'operator',
    call: (tx, t) => tx`select public.cancel_task(${t.queuedTaskId}::uuid, 'stop')`,
    checkEffect: async (t) => {
      const [row] = await sql`select status, error from public.tasks where id = ${t.queuedTaskId}`;
      expect(row).toEqual({ status: 'canceled', error: 'canceled: stop' });
    },
  },
  {
    name: 'retry_task',
    minRole: 'operator',
    call: (tx, t) => tx`select public.retry_task(${t.failedTaskId}::uuid)`,
    checkEffect: async (t) => {
      const [row] =
        await sql`select status, attempts, error from public.tasks where id = ${t.failedTaskId}`;
      expect(row).toEqual({ status: 'queued', attempts: 0, error: null });
    },
  },
  {
    name: 'retry_tasks',
    minRole: 'operator',
    call: (tx, t) =>
      tx`select public.retry_tasks(${t.tenantId}::uuid, ${`{${t.failedTaskId}}`}::uuid[])`,
    checkEffect: async (t) => {
      const [row] =
        await sql`select status, attempts, error from public.tasks where id = ${t.failedTaskId}`;
      expect(row).toEqual({ status: 'queued', attempts: 0, error: null });
    },
  },
  {
    name: 'set_target_paused',
    minRole: 'operator',
    call: (tx, t) => tx`select public.set_target_paused(${t.tenantId}::uuid, ${t.newAction}, true)`,
    checkEffect: async (t, callerId) => {
      const rows = await sql`
        select paused, updated_by from public.task_targets
        where tenant_id = ${t.tenantId} and target = ${t.newAction}`;
      expect(rows).toEqual([{ paused: true, updated_by: callerId }]);
    },
  },
  {
    name: 'set_action_limit',
    minRole: 'admin',
    call: (tx, t) =>
      tx`select public.set_action_limit(${t.tenantId}::uuid, 'lead-gen', ${t.newAction}, 3)`,
    checkEffect: async (t, callerId) => {
      const rows = await sql`
        select max_running, updated_by from public.task_action_limits
        where tenant_id = ${t.tenantId} and target = 'lead-gen' and action = ${t.newAction}`;
      expect(rows).toEqual([{ max_running: 3, updated_by: callerId }]);
    },
  },
  {
    name: 'save_schedule',
    minRole: 'operator',
    call: (tx, t) =>
      tx`select public.save_schedule(${t.tenantId}::uuid, null, ${t.newAction}, '@daily', 'UTC', 'lead-gen', ${t.newAction})`,
    checkEffect: async (t, callerId) => {
      const rows = await sql`
        select cron, action, created_by from public.task_schedules
        where tenant_id = ${t.tenantId} and name = ${t.newAction}`;
      expect(rows).toEqual([{ cron: '@daily', action: t.newAction, created_by: callerId }]);
    },
  },
  {
    name: 'set_schedule_enabled',
    minRole: 'operator',
    call: (tx, t) => tx`select public.set_schedule_enabled(${t.scheduleId}::uuid, false)`,
    checkEffect: async (t, callerId) => {
      const [row] =
        await sql`select enabled, updated_by from public.task_schedules where id = ${t.scheduleId}`;
      expect(row).toEqual({ enabled: false, updated_by: callerId });
    },
  },
  {
    name: 'delete_schedule',
    minRole: 'operator',
    call: (tx, t) => tx`select public.delete_schedule(${t.scheduleId}::uuid)`,
    checkEffect: async (t) => {
      expect(await sql`select 1 from public.task_schedules where id = ${t.scheduleId}`).toEqual([]);
    },
  },
];

/** [name, case] pairs, so test names read `calling create_task` rather than quoting the name. */
const named = (cases: RpcCase[]) => cases.map((rpc) => [rpc.name, rpc] as const);
const ALL = named(RPCS);
const OPERATOR_RPCS = named(RPCS.filter((rpc) => rpc.minRole === 'operator'));
const ADMIN_ONLY_RPCS = named(RPCS.filter((rpc) => rpc.minRole === 'admin'));

/** Calls the RPC as the actor (committing, as PostgREST would) and returns the outcome and whether any row changed. */
async function callAndCompare(actor: Actor, rpc: RpcCase, t: Targets) {
  const before = await dumpTables(sql, tables);
  const outcome = await runAs(sql, actor, (tx) => rpc.call(tx, t));
  const after = await dumpTables(sql, tables);
  return { outcome, before, after };
}

it('covers every mutation RPC the schema grants to authenticated', async () => {
  // Mutations are volatile; the dashboard's read functions (stable, security invoker) are tested elsewhere.
  const rows = await sql`
    select p.proname from pg_proc p join pg_namespace n on n.oid = p.pronamespace
    where n.nspname = 'public' and has_function_privilege('authenticated', p.oid, 'execute')
      and p.provolatile = 'v'
    order by 1`;
  expect(rows.map((r) => r.proname as string)).toEqual(RPCS.map((rpc) => rpc.name).sort());
});

describe('viewer', () => {
  it.each(ALL)('a viewer calling %s gets 42501 and nothing changes', async (_name, rpc) => {
    const t = await freshTargets(world.a);
    const { outcome, before, after } = await callAndCompare(signedIn(world.a.users.viewer), rpc, t);
    // The role check's own refusal, not some other permission problem.
    expect(outcome).toMatchObject({
      ok: false,
      code: '42501',
      message: `This action needs the ${rpc.minRole} role in this tenant; you are viewer.`,
    });
    expect(after).toEqual(before);
  });
});

describe('operator', () => {
  it.each(OPERATOR_RPCS)('an operator can call %s', async (_name, rpc) => {
    const t = await freshTargets(world.a);
    const outcome = await runAs(sql, signedIn(world.a.users.operator), (tx) => rpc.call(tx, t));
    expect(outcome).toMatchObject({ ok: true });
    await rpc.checkEffect(t, world.a.users.operator);
  });

  it.each(ADMIN_ONLY_RPCS)(
    'an operator calling %s gets 42501 and nothing changes',
    async (_name, rpc) => {
      const t = await freshTargets(world.a);
      const { outcome, before, after } = await callAndCompare(
        signedIn(world.a.users.operator),
        rpc,
        t,
      );
      expect(outcome).toMatchObject({
        ok: false,
        code: '42501',
        message: 'This action needs the admin role in this tenant; you are operator.',
      });
      expect(after).toEqual(before);
    },
  );
});

describe('admin', () => {
  it.each(ALL)('an admin can call %s', async (_name, rpc) => {
    const t = await freshTargets(world.a);
    const outcome = await runAs(sql, signedIn(world.a.users.admin), (tx) => rpc.call(tx, t));
    expect(outcome).toMatchObject({ ok: true });
    await rpc.checkEffect(t, world.a.users.admin);
  });

  async function createKeyAsAdmin(t: Targets): Promise<{ api_key: string; key_id: string }> {
    const outcome = await runAs(sql, signedIn(world.a.users.admin), async (tx) => {
      const [row] = await tx`
        select public.create_api_key(${t.integrationId}::uuid, '{events:write}'::text[]) as r`;
      return row!.r as { api_key: string; key_id: string };
    });
    if (!outcome.ok) throw new Error(`create_api_key refused: ${outcome.code} ${outcome.message}`);
    return outcome.value;
  }

  it('create_api_key returns api_key omni.<key_id>.<secret> with a secret of at least 32 characters', async () => {
    const t = await freshTargets(world.a);
    const created = await createKeyAsAdmin(t);
    const match = /^omni\.([a-z0-9]{8,32})\.([A-Za-z0-9_-]+)$/.exec(created.api_key);
    expect(match).not.toBeNull();
    expect(match![1]).toBe(created.key_id);
    expect(match![2]!.length).toBeGreaterThanOrEqual(32);
  });

  it('the key create_api_key returns is accepted by the port', async () => {
    const t = await freshTargets(world.a);
    const created = await createKeyAsAdmin(t);
    const secret = created.api_key.split('.')[2]!;
    const [row] = await sql`
      select omnilink.port_authorize(${created.key_id}, ${sha256Hex(secret)}, '{events:write}'::text[]) as r`;
    expect(row!.r).toMatchObject({ tenant_id: world.a.tenantId, integration_id: t.integrationId });
    expect(row!.r).not.toHaveProperty('error');
  });

  it('revoke_api_key sets revoked_at, after which the port refuses the key', async () => {
    const t = await freshTargets(world.a);
    const created = await createKeyAsAdmin(t);
    const revoked = await runAs(sql, signedIn(world.a.users.admin), async (tx) => {
      const [row] = await tx`select (public.revoke_api_key(${created.key_id})).revoked_at`;
      return row!.revoked_at as Date | null;
    });
    expect(revoked).toMatchObject({ ok: true, value: expect.any(Date) });
    const [stored] =
      await sql`select revoked_at from public.api_keys where key_id = ${created.key_id}`;
    expect(stored!.revoked_at).toBeInstanceOf(Date);
    const secret = created.api_key.split('.')[2]!;
    const [row] = await sql`
      select omnilink.port_authorize(${created.key_id}, ${sha256Hex(secret)}, '{events:write}'::text[]) as r`;
    expect(row!.r).toMatchObject({ error: 'unauthorized' });
  });
});

describe("another tenant's ids", () => {
  const callers = (w: World): [string, string][] => [
    ['viewer', w.a.users.viewer],
    ['admin', w.a.users.admin],
  ];

  it.each(ALL)(
    "a member of tenant A calling %s on tenant B's ids gets PT404 Not found. and nothing changes",
    async (_name, rpc) => {
      const t = await freshTargets(world.b);
      for (const [role, userId] of callers(world)) {
        const { outcome, before, after } = await callAndCompare(signedIn(userId), rpc, t);
        expect({ role, outcome }).toMatchObject({
          role,
          outcome: { ok: false, code: 'PT404', message: 'Not found.' },
        });
        expect(after).toEqual(before);
      }
    },
  );

  it.each(ALL)(
    "%s answers ids that exist nowhere exactly as it answers tenant B's: PT404 Not found.",
    async (_name, rpc) => {
      const outcome = await runAs(sql, signedIn(world.a.users.admin), (tx) =>
        rpc.call(tx, missingTargets()),
      );
      expect(outcome).toEqual({ ok: false, code: 'PT404', message: 'Not found.' });
    },
  );
});

describe('anon', () => {
  it.each(ALL)('anon calling %s is refused with 42501 and nothing changes', async (_name, rpc) => {
    const t = await freshTargets(world.a);
    const { outcome, before, after } = await callAndCompare(anon, rpc, t);
    // Refused by the missing EXECUTE grant, before require_role's own 42501 could run.
    expect(outcome).toMatchObject({
      ok: false,
      code: '42501',
      message: `permission denied for function ${rpc.name}`,
    });
    expect(after).toEqual(before);
  });
});

describe('create_task input', () => {
  const badInputs: {
    problem: string;
    field: string;
    args: (w: World) => Parameters<typeof callCreateTask>[1];
  }[] = [
    {
      problem: 'priority 0',
      field: 'priority',
      args: (w) => ({ tenantId: w.a.tenantId, priority: 0 }),
    },
    {
      problem: 'a target with capitals and spaces',
      field: 'target',
      args: (w) => ({ tenantId: w.a.tenantId, target: 'Lead Gen' }),
    },
    {
      problem: 'a payload that is an array',
      field: 'payload',
      args: (w) => ({ tenantId: w.a.tenantId, payload: [1, 2] }),
    },
    {
      problem: 'a payload that is a string',
      field: 'payload',
      args: (w) => ({ tenantId: w.a.tenantId, payload: 'hi' }),
    },
    {
      problem: 'an unknown depends_on id',
      field: 'depends_on',
      args: (w) => ({ tenantId: w.a.tenantId, dependsOn: [randomUUID()] }),
    },
    {
      problem: "a depends_on id of tenant B's task",
      field: 'depends_on',
      args: (w) => ({ tenantId: w.a.tenantId, dependsOn: [w.b.queuedTaskId] }),
    },
  ];

  it.each(badInputs)(
    'create_task with $problem raises 22023 naming $field and creates nothing',
    async ({ field, args }) => {
      const before = await dumpTables(sql, tables);
      const outcome = await runAs(sql, signedIn(world.a.users.operator), (tx) =>
        callCreateTask(tx, args(world)),
      );
      expect(outcome).toMatchObject({
        ok: false,
        code: '22023',
        message: expect.stringContaining(field),
      });
      expect(await dumpTables(sql, tables)).toEqual(before);
    },
  );

  it('create_task with the same arguments but valid ones succeeds (control for the cases above)', async () => {
    const outcome = await runAs(sql, signedIn(world.a.users.operator), (tx) =>
      callCreateTask(tx, {
        tenantId: world.a.tenantId,
        priority: 1,
        payload: { ok: true },
        dependsOn: [world.a.queuedTaskId],
      }),
    );
    expect(outcome).toMatchObject({ ok: true });
  });
});

describe('task state', () => {
  it('approve_task on a task that is not waiting for approval raises PT409 and leaves it as it was', async () => {
    const t = await freshTargets(world.a);
    const outcome = await runAs(
      sql,
      signedIn(world.a.users.operator),
      (tx) => tx`select public.approve_task(${t.queuedTaskId}::uuid)`,
    );
    expect(sqlState(outcome)).toBe('PT409');
    expect(await taskStatus(sql, t.queuedTaskId)).toBe('queued');
  });
});
