import type { SupabaseClient } from '@supabase/supabase-js';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { useSupabase } from '../../supabase-context.tsx';
import { selectPage, type Page } from '../paged-select.ts';
import type { TaskListRow } from '../tasks/types.ts';
import { runnerKeys, type DeadLetterListParams } from './keys.ts';

export const DEAD_LETTERS_PAGE_SIZE = 25;

/** The columns a dead letter shows: what it was, and why it ended failed. */
export const DEAD_LETTER_COLUMNS = [
  'id',
  'target',
  'action',
  'status',
  'attempts',
  'max_attempts',
  'error',
  'finished_at',
  'created_at',
  'updated_at',
] as const;

export type DeadLetter = Pick<TaskListRow, (typeof DEAD_LETTER_COLUMNS)[number]>;

export type DeadLetterPage = Page<DeadLetter>;

/**
 * One page of the tenant's dead letters, the tasks that ended failed, the
 * latest failure first (tasks_failed_idx), with how many there are in all.
 */
export function fetchDeadLetters(
  supabase: SupabaseClient,
  tenantId: string,
  params: DeadLetterListParams,
): Promise<DeadLetterPage> {
  return selectPage<DeadLetter>(supabase, {
    table: 'tasks',
    columns: DEAD_LETTER_COLUMNS,
    equal: { tenant_id: tenantId, status: 'failed', target: params.target },
    orderBy: 'finished_at',
    page: params.page,
    pageSize: DEAD_LETTERS_PAGE_SIZE,
  });
}

/** Why a task ended failed, in words, from what the task row keeps. */
export function failureReason(
  task: Pick<DeadLetter, 'attempts' | 'max_attempts' | 'error'>,
): string {
  if (task.error === 'lease_expired')
    return `The lease expired on the last attempt (${task.attempts} of ${task.max_attempts}).`;
  if (task.attempts < task.max_attempts)
    return `Not retryable: failed on attempt ${task.attempts} of ${task.max_attempts}.`;
  return `All ${task.max_attempts} attempt${task.max_attempts === 1 ? '' : 's'} used.`;
}

/** Refetched (throttled) on task changes: a retried task leaves the list, a newly failed one enters it. */
export function useDeadLettersQuery(tenantId: string, params: DeadLetterListParams) {
  const supabase = useSupabase();
  return useQuery({
    queryKey: runnerKeys.deadLetterList(tenantId, params),
    queryFn: () => fetchDeadLetters(supabase, tenantId, params),
    placeholderData: keepPreviousData,
  });
}
