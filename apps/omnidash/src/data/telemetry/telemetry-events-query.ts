import type { SupabaseClient } from '@supabase/supabase-js';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { useSupabase } from '../../supabase-context.tsx';
import { unwrap } from '../errors.ts';
import { telemetryKeys } from './keys.ts';

export const TELEMETRY_EVENTS_PAGE_SIZE = 50;

/** An event as the recent-events list shows it. */
export interface TelemetryEventRow {
  id: string;
  source: string;
  type: string;
  occurred_at: string;
  data: Record<string, unknown>;
}

const COLUMNS = ['id', 'source', 'type', 'occurred_at', 'data'] as const;

/** Which events a page shows: occurred_at at or after `since` (null: any), of `source` and `type` (null: any). */
export interface TelemetryEventFilters {
  since: string | null;
  source: string | null;
  type: string | null;
  /** 0-based, of TELEMETRY_EVENTS_PAGE_SIZE events. */
  page: number;
}

export interface TelemetryEventPage {
  /** Newest first by occurred_at. */
  rows: TelemetryEventRow[];
  /** Whether an older page exists. */
  hasMore: boolean;
}

/**
 * One page of the tenant's events, newest first. It asks for one row more
 * than a page to know whether another follows, instead of counting every
 * match (the panels' counts already say how many there are).
 */
export async function fetchTelemetryEvents(
  supabase: SupabaseClient,
  tenantId: string,
  filters: TelemetryEventFilters,
): Promise<TelemetryEventPage> {
  let query = supabase
    .from('telemetry_events')
    .select(COLUMNS.join(', '))
    .eq('tenant_id', tenantId);
  if (filters.since !== null) query = query.gte('occurred_at', filters.since);
  if (filters.source !== null) query = query.eq('source', filters.source);
  if (filters.type !== null) query = query.eq('type', filters.type);
  const from = filters.page * TELEMETRY_EVENTS_PAGE_SIZE;
  const rows = unwrap(
    await query
      .order('occurred_at', { ascending: false })
      .order('id', { ascending: false })
      .range(from, from + TELEMETRY_EVENTS_PAGE_SIZE),
  ) as unknown as TelemetryEventRow[];
  return {
    rows: rows.slice(0, TELEMETRY_EVENTS_PAGE_SIZE),
    hasMore: rows.length > TELEMETRY_EVENTS_PAGE_SIZE,
  };
}

export function useTelemetryEventsQuery(tenantId: string, filters: TelemetryEventFilters) {
  const supabase = useSupabase();
  return useQuery({
    queryKey: telemetryKeys.events(tenantId, filters),
    queryFn: () => fetchTelemetryEvents(supabase, tenantId, filters),
    placeholderData: keepPreviousData,
  });
}

/** The list's fields of a telemetry_events row (a Realtime change carries them all). */
export function toEventRow(row: Record<string, unknown>): TelemetryEventRow {
  return Object.fromEntries(COLUMNS.map((column) => [column, row[column]])) as never;
}

/** Whether a list with these filters would show the event. */
export function eventMatches(event: TelemetryEventRow, filters: TelemetryEventFilters): boolean {
  return (
    (filters.since === null || Date.parse(event.occurred_at) >= Date.parse(filters.since)) &&
    (filters.source === null || event.source === filters.source) &&
    (filters.type === null || event.type === filters.type)
  );
}

/** Newest first, as the query orders: occurred_at, then id (time-ordered) to break ties. */
function isNewer(a: TelemetryEventRow, b: TelemetryEventRow): boolean {
  const diff = Date.parse(a.occurred_at) - Date.parse(b.occurred_at);
  return diff !== 0 ? diff > 0 : a.id > b.id;
}

/**
 * The first page with a new event in its place (usually the top; an agent
 * may report an event that occurred earlier, so not always). An event
 * older than a full page's last belongs to a later page: the page only
 * learns that one more exists. The same event twice changes nothing.
 */
export function insertIntoFirstPage(
  page: TelemetryEventPage,
  event: TelemetryEventRow,
): TelemetryEventPage {
  if (page.rows.some((row) => row.id === event.id)) return page;
  const index = page.rows.findIndex((row) => isNewer(event, row));
  const at = index === -1 ? page.rows.length : index;
  if (at >= TELEMETRY_EVENTS_PAGE_SIZE) return page.hasMore ? page : { ...page, hasMore: true };
  const rows = [...page.rows.slice(0, at), event, ...page.rows.slice(at)];
  const overflow = rows.length > TELEMETRY_EVENTS_PAGE_SIZE;
  return {
    rows: overflow ? rows.slice(0, TELEMETRY_EVENTS_PAGE_SIZE) : rows,
    hasMore: page.hasMore || overflow,
  };
}
