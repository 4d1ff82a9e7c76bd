import type { Query, QueryClient } from '@tanstack/react-query';
import { invalidateSoon } from '../realtime/changes.ts';
import { taskKeys } from './keys.ts';
import type { TaskChainRow } from './tasks-chain-query.ts';
import { newerVersion, type TaskRow } from './types.ts';

/** The cached chains of the tenant, with their data. */
function cachedChains(queryClient: QueryClient, tenantId: string) {
  return queryClient.getQueryCache().findAll({ queryKey: taskKeys.chains(tenantId) }) as Query<
    TaskChainRow[]
  >[];
}

/**
 * A new version of a task, in every cached chain that lists it: its status
 * and error change in place (a chain shows running → succeeded, or
 * dependency_failed, without a refetch). Membership never changes with an
 * update, since depends_on is fixed at creation.
 */
export function putChainMember(queryClient: QueryClient, tenantId: string, row: TaskRow): void {
  for (const query of cachedChains(queryClient, tenantId)) {
    const chain = query.state.data;
    if (!chain) {
      // A first fetch in flight may answer from before this change.
      if (query.state.fetchStatus === 'fetching') invalidateSoon(queryClient, query.queryKey);
      continue;
    }
    const index = chain.findIndex((member) => member.id === row.id);
    if (index < 0) continue;
    const current = chain[index]!;
    const next: TaskChainRow = {
      ...current,
      status: row.status,
      error: row.error,
      updated_at: row.updated_at,
      finished_at: row.finished_at,
    };
    if (newerVersion(current, next) === current) continue;
    const members = chain.slice();
    members[index] = next;
    queryClient.setQueryData<TaskChainRow[]>(query.queryKey, members);
  }
}

/** A new task: the chains of the tasks it depends on now have one more member, so they are read again. */
export function addChainDependent(
  queryClient: QueryClient,
  tenantId: string,
  row: Pick<TaskRow, 'depends_on'>,
): void {
  const dependencies = new Set(row.depends_on ?? []);
  if (dependencies.size === 0) return;
  for (const query of cachedChains(queryClient, tenantId)) {
    const chain = query.state.data;
    const affected = chain
      ? chain.some((member) => dependencies.has(member.id))
      : query.state.fetchStatus === 'fetching';
    if (affected) invalidateSoon(queryClient, query.queryKey);
  }
}
