import type { TelemetryEventFilters } from './telemetry-events-query.ts';

export const telemetryKeys = {
  all: (tenantId: string) => ['tenants', tenantId, 'telemetry'] as const,
  /** Every window's per-(source, type) counts. */
  allStats: (tenantId: string) => [...telemetryKeys.all(tenantId), 'stats'] as const,
  stats: (tenantId: string, since: string | null) =>
    [...telemetryKeys.allStats(tenantId), { since }] as const,
  /** Every window's chart series. */
  allSeries: (tenantId: string) => [...telemetryKeys.all(tenantId), 'series'] as const,
  series: (tenantId: string, since: string | null, bucket: string) =>
    [...telemetryKeys.allSeries(tenantId), { since, bucket }] as const,
  /** Every page of the recent-events list, whatever its filters. */
  allEvents: (tenantId: string) => [...telemetryKeys.all(tenantId), 'events'] as const,
  events: (tenantId: string, filters: TelemetryEventFilters) =>
    [...telemetryKeys.allEvents(tenantId), filters] as const,
};
