import {
  ClaimTasksResponse,
  CreateTaskResponse,
  HeartbeatResponse,
  Task,
  TaskResponse,
} from '@omnihub/contracts';
import { snapshotCounts, type IssuedKey } from '@omnihub/database/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { asUser, createMember, startPortHarness, type PortHarness } from './support.ts';

let h: PortHarness;
let apex: IssuedKey;
let leadGen: IssuedKey;

beforeAll(async () => {
  h = await startPortHarness();
  apex = await h.issueKey({ tenant: 'acme', source: 'apex-sales' });
  leadGen = await h.issueKey({ tenant: 'acme', source: 'lead-gen' });
});
afterAll(() => h.close());
// Each test starts with an empty queue so claims only see its own tasks.
beforeEach(async () => {
  await h.db.sql`delete from tasks`;
});

async function createTask(body: Record<string, unknown>, key = apex.apiKey) {
  const response = await h.port.post('/tasks', key, {
    target: 'apex-sales',
    action: 'call_lead',
    ...body,
  });
  expect(response.status, JSON.stringify(response.body)).toBe(201);
  return CreateTaskResponse.parse(response.body).task;
}

async function claim(body: Record<string, unknown> = {}, key = apex.apiKey) {
  const response = await h.port.post('/tasks/claim', key, {
    worker_id: 'apex-sales-dev-01',
    ...body,
  });
  expect(response.status, JSON.stringify(response.body)).toBe(200);
  return ClaimTasksResponse.parse(response.body).tasks;
}

function complete(taskId: string, body: Record<string, unknown>, key = apex.apiKey) {
  return h.port.post(`/tasks/${taskId}/complete`, key, { worker_id: 'apex-sales-dev-01', ...body });
}

describe('POST /tasks', () => {
  it('creates a queued task with the contract’s defaults', async () => {
    const response = await h.port.post('/tasks', apex.apiKey, {
      target: 'apex-sales',
      action: 'call_lead',
    });
    expect(response.status).toBe(201);
    const task = Task.parse(response.body.task);
    expect(task).toMatchObject({
      target: 'apex-sales',
      action: 'call_lead',
      params: { payload: {} },
      status: 'queued',
      priority: 5,
      run_at: null,
      require_approval: false,
      attempts: 0,
      max_attempts: 3,
      claimed_by: null,
      lease_expires_at: null,
      output: null,
      output_truncated: false,
      error: null,
      depends_on: [],
    });
    expect(response.body.status).toBeUndefined();
  });

  it('stores every given field', async () => {
    const task = await createTask({
      payload: { lead_id: '42' },
      priority: 9,
      run_at: '2030-01-01T00:00:00Z',
      max_attempts: 7,
    });
    expect(task).toMatchObject({
      params: { payload: { lead_id: '42' } },
      priority: 9,
      max_attempts: 7,
    });
    expect(Date.parse(task.run_at!)).toBe(Date.parse('2030-01-01T00:00:00Z'));
    const [row] = await h.db
      .sql`select tenant_id, created_by_integration_id from tasks where id = ${task.id}`;
    expect(row).toEqual({
      tenant_id: apex.tenantId,
      created_by_integration_id: apex.integrationId,
    });
  });

  it('lets one source create tasks for another target of its tenant', async () => {
    const task = await createTask({ target: 'apex-sales' }, leadGen.apiKey);
    expect(task.target).toBe('apex-sales');
  });

  it('returns the original task with 200 duplicate when the idempotency key was used before', async () => {
    const first = await createTask({ idempotency_key: 'call-42', payload: { n: 1 } });
    const again = await h.port.post('/tasks', apex.apiKey, {
      target: 'apex-sales',
      action: 'other',
      idempotency_key: 'call-42',
      payload: { n: 2 },
    });
    expect(again.status).toBe(200);
    expect(again.body).toEqual({ status: 'duplicate', task: first });
    const rows = await h.db.sql`select id from tasks where idempotency_key = 'call-42'`;
    expect(rows).toHaveLength(1);
  });

  it('creates one task when the same idempotency key arrives 20 times at once', async () => {
    const responses = await Promise.all(
      Array.from({ length: 20 }, () =>
        h.port.post('/tasks', apex.apiKey, {
          target: 'apex-sales',
          action: 'x',
          idempotency_key: 'burst',
        }),
      ),
    );
    expect(responses.filter((r) => r.status === 201)).toHaveLength(1);
    expect(responses.filter((r) => r.status === 200 && r.body.status === 'duplicate')).toHaveLength(
      19,
    );
    expect(new Set(responses.map((r) => r.body.task.id)).size).toBe(1);
  });

  it('creates a task that needs approval in waiting_approval', async () => {
    const task = await createTask({ require_approval: true });
    expect(task.status).toBe('waiting_approval');
  });

  it.each([
    ['an action with spaces', { action: 'call lead' }, 'action'],
    ['priority 0', { priority: 0 }, 'priority'],
    ['priority 11', { priority: 11 }, 'priority'],
    ['a fractional priority', { priority: 2.5 }, 'priority'],
    ['max_attempts 21', { max_attempts: 21 }, 'max_attempts'],
    ['a payload that is a string', { payload: 'hello' }, 'payload'],
    ['run_at that is not a date', { run_at: 'tomorrow' }, 'run_at'],
    ['depends_on with a non-uuid', { depends_on: ['abc'] }, 'depends_on.0'],
  ])('refuses %s with 400 and changes nothing', async (_name, extra, path) => {
    const before = await snapshotCounts(h.db.sql);
    const response = await h.port.post('/tasks', apex.apiKey, {
      target: 'apex-sales',
      action: 'x',
      ...extra,
    });
    expect(response.status).toBe(400);
    expect(response.body.error).toBe('invalid_request');
    expect(response.body.issues.map((i: { path: string }) => i.path)).toContain(path);
    expect(await snapshotCounts(h.db.sql)).toEqual(before);
  });

  it('refuses a payload over 16 KiB with 413', async () => {
    const response = await h.port.post('/tasks', apex.apiKey, {
      target: 'apex-sales',
      action: 'x',
      payload: { blob: 'z'.repeat(17_000) },
    });
    expect(response.status).toBe(413);
    expect(response.body.error).toBe('payload_too_large');
  });

  it('refuses depends_on ids that are not tasks of the tenant, naming each, and changes nothing', async () => {
    const real = await createTask({});
    const unknown = crypto.randomUUID();
    const before = await snapshotCounts(h.db.sql);
    const response = await h.port.post('/tasks', apex.apiKey, {
      target: 'apex-sales',
      action: 'x',
      depends_on: [real.id, unknown],
    });
    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({
      error: 'invalid_request',
      issues: [{ path: 'depends_on.1', message: 'no task with this id in your tenant' }],
    });
    expect(await snapshotCounts(h.db.sql)).toEqual(before);
  });
});

