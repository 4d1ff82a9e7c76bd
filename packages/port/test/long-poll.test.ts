import type { IssuedKey } from '@omnihub/database/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPortApp } from '../src/index.ts';
import { startPortHarness, startPortServer, type PortHarness } from './support.ts';

// These tests tell "woken by the new task" from "gave up at the deadline" by
// comparing the elapsed time with a generous wait_ms; they are not speed checks.
const LONG_WAIT_MS = 20_000;

describe.each([
  ['LISTEN/NOTIFY', true],
  ['polling fallback', false],
])('long-poll claims (%s)', (_mode, listen) => {
  let h: PortHarness;
  let key: IssuedKey;

  beforeAll(async () => {
    h = await startPortHarness({ http: true, listen });
    key = await h.issueKey({ tenant: 'acme', source: 'apex-sales' });
    // With LISTEN, the probe notification must have made the round trip.
    expect(await h.http!.server.signals.verified()).toBe(listen);
  });
  afterAll(() => h.close());

  it('returns a task created while the claim waits, long before wait_ms', async () => {
    const started = Date.now();
    const claim = h.http!.client.post('/tasks/claim', key.apiKey, {
      worker_id: 'w',
      wait_ms: LONG_WAIT_MS,
    });
    const created = await h.port.post('/tasks', key.apiKey, {
      target: 'apex-sales',
      action: 'wake',
    });
    const response = await claim;
    expect(response.body.tasks.map((t: { id: string }) => t.id)).toEqual([created.body.task.id]);
    expect(Date.now() - started).toBeLessThan(LONG_WAIT_MS);
  });

  it('returns an empty list once wait_ms has passed with nothing ready', async () => {
    const started = Date.now();
    const response = await h.http!.client.post('/tasks/claim', key.apiKey, {
      worker_id: 'w',
      wait_ms: 600,
    });
    expect(response.body).toEqual({ tasks: [] });
    expect(Date.now() - started).toBeGreaterThanOrEqual(600);
  });

  it('wakes when a delayed task becomes due', async () => {
    const runAt = new Date(Date.now() + 1_000);
    const created = await h.port.post('/tasks', key.apiKey, {
      target: 'apex-sales',
      action: 'later',
      run_at: runAt.toISOString(),
    });
    const response = await h.http!.client.post('/tasks/claim', key.apiKey, {
      worker_id: 'w',
      wait_ms: LONG_WAIT_MS,
    });
    expect(response.body.tasks.map((t: { id: string }) => t.id)).toEqual([created.body.task.id]);
    expect(Date.now()).toBeGreaterThanOrEqual(runAt.getTime());
    expect(Date.now() - runAt.getTime()).toBeLessThan(LONG_WAIT_MS);
  });

  it('is not woken by tasks of another target', async () => {
    const started = Date.now();
    const claim = h.http!.client.post('/tasks/claim', key.apiKey, { worker_id: 'w', wait_ms: 800 });
    await h.port.post('/tasks', key.apiKey, { target: 'lead-gen', action: 'not-for-apex' });
    expect((await claim).body).toEqual({ tasks: [] });
    expect(Date.now() - started).toBeGreaterThanOrEqual(800);
  });

  it('hands one new task to exactly one of several waiting claimers', async () => {
    const waiting = Array.from({ length: 5 }, (_, i) =>
      h.http!.client.post('/tasks/claim', key.apiKey, { worker_id: `w${i}`, wait_ms: 1_500 }),
    );
    const created = await h.port.post('/tasks', key.apiKey, {
      target: 'apex-sales',
      action: 'one',
    });
    const results = await Promise.all(waiting);
    const got = results.flatMap((r) => r.body.tasks.map((t: { id: string }) => t.id));
    expect(got).toEqual([created.body.task.id]);
  });
});

describe('a long-poll claim whose caller hung up', () => {
  it('leases nothing to the caller that is gone', async () => {
    const h = await startPortHarness();
    try {
      const key = await h.issueKey({ tenant: 'acme', source: 'apex-sales' });
      let finished!: () => void;
      const claimFinished = new Promise<void>((resolve) => (finished = resolve));
      const server = await startPortServer({
        sql: h.db.sql,
        log: (entry) => {
          if (entry.msg === 'request' && String(entry.path).endsWith('/tasks/claim')) finished();
        },
      });
      try {
        // With LISTEN working, only a notification, the 2 s safety re-check or the hang-up ends a wait.
        expect(await server.signals.verified()).toBe(true);
        const controller = new AbortController();
        const claim = fetch(`${server.baseUrl}/tasks/claim`, {
          method: 'POST',
          headers: { authorization: `Bearer ${key.apiKey}` },
          body: JSON.stringify({ worker_id: 'gone-worker', wait_ms: 25_000 }),
          signal: controller.signal,
        }).catch(() => 'aborted');
        // The first round has run once the worker is recorded: the claim now waits.
        await expect
          .poll(
            async () =>
              (await h.db.sql`select 1 from workers where worker_id = 'gone-worker'`).length,
          )
          .toBe(1);
        // A task appears without a notification, then the caller hangs up.
        await h.db.sql`alter table tasks disable trigger tasks_after_insert`;
        await h.db
          .sql`insert into tasks (tenant_id, target, action) values (${key.tenantId}, 'apex-sales', 'orphan')`;
        await h.db.sql`alter table tasks enable trigger tasks_after_insert`;
        controller.abort();
        expect(await claim).toBe('aborted');
        await claimFinished;
        const [row] = await h.db.sql`select status, claimed_by from tasks where action = 'orphan'`;
        expect(row).toEqual({ status: 'queued', claimed_by: null });
      } finally {
        await server.close();
      }
    } finally {
      await h.close();
    }
  });
});

describe('a claim whose caller hung up while it ran', () => {
  it('hands the tasks it took back to the queue, uncounted', async () => {
    const h = await startPortHarness();
    try {
      const key = await h.issueKey({ tenant: 'acme', source: 'apex-sales' });
      const created = await h.port.post('/tasks', key.apiKey, {
        target: 'apex-sales',
        action: 'orphan',
      });
      // Already hung up when the claim round runs: the answer can never arrive.
      const app = createPortApp({ sql: h.db.sql, log: () => {} });
      await app.request('/omnilink-port/tasks/claim', {
        method: 'POST',
        headers: { authorization: `Bearer ${key.apiKey}` },
        body: JSON.stringify({ worker_id: 'gone' }),
        signal: AbortSignal.abort(),
      });
      const [row] = await h.db
        .sql`select status, attempts, lease_expires_at from tasks where id = ${created.body.task.id}`;
      expect(row).toEqual({ status: 'queued', attempts: 0, lease_expires_at: null });
      expect(
        await h.db.sql`select 1 from task_attempts where task_id = ${created.body.task.id}`,
      ).toHaveLength(0);
      const next = await h.port.post('/tasks/claim', key.apiKey, { worker_id: 'present' });
      expect(
        next.body.tasks.map((t: { id: string; attempts: number }) => [t.id, t.attempts]),
      ).toEqual([[created.body.task.id, 1]]);
    } finally {
      await h.close();
    }
  });
});
