import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPortHarness, type PortHarness } from './support.ts';

let h: PortHarness;

beforeAll(async () => {
  h = await startPortHarness({ http: true });
});
afterAll(() => h.close());

const TASKS = 2_000;
const CLAIMERS = 20;

describe('claims under concurrency', () => {
  it(`hands each of ${TASKS} tasks to exactly one of ${CLAIMERS} concurrent claimers over HTTP`, async () => {
    const key = await h.issueKey({ tenant: 'acme', source: 'apex-sales' });
    await h.db.sql`
      insert into tasks (tenant_id, target, action, priority)
      select ${key.tenantId}, 'apex-sales', 'call_lead', 1 + (i % 10)
      from generate_series(1, ${TASKS}) as i`;

    const client = h.http!.client;
    const claimedBy = new Map<string, string>();
    const duplicates: string[] = [];
    await Promise.all(
      Array.from({ length: CLAIMERS }, async (_, claimer) => {
        const workerId = `worker-${claimer}`;
        for (let round = 0; ; round++) {
          // Mixed batch sizes exercise both single and multi-row claims.
          const response = await client.post('/tasks/claim', key.apiKey, {
            worker_id: workerId,
            max_tasks: 1 + ((claimer + round) % 7),
          });
          expect(response.status).toBe(200);
          const tasks = response.body.tasks as { id: string }[];
          if (tasks.length === 0) return;
          for (const task of tasks) {
            if (claimedBy.has(task.id)) duplicates.push(task.id);
            claimedBy.set(task.id, workerId);
          }
        }
      }),
    );

    expect(duplicates).toEqual([]);
    expect(claimedBy.size).toBe(TASKS);
    const [summary] = await h.db.sql`
      select count(*) filter (where status = 'running')::int as running,
             count(*) filter (where status <> 'running')::int as other,
             count(*) filter (where attempts <> 1)::int as wrong_attempts
      from tasks`;
    expect(summary).toEqual({ running: TASKS, other: 0, wrong_attempts: 0 });
    const [attempts] = await h.db
      .sql`select count(*)::int as rows, count(distinct task_id)::int as tasks from task_attempts`;
    expect(attempts).toEqual({ rows: TASKS, tasks: TASKS });
    // Every claimer got work: the claims really ran side by side.
    expect(new Set(claimedBy.values()).size).toBeGreaterThan(1);
  });
});
