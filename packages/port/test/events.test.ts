import { EmitEventBatchResponse, EmitEventResponse, ErrorResponse } from '@omnihub/contracts';
import { snapshotCounts } from '@omnihub/database/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256Hex } from '../src/credentials.ts';
import { startPortHarness, type PortHarness } from './support.ts';

let h: PortHarness;
let leadGen: string;
let otherTenant: string;

beforeAll(async () => {
  h = await startPortHarness();
  leadGen = (await h.issueKey({ tenant: 'acme', source: 'lead-gen' })).apiKey;
  otherTenant = (await h.issueKey({ tenant: 'globex', source: 'lead-gen' })).apiKey;
});
afterAll(() => h.close());

const event = (key: string, extra: Record<string, unknown> = {}) => ({
  type: 'lead_ingested',
  idempotency_key: key,
  data: { lead_id: '42', url: 'https://example.com', role: 'CTO', score: 0.82 },
  ...extra,
});

describe('POST /events (single)', () => {
  it('stores an event once: 201 created, then 200 duplicate with the first id', async () => {
    const first = await h.port.post('/events', leadGen, event('single-1'));
    expect(first.status).toBe(201);
    expect(EmitEventResponse.parse(first.body)).toEqual({
      status: 'created',
      id: expect.any(String),
    });

    const again = await h.port.post(
      '/events',
      leadGen,
      event('single-1', { data: { changed: true } }),
    );
    expect(again.status).toBe(200);
    expect(again.body).toEqual({ status: 'duplicate', id: first.body.id });

    const rows = await h.db.sql`select * from telemetry_events where idempotency_key = 'single-1'`;
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      source: 'lead-gen',
      type: 'lead_ingested',
      data: event('x').data,
    });
  });

  it('stores occurred_at when given and the receive time otherwise', async () => {
    await h.port.post('/events', leadGen, event('when-1', { occurred_at: '2026-11-21T10:00:00Z' }));
    await h.port.post('/events', leadGen, event('when-2'));
    const [given] = await h.db
      .sql`select occurred_at from telemetry_events where idempotency_key = 'when-1'`;
    const [defaulted] = await h.db
      .sql`select occurred_at, received_at from telemetry_events where idempotency_key = 'when-2'`;
    expect((given!.occurred_at as Date).toISOString()).toBe('2026-11-21T10:00:00.000Z');
    expect(defaulted!.occurred_at).toEqual(defaulted!.received_at);
  });

  it('accepts a source equal to the key’s integration source', async () => {
    const response = await h.port.post(
      '/events',
      leadGen,
      event('source-ok', { source: 'lead-gen' }),
    );
    expect(response.status).toBe(201);
  });

  it('refuses a body source that is not the key’s with 403 and stores nothing', async () => {
    const before = await snapshotCounts(h.db.sql);
    const response = await h.port.post(
      '/events',
      leadGen,
      event('source-bad', { source: 'apex-sales' }),
    );
    expect(response.status).toBe(403);
    expect(ErrorResponse.parse(response.body)).toMatchObject({ error: 'permission_denied' });
    expect(response.body.message).toContain('apex-sales');
    expect(await snapshotCounts(h.db.sql)).toEqual(before);
  });

  it('keeps tenants apart: the same idempotency key in two tenants makes two events, each tenant sees its own id', async () => {
    const a = await h.port.post('/events', leadGen, event('shared-key'));
    const b = await h.port.post('/events', otherTenant, event('shared-key'));
    expect(a.status).toBe(201);
    expect(b.status).toBe(201);
    expect(b.body.id).not.toBe(a.body.id);
    const aAgain = await h.port.post('/events', leadGen, event('shared-key'));
    expect(aAgain.body).toEqual({ status: 'duplicate', id: a.body.id });
    const tenants = await h.db
      .sql`select distinct tenant_id from telemetry_events where idempotency_key = 'shared-key'`;
    expect(tenants).toHaveLength(2);
  });

  it('stores exactly one row when 50 copies of an event arrive at once', async () => {
    const responses = await Promise.all(
      Array.from({ length: 50 }, () => h.port.post('/events', leadGen, event('parallel-1'))),
    );
    const statuses = responses.map((r) => r.body.status);
    expect(statuses.filter((s) => s === 'created')).toHaveLength(1);
    expect(statuses.filter((s) => s === 'duplicate')).toHaveLength(49);
    expect(new Set(responses.map((r) => r.body.id)).size).toBe(1);
    const [{ count }] = (await h.db
      .sql`select count(*)::int from telemetry_events where idempotency_key = 'parallel-1'`) as any;
    expect(count).toBe(1);
  });
});

