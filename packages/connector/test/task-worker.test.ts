import type { IssuedKey } from '@omnihub/database/testing';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  ConfigError,
  NonRetryableError,
  OmniHubError,
  TaskAbandoned,
  TaskWorker,
  type TaskHandlers,
  type TaskWorkerOptions,
} from '../src/index.ts';
import { startTestStack, type TestStack } from './stack.ts';

let t: TestStack;
let key: IssuedKey;

beforeAll(async () => {
  t = await startTestStack();
  key = await t.issueKey({ tenant: 'acme', source: 'apex-sales' });
});
afterAll(() => t.close());
beforeEach(async () => {
  await t.db.sql`delete from tasks`;
});

const lines: string[] = [];
const started: TaskWorker[] = [];
function worker(handlers: TaskHandlers, options: Partial<TaskWorkerOptions> = {}) {
  const w = new TaskWorker(t.connector(key), handlers, {
    waitMs: 5_000,
    shutdownGraceMs: 1_000,
    log: (line) => lines.push(line),
    ...options,
  });
  started.push(w);
  return w;
}
// A worker left running by a failed test would take the next test's tasks.
afterEach(() => {
  for (const w of started.splice(0)) w.stop();
});

async function create(action: string, extra: Record<string, unknown> = {}) {
  return (await t.connector(key).createTask({ target: 'apex-sales', action, ...extra })).task;
}

/** Resolves once the task reaches one of `statuses` (the worker runs meanwhile). */
async function settled(id: string, statuses = ['succeeded', 'failed', 'canceled']) {
  await expect
    .poll(async () => (await t.db.sql`select status from tasks where id = ${id}`)[0]!.status, {
      timeout: 20_000,
    })
    .toSatisfy((s: string) => statuses.includes(s));
  return (await t.db.sql`select status, output, error, attempts from tasks where id = ${id}`)[0]!;
}

