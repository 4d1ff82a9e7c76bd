import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Sql } from './db.ts';
import {
  FALLBACK_POLL_MS,
  LISTENING_POLL_MS,
  TASK_READY_CHANNEL,
  TaskSignals,
} from './task-signals.ts';

const KEY = 'tenant-1 lead-gen';
const OTHER_KEY = 'tenant-1 outreach';
const LATER = 60_000;

/** Lets every pending promise chain run (setImmediate stays real: only timeouts and Date are faked). */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Tracks whether a promise has settled, without awaiting it. */
function track(promise: Promise<unknown>) {
  const state = { done: false };
  void promise.then(() => {
    state.done = true;
  });
  return state;
}

/**
 * A stand-in for postgres.js: `listen` captures the callbacks, and the tagged
 * template (the probe's `select pg_notify(channel, token)`) echoes the token
 * back through the notification callback while `deliverProbes` is on.
 */
function fakeSql(
  options: { deliverProbes?: boolean; listenError?: Error; queryError?: Error } = {},
) {
  const fake = {
    deliverProbes: options.deliverProbes ?? true,
    channel: undefined as string | undefined,
    queries: [] as unknown[][],
    onnotify: undefined as ((payload: string) => void) | undefined,
    onlisten: undefined as (() => void) | undefined,
    unlisten: vi.fn(async () => {}),
    notify(payload: string) {
      if (!fake.onnotify) throw new Error('not listening');
      fake.onnotify(payload);
    },
    /** What postgres.js does after a reconnect: calls onlisten again. */
    reconnect() {
      fake.onlisten?.();
    },
  };
  const query = async (_strings: TemplateStringsArray, ...values: unknown[]) => {
    fake.queries.push(values);
    if (options.queryError) throw options.queryError;
    if (fake.deliverProbes && values[0] === TASK_READY_CHANNEL) fake.notify(String(values[1]));
    return [];
  };
  const sql = Object.assign(query, {
    listen: async (channel: string, onnotify: (payload: string) => void, onlisten?: () => void) => {
      if (options.listenError) throw options.listenError;
      fake.channel = channel;
      fake.onnotify = onnotify;
      fake.onlisten = onlisten;
      onlisten?.();
      return { state: {}, unlisten: fake.unlisten };
    },
  });
  return { sql: sql as unknown as Sql, fake };
}

