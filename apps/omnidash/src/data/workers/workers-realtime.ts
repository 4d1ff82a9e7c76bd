import { invalidateSoon, type ChangeApplier } from '../realtime/changes.ts';
import { workerKeys } from './keys.ts';
import { toWorkerRow, upsertWorker, WORKERS_LIMIT, type WorkerRow } from './workers-query.ts';

/**
 * A worker seen by the port (INSERT) or seen again (UPDATE) replaces its row
 * in the cached list, which stays in the query's order.
 * Where the cache cannot know the exact answer (no list yet, a fetch under
 * way, or a full list that rows beyond it could now enter), the list is
 * refetched instead.
 */
export const applyWorkerChange: ChangeApplier = (queryClient, tenantId, change) => {
  const key = workerKeys.list(tenantId);
  const list = queryClient.getQueryData<WorkerRow[]>(key);
  const fetching = queryClient.getQueryState(key)?.fetchStatus === 'fetching';
  if (list === undefined || fetching || list.length >= WORKERS_LIMIT) {
    invalidateSoon(queryClient, workerKeys.all(tenantId));
    return;
  }
  queryClient.setQueryData<WorkerRow[]>(key, upsertWorker(list, toWorkerRow(change.new)));
};
