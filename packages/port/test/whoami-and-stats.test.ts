import { StatsResponse, WhoAmIResponse } from '@omnihub/contracts';
import type { IssuedKey } from '@omnihub/database/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPortHarness, type PortHarness } from './support.ts';

let h: PortHarness;
let key: IssuedKey;

beforeAll(async () => {
  h = await startPortHarness();
  key = await h.issueKey({ tenant: 'acme', source: 'apex-sales', maxRpm: 500 });
});
afterAll(() => h.close());

describe('GET /whoami', () => {
  it('describes the presented key: source, tenant, scopes, limit', async () => {
    const response = await h.port.get('/whoami', key.apiKey);
    expect(response.status).toBe(200);
    expect(WhoAmIResponse.parse(response.body)).toEqual({
      key_id: key.keyId,
      source: 'apex-sales',
      tenant: { id: key.tenantId, slug: 'acme', name: 'acme' },
      integration_id: key.integrationId,
      scopes: ['events:write', 'tasks:claim', 'tasks:complete', 'tasks:create'],
      max_rpm: 500,
      expires_at: null,
    });
  });

  it('answers any valid key, whatever its scopes, and refuses a bad one', async () => {
    const eventsOnly = await h.issueKey({
      tenant: 'acme',
      source: 'apex-sales',
      scopes: ['events:write'],
    });
    expect((await h.port.get('/whoami', eventsOnly.apiKey)).body.scopes).toEqual(['events:write']);
    expect((await h.port.get('/whoami', `omni.nosuchkey1.${'a'.repeat(43)}`)).status).toBe(401);
  });
});

describe('GET /stats', () => {
  it('counts the target’s tasks by status, recent finishes, the oldest ready task and live workers', async () => {
    const post = (body: Record<string, unknown>) =>
      h.port.post('/tasks', key.apiKey, { target: 'apex-sales', action: 'call_lead', ...body });
    await post({});
    await post({});
    await post({ require_approval: true });
    await post({ target: 'lead-gen' });
    const claimed = await h.port.post('/tasks/claim', key.apiKey, { worker_id: 'apex-1' });
    await h.port.post(`/tasks/${claimed.body.tasks[0].id}/complete`, key.apiKey, {
      worker_id: 'apex-1',
      status: 'succeeded',
    });
    await h.db
      .sql`update tasks set created_at = now() - interval '90 seconds' where status = 'queued' and target = 'apex-sales'`;

    const response = await h.port.get('/stats', key.apiKey);
    expect(response.status).toBe(200);
    const stats = StatsResponse.parse(response.body);
    expect(stats.target).toBe('apex-sales');
    expect(stats.tasks).toEqual({
      queued: 1,
      waiting_approval: 1,
      approved: 0,
      running: 0,
      succeeded: 1,
      failed: 0,
      canceled: 0,
    });
    expect(stats.finished_last_5m).toBe(1);
    expect(stats.oldest_ready_age_seconds).toBeGreaterThanOrEqual(90);
    expect(stats.workers.map((w) => w.worker_id)).toEqual(['apex-1']);
    expect(stats.paused).toBe(false);
    expect(stats.limits).toEqual([]);
  });

  it('shows the target paused and its action limits with how many run now, as the dashboard set them', async () => {
    const [queued] = await h.db.sql`
      select id from tasks where tenant_id = ${key.tenantId} and target = 'apex-sales' and status = 'queued'`;
    await h.db.sql`
      update tasks set status = 'running', attempts = 1, claimed_by = 'apex-2',
        lease_expires_at = now() + interval '1 minute'
      where id = ${queued!.id}`;
    await h.db.sql`
      insert into task_targets (tenant_id, target, paused) values (${key.tenantId}, 'apex-sales', true)`;
    await h.db.sql`
      insert into task_action_limits (tenant_id, target, action, max_running)
      values (${key.tenantId}, 'apex-sales', 'call_lead', 3), (${key.tenantId}, 'apex-sales', 'echo', 1),
             (${key.tenantId}, 'lead-gen', 'call_lead', 7)`;
    // Another target's switch is not this key's.
    await h.db.sql`
      insert into task_targets (tenant_id, target, paused) values (${key.tenantId}, 'lead-gen', false)`;

    const stats = StatsResponse.parse((await h.port.get('/stats', key.apiKey)).body);
    expect(stats.paused).toBe(true);
    expect(stats.limits).toEqual([
      { action: 'call_lead', max_running: 3, running: 1 },
      { action: 'echo', max_running: 1, running: 0 },
    ]);
    expect(stats.tasks.running).toBe(1);

    await h.db.sql`update task_targets set paused = false where tenant_id = ${key.tenantId}`;
    expect((await h.port.get('/stats', key.apiKey)).body.paused).toBe(false);
  });

  it('needs a tasks scope', async () => {
    const eventsOnly = await h.issueKey({
      tenant: 'acme',
      source: 'apex-sales',
      scopes: ['events:write'],
    });
    const response = await h.port.get('/stats', eventsOnly.apiKey);
    expect(response).toMatchObject({ status: 403, body: { error: 'permission_denied' } });
  });
});
