import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectDatabase } from '@omnihub/database';
import { PortClient, startPortHarness, startPortServer, type PortHarness } from './support.ts';

let h: PortHarness;

beforeAll(async () => {
  h = await startPortHarness({ http: true, listen: false });
});
afterAll(() => h.close());

describe('per-key rate limit (max_rpm)', () => {
  it('lets exactly 30 of 100 concurrent requests through for max_rpm 30; the rest get 429 with Retry-After', async () => {
    const key = await h.issueKey({ tenant: 'acme', source: 'lead-gen', maxRpm: 30 });
    const client = h.http!.client;
    const responses = await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        client.post('/events', key.apiKey, { type: 'rate', idempotency_key: `rate-${i}` }),
      ),
    );
    const ok = responses.filter((r) => r.status === 201);
    const limited = responses.filter((r) => r.status === 429);
    expect(ok).toHaveLength(30);
    expect(limited).toHaveLength(70);
    for (const response of limited) {
      expect(response.body.error).toBe('rate_limited');
      expect(Number.isInteger(response.body.retry_after_seconds)).toBe(true);
      expect(response.body.retry_after_seconds).toBeGreaterThanOrEqual(1);
      expect(response.headers.get('retry-after')).toBe(String(response.body.retry_after_seconds));
    }
    // The refused requests stored nothing.
    const [{ count }] = (await h.db
      .sql`select count(*)::int from telemetry_events where type = 'rate'`) as any;
    expect(count).toBe(30);
  });

  it('stays exact across port instances: two servers with their own pools share one limit', async () => {
    const key = await h.issueKey({ tenant: 'acme', source: 'lead-gen', maxRpm: 30 });
    const pools = [connectDatabase(h.db.url, { max: 5 }), connectDatabase(h.db.url, { max: 5 })];
    const servers = await Promise.all(pools.map((sql) => startPortServer({ sql, listen: false })));
    try {
      const clients = servers.map(
        (server) => new PortClient((path, init) => fetch(`${server.baseUrl}${path}`, init)),
      );
      const responses = await Promise.all(
        Array.from({ length: 100 }, (_, i) =>
          clients[i % 2]!.post('/events', key.apiKey, {
            type: 'multi',
            idempotency_key: `multi-${i}`,
          }),
        ),
      );
      expect(responses.filter((r) => r.status === 201)).toHaveLength(30);
      expect(responses.filter((r) => r.status === 429)).toHaveLength(70);
      // Both instances served some of the accepted requests.
      const acceptedBy = new Set(responses.flatMap((r, i) => (r.status === 201 ? [i % 2] : [])));
      expect(acceptedBy.size).toBe(2);
    } finally {
      await Promise.all(servers.map((server) => server.close()));
      await Promise.all(pools.map((sql) => sql.end()));
    }
  });

  it('counts keys separately', async () => {
    const a = await h.issueKey({ tenant: 'acme', source: 'lead-gen', maxRpm: 2 });
    const b = await h.issueKey({ tenant: 'acme', source: 'lead-gen', maxRpm: 2 });
    const send = (key: string, i: number) =>
      h.port.post('/events', key, { type: 'sep', idempotency_key: `${key.slice(5, 12)}-${i}` });
    expect([
      (await send(a.apiKey, 1)).status,
      (await send(a.apiKey, 2)).status,
      (await send(a.apiKey, 3)).status,
    ]).toEqual([201, 201, 429]);
    expect((await send(b.apiKey, 1)).status).toBe(201);
  });

  it('opens a new window once the minute is over', async () => {
    const key = await h.issueKey({ tenant: 'acme', source: 'lead-gen', maxRpm: 1 });
    expect(
      (await h.port.post('/events', key.apiKey, { type: 'w', idempotency_key: 'w1' })).status,
    ).toBe(201);
    expect(
      (await h.port.post('/events', key.apiKey, { type: 'w', idempotency_key: 'w2' })).status,
    ).toBe(429);
    await h.db
      .sql`update omnilink.api_key_rate_windows set window_started_at = now() - interval '61 seconds' where api_key_id = (select id from api_keys where key_id = ${key.keyId})`;
    expect(
      (await h.port.post('/events', key.apiKey, { type: 'w', idempotency_key: 'w3' })).status,
    ).toBe(201);
  });

  it('spends one request on a long-poll claim, however many times it re-checks', async () => {
    const key = await h.issueKey({ tenant: 'acme', source: 'lead-gen', maxRpm: 2 });
    // Polling mode re-checks every 250 ms: ~4 rounds in this wait.
    const waited = await h.http!.client.post('/tasks/claim', key.apiKey, {
      worker_id: 'w',
      wait_ms: 1000,
    });
    expect(waited.body).toEqual({ tasks: [] });
    expect((await h.port.post('/tasks/claim', key.apiKey, { worker_id: 'w' })).status).toBe(200);
    expect((await h.port.post('/tasks/claim', key.apiKey, { worker_id: 'w' })).status).toBe(429);
  });
});
