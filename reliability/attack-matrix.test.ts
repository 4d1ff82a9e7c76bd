import type { Agent } from 'node:http';
import { ALL_SCOPES, type Scope } from '@omnihub/contracts';
import type { IssuedKey } from '@omnihub/database/testing';
import { startTestStack, type TestStack } from '@omnihub/local-stack/testing';
import type { SupabaseClient } from '@supabase/supabase-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  arrangeWorld,
  insertTask,
  type TenantFixture,
  type World,
} from '../supabase/tests/fixtures.ts';
import {
  KEY_BOOKKEEPING,
  describeChanges,
  snapshotDatabase,
  type DatabaseState,
} from './support/database-state.ts';
import {
  checkErrorAnswer,
  clip,
  createAgent,
  sendRaw,
  type RawAnswer,
  type RawRequest,
} from './support/port-http.ts';
import {
  fillPath,
  loadOperations,
  sampleValue,
  type PortOperation,
  type SampleContext,
} from './support/port-operations.ts';
import {
  argumentSets,
  exposedFunctions,
  exposedRelations,
  rowIdsOf,
  type ExposedFunction,
  type ExposedRelation,
  type TenantTargets,
} from './support/postgrest-catalog.ts';
import { SeededRandom } from './support/seeded-random.ts';
import { findLeaks, tenantFingerprints } from './support/tenant-fingerprints.ts';

/**
 * The attack matrix: every port endpoint (from its OpenAPI document) with
 * every kind of bad credential and with another tenant's key, and every table,
 * view and RPC that supabase-js can reach (from pg_catalog) as anon, as a
 * member of another tenant and as a viewer → zero leaks (no answer holds a
 * value only another tenant's rows hold) and zero unauthorized changes (the
 * whole database compared after every probe).
 *
 * Tenant B ("globex") is the victim; tenant A ("acme") is the other tenant.
 */
let t: TestStack;
let agent: Agent;
let world: World;
let a: TenantFixture;
let b: TenantFixture;
let operations: PortOperation[];
let relations: ExposedRelation[];
let functions: ExposedFunction[];
let keys: { revoked: IssuedKey; expired: IssuedKey; otherLive: IssuedKey };
/** A task of B created with an idempotency key, which A then reuses. */
const B_TASK_IDEMPOTENCY_KEY = 'globex-task-key';
const B_EVENT_IDEMPOTENCY_KEY = 'globex-event-1';

beforeAll(async () => {
  // No background jobs: they would change rows while the database is being compared.
  t = await startTestStack({}, { leaseSweepMs: 3_600_000, scheduleTickMs: 3_600_000 });
  agent = createAgent(4);
  // Two tenants with a row in every table: events, a running task (held by
  // `<slug>-worker`), queued, waiting and failed tasks, members of each role.
  world = await arrangeWorld(t.db.sql);
  a = world.a;
  b = world.b;
  await t.createTask(b.key, {
    target: 'lead-gen',
    action: 'echo',
    idempotency_key: B_TASK_IDEMPOTENCY_KEY,
  });

  const sql = t.db.sql;
  const revoked = await t.issueKey({ tenant: b.slug, source: 'lead-gen', scopes: ALL_SCOPES });
  await sql`update public.api_keys set revoked_at = now() where key_id = ${revoked.keyId}`;
  // Issued valid, then made to have expired a minute ago.
  const expired = await t.issueKey({
    tenant: b.slug,
    source: 'lead-gen',
    scopes: ALL_SCOPES,
    expiresAt: new Date(Date.now() + 3_600_000),
  });
  await sql`update public.api_keys set expires_at = now() - interval '1 minute' where key_id = ${expired.keyId}`;
  const otherLive = await t.issueKey({ tenant: b.slug, source: 'lead-gen', scopes: ALL_SCOPES });
  keys = { revoked, expired, otherLive };

  operations = (await loadOperations(t.stack.portUrl)).filter((o) => o.scopes !== null);
  relations = await exposedRelations(sql);
  functions = await exposedFunctions(sql);
});