describe('POST /events (batch)', () => {
  it('answers per event in request order, counting created and duplicates', async () => {
    await h.port.post('/events', leadGen, event('batch-existing'));
    const response = await h.port.post('/events', leadGen, {
      events: [event('batch-a'), event('batch-existing'), event('batch-b'), event('batch-a')],
    });
    expect(response.status).toBe(200);
    const body = EmitEventBatchResponse.parse(response.body);
    expect(body.created).toBe(2);
    expect(body.duplicates).toBe(2);
    expect(body.results.map((r) => [r.idempotency_key, r.status])).toEqual([
      ['batch-a', 'created'],
      ['batch-existing', 'duplicate'],
      ['batch-b', 'created'],
      ['batch-a', 'duplicate'],
    ]);
    expect(body.results[3]!.id).toBe(body.results[0]!.id);
  });

  it('never deadlocks when concurrent batches share keys in opposite orders', async () => {
    for (let round = 0; round < 8; round++) {
      const events = Array.from({ length: 300 }, (_, i) => event(`order-${round}-${i}`));
      const [forward, backward] = await Promise.all([
        h.port.post('/events', leadGen, { events }),
        h.port.post('/events', leadGen, { events: [...events].reverse() }),
      ]);
      expect([forward.status, backward.status]).toEqual([200, 200]);
      expect(forward.body.created + backward.body.created).toBe(300);
    }
  });

  it('refuses the whole batch when one event is invalid, naming it by path', async () => {
    const before = await snapshotCounts(h.db.sql);
    const events = [
      event('v-0'),
      event('v-1'),
      event('v-2'),
      { ...event('v-3'), type: 'Not Valid!' },
    ];
    const response = await h.port.post('/events', leadGen, { events });
    expect(response.status).toBe(400);
    expect(ErrorResponse.parse(response.body).error).toBe('invalid_request');
    expect(response.body.issues).toEqual([{ path: 'events.3.type', message: expect.any(String) }]);
    expect(await snapshotCounts(h.db.sql)).toEqual(before);
  });

  it('refuses an empty batch and one over 500 events', async () => {
    const empty = await h.port.post('/events', leadGen, { events: [] });
    expect(empty.status).toBe(400);
    expect(empty.body.issues[0].path).toBe('events');
    const huge = await h.port.post('/events', leadGen, {
      events: Array.from({ length: 501 }, (_, i) => ({ type: 'x', idempotency_key: `h${i}` })),
    });
    expect(huge.status).toBe(400);
    expect(huge.body.issues[0].path).toBe('events');
  });
});

describe('POST /events (bad input)', () => {
  it.each([
    ['a type with capitals', { type: 'Lead', idempotency_key: 'k' }, 'type'],
    ['a missing idempotency key', { type: 'lead' }, 'idempotency_key'],
    [
      'an idempotency key over 200 characters',
      { type: 'lead', idempotency_key: 'k'.repeat(201) },
      'idempotency_key',
    ],
    [
      'occurred_at without a time zone',
      { type: 'lead', idempotency_key: 'k', occurred_at: '2026-11-21 10:00' },
      'occurred_at',
    ],
    ['data that is an array', { type: 'lead', idempotency_key: 'k', data: [1, 2] }, 'data'],
    ['an unknown field', { type: 'lead', idempotency_key: 'k', idempotencyKey: 'k' }, ''],
  ])('refuses %s with 400 and the field’s path', async (_name, body, path) => {
    const response = await h.port.post('/events', leadGen, body);
    expect(response.status).toBe(400);
    expect(response.body.error).toBe('invalid_request');
    expect(response.body.issues.map((i: { path: string }) => i.path)).toContain(path);
  });

  it('refuses malformed JSON with 400 invalid_request', async () => {
    const response = await h.port.request('POST', '/events', {
      key: leadGen,
      rawBody: '{"type": "lead",',
      headers: { 'content-type': 'application/json' },
    });
    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({ error: 'invalid_request', issues: [{ path: '' }] });
    expect(response.body.message).toMatch(/not valid JSON/);
  });

  it('refuses event data over 16 KiB with 413 payload_too_large', async () => {
    const before = await snapshotCounts(h.db.sql);
    const response = await h.port.post(
      '/events',
      leadGen,
      event('big', { data: { blob: 'x'.repeat(16 * 1024) } }),
    );
    expect(response.status).toBe(413);
    expect(response.body.error).toBe('payload_too_large');
    expect(await snapshotCounts(h.db.sql)).toEqual(before);
  });

  it('accepts event data of exactly 16 KiB', async () => {
    const filler = 'x'.repeat(16 * 1024 - JSON.stringify({ blob: '' }).length);
    const response = await h.port.post(
      '/events',
      leadGen,
      event('exact', { data: { blob: filler } }),
    );
    expect(response.status).toBe(201);
  });

  it('closes the connection after refusing an unread body over 1 MiB, so a client reusing it is not cut off', async () => {
    const served = await startPortHarness({ http: true });
    try {
      const key = (await served.issueKey({ tenant: 'acme', source: 'lead-gen' })).apiKey;
      const url = `${served.http!.server.baseUrl}/events`;
      const send = (body: string) =>
        fetch(url, {
          method: 'POST',
          headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
          body,
        });
      const refused = await send(`${JSON.stringify(event('big'))}${' '.repeat(1024 * 1024)}`);
      expect(refused.status).toBe(413);
      expect(refused.headers.get('connection')).toBe('close');
      await refused.arrayBuffer();
      // The keep-alive pool would hand these the connection the port is about to drop.
      for (const n of [1, 2, 3]) {
        const response = await send(JSON.stringify(event(`after-413-${n}`)));
        expect(response.status).toBe(201);
        await response.arrayBuffer();
      }
    } finally {
      await served.close();
    }
  });

  it('finds a duplicate by its key, not by reading every event of the integration', async () => {
    const key = await h.issueKey({ tenant: 'acme', source: 'reads-test' });
    const conn = await h.db.sql.reserve();
    try {
      const keyHash = sha256Hex(key.apiKey.split('.')[2]!);
      const emit = (events: unknown[]) =>
        conn`select omnilink.port_emit_events(${key.keyId}, ${keyHash}, ${conn.json(events as never)})`;
      await emit(Array.from({ length: 3000 }, (_, i) => event(`reads-${i}`)));
      const rowsRead = async () => {
        await conn`select pg_stat_force_next_flush()`;
        const [row] = await conn`
          select seq_tup_read + coalesce(idx_tup_fetch, 0) as n
          from pg_stat_user_tables where relname = 'telemetry_events'`;
        return Number(row!.n);
      };
      const before = await rowsRead();
      // Past plpgsql's first five calls, which get plans made for their own values.
      for (let call = 0; call < 10; call++) {
        await emit([event(`reads-${call}`), event(`reads-new-${call}`)]);
      }
      expect(await rowsRead()).toBeLessThan(before + 100);
    } finally {
      conn.release();
    }
  });

  it('refuses a body over 1 MiB with 413 and stores nothing', async () => {
    const before = await snapshotCounts(h.db.sql);
    const events = Array.from({ length: 80 }, (_, i) =>
      event(`mb-${i}`, { data: { blob: 'y'.repeat(15_000) } }),
    );
    const response = await h.port.post('/events', leadGen, { events });
    expect(response.status).toBe(413);
    expect(response.body.error).toBe('payload_too_large');
    expect(await snapshotCounts(h.db.sql)).toEqual(before);
  });
});

