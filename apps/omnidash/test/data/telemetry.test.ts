import type { IssuedKey } from '@omnihub/database/testing';
import { startTestStack, type TestStack } from '@omnihub/local-stack/testing';
import type { SupabaseClient } from '@supabase/supabase-js';
import { QueryClient } from '@tanstack/react-query';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RowChange } from '../../src/data/realtime/changes.ts';
import { telemetryKeys } from '../../src/data/telemetry/keys.ts';
import {
  fetchTelemetryEvents,
  TELEMETRY_EVENTS_PAGE_SIZE,
  type TelemetryEventFilters,
  type TelemetryEventPage,
} from '../../src/data/telemetry/telemetry-events-query.ts';
import { applyTelemetryChange } from '../../src/data/telemetry/telemetry-realtime.ts';
import { fetchTelemetrySeries } from '../../src/data/telemetry/telemetry-series-query.ts';
import {
  fetchTelemetryStats,
  panelNumbers,
} from '../../src/data/telemetry/telemetry-stats-query.ts';
import { fetchWorkers, isOnline } from '../../src/data/workers/workers-query.ts';
import { refusal } from './support.ts';

let t: TestStack;
let leadGen: IssuedKey;
let apexSales: IssuedKey;
let member: SupabaseClient;
let stranger: SupabaseClient;

/** All events are stamped relative to one time, so windows and buckets are exact. */
const BASE = Date.parse('2026-11-20T12:00:00Z');
const at = (minutesAgo: number) => new Date(BASE - minutesAgo * 60_000).toISOString();
const SINCE_24H = at(24 * 60);

let sent = 0;
async function emit(
  key: IssuedKey,
  events: { type: string; minutesAgo: number; data?: Record<string, unknown> }[],
) {
  const response = await fetch(`${t.stack.portUrl}/events`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key.apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      events: events.map((event) => ({
        type: event.type,
        idempotency_key: `test-${++sent}`,
        occurred_at: at(event.minutesAgo),
        data: event.data ?? {},
      })),
    }),
  });
  expect(response.status).toBe(200);
  expect(await response.json()).toMatchObject({ created: events.length });
}

const times = <T>(n: number, value: T): T[] => Array.from({ length: n }, () => value);

beforeAll(async () => {
  t = await startTestStack();
  leadGen = await t.issueKey({ tenant: 'acme', source: 'lead-gen' });
  apexSales = await t.issueKey({ tenant: 'acme', source: 'apex-sales' });
  const other = await t.issueKey({ tenant: 'globex', source: 'lead-gen' });

  // What one Lead-Gen simulation sends (8 ingested, 5 qualified, queue 5), an
  // older queue_seeded, and an ingest three days back.
  await emit(leadGen, [
    ...times(8, { type: 'lead_ingested', minutesAgo: 30 }),
    ...times(5, { type: 'lead_qualified', minutesAgo: 29 }),
    { type: 'queue_seeded', minutesAgo: 120, data: { queue_size: 2, qualified_leads: 2 } },
    { type: 'queue_seeded', minutesAgo: 28, data: { queue_size: 5, qualified_leads: 5 } },
    { type: 'lead_ingested', minutesAgo: 3 * 24 * 60 },
  ]);
  await emit(apexSales, [
    ...times(10, { type: 'call_attempted', minutesAgo: 20 }),
    ...times(6, { type: 'call_connected', minutesAgo: 19 }),
    ...times(2, { type: 'meeting_booked', minutesAgo: 18 }),
    ...times(3, { type: 'error', minutesAgo: 17 }),
  ]);
  await emit(other, times(7, { type: 'lead_ingested', minutesAgo: 1 }));

  const user = await t.createUser({ tenantId: leadGen.tenantId, role: 'viewer' });
  member = await t.supabaseAs(await t.accessToken(user));
  const outsider = await t.createUser({ tenantId: other.tenantId, role: 'admin' });
  stranger = await t.supabaseAs(await t.accessToken(outsider));
});
afterAll(() => t?.close());

