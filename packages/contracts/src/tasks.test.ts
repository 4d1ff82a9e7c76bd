import { describe, expect, it } from 'vitest';
import { MAX_JSON_FIELD_BYTES } from './limits.ts';
import {
  ClaimTasksRequestBody,
  CompleteTaskRequestBody,
  CreateTaskRequestBody,
  FINAL_TASK_STATUSES,
  HeartbeatRequestBody,
  Task,
  TaskStatus,
} from './tasks.ts';

const uuid = (n: number) => `5b0c7f5e-7a0e-4a51-9a3e-${n.toString(16).padStart(12, '0')}`;

/** Issue paths of a failed parse, dotted; [] when it parsed. */
function failingPaths(result: {
  success: boolean;
  error?: { issues: { path: PropertyKey[] }[] };
}): string[] {
  return result.error?.issues.map((issue) => issue.path.map(String).join('.')) ?? [];
}

describe('CreateTaskRequestBody', () => {
  const minimal = { target: 'lead-gen', action: 'enrich' };

  it('fills every default', () => {
    expect(CreateTaskRequestBody.parse(minimal)).toEqual({
      target: 'lead-gen',
      action: 'enrich',
      payload: {},
      require_approval: false,
      priority: 5,
      run_at: null,
      max_attempts: 3,
      depends_on: [],
    });
  });

  it('leaves idempotency_key absent when not given and keeps null when given', () => {
    expect(CreateTaskRequestBody.parse(minimal)).not.toHaveProperty('idempotency_key');
    expect(
      CreateTaskRequestBody.parse({ ...minimal, idempotency_key: null }).idempotency_key,
    ).toBeNull();
  });

  it('keeps given values', () => {
    const body = {
      ...minimal,
      payload: { url: 'https://example.com' },
      require_approval: true,
      priority: 9,
      run_at: '2026-11-21T10:00:00Z',
      max_attempts: 7,
      idempotency_key: 'once',
      depends_on: [uuid(1), uuid(2)],
    };
    expect(CreateTaskRequestBody.parse(body)).toEqual(body);
  });

  it.each([
    ['priority', 1, true],
    ['priority', 10, true],
    ['priority', 0, false],
    ['priority', 11, false],
    ['priority', 5.5, false],
    ['max_attempts', 1, true],
    ['max_attempts', 20, true],
    ['max_attempts', 0, false],
    ['max_attempts', 21, false],
    ['max_attempts', 2.5, false],
  ])('%s = %s → accepted: %s', (field, value, accepted) => {
    const result = CreateTaskRequestBody.safeParse({ ...minimal, [field]: value });
    expect(result.success).toBe(accepted);
    if (!accepted) expect(failingPaths(result)).toEqual([field]);
  });

  it('requires depends_on to hold UUIDs', () => {
    const result = CreateTaskRequestBody.safeParse({ ...minimal, depends_on: [uuid(1), 'task-2'] });
    expect(failingPaths(result)).toEqual(['depends_on.1']);
  });

  it('accepts at most 100 dependencies', () => {
    const hundred = Array.from({ length: 100 }, (_, i) => uuid(i));
    expect(CreateTaskRequestBody.safeParse({ ...minimal, depends_on: hundred }).success).toBe(true);
    const result = CreateTaskRequestBody.safeParse({
      ...minimal,
      depends_on: [...hundred, uuid(100)],
    });
    expect(result.error?.issues[0]?.message).toBe('must list at most 100 tasks');
  });

  it('refuses a payload over 16 KiB, a non-object payload and unknown keys', () => {
    const big = { x: 'a'.repeat(MAX_JSON_FIELD_BYTES) };
    expect(failingPaths(CreateTaskRequestBody.safeParse({ ...minimal, payload: big }))).toEqual([
      'payload',
    ]);
    expect(failingPaths(CreateTaskRequestBody.safeParse({ ...minimal, payload: [] }))).toEqual([
      'payload',
    ]);
    expect(CreateTaskRequestBody.safeParse({ ...minimal, params: {} }).success).toBe(false);
  });

  it('requires target and action to be identifiers and run_at to carry a time zone', () => {
    expect(failingPaths(CreateTaskRequestBody.safeParse({}))).toEqual(['target', 'action']);
    expect(failingPaths(CreateTaskRequestBody.safeParse({ target: 'Lead', action: 'x' }))).toEqual([
      'target',
    ]);
    expect(
      failingPaths(CreateTaskRequestBody.safeParse({ ...minimal, run_at: '2026-11-21T10:00:00' })),
    ).toEqual(['run_at']);
  });
});

describe('ClaimTasksRequestBody', () => {
  it('fills the defaults', () => {
    expect(ClaimTasksRequestBody.parse({ worker_id: 'w1' })).toEqual({
      worker_id: 'w1',
      max_tasks: 1,
      wait_ms: 0,
      lease_seconds: 300,
    });
  });

  it.each([
    ['max_tasks', 1, true],
    ['max_tasks', 100, true],
    ['max_tasks', 0, false],
    ['max_tasks', 101, false],
    ['wait_ms', 0, true],
    ['wait_ms', 25000, true],
    ['wait_ms', -1, false],
    ['wait_ms', 25001, false],
    ['wait_ms', 10.5, false],
    ['lease_seconds', 5, true],
    ['lease_seconds', 3600, true],
    ['lease_seconds', 4, false],
    ['lease_seconds', 3601, false],
  ])('%s = %s → accepted: %s', (field, value, accepted) => {
    const result = ClaimTasksRequestBody.safeParse({ worker_id: 'w1', [field]: value });
    expect(result.success).toBe(accepted);
    if (!accepted) expect(failingPaths(result)).toEqual([field]);
  });

  it('takes 1 to 100 action identifiers', () => {
    expect(ClaimTasksRequestBody.safeParse({ worker_id: 'w1', actions: ['enrich'] }).success).toBe(
      true,
    );
    expect(failingPaths(ClaimTasksRequestBody.safeParse({ worker_id: 'w1', actions: [] }))).toEqual(
      ['actions'],
    );
    expect(
      failingPaths(ClaimTasksRequestBody.safeParse({ worker_id: 'w1', actions: ['ok', 'Bad'] })),
    ).toEqual(['actions.1']);
  });

  it('requires worker_id', () => {
    expect(failingPaths(ClaimTasksRequestBody.safeParse({}))).toEqual(['worker_id']);
  });
});

