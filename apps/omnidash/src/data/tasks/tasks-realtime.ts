import type { ChangeApplier } from '../realtime/changes.ts';
import { putTask, taskSetChanged } from './tasks-cache.ts';
import type { TaskRow } from './types.ts';

/**
 * Task changes from the tenant's channel. An UPDATE carries the whole new
 * row, so it goes straight into every list page and detail that shows it
 * (queued → running → succeeded without a refetch); an INSERT shifts
 * pages and counts, so the lists are refetched (coalesced).
 */
export const applyTaskChange: ChangeApplier = (queryClient, tenantId, change) => {
  if (change.type === 'UPDATE') putTask(queryClient, tenantId, change.new as unknown as TaskRow);
  else taskSetChanged(queryClient, tenantId);
};
