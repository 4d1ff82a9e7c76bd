import type { IssuedKey } from '@omnihub/database/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, type TestStack } from '../src/testing.ts';

let t: TestStack;
let key: IssuedKey;

beforeAll(async () => {
  // A fast sweep, so the test waits milliseconds, not the default 5 s.
  t = await startTestStack({}, { leaseSweepMs: 50 });
  key = await t.issueKey({ tenant: 'sweep', source: 'apex-sales' });
});
afterAll(() => t?.close());

type Answer = { task?: { id: string }; tasks?: { id: string }[]; error?: string };

async function call(path: string, body: unknown): Promise<{ status: number; body: Answer }> {
  const response = await fetch(`${t.stack.portUrl}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key.apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Answer };
}

async function port(path: string, body: unknown): Promise<Answer> {
  const answer = await call(path, body);
  expect(answer.status).toBeLessThan(300);
  return answer.body;
}

const state = async (id: string) => {
  const [task] = await t.db.sql`
    select status, error, attempts, lease_expires_at from public.tasks where id = ${id}`;
  const attempts = await t.db.sql`
    select attempt, outcome from public.task_attempts where task_id = ${id} order by started_at`;
  return { ...task, history: attempts.map((a) => [a.attempt, a.outcome]) };
};

describe('the local stack’s lease sweeper', () => {
  it('puts a task whose worker went silent back in the queue, or fails it on its last attempt, with no claim asking', async () => {
    const again = (await port('/tasks', { target: 'apex-sales', action: 'echo' })).task!;
    const last = (await port('/tasks', { target: 'apex-sales', action: 'echo', max_attempts: 1 }))
      .task!;
    const claimed = await port('/tasks/claim', {
      worker_id: 'gone',
      max_tasks: 10,
      lease_seconds: 300,
    });
    expect(claimed.tasks!.map((task) => task.id).sort()).toEqual([again.id, last.id].sort());

    // The worker died: its leases run out, and nothing claims for this target.
    await t.db.sql`
      update public.tasks set lease_expires_at = now() - interval '1 second'
      where id in ${t.db.sql([again.id, last.id])}`;

    await expect
      .poll(() => state(again.id))
      .toMatchObject({
        status: 'queued',
        error: null,
        attempts: 1,
        lease_expires_at: null,
        history: [[1, 'lease_expired']],
      });
    await expect
      .poll(() => state(last.id))
      .toMatchObject({
        status: 'failed',
        error: 'lease_expired',
        history: [[1, 'lease_expired']],
      });
  });

  it('leaves a lease that has not run out alone', async () => {
    const task = (await port('/tasks', { target: 'apex-sales', action: 'echo' })).task!;
    await port('/tasks/claim', { worker_id: 'alive', max_tasks: 10, lease_seconds: 300 });
    // A sweep now (like those on the timer) leaves a live lease as it is.
    const [row] = await t.db.sql<{ swept: number }[]>`
      select omnilink.reclaim_expired_leases() as swept`;
    expect(row!.swept).toBe(0);
    expect(await state(task.id)).toMatchObject({ status: 'running', history: [[1, null]] });
  });
});

describe('a lease that runs out while its worker is still busy', () => {
  it('lets exactly one worker complete each attempt, even when the late worker and the next race', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 20; i++)
      ids.push(
        (await port('/tasks', { target: 'apex-sales', action: 'race', priority: 10 })).task!.id,
      );
    const first = await port('/tasks/claim', {
      worker_id: 'slow',
      max_tasks: 20,
      lease_seconds: 300,
      actions: ['race'],
    });
    expect(first.tasks!.map((task) => task.id).sort()).toEqual([...ids].sort());
    await t.db.sql`
      update public.tasks set lease_expires_at = now() - interval '1 second'
      where id in ${t.db.sql(ids)}`;

    // The slow worker finishes every task just as a fresh worker claims and finishes them.
    const slow = Promise.all(
      ids.map((id) =>
        call(`/tasks/${id}/complete`, { worker_id: 'slow', status: 'succeeded', output: 'slow' }),
      ),
    );
    const fresh = (async () => {
      const done: { status: number }[] = [];
      while (done.length < ids.length) {
        const claim = await port('/tasks/claim', {
          worker_id: 'fresh',
          max_tasks: 20,
          lease_seconds: 300,
          actions: ['race'],
          wait_ms: 1000,
        });
        for (const task of claim.tasks!)
          done.push(
            await call(`/tasks/${task.id}/complete`, {
              worker_id: 'fresh',
              status: 'succeeded',
              output: 'fresh',
            }),
          );
      }
      return done;
    })();

    const [late, next] = await Promise.all([slow, fresh]);
    expect(late.map((answer) => [answer.status, answer.body.error])).toEqual(
      ids.map(() => [409, 'lease_lost']),
    );
    expect(next.map((answer) => answer.status)).toEqual(ids.map(() => 200));
    const rows = await t.db.sql`
      select t.status, t.output, t.attempts,
             array_agg(a.outcome order by a.started_at) as outcomes,
             array_agg(a.worker_id order by a.started_at) as workers
      from public.tasks t join public.task_attempts a on a.task_id = t.id
      where t.id in ${t.db.sql(ids)}
      group by t.id`;
    expect(rows).toHaveLength(20);
    for (const row of rows)
      expect(row).toEqual({
        status: 'succeeded',
        output: 'fresh',
        attempts: 2,
        outcomes: ['lease_expired', 'succeeded'],
        workers: ['slow', 'fresh'],
      });
  });
});
