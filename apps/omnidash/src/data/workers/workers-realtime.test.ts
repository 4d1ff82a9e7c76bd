import { QueryClient } from '@tanstack/react-query';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { workerKeys } from './keys.ts';
import { applyWorkerChange } from './workers-realtime.ts';
import { isOnline, WORKERS_LIMIT, type WorkerRow } from './workers-query.ts';

const TENANT = 't1';

function worker(id: string, lastSeen: string, overrides: Partial<WorkerRow> = {}): WorkerRow {
  return {
    id,
    source: 'apex-sales',
    worker_id: `w-${id}`,
    first_seen_at: '2026-11-20T09:00:00+00:00',
    last_seen_at: lastSeen,
    last_claim_at: null,
    ...overrides,
  };
}

const row = (w: WorkerRow) => ({ ...w, tenant_id: TENANT, integration_id: 'i1' });

let queryClient: QueryClient;
beforeEach(() => {
  vi.useFakeTimers();
  queryClient = new QueryClient();
});
afterEach(async () => {
  // invalidateSoon remembers what it has scheduled: let it all run.
  await vi.runAllTimersAsync();
  vi.useRealTimers();
  queryClient.clear();
});

const list = () => queryClient.getQueryData<WorkerRow[]>(workerKeys.list(TENANT));

describe('applyWorkerChange', () => {
  it('adds a new worker and moves one seen again to the top, in place', () => {
    const a = worker('a', '2026-11-20T10:00:00+00:00');
    const b = worker('b', '2026-11-20T09:59:00+00:00');
    queryClient.setQueryData(workerKeys.list(TENANT), [a, b]);

    const c = worker('c', '2026-11-20T10:00:30+00:00');
    applyWorkerChange(queryClient, TENANT, { type: 'INSERT', new: row(c) });
    expect(list()!.map((w) => w.id)).toEqual(['c', 'a', 'b']);

    const bAgain = {
      ...b,
      last_seen_at: '2026-11-20T10:01:00+00:00',
      last_claim_at: '2026-11-20T10:01:00+00:00',
    };
    applyWorkerChange(queryClient, TENANT, { type: 'UPDATE', new: row(bAgain) });
    expect(list()).toEqual([bAgain, c, a]);
  });

  it('refetches instead when the list is full, since a worker beyond it may belong in it', async () => {
    const full = Array.from({ length: WORKERS_LIMIT }, (_, i) =>
      worker(`w${i}`, '2026-11-20T10:00:00+00:00'),
    );
    queryClient.setQueryData(workerKeys.list(TENANT), full);
    const spy = vi.spyOn(queryClient, 'invalidateQueries');
    applyWorkerChange(queryClient, TENANT, {
      type: 'UPDATE',
      new: row(worker('w5', '2026-11-20T09:00:00+00:00')),
    });
    expect(list()).toBe(full);
    await vi.advanceTimersByTimeAsync(300);
    expect(spy).toHaveBeenCalledWith({ queryKey: workerKeys.all(TENANT) });
  });
});

describe('isOnline', () => {
  it('is online when seen within the last 60 seconds', () => {
    const now = Date.parse('2026-11-20T10:01:00Z');
    expect(isOnline({ last_seen_at: '2026-11-20T10:00:00+00:00' }, now)).toBe(true);
    expect(isOnline({ last_seen_at: '2026-11-20T09:59:59+00:00' }, now)).toBe(false);
  });
});