describe('POST /tasks/claim', () => {
  it('leases the task: running, attempts + 1, claimed_by and lease_expires_at set, one attempt row', async () => {
    const created = await createTask({});
    const [task] = await claim({ lease_seconds: 60 });
    expect(task).toMatchObject({
      id: created.id,
      status: 'running',
      attempts: 1,
      claimed_by: 'apex-sales-dev-01',
    });
    const [row] = await h.db
      .sql`select lease_expires_at - updated_at as lease from tasks where id = ${created.id}`;
    expect(row!.lease).toBe('00:01:00');
    const attempts = await h.db
      .sql`select attempt, worker_id, integration_id, finished_at from task_attempts where task_id = ${created.id}`;
    expect(attempts).toEqual([
      {
        attempt: 1,
        worker_id: 'apex-sales-dev-01',
        integration_id: apex.integrationId,
        finished_at: null,
      },
    ]);
    const [worker] = await h.db
      .sql`select source, last_claim_at from workers where worker_id = 'apex-sales-dev-01'`;
    expect(worker).toMatchObject({ source: 'apex-sales', last_claim_at: expect.any(Date) });
  });

  it('returns an empty list when nothing is ready', async () => {
    expect(await claim()).toEqual([]);
  });

  it('claims highest priority first, then oldest, up to max_tasks', async () => {
    const low = await createTask({ priority: 1 });
    const oldHigh = await createTask({ priority: 8 });
    const newHigh = await createTask({ priority: 8 });
    const mid = await createTask({ priority: 5 });
    const tasks = await claim({ max_tasks: 3 });
    expect(tasks.map((t) => t.id)).toEqual([oldHigh.id, newHigh.id, mid.id]);
    expect((await claim({ max_tasks: 10 })).map((t) => t.id)).toEqual([low.id]);
  });

  it('claims only tasks whose target is the key’s source', async () => {
    await createTask({ target: 'lead-gen' });
    expect(await claim()).toEqual([]);
    expect(await claim({ worker_id: 'lead-gen-dev-01' }, leadGen.apiKey)).toHaveLength(1);
  });

  it('does not claim a task before its run_at', async () => {
    await createTask({ run_at: new Date(Date.now() + 3_600_000).toISOString() });
    expect(await claim()).toEqual([]);
    await h.db.sql`update tasks set run_at = now() - interval '1 second'`;
    expect(await claim()).toHaveLength(1);
  });

  it('claims only the listed actions', async () => {
    await createTask({ action: 'echo' });
    const call = await createTask({ action: 'call_lead' });
    const tasks = await claim({ actions: ['call_lead'], max_tasks: 10 });
    expect(tasks.map((t) => t.id)).toEqual([call.id]);
  });

  it('does not claim a task waiting for approval until an operator approves it', async () => {
    const task = await createTask({ require_approval: true });
    expect(await claim()).toEqual([]);
    const operator = await createMember(h.db.sql, apex.tenantId, 'operator');
    await asUser(h.db.sql, operator, (tx) => tx`select public.approve_task(${task.id})`);
    const [claimed] = await claim();
    expect(claimed).toMatchObject({ id: task.id, status: 'running' });
  });

  it('claims a task with dependencies only once all of them succeeded', async () => {
    const first = await createTask({ action: 'discover' });
    const second = await createTask({ action: 'enrich' });
    const dependent = await createTask({ action: 'score', depends_on: [first.id, second.id] });
    expect(dependent.depends_on.sort()).toEqual([first.id, second.id].sort());

    const round1 = await claim({ max_tasks: 10 });
    expect(round1.map((t) => t.id).sort()).toEqual([first.id, second.id].sort());
    await complete(first.id, { status: 'succeeded' });
    expect(await claim()).toEqual([]);
    await complete(second.id, { status: 'succeeded' });
    expect((await claim()).map((t) => t.id)).toEqual([dependent.id]);
  });

  it('cancels dependents transitively with dependency_failed when a dependency fails', async () => {
    const root = await createTask({ max_attempts: 1 });
    const child = await createTask({ depends_on: [root.id] });
    const grandchild = await createTask({ depends_on: [child.id] });
    await claim();
    await complete(root.id, { status: 'failed', error: 'boom' });
    const rows = await h.db
      .sql`select id, status, error from tasks where id in ${h.db.sql([child.id, grandchild.id])}`;
    expect(rows.map((r) => [r.status, r.error])).toEqual([
      ['canceled', 'dependency_failed'],
      ['canceled', 'dependency_failed'],
    ]);
    const late = await createTask({ depends_on: [root.id] });
    expect(late).toMatchObject({ status: 'canceled', error: 'dependency_failed' });
  });
});

