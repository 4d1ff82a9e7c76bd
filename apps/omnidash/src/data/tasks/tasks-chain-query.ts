import type { TaskStatus } from '@omnihub/contracts';
import type { SupabaseClient } from '@supabase/supabase-js';
import { useQuery } from '@tanstack/react-query';
import { useSupabase } from '../../supabase-context.tsx';
import { unwrap } from '../errors.ts';
import { taskKeys } from './keys.ts';

/** One member of a task's chain, as public.task_chain returns it. */
export interface TaskChainRow {
  /** Where it stands to the task asked about: what it waits for, itself, or what waits for it. */
  relation: 'upstream' | 'task' | 'downstream';
  id: string;
  target: string;
  action: string;
  status: TaskStatus;
  depends_on: string[];
  error: string | null;
  created_at: string;
  updated_at: string;
  finished_at: string | null;
}

/** task_chain returns at most this many upstream, and as many downstream. */
export const CHAIN_SIDE_LIMIT = 200;

/**
 * Dependencies before their dependents. Dependencies always exist before a
 * dependent is created, but a chain's tasks are created in one transaction
 * (one created_at, and ids random within a millisecond), so the order is
 * worked out from depends_on; ties keep the function's order.
 */
export function dependencyOrder<T extends { id: string; depends_on: string[] }>(rows: T[]): T[] {
  const present = new Set(rows.map((row) => row.id));
  const placed = new Set<string>();
  const ordered: T[] = [];
  let remaining = rows;
  while (remaining.length > 0) {
    const ready = remaining.filter((row) =>
      row.depends_on.every((id) => placed.has(id) || !present.has(id)),
    );
    // Cannot happen (depends_on cannot form a cycle); if it ever did, keep the rest as given.
    const next = ready.length > 0 ? ready : remaining;
    for (const row of next) {
      ordered.push(row);
      placed.add(row.id);
    }
    remaining = remaining.filter((row) => !placed.has(row.id));
  }
  return ordered;
}

/** The chain of one of the tenant's tasks, dependencies first; empty when the task is not the caller's to read. */
export async function fetchTaskChain(
  supabase: SupabaseClient,
  tenantId: string,
  taskId: string,
): Promise<TaskChainRow[]> {
  const rows = unwrap(
    await supabase.rpc('task_chain', { p_tenant_id: tenantId, p_task_id: taskId }),
  ) as TaskChainRow[];
  return dependencyOrder(rows);
}

/** A task's chain, kept current by the tenant's Realtime channel (tasks-chain-cache.ts). */
export function useTaskChainQuery(tenantId: string, taskId: string | null) {
  const supabase = useSupabase();
  return useQuery({
    queryKey: taskKeys.chain(tenantId, taskId ?? ''),
    queryFn: () => fetchTaskChain(supabase, tenantId, taskId ?? ''),
    enabled: taskId !== null,
  });
}