describe('POST /events, many at once', () => {
  it('gives each of a burst of requests its own answer, though they share database calls', async () => {
    const revoked = await h.issueKey({ tenant: 'acme', source: 'lead-gen' });
    await h.db.sql`update api_keys set revoked_at = now() where key_id = ${revoked.keyId}`;
    const wrongSecret = leadGen.replace(/.$/, (c) => (c === 'a' ? 'b' : 'a'));
    const burst: { key: string; body: unknown; status: number; error?: string }[] = [
      ...Array.from({ length: 16 }, (_, i) => ({
        key: leadGen,
        body: event(`burst-${i}`),
        status: 201,
      })),
      // The same key again in the burst: one is created, the other is its duplicate.
      { key: leadGen, body: event('burst-twice'), status: 201 },
      { key: leadGen, body: event('burst-twice'), status: 200 },
      // Another tenant's integration has its own keys.
      { key: otherTenant, body: event('burst-0'), status: 201 },
      { key: revoked.apiKey, body: event('burst-revoked'), status: 401, error: 'unauthorized' },
      { key: wrongSecret, body: event('burst-wrong'), status: 401, error: 'unauthorized' },
      {
        key: leadGen,
        body: event('burst-foreign', { source: 'apex-sales' }),
        status: 403,
        error: 'permission_denied',
      },
      // Postgres refuses this one's data (a lone surrogate): the others must not fail with it.
      {
        key: leadGen,
        body: event('burst-unstorable', { data: { text: 'cut \ud83d' } }),
        status: 400,
        error: 'invalid_request',
      },
    ];
    const answers = await Promise.all(
      burst.map(({ key, body }) => h.port.post('/events', key, body)),
    );

    expect(answers.map((answer) => [answer.status, answer.body.error])).toEqual(
      burst.map(({ status, error }) => [status, error]),
    );
    const [once, twice] = [answers[16]!, answers[17]!];
    expect(twice.body).toEqual({ status: 'duplicate', id: once.body.id });

    const rows = await h.db.sql`
      select idempotency_key, tenant_id, id::text, xmin::text as transaction
      from telemetry_events where idempotency_key like 'burst-%'`;
    const stored = rows.map(
      (row) => `${row.tenant_id === revoked.tenantId ? 'acme' : 'globex'} ${row.idempotency_key}`,
    );
    expect(stored.sort()).toEqual(
      [
        ...Array.from({ length: 16 }, (_, i) => `acme burst-${i}`),
        'acme burst-twice',
        'globex burst-0',
      ].sort(),
    );
    // Every created answer names its own row.
    const ids = new Set(rows.map((row) => row.id as string));
    for (const answer of answers.filter((a) => a.status === 201))
      expect(ids).toContain(answer.body.id);
    // Grouped: the 18 events were stored by fewer transactions than requests.
    expect(new Set(rows.map((row) => row.transaction)).size).toBeLessThan(rows.length);
  });
});