describe('POST /tasks/{id}/heartbeat', () => {
  it('extends the lease and records progress', async () => {
    const created = await createTask({});
    await claim({ lease_seconds: 30 });
    const response = await h.port.post(`/tasks/${created.id}/heartbeat`, apex.apiKey, {
      worker_id: 'apex-sales-dev-01',
      lease_seconds: 600,
      progress: { pct: 40 },
    });
    expect(response.status).toBe(200);
    const { lease_expires_at } = HeartbeatResponse.parse(response.body);
    const [row] = await h.db
      .sql`select lease_expires_at, progress, lease_expires_at - updated_at as lease from tasks where id = ${created.id}`;
    expect(row!.lease_expires_at.getTime()).toBe(Date.parse(lease_expires_at));
    expect(row).toMatchObject({ progress: { pct: 40 }, lease: '00:10:00' });
  });

  it('keeps the claim’s lease length when lease_seconds is omitted', async () => {
    const created = await createTask({});
    await claim({ lease_seconds: 45 });
    await h.port.post(`/tasks/${created.id}/heartbeat`, apex.apiKey, {
      worker_id: 'apex-sales-dev-01',
    });
    const [row] = await h.db
      .sql`select lease_expires_at - updated_at as lease from tasks where id = ${created.id}`;
    expect(row!.lease).toBe('00:00:45');
  });

  it('answers 409 lease_lost with the status to a worker that does not hold the task', async () => {
    const created = await createTask({});
    await claim();
    const response = await h.port.post(`/tasks/${created.id}/heartbeat`, apex.apiKey, {
      worker_id: 'someone-else',
    });
    expect(response.status).toBe(409);
    expect(response.body).toMatchObject({ error: 'lease_lost', status: 'running' });
  });

  it('answers 409 lease_lost once the lease expired, and puts the task back in the queue', async () => {
    const created = await createTask({});
    await claim();
    await h.db
      .sql`update tasks set lease_expires_at = now() - interval '1 second' where id = ${created.id}`;
    const response = await h.port.post(`/tasks/${created.id}/heartbeat`, apex.apiKey, {
      worker_id: 'apex-sales-dev-01',
    });
    expect(response.status).toBe(409);
    expect(response.body).toMatchObject({ error: 'lease_lost', status: 'queued' });
    const attempts = await h.db
      .sql`select outcome from task_attempts where task_id = ${created.id}`;
    expect(attempts).toEqual([{ outcome: 'lease_expired' }]);
  });

  it('answers 404 for an unknown task id and for a malformed one', async () => {
    const unknown = await h.port.post(`/tasks/${crypto.randomUUID()}/heartbeat`, apex.apiKey, {
      worker_id: 'w',
    });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error).toBe('not_found');
    const malformed = await h.port.post('/tasks/not-a-uuid/heartbeat', apex.apiKey, {
      worker_id: 'w',
    });
    expect(malformed.status).toBe(404);
  });
});

