import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPortHarness, type PortHarness } from './support.ts';

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
