import { ClaimTasksResponse, CompleteTasksResponse, CreateTaskResponse } from '@omnihub/contracts';
import { snapshotCounts, type IssuedKey } from '@omnihub/database/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { sha256Hex } from '../src/credentials.ts';
import { startPortHarness, type PortHarness } from './support.ts';

let h: PortHarness;
let apex: IssuedKey;
let otherTenant: IssuedKey;
let claimOnly: IssuedKey;
const WORKER = 'apex-sales-dev-01';

beforeAll(async () => {
  h = await startPortHarness();
  apex = await h.issueKey({ tenant: 'acme', source: 'apex-sales' });
  otherTenant = await h.issueKey({ tenant: 'globex', source: 'apex-sales' });
  claimOnly = await h.issueKey({ tenant: 'acme', source: 'apex-sales', scopes: ['tasks:claim'] });
});
afterAll(() => h.close());
beforeEach(async () => {
  await h.db.sql`delete from tasks`;
});

async function createTasks(count: number, body: Record<string, unknown> = {}, key = apex) {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const response = await h.port.post('/tasks', key.apiKey, {
      target: 'apex-sales',
      action: 'call_lead',
      ...body,
    });
    expect(response.status, JSON.stringify(response.body)).toBe(201);
    ids.push(CreateTaskResponse.parse(response.body).task.id);
  }
  return ids;
}

async function claim(maxTasks: number, workerId = WORKER, key = apex) {
  const response = await h.port.post('/tasks/claim', key.apiKey, {
    worker_id: workerId,
    max_tasks: maxTasks,
  });
  expect(response.status, JSON.stringify(response.body)).toBe(200);
  return ClaimTasksResponse.parse(response.body).tasks;
}

async function completeMany(completions: unknown[], workerId = WORKER, key = apex) {
  const response = await h.port.post('/tasks/complete', key.apiKey, {
    worker_id: workerId,
    completions,
  });
  expect(response.status, JSON.stringify(response.body)).toBe(200);
  return CompleteTasksResponse.parse(response.body).results;
}

