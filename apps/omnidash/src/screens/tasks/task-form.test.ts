import { describe, expect, it } from 'vitest';
import { EMPTY_TASK_FORM, validateTaskForm, type TaskFormValues } from './task-form.ts';

const valid: TaskFormValues = {
  ...EMPTY_TASK_FORM,
  target: 'apex-sales',
  action: 'echo',
  payload: '{"message": "hello"}',
};

function errorsOf(values: Partial<TaskFormValues>) {
  const result = validateTaskForm({ ...valid, ...values });
  if (result.ok) throw new Error('accepted');
  return result.errors;
}

describe('validateTaskForm', () => {
  it('turns a valid form into the create request, with the contract defaults', () => {
    expect(validateTaskForm(valid)).toEqual({
      ok: true,
      input: {
        target: 'apex-sales',
        action: 'echo',
        payload: { message: 'hello' },
        require_approval: false,
        priority: 5,
        run_at: null,
        max_attempts: 3,
        depends_on: [],
      },
    });
  });

  it('reads run at in the browser’s time zone and sends it as UTC', () => {
    const result = validateTaskForm({ ...valid, runAt: '2030-01-02T03:04' });
    expect(result.ok && result.input.run_at).toBe(new Date('2030-01-02T03:04').toISOString());
  });

  it('splits depends on at commas, spaces and lines', () => {
    const a = '0193a8f2-0000-7000-8000-000000000001';
    const b = '0193a8f2-0000-7000-8000-000000000002';
    const result = validateTaskForm({ ...valid, dependsOn: `${a},\n ${b}` });
    expect(result.ok && result.input.depends_on).toEqual([a, b]);
  });

  it('gives each wrong field the shared schema’s message, all at once', () => {
    expect(
      errorsOf({
        target: '',
        action: 'Send Email',
        priority: '11',
        maxAttempts: '0',
        dependsOn: '0193a8f2-0000-7000-8000-000000000001 not-an-id',
      }),
    ).toEqual({
      target: 'Choose a target.',
      action: "Must be 1-100 characters of a-z, 0-9, '_', '.', ':' or '-'.",
      priority: 'Must be from 1 to 10.',
      maxAttempts: 'Must be from 1 to 20.',
      dependsOn: '"not-an-id" (item 2) must be a task id (a UUID).',
    });
  });

  it('refuses a priority that is empty or not whole', () => {
    expect(errorsOf({ priority: '' }).priority).toBe('Must be an integer from 1 to 10.');
    expect(errorsOf({ priority: '2.5' }).priority).toBe('Must be an integer from 1 to 10.');
    expect(errorsOf({ maxAttempts: '21' }).maxAttempts).toBe('Must be from 1 to 20.');
  });

  it('puts the JSON problem next to the payload, with the other fields still checked', () => {
    expect(errorsOf({ payload: '{"message": "hello",}', action: '' })).toEqual({
      payload: 'Line 1, column 20: remove this comma: JSON allows no comma before }',
      action: "Must be 1-100 characters of a-z, 0-9, '_', '.', ':' or '-'.",
    });
    expect(errorsOf({ payload: '["hello"]' }).payload).toMatch(/must be a JSON object/);
  });

  it('refuses a payload over 16 KiB, as the port and create_task do', () => {
    const big = JSON.stringify({ text: 'x'.repeat(16 * 1024) });
    expect(errorsOf({ payload: big }).payload).toBe(
      'Must be at most 16384 bytes of serialized JSON.',
    );
  });

  it('refuses text Postgres cannot store', () => {
    expect(errorsOf({ payload: '{"a": "\\u0000"}' }).payload).toMatch(/^Strings and keys /);
  });

  it('says when run at is not a date', () => {
    expect(errorsOf({ runAt: 'soon' }).runAt).toBe('Enter a date and a time, or leave it empty.');
  });
});
