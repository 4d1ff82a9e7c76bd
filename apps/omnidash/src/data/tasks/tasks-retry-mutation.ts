import type { SupabaseClient } from '@supabase/supabase-js';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useSupabase } from '../../supabase-context.tsx';
import { unwrap } from '../errors.ts';
import { putTask } from './tasks-cache.ts';
import type { TaskRow } from './types.ts';

/** failed → queued with a fresh set of attempts (the history keeps the earlier ones). */
export async function retryTask(supabase: SupabaseClient, taskId: string): Promise<TaskRow> {
  return unwrap(await supabase.rpc('retry_task', { p_task_id: taskId })) as TaskRow;
}

export function useRetryTaskMutation(tenantId: string) {
  const supabase = useSupabase();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (taskId: string) => retryTask(supabase, taskId),
    onSuccess: (task) => putTask(queryClient, tenantId, task),
  });
}
