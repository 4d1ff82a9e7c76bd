import { METRICS_CONTENT_TYPE } from '@omnihub/contracts';
import type { IssuedKey } from '@omnihub/database/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePrometheusText, sampleValue, type ParsedFamily } from './prometheus-text.ts';
import { startPortHarness, type PortHarness } from './support.ts';

let h: PortHarness;
let apex: IssuedKey;
let leadGen: IssuedKey;
let metricsKey: IssuedKey;
let globex: IssuedKey;

const STATUSES = [
  'queued',
  'waiting_approval',
  'approved',
  'running',
  'succeeded',
  'failed',
  'canceled',
];

/** GET /metrics over real HTTP; the body is text, so the JSON client of support.ts does not fit. */
async function scrape(key?: string) {
  const response = await fetch(`${h.http!.server.baseUrl}/metrics`, {
    headers: key ? { authorization: `Bearer ${key}` } : {},
  });
  return {
    status: response.status,
    contentType: response.headers.get('content-type'),
    text: await response.text(),
  };
}

async function families(key = metricsKey.apiKey): Promise<Map<string, ParsedFamily>> {
  const response = await scrape(key);
  expect(response.status, response.text).toBe(200);
  return parsePrometheusText(response.text);
}

const labelsOf = (family: ParsedFamily | undefined) => (family?.samples ?? []).map((s) => s.labels);

beforeAll(async () => {
  h = await startPortHarness({ http: true });
  apex = await h.issueKey({ tenant: 'acme', source: 'apex-sales' });
  leadGen = await h.issueKey({ tenant: 'acme', source: 'lead-gen' });
  metricsKey = await h.issueKey({ tenant: 'acme', source: 'lead-gen', scopes: ['metrics:read'] });
  globex = await h.issueKey({ tenant: 'globex', source: 'apex-sales' });
  const port = h.http!.client;

  // acme, apex-sales: 1 queued, 1 waiting_approval, 1 running, 1 succeeded, 1 failed.
  for (let i = 0; i < 4; i++) {
    await port.post('/tasks', apex.apiKey, { target: 'apex-sales', action: 'call_lead' });
  }
  await port.post('/tasks', apex.apiKey, {
    target: 'apex-sales',
    action: 'call_lead',
    require_approval: true,
  });
  const claimed = await port.post('/tasks/claim', apex.apiKey, {
    worker_id: 'apex-1',
    max_tasks: 3,
  });
  const [toSucceed, toFail] = claimed.body.tasks as { id: string }[];
  await port.post(`/tasks/${toSucceed!.id}/complete`, apex.apiKey, {
    worker_id: 'apex-1',
    status: 'succeeded',
  });
  await port.post(`/tasks/${toFail!.id}/complete`, apex.apiKey, {
    worker_id: 'apex-1',
    status: 'failed',
    retryable: false,
  });
  // A worker last seen two minutes ago is not online.
  await port.post('/tasks/claim', apex.apiKey, { worker_id: 'apex-gone', actions: ['nothing'] });
  await h.db
    .sql`update workers set last_seen_at = now() - interval '2 minutes' where worker_id = 'apex-gone'`;
  await h.db.sql`update tasks set created_at = now() - interval '90 seconds'
    where target = 'apex-sales' and status = 'queued'`;

  // acme, lead-gen: 1 queued, 1 canceled; one worker online that took nothing.
  await port.post('/tasks', apex.apiKey, { target: 'lead-gen', action: 'scrape' });
  const doomed = await port.post('/tasks', apex.apiKey, { target: 'lead-gen', action: 'scrape' });
  await h.db.sql`update tasks set status = 'canceled', finished_at = now()
    where id = ${doomed.body.task.id}`;
  await port.post('/tasks/claim', leadGen.apiKey, { worker_id: 'lead-1', actions: ['nothing'] });

  // acme: a paused target that has no tasks yet.
  await h.db
    .sql`insert into task_targets (tenant_id, target, paused) values (${apex.tenantId}, 'billing', true)`;

  // acme events: 3 call_attempted (one sent twice), 1 call_connected, 2 lead_ingested.
  await port.post('/events', apex.apiKey, {
    events: [
      { type: 'call_attempted', idempotency_key: 'a1' },
      { type: 'call_attempted', idempotency_key: 'a2' },
      { type: 'call_attempted', idempotency_key: 'a3' },
      { type: 'call_connected', idempotency_key: 'c1' },
    ],
  });
  await port.post('/events', apex.apiKey, { type: 'call_attempted', idempotency_key: 'a1' });
  await port.post('/events', leadGen.apiKey, {
    events: [
      { type: 'lead_ingested', idempotency_key: 'l1' },
      { type: 'lead_ingested', idempotency_key: 'l2' },
    ],
  });

  // globex: the same source and types, plus a target and type acme does not have.
  await port.post('/events', globex.apiKey, {
    events: [
      { type: 'call_attempted', idempotency_key: 'g1' },
      { type: 'globex_only', idempotency_key: 'g2' },
    ],
  });
  await port.post('/tasks', globex.apiKey, { target: 'apex-sales', action: 'call_lead' });
  await port.post('/tasks', globex.apiKey, { target: 'globex-only', action: 'x' });
  await port.post('/tasks/claim', globex.apiKey, { worker_id: 'globex-1', actions: ['nothing'] });
});
afterAll(() => h.close());

