import { describe, expect, it } from 'vitest';
import { RequestGroups } from './request-groups.ts';

/** A database call stand-in that records each group and waits until told to answer. */
function controlledRun() {
  const calls: {
    requests: string[];
    answer: (results?: string[]) => void;
    fail: (error: unknown) => void;
  }[] = [];
  const run = (requests: string[]) =>
    new Promise<string[]>((resolve, reject) => {
      calls.push({
        requests,
        answer: (results) => resolve(results ?? requests.map((request) => `done ${request}`)),
        fail: reject,
      });
    });
  return { calls, run };
}

const options = {
  overlapWeight: 100,
  maxRunning: 4,
  maxWeight: 1_000,
  weigh: (r: string) => r.length,
};

/** A statement error as postgres.js raises it. */
function postgresError(code: string): Error {
  return Object.assign(new Error(`refused (${code})`), { name: 'PostgresError', code });
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('RequestGroups', () => {
  it('sends a request at once when idle, and groups those that arrive while a call runs', async () => {
    const { calls, run } = controlledRun();
    const groups = new RequestGroups(run, options);
    const first = groups.submit('a');
    expect(calls.map((call) => call.requests)).toEqual([['a']]);

    const later = ['b', 'c', 'd'].map((request) => groups.submit(request));
    expect(calls).toHaveLength(1); // they wait for the running call
    calls[0]!.answer();
    expect(await first).toBe('done a');
    await settle();
    expect(calls.map((call) => call.requests)).toEqual([['a'], ['b', 'c', 'd']]);
    calls[1]!.answer(['1', '2', '3']);
    // Each gets the result in its own position.
    expect(await Promise.all(later)).toEqual(['1', '2', '3']);
  });

  it('starts another call beside a running one once the waiting requests weigh enough', async () => {
    const { calls, run } = controlledRun();
    const groups = new RequestGroups(run, options);
    void groups.submit('x');
    void groups.submit('y'.repeat(60));
    expect(calls).toHaveLength(1); // 60 waiting: under 100
    void groups.submit('z'.repeat(60));
    // 120 waiting: a second call takes both.
    expect(calls.map((call) => call.requests.map((r) => r.length))).toEqual([[1], [60, 60]]);
    for (let i = 0; i < 6; i++) void groups.submit('w'.repeat(100));
    // Heavy requests run side by side, up to maxRunning calls.
    expect(calls).toHaveLength(4);
  });

  it('keeps a group under maxWeight, but a heavier request still runs alone', async () => {
    const { calls, run } = controlledRun();
    const groups = new RequestGroups(run, { ...options, maxRunning: 1 });
    void groups.submit('first');
    for (const size of [400, 500, 200, 1_500, 10]) void groups.submit('q'.repeat(size));
    calls[0]!.answer();
    await settle();
    calls[1]!.answer();
    await settle();
    calls[2]!.answer();
    await settle();
    expect(calls.map((call) => call.requests.map((r) => r.length))).toEqual([
      [5],
      [400, 500],
      [200],
      [1_500],
    ]);
  });

  it('runs each request alone when the database refuses the group, so only the one at fault fails', async () => {
    const seen: string[][] = [];
    const run = async (requests: string[]) => {
      seen.push(requests);
      if (requests.includes('bad')) throw postgresError('22P05');
      return requests.map((request) => `ok ${request}`);
    };
    const groups = new RequestGroups(run, options);
    const blocker = groups.submit('first'); // runs alone; the rest wait and go as one group
    const outcomes = Promise.allSettled(['a', 'bad', 'b'].map((request) => groups.submit(request)));
    await blocker;
    const [a, bad, b] = await outcomes;
    expect(a).toEqual({ status: 'fulfilled', value: 'ok a' });
    expect(bad).toMatchObject({ status: 'rejected', reason: { code: '22P05' } });
    expect(b).toEqual({ status: 'fulfilled', value: 'ok b' });
    expect(seen).toEqual([['first'], ['a', 'bad', 'b'], ['a'], ['bad'], ['b']]);
  });

  it('fails the whole group without retrying when the connection is lost', async () => {
    const { calls, run } = controlledRun();
    const groups = new RequestGroups(run, options);
    void groups.submit('first').catch(() => {});
    const outcomes = Promise.allSettled(['a', 'b'].map((request) => groups.submit(request)));
    calls[0]!.answer();
    await settle();
    const lost = Object.assign(new Error('write CONNECTION_CLOSED'), { code: 'CONNECTION_CLOSED' });
    calls[1]!.fail(lost);
    expect((await outcomes).map((outcome) => outcome.status)).toEqual(['rejected', 'rejected']);
    expect(calls).toHaveLength(2); // nothing was sent again: the group may have committed
  });

  it('refuses to hand out results that do not match the group', async () => {
    const { calls, run } = controlledRun();
    const groups = new RequestGroups(run, options);
    const only = groups.submit('a');
    calls[0]!.answer([]);
    await expect(only).rejects.toThrow('A group of 1 requests got 0 results.');
  });
});
