import { CreateTaskRequestBody, type Task } from '@omnihub/contracts';
import type { SupabaseClient } from '@supabase/supabase-js';
import { useMutation, useQueryClient, type QueryClient } from '@tanstack/react-query';
import { useSupabase } from '../../supabase-context.tsx';
import { unwrap } from '../errors.ts';
import { taskKeys } from './keys.ts';
import type { TaskRow } from './types.ts';

/** A create request after the shared schema's defaults are applied. */
export type CreateTaskInput = ReturnType<typeof CreateTaskRequestBody.parse>;

export interface CreatedTask {
  /** `duplicate` when the idempotency key was used before: `task` is the original. */
  status: 'created' | 'duplicate';
  task: TaskRow;
}

/** The RPC answers with the contract's Task; the cache holds table rows. */
function rowOf(task: Task, tenantId: string, idempotencyKey: string | null): TaskRow {
  return {
    ...task,
    tenant_id: tenantId,
    idempotency_key: idempotencyKey,
    approved_at: null,
    finished_at: null,
  };
}

/** Dispatches a task as the signed-in operator (create_task checks the role). */
export async function createTask(
  supabase: SupabaseClient,
  tenantId: string,
  input: CreateTaskInput,
): Promise<CreatedTask> {
  const result = unwrap(
    await supabase.rpc('create_task', {
      p_tenant_id: tenantId,
      p_target: input.target,
      p_action: input.action,
      p_payload: input.payload,
      p_require_approval: input.require_approval,
      p_priority: input.priority,
      p_run_at: input.run_at,
      p_max_attempts: input.max_attempts,
      p_depends_on: input.depends_on,
      p_idempotency_key: input.idempotency_key ?? null,
    }),
  ) as { status: 'created' | 'duplicate'; task: Task };
  return {
    status: result.status,
    task: rowOf(result.task, tenantId, input.idempotency_key ?? null),
  };
}

/**
 * Puts a just-created task in the cache so whoever follows it sees it at
 * once, and has it fetched again: a change that arrived over Realtime before
 * the RPC's answer found nothing to update.
 */
export function seedCreatedTask(queryClient: QueryClient, tenantId: string, task: TaskRow): void {
  const key = taskKeys.detail(tenantId, task.id);
  if (queryClient.getQueryData(key) === undefined) queryClient.setQueryData(key, task);
  void queryClient.invalidateQueries({ queryKey: key });
  void queryClient.invalidateQueries({ queryKey: taskKeys.lists(tenantId) });
}

export function useCreateTaskMutation(tenantId: string) {
  const supabase = useSupabase();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (input: CreateTaskInput) => createTask(supabase, tenantId, input),
    onSuccess: ({ task }) => seedCreatedTask(queryClient, tenantId, task),
  });
}
