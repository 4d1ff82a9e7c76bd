import { FINAL_TASK_STATUSES, type TaskStatus } from '@omnihub/contracts';
import type { Page } from '../paged-select.ts';

/** A row of public.tasks as a tenant member reads it (PostgREST and Realtime give the same shape). */
export interface TaskRow {
  id: string;
  tenant_id: string;
  target: string;
  action: string;
  params: { payload: Record<string, unknown> };
  status: TaskStatus;
  priority: number;
  run_at: string | null;
  require_approval: boolean;
  attempts: number;
  max_attempts: number;
  claimed_by: string | null;
  lease_expires_at: string | null;
  output: unknown;
  output_truncated: boolean;
  error: string | null;
  progress: Record<string, unknown> | null;
  depends_on: string[];
  idempotency_key: string | null;
  approved_at: string | null;
  finished_at: string | null;
  created_at: string;
  updated_at: string;
}

/**
 * The columns a list row shows. Params and output (up to 16 KiB each) stay
 * out of the list: 25 of them would be most of the page's bytes.
 */
export const TASK_LIST_COLUMNS = [
  'id',
  'target',
  'action',
  'status',
  'priority',
  'attempts',
  'max_attempts',
  'require_approval',
  'run_at',
  'error',
  'created_at',
  'updated_at',
  'finished_at',
] as const satisfies readonly (keyof TaskRow)[];

export type TaskListRow = Pick<TaskRow, (typeof TASK_LIST_COLUMNS)[number]>;

/** One page of the list, and how many tasks match the filters in all (exactly, or at least). */
export type TaskPage = Page<TaskListRow>;

/** A row of public.task_attempts: one claim of a task by a worker. */
export interface TaskAttempt {
  id: string;
  task_id: string;
  attempt: number;
  worker_id: string;
  started_at: string;
  finished_at: string | null;
  outcome: 'succeeded' | 'failed' | 'lease_expired' | 'canceled' | null;
  error: string | null;
}

export const TASKS_PAGE_SIZE = 25;

export function isFinalStatus(status: TaskStatus): boolean {
  return FINAL_TASK_STATUSES.includes(status);
}

/**
 * Orders two updated_at values: negative when `a` is earlier. Postgres keeps
 * microseconds, which PostgREST passes on and Date.parse drops; a source that
 * sends fewer digits (the local Realtime sends milliseconds) is compared at
 * the precision both have, so the same instant never reads as two.
 */
export function compareTimestamps(a: string, b: string): number {
  const ms = Date.parse(a) - Date.parse(b);
  if (ms !== 0 || Number.isNaN(ms)) return ms;
  const fa = /\.(\d+)/.exec(a)?.[1] ?? '';
  const fb = /\.(\d+)/.exec(b)?.[1] ?? '';
  const digits = Math.min(Math.max(fa.length, 3), Math.max(fb.length, 3), 6);
  const micro = (fraction: string) => Number(fraction.padEnd(6, '0').slice(3, digits) || '0');
  return micro(fa) - micro(fb);
}

/**
 * Of two versions of one task, the later one (by updated_at; the second on
 * a tie). A fetch that started before a Realtime change may answer after
 * it; this keeps the answer from putting the older status back.
 */
export function newerVersion<T extends { id: string; updated_at: string }>(current: T, next: T): T {
  if (current.id !== next.id) return next;
  return compareTimestamps(current.updated_at, next.updated_at) > 0 ? current : next;
}