describe('POST /tasks/complete', () => {
  it('completes many tasks in one call, each as the single endpoint would, results in request order', async () => {
    await createTasks(4, { max_attempts: 2 });
    const tasks = await claim(4);
    expect(tasks).toHaveLength(4);
    const [a, b, c, d] = tasks;
    const results = await completeMany([
      { task_id: d!.id, attempt: 1, status: 'succeeded', output: { n: 4 } },
      { task_id: a!.id, status: 'succeeded', output: 'text' },
      { task_id: b!.id, attempt: 1, status: 'failed', error: 'flaky' },
      { task_id: c!.id, status: 'failed', error: 'bad input', retryable: false },
    ]);
    expect(results).toEqual([
      { task_id: d!.id, outcome: 'completed', status: 'succeeded' },
      { task_id: a!.id, outcome: 'completed', status: 'succeeded' },
      { task_id: b!.id, outcome: 'completed', status: 'queued' },
      { task_id: c!.id, outcome: 'completed', status: 'failed' },
    ]);
    const rows = await h.db.sql`
      select t.id, t.status, t.output, t.error, t.finished_at is not null as finished,
             t.run_at > now() as backoff, a.outcome, a.error as attempt_error
      from tasks t join task_attempts a on a.task_id = t.id order by t.created_at`;
    expect(rows.map((row) => ({ ...row }))).toEqual([
      {
        id: a!.id,
        status: 'succeeded',
        output: 'text',
        error: null,
        finished: true,
        backoff: null,
        outcome: 'succeeded',
        attempt_error: null,
      },
      {
        id: b!.id,
        status: 'queued',
        output: null,
        error: 'flaky',
        finished: false,
        backoff: true,
        outcome: 'failed',
        attempt_error: 'flaky',
      },
      {
        id: c!.id,
        status: 'failed',
        output: null,
        error: 'bad input',
        finished: true,
        backoff: null,
        outcome: 'failed',
        attempt_error: 'bad input',
      },
      {
        id: d!.id,
        status: 'succeeded',
        output: { n: 4 },
        error: null,
        finished: true,
        backoff: null,
        outcome: 'succeeded',
        attempt_error: null,
      },
    ]);
  });

  it('refuses per completion what the single endpoint refuses, and records the rest', async () => {
    await createTasks(3);
    const [mine, theirs, expired] = await claim(1).then(async (first) => [
      ...first,
      ...(await claim(1, 'apex-sales-dev-02')),
      ...(await claim(1)),
    ]);
    await h.db
      .sql`update tasks set lease_expires_at = now() - interval '1 second' where id = ${expired!.id}`;
    const [foreign] = await createTasks(1, {}, otherTenant);
    const unknown = crypto.randomUUID();

    const results = await completeMany([
      { task_id: mine!.id, status: 'succeeded' },
      { task_id: theirs!.id, status: 'succeeded' },
      { task_id: expired!.id, status: 'succeeded' },
      { task_id: foreign!, status: 'succeeded' },
      { task_id: unknown, status: 'succeeded' },
    ]);
    expect(results).toEqual([
      { task_id: mine!.id, outcome: 'completed', status: 'succeeded' },
      expect.objectContaining({ task_id: theirs!.id, error: 'lease_lost', status: 'running' }),
      expect.objectContaining({ task_id: expired!.id, error: 'lease_lost', status: 'queued' }),
      expect.objectContaining({ task_id: foreign!, error: 'not_found' }),
      expect.objectContaining({ task_id: unknown, error: 'not_found' }),
    ]);
    const statuses = await h.db.sql`select id, status from tasks`;
    expect(Object.fromEntries(statuses.map((row) => [row.id, row.status]))).toEqual({
      [mine!.id]: 'succeeded',
      [theirs!.id]: 'running',
      [expired!.id]: 'queued',
      [foreign!]: 'queued',
    });
    const [attempt] = await h.db
      .sql`select outcome from task_attempts where task_id = ${expired!.id}`;
    expect(attempt!.outcome).toBe('lease_expired');
  });

  it('answers a repeated batch as completed without changing anything, and a different second completion lease_lost', async () => {
    await createTasks(2);
    const tasks = await claim(2);
    const batch = tasks.map((task) => ({
      task_id: task.id,
      attempt: task.attempts,
      status: 'succeeded',
    }));
    await completeMany(batch);
    const before = await h.db.sql`select id, updated_at from tasks order by id`;
    expect(await completeMany(batch)).toEqual(
      tasks.map((task) => ({ task_id: task.id, outcome: 'completed', status: 'succeeded' })),
    );
    const [changed] = await completeMany([
      { task_id: tasks[0]!.id, status: 'failed', error: 'second thoughts' },
    ]);
    expect(changed).toMatchObject({ error: 'lease_lost', status: 'succeeded' });
    expect(await h.db.sql`select id, updated_at from tasks order by id`).toEqual(before);
  });

  it('refuses a malformed batch with 400, naming the problem, and changes nothing', async () => {
    await createTasks(1);
    const [task] = await claim(1);
    const before = await snapshotCounts(h.db.sql);
    const cases: [unknown, string][] = [
      [{ worker_id: WORKER, completions: [] }, 'completions'],
      [
        {
          worker_id: WORKER,
          completions: Array.from({ length: 101 }, () => ({
            task_id: crypto.randomUUID(),
            status: 'succeeded',
          })),
        },
        'completions',
      ],
      [
        {
          worker_id: WORKER,
          completions: [
            { task_id: task!.id, status: 'succeeded' },
            { task_id: task!.id, status: 'failed' },
          ],
        },
        'completions',
      ],
      [{ worker_id: WORKER, completions: [{ task_id: 'nope', status: 'succeeded' }] }, 'task_id'],
      [{ worker_id: WORKER, completions: [{ task_id: task!.id, status: 'done' }] }, 'status'],
      [
        { worker_id: WORKER, completions: [{ task_id: task!.id, status: 'succeeded', x: 1 }] },
        'completions',
      ],
      [{ completions: [{ task_id: task!.id, status: 'succeeded' }] }, 'worker_id'],
    ];
    for (const [body, path] of cases) {
      const response = await h.port.post('/tasks/complete', apex.apiKey, body);
      expect(response.status, JSON.stringify(response.body)).toBe(400);
      expect(response.body.error).toBe('invalid_request');
      expect(
        response.body.issues.some((issue: { path: string }) => issue.path.includes(path)),
        JSON.stringify(response.body.issues),
      ).toBe(true);
    }
    expect(await snapshotCounts(h.db.sql)).toEqual(before);
    expect((await h.db.sql`select status from tasks`)[0]!.status).toBe('running');
  });

  it('needs the tasks:complete scope', async () => {
    await createTasks(1);
    const [task] = await claim(1);
    const response = await h.port.post('/tasks/complete', claimOnly.apiKey, {
      worker_id: WORKER,
      completions: [{ task_id: task!.id, status: 'succeeded' }],
    });
    expect(response.status).toBe(403);
    expect(response.body).toMatchObject({
      error: 'permission_denied',
      required_scope: 'tasks:complete',
    });
    expect((await h.db.sql`select status from tasks`)[0]!.status).toBe('running');
  });

  it('cuts an output over 16 KiB as the single endpoint does', async () => {
    await createTasks(1);
    const [task] = await claim(1);
    await completeMany([{ task_id: task!.id, status: 'succeeded', output: 'x'.repeat(20_000) }]);
    const [row] = await h.db
      .sql`select output_truncated, output ->> 'truncated' as truncated from tasks`;
    expect(row).toEqual({ output_truncated: true, truncated: 'true' });
  });
});

