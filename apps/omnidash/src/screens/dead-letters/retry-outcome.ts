import { STATUS_LABEL } from '../../components/StatusBadge.tsx';
import type { RetryManyResult } from '../../data/tasks/tasks-retry-many-mutation.ts';
import { shortId } from '../tasks/task-format.ts';

const tasks = (n: number) => `${n} task${n === 1 ? '' : 's'}`;

/** What a retry did, in one sentence for the status line: retried and skipped, with why. */
export function retryOutcomeText({ retried, skipped }: RetryManyResult): string {
  const parts: string[] = [];
  if (retried.length > 0)
    parts.push(`Retried ${tasks(retried.length)}: queued to run again with fresh attempts.`);
  if (skipped.length > 0) {
    const which = skipped.map((task) => `${shortId(task.id)} (${STATUS_LABEL[task.status]})`);
    parts.push(`Skipped ${tasks(skipped.length)} no longer failed: ${which.join(', ')}.`);
  }
  return parts.join(' ') || 'Nothing to retry.';
}