afterAll(async () => {
  agent?.destroy();
  await t?.close();
});

const secretOf = (key: IssuedKey): string => key.apiKey.split('.')[2]!;

/** B's task ids: running (held by B's worker), queued, waiting for approval, failed. */
const bTaskIds = () => [b.runningTaskId, b.queuedTaskId, b.waitingTaskId, b.failedTaskId];

/** A request B's own worker could send: B's running task, B's worker id, B's idempotency keys. */
function victimRequest(
  operation: PortOperation,
  options: { taskId?: string; optional?: number; idempotencyKey?: string; shape?: number } = {},
): RawRequest {
  const taskId = options.taskId ?? b.runningTaskId;
  const headers: Record<string, string> = {};
  let body: string | undefined;
  if (operation.bodies.length > 0) {
    const context: SampleContext = {
      taskId,
      workerId: b.workerId,
      source: b.key.source,
      idempotencyKey: () => options.idempotencyKey ?? `attack-${crypto.randomUUID()}`,
    };
    const shape = operation.bodies[options.shape ?? 0]!;
    body = JSON.stringify(sampleValue(shape, context, new SeededRandom(7), options.optional ?? 1));
    headers['content-type'] = 'application/json';
  }
  return { method: operation.method, path: fillPath(operation, taskId), headers, body };
}

const withKey = (request: RawRequest, authorization: string): RawRequest => ({
  ...request,
  headers: { ...request.headers, authorization },
});

/** Compares the database after each probe with the state before it; collects what changed. */
class ChangeWatch {
  private last!: DatabaseState;
  readonly changes: string[] = [];

  constructor(private readonly scope: { tenantId?: string } = {}) {}

  async start(): Promise<void> {
    this.last = await this.snapshot();
  }

  async check(probe: string): Promise<void> {
    const now = await this.snapshot();
    const lines = await describeChanges(t.db.sql, this.last, now);
    if (lines.length > 0) this.changes.push(`${probe}:\n  ${lines.join('\n  ')}`);
    this.last = now;
  }

  private snapshot(): Promise<DatabaseState> {
    return snapshotDatabase(t.db.sql, { exclude: KEY_BOOKKEEPING, ...this.scope });
  }
}

const describeAnswer = (answer: RawAnswer) =>
  `${answer.status} ${clip(answer.networkError ?? answer.text, 300)}`;

// -- The port --------------------------------------------------------------------

interface BadCredential {
  name: string;
  status: 401 | 403;
  /** The Authorization header for this operation, or null where the credential cannot exist. */
  authorization(operation: PortOperation): Promise<string | null>;
}

const missingScopeKeys = new Map<string, IssuedKey>();

/** A key of B with every scope except the ones the operation accepts (none exists for GET /whoami, which takes any). */
async function keyLacking(scopes: readonly Scope[]): Promise<IssuedKey | null> {
  const held = ALL_SCOPES.filter((s) => !scopes.includes(s));
  if (held.length === 0) return null;
  const name = held.join(',');
  if (!missingScopeKeys.has(name)) {
    missingScopeKeys.set(
      name,
      await t.issueKey({ tenant: b.slug, source: 'lead-gen', scopes: held }),
    );
  }
  return missingScopeKeys.get(name)!;
}

function changeChar(text: string, at: number): string {
  const index = at < 0 ? text.length + at : at;
  const replacement = text[index] === 'A' ? 'B' : 'A';
  return `${text.slice(0, index)}${replacement}${text.slice(index + 1)}`;
}

