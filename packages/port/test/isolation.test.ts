import type { IssuedKey } from '@omnihub/database/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPortHarness, type PortHarness } from './support.ts';

let h: PortHarness;
let a: IssuedKey;
let b: IssuedKey;

beforeAll(async () => {
  h = await startPortHarness();
  // The same source in two tenants: only the tenant separates them.
  a = await h.issueKey({ tenant: 'tenant-a', source: 'apex-sales' });
  b = await h.issueKey({ tenant: 'tenant-b', source: 'apex-sales' });
});
afterAll(() => h.close());

describe('tenant isolation', () => {
  it('a key of tenant A cannot read, claim, heartbeat or complete tenant B’s task', async () => {
    const created = await h.port.post('/tasks', b.apiKey, {
      target: 'apex-sales',
      action: 'call_lead',
    });
    const id = created.body.task.id as string;

    expect((await h.port.get(`/tasks/${id}`, a.apiKey)).status).toBe(404);
    expect(
      (await h.port.post('/tasks/claim', a.apiKey, { worker_id: 'a-worker', max_tasks: 100 })).body,
    ).toEqual({ tasks: [] });

    const claimedByB = await h.port.post('/tasks/claim', b.apiKey, {
      worker_id: 'shared-worker-id',
    });
    expect(claimedByB.body.tasks.map((t: { id: string }) => t.id)).toEqual([id]);

    // Even knowing the id and the worker id, A gets 404, and B's task is untouched.
    const heartbeat = await h.port.post(`/tasks/${id}/heartbeat`, a.apiKey, {
      worker_id: 'shared-worker-id',
    });
    expect(heartbeat.status).toBe(404);
    const complete = await h.port.post(`/tasks/${id}/complete`, a.apiKey, {
      worker_id: 'shared-worker-id',
      status: 'succeeded',
    });
    expect(complete.status).toBe(404);
    const [row] = await h.db.sql`select status, claimed_by from tasks where id = ${id}`;
    expect(row).toEqual({ status: 'running', claimed_by: 'shared-worker-id' });
  });

  it('a task created with tenant A’s key belongs to tenant A, whatever the body says', async () => {
    const created = await h.port.post('/tasks', a.apiKey, { target: 'apex-sales', action: 'x' });
    const [row] = await h.db.sql`select tenant_id from tasks where id = ${created.body.task.id}`;
    expect(row!.tenant_id).toBe(a.tenantId);
    const smuggled = await h.port.post('/tasks', a.apiKey, {
      target: 'apex-sales',
      action: 'x',
      tenant_id: b.tenantId,
    });
    expect(smuggled.status).toBe(400);
  });

  it('depends_on cannot point at another tenant’s task', async () => {
    const foreign = await h.port.post('/tasks', b.apiKey, { target: 'apex-sales', action: 'x' });
    const response = await h.port.post('/tasks', a.apiKey, {
      target: 'apex-sales',
      action: 'y',
      depends_on: [foreign.body.task.id],
    });
    expect(response.status).toBe(400);
    expect(response.body.issues).toEqual([
      { path: 'depends_on.0', message: 'no task with this id in your tenant' },
    ]);
  });

  it('events of tenant A are stored under A and never answered with B’s ids', async () => {
    const fromB = await h.port.post('/events', b.apiKey, {
      type: 'call_attempted',
      idempotency_key: 'same',
    });
    const fromA = await h.port.post('/events', a.apiKey, {
      type: 'call_attempted',
      idempotency_key: 'same',
    });
    expect(fromA.status).toBe(201);
    expect(fromA.body.id).not.toBe(fromB.body.id);
    const rows = await h.db.sql`select tenant_id from telemetry_events where id = ${fromA.body.id}`;
    expect(rows).toEqual([{ tenant_id: a.tenantId }]);
  });
});
