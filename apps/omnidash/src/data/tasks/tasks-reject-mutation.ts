import type { SupabaseClient } from '@supabase/supabase-js';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useSupabase } from '../../supabase-context.tsx';
import { unwrap } from '../errors.ts';
import { putTask } from './tasks-cache.ts';
import type { TaskRow } from './types.ts';

/** waiting_approval → canceled, with error "rejected: <reason>" (or just "rejected"). */
export async function rejectTask(
  supabase: SupabaseClient,
  taskId: string,
  reason?: string,
): Promise<TaskRow> {
  return unwrap(
    await supabase.rpc('reject_task', { p_task_id: taskId, p_reason: reason?.trim() || null }),
  ) as TaskRow;
}

export function useRejectTaskMutation(tenantId: string) {
  const supabase = useSupabase();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: ({ taskId, reason }: { taskId: string; reason?: string }) =>
      rejectTask(supabase, taskId, reason),
    onSuccess: (task) => putTask(queryClient, tenantId, task),
  });
}