const BAD_CREDENTIALS: BadCredential[] = [
  {
    name: 'a revoked key',
    status: 401,
    authorization: async () => `Bearer ${keys.revoked.apiKey}`,
  },
  {
    name: 'an expired key',
    status: 401,
    authorization: async () => `Bearer ${keys.expired.apiKey}`,
  },
  {
    name: 'a key with every scope but the ones needed',
    status: 403,
    authorization: async (o) => {
      const key = await keyLacking(o.scopes!);
      return key && `Bearer ${key.apiKey}`;
    },
  },
  {
    name: "B's key with the first character of its secret changed",
    status: 401,
    authorization: async () => `Bearer omni.${b.key.keyId}.${changeChar(secretOf(b.key), 0)}`,
  },
  {
    name: "B's key with the last character of its secret changed",
    status: 401,
    authorization: async () => `Bearer omni.${b.key.keyId}.${changeChar(secretOf(b.key), -1)}`,
  },
  {
    name: "B's secret under another live key id of B",
    status: 401,
    authorization: async () => `Bearer omni.${keys.otherLive.keyId}.${secretOf(b.key)}`,
  },
  {
    name: "B's secret under tenant A's key id",
    status: 401,
    authorization: async () => `Bearer omni.${a.key.keyId}.${secretOf(b.key)}`,
  },
  {
    name: "B's secret under a key id that does not exist",
    status: 401,
    authorization: async () => `Bearer omni.nosuchkey0000.${secretOf(b.key)}`,
  },
];

describe('the port, every endpoint', () => {
  it('refuses every bad credential with 401 unauthorized or 403 permission_denied, changes nothing and leaks nothing', async () => {
    // Resolved first: issuing the missing-scope keys is arrangement, not a probe's doing.
    const probes: [PortOperation, BadCredential, string][] = [];
    for (const operation of operations) {
      for (const credential of BAD_CREDENTIALS) {
        const authorization = await credential.authorization(operation);
        if (authorization !== null) probes.push([operation, credential, authorization]);
      }
    }
    const problems: string[] = [];
    const watch = new ChangeWatch();
    await watch.start();
    const fingerprints = await tenantFingerprints(t.db.sql);
    for (const [operation, credential, authorization] of probes) {
      const request = withKey(victimRequest(operation), authorization);
      const answer = await sendRaw(t.stack.portUrl, agent, request);
      const label = `${operation.method} ${operation.path} with ${credential.name}`;
      const { problems: found, body } = checkErrorAnswer(answer, [credential.status]);
      if (credential.status === 403 && body) {
        const required = String(body.required_scope ?? '')
          .split(' or ')
          .sort();
        if (
          body.error !== 'permission_denied' ||
          required.join() !== [...operation.scopes!].sort().join()
        ) {
          found.push(
            `expected permission_denied with required_scope ${operation.scopes!.join(' or ')}`,
          );
        }
      }
      if (credential.status === 401 && body && body.error !== 'unauthorized') {
        found.push('expected error "unauthorized"');
      }
      const leaks = findLeaks(answer.text, fingerprints, [], JSON.stringify(request));
      if (leaks.length > 0) found.push(`leaks ${JSON.stringify(leaks)}`);
      if (found.length > 0)
        problems.push(`${label}: ${found.join('; ')} — answer ${describeAnswer(answer)}`);
      await watch.check(label);
    }
    console.log(
      `port × bad credentials: ${probes.length} probes over ${operations.length} endpoints`,
    );
    // Every credential on every endpoint, but the missing scope on GET /whoami (it takes any scope).
    expect(probes.length).toBeGreaterThanOrEqual(operations.length * BAD_CREDENTIALS.length - 1);
    expect.soft(problems).toEqual([]);
    expect.soft(watch.changes).toEqual([]);
  });

  it("with tenant A's key: 404 for each of B's task ids, nothing of B changed or leaked anywhere", async () => {
    const problems: string[] = [];
    // B's rows only: A's key may legitimately write A's rows (an event, a task).
    const watchB = new ChangeWatch({ tenantId: b.tenantId });
    await watchB.start();
    let probes = 0;
    for (const operation of operations) {
      const requests: [string, RawRequest, number[] | null][] = [];
      if (operation.pathParams.length > 0) {
        for (const taskId of bTaskIds())
          requests.push([`B's task ${taskId}`, victimRequest(operation, { taskId }), [404]]);
      } else if (operation.bodies.length > 0) {
        for (const shape of operation.bodies.keys())
          for (const optional of [0, 1])
            for (const key of [B_EVENT_IDEMPOTENCY_KEY, B_TASK_IDEMPOTENCY_KEY])
              requests.push([
                `shape ${shape}, ${optional ? 'every field' : 'required fields'}, idempotency key ${key}`,
                victimRequest(operation, { optional, idempotencyKey: key, shape }),
                null,
              ]);
      } else {
        requests.push(['', victimRequest(operation), null]);
      }
      for (const [what, unsigned, statuses] of requests) {
        // Fresh each time: what A's own requests created is A's, not B's.
        const fingerprints = await tenantFingerprints(t.db.sql);
        const request = withKey(unsigned, `Bearer ${a.key.apiKey}`);
        const answer = await sendRaw(t.stack.portUrl, agent, request);
        probes++;
        const label = `${operation.method} ${operation.path} ${what}`.trim();
        const found: string[] = [];
        // Where the contract fixes the status (a task id of B: 404) it is checked; elsewhere A's
        // key acts on A's own tenant, and an error must still be the contract's.
        if (statuses) found.push(...checkErrorAnswer(answer, statuses).problems);
        else if (answer.status === 0 || answer.status >= 400)
          found.push(...checkErrorAnswer(answer, [400, 403, 404, 409, 413]).problems);
        const leaks = findLeaks(answer.text, fingerprints, [a.tenantId], JSON.stringify(request));
        if (leaks.length > 0) found.push(`leaks ${JSON.stringify(leaks)}`);
        if (found.length > 0)
          problems.push(`${label}: ${found.join('; ')} — answer ${describeAnswer(answer)}`);
        await watchB.check(label);
      }
    }
    console.log(`port × tenant A's key: ${probes} probes`);
    expect(probes).toBeGreaterThan(operations.length);
    expect.soft(problems).toEqual([]);
    expect.soft(watchB.changes).toEqual([]);
  });
});

