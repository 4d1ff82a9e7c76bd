import { CreateTaskRequestBody } from '@omnihub/contracts';
import { nextDueTimes } from '@omnihub/scheduler/cron';
import type { ScheduleInput } from '../../data/schedules/schedules-save-mutation.ts';
import type { Schedule } from '../../data/schedules/schedules-query.ts';
import { parsePayload } from '../tasks/payload.ts';

/** What the schedule form holds: text, as the inputs give it. */
export interface ScheduleFormValues {
  name: string;
  cron: string;
  timezone: string;
  target: string;
  action: string;
  payload: string;
  priority: string;
  maxAttempts: string;
  enabled: boolean;
}

export type ScheduleFormField = keyof ScheduleFormValues;
export type ScheduleFormErrors = Partial<Record<ScheduleFormField, string>>;

/** The browser's own zone first: what an operator most likely means. */
export function browserTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}

/** Every IANA zone the browser knows, UTC first. */
export function timeZones(): string[] {
  const zones = Intl.supportedValuesOf('timeZone').filter((zone) => zone !== 'UTC');
  return ['UTC', ...zones];
}

export function emptyScheduleForm(timezone = browserTimeZone()): ScheduleFormValues {
  return {
    name: '',
    cron: '',
    timezone,
    target: '',
    action: '',
    payload: '{}',
    priority: '5',
    maxAttempts: '3',
    enabled: true,
  };
}

export function formFromSchedule(schedule: Schedule): ScheduleFormValues {
  return {
    name: schedule.name,
    cron: schedule.cron,
    timezone: schedule.timezone,
    target: schedule.target,
    action: schedule.action,
    payload: JSON.stringify(schedule.payload, null, 2),
    priority: String(schedule.priority),
    maxAttempts: String(schedule.max_attempts),
    enabled: schedule.enabled,
  };
}

export type RunPreview = { ok: true; runs: Date[] } | { ok: false; error: string };

/** The next `count` due times, computed by the scheduler's own library, or what is wrong with the expression. */
export function previewRuns(cron: string, timezone: string, now: Date, count = 3): RunPreview {
  if (cron.trim() === '')
    return { ok: false, error: 'Enter a cron expression, e.g. */15 * * * *.' };
  try {
    return { ok: true, runs: nextDueTimes(cron.trim(), timezone, now, count) };
  } catch (error) {
    return { ok: false, error: sentence((error as Error).message.replace(/^CronPattern: /, '')) };
  }
}

/** A time as the schedule's zone reads it: "Mon 23 Nov, 09:00 Europe/London". */
export function formatInZone(when: Date | string, timezone: string): string {
  const format = new Intl.DateTimeFormat(undefined, {
    weekday: 'short',
    day: 'numeric',
    month: 'short',
    hour: '2-digit',
    minute: '2-digit',
    timeZone: timezone,
  });
  return `${format.format(new Date(when))} ${timezone}`;
}

function sentence(text: string): string {
  const capital = text.charAt(0).toUpperCase() + text.slice(1);
  return /[.!?]$/.test(capital) ? capital : `${capital}.`;
}

const wholeNumber = (text: string) => (text.trim() === '' ? Number.NaN : Number(text));

/** The task a schedule creates, checked by the contract's own rules for a task. */
const ScheduledTask = CreateTaskRequestBody.pick({
  target: true,
  action: true,
  payload: true,
  priority: true,
  max_attempts: true,
});

const TASK_FIELD: Record<string, ScheduleFormField> = {
  target: 'target',
  action: 'action',
  payload: 'payload',
  priority: 'priority',
  max_attempts: 'maxAttempts',
};

/**
 * Checks the form before it is sent: the cron expression with croner (as the
 * scheduler will read it), the task fields with the contract's schema.
 * save_schedule checks all of it again.
 */
export function validateScheduleForm(
  values: ScheduleFormValues,
  now: Date,
): { ok: true; input: ScheduleInput } | { ok: false; errors: ScheduleFormErrors } {
  const errors: ScheduleFormErrors = {};
  const name = values.name.trim();
  if (name === '') errors.name = 'Give the schedule a name.';
  else if (name.length > 100) errors.name = 'Use at most 100 characters.';

  const preview = previewRuns(values.cron, values.timezone, now);
  if (!preview.ok) errors.cron = preview.error;

  const payload = parsePayload(values.payload);
  if (!payload.ok) errors.payload = payload.problem.message;

  const task = ScheduledTask.safeParse({
    target: values.target,
    action: values.action.trim(),
    payload: payload.ok ? payload.value : {},
    priority: wholeNumber(values.priority),
    max_attempts: wholeNumber(values.maxAttempts),
  });
  if (!task.success) {
    for (const issue of task.error.issues) {
      const field = TASK_FIELD[String(issue.path[0])];
      if (!field || errors[field]) continue;
      errors[field] =
        field === 'target' && values.target === '' ? 'Choose a target.' : sentence(issue.message);
    }
  }
  if (!task.success || Object.keys(errors).length > 0) return { ok: false, errors };
  return {
    ok: true,
    input: {
      name,
      cron: values.cron.trim().replace(/\s+/g, ' '),
      timezone: values.timezone,
      target: task.data.target,
      action: task.data.action,
      payload: task.data.payload,
      priority: task.data.priority,
      max_attempts: task.data.max_attempts,
      enabled: values.enabled,
    },
  };
}
