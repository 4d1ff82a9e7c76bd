import type { IssuedKey } from '@omnihub/database/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPortHarness, type PortHarness } from './support.ts';

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