describe('TaskWorker', () => {
  it('completes a task with the handler’s return value and logs one line for it', async () => {
    const w = worker({ echo: (task) => task.params.payload });
    const running = w.run();
    const task = await create('echo', { payload: { message: 'hello from OmniHub' } });
    expect(await settled(task.id)).toMatchObject({
      status: 'succeeded',
      output: { message: 'hello from OmniHub' },
      attempts: 1,
    });
    w.stop();
    await running;
    expect(lines.some((line) => line.includes(`task ${task.id} echo: succeeded in`))).toBe(true);
  });

  it('fails an action without a handler at once, not retryable, with unknown_action', async () => {
    const w = worker({ echo: () => 'x' });
    const running = w.run();
    const task = await create('mystery', { max_attempts: 3 });
    expect(await settled(task.id)).toMatchObject({
      status: 'failed',
      error: 'unknown_action',
      attempts: 1,
    });
    w.stop();
    await running;
  });

  it('retries a throwing handler with backoff and ends the task failed after max_attempts', async () => {
    let calls = 0;
    const w = worker({
      flaky: () => {
        calls++;
        throw new Error(`boom ${calls}`);
      },
    });
    const running = w.run();
    const task = await create('flaky', { max_attempts: 2 });
    expect(await settled(task.id, ['failed'])).toMatchObject({
      status: 'failed',
      error: 'boom 2',
      attempts: 2,
    });
    const attempts = await t.db
      .sql`select finished_at - started_at as ran, started_at from task_attempts where task_id = ${task.id} order by started_at`;
    // The second attempt starts only after the 1 s backoff.
    expect(
      attempts[1]!.started_at.getTime() - attempts[0]!.started_at.getTime(),
    ).toBeGreaterThanOrEqual(1_000);
    w.stop();
    await running;
  });

  it('fails at once when the handler throws a NonRetryableError', async () => {
    const w = worker({
      strict: () => {
        throw new NonRetryableError('lead has no phone');
      },
    });
    const running = w.run();
    const task = await create('strict', { max_attempts: 5 });
    expect(await settled(task.id)).toMatchObject({
      status: 'failed',
      error: 'lead has no phone',
      attempts: 1,
    });
    w.stop();
    await running;
  });

  it('runs at most `concurrency` tasks at once, and at most the per-action limit', async () => {
    let now = 0;
    let peak = 0;
    let slowNow = 0;
    let slowPeak = 0;
    const hold = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
    const w = worker(
      {
        quick: async () => {
          now++;
          peak = Math.max(peak, now);
          await hold(50);
          now--;
        },
        slow: async () => {
          now++;
          slowNow++;
          peak = Math.max(peak, now);
          slowPeak = Math.max(slowPeak, slowNow);
          await hold(100);
          slowNow--;
          now--;
        },
      },
      { concurrency: 3, actionConcurrency: { slow: 1 } },
    );
    const ids = [];
    for (let i = 0; i < 4; i++) ids.push((await create('slow')).id, (await create('quick')).id);
    const running = w.run();
    for (const id of ids) expect((await settled(id)).status).toBe('succeeded');
    w.stop();
    await running;
    expect(peak).toBeLessThanOrEqual(3);
    expect(peak).toBeGreaterThan(1);
    expect(slowPeak).toBe(1);
  });

  it('claims other actions as soon as a limited action’s task finishes, without waiting out the long poll', async () => {
    let release!: () => void;
    let started!: () => void;
    const handlerStarted = new Promise<void>((resolve) => (started = resolve));
    const w = worker(
      {
        limited: () =>
          new Promise((resolve) => {
            started();
            release = () => resolve('done');
          }),
        other: () => 'ok',
      },
      { concurrency: 3, actionConcurrency: { limited: 1 }, waitMs: 25_000 },
    );
    const running = w.run();
    const first = await create('limited');
    await handlerStarted;
    // While `limited` is at its limit the worker long-polls for `other` only: this task has no handler at all.
    const orphan = await create('no_handler_here');
    release();
    expect(await settled(first.id)).toMatchObject({ status: 'succeeded' });
    expect(await settled(orphan.id)).toMatchObject({ status: 'failed', error: 'unknown_action' });
    w.stop();
    await running;
  });

  it('aborts the handler through its signal when the lease is lost, and does not complete the task', async () => {
    let reason: unknown;
    let started!: () => void;
    const handlerStarted = new Promise<void>((resolve) => (started = resolve));
    const w = worker(
      {
        long: (_task, ctx) =>
          new Promise((_, reject) => {
            started();
            ctx.signal.addEventListener('abort', () => {
              reason = ctx.signal.reason;
              reject(ctx.signal.reason);
            });
          }),
      },
      { leaseSeconds: 6 },
    );
    const running = w.run();
    const task = await create('long');
    await handlerStarted;
    // Another worker took the task over: the next heartbeat (every 2 s here) is refused.
    await t.db.sql`update tasks set claimed_by = 'someone-else' where id = ${task.id}`;
    await expect.poll(() => reason, { timeout: 10_000 }).toBeInstanceOf(TaskAbandoned);
    expect((reason as TaskAbandoned).reason).toBe('lease_lost');
    w.stop();
    await running;
    const [row] = await t.db.sql`select status, claimed_by from tasks where id = ${task.id}`;
    expect(row).toEqual({ status: 'running', claimed_by: 'someone-else' });
  });

  it('on stop, claims nothing more and lets a running handler finish', async () => {
    let release!: () => void;
    let started!: () => void;
    const handlerStarted = new Promise<void>((resolve) => (started = resolve));
    const w = worker({
      work: () =>
        new Promise((resolve) => {
          started();
          release = () => resolve('finished');
        }),
    });
    const running = w.run();
    const task = await create('work');
    await handlerStarted;
    w.stop();
    const later = await create('work');
    release();
    await running;
    expect(await settled(task.id)).toMatchObject({ status: 'succeeded', output: 'finished' });
    const [row] = await t.db.sql`select status from tasks where id = ${later.id}`;
    expect(row!.status).toBe('queued');
  });

  it('aborts handlers still running after the grace period; their tasks go back to the queue', async () => {
    let started!: () => void;
    const handlerStarted = new Promise<void>((resolve) => (started = resolve));
    const w = worker(
      {
        stuck: (_task, ctx) =>
          new Promise((_, reject) => {
            started();
            ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason));
          }),
      },
      { shutdownGraceMs: 200 },
    );
    const running = w.run();
    const task = await create('stuck', { max_attempts: 3 });
    await handlerStarted;
    w.stop();
    await running;
    const [row] = await t.db.sql`select status, error from tasks where id = ${task.id}`;
    expect(row).toEqual({ status: 'queued', error: 'the worker stopped before the task finished' });
  });

  it('stops with the refusal when its key is revoked', async () => {
    const doomed = await t.issueKey({ tenant: 'acme', source: 'apex-sales' });
    await t.db.sql`select omnilink.revoke_api_key(${doomed.keyId})`;
    const w = new TaskWorker(t.connector(doomed), { echo: () => 1 }, { log: () => {} });
    const error = await w.run().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OmniHubError);
    expect(error).toMatchObject({ code: 'unauthorized' });
  });

  it('refuses options it cannot honour, naming each', () => {
    const make = (options: Partial<TaskWorkerOptions>) => () =>
      new TaskWorker(t.connector(key), {}, options);
    expect(make({ concurrency: 0 })).toThrow(ConfigError);
    expect(make({ concurrency: 0, leaseSeconds: 3, waitMs: 30_000 })).toThrow(
      /concurrency must be a whole number from 1 to 100; leaseSeconds must be a whole number from 5 to 3600; waitMs must be a whole number from 0 to 25000/,
    );
    expect(make({ actionConcurrency: { call_lead: 0 } })).toThrow(/actionConcurrency\.call_lead/);
  });

  it('fails a task for good when its handler returns something that cannot be stored as JSON', async () => {
    const w = worker({ huge: () => ({ big: 10n }) });
    const running = w.run();
    const task = await create('huge', { max_attempts: 3 });
    expect(await settled(task.id)).toMatchObject({
      status: 'failed',
      attempts: 1,
      error: expect.stringMatching(/^the handler's result cannot be stored: it is not JSON/),
    });
    w.stop();
    await running;
  });

  it('while a per-action limit is reached, waits for a task to finish instead of polling the port', async () => {
    let claims = 0;
    let release!: () => void;
    let began!: () => void;
    const handlerStarted = new Promise<void>((resolve) => (began = resolve));
    const counting = t.connector(key, {
      fetch: ((url: string, init: RequestInit) => {
        if (url.endsWith('/tasks/claim')) claims++;
        return fetch(url, init);
      }) as typeof fetch,
    });
    const w = new TaskWorker(
      counting,
      {
        limited: () =>
          new Promise((resolve) => {
            began();
            release = () => resolve('done');
          }),
        other: () => 'ok',
      },
      { concurrency: 3, actionConcurrency: { limited: 1 }, pollIntervalMs: 60_000, log: () => {} },
    );
    started.push(w);
    const running = w.run();
    const task = await create('limited');
    await handlerStarted;
    const before = claims;
    // However long the limited task runs, the worker asks at most once more until it ends.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(claims - before).toBeLessThanOrEqual(1);
    release();
    expect((await settled(task.id)).status).toBe('succeeded');
    w.stop();
    await running;
  });

  it('returns at once, claiming nothing, when started with a signal that is already aborted', async () => {
    let claims = 0;
    const counting = t.connector(key, {
      fetch: ((url: string, init: RequestInit) => {
        if (url.endsWith('/tasks/claim')) claims++;
        return fetch(url, init);
      }) as typeof fetch,
    });
    const w = new TaskWorker(counting, { echo: () => 1 }, { log: () => {} });
    await w.run(AbortSignal.abort());
    expect(claims).toBe(0);
  });

  it('keeps a second attempt of a task it is still running apart from the first', async () => {
    const finish = new Map<number, (value: string) => void>();
    const w = worker(
      { sticky: (task) => new Promise((resolve) => finish.set(task.attempts, resolve)) },
      // A long lease: no heartbeat interferes while the test moves the task on.
      { concurrency: 2, leaseSeconds: 3600 },
    );
    const running = w.run();
    const task = await create('sticky', { max_attempts: 3 });
    await expect.poll(() => [...finish.keys()]).toEqual([1]);
    // The first lease runs out while its handler still works: the worker claims the task again.
    await t.db
      .sql`update tasks set lease_expires_at = now() - interval '1 second' where id = ${task.id}`;
    await expect.poll(() => [...finish.keys()], { timeout: 10_000 }).toEqual([1, 2]);
    expect(w.runningCount).toBe(2);
    // The old run ends (its completion is refused: the lease is attempt 2's); the new one keeps its slot.
    finish.get(1)!('first');
    await expect.poll(() => w.runningCount).toBe(1);
    finish.get(2)!('second');
    expect(await settled(task.id)).toMatchObject({
      status: 'succeeded',
      output: 'second',
      attempts: 2,
    });
    w.stop();
    await running;
  });

  describe('with completionBatchMs', () => {
    it('sends the completions of tasks finishing together in one request, each recorded as its own', async () => {
      const requests: { path: string; completions?: number }[] = [];
      const counting = t.connector(key, {
        fetch: (async (url: string, init: RequestInit) => {
          const path = new URL(url).pathname.replace(/.*\/omnilink-port/, '');
          if (path.includes('complete')) {
            const body = JSON.parse(String(init.body)) as { completions?: unknown[] };
            requests.push({ path, completions: body.completions?.length });
          }
          return fetch(url, init);
        }) as typeof fetch,
      });
      const ids = await Promise.all(
        Array.from({ length: 20 }, async (_, n) => (await create('echo', { payload: { n } })).id),
      );
      const w = new TaskWorker(
        counting,
        {
          echo: (task) => {
            if (task.params.payload.n === 7) throw new NonRetryableError('seven is refused');
            return task.params.payload;
          },
        },
        { concurrency: 20, completionBatchMs: 50, log: (line) => lines.push(line) },
      );
      started.push(w);
      const running = w.run();
      for (const id of ids) await settled(id);
      w.stop();
      await running;
      const rows = await t.db.sql`
        select t.status, t.output, t.error, a.outcome
        from tasks t join task_attempts a on a.task_id = t.id
        order by (t.params -> 'payload' ->> 'n')::int`;
      expect(rows.map((row) => row.status)).toEqual(
        ids.map((_, n) => (n === 7 ? 'failed' : 'succeeded')),
      );
      expect(rows[3]).toMatchObject({ output: { n: 3 }, outcome: 'succeeded' });
      expect(rows[7]).toMatchObject({ error: 'seven is refused', outcome: 'failed' });
      // Every completion went through the batch endpoint, several per request.
      expect(requests.every((request) => request.path === '/tasks/complete')).toBe(true);
      expect(requests.reduce((sum, request) => sum + request.completions!, 0)).toBe(20);
      expect(requests.length).toBeLessThan(20);
    });

    it('logs a completion the port refused and leaves the task to its lease', async () => {
      let release!: () => void;
      let markStarted!: () => void;
      const handlerStarted = new Promise<void>((resolve) => (markStarted = resolve));
      const w = worker(
        {
          slow: () =>
            new Promise((resolve) => {
              markStarted();
              release = () => resolve('late');
            }),
        },
        { completionBatchMs: 10, leaseSeconds: 3600 },
      );
      const running = w.run();
      const task = await create('slow');
      await handlerStarted;
      await t.db.sql`update tasks set claimed_by = 'someone-else' where id = ${task.id}`;
      release();
      await expect
        .poll(() => lines.some((line) => line.includes(`could not complete task ${task.id}`)))
        .toBe(true);
      expect(
        lines.some(
          (line) =>
            line.includes(`task ${task.id} slow: succeeded in`) && line.includes('not recorded'),
        ),
      ).toBe(true);
      w.stop();
      await running;
      const [row] = await t.db.sql`select status, claimed_by from tasks where id = ${task.id}`;
      expect(row).toEqual({ status: 'running', claimed_by: 'someone-else' });
    });

    it('refuses a batch delay outside 0–1000 ms', () => {
      expect(() => new TaskWorker(t.connector(key), {}, { completionBatchMs: 1001 })).toThrow(
        /completionBatchMs must be a whole number from 0 to 1000/,
      );
    });
  });
});
