import { describe, expect, it } from 'vitest';
import { retryOutcomeText } from './retry-outcome.ts';

const id = (tail: string) => `01a20000-0000-7000-8000-0000${tail}`;

describe('retryOutcomeText', () => {
  it('says how many were retried', () => {
    expect(retryOutcomeText({ retried: [id('00000001')], skipped: [] })).toBe(
      'Retried 1 task: queued to run again with fresh attempts.',
    );
  });

  it('names each skipped task with the status it had instead of failed', () => {
    expect(
      retryOutcomeText({
        retried: [id('00000001'), id('00000002')],
        skipped: [
          { id: id('0000aaaa'), status: 'queued' },
          { id: id('0000bbbb'), status: 'waiting_approval' },
        ],
      }),
    ).toBe(
      'Retried 2 tasks: queued to run again with fresh attempts. Skipped 2 tasks no longer failed: 0000aaaa (queued), 0000bbbb (waiting approval).',
    );
  });

  it('says so when every task was skipped', () => {
    expect(
      retryOutcomeText({ retried: [], skipped: [{ id: id('0000cccc'), status: 'running' }] }),
    ).toBe('Skipped 1 task no longer failed: 0000cccc (running).');
  });
});