describe('GET /metrics', () => {
  it('answers Prometheus text 0.0.4 that a strict reader accepts, with HELP and TYPE for each family', async () => {
    const response = await scrape(metricsKey.apiKey);
    expect(response.status).toBe(200);
    expect(response.contentType).toBe(METRICS_CONTENT_TYPE);
    const parsed = parsePrometheusText(response.text);
    expect(Object.fromEntries([...parsed].map(([name, family]) => [name, family.type]))).toEqual({
      omnihub_tasks: 'gauge',
      omnihub_tasks_finished_total: 'counter',
      omnihub_events_total: 'counter',
      omnihub_workers_online: 'gauge',
      omnihub_oldest_ready_task_age_seconds: 'gauge',
    });
    for (const family of parsed.values()) expect(family.help).toBeTruthy();
  });

  it('counts the tenant’s tasks for every target × status, zeros included', async () => {
    const parsed = await families();
    const tasks = (target: string) =>
      Object.fromEntries(
        STATUSES.map((status) => [
          status,
          sampleValue(parsed, 'omnihub_tasks', { target, status }),
        ]),
      );
    expect(tasks('apex-sales')).toEqual({
      queued: 1,
      waiting_approval: 1,
      approved: 0,
      running: 1,
      succeeded: 1,
      failed: 1,
      canceled: 0,
    });
    expect(tasks('lead-gen')).toEqual({
      queued: 1,
      waiting_approval: 0,
      approved: 0,
      running: 0,
      succeeded: 0,
      failed: 0,
      canceled: 1,
    });
    expect(tasks('billing')).toEqual(Object.fromEntries(STATUSES.map((s) => [s, 0])));
    expect(parsed.get('omnihub_tasks')!.samples).toHaveLength(3 * STATUSES.length);
  });

  it('counts finished tasks by target and outcome', async () => {
    const parsed = await families();
    expect(parsed.get('omnihub_tasks_finished_total')!.samples).toEqual(
      expect.arrayContaining([
        { labels: { target: 'apex-sales', outcome: 'succeeded' }, value: 1 },
        { labels: { target: 'apex-sales', outcome: 'failed' }, value: 1 },
        { labels: { target: 'apex-sales', outcome: 'canceled' }, value: 0 },
        { labels: { target: 'lead-gen', outcome: 'canceled' }, value: 1 },
      ]),
    );
    expect(parsed.get('omnihub_tasks_finished_total')!.samples).toHaveLength(3 * 3);
  });

  it('counts events by source and type, duplicates once', async () => {
    const parsed = await families();
    expect(parsed.get('omnihub_events_total')!.samples).toEqual([
      { labels: { source: 'apex-sales', type: 'call_attempted' }, value: 3 },
      { labels: { source: 'apex-sales', type: 'call_connected' }, value: 1 },
      { labels: { source: 'lead-gen', type: 'lead_ingested' }, value: 2 },
    ]);
  });

  it('counts workers seen in the last minute per source, and the oldest ready task per target', async () => {
    const parsed = await families();
    expect(parsed.get('omnihub_workers_online')!.samples).toEqual([
      { labels: { source: 'apex-sales' }, value: 1 },
      { labels: { source: 'lead-gen' }, value: 1 },
    ]);
    await h.db.sql`update workers set last_seen_at = now() - interval '61 seconds'
      where worker_id = 'lead-1'`;
    expect(sampleValue(await families(), 'omnihub_workers_online', { source: 'lead-gen' })).toBe(0);

    const age = parsed.get('omnihub_oldest_ready_task_age_seconds')!;
    expect(age.samples.map((s) => s.labels.target)).toEqual(['apex-sales', 'lead-gen']);
    expect(
      sampleValue(parsed, 'omnihub_oldest_ready_task_age_seconds', { target: 'apex-sales' }),
    ).toBeGreaterThanOrEqual(90);
    expect(
      sampleValue(parsed, 'omnihub_oldest_ready_task_age_seconds', { target: 'lead-gen' }),
    ).toBeLessThan(90);
  });

  it('never shows another tenant’s data, and shows the other tenant only its own', async () => {
    const acme = await families();
    const all = [...acme.values()].flatMap((f) => f.samples.map((s) => s.labels));
    expect(all.some((labels) => Object.values(labels).includes('globex-only'))).toBe(false);

    const globexMetrics = await h.issueKey({
      tenant: 'globex',
      source: 'apex-sales',
      scopes: ['metrics:read'],
    });
    const theirs = await families(globexMetrics.apiKey);
    expect(theirs.get('omnihub_events_total')!.samples).toEqual([
      { labels: { source: 'apex-sales', type: 'call_attempted' }, value: 1 },
      { labels: { source: 'apex-sales', type: 'globex_only' }, value: 1 },
    ]);
    expect([...new Set(labelsOf(theirs.get('omnihub_tasks')).map((l) => l.target))]).toEqual([
      'apex-sales',
      'globex-only',
    ]);
    expect(sampleValue(theirs, 'omnihub_tasks', { target: 'apex-sales', status: 'queued' })).toBe(
      1,
    );
    expect(labelsOf(theirs.get('omnihub_workers_online'))).toEqual([{ source: 'apex-sales' }]);
  });
});

