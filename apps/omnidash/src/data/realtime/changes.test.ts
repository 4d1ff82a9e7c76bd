import { QueryClient, QueryObserver } from '@tanstack/react-query';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { invalidateSoon } from './changes.ts';

/** A query whose every fetch waits until the test answers it. */
function controlledQuery(queryClient: QueryClient, queryKey: string[]) {
  const answers: ((value: string) => void)[] = [];
  const observer = new QueryObserver(queryClient, {
    queryKey,
    queryFn: () => new Promise<string>((resolve) => answers.push(resolve)),
  });
  const stop = observer.subscribe(() => {});
  return {
    answers,
    data: () => observer.getCurrentResult().data,
    fetching: () => observer.getCurrentResult().fetchStatus === 'fetching',
    stop,
  };
}

let queryClient: QueryClient;
beforeEach(() => {
  queryClient = new QueryClient({ defaultOptions: { queries: { retry: false } } });
});
afterEach(() => queryClient.clear());

describe('invalidateSoon', () => {
  it('asks a first fetch in flight again once it answers, since its answer may predate the change', async () => {
    vi.useFakeTimers();
    try {
      const query = controlledQuery(queryClient, ['tenants', 't1', 'things']);
      expect(query.answers).toHaveLength(1);
      invalidateSoon(queryClient, ['tenants', 't1'], 100);
      await vi.advanceTimersByTimeAsync(100);
      // The change was folded in while the first fetch was still out.
      expect(query.answers).toHaveLength(1);
      query.answers[0]!('read before the change');
      await vi.advanceTimersByTimeAsync(0);
      expect(query.answers).toHaveLength(2);
      query.answers[1]!('read after the change');
      await vi.advanceTimersByTimeAsync(0);
      expect(query.data()).toBe('read after the change');
      query.stop();
    } finally {
      vi.useRealTimers();
    }
  });

  it('refetches a burst of changes once, per query client', async () => {
    const other = new QueryClient();
    const a = controlledQuery(queryClient, ['tenants', 't1', 'stats']);
    const b = controlledQuery(other, ['tenants', 't1', 'stats']);
    a.answers[0]!('first');
    b.answers[0]!('first');
    await vi.waitFor(() => expect([a.data(), b.data()]).toEqual(['first', 'first']));

    for (let i = 0; i < 5; i++) invalidateSoon(queryClient, ['tenants', 't1', 'stats'], 0);
    invalidateSoon(other, ['tenants', 't1', 'stats'], 0);
    await vi.waitFor(() => expect([a.answers.length, b.answers.length]).toEqual([2, 2]));
    a.answers[1]!('second');
    await vi.waitFor(() => expect(a.fetching()).toBe(false));
    expect(a.answers).toHaveLength(2);
    a.stop();
    b.stop();
    other.clear();
  });
});
