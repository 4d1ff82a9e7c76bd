import { fileURLToPath } from 'node:url';
import { freePort } from '@omnihub/database';
import {
  createTestDatabase,
  DENO_BINARY,
  startProcess,
  type RunningProcess,
  type TestDatabase,
} from '@omnihub/database/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The production entry point, run by the real Deno runtime (the `deno` npm package).
const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const FUNCTION_DIR = 'supabase/functions/omnilink-scheduler';
const SECRET = 'scheduler-secret-for-tests-0123456789abcdef';

let db: TestDatabase;
let deno: RunningProcess;
let url: string;

beforeAll(async () => {
  db = await createTestDatabase();
  const port = await freePort();
  deno = startProcess(
    DENO_BINARY,
    [
      'run',
      '--frozen',
      '--config',
      `${FUNCTION_DIR}/deno.json`,
      '--allow-net',
      '--allow-env',
      '--allow-read',
      `${FUNCTION_DIR}/index.ts`,
    ],
    {
      cwd: REPO,
      env: {
        SUPABASE_DB_URL: db.url,
        OMNIHUB_SCHEDULER_SECRET: SECRET,
        OMNILINK_LISTEN_PORT: String(port),
        NO_COLOR: '1',
      },
    },
  );
  await deno.waitFor(/Listening on http:\/\/127\.0\.0\.1:\d+/, 120_000);
  url = `http://127.0.0.1:${port}/omnilink-scheduler`;
}, 180_000);

afterAll(async () => {
  deno?.child.kill('SIGTERM');
  await deno?.exited;
  await db?.drop();
});

const tick = (init: RequestInit = {}) =>
  fetch(url, { method: 'POST', ...init }).then(async (response) => ({
    status: response.status,
    body: (await response.json()) as Record<string, unknown>,
  }));

const countTasks = async () =>
  (await db.sql`select count(*)::int as n from public.tasks`)[0]!.n as number;

describe('the omnilink-scheduler Edge Function under Deno', () => {
  it('fires a due schedule once per due time for pg_cron, with its secret', async () => {
    const [tenant] =
      await db.sql`insert into public.tenants (slug, name) values ('acme', 'Acme') returning id`;
    const [row] = await db.sql`
      insert into public.task_schedules (tenant_id, name, cron, target, action, next_run_at)
      values (${tenant!.id}, 'every minute', '* * * * *', 'lead-gen', 'echo', date_trunc('minute', now()))
      returning id`;

    const auth = { authorization: `Bearer ${SECRET}` };
    const first = await tick({ headers: auth });
    expect(first).toEqual({ status: 200, body: { fired: 1, timed: 0, disabled: 0, lost: 0 } });
    // A doubled cron call in the same minute finds nothing left to fire.
    const second = await tick({ headers: auth });
    expect(second).toMatchObject({ status: 200, body: { fired: 0 } });
    const [schedule] =
      await db.sql`select last_task_id, next_run_at > now() as ahead from public.task_schedules where id = ${row!.id}`;
    expect(schedule).toMatchObject({ ahead: true });
    expect(await db.sql`select id, action from public.tasks`).toEqual([
      { id: schedule!.last_task_id, action: 'echo' },
    ]);
  });

  it.each([
    ['no authorization', {}],
    ['a wrong secret', { authorization: `Bearer ${SECRET}x` }],
    ['the secret without Bearer', { authorization: SECRET }],
  ])('refuses %s with 401 and fires nothing', async (_what, headers) => {
    await db.sql`update public.task_schedules set next_run_at = now() - interval '1 minute'`;
    const before = await countTasks();
    expect(await tick({ headers })).toMatchObject({ status: 401, body: { error: 'unauthorized' } });
    expect(await countTasks()).toBe(before);
  });

  it('answers anything but POST with 405', async () => {
    const response = await fetch(url, { headers: { authorization: `Bearer ${SECRET}` } });
    expect(response.status).toBe(405);
  });
});
