import type { TaskStatus } from '@omnihub/contracts';

/** The order a target's counts are shown in: the way a task moves. */
export const STATUS_ORDER: readonly TaskStatus[] = [
  'waiting_approval',
  'approved',
  'queued',
  'running',
  'succeeded',
  'failed',
  'canceled',
];

/** How long the oldest ready task has waited: "—" when none waits, else "45 s", "3 min", "2 h 5 min". */
export function formatAge(seconds: number | null): string {
  if (seconds === null) return '—';
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return minutes % 60 ? `${hours} h ${minutes % 60} min` : `${hours} h`;
  return `${Math.floor(hours / 24)} d`;
}

/** An action name as the database accepts it (tasks_action_format). */
export const ACTION_PATTERN = /^[a-z0-9_.:-]{1,100}$/;

/** The max-running field's problem, or null when it is a whole number from 1 to 1000. */
export function maxRunningProblem(text: string): string | null {
  const trimmed = text.trim();
  if (!/^\d+$/.test(trimmed)) return 'Enter a whole number from 1 to 1000.';
  const value = Number(trimmed);
  return value >= 1 && value <= 1000 ? null : 'Must be from 1 to 1000.';
}
