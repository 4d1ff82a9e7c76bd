import { fileURLToPath } from 'node:url';
import {
  ClaimTasksResponse,
  HealthResponse,
  METRICS_CONTENT_TYPE,
  TaskResponse,
} from '@omnihub/contracts';
import { freePort } from '@omnihub/database';
import {
  createTestDatabase,
  DENO_BINARY,
  issueKey,
  startProcess,
  type RunningProcess,
  type TestDatabase,
} from '@omnihub/database/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The production entry point, run by the real Deno runtime (the `deno` npm package).
const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const ENTRY = 'supabase/functions/omnilink-port/index.ts';

let db: TestDatabase;
let deno: RunningProcess;
let base: string;

beforeAll(async () => {
  db = await createTestDatabase();
  const port = await freePort();
  deno = startProcess(
    DENO_BINARY,
    [
      'run',
      '--frozen',
      '--config',
      'supabase/functions/omnilink-port/deno.json',
      '--allow-net',
      '--allow-env',
      '--allow-read',
      ENTRY,
    ],
    {
      cwd: REPO,
      env: { SUPABASE_DB_URL: db.url, OMNILINK_LISTEN_PORT: String(port), NO_COLOR: '1' },
    },
  );
  await deno.waitFor(/Listening on http:\/\/127\.0\.0\.1:\d+/, 120_000);
  base = `http://127.0.0.1:${port}/omnilink-port`;
}, 180_000);

afterAll(async () => {
  deno?.child.kill('SIGTERM');
  await deno?.exited;
  await db?.drop();
});

async function call(method: string, path: string, key?: string, body?: unknown) {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: {
      ...(key ? { authorization: `Bearer ${key}` } : {}),
      'content-type': 'application/json',
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as any };
}

describe('the Edge Function entry under Deno', () => {
  it('serves health, events and a whole task round trip against Postgres', async () => {
    const key = (await issueKey(db.sql, { tenant: 'acme', source: 'apex-sales' })).apiKey;

    const health = await call('GET', '/health');
    expect(health.status).toBe(200);
    expect(HealthResponse.parse(health.body).status).toBe('ok');

    const event = await call('POST', '/events', key, {
      type: 'call_attempted',
      idempotency_key: 'deno-1',
      data: { lead_id: '1' },
    });
    expect(event).toMatchObject({ status: 201, body: { status: 'created' } });
    expect(
      (await call('POST', '/events', key, { type: 'call_attempted', idempotency_key: 'deno-1' }))
        .status,
    ).toBe(200);

    // The claim waits; the task created meanwhile wakes it (LISTEN/NOTIFY or polling).
    const claim = call('POST', '/tasks/claim', key, { worker_id: 'deno-worker', wait_ms: 10_000 });
    const created = await call('POST', '/tasks', key, {
      target: 'apex-sales',
      action: 'echo',
      payload: { hi: 1 },
    });
    expect(created.status).toBe(201);
    const claimed = ClaimTasksResponse.parse((await claim).body).tasks;
    expect(claimed.map((t) => t.id)).toEqual([created.body.task.id]);

    const id = created.body.task.id as string;
    expect(
      (
        await call('POST', `/tasks/${id}/heartbeat`, key, {
          worker_id: 'deno-worker',
          progress: { pct: 50 },
        })
      ).status,
    ).toBe(200);
    const done = await call('POST', `/tasks/${id}/complete`, key, {
      worker_id: 'deno-worker',
      status: 'succeeded',
      output: { hi: 1 },
    });
    expect(TaskResponse.parse(done.body).task).toMatchObject({
      status: 'succeeded',
      output: { hi: 1 },
    });
    expect((await call('GET', `/tasks/${id}`, key)).body.task.status).toBe('succeeded');
  });

  it('refuses a bad key with 401 and serves the OpenAPI document', async () => {
    const refused = await call(
      'GET',
      `/tasks/${crypto.randomUUID()}`,
      `omni.nosuchkey.${'a'.repeat(43)}`,
    );
    expect(refused).toMatchObject({ status: 401, body: { error: 'unauthorized' } });
    const openapi = await call('GET', '/openapi.json');
    expect(openapi.body.openapi).toBe('3.1.0');
  });

  it('serves GET /metrics as Prometheus text', async () => {
    const key = await issueKey(db.sql, {
      tenant: 'acme',
      source: 'lead-gen',
      scopes: ['metrics:read'],
    });
    const response = await fetch(`${base}/metrics`, {
      headers: { authorization: `Bearer ${key.apiKey}` },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe(METRICS_CONTENT_TYPE);
    const text = await response.text();
    expect(text).toContain('# TYPE omnihub_tasks gauge\n');
    expect(text).toContain('omnihub_events_total{source="apex-sales",type="call_attempted"} 1\n');
  });
});
