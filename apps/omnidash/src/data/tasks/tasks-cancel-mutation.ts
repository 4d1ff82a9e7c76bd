import type { SupabaseClient } from '@supabase/supabase-js';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useSupabase } from '../../supabase-context.tsx';
import { unwrap } from '../errors.ts';
import { putTask } from './tasks-cache.ts';
import type { TaskRow } from './types.ts';

/**
 * Any task that has not ended → canceled (error "canceled: <reason>"). A
 * running attempt ends too; its worker learns at its next heartbeat.
 */
export async function cancelTask(
  supabase: SupabaseClient,
  taskId: string,
  reason?: string,
): Promise<TaskRow> {
  return unwrap(
    await supabase.rpc('cancel_task', { p_task_id: taskId, p_reason: reason?.trim() || null }),
  ) as TaskRow;
}

export function useCancelTaskMutation(tenantId: string) {
  const supabase = useSupabase();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: ({ taskId, reason }: { taskId: string; reason?: string }) =>
      cancelTask(supabase, taskId, reason),
    onSuccess: (task) => putTask(queryClient, tenantId, task),
  });
}