describe('GET /metrics: who may scrape', () => {
  it('refuses a key without metrics:read with 403 permission_denied naming the scope', async () => {
    const response = await scrape(apex.apiKey);
    expect(response.status).toBe(403);
    expect(JSON.parse(response.text)).toMatchObject({
      error: 'permission_denied',
      required_scope: 'metrics:read',
    });
  });

  it('gives a metrics-only key nothing else but whoami', async () => {
    const port = h.http!.client;
    const key = metricsKey.apiKey;
    const taskId = (
      await h.db.sql`select id from tasks where tenant_id = ${apex.tenantId} limit 1`
    )[0]!.id as string;
    const refused = [
      await port.post('/events', key, { type: 'x', idempotency_key: 'metrics-key' }),
      await port.post('/tasks', key, { target: 'lead-gen', action: 'x' }),
      await port.post('/tasks/claim', key, { worker_id: 'w' }),
      await port.post(`/tasks/${taskId}/heartbeat`, key, { worker_id: 'w' }),
      await port.post(`/tasks/${taskId}/complete`, key, { worker_id: 'w', status: 'succeeded' }),
      await port.get(`/tasks/${taskId}`, key),
      await port.get('/stats', key),
    ];
    expect(refused.map((r) => [r.status, r.body.error])).toEqual(
      refused.map(() => [403, 'permission_denied']),
    );
    const whoami = await port.get('/whoami', key);
    expect(whoami).toMatchObject({ status: 200, body: { scopes: ['metrics:read'] } });
  });

  it('refuses no key, a revoked key and an expired key with 401', async () => {
    expect((await scrape()).status).toBe(401);
    const revoked = await h.issueKey({
      tenant: 'acme',
      source: 'lead-gen',
      scopes: ['metrics:read'],
    });
    await h.db.sql`select omnilink.revoke_api_key(${revoked.keyId})`;
    const expired = await h.issueKey({
      tenant: 'acme',
      source: 'lead-gen',
      scopes: ['metrics:read'],
    });
    await h.db.sql`update api_keys set expires_at = now() - interval '1 second'
      where key_id = ${expired.keyId}`;
    for (const key of [revoked, expired]) {
      const response = await scrape(key.apiKey);
      expect(response.status).toBe(401);
      expect(JSON.parse(response.text)).toMatchObject({ error: 'unauthorized' });
    }
  });

  it('answers 503 when the tenant’s switch is off, and under OMNILINK_ENABLED=false', async () => {
    const other = await h.issueKey({
      tenant: 'initech',
      source: 'lead-gen',
      scopes: ['metrics:read'],
    });
    await h.db
      .sql`insert into tenant_settings (tenant_id, omnilink_enabled) values (${other.tenantId}, false)
      on conflict (tenant_id) do update set omnilink_enabled = false`;
    const tenantOff = await scrape(other.apiKey);
    expect(tenantOff.status).toBe(503);
    expect(JSON.parse(tenantOff.text)).toMatchObject({ error: 'omnilink_disabled' });

    const off = await startPortHarness({ env: { OMNILINK_ENABLED: 'false' } });
    try {
      const key = await off.issueKey({
        tenant: 'acme',
        source: 'lead-gen',
        scopes: ['metrics:read'],
      });
      const response = await off.port.get('/metrics', key.apiKey);
      expect(response).toMatchObject({ status: 503, body: { error: 'omnilink_disabled' } });
    } finally {
      await off.close();
    }
  });
});
