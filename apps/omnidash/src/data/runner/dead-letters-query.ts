import type { SupabaseClient } from '@supabase/supabase-js';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { useSupabase } from '../../supabase-context.tsx';
import { unwrap } from '../errors.ts';
import type { TaskListRow } from '../tasks/types.ts';
import { runnerKeys, type DeadLetterListParams } from './keys.ts';

/** PostgREST's answer to an offset past the last row (a page number from an old URL). */
const RANGE_NOT_SATISFIABLE = 'PGRST103';

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

export interface DeadLetterPage {
  rows: DeadLetter[];
  count: number;
}

/**
 * One page of the tenant's dead letters, the tasks that ended failed, the
 * latest failure first (tasks_failed_idx), with how many there are in all.
 */
export async function fetchDeadLetters(
  supabase: SupabaseClient,
  tenantId: string,
  params: DeadLetterListParams,
): Promise<DeadLetterPage> {
  const from = params.page * DEAD_LETTERS_PAGE_SIZE;
  const filtered = (columns: string, head = false) => {
    let query = supabase
      .from('tasks')
      .select(columns, { count: 'exact', head })
      .eq('tenant_id', tenantId)
      .eq('status', 'failed');
    if (params.target) query = query.eq('target', params.target);
    return query;
  };
  const result = await filtered(DEAD_LETTER_COLUMNS.join(','))
    .order('finished_at', { ascending: false })
    .order('id', { ascending: false })
    .range(from, from + DEAD_LETTERS_PAGE_SIZE - 1);
  if (result.error?.code === RANGE_NOT_SATISFIABLE) {
    const total = await filtered('id', true);
    unwrap(total);
    return { rows: [], count: total.count ?? 0 };
  }
  const rows = unwrap(result) as unknown as DeadLetter[];
  return { rows, count: result.count ?? rows.length };
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
