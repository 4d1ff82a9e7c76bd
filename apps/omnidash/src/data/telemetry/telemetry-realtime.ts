import { invalidateSoon, type ChangeApplier } from '../realtime/changes.ts';
import { telemetryKeys } from './keys.ts';
import {
  eventMatches,
  insertIntoFirstPage,
  toEventRow,
  type TelemetryEventFilters,
  type TelemetryEventPage,
} from './telemetry-events-query.ts';

/** How often, at most, a stream of events refetches the counts and the chart. */
export const AGGREGATE_REFETCH_MS = 1000;

/**
 * A new event goes straight into the first page of every recent-events list
 * whose filters it matches; later pages shift by one, so they are refetched,
 * as are the counts and the chart (at most once a second, so a simulation's
 * burst or a steady stream costs one refetch each per second). Events are append-only: any other change is
 * unexpected, and refetches everything.
 */
export const applyTelemetryChange: ChangeApplier = (queryClient, tenantId, change) => {
  if (change.type !== 'INSERT') {
    invalidateSoon(queryClient, telemetryKeys.all(tenantId));
    return;
  }
  const event = toEventRow(change.new);
  const lists = queryClient.getQueriesData<TelemetryEventPage>({
    queryKey: telemetryKeys.allEvents(tenantId),
  });
  for (const [queryKey, page] of lists) {
    const filters = queryKey[queryKey.length - 1] as TelemetryEventFilters;
    if (!eventMatches(event, filters)) continue;
    // A fetch under way may have read before the event was stored: its
    // answer would overwrite the event, so ask again after it instead.
    const fetching = queryClient.getQueryState(queryKey)?.fetchStatus === 'fetching';
    if (page === undefined || filters.page > 0 || fetching) {
      invalidateSoon(queryClient, queryKey);
      continue;
    }
    queryClient.setQueryData<TelemetryEventPage>(queryKey, insertIntoFirstPage(page, event));
  }
  // Counted again by Postgres rather than incremented here: an event whose
  // delivery trails a refetch that already counted it would count twice.
  invalidateSoon(queryClient, telemetryKeys.allStats(tenantId), AGGREGATE_REFETCH_MS);
  invalidateSoon(queryClient, telemetryKeys.allSeries(tenantId), AGGREGATE_REFETCH_MS);
};
