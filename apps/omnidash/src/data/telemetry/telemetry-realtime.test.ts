import { QueryClient } from '@tanstack/react-query';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { telemetryKeys } from './keys.ts';
import { AGGREGATE_REFETCH_MS, applyTelemetryChange } from './telemetry-realtime.ts';
import {
  TELEMETRY_EVENTS_PAGE_SIZE,
  type TelemetryEventFilters,
  type TelemetryEventPage,
  type TelemetryEventRow,
} from './telemetry-events-query.ts';

const TENANT = 't1';
const SINCE = '2026-11-20T00:00:00.000Z';

let n = 0;
function event(overrides: Partial<TelemetryEventRow> = {}): TelemetryEventRow {
  n++;
  return {
    id: `0000000${n}`.slice(-8),
    source: 'lead-gen',
    type: 'lead_ingested',
    occurred_at: `2026-11-20T10:${String(n % 60).padStart(2, '0')}:00+00:00`,
    data: { n },
    ...overrides,
  };
}

/** What a Realtime INSERT carries: every column of the row. */
const insert = (row: TelemetryEventRow) => ({
  type: 'INSERT' as const,
  new: {
    ...row,
    tenant_id: TENANT,
    integration_id: 'i1',
    idempotency_key: `k-${row.id}`,
    received_at: '2026-11-20T10:00:00+00:00',
  },
});

const filters = (overrides: Partial<TelemetryEventFilters> = {}): TelemetryEventFilters => ({
  since: SINCE,
  source: null,
  type: null,
  page: 0,
  ...overrides,
});

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

function seed(f: TelemetryEventFilters, page: TelemetryEventPage) {
  queryClient.setQueryData(telemetryKeys.events(TENANT, f), page);
}
const page = (f: TelemetryEventFilters) =>
  queryClient.getQueryData<TelemetryEventPage>(telemetryKeys.events(TENANT, f));

describe('applyTelemetryChange', () => {
  it('puts a new event at the top of the first page of every list whose filters it matches', () => {
    const older = event({ occurred_at: '2026-11-20T09:00:00+00:00' });
    const all = filters();
    const leadGen = filters({ source: 'lead-gen' });
    const apex = filters({ source: 'apex-sales' });
    const qualified = filters({ type: 'lead_qualified' });
    const beforeWindow = filters({ since: '2026-11-20T11:00:00.000Z' });
    for (const f of [all, leadGen, apex, qualified, beforeWindow])
      seed(f, { rows: f === all || f === leadGen ? [older] : [], hasMore: false });

    const fresh = event({ occurred_at: '2026-11-20T10:30:00+00:00' });
    applyTelemetryChange(queryClient, TENANT, insert(fresh));

    expect(page(all)!.rows.map((row) => row.id)).toEqual([fresh.id, older.id]);
    expect(page(leadGen)!.rows.map((row) => row.id)).toEqual([fresh.id, older.id]);
    expect(page(apex)!.rows).toEqual([]);
    expect(page(qualified)!.rows).toEqual([]);
    expect(page(beforeWindow)!.rows).toEqual([]);
    // Only the list's own fields are kept.
    expect(page(all)!.rows[0]).toEqual(fresh);
  });

  it('places an event by occurred_at, keeps a page at 50 and says an older page now exists', () => {
    const rows = Array.from({ length: TELEMETRY_EVENTS_PAGE_SIZE }, (_, i) =>
      event({
        occurred_at: new Date(Date.parse('2026-11-20T12:00:00Z') - i * 60_000).toISOString(),
      }),
    );
    const f = filters();
    seed(f, { rows, hasMore: false });
    const between = event({ occurred_at: '2026-11-20T11:58:30.000Z' });
    applyTelemetryChange(queryClient, TENANT, insert(between));
    const after = page(f)!;
    expect(after.rows).toHaveLength(TELEMETRY_EVENTS_PAGE_SIZE);
    expect(after.rows.map((row) => row.id).indexOf(between.id)).toBe(2);
    expect(after.rows.at(-1)).toEqual(rows.at(-2));
    expect(after.hasMore).toBe(true);
  });

  it('ignores an event it already has', () => {
    const f = filters();
    const known = event();
    seed(f, { rows: [known], hasMore: false });
    applyTelemetryChange(queryClient, TENANT, insert(known));
    expect(page(f)!.rows).toHaveLength(1);
  });

  it('refetches later pages at once, and the counts and the chart once a second', async () => {
    const spy = vi.spyOn(queryClient, 'invalidateQueries');
    const second = filters({ page: 1 });
    seed(second, { rows: [event()], hasMore: false });
    for (let i = 0; i < 14; i++) applyTelemetryChange(queryClient, TENANT, insert(event()));
    expect(spy).not.toHaveBeenCalled();
    const invalidated = () =>
      spy.mock.calls.map(([options]) => JSON.stringify(options?.queryKey)).sort();
    await vi.advanceTimersByTimeAsync(300);
    expect(invalidated()).toEqual([JSON.stringify(telemetryKeys.events(TENANT, second))]);
    for (let i = 0; i < 14; i++) applyTelemetryChange(queryClient, TENANT, insert(event()));
    await vi.advanceTimersByTimeAsync(AGGREGATE_REFETCH_MS - 300);
    expect(invalidated()).toEqual(
      [
        telemetryKeys.allStats(TENANT),
        telemetryKeys.allSeries(TENANT),
        telemetryKeys.events(TENANT, second),
        telemetryKeys.events(TENANT, second),
      ]
        .map((key) => JSON.stringify(key))
        .sort(),
    );
  });
});
