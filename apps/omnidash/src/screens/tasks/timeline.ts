import { formatDateTime } from '../../components/format.ts';
import type { TaskAttempt, TaskRow } from '../../data/tasks/types.ts';

export interface TimelineEntry {
  at: string;
  kind: 'created' | 'approved' | 'attempt-started' | 'attempt-ended' | 'finished';
  /** What happened, in words. */
  label: string;
  /** An error or reason, when there is one. */
  detail?: string;
}

const OUTCOME: Record<NonNullable<TaskAttempt['outcome']>, string> = {
  succeeded: 'succeeded',
  failed: 'failed',
  lease_expired: 'lost its lease (the worker stopped reporting)',
  canceled: 'was canceled',
};

function finishedLabel(task: Pick<TaskRow, 'status' | 'error'>): string {
  if (task.status === 'succeeded') return 'Succeeded';
  if (task.status === 'failed') return 'Failed';
  if (task.error?.startsWith('rejected')) return 'Rejected';
  if (task.error === 'dependency_failed') return 'Canceled: a task it depends on did not succeed';
  return 'Canceled';
}

/**
 * The task's history from what the database keeps: its timestamps and its
 * attempts, oldest first. Entries at the same instant keep the order in which
 * they happen (an attempt ends, then the task finishes).
 */
export function buildTimeline(
  task: Pick<
    TaskRow,
    | 'created_at'
    | 'approved_at'
    | 'finished_at'
    | 'status'
    | 'error'
    | 'require_approval'
    | 'run_at'
  >,
  attempts: TaskAttempt[],
): TimelineEntry[] {
  const entries: TimelineEntry[] = [
    {
      at: task.created_at,
      kind: 'created',
      label: task.require_approval ? 'Created, waiting for approval' : 'Created',
      detail: task.run_at ? `Not to run before ${formatDateTime(task.run_at)}` : undefined,
    },
  ];
  if (task.approved_at) entries.push({ at: task.approved_at, kind: 'approved', label: 'Approved' });
  for (const attempt of attempts) {
    entries.push({
      at: attempt.started_at,
      kind: 'attempt-started',
      label: `Attempt ${attempt.attempt} started on ${attempt.worker_id}`,
    });
    if (attempt.finished_at)
      entries.push({
        at: attempt.finished_at,
        kind: 'attempt-ended',
        label: `Attempt ${attempt.attempt} ${attempt.outcome ? OUTCOME[attempt.outcome] : 'ended'}`,
        detail: attempt.error ?? undefined,
      });
  }
  if (task.finished_at) {
    entries.push({
      at: task.finished_at,
      kind: 'finished',
      label: finishedLabel(task),
      detail: task.status === 'succeeded' ? undefined : (task.error ?? undefined),
    });
  }
  // Stable: same-instant entries stay in the order pushed above.
  return entries
    .map((entry, index) => ({ entry, index, time: Date.parse(entry.at) }))
    .sort((a, b) => a.time - b.time || a.index - b.index)
    .map(({ entry }) => entry);
}
