import type { Sql } from '@omnihub/database';
import { createTestDatabase, type TestDatabase } from '@omnihub/database/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { anon, probeAs, serviceRole, signedIn, sqlState, type Actor, type Tx } from './as-role.ts';
import { arrangeWorld, type World } from './fixtures.ts';
import { countRows, listTables, qualifiedName, quotedName, type TableRef } from './tables.ts';

const SCHEMAS = ['public', 'omnilink'] as const;

/** The public tables and the column that says which tenant a row belongs to. */
const TENANT_TABLES = [
  ['tenants', 'id'],
  ['tenant_members', 'tenant_id'],
  ['tenant_settings', 'tenant_id'],
  ['integrations', 'tenant_id'],
  ['api_keys', 'tenant_id'],
  ['telemetry_events', 'tenant_id'],
  ['telemetry_event_rollups', 'tenant_id'],
  ['tasks', 'tenant_id'],
  ['task_attempts', 'tenant_id'],
  ['workers', 'tenant_id'],
  ['task_targets', 'tenant_id'],
  ['task_action_limits', 'tenant_id'],
  ['task_schedules', 'tenant_id'],
] as const;

const OMNILINK_TABLES = ['api_key_secrets', 'api_key_rate_windows'] as const;

let db: TestDatabase;
let sql: Sql;
let world: World;
let allTables: Awaited<ReturnType<typeof listTables>>;

beforeAll(async () => {
  db = await createTestDatabase();
  sql = db.sql;
  world = await arrangeWorld(sql);
  allTables = await listTables(sql, SCHEMAS);
});
afterAll(() => db.drop());

/** count(*) as the actor: a number, or 'denied' for SQLSTATE 42501; other errors fail the test. */
async function countAs(actor: Actor, table: TableRef): Promise<number | 'denied'> {
  const outcome = await probeAs(sql, actor, async (tx) => {
    const [row] = await tx.unsafe(`select count(*)::int as n from ${quotedName(table)}`);
    return row!.n as number;
  });
  if (outcome.ok) return outcome.value;
  if (outcome.code === '42501') return 'denied';
  throw new Error(`${qualifiedName(table)}: unexpected ${outcome.code} ${outcome.message}`);
}

describe('row level security is on', () => {
  it('lists the tables of public and omnilink, including every table the schema defines', () => {
    const names = allTables.map(qualifiedName);
    expect(names.length).toBeGreaterThan(0);
    expect(names).toEqual(
      expect.arrayContaining([
        ...TENANT_TABLES.map(([name]) => `public.${name}`),
        ...OMNILINK_TABLES.map((name) => `omnilink.${name}`),
      ]),
    );
  });

  it('has RLS enabled on every table in public and omnilink', () => {
    const withoutRls = allTables.filter((t) => !t.rowSecurity).map(qualifiedName);
    expect(withoutRls).toEqual([]);
  });

  it('covers every public table in the tenant isolation checks below', () => {
    const uncovered = allTables
      .filter((t) => t.schema === 'public' && !TENANT_TABLES.some(([name]) => name === t.name))
      .map(qualifiedName);
    expect(uncovered).toEqual([]);
  });
});