async function listening(options?: Parameters<typeof fakeSql>[0]) {
  const { sql, fake } = fakeSql(options);
  const warnings: string[] = [];
  const signals = await TaskSignals.listen(sql, (message) => warnings.push(message));
  await settle();
  return { signals, fake, warnings };
}

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('TaskSignals.polling', () => {
  it('polls every 250 ms and is not listening', () => {
    const signals = TaskSignals.polling();
    expect(signals.pollIntervalMs).toBe(250);
    expect(signals.pollIntervalMs).toBe(FALLBACK_POLL_MS);
    expect(signals.listening).toBe(false);
    expect(signals.cursor()).toBe(0);
  });

  it('resolves wait() at `until`, not before', async () => {
    const signals = TaskSignals.polling();
    const waiting = track(signals.wait(KEY, signals.cursor(), Date.now() + 1000));
    await vi.advanceTimersByTimeAsync(999);
    expect(waiting.done).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(waiting.done).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('resolves wait() at once when `until` has passed', async () => {
    const signals = TaskSignals.polling();
    const waiting = track(signals.wait(KEY, 0, Date.now() - 5));
    await vi.advanceTimersByTimeAsync(0);
    expect(waiting.done).toBe(true);
  });

  it('resolves immediately when the signal is already aborted', async () => {
    const signals = TaskSignals.polling();
    const waiting = track(signals.wait(KEY, 0, Date.now() + LATER, AbortSignal.abort()));
    await settle();
    expect(waiting.done).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('resolves when the signal aborts, and drops its timer', async () => {
    const signals = TaskSignals.polling();
    const controller = new AbortController();
    const waiting = track(signals.wait(KEY, 0, Date.now() + LATER, controller.signal));
    await settle();
    expect(waiting.done).toBe(false);
    controller.abort();
    await settle();
    expect(waiting.done).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('wakes every waiter on close()', async () => {
    const signals = TaskSignals.polling();
    const first = track(signals.wait(KEY, 0, Date.now() + LATER));
    const second = track(signals.wait(OTHER_KEY, 0, Date.now() + LATER));
    await signals.close();
    await settle();
    expect(first.done && second.done).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('TaskSignals.listen', () => {
  it('listens on the task-ready channel and proves delivery with a probe', async () => {
    const { signals, fake, warnings } = await listening();
    expect(fake.channel).toBe(TASK_READY_CHANNEL);
    expect(fake.queries).toHaveLength(1);
    expect(fake.queries[0]).toEqual([
      TASK_READY_CHANNEL,
      expect.stringMatching(/^probe [0-9a-f-]{36}$/),
    ]);
    expect(signals.listening).toBe(true);
    expect(signals.pollIntervalMs).toBe(2000);
    expect(signals.pollIntervalMs).toBe(LISTENING_POLL_MS);
    expect(warnings).toEqual([]);
  });

  it('reports the probe outcome through verified()', async () => {
    const { signals } = await listening();
    await expect(signals.verified()).resolves.toBe(true);

    const { signals: deaf } = await listening({ deliverProbes: false });
    const outcome = deaf.verified();
    await vi.advanceTimersByTimeAsync(2000);
    await expect(outcome).resolves.toBe(false);
  });

  it('does not count the probe as a task notification', async () => {
    const { signals } = await listening();
    expect(signals.cursor()).toBe(0);
  });

  it('keeps polling and warns when the probe never arrives', async () => {
    const { signals, warnings } = await listening({ deliverProbes: false });
    expect(signals.listening).toBe(false);
    expect(warnings).toEqual([]);
    await vi.advanceTimersByTimeAsync(2000);
    expect(signals.listening).toBe(false);
    expect(signals.pollIntervalMs).toBe(FALLBACK_POLL_MS);
    expect(warnings).toEqual([expect.stringMatching(/do not arrive/)]);
  });

  it('keeps polling and warns when the probe query fails', async () => {
    const { signals, warnings } = await listening({ queryError: new Error('pooler says no') });
    expect(signals.listening).toBe(false);
    expect(signals.pollIntervalMs).toBe(FALLBACK_POLL_MS);
    expect(warnings).toEqual([expect.stringMatching(/do not arrive/)]);
  });

  it('keeps polling and warns when LISTEN fails', async () => {
    const { signals, warnings } = await listening({ listenError: new Error('connection refused') });
    expect(signals.listening).toBe(false);
    expect(signals.pollIntervalMs).toBe(FALLBACK_POLL_MS);
    expect(warnings).toEqual([expect.stringContaining('LISTEN failed')]);
    expect(warnings[0]).toContain('connection refused');
  });

  it('distrusts notifications after a reconnect until a new probe arrives', async () => {
    const { signals, fake } = await listening();
    expect(signals.listening).toBe(true);
    fake.deliverProbes = false;
    fake.reconnect();
    expect(signals.listening).toBe(false);
    fake.deliverProbes = true;
    fake.reconnect();
    await settle();
    expect(signals.listening).toBe(true);
    expect(fake.queries).toHaveLength(3);
  });

  // A probe overtaken by a reconnect must not write the verdict when it finally times out.
  it('lets a stale probe from before a reconnect not undo the newer probe', async () => {
    const { signals, fake } = await listening({ deliverProbes: false }); // first probe is lost
    fake.deliverProbes = true;
    fake.reconnect(); // the second probe arrives
    await settle();
    expect(signals.listening).toBe(true);
    await vi.advanceTimersByTimeAsync(2000); // the first probe times out
    expect(signals.listening).toBe(true);
  });

  it('advances the cursor with each task notification', async () => {
    const { signals, fake } = await listening();
    fake.notify(KEY);
    fake.notify(OTHER_KEY);
    expect(signals.cursor()).toBe(2);
  });

  it('wakes a waiter on K for a notification on K after its cursor', async () => {
    const { signals, fake } = await listening();
    const cursor = signals.cursor();
    const waiting = track(signals.wait(KEY, cursor, Date.now() + LATER));
    await settle();
    expect(waiting.done).toBe(false);
    fake.notify(KEY);
    await settle();
    expect(waiting.done).toBe(true);
    expect(vi.getTimerCount()).toBe(0); // the waiter's timeout was dropped
  });

  it('resolves at once for a notification that came after `since` but before wait()', async () => {
    const { signals, fake } = await listening();
    const cursor = signals.cursor(); // taken before looking for tasks
    fake.notify(KEY); // arrives while the claim was looking
    const waiting = track(signals.wait(KEY, cursor, Date.now() + LATER));
    await settle();
    expect(waiting.done).toBe(true);
  });

  it('does not resolve at once for a notification that came before `since`', async () => {
    const { signals, fake } = await listening();
    fake.notify(KEY);
    const cursor = signals.cursor();
    const waiting = track(signals.wait(KEY, cursor, Date.now() + 1000));
    await settle();
    expect(waiting.done).toBe(false);
    await vi.advanceTimersByTimeAsync(1000);
    expect(waiting.done).toBe(true);
  });

  it('does not wake a waiter for a notification on another key', async () => {
    const { signals, fake } = await listening();
    const waiting = track(signals.wait(KEY, signals.cursor(), Date.now() + 1000));
    fake.notify(OTHER_KEY);
    fake.notify(`${KEY} `);
    await settle();
    expect(waiting.done).toBe(false);
    await vi.advanceTimersByTimeAsync(1000);
    expect(waiting.done).toBe(true);
  });

  it('wakes every waiter on the same key', async () => {
    const { signals, fake } = await listening();
    const cursor = signals.cursor();
    const first = track(signals.wait(KEY, cursor, Date.now() + LATER));
    const second = track(signals.wait(KEY, cursor, Date.now() + LATER));
    const other = track(signals.wait(OTHER_KEY, cursor, Date.now() + LATER));
    fake.notify(KEY);
    await settle();
    expect([first.done, second.done, other.done]).toEqual([true, true, false]);
  });

  it('unlistens and wakes waiters on close()', async () => {
    const { signals, fake } = await listening();
    const waiting = track(signals.wait(KEY, signals.cursor(), Date.now() + LATER));
    await signals.close();
    await settle();
    expect(fake.unlisten).toHaveBeenCalledTimes(1);
    expect(waiting.done).toBe(true);
  });
});
