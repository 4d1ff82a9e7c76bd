import type { TaskStatus } from '@omnihub/contracts';

const LABEL: Record<TaskStatus, string> = {
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
      {LABEL[status]}
    </span>
  );
}
