import type { Task } from '@omnihub/contracts';
import type { SupabaseClient } from '@supabase/supabase-js';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useSupabase } from '../../supabase-context.tsx';
import { unwrap } from '../errors.ts';
import { seedCreatedTask } from './tasks-create-mutation.ts';
import type { TaskRow } from './types.ts';

/** One step of a chain: a task that depends on the step before it (create_task_chain's step). */
export interface ChainStep {
  target: string;
  action: string;
  payload?: Record<string, unknown>;
  priority?: number;
  max_attempts?: number;
}

export interface CreatedChain {
  /** `duplicate` when the idempotency key was used before: `tasks` are the originals. */
  status: 'created' | 'duplicate';
  /** In step order: the first has no dependency, the last depends on the one before it. */
  tasks: TaskRow[];
}

/**
 * Creates 2–20 chained tasks in one call as the signed-in operator
 * (create_task_chain checks the role and every step, and creates all or none).
 * With an idempotency key, sending the same request again creates nothing more.
 */
export async function createTaskChain(
  supabase: SupabaseClient,
  tenantId: string,
  steps: ChainStep[],
  idempotencyKey: string | null = null,
): Promise<CreatedChain> {
  const result = unwrap(
    await supabase.rpc('create_task_chain', {
      p_tenant_id: tenantId,
      p_steps: steps,
      p_idempotency_key: idempotencyKey,
    }),
  ) as { status: 'created' | 'duplicate'; tasks: Task[] };
  return {
    status: result.status,
    tasks: result.tasks.map((task, index) => ({
      ...task,
      tenant_id: tenantId,
      idempotency_key: idempotencyKey === null ? null : `${idempotencyKey}:${index + 1}`,
      approved_at: null,
      finished_at: null,
    })),
  };
}

export function useCreateTaskChainMutation(tenantId: string) {
  const supabase = useSupabase();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: ({ steps, idempotencyKey }: { steps: ChainStep[]; idempotencyKey?: string }) =>
      createTaskChain(supabase, tenantId, steps, idempotencyKey ?? null),
    onSuccess: ({ tasks }) => {
      for (const task of tasks) seedCreatedTask(queryClient, tenantId, task);
    },
  });
}