describe('HeartbeatRequestBody', () => {
  it('needs only worker_id and bounds lease_seconds and progress', () => {
    expect(HeartbeatRequestBody.parse({ worker_id: 'w1' })).toEqual({ worker_id: 'w1' });
    expect(
      failingPaths(HeartbeatRequestBody.safeParse({ worker_id: 'w1', lease_seconds: 4 })),
    ).toEqual(['lease_seconds']);
    const big = { x: 'a'.repeat(MAX_JSON_FIELD_BYTES) };
    expect(
      failingPaths(HeartbeatRequestBody.safeParse({ worker_id: 'w1', progress: big })),
    ).toEqual(['progress']);
  });
});

describe('CompleteTaskRequestBody', () => {
  it('defaults retryable to true and keeps false', () => {
    expect(CompleteTaskRequestBody.parse({ worker_id: 'w1', status: 'failed' })).toEqual({
      worker_id: 'w1',
      status: 'failed',
      retryable: true,
    });
    expect(
      CompleteTaskRequestBody.parse({ worker_id: 'w1', status: 'failed', retryable: false })
        .retryable,
    ).toBe(false);
  });

  it.each(['succeeded', 'failed'])('accepts status %s', (status) => {
    expect(CompleteTaskRequestBody.safeParse({ worker_id: 'w1', status }).success).toBe(true);
  });

  it.each(['running', 'canceled', 'SUCCEEDED', undefined])('refuses status %s', (status) => {
    expect(failingPaths(CompleteTaskRequestBody.safeParse({ worker_id: 'w1', status }))).toEqual([
      'status',
    ]);
  });

  it.each([
    ['null', null],
    ['a string', 'done'],
    ['a number', 0],
    ['an array', [1, 'two', { three: 3 }]],
    ['an object', { rows: 12 }],
    ['a large object (over 16 KiB is cut later, not refused)', { x: 'a'.repeat(40_000) }],
  ])('keeps output that is %s', (_label, output) => {
    expect(
      CompleteTaskRequestBody.parse({ worker_id: 'w1', status: 'succeeded', output }).output,
    ).toEqual(output);
  });

  it('accepts a null or string error and refuses unknown keys', () => {
    expect(
      CompleteTaskRequestBody.safeParse({ worker_id: 'w1', status: 'failed', error: null }).success,
    ).toBe(true);
    expect(
      CompleteTaskRequestBody.safeParse({ worker_id: 'w1', status: 'failed', error: 'boom' })
        .success,
    ).toBe(true);
    expect(
      CompleteTaskRequestBody.safeParse({ worker_id: 'w1', status: 'failed', error: 42 }).success,
    ).toBe(false);
    expect(
      CompleteTaskRequestBody.safeParse({ worker_id: 'w1', status: 'failed', reason: 'x' }).success,
    ).toBe(false);
  });
});

describe('Task', () => {
  // What omnilink.task_json returns, as postgres renders timestamptz in JSON.
  const row = {
    id: '0f8fad5b-d9cb-469f-a165-70867728950e',
    target: 'lead-gen',
    action: 'enrich',
    params: { payload: { url: 'https://example.com' } },
    status: 'running',
    priority: 5,
    run_at: null,
    require_approval: false,
    attempts: 1,
    max_attempts: 3,
    claimed_by: 'worker-1',
    lease_expires_at: '2026-11-21T19:36:31.040607+00:00',
    output: null,
    output_truncated: false,
    error: null,
    depends_on: ['7c9e6679-7425-40de-944b-e07fc1f90ae7'],
    progress: { step: 2 },
    created_at: '2026-11-21T19:31:31.040607+00:00',
    updated_at: '2026-11-21T19:31:31.5+00:00',
  };

  it('parses a Postgres-style row', () => {
    expect(Task.parse(row)).toEqual(row);
  });

  it('refuses a timestamp without a time zone and an unknown status', () => {
    expect(
      failingPaths(Task.safeParse({ ...row, created_at: '2026-11-21T19:31:31.040607' })),
    ).toEqual(['created_at']);
    expect(failingPaths(Task.safeParse({ ...row, status: 'done' }))).toEqual(['status']);
  });

  it('keeps a truncated output as given', () => {
    const truncated = {
      ...row,
      output: { truncated: true, preview: '{"a' },
      output_truncated: true,
    };
    expect(Task.parse(truncated).output).toEqual({ truncated: true, preview: '{"a' });
  });
});

describe('TaskStatus', () => {
  it('lists final statuses that are all task statuses', () => {
    expect(FINAL_TASK_STATUSES).toEqual(['succeeded', 'failed', 'canceled']);
    for (const status of FINAL_TASK_STATUSES) expect(TaskStatus.options).toContain(status);
  });
});
