import type { QueryClient, QueryKey } from '@tanstack/react-query';

/** One row change as Realtime delivers it (a DELETE carries only the key in `old`). */
export interface RowChange<Row = Record<string, unknown>> {
  type: 'INSERT' | 'UPDATE' | 'DELETE';
  new: Row;
  old: Partial<Row>;
}

/** Folds a change of one table into the query cache of one tenant. */
export type ChangeApplier = (queryClient: QueryClient, tenantId: string, change: RowChange) => void;

const pending = new Map<string, ReturnType<typeof setTimeout>>();

/**
 * Invalidates `queryKey` at most once per `ms`: a burst of events (a
 * simulation sends 14 at once) costs one refetch of an aggregate, not 14.
 */
export function invalidateSoon(queryClient: QueryClient, queryKey: QueryKey, ms = 250): void {
  const id = JSON.stringify(queryKey);
  if (pending.has(id)) return;
  pending.set(
    id,
    setTimeout(() => {
      pending.delete(id);
      void queryClient.invalidateQueries({ queryKey });
    }, ms),
  );
}