// -- supabase-js: tables, views and RPCs ---------------------------------------------

interface Actor {
  name: string;
  client: () => Promise<SupabaseClient>;
  /** Tenants whose data this actor may see. */
  allowed: () => string[];
  /** Tenants whose ids its writes and calls aim at. */
  targets: () => TenantFixture[];
}

const signedInAs = async (userId: string, email: string) =>
  t.supabaseAs(await t.accessToken({ id: userId, email }));

const ACTORS: Actor[] = [
  { name: 'anon', client: async () => t.supabase(), allowed: () => [], targets: () => [b] },
  {
    name: 'an admin of tenant A (not a member of B)',
    client: () => signedInAs(a.users.admin, `admin@${a.slug}.test`),
    allowed: () => [a.tenantId],
    targets: () => [b],
  },
  {
    name: 'a viewer of tenant B',
    client: () => signedInAs(b.users.viewer, `viewer@${b.slug}.test`),
    allowed: () => [b.tenantId],
    targets: () => [b, a],
  },
];

/** One row of `relation` belonging to `tenant`, as JSON (superuser read). */
async function rowOf(
  relation: ExposedRelation,
  tenantId: string,
): Promise<Record<string, unknown> | null> {
  const where = relation.tenantColumn ? `where t."${relation.tenantColumn}" = $1` : '';
  const [row] = await t.db.sql.unsafe<{ row: Record<string, unknown> }[]>(
    `select to_jsonb(t) as row from public."${relation.name}" t ${where} limit 1`,
    relation.tenantColumn ? [tenantId] : [],
  );
  return row?.row ?? null;
}

const errorText = (error: { code?: string; message?: string } | null) =>
  error ? `${error.code} ${error.message}` : 'no error';

