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