describe('reads', () => {
  it('has arranged rows in every table of public and omnilink', async () => {
    const empty: string[] = [];
    for (const table of allTables) {
      if ((await countRows(sql, table)) === 0) empty.push(qualifiedName(table));
    }
    expect(empty).toEqual([]);
  });

  it('has arranged rows of both tenants in every public table', async () => {
    const missing: string[] = [];
    for (const [name, tenantColumn] of TENANT_TABLES) {
      for (const tenant of [world.a, world.b]) {
        const [row] = await sql.unsafe(
          `select count(*)::int as n from public.${name} where ${tenantColumn} = $1`,
          [tenant.tenantId],
        );
        if (row!.n === 0) missing.push(`public.${name} of ${tenant.slug}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it('anon reads no row of any table in public or omnilink (refused or zero rows)', async () => {
    const seen: Record<string, number | 'denied'> = {};
    for (const table of allTables) seen[qualifiedName(table)] = await countAs(anon, table);
    const leaking = Object.entries(seen).filter(([, n]) => n !== 'denied' && n !== 0);
    expect(leaking).toEqual([]);
  });

  it('a signed-in user who is a member of no tenant reads zero rows from every public table', async () => {
    const seen: Record<string, number | 'denied'> = {};
    for (const table of allTables.filter((t) => t.schema === 'public')) {
      seen[qualifiedName(table)] = await countAs(signedIn(world.outsiderId), table);
    }
    const notEmpty = Object.entries(seen).filter(([, n]) => n !== 0);
    expect(notEmpty).toEqual([]);
  });

  it('a signed-in user who is a member of no tenant reads nothing from the omnilink tables', async () => {
    const seen: Record<string, number | 'denied'> = {};
    for (const table of allTables.filter((t) => t.schema === 'omnilink')) {
      seen[qualifiedName(table)] = await countAs(signedIn(world.outsiderId), table);
    }
    const leaking = Object.entries(seen).filter(([, n]) => n !== 'denied' && n !== 0);
    expect(leaking).toEqual([]);
  });

  it.each(TENANT_TABLES)(
    "a viewer of tenant A reads all of A's rows of public.%s and none of B's",
    async (name, tenantColumn) => {
      const outcome = await probeAs(sql, signedIn(world.a.users.viewer), (tx) =>
        tx.unsafe(`select ${tenantColumn}::text as tenant from public.${name}`),
      );
      if (!outcome.ok) throw new Error(`refused: ${outcome.code} ${outcome.message}`);
      const tenants = outcome.value.map((row) => row.tenant as string);
      const [expected] = await sql.unsafe(
        `select count(*)::int as n from public.${name} where ${tenantColumn} = $1`,
        [world.a.tenantId],
      );
      expect(expected!.n).toBeGreaterThan(0);
      expect(tenants).toHaveLength(expected!.n as number);
      expect(new Set(tenants)).toEqual(new Set([world.a.tenantId]));
    },
  );
});

// The probes below run in transactions that are always rolled back, so the
// SQLSTATE is what they assert.
describe('direct writes', () => {
  // Supabase grants ALL on public tables to the API roles by default; the
  // migrations must take that back, so even an admin writes only through RPCs.
  const statements = (table: string, tenantColumn: string) => ({
    insert: `insert into public.${table} default values`,
    update: `update public.${table} set ${tenantColumn} = ${tenantColumn}`,
    delete: `delete from public.${table}`,
    truncate: `truncate public.${table} cascade`,
  });

  it.each(TENANT_TABLES)(
    'an admin of tenant A cannot insert, update, delete or truncate public.%s (42501)',
    async (name, tenantColumn) => {
      const codes: Record<string, string> = {};
      for (const [verb, statement] of Object.entries(statements(name, tenantColumn))) {
        codes[verb] = sqlState(
          await probeAs(sql, signedIn(world.a.users.admin), (tx) => tx.unsafe(statement)),
        );
      }
      expect(codes).toEqual({
        insert: '42501',
        update: '42501',
        delete: '42501',
        truncate: '42501',
      });
    },
  );

  it('an admin of tenant A cannot insert a task for A directly, though the same row is valid', async () => {
    const insertTask = (tx: Tx) =>
      tx`insert into public.tasks (tenant_id, target, action) values (${world.a.tenantId}, 'lead-gen', 'direct')`;
    // Control: the row itself is fine, so a refusal below is the privilege check.
    expect(sqlState(await probeAs(sql, serviceRole, insertTask))).toBe('ok');
    expect(sqlState(await probeAs(sql, signedIn(world.a.users.admin), insertTask))).toBe('42501');
  });

  it('a viewer of tenant A cannot make itself an admin of tenant B by writing tenant_members', async () => {
    const outcome = await probeAs(
      sql,
      signedIn(world.a.users.viewer),
      (tx) =>
        tx`insert into public.tenant_members (tenant_id, user_id, role)
         values (${world.b.tenantId}, ${world.a.users.viewer}, 'admin')`,
    );
    expect(sqlState(outcome)).toBe('42501');
  });
});

/** A privilege refusal (schema, function or table), not an error raised inside the call. */
function expectPrivilegeRefusal(who: string, outcome: unknown): void {
  expect({ who, outcome }).toMatchObject({
    who,
    outcome: {
      ok: false,
      code: '42501',
      message: expect.stringMatching(/^permission denied for /),
    },
  });
}

describe('omnilink internals', () => {
  /** A valid call of each port function with tenant A's real key: only the privilege check can refuse it. */
  const PORT_CALLS: Record<string, (tx: Tx, w: World) => Promise<unknown>> = {
    port_authorize: (tx, w) =>
      tx`select omnilink.port_authorize(${w.a.key.keyId}, ${w.a.keyHash}, '{events:write}'::text[])`,
    port_emit_events: (tx, w) =>
      tx`select omnilink.port_emit_events(${w.a.key.keyId}, ${w.a.keyHash},
           ${tx.json([{ type: 'probe', idempotency_key: 'probe-1' }])})`,
    port_emit_event_requests: (tx, w) =>
      tx`select omnilink.port_emit_event_requests(${tx.json([
        {
          key_id: w.a.key.keyId,
          secret_sha256: w.a.keyHash,
          events: [{ type: 'probe', idempotency_key: 'probe-2' }],
        },
      ])}) -> 0 as port_emit_event_requests`,
    port_create_task: (tx, w) =>
      tx`select omnilink.port_create_task(${w.a.key.keyId}, ${w.a.keyHash},
           ${tx.json({ target: 'lead-gen', action: 'probe' })})`,
    port_claim_tasks: (tx, w) =>
      tx`select omnilink.port_claim_tasks(${w.a.key.keyId}, ${w.a.keyHash}, 'probe-worker', 1, 60, null, true)`,
    port_heartbeat: (tx, w) =>
      tx`select omnilink.port_heartbeat(${w.a.key.keyId}, ${w.a.keyHash}, ${w.a.runningTaskId}::uuid,
           ${w.a.workerId}, null, 60, null)`,
    port_complete_task: (tx, w) =>
      tx`select omnilink.port_complete_task(${w.a.key.keyId}, ${w.a.keyHash}, ${w.a.runningTaskId}::uuid,
           ${w.a.workerId}, null, 'succeeded', '{}'::jsonb, false, null, false)`,
    port_complete_tasks: (tx, w) =>
      tx`select omnilink.port_complete_tasks(${w.a.key.keyId}, ${w.a.keyHash}, ${w.a.workerId},
           ${tx.json([{ task_id: w.a.runningTaskId, status: 'succeeded' }])})`,
    port_release_claim: (tx, w) =>
      tx`select omnilink.port_release_claim(${w.a.key.keyId}, ${w.a.keyHash}, ${w.a.workerId}, '{}'::uuid[])`,
    port_whoami: (tx, w) => tx`select omnilink.port_whoami(${w.a.key.keyId}, ${w.a.keyHash})`,
    port_stats: (tx, w) => tx`select omnilink.port_stats(${w.a.key.keyId}, ${w.a.keyHash})`,
    port_get_task: (tx, w) =>
      tx`select omnilink.port_get_task(${w.a.key.keyId}, ${w.a.keyHash}, ${w.a.runningTaskId}::uuid)`,
    port_metrics: (tx, w) => tx`select omnilink.port_metrics(${w.a.key.keyId}, ${w.a.keyHash})`,
  };
  const portFunctions = Object.keys(PORT_CALLS);
  const apiActors = (w: World): [string, Actor][] => [
    ['anon', anon],
    ['a signed-in admin of tenant A', signedIn(w.a.users.admin)],
  ];

  it('knows every omnilink.port_* function', async () => {
    const rows = await sql`
      select p.proname from pg_proc p join pg_namespace n on n.oid = p.pronamespace
      where n.nspname = 'omnilink' and p.proname like 'port\_%' order by 1`;
    expect(rows.map((r) => r.proname as string)).toEqual([...portFunctions].sort());
  });

  it.each(portFunctions)(
    'the probe call of omnilink.%s works for service_role (control)',
    async (fn) => {
      const outcome = await probeAs(sql, serviceRole, (tx) => PORT_CALLS[fn]!(tx, world));
      if (!outcome.ok) throw new Error(`refused: ${outcome.code} ${outcome.message}`);
      // Executed and accepted: the key, the task and the worker in the call are all valid.
      const [row] = outcome.value as Record<string, unknown>[];
      expect(row![fn]).toBeTypeOf('object');
      expect(row![fn]).not.toHaveProperty('error');
    },
  );

  it.each(portFunctions)(
    'anon and signed-in users cannot execute omnilink.%s (42501)',
    async (fn) => {
      for (const [who, actor] of apiActors(world)) {
        const outcome = await probeAs(sql, actor, (tx) => PORT_CALLS[fn]!(tx, world));
        expectPrivilegeRefusal(who, outcome);
      }
    },
  );

  it.each(OMNILINK_TABLES)(
    'anon and signed-in users cannot read omnilink.%s (42501)',
    async (name) => {
      for (const [who, actor] of apiActors(world)) {
        const outcome = await probeAs(sql, actor, (tx) =>
          tx.unsafe(`select * from omnilink.${name}`),
        );
        expectPrivilegeRefusal(who, outcome);
      }
    },
  );

  it('only member_tenant_ids and uuid_v7 in omnilink are executable by anon or authenticated', async () => {
    const rows = await sql`
      select p.proname, has_function_privilege('anon', p.oid, 'execute') as anon,
             has_function_privilege('authenticated', p.oid, 'execute') as authenticated
      from pg_proc p join pg_namespace n on n.oid = p.pronamespace
      where n.nspname = 'omnilink'`;
    expect(rows.length).toBeGreaterThan(0);
    const executable = rows
      .filter((r) => r.anon || r.authenticated)
      .map((r) => `${r.proname as string}${r.anon ? ' (anon)' : ''}`)
      .sort();
    expect(executable).toEqual(['member_tenant_ids', 'uuid_v7']);
  });
});
