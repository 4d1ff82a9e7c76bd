import type { TaskStatus } from '@omnihub/contracts';
import type { SupabaseClient } from '@supabase/supabase-js';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useSupabase } from '../../supabase-context.tsx';
import { unwrap } from '../errors.ts';
import { refetchAfterChange } from '../realtime/changes.ts';
import { runnerKeys } from '../runner/keys.ts';
import { taskKeys } from './keys.ts';

/** What public.retry_tasks did: the tasks retried, and those skipped because they were no longer failed. */
export interface RetryManyResult {
  retried: string[];
  skipped: { id: string; status: TaskStatus }[];
}

/** The most ids one call takes (public.retry_tasks refuses more). */
export const RETRY_MANY_MAX = 500;

/**
 * Failed tasks of the tenant → queued, each with a fresh set of attempts,
 * in one call: all or nothing if any id is not the tenant's.
 */
export async function retryTasks(
  supabase: SupabaseClient,
  tenantId: string,
  taskIds: string[],
): Promise<RetryManyResult> {
  return unwrap(
    await supabase.rpc('retry_tasks', { p_tenant_id: tenantId, p_task_ids: taskIds }),
  ) as RetryManyResult;
}

export function useRetryTasksMutation(tenantId: string) {
  const supabase = useSupabase();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (taskIds: string[]) => retryTasks(supabase, tenantId, taskIds),
    // Many rows at once: read the lists again rather than patch each one.
    onSuccess: () => {
      refetchAfterChange(queryClient, runnerKeys.all(tenantId));
      refetchAfterChange(queryClient, taskKeys.all(tenantId));
    },
  });
}
