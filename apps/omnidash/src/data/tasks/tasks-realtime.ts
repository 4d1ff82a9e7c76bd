import type { ChangeApplier } from '../realtime/changes.ts';
import { putTask, taskSetChanged } from './tasks-cache.ts';
import { addChainDependent } from './tasks-chain-cache.ts';
import type { TaskRow } from './types.ts';

/**
 * Task changes from the tenant's channel. An UPDATE carries the whole new
 * row, so it goes straight into every list page and detail that shows it
 * (queued → running → succeeded without a refetch); an INSERT shifts
 * pages and counts, so the lists are refetched (coalesced), and so is
 * the chain of any task it depends on.
 */
export const applyTaskChange: ChangeApplier = (queryClient, tenantId, change) => {
  if (change.type === 'UPDATE') putTask(queryClient, tenantId, change.new as unknown as TaskRow);
  else {
    taskSetChanged(queryClient, tenantId);
    addChainDependent(queryClient, tenantId, change.new as unknown as TaskRow);
  }
};
