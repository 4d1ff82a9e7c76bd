import type { SupabaseClient } from '@supabase/supabase-js';
import { useQuery } from '@tanstack/react-query';
import { useSupabase } from '../../supabase-context.tsx';
import { unwrap } from '../errors.ts';
import { taskKeys } from './keys.ts';
import type { TaskAttempt } from './types.ts';

/** A task's attempts, oldest first (attempt numbers restart after a retry; started_at orders them). */
export async function fetchTaskAttempts(
  supabase: SupabaseClient,
  tenantId: string,
  taskId: string,
): Promise<TaskAttempt[]> {
  return unwrap(
    await supabase
      .from('task_attempts')
      .select('id, task_id, attempt, worker_id, started_at, finished_at, outcome, error')
      .eq('tenant_id', tenantId)
      .eq('task_id', taskId)
      .order('started_at', { ascending: true })
      .order('id', { ascending: true }),
  ) as TaskAttempt[];
}

export function useTaskAttemptsQuery(tenantId: string, taskId: string) {
  const supabase = useSupabase();
  return useQuery({
    queryKey: taskKeys.attempts(tenantId, taskId),
    queryFn: () => fetchTaskAttempts(supabase, tenantId, taskId),
  });
}
