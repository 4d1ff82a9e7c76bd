import { createHash } from 'node:crypto';
import type { Sql } from '@omnihub/database';
import { ALL_SCOPES } from '@omnihub/contracts';
import { issueKey, type IssuedKey } from '@omnihub/database/testing';

export type MemberRole = 'viewer' | 'operator' | 'admin';

/** A value postgres.js's sql.json accepts. */
export type Json = Parameters<Sql['json']>[0];

export const sha256Hex = (text: string): string =>
  createHash('sha256').update(text, 'utf8').digest('hex');

/** The secret part of a plaintext key `omni.<key_id>.<secret>`. */
export function secretOf(apiKey: string): string {
  const match = /^omni\.[a-z0-9]+\.(.+)$/.exec(apiKey);
  if (!match) throw new Error('Not an OmniLink API key of the form omni.<key_id>.<secret>.');
  return match[1]!;
}

/** A Supabase Auth user, as a row in auth.users. */
export async function createUser(sql: Sql, email: string): Promise<string> {
  const [row] = await sql`insert into auth.users (email) values (${email}) returning id`;
  return row!.id as string;
}

export async function addMember(
  sql: Sql,
  tenantId: string,
  userId: string,
  role: MemberRole,
): Promise<void> {
  await sql`insert into public.tenant_members (tenant_id, user_id, role) values (${tenantId}, ${userId}, ${role})`;
}

/** Creates a task through the same function the port and the RPC use; returns its id. */
export async function insertTask(
  sql: Sql,
  tenantId: string,
  spec: { [field: string]: Json },
): Promise<string> {
  const fullSpec = { target: 'lead-gen', action: 'echo', ...spec };
  const [row] =
    await sql`select omnilink.insert_task(${tenantId}::uuid, ${sql.json(fullSpec)}) as r`;
  const result = row!.r as { status?: string; task?: { id: string }; message?: string };
  if (result.status !== 'created' || !result.task)
    throw new Error(`insert_task refused: ${result.message}`);
  return result.task.id;
}

/** Puts a task in the failed state a worker's final failure would leave it in. */
export async function failTask(sql: Sql, taskId: string): Promise<void> {
  await sql`
    update public.tasks set status = 'failed', error = 'boom', finished_at = now(), updated_at = now()
    where id = ${taskId}`;
}

export async function taskStatus(sql: Sql, taskId: string): Promise<string> {
  const [row] = await sql`select status from public.tasks where id = ${taskId}`;
  return row!.status as string;
}

export interface TenantFixture {
  slug: string;
  tenantId: string;
  integrationId: string;
  key: IssuedKey;
  /** SHA-256 hex of the key's secret: what the port passes to omnilink.port_*. */
  keyHash: string;
  workerId: string;
  /** Claimed by workerId, so task_attempts and workers have a row for this tenant. */
  runningTaskId: string;
  queuedTaskId: string;
  waitingTaskId: string;
  failedTaskId: string;
  users: Record<MemberRole, string>;
}

/**
 * A tenant with a row in every table: an integration and a rate-limited key
 * (so api_key_rate_windows gets a row), two events, a running task (claimed
 * through the port, giving an attempt and a worker), and a queued, a
 * waiting-for-approval and a failed task; plus one member of each role.
 */
export async function arrangeTenant(sql: Sql, slug: string): Promise<TenantFixture> {
  // Every scope, so each omnilink.port_* function accepts the key.
  const key = await issueKey(sql, {
    tenant: slug,
    source: 'lead-gen',
    maxRpm: 1000,
    scopes: ALL_SCOPES,
  });
  const keyHash = sha256Hex(secretOf(key.apiKey));

  const events = [1, 2].map((n) => ({
    type: 'lead_ingested',
    idempotency_key: `${slug}-event-${n}`,
    data: { n },
  }));
  const [emitted] =
    await sql`select omnilink.port_emit_events(${key.keyId}, ${keyHash}, ${sql.json(events)}) as r`;
  if ((emitted!.r as { created?: number }).created !== events.length) {
    throw new Error(`port_emit_events did not store the events: ${JSON.stringify(emitted!.r)}`);
  }

  const workerId = `${slug}-worker`;
  const runningTaskId = await insertTask(sql, key.tenantId, { priority: 10 });
  const [claim] = await sql`
    select omnilink.port_claim_tasks(${key.keyId}, ${keyHash}, ${workerId}, 1, 600, null, true) as r`;
  const claimed = (claim!.r as { tasks?: { id: string }[] }).tasks ?? [];
  if (claimed.length !== 1 || claimed[0]!.id !== runningTaskId) {
    throw new Error(`port_claim_tasks did not claim the task: ${JSON.stringify(claim!.r)}`);
  }

  const queuedTaskId = await insertTask(sql, key.tenantId, { priority: 1 });
  const waitingTaskId = await insertTask(sql, key.tenantId, { require_approval: true });
  const failedTaskId = await insertTask(sql, key.tenantId, {});
  await failTask(sql, failedTaskId);

  // The runner's switches: a paused target and a limited action.
  await sql`insert into public.task_targets (tenant_id, target, paused) values (${key.tenantId}, 'paused-target', true)`;
  await sql`
    insert into public.task_action_limits (tenant_id, target, action, max_running)
    values (${key.tenantId}, 'lead-gen', 'limited', 2)`;
  await sql`
    insert into public.task_schedules (tenant_id, name, cron, target, action)
    values (${key.tenantId}, 'nightly', '0 3 * * *', 'lead-gen', 'refresh_queue')`;

  const users = {} as Record<MemberRole, string>;
  for (const role of ['viewer', 'operator', 'admin'] as const) {
    users[role] = await createUser(sql, `${role}@${slug}.test`);
    await addMember(sql, key.tenantId, users[role], role);
  }

  return {
    slug,
    tenantId: key.tenantId,
    integrationId: key.integrationId,
    key,
    keyHash,
    workerId,
    runningTaskId,
    queuedTaskId,
    waitingTaskId,
    failedTaskId,
    users,
  };
}

export interface World {
  /** Tenant A: the callers' own tenant in the tests. */
  a: TenantFixture;
  /** Tenant B: the other tenant, whose rows must stay out of A's reach. */
  b: TenantFixture;
  /** Signed in, member of no tenant. */
  outsiderId: string;
}

export async function arrangeWorld(sql: Sql): Promise<World> {
  const a = await arrangeTenant(sql, 'acme');
  const b = await arrangeTenant(sql, 'globex');
  const outsiderId = await createUser(sql, 'outsider@nowhere.test');
  return { a, b, outsiderId };
}
