import type { SupabaseClient } from '@supabase/supabase-js';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { useSupabase } from '../../supabase-context.tsx';
import { unwrap } from '../errors.ts';
import { telemetryKeys } from './keys.ts';

/** One row of public.event_series: a source's events in one bucket (only buckets with events). */
export interface TelemetrySeriesPoint {
  bucket_start: string;
  source: string;
  event_count: number;
}

/** Events per source per `bucket` (a Postgres interval, "1 hour") since `since`, counted in Postgres. */
export async function fetchTelemetrySeries(
  supabase: SupabaseClient,
  tenantId: string,
  since: string | null,
  bucket: string,
): Promise<TelemetrySeriesPoint[]> {
  const rows = unwrap(
    await supabase.rpc('event_series', {
      p_tenant_id: tenantId,
      p_since: since,
      p_bucket: bucket,
    }),
  ) as TelemetrySeriesPoint[];
  return rows.map((row) => ({ ...row, event_count: Number(row.event_count) }));
}

export function useTelemetrySeriesQuery(tenantId: string, since: string | null, bucket: string) {
  const supabase = useSupabase();
  return useQuery({
    queryKey: telemetryKeys.series(tenantId, since, bucket),
    queryFn: () => fetchTelemetrySeries(supabase, tenantId, since, bucket),
    placeholderData: keepPreviousData,
  });
}