describe('fetchTelemetryStats', () => {
  it("gives the panels the member's numbers for the window", async () => {
    const rows = await fetchTelemetryStats(member, leadGen.tenantId, SINCE_24H);
    expect(panelNumbers(rows)).toEqual({
      leadGen: { ingested: 8, qualified: 5, queueSize: 5 },
      apexSales: { attempts: 10, connections: 6, bookings: 2 },
    });
    expect(rows.find((row) => row.type === 'error')).toMatchObject({
      source: 'apex-sales',
      event_count: 3,
      last_data: null,
    });
  });

  it('counts the three-day-old event in 7 days and in all time, not in 24 hours', async () => {
    const week = await fetchTelemetryStats(member, leadGen.tenantId, at(7 * 24 * 60));
    const ever = await fetchTelemetryStats(member, leadGen.tenantId, null);
    expect(panelNumbers(week).leadGen.ingested).toBe(9);
    expect(panelNumbers(ever).leadGen.ingested).toBe(9);
  });

  it('has no queue size when the window holds no queue_seeded', async () => {
    const rows = await fetchTelemetryStats(member, leadGen.tenantId, at(10));
    expect(panelNumbers(rows).leadGen).toEqual({ ingested: 0, qualified: 0, queueSize: null });
  });

  it("shows a member of another tenant nothing of this tenant's", async () => {
    expect(await fetchTelemetryStats(stranger, leadGen.tenantId, null)).toEqual([]);
    expect(panelNumbers(await fetchTelemetryStats(stranger, leadGen.tenantId, null))).toEqual({
      leadGen: { ingested: 0, qualified: 0, queueSize: null },
      apexSales: { attempts: 0, connections: 0, bookings: 0 },
    });
  });

  it('refuses a caller who is not signed in', async () => {
    const error = await refusal(fetchTelemetryStats(t.supabase(), leadGen.tenantId, null));
    expect(error).toMatchObject({ code: '42501' });
  });
});

describe('fetchTelemetrySeries', () => {
  it('counts events per source per hour', async () => {
    const points = await fetchTelemetrySeries(member, leadGen.tenantId, SINCE_24H, '1 hour');
    expect(points).toEqual([
      { bucket_start: '2026-11-20T10:00:00+00:00', source: 'lead-gen', event_count: 1 },
      { bucket_start: '2026-11-20T11:00:00+00:00', source: 'apex-sales', event_count: 21 },
      { bucket_start: '2026-11-20T11:00:00+00:00', source: 'lead-gen', event_count: 14 },
    ]);
  });

  it("shows a member of another tenant no buckets of this tenant's", async () => {
    expect(await fetchTelemetrySeries(stranger, leadGen.tenantId, null, '1 day')).toEqual([]);
  });
});

