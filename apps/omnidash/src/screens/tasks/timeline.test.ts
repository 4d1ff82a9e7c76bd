import { describe, expect, it } from 'vitest';
import type { TaskAttempt } from '../../data/tasks/types.ts';
import { buildTimeline } from './timeline.ts';

const base = {
  created_at: '2026-11-21T10:00:00.000001+00:00',
  approved_at: null,
  finished_at: null,
  status: 'queued' as const,
  error: null,
  require_approval: false,
  run_at: null,
};

function attempt(
  n: number,
  started: string,
  finished: string | null,
  outcome: TaskAttempt['outcome'],
  error: string | null = null,
): TaskAttempt {
  return {
    id: `a${n}`,
    task_id: 't',
    attempt: n,
    worker_id: `w-${n}`,
    started_at: started,
    finished_at: finished,
    outcome,
    error,
  };
}

describe('buildTimeline', () => {
  it('tells an approved task that failed once and then succeeded, in order', () => {
    const entries = buildTimeline(
      {
        ...base,
        require_approval: true,
        approved_at: '2026-11-21T10:01:00Z',
        status: 'succeeded',
        finished_at: '2026-11-21T10:03:00Z',
      },
      [
        attempt(2, '2026-11-21T10:02:30Z', '2026-11-21T10:03:00Z', 'succeeded'),
        attempt(1, '2026-11-21T10:02:00Z', '2026-11-21T10:02:10Z', 'failed', 'timeout'),
      ],
    );
    expect(entries.map((entry) => [entry.kind, entry.label, entry.detail])).toEqual([
      ['created', 'Created, waiting for approval', undefined],
      ['approved', 'Approved', undefined],
      ['attempt-started', 'Attempt 1 started on w-1', undefined],
      ['attempt-ended', 'Attempt 1 failed', 'timeout'],
      ['attempt-started', 'Attempt 2 started on w-2', undefined],
      // Same instant: the attempt ends, then the task.
      ['attempt-ended', 'Attempt 2 succeeded', undefined],
      ['finished', 'Succeeded', undefined],
    ]);
  });

  it('says a rejection and its reason', () => {
    const entries = buildTimeline(
      {
        ...base,
        require_approval: true,
        status: 'canceled',
        error: 'rejected: not today',
        finished_at: '2026-11-21T10:05:00Z',
      },
      [],
    );
    expect(entries.at(-1)).toMatchObject({
      kind: 'finished',
      label: 'Rejected',
      detail: 'rejected: not today',
    });
  });

  it('shows a running attempt as started only, and a lost lease in words', () => {
    const entries = buildTimeline({ ...base, status: 'running' }, [
      attempt(1, '2026-11-21T10:01:00Z', '2026-11-21T10:06:00Z', 'lease_expired'),
      attempt(2, '2026-11-21T10:07:00Z', null, null),
    ]);
    expect(entries.map((entry) => entry.label)).toEqual([
      'Created',
      'Attempt 1 started on w-1',
      'Attempt 1 lost its lease (the worker stopped reporting)',
      'Attempt 2 started on w-2',
    ]);
  });

  it('names a cancel caused by a failed dependency', () => {
    const entries = buildTimeline(
      {
        ...base,
        status: 'canceled',
        error: 'dependency_failed',
        finished_at: '2026-11-21T10:00:01Z',
      },
      [],
    );
    expect(entries.at(-1)?.label).toBe('Canceled: a task it depends on did not succeed');
  });
});