describe('the cost of claiming and completing', () => {
  it('does not grow with the tenant’s tasks when plans were cached while it had few', async () => {
    const conn = await h.db.sql.reserve();
    try {
      const secret = sha256Hex(apex.apiKey.split('.')[2]!);
      const seed = (count: number, status = 'queued') =>
        conn`
          insert into tasks (tenant_id, target, action, status, finished_at)
          select ${apex.tenantId}, 'apex-sales', 'call_lead', ${status},
                 case when ${status} = 'succeeded' then now() end
          from generate_series(1, ${count}::int)`;
      const cycle = async () => {
        const [claimed] = await conn`
          select omnilink.port_claim_tasks(${apex.keyId}, ${secret}, ${WORKER}, 10, 300, null, true) as r`;
        const tasks = claimed!.r.tasks as { id: string; attempts: number }[];
        expect(tasks).toHaveLength(10);
        const completions = tasks.map((task) => ({
          task_id: task.id,
          attempt: task.attempts,
          status: 'succeeded',
        }));
        const [completed] = await conn`
          select omnilink.port_complete_tasks(${apex.keyId}, ${secret}, ${WORKER}, ${conn.json(completions)}) as c`;
        const results = completed!.c.results as { outcome?: string }[];
        expect(results.map((x) => x.outcome)).toEqual(completions.map(() => 'completed'));
      };
      const rowsRead = async () => {
        await conn`select pg_stat_force_next_flush()`;
        const [row] = await conn`
          select seq_tup_read + (
                   select sum(i.idx_tup_read) from pg_stat_user_indexes i where i.relname = 'tasks'
                 ) as n
          from pg_stat_user_tables where relname = 'tasks'`;
        return Number(row!.n);
      };
      // A queue that starts small: statistics from then, and plpgsql's
      // plans cached on this connection past its first five calls.
      await seed(10);
      await conn`analyze tasks`;
      for (let round = 0; round < 8; round++) {
        await seed(10);
        await cycle();
      }
      // Then the tenant grows (without a new analyze, as between autovacuum runs).
      await seed(20_000, 'succeeded');
      await seed(30);
      const before = await rowsRead();
      for (let round = 0; round < 3; round++) await cycle();
      // Rows and index entries read for 30 tasks claimed and completed: a
      // few each, not the tenant's 20,000.
      expect((await rowsRead()) - before).toBeLessThan(2_000);
    } finally {
      conn.release();
    }
  });
});
