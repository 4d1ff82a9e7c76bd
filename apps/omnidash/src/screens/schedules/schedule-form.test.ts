import { describe, expect, it } from 'vitest';
import {
  emptyScheduleForm,
  formatInZone,
  previewRuns,
  validateScheduleForm,
  type ScheduleFormValues,
} from './schedule-form.ts';

const NOW = new Date('2026-11-21T10:07:30Z');

const form = (overrides: Partial<ScheduleFormValues> = {}): ScheduleFormValues => ({
  ...emptyScheduleForm('UTC'),
  name: 'Weekday mornings',
  cron: '0 9 * * 1-5',
  target: 'lead-gen',
  action: 'refresh_queue',
  ...overrides,
});

describe('the schedule form', () => {
  it('previews the next due times in the chosen zone', () => {
    const preview = previewRuns('0 9 * * 1-5', 'America/New_York', NOW);
    // Saturday 21 Nov: the next weekday 09:00 in New York (EST, UTC-5) is Monday.
    expect(preview).toEqual({
      ok: true,
      runs: [
        new Date('2026-11-23T14:00:00Z'),
        new Date('2026-11-24T14:00:00Z'),
        new Date('2026-11-25T14:00:00Z'),
      ],
    });
    expect(formatInZone('2026-11-23T14:00:00Z', 'America/New_York')).toMatch(
      /23.*09:00.*America\/New_York$/,
    );
  });

  it.each([
    ['', 'Enter a cron expression, e.g. */15 * * * *.'],
    ['61 * * * *', 'Invalid value for minute: 61.'],
    ['0 0 * * * *', /requires exactly 5 parts/],
    ['0 0 30 2 *', '"0 0 30 2 *" matches no date, so it would never run.'],
  ])('says what is wrong with %j', (cron, message) => {
    const preview = previewRuns(cron, 'UTC', NOW);
    expect(preview.ok).toBe(false);
    expect(preview.ok ? '' : preview.error).toMatch(message);
  });

  it('turns valid values into the save_schedule input', () => {
    const result = validateScheduleForm(
      form({ cron: '  */15   *  * * * ', payload: '{"a": 1}', priority: '8', maxAttempts: '2' }),
      NOW,
    );
    expect(result).toEqual({
      ok: true,
      input: {
        name: 'Weekday mornings',
        cron: '*/15 * * * *',
        timezone: 'UTC',
        target: 'lead-gen',
        action: 'refresh_queue',
        payload: { a: 1 },
        priority: 8,
        max_attempts: 2,
        enabled: true,
      },
    });
  });

  it('gives each wrong field its own message', () => {
    const result = validateScheduleForm(
      form({
        name: ' ',
        cron: '0 24 * * *',
        target: '',
        action: 'Bad Action',
        payload: '[1]',
        priority: '11',
        maxAttempts: '0',
      }),
      NOW,
    );
    expect(result.ok).toBe(false);
    expect(result.ok ? {} : result.errors).toEqual({
      name: 'Give the schedule a name.',
      cron: 'Invalid value for hour: 24.',
      target: 'Choose a target.',
      action: expect.any(String),
      payload: expect.stringMatching(/object/),
      priority: expect.stringMatching(/10/),
      maxAttempts: expect.stringMatching(/1/),
    });
  });
});