describe('POST /tasks/{id}/complete', () => {
  it('completes a task succeeded with its output and closes the attempt', async () => {
    const created = await createTask({});
    await claim();
    const response = await complete(created.id, { status: 'succeeded', output: { booked: true } });
    expect(response.status).toBe(200);
    const { task } = TaskResponse.parse(response.body);
    expect(task).toMatchObject({
      status: 'succeeded',
      output: { booked: true },
      output_truncated: false,
      lease_expires_at: null,
      error: null,
    });
    const attempts = await h.db
      .sql`select outcome, finished_at from task_attempts where task_id = ${created.id}`;
    expect(attempts).toEqual([{ outcome: 'succeeded', finished_at: expect.any(Date) }]);
  });

  it('accepts any JSON output: a string, an array, null', async () => {
    for (const output of ['done', [1, 2, 3], null]) {
      const created = await createTask({});
      await claim();
      const response = await complete(created.id, { status: 'succeeded', output });
      expect(response.body.task.output).toEqual(output);
    }
  });

  it('stores output over 16 KiB truncated, with the first 16 KiB of its JSON as preview', async () => {
    const created = await createTask({});
    await claim();
    const output = { text: 'é'.repeat(20_000) };
    const response = await complete(created.id, { status: 'succeeded', output });
    const task = response.body.task;
    expect(task.output_truncated).toBe(true);
    expect(task.output.truncated).toBe(true);
    const serialized = JSON.stringify(output);
    expect(serialized.startsWith(task.output.preview)).toBe(true);
    const previewBytes = new TextEncoder().encode(task.output.preview).byteLength;
    expect(previewBytes).toBeLessThanOrEqual(16 * 1024);
    expect(previewBytes).toBeGreaterThan(16 * 1024 - 4);
  });

  it('puts a retryable failure back in the queue with backoff 1 s, 2 s, then fails it after max_attempts', async () => {
    const created = await createTask({ max_attempts: 3 });
    const backoffs: string[] = [];
    for (let attempt = 1; attempt <= 3; attempt++) {
      await h.db.sql`update tasks set run_at = null where id = ${created.id}`;
      expect((await claim()).map((t) => t.attempts)).toEqual([attempt]);
      const response = await complete(created.id, {
        status: 'failed',
        error: `attempt ${attempt} failed`,
      });
      expect(response.status).toBe(200);
      const [row] = await h.db
        .sql`select status, run_at - updated_at as backoff, finished_at from tasks where id = ${created.id}`;
      if (attempt < 3) {
        expect(row).toMatchObject({ status: 'queued', finished_at: null });
        backoffs.push(row!.backoff);
      } else {
        expect(row).toMatchObject({ status: 'failed', finished_at: expect.any(Date) });
        expect(response.body.task).toMatchObject({
          status: 'failed',
          error: 'attempt 3 failed',
          attempts: 3,
        });
      }
    }
    expect(backoffs).toEqual(['00:00:01', '00:00:02']);
    const attempts = await h.db
      .sql`select attempt, outcome, error from task_attempts where task_id = ${created.id} order by started_at, attempt`;
    expect(attempts.map((a) => [a.attempt, a.outcome])).toEqual([
      [1, 'failed'],
      [2, 'failed'],
      [3, 'failed'],
    ]);
  });

  it('ends a non-retryable failure at once', async () => {
    const created = await createTask({});
    await claim();
    const response = await complete(created.id, {
      status: 'failed',
      error: 'bad lead',
      retryable: false,
    });
    expect(response.body.task).toMatchObject({ status: 'failed', attempts: 1, error: 'bad lead' });
  });

  it('answers 200 with the task when the same worker repeats the same completion', async () => {
    const created = await createTask({});
    await claim();
    const first = await complete(created.id, { status: 'succeeded', output: 1 });
    const again = await complete(created.id, { status: 'succeeded', output: 1 });
    expect(again.status).toBe(200);
    expect(again.body).toEqual(first.body);
  });

  it('answers 409 lease_lost to another worker, and to a different second completion', async () => {
    const created = await createTask({});
    await claim();
    const foreign = await complete(created.id, { worker_id: 'intruder', status: 'succeeded' });
    expect(foreign.status).toBe(409);
    expect(foreign.body).toMatchObject({ error: 'lease_lost', status: 'running' });
    await complete(created.id, { status: 'succeeded' });
    const contradicting = await complete(created.id, { status: 'failed' });
    expect(contradicting.status).toBe(409);
    expect(contradicting.body).toMatchObject({ error: 'lease_lost', status: 'succeeded' });
  });

  it('answers 409 lease_lost after the lease expired, and another worker can then claim it', async () => {
    const created = await createTask({});
    await claim();
    await h.db
      .sql`update tasks set lease_expires_at = now() - interval '1 second' where id = ${created.id}`;
    const late = await complete(created.id, { status: 'succeeded' });
    expect(late.status).toBe(409);
    expect(late.body).toMatchObject({ error: 'lease_lost', status: 'queued' });
    const [reclaimed] = await claim({ worker_id: 'apex-sales-dev-02' });
    expect(reclaimed).toMatchObject({
      id: created.id,
      attempts: 2,
      claimed_by: 'apex-sales-dev-02',
    });
  });

  it('refuses a late message about an earlier attempt once the same worker holds a later one', async () => {
    const created = await createTask({ max_attempts: 3 });
    const [first] = await claim();
    expect(first!.attempts).toBe(1);
    await complete(created.id, { attempt: 1, status: 'failed', error: 'flaky' });
    await h.db.sql`update tasks set run_at = null where id = ${created.id}`;
    const [second] = await claim();
    expect(second!.attempts).toBe(2);

    const lateHeartbeat = await h.port.post(`/tasks/${created.id}/heartbeat`, apex.apiKey, {
      worker_id: 'apex-sales-dev-01',
      attempt: 1,
    });
    expect(lateHeartbeat).toMatchObject({
      status: 409,
      body: { error: 'lease_lost', status: 'running' },
    });
    const lateRepeat = await complete(created.id, { attempt: 1, status: 'failed', error: 'flaky' });
    expect(lateRepeat).toMatchObject({
      status: 409,
      body: { error: 'lease_lost', status: 'running' },
    });

    const current = await complete(created.id, { attempt: 2, status: 'succeeded', output: 'ok' });
    expect(current.body.task).toMatchObject({ status: 'succeeded', attempts: 2 });
    expect(
      (await complete(created.id, { attempt: 2, status: 'succeeded', output: 'ok' })).status,
    ).toBe(200);
  });

  it('cuts an error text over 4000 characters instead of refusing it', async () => {
    const created = await createTask({});
    await claim();
    const response = await complete(created.id, {
      status: 'failed',
      error: 'e'.repeat(10_000),
      retryable: false,
    });
    expect(response.status).toBe(200);
    expect(response.body.task.error).toHaveLength(4000);
  });
});

