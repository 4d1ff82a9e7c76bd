import type { IssuedKey } from '@omnihub/database/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OmniHubError } from '../src/index.ts';
import { startTestStack, type TestStack } from './stack.ts';

let t: TestStack;
let key: IssuedKey;

beforeAll(async () => {
  t = await startTestStack();
  key = await t.issueKey({ tenant: 'acme', source: 'lead-gen' });
});
afterAll(() => t.close());

describe('OmniHubConnector against the port', () => {
  it('covers every endpoint: health, whoami, events, tasks, claim, heartbeat, complete, get, stats', async () => {
    const c = t.connector(key);
    expect((await c.health()).status).toBe('ok');
    expect(await c.whoami()).toMatchObject({
      key_id: key.keyId,
      source: 'lead-gen',
      tenant: { slug: 'acme' },
    });

    expect(
      (await c.emit({ type: 'lead_ingested', idempotency_key: 'c-1', data: { lead_id: '1' } }))
        .status,
    ).toBe('created');
    expect((await c.emit({ type: 'lead_ingested', idempotency_key: 'c-1' })).status).toBe(
      'duplicate',
    );
    const batch = await c.emitBatch([
      { type: 'a' },
      { type: 'b' },
      { type: 'c', idempotency_key: 'c-1' },
    ]);
    expect(batch).toMatchObject({ created: 2, duplicates: 1 });

    const { task } = await c.createTask({ target: 'lead-gen', action: 'echo', payload: { hi: 1 } });
    const [claimed] = await c.claim({ maxTasks: 5, leaseSeconds: 60 });
    expect(claimed).toMatchObject({
      id: task.id,
      status: 'running',
      attempts: 1,
      claimed_by: 'lead-gen-test',
    });
    expect(
      (await c.heartbeat(task.id, { attempt: 1, progress: { pct: 50 } })).lease_expires_at,
    ).toBeTruthy();
    const done = await c.complete(task.id, { status: 'succeeded', output: { hi: 1 }, attempt: 1 });
    expect(done).toMatchObject({ status: 'succeeded', output: { hi: 1 } });
    expect((await c.getTask(task.id)).status).toBe('succeeded');
    const stats = await c.stats();
    expect(stats.tasks.succeeded).toBe(1);
    expect(stats.workers.map((w) => w.worker_id)).toEqual(['lead-gen-test']);
  });

  it('sends a batch of more than 500 events in several requests, keeping the order', async () => {
    const events = Array.from({ length: 1_203 }, (_, i) => ({
      type: 'bulk',
      idempotency_key: `bulk-${i}`,
    }));
    const result = await t.connector(key).emitBatch(events);
    expect(result.created).toBe(1_203);
    expect(result.results.map((r) => r.idempotency_key)).toEqual(
      events.map((e) => e.idempotency_key),
    );
  });

  it('long-polls a claim until a task is created', async () => {
    const c = t.connector(key);
    const claim = c.claim({ waitMs: 10_000 });
    const { task } = await c.createTask({ target: 'lead-gen', action: 'wake' });
    expect((await claim).map((x) => x.id)).toEqual([task.id]);
  });

  it('waits out 429s by retry_after_seconds and lands every event exactly once', async () => {
    const limited = await t.issueKey({ tenant: 'acme', source: 'lead-gen', maxRpm: 3 });
    const waits: number[] = [];
    // The test's clock: instead of sleeping a minute, note the wait and open the next window.
    const c = t.connector(limited, {
      retry: { maxElapsedMs: 120_000, initialDelayMs: 20, maxDelayMs: 200 },
      sleep: async (ms) => {
        waits.push(ms);
        await t.db
          .sql`update omnilink.api_key_rate_windows set window_started_at = now() - interval '61 seconds'
                       where api_key_id = (select id from api_keys where key_id = ${limited.keyId})`;
      },
    });
    for (let i = 0; i < 10; i++) await c.emit({ type: 'paced', idempotency_key: `paced-${i}` });
    const rows = await t.db
      .sql`select idempotency_key from telemetry_events where type = 'paced' order by idempotency_key`;
    expect(rows.map((r) => r.idempotency_key)).toEqual(
      Array.from({ length: 10 }, (_, i) => `paced-${i}`),
    );
    expect(waits.length).toBe(3);
    for (const ms of waits) {
      expect(ms % 1000).toBe(0);
      expect(ms).toBeGreaterThanOrEqual(1_000);
      expect(ms).toBeLessThanOrEqual(60_000);
    }
  });

  it('reports omnilink_disabled clearly while the tenant is switched off and resumes by itself when it is back on', async () => {
    const waits: number[] = [];
    const c = t.connector(key, {
      sleep: async (ms) => {
        waits.push(ms);
        // An admin switches OmniLink back on while the connector waits.
        if (waits.length === 2)
          await t.db
            .sql`update tenant_settings set omnilink_enabled = true where tenant_id = ${key.tenantId}`;
      },
    });
    await t.db
      .sql`update tenant_settings set omnilink_enabled = false where tenant_id = ${key.tenantId}`;
    t.logs.length = 0;
    const result = await c.emit({ type: 'while-off', idempotency_key: 'off-1' });
    expect(result.status).toBe('created');
    expect(waits).toHaveLength(2);
    expect(
      t.logs.filter((line) => line.includes('OmniLink is switched off (omnilink_disabled)')),
    ).toHaveLength(2);
  });

  it('surfaces a refusal as a typed error with the contract’s code', async () => {
    const eventsOnly = await t.issueKey({
      tenant: 'acme',
      source: 'lead-gen',
      scopes: ['events:write'],
    });
    const error = await t
      .connector(eventsOnly)
      .claim()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OmniHubError);
    expect(error).toMatchObject({
      code: 'permission_denied',
      status: 403,
      body: { required_scope: 'tasks:claim' },
    });
  });
});
