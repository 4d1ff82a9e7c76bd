import type { Query, QueryClient, QueryKey } from '@tanstack/react-query';

/**
 * One row change as Realtime delivers it. Only inserts and updates are
 * followed: Realtime cannot filter deletes by tenant or check them against
 * RLS, so subscribing to them would deliver every tenant's deleted keys.
 */
export interface RowChange<Row = Record<string, unknown>> {
  type: 'INSERT' | 'UPDATE';
  new: Row;
}

/** Folds a change of one table into the query cache of one tenant. */
export type ChangeApplier = (queryClient: QueryClient, tenantId: string, change: RowChange) => void;

/** Runs `then` once `query`'s fetch in flight has settled (nothing if the query is dropped first). */
export function whenFetched(queryClient: QueryClient, query: Query, then: () => void): void {
  const unsubscribe = queryClient.getQueryCache().subscribe((event) => {
    if (event.query !== query) return;
    if (event.type === 'removed') unsubscribe();
    else if (query.state.fetchStatus === 'idle') {
      unsubscribe();
      then();
    }
  });
}

/**
 * Refetches `queryKey`'s queries (a prefix) after a change. TanStack
 * restarts a refetch in flight, but joins a first fetch in flight instead,
 * whose answer may predate the change: those are asked again once they
 * have answered.
 */
export function refetchAfterChange(queryClient: QueryClient, queryKey: QueryKey): void {
  for (const query of queryClient.getQueryCache().findAll({ queryKey })) {
    if (query.state.data === undefined && query.state.fetchStatus === 'fetching')
      whenFetched(queryClient, query, () => {
        void queryClient.invalidateQueries({ queryKey: query.queryKey, exact: true });
      });
  }
  void queryClient.invalidateQueries({ queryKey });
}

const pending = new WeakMap<QueryClient, Map<string, ReturnType<typeof setTimeout>>>();

/**
 * Refetches `queryKey` (refetchAfterChange) at most once per `ms`: a burst
 * of events (a simulation sends 14 at once) costs one refetch of an
 * aggregate, not 14.
 */
export function invalidateSoon(queryClient: QueryClient, queryKey: QueryKey, ms = 250): void {
  let timers = pending.get(queryClient);
  if (!timers) pending.set(queryClient, (timers = new Map()));
  const id = JSON.stringify(queryKey);
  if (timers.has(id)) return;
  timers.set(
    id,
    setTimeout(() => {
      timers.delete(id);
      refetchAfterChange(queryClient, queryKey);
    }, ms),
  );
}