describe('GET /tasks/{id}', () => {
  it('returns a task of the key’s tenant', async () => {
    const created = await createTask({ payload: { lead_id: '7' } });
    const response = await h.port.get(`/tasks/${created.id}`, leadGen.apiKey);
    expect(response.status).toBe(200);
    expect(TaskResponse.parse(response.body).task).toEqual(created);
  });

  it('reports a task whose lease expired as back in the queue, with the attempt closed', async () => {
    const created = await createTask({});
    await claim();
    await h.db
      .sql`update tasks set lease_expires_at = now() - interval '1 second' where id = ${created.id}`;
    const response = await h.port.get(`/tasks/${created.id}`, apex.apiKey);
    expect(response.body.task).toMatchObject({
      status: 'queued',
      lease_expires_at: null,
      attempts: 1,
    });
    const attempts = await h.db
      .sql`select outcome from task_attempts where task_id = ${created.id}`;
    expect(attempts).toEqual([{ outcome: 'lease_expired' }]);
  });

  it('answers 404 for an unknown id', async () => {
    const response = await h.port.get(`/tasks/${crypto.randomUUID()}`, apex.apiKey);
    expect(response.status).toBe(404);
    expect(response.body).toEqual({ error: 'not_found', message: expect.any(String) });
  });
});
