import { CreateTaskRequestBody } from '@omnihub/contracts';
import type { CreateTaskInput } from '../../data/tasks/tasks-create-mutation.ts';
import { parsePayload } from './payload.ts';

/** What the create form holds: text, as the inputs give it. */
export interface TaskFormValues {
  target: string;
  action: string;
  payload: string;
  requireApproval: boolean;
  priority: string;
  /** A datetime-local value (the browser's time zone), or empty for "now". */
  runAt: string;
  maxAttempts: string;
  /** Task ids separated by commas, spaces or lines. */
  dependsOn: string;
}

export type TaskFormField = keyof TaskFormValues;
export type TaskFormErrors = Partial<Record<TaskFormField, string>>;

export const EMPTY_TASK_FORM: TaskFormValues = {
  target: '',
  action: '',
  payload: '{}',
  requireApproval: false,
  priority: '5',
  runAt: '',
  maxAttempts: '3',
  dependsOn: '',
};

/** The schema's field names, and the form field that shows each one's message. */
const FIELD_OF: Record<string, TaskFormField> = {
  target: 'target',
  action: 'action',
  payload: 'payload',
  require_approval: 'requireApproval',
  priority: 'priority',
  run_at: 'runAt',
  max_attempts: 'maxAttempts',
  depends_on: 'dependsOn',
};

/** "must be from 1 to 10" → "Must be from 1 to 10." */
function sentence(text: string): string {
  const capital = text.charAt(0).toUpperCase() + text.slice(1);
  return /[.!?]$/.test(capital) ? capital : `${capital}.`;
}

function wholeNumber(text: string): number {
  return text.trim() === '' ? Number.NaN : Number(text);
}

export function splitTaskIds(text: string): string[] {
  return text.split(/[\s,]+/).filter(Boolean);
}

/**
 * Checks the form with the contract's own schema (CreateTaskRequestBody: the
 * one definition of the rules the port and create_task apply) and returns the
 * request, or one message per field that is wrong.
 */
export function validateTaskForm(
  values: TaskFormValues,
): { ok: true; input: CreateTaskInput } | { ok: false; errors: TaskFormErrors } {
  const errors: TaskFormErrors = {};
  const payload = parsePayload(values.payload);
  if (!payload.ok) errors.payload = payload.problem.message;

  let runAt: string | null = null;
  if (values.runAt.trim() !== '') {
    const when = new Date(values.runAt);
    if (Number.isNaN(when.getTime())) errors.runAt = 'Enter a date and a time, or leave it empty.';
    else runAt = when.toISOString();
  }

  const ids = splitTaskIds(values.dependsOn);
  const parsed = CreateTaskRequestBody.safeParse({
    target: values.target,
    action: values.action.trim(),
    payload: payload.ok ? payload.value : {},
    require_approval: values.requireApproval,
    priority: wholeNumber(values.priority),
    run_at: runAt,
    max_attempts: wholeNumber(values.maxAttempts),
    depends_on: ids,
  });

  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const [name, index] = issue.path;
      const field = FIELD_OF[String(name)];
      if (!field || errors[field]) continue;
      if (field === 'target' && values.target === '') errors.target = 'Choose a target.';
      else if (field === 'dependsOn' && typeof index === 'number')
        errors.dependsOn = sentence(`"${ids[index]}" (item ${index + 1}) ${issue.message}`);
      else errors[field] = sentence(issue.message);
    }
  }
  if (Object.keys(errors).length > 0 || !parsed.success) return { ok: false, errors };
  return { ok: true, input: parsed.data };
}
