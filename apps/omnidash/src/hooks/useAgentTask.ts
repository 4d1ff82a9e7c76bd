import { CreateTaskRequestBody } from '@omnihub/contracts';
import { useQueryClient } from '@tanstack/react-query';
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { DataError } from '../data/errors.ts';
import { useLiveStatus } from '../data/realtime/tenant-realtime.tsx';
import { createTask, seedCreatedTask } from '../data/tasks/tasks-create-mutation.ts';
import { useTaskQuery } from '../data/tasks/tasks-detail-query.ts';
import { isFinalStatus, type TaskRow } from '../data/tasks/types.ts';
import { useSupabase } from '../supabase-context.tsx';
import { useTenant } from '../tenant/tenant-context.tsx';

/** What submitTask takes: the contract's create request (target, action, payload, …). */
export type AgentTaskInput = CreateTaskRequestBody;

/** Why a followed task did not succeed; `task` is its final state. */
export class TaskEndedError extends Error {
  constructor(readonly task: TaskRow) {
    super(
      task.status === 'canceled'
        ? `The task was canceled${task.error ? ` (${task.error})` : ''}.`
        : `The task failed${task.error ? `: ${task.error}` : '.'}`,
    );
    this.name = 'TaskEndedError';
  }
}

export interface UseAgentTaskOptions {
  /** The tenant to dispatch in; the current tenant when left out (its channel is what reports progress). */
  tenantId?: string;
  /** The followed task succeeded. */
  onComplete?: (task: TaskRow) => void;
  /** The submit was refused (`task` null), or the followed task failed or was canceled. */
  onError?: (error: Error, task: TaskRow | null) => void;
}

export interface UseAgentTask {
  /**
   * Creates the task (create_task, as the signed-in operator) and follows it
   * until it ends. Resolves to the task as created, or null when refused (the
   * reason is in `error`); it never rejects.
   */
  submitTask: (input: AgentTaskInput) => Promise<TaskRow | null>;
  /** The create call is in flight. */
  isSubmitting: boolean;
  /** A task was created and has not ended yet (queued, waiting for approval, running…). */
  isProcessing: boolean;
  /** The followed task, live; null before the first submit and after reset(). */
  currentTask: TaskRow | null;
  /** Why the last submit was refused, or why the followed task failed or was canceled. */
  error: Error | null;
  /** Stops following and forgets the task and the error. */
  reset: () => void;
}

/**
 * Submit a task and follow it live until it ends. Progress comes from the
 * shared query cache, which the tenant's one Realtime channel keeps current,
 * so following a task opens no connection of its own; while that channel is
 * down (or for a task of another tenant than the one shown), the task is
 * re-read every 5 seconds instead. See README.md beside this file.
 */
export function useAgentTask(options: UseAgentTaskOptions = {}): UseAgentTask {
  const supabase = useSupabase();
  const queryClient = useQueryClient();
  const currentTenant = useTenant();
  const live = useLiveStatus();
  const tenantId = options.tenantId ?? currentTenant.tenantId;

  const [taskId, setTaskId] = useState<string | null>(null);
  const [isSubmitting, setSubmitting] = useState(false);
  const [submitError, setSubmitError] = useState<Error | null>(null);

  // The latest callbacks, without making them effect dependencies.
  const callbacks = useRef(options);
  useEffect(() => {
    callbacks.current = options;
  });
  /** The task whose end was already reported (each end is reported once). */
  const reported = useRef<string | null>(null);
  /** Which submit is the current one, so an older submit's answer cannot take over. */
  const generation = useRef(0);

  // The channel reports the current tenant's tasks while it is live; any
  // other time (reconnecting, another tenant's task) the task is re-read.
  const heard = live === 'live' && tenantId === currentTenant.tenantId;
  const followed = useTaskQuery(tenantId, taskId, { pollUnfinishedMs: heard ? false : 5_000 });
  const currentTask = taskId ? (followed.data ?? null) : null;
  const ended = currentTask !== null && isFinalStatus(currentTask.status);
  const endError = useMemo(
    () =>
      currentTask && ended && currentTask.status !== 'succeeded'
        ? new TaskEndedError(currentTask)
        : null,
    [currentTask, ended],
  );

  useEffect(() => {
    if (!currentTask || !ended || reported.current === currentTask.id) return;
    reported.current = currentTask.id;
    if (currentTask.status === 'succeeded') callbacks.current.onComplete?.(currentTask);
    else callbacks.current.onError?.(endError ?? new TaskEndedError(currentTask), currentTask);
  }, [currentTask, ended, endError]);

  const submitTask = useCallback(
    async (input: AgentTaskInput): Promise<TaskRow | null> => {
      const mine = ++generation.current;
      setSubmitting(true);
      setSubmitError(null);
      setTaskId(null);
      try {
        const parsed = CreateTaskRequestBody.safeParse(input);
        if (!parsed.success) {
          const issue = parsed.error.issues[0]!;
          throw new DataError(`${issue.path.join('.')} ${issue.message}`, '22023', 400);
        }
        const { task } = await createTask(supabase, tenantId, parsed.data);
        if (mine === generation.current) {
          seedCreatedTask(queryClient, tenantId, task);
          reported.current = null;
          setTaskId(task.id);
        }
        return task;
      } catch (error) {
        const refusal = error instanceof Error ? error : new Error(String(error));
        if (mine === generation.current) {
          setSubmitError(refusal);
          callbacks.current.onError?.(refusal, null);
        }
        return null;
      } finally {
        if (mine === generation.current) setSubmitting(false);
      }
    },
    [supabase, queryClient, tenantId],
  );

  // A submit that answers after unmount reports nothing.
  useEffect(
    () => () => {
      generation.current++;
    },
    [],
  );

  const reset = useCallback(() => {
    generation.current++;
    setTaskId(null);
    setSubmitError(null);
    setSubmitting(false);
  }, []);

  return {
    submitTask,
    isSubmitting,
    isProcessing: currentTask !== null && !ended,
    currentTask,
    error: submitError ?? endError,
    reset,
  };
}