describe('fetchTelemetryEvents', () => {
  const filters = (overrides: Partial<TelemetryEventFilters>): TelemetryEventFilters => ({
    since: SINCE_24H,
    source: null,
    type: null,
    page: 0,
    ...overrides,
  });

  it('lists the newest first, 50 a page, and says when an older page exists', async () => {
    const first = await fetchTelemetryEvents(member, leadGen.tenantId, filters({}));
    expect(first.rows).toHaveLength(15 + 21); // lead-gen and apex-sales in the window
    expect(first.hasMore).toBe(false);
    const stamps = first.rows.map((row) => Date.parse(row.occurred_at));
    expect(stamps).toEqual([...stamps].sort((a, b) => b - a));
    expect(first.rows[0]).toMatchObject({ source: 'apex-sales', type: 'error' });

    const all = await fetchTelemetryEvents(member, leadGen.tenantId, filters({ since: null }));
    expect(all.rows).toHaveLength(37);
  });

  it('filters by source and by type', async () => {
    const apex = await fetchTelemetryEvents(
      member,
      leadGen.tenantId,
      filters({ source: 'apex-sales' }),
    );
    expect(apex.rows).toHaveLength(21);
    expect(new Set(apex.rows.map((row) => row.source))).toEqual(new Set(['apex-sales']));
    const queue = await fetchTelemetryEvents(
      member,
      leadGen.tenantId,
      filters({ source: 'lead-gen', type: 'queue_seeded' }),
    );
    expect(queue.rows.map((row) => row.data)).toEqual([
      { queue_size: 5, qualified_leads: 5 },
      { queue_size: 2, qualified_leads: 2 },
    ]);
  });

  it('pages through more than 50 events without repeating or skipping one', async () => {
    await emit(apexSales, times(60, { type: 'call_completed', minutesAgo: 5 }));
    const type = 'call_completed';
    const first = await fetchTelemetryEvents(member, leadGen.tenantId, filters({ type }));
    const second = await fetchTelemetryEvents(member, leadGen.tenantId, filters({ type, page: 1 }));
    expect([first.rows.length, first.hasMore, second.rows.length, second.hasMore]).toEqual([
      TELEMETRY_EVENTS_PAGE_SIZE,
      true,
      60 - TELEMETRY_EVENTS_PAGE_SIZE,
      false,
    ]);
    expect(new Set([...first.rows, ...second.rows].map((row) => row.id)).size).toBe(60);
  });

  it("shows a member of another tenant none of this tenant's events", async () => {
    const page = await fetchTelemetryEvents(stranger, leadGen.tenantId, filters({ since: null }));
    expect(page).toEqual({ rows: [], hasMore: false });
  });

  it('receives a new event over Realtime into the cached first page, exactly as a fetch returns it', async () => {
    const queryClient = new QueryClient();
    const f = filters({ source: 'lead-gen', since: at(60) });
    const key = telemetryKeys.events(leadGen.tenantId, f);
    queryClient.setQueryData(key, await fetchTelemetryEvents(member, leadGen.tenantId, f));
    const channel = member.channel('test-telemetry').on(
      'postgres_changes',
      {
        event: '*',
        schema: 'public',
        table: 'telemetry_events',
        filter: `tenant_id=eq.${leadGen.tenantId}`,
      },
      (payload) =>
        applyTelemetryChange(queryClient, leadGen.tenantId, {
          type: payload.eventType as RowChange['type'],
          new: payload.new,
        }),
    );
    await new Promise<void>((resolve) =>
      channel.subscribe((status) => status === 'SUBSCRIBED' && resolve()),
    );
    await emit(leadGen, [{ type: 'lead_qualified', minutesAgo: 1, data: { lead_id: 'live-1' } }]);
    await expect
      .poll(() => queryClient.getQueryData<TelemetryEventPage>(key)?.rows[0]?.data)
      .toEqual({ lead_id: 'live-1' });
    expect(queryClient.getQueryData(key)).toEqual(
      await fetchTelemetryEvents(member, leadGen.tenantId, f),
    );
    await member.removeChannel(channel);
    queryClient.clear();
  });
});

describe('fetchWorkers', () => {
  it("lists the tenant's workers with their last claim, and none to another tenant's member", async () => {
    const response = await fetch(`${t.stack.portUrl}/tasks/claim`, {
      method: 'POST',
      headers: { authorization: `Bearer ${apexSales.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ worker_id: 'apex-sales-test-1' }),
    });
    expect(response.status).toBe(200);
    const workers = await fetchWorkers(member, apexSales.tenantId);
    expect(workers).toEqual([
      {
        id: expect.any(String),
        source: 'apex-sales',
        worker_id: 'apex-sales-test-1',
        first_seen_at: expect.any(String),
        last_seen_at: expect.any(String),
        last_claim_at: expect.any(String),
      },
    ]);
    expect(isOnline(workers[0]!, Date.now())).toBe(true);
    expect(await fetchWorkers(stranger, apexSales.tenantId)).toEqual([]);
  });
});
