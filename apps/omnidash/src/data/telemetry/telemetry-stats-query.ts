import type { SupabaseClient } from '@supabase/supabase-js';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { useSupabase } from '../../supabase-context.tsx';
import { unwrap } from '../errors.ts';
import { telemetryKeys } from './keys.ts';

/** One row of public.agent_panel_stats: the events of one (source, type) in the window. */
export interface TelemetryTypeCount {
  source: string;
  type: string;
  event_count: number;
  last_occurred_at: string;
  /** The latest event's data, for queue_seeded only. */
  last_data: Record<string, unknown> | null;
}

/** Counts per (source, type) of the tenant's events since `since` (null: all time), counted in Postgres. */
export async function fetchTelemetryStats(
  supabase: SupabaseClient,
  tenantId: string,
  since: string | null,
): Promise<TelemetryTypeCount[]> {
  const rows = unwrap(
    await supabase.rpc('agent_panel_stats', { p_tenant_id: tenantId, p_since: since }),
  ) as TelemetryTypeCount[];
  // bigint arrives as a JSON number from PostgREST; make sure of it.
  return rows.map((row) => ({ ...row, event_count: Number(row.event_count) }));
}

export function useTelemetryStatsQuery(tenantId: string, since: string | null) {
  const supabase = useSupabase();
  return useQuery({
    queryKey: telemetryKeys.stats(tenantId, since),
    queryFn: () => fetchTelemetryStats(supabase, tenantId, since),
    // The window slides every minute: keep showing the last numbers meanwhile.
    placeholderData: keepPreviousData,
  });
}

/** The sources the screen has panels for, in the order it shows them. */
export const PANEL_SOURCES = ['lead-gen', 'apex-sales'] as const;

/** What the Lead-Gen and APEX-Sales panels show. */
export interface PanelNumbers {
  leadGen: { ingested: number; qualified: number; queueSize: number | null };
  apexSales: { attempts: number; connections: number; bookings: number };
}

/**
 * The panels' numbers from the counts: the same definitions the agents'
 * simulations print (agents/*\/src/simulate.ts). Queue size is the
 * queue_size of the latest lead-gen queue_seeded in the window, null if none.
 */
export function panelNumbers(rows: readonly TelemetryTypeCount[]): PanelNumbers {
  const count = (source: string, type: string) =>
    rows.find((row) => row.source === source && row.type === type)?.event_count ?? 0;
  const queue = rows.find((row) => row.source === 'lead-gen' && row.type === 'queue_seeded');
  const queueSize = queue?.last_data?.queue_size;
  return {
    leadGen: {
      ingested: count('lead-gen', 'lead_ingested'),
      qualified: count('lead-gen', 'lead_qualified'),
      queueSize: typeof queueSize === 'number' ? queueSize : null,
    },
    apexSales: {
      attempts: count('apex-sales', 'call_attempted'),
      connections: count('apex-sales', 'call_connected'),
      bookings: count('apex-sales', 'meeting_booked'),
    },
  };
}

/** How many events in the window match a source and type filter (null: any). */
export function matchingCount(
  rows: readonly TelemetryTypeCount[],
  source: string | null,
  type: string | null,
): number {
  return rows
    .filter(
      (row) => (source === null || row.source === source) && (type === null || row.type === type),
    )
    .reduce((sum, row) => sum + row.event_count, 0);
}
