import type { SupabaseClient } from '@supabase/supabase-js';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useSupabase } from '../../supabase-context.tsx';
import { unwrap } from '../errors.ts';
import { putTask } from './tasks-cache.ts';
import type { TaskRow } from './types.ts';

/** waiting_approval → approved: a worker of its target may now claim it. */
export async function approveTask(supabase: SupabaseClient, taskId: string): Promise<TaskRow> {
  return unwrap(await supabase.rpc('approve_task', { p_task_id: taskId })) as TaskRow;
}

export function useApproveTaskMutation(tenantId: string) {
  const supabase = useSupabase();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (taskId: string) => approveTask(supabase, taskId),
    onSuccess: (task) => putTask(queryClient, tenantId, task),
  });
}
