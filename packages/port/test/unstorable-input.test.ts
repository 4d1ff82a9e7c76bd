import { snapshotCounts, type IssuedKey } from '@omnihub/database/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createPortApp } from '../src/index.ts';
import { startPortHarness, type PortHarness } from './support.ts';

let h: PortHarness;
let key: IssuedKey;

beforeAll(async () => {
  h = await startPortHarness();
  key = await h.issueKey({ tenant: 'acme', source: 'apex-sales' });
});
afterAll(() => h.close());
beforeEach(async () => {
  await h.db.sql`delete from tasks`;
});

const nested = (levels: number): unknown => {
  let value: unknown = 'leaf';
  for (let i = 0; i < levels; i++) value = [value];
  return value;
};

// JSON.stringify writes lone surrogates as \\udxxx escapes and NUL as \\u0000:
// exactly what a client sends on the wire.
describe('values Postgres cannot store are refused with 400, not 500', () => {
  it.each<[string, string, Record<string, unknown>, string]>([
    [
      'a NUL in an idempotency key',
      '/events',
      { type: 'x', idempotency_key: 'a\u0000b' },
      'idempotency_key',
    ],
    [
      'a lone surrogate in event data',
      '/events',
      { type: 'x', idempotency_key: 'k1', data: { text: 'cut \ud83d' } },
      'data',
    ],
    [
      'a NUL in an event data key',
      '/events',
      { type: 'x', idempotency_key: 'k2', data: { 'a\u0000': 1 } },
      'data',
    ],
    [
      'event data nested 150 levels deep',
      '/events',
      { type: 'x', idempotency_key: 'k3', data: { deep: nested(150) } },
      'data',
    ],
    [
      'occurred_at in year 0000',
      '/events',
      { type: 'x', idempotency_key: 'k4', occurred_at: '0000-06-01T00:00:00Z' },
      'occurred_at',
    ],
    [
      'occurred_at with offset +16:00',
      '/events',
      { type: 'x', idempotency_key: 'k5', occurred_at: '2026-11-21T10:00:00+16:00' },
      'occurred_at',
    ],
    [
      'a NUL in a task payload',
      '/tasks',
      { target: 'apex-sales', action: 'x', payload: { note: '\u0000' } },
      'payload',
    ],
    [
      'run_at in year 0000',
      '/tasks',
      { target: 'apex-sales', action: 'x', run_at: '0000-01-01T00:00:00Z' },
      'run_at',
    ],
    [
      'a NUL in a task idempotency key',
      '/tasks',
      { target: 'apex-sales', action: 'x', idempotency_key: '\u0000' },
      'idempotency_key',
    ],
    ['a NUL in a worker id', '/tasks/claim', { worker_id: 'w\u0000' }, 'worker_id'],
  ])('%s', async (_name, path, body, field) => {
    const before = await snapshotCounts(h.db.sql);
    const response = await h.port.post(path, key.apiKey, body);
    expect(response.status, JSON.stringify(response.body)).toBe(400);
    expect(response.body.error).toBe('invalid_request');
    expect(response.body.issues.map((i: { path: string }) => i.path.split('.')[0])).toContain(
      field,
    );
    expect(await snapshotCounts(h.db.sql)).toEqual(before);
  });

  it('keeps a "__proto__" key in event data instead of dropping it', async () => {
    const response = await h.port.request('POST', '/events', {
      key: key.apiKey,
      rawBody: '{"type":"x","idempotency_key":"proto","data":{"__proto__":{"a":1},"b":2}}',
    });
    expect(response.status).toBe(201);
    const [row] = await h.db.sql`select data from telemetry_events where idempotency_key = 'proto'`;
    expect(JSON.stringify(row!.data)).toBe(
      '{"b": 2, "__proto__": {"a": 1}}'.replace(/: /g, ':').replace(/, /g, ','),
    );
  });

  it('answers a database data error that got past the checks with 400, not 500', async () => {
    // A client whose every query fails the way Postgres does on bad data.
    const failing = Object.assign(
      () =>
        Promise.reject(
          Object.assign(new Error('invalid input syntax for type uuid'), { code: '22P02' }),
        ),
      { json: (value: unknown) => value },
    );
    const app = createPortApp({ sql: failing as never, log: () => {} });
    const response = await app.request('/omnilink-port/tasks/claim', {
      method: 'POST',
      headers: { authorization: `Bearer ${key.apiKey}` },
      body: JSON.stringify({ worker_id: 'w' }),
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({
      error: 'invalid_request',
      message: expect.stringContaining('cannot store'),
    });
  });
});

describe('what a worker reports is made storable, never refused', () => {
  async function runningTask(): Promise<string> {
    const created = await h.port.post('/tasks', key.apiKey, {
      target: 'apex-sales',
      action: 'scrape',
    });
    await h.port.post('/tasks/claim', key.apiKey, { worker_id: 'w' });
    return created.body.task.id;
  }

  it('stores output and error text with NUL and half emoji replaced by U+FFFD', async () => {
    const id = await runningTask();
    const response = await h.port.post(`/tasks/${id}/complete`, key.apiKey, {
      worker_id: 'w',
      status: 'failed',
      retryable: false,
      output: { page: 'a\u0000b', ['k\ud83d']: ['\udc00'] },
      error: 'crashed\u0000 at 😀 and \ud83d',
    });
    expect(response.status).toBe(200);
    expect(response.body.task.output).toEqual({ page: 'a\uFFFDb', ['k\uFFFD']: ['\uFFFD'] });
    expect(response.body.task.error).toBe('crashed\uFFFD at 😀 and \uFFFD');
  });

  it('stores heartbeat progress with unstorable text replaced', async () => {
    const id = await runningTask();
    const response = await h.port.post(`/tasks/${id}/heartbeat`, key.apiKey, {
      worker_id: 'w',
      progress: { step: 'x\u0000' },
    });
    expect(response.status).toBe(200);
    const [row] = await h.db.sql`select progress from tasks where id = ${id}`;
    expect(row!.progress).toEqual({ step: 'x\uFFFD' });
  });

  it('refuses output nested deeper than 100 levels with 400 (serializing it would overflow)', async () => {
    const id = await runningTask();
    // Written by hand: JSON.stringify itself cannot go this deep.
    const deep = `${'['.repeat(5_000)}1${']'.repeat(5_000)}`;
    const response = await h.port.request('POST', `/tasks/${id}/complete`, {
      key: key.apiKey,
      rawBody: `{"worker_id":"w","status":"succeeded","output":${deep}}`,
    });
    expect(response.status).toBe(400);
    expect(response.body.issues[0].path).toBe('output');
  });
});
