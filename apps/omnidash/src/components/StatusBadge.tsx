import type { TaskStatus } from '@omnihub/contracts';

/** How a status reads in the interface. */
export const STATUS_LABEL: Record<TaskStatus, string> = {
  queued: 'queued',
  waiting_approval: 'waiting approval',
  approved: 'approved',
  running: 'running',
  succeeded: 'succeeded',
  failed: 'failed',
  canceled: 'canceled',
};

/** A task's status, coloured by kind; the text itself says it (colour is never the only cue). */
export function StatusBadge({ status }: { status: TaskStatus }) {
  return (
    <span className={`status status-${status}`} data-status={status}>
      {STATUS_LABEL[status]}
    </span>
  );
}