describe('supabase-js, every table and view', () => {
  it.each(ACTORS.map((actor) => [actor.name, actor] as const))(
    '%s reads no row of a tenant it does not belong to',
    async (_name, actor) => {
      const client = await actor.client();
      const fingerprints = await tenantFingerprints(t.db.sql);
      const watch = new ChangeWatch();
      await watch.start();
      const problems: string[] = [];
      for (const relation of relations) {
        const { data, error } = await client.from(relation.name).select('*');
        if (error) continue; // refused: nothing read
        const foreign = relation.tenantColumn
          ? data.filter((row) => !actor.allowed().includes(String(row[relation.tenantColumn!])))
          : [];
        if (foreign.length > 0)
          problems.push(`${relation.name}: ${foreign.length} rows of other tenants`);
        const leaks = findLeaks(JSON.stringify(data), fingerprints, actor.allowed());
        if (leaks.length > 0)
          problems.push(`${relation.name}: leaks ${JSON.stringify(leaks.slice(0, 3))}`);
      }
      await watch.check('selects');
      expect(relations.length).toBeGreaterThan(0);
      expect.soft(problems).toEqual([]);
      expect.soft(watch.changes).toEqual([]);
    },
  );

  it.each(ACTORS.map((actor) => [actor.name, actor] as const))(
    '%s cannot insert, update or delete a row of any table, its own tenant included',
    async (_name, actor) => {
      const client = await actor.client();
      const watch = new ChangeWatch();
      await watch.start();
      const problems: string[] = [];
      let probes = 0;
      for (const relation of relations) {
        for (const target of actor.targets()) {
          const row = await rowOf(relation, target.tenantId);
          if (!row) throw new Error(`no row of ${target.slug} in ${relation.name} to aim at`);
          const keyColumns =
            relation.primaryKey.length > 0
              ? relation.primaryKey
              : [relation.tenantColumn ?? relation.columns[0]!];
          const key = Object.fromEntries(keyColumns.map((c) => [c, row[c]]));
          const column = relation.columns.find((c) => !relation.primaryKey.includes(c))!;
          const copy = {
            ...row,
            ...(relation.primaryKey.includes('id') ? { id: crypto.randomUUID() } : {}),
          };
          const writes = {
            insert: () => client.from(relation.name).insert(copy).select(),
            update: () =>
              client
                .from(relation.name)
                .update({ [column]: row[column] })
                .match(key)
                .select(),
            delete: () => client.from(relation.name).delete().match(key).select(),
          };
          for (const [verb, write] of Object.entries(writes)) {
            const { data, error } = await write();
            probes++;
            const label = `${verb} on ${relation.name} aimed at ${target.slug}`;
            // Refused, or (RLS hiding the row) nothing affected.
            if (!error && (data?.length ?? 0) > 0)
              problems.push(`${label}: affected ${data!.length} rows`);
            await watch.check(label);
          }
        }
      }
      console.log(`${actor.name}: ${probes} direct writes`);
      expect.soft(problems).toEqual([]);
      expect.soft(watch.changes).toEqual([]);
    },
  );
});

async function targetsOf(tenant: TenantFixture): Promise<TenantTargets> {
  return {
    tenantId: tenant.tenantId,
    integrationId: tenant.integrationId,
    keyId: tenant.key.keyId,
    taskIds: [tenant.runningTaskId, tenant.queuedTaskId, tenant.waitingTaskId, tenant.failedTaskId],
    rowIds: await rowIdsOf(t.db.sql, relations, tenant.tenantId),
  };
}

describe('supabase-js, every RPC', () => {
  it.each(ACTORS.map((actor) => [actor.name, actor] as const))(
    "%s gets a refusal or only its own tenants' data, and changes nothing",
    async (_name, actor) => {
      const client = await actor.client();
      const fingerprints = await tenantFingerprints(t.db.sql);
      const watch = new ChangeWatch();
      await watch.start();
      const problems: string[] = [];
      const outcomes: Record<string, number> = {};
      for (const fn of functions) {
        for (const target of actor.targets()) {
          for (const args of argumentSets(fn, await targetsOf(target))) {
            const { data, error } = await client.rpc(fn.name, args);
            const outcome = error ? `error ${error.code}` : 'ok';
            outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
            const label = `${fn.name}(${JSON.stringify(args)}) aimed at ${target.slug}`;
            // None of these actors may write to the tenant it aims at.
            if (fn.volatility === 'v' && !error)
              problems.push(`${label}: a write function answered ${JSON.stringify(data)}`);
            if (actor.name === 'anon' && !error) problems.push(`${label}: anon was not refused`);
            const leaks = findLeaks(
              JSON.stringify(data ?? error),
              fingerprints,
              actor.allowed(),
              JSON.stringify(args),
            );
            if (leaks.length > 0)
              problems.push(
                `${label}: leaks ${JSON.stringify(leaks.slice(0, 3))} (${errorText(error)})`,
              );
            await watch.check(label);
          }
        }
      }
      console.log(`${actor.name}: ${functions.length} RPCs, outcomes ${JSON.stringify(outcomes)}`);
      expect(functions.length).toBeGreaterThan(0);
      expect.soft(problems).toEqual([]);
      expect.soft(watch.changes).toEqual([]);
    },
  );
});

// -- Controls (last: they change rows) -------------------------------------------

describe('controls: the probes above would have seen a leak or a change', () => {
  it("B's viewer reads B's rows in every tenant table, and the scan finds B's values in them", async () => {
    const client = await signedInAs(b.users.viewer, `viewer@${b.slug}.test`);
    const fingerprints = await tenantFingerprints(t.db.sql);
    const empty: string[] = [];
    let seen = '';
    for (const relation of relations.filter((r) => r.tenantColumn)) {
      const { data, error } = await client.from(relation.name).select('*');
      if (error || data.length === 0) empty.push(relation.name);
      seen += JSON.stringify(data);
    }
    expect(empty).toEqual([]);
    // As A would see them: B's values are found.
    expect(findLeaks(seen, fingerprints, [a.tenantId]).length).toBeGreaterThan(10);
  });

  it("B's own good key carries out the requests the credentials were refused for", async () => {
    const statuses: Record<string, number> = {};
    for (const operation of operations) {
      // A running task of B's worker for each, so heartbeat and completions have one to act on.
      const taskId = await insertTask(t.db.sql, b.tenantId, { priority: 10, action: 'control' });
      await t.db.sql`
        select omnilink.port_claim_tasks(${b.key.keyId}, ${b.keyHash}, ${b.workerId}, 1, 600, null, true)`;
      const request = withKey(victimRequest(operation, { taskId }), `Bearer ${b.key.apiKey}`);
      statuses[`${operation.method} ${operation.path}`] = (
        await sendRaw(t.stack.portUrl, agent, request)
      ).status;
    }
    for (const [route, status] of Object.entries(statuses)) {
      expect({ route, ok: status >= 200 && status < 300 }).toEqual({ route, ok: true });
    }
  });

  // After the port's control: these calls switch B's port off and revoke its key.
  it('the argument sets are well-formed calls: as an admin of B, every RPC runs its own logic and every read succeeds', async () => {
    const client = await signedInAs(b.users.admin, `admin@${b.slug}.test`);
    const targets = await targetsOf(b);
    const problems: string[] = [];
    for (const fn of functions) {
      let succeeded = 0;
      for (const args of argumentSets(fn, targets)) {
        const { error } = await client.rpc(fn.name, args);
        if (!error) succeeded++;
        // Call-shape errors: no such function or overload, a value of the wrong type.
        else if (/^(PGRST20[0-9]|42883|42804|22P02|42P13)$/.test(error.code ?? ''))
          problems.push(`${fn.name}: ${errorText(error)}`);
      }
      // So "no leak" from a read function is not just a call that could never work.
      if (fn.volatility !== 'v' && succeeded === 0) problems.push(`${fn.name}: no call succeeded`);
    }
    expect(problems).toEqual([]);
  });
});
