import { connectDatabase, type Sql } from '@omnihub/database';
import { createTestDatabase, type TestDatabase } from '@omnihub/database/testing';
import { nextDueTime, tickSchedules } from '@omnihub/scheduler';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runAs, signedIn } from './as-role.ts';
import { addMember, createUser } from './fixtures.ts';
import { dumpTables, listTables, type TableRef } from './tables.ts';

let db: TestDatabase;
let sql: Sql;
let tables: TableRef[];
let tenantId: string;
let operator: string;
let viewer: string;

beforeAll(async () => {
  db = await createTestDatabase();
  sql = db.sql;
  tables = await listTables(sql, ['public', 'omnilink']);
  const [tenant] =
    await sql`insert into public.tenants (slug, name) values ('acme', 'Acme') returning id`;
  tenantId = tenant!.id as string;
  operator = await createUser(sql, 'operator@acme.test');
  viewer = await createUser(sql, 'viewer@acme.test');
  await addMember(sql, tenantId, operator, 'operator');
  await addMember(sql, tenantId, viewer, 'viewer');
});
afterAll(() => db.drop());

beforeEach(async () => {
  await sql`delete from public.task_schedules`;
  await sql`delete from public.tasks`;
});

interface ScheduleRow {
  id: string;
  name: string;
  cron: string;
  timezone: string;
  enabled: boolean;
  revision: string;
  next_run_at: Date | null;
  last_run_at: Date | null;
  last_task_id: string | null;
  last_error: string | null;
}

interface Spec {
  name?: string;
  cron?: string;
  timezone?: string;
  target?: string;
  action?: string;
  payload?: unknown;
  priority?: number;
  maxAttempts?: number;
  enabled?: boolean;
}

/** save_schedule as a signed-in member, as OmniDash calls it. */
function save(spec: Spec, scheduleId: string | null = null, userId = operator) {
  const s = {
    name: 'every minute',
    cron: '* * * * *',
    timezone: 'UTC',
    target: 'lead-gen',
    action: 'echo',
    payload: {},
    priority: 5,
    maxAttempts: 3,
    enabled: true,
    ...spec,
  };
  return runAs(sql, signedIn(userId), async (tx) => {
    const [row] = await tx`
      select * from public.save_schedule(
        ${tenantId}::uuid, ${scheduleId}::uuid, ${s.name}, ${s.cron}, ${s.timezone}, ${s.target},
        ${s.action}, ${tx.json(s.payload as never)}, ${s.priority}, ${s.maxAttempts}, ${s.enabled}
      )`;
    return row as unknown as ScheduleRow;
  });
}

async function saved(spec: Spec): Promise<ScheduleRow> {
  const outcome = await save(spec);
  if (!outcome.ok) throw new Error(`save_schedule refused: ${outcome.message}`);
  return outcome.value;
}

async function schedule(id: string): Promise<ScheduleRow> {
  const [row] = await sql`select * from public.task_schedules where id = ${id}`;
  return row as unknown as ScheduleRow;
}

/** Puts a schedule's due time where a test wants it, as if an earlier tick had timed it so. */
async function dueAt(id: string, at: Date): Promise<void> {
  await sql`update public.task_schedules set next_run_at = ${at} where id = ${id}`;
}

const minute = 60_000;
/** A minute boundary safely in the past, so "now" in these tests is fixed and due times are exact. */
const T0 = new Date(Math.floor(Date.now() / minute) * minute - 60 * minute);

describe('the cron gate (omnilink.cron_problem) and the scheduler library', () => {
  const valid = [
    '* * * * *',
    '*/5 * * * *',
    '0 9 * * 1-5',
    '0 9 * * MON-FRI',
    '30 2 1 jan *',
    '0 0 * * 7',
    '0 0 * * sun',
    '0,15,30,45 8-18/2 * * *',
    '1-59/61 * * * *'.replace('/61', '/2'),
    '*/60 * * * *',
    '0 0 1-31/31 * *',
    '@hourly',
    '@daily',
    '@weekly',
    '@monthly',
    '@yearly',
    '@annually',
    '  0   12  *  *  * ',
  ];
  const invalid: [string, RegExp][] = [
    ['', /must not be empty/],
    ['* * * *', /5 fields, not 4/],
    ['0 * * * * *', /5 fields, not 6/],
    ['61 * * * *', /minute field must be from 0 to 59, not 61/],
    ['0 24 * * *', /hour field must be from 0 to 23, not 24/],
    ['0 0 0 * *', /day of month field must be from 1 to 31, not 0/],
    ['0 0 32 * *', /day of month field must be from 1 to 31, not 32/],
    ['0 0 * 13 *', /month field must be from 1 to 12, not 13/],
    ['0 0 * * 8', /day of week field must be from 0 to 7, not 8/],
    ['5-1 * * * *', /range 5-1, which runs backwards/],
    ['*/0 * * * *', /steps by 0; a step must be from 1 to 60/],
    ['0 */25 * * *', /steps by 25; a step must be from 1 to 24/],
    ['10/5 * * * *', /"10\/5", which is not a value, range or step/],
    ['0 0 * * monday', /"monday", which is not a value, range or step/],
    ['jan * * * *', /minute field has "jan", which is not a number/],
    ['0 0 * foo *', /"foo", which is not a month/],
    ['@reboot', /5 fields, not 1/],
    ['0 0 L * *', /"L", which is not a value, range or step/],
    ['0 0 * * 1; drop table public.tasks', /5 fields, not 8/],
  ];

  it.each(valid)('accepts %j, and croner times it', async (cron) => {
    const [row] = await sql`select omnilink.cron_problem(${cron}) as problem`;
    expect(row!.problem).toBeNull();
    const timing = nextDueTime(cron.trim().replace(/\s+/g, ' '), 'UTC', T0);
    expect(timing).toMatchObject({ ok: true });
  });

  it.each(invalid)('refuses %j, saying what is wrong', async (cron, message) => {
    const [row] = await sql`select omnilink.cron_problem(${cron}) as problem`;
    expect(row!.problem).toMatch(message);
  });

  it('refuses what croner refuses among the standard-syntax cases', () => {
    // The reverse direction of the agreement, where croner has an opinion:
    // these must not time, so the gate refusing them loses nothing.
    for (const [cron] of invalid.filter(
      ([c]) => /^[\d*/,\- a-z]+$/.test(c) && c.split(' ').length === 5,
    )) {
      expect({ cron, timing: nextDueTime(cron, 'UTC', T0) }).toMatchObject({
        timing: { ok: false },
      });
    }
  });
});

describe('save_schedule', () => {
  it('stores a schedule with its cron normalised and no due time until a scheduler times it', async () => {
    const row = await saved({
      name: 'Morning',
      cron: ' 0  9 * * 1-5 ',
      timezone: 'Europe/London',
      payload: { a: 1 },
      priority: 8,
      maxAttempts: 2,
    });
    expect(row).toMatchObject({
      name: 'Morning',
      cron: '0 9 * * 1-5',
      timezone: 'Europe/London',
      enabled: true,
      next_run_at: null,
      last_error: null,
    });
  });

  const refusals: [string, Spec, RegExp][] = [
    ['an empty name', { name: '  ' }, /name must be 1-100 characters/],
    ['a bad cron', { cron: '61 * * * *' }, /minute field must be from 0 to 59, not 61/],
    [
      'an unknown time zone',
      { timezone: 'Mars/Olympus_Mons' },
      /timezone must be an IANA time zone name .* not "Mars\/Olympus_Mons"/,
    ],
    ['a bad target', { target: 'Lead Gen' }, /target must be 1-100 characters/],
    ['a bad action', { action: '' }, /action must be 1-100 characters/],
    ['a payload that is not an object', { payload: [1, 2] }, /payload must be a JSON object/],
    ['a priority out of range', { priority: 11 }, /priority must be from 1 to 10/],
    ['max_attempts out of range', { maxAttempts: 0 }, /max_attempts must be from 1 to 20/],
  ];

  it.each(refusals)('refuses %s with 22023 and changes nothing', async (_what, spec, message) => {
    const before = await dumpTables(sql, tables);
    const outcome = await save(spec);
    expect(outcome).toMatchObject({ ok: false, code: '22023' });
    expect(outcome.ok ? '' : outcome.message).toMatch(message);
    expect(await dumpTables(sql, tables)).toEqual(before);
  });

  it('refuses a second schedule of the same name in the tenant', async () => {
    await saved({ name: 'Nightly' });
    const outcome = await save({ name: 'Nightly', cron: '@daily' });
    expect(outcome).toMatchObject({
      ok: false,
      code: '22023',
      message: 'A schedule named "Nightly" already exists; choose another name.',
    });
  });

  it('keeps the due time when only the task changes, and restarts it when the timing changes', async () => {
    const row = await saved({ cron: '*/5 * * * *' });
    const due = new Date(T0.getTime() + 5 * minute);
    await dueAt(row.id, due);

    const edited = await save(
      { cron: '*/5 * * * *', payload: { more: true }, priority: 9 },
      row.id,
    );
    expect(edited).toMatchObject({ ok: true, value: { next_run_at: due, priority: 9 } });
    expect(Number((await schedule(row.id)).revision)).toBe(Number(row.revision) + 1);

    const retimed = await save({ cron: '*/10 * * * *' }, row.id);
    expect(retimed).toMatchObject({ ok: true, value: { next_run_at: null, cron: '*/10 * * * *' } });
  });

  it('refuses viewers, and ids of other tenants read as not found', async () => {
    expect(await save({}, null, viewer)).toMatchObject({ ok: false, code: '42501' });
    const [other] =
      await sql`insert into public.tenants (slug, name) values ('globex', 'Globex') returning id`;
    const [foreign] = await sql`
      insert into public.task_schedules (tenant_id, name, cron, target, action)
      values (${other!.id}, 'theirs', '@daily', 'lead-gen', 'echo') returning id`;
    expect(await save({ name: 'theirs' }, foreign!.id as string)).toMatchObject({
      ok: false,
      code: 'PT404',
    });
    expect(await schedule(foreign!.id as string)).toMatchObject({ name: 'theirs', cron: '@daily' });
  });

  it('set_schedule_enabled turns timing off and, on again, starts it afresh', async () => {
    const row = await saved({});
    await dueAt(row.id, new Date(T0.getTime() + minute));
    const off = await runAs(
      sql,
      signedIn(operator),
      (tx) => tx`select * from public.set_schedule_enabled(${row.id}::uuid, false)`,
    );
    expect(off).toMatchObject({ ok: true, value: [{ enabled: false, next_run_at: null }] });
    expect(await tickSchedules(sql, { now: new Date(T0.getTime() + 10 * minute) })).toMatchObject({
      fired: 0,
      timed: 0,
    });
    const on = await runAs(
      sql,
      signedIn(operator),
      (tx) => tx`select * from public.set_schedule_enabled(${row.id}::uuid, true)`,
    );
    expect(on).toMatchObject({ ok: true, value: [{ enabled: true, next_run_at: null }] });
  });
});

describe('the scheduler tick', () => {
  it('times a new schedule from when it was saved, then fires each due time once', async () => {
    const row = await saved({
      cron: '*/15 * * * *',
      target: 'apex-sales',
      action: 'call_lead',
      payload: { lead_id: 'lead-1' },
      priority: 7,
      maxAttempts: 2,
    });
    const saveTime = (
      await sql`select revised_at from public.task_schedules where id = ${row.id}`
    )[0]!.revised_at as Date;
    const first = nextDueTime('*/15 * * * *', 'UTC', saveTime);
    if (!first.ok) throw new Error(first.error);

    expect(await tickSchedules(sql, { now: saveTime })).toEqual({
      fired: 0,
      timed: 1,
      disabled: 0,
      lost: 0,
    });
    expect((await schedule(row.id)).next_run_at).toEqual(first.next);

    // Ticking at the due time fires it and moves on by one period.
    expect(await tickSchedules(sql, { now: first.next })).toMatchObject({ fired: 1 });
    const after = await schedule(row.id);
    expect(after).toMatchObject({
      last_run_at: first.next,
      next_run_at: new Date(first.next.getTime() + 15 * minute),
    });
    const tasks =
      await sql`select id, target, action, params, priority, max_attempts, status, idempotency_key from public.tasks`;
    expect(tasks).toEqual([
      {
        id: after.last_task_id,
        target: 'apex-sales',
        action: 'call_lead',
        params: { payload: { lead_id: 'lead-1' } },
        priority: 7,
        max_attempts: 2,
        status: 'queued',
        idempotency_key: `schedule:${row.id}:${first.next.toISOString().replace('.000Z', 'Z')}`,
      },
    ]);

    // The same tick again has nothing to do.
    expect(await tickSchedules(sql, { now: first.next })).toEqual({
      fired: 0,
      timed: 0,
      disabled: 0,
      lost: 0,
    });
  });

  it("reads the cron in the schedule's time zone, daylight saving included", async () => {
    const row = await saved({ cron: '0 9 * * *', timezone: 'Europe/London' });
    await dueAt(row.id, new Date('2026-07-01T08:00:00Z'));
    await tickSchedules(sql, { now: new Date('2026-07-01T08:00:00Z') });
    // 09:00 in London is 08:00 UTC in summer (BST) and 09:00 UTC in winter.
    expect((await schedule(row.id)).next_run_at).toEqual(new Date('2026-07-02T08:00:00Z'));
    await dueAt(row.id, new Date('2026-12-01T09:00:00Z'));
    await tickSchedules(sql, { now: new Date('2026-12-01T09:00:00Z') });
    expect((await schedule(row.id)).next_run_at).toEqual(new Date('2026-12-02T09:00:00Z'));
  });

  it('after downtime fires the missed due time once and moves on to the first one after now', async () => {
    const row = await saved({ cron: '*/5 * * * *' });
    const missed = new Date(T0.getTime() - 180 * minute);
    await dueAt(row.id, missed);
    expect(await tickSchedules(sql, { now: T0 })).toMatchObject({ fired: 1 });
    // T0 is a whole minute: the next five-minute mark strictly after it.
    const fiveMinutes = 5 * minute;
    const nextMark = new Date((Math.floor(T0.getTime() / fiveMinutes) + 1) * fiveMinutes);
    expect(await schedule(row.id)).toMatchObject({
      last_run_at: missed,
      next_run_at: nextMark,
    });
    expect(await sql`select count(*)::int as n from public.tasks`).toEqual([{ n: 1 }]);
  });

  it('turns off a schedule that can never run, saying why', async () => {
    const row = await saved({ cron: '0 0 30 2 *' });
    expect(await tickSchedules(sql, { now: T0 })).toMatchObject({ disabled: 1 });
    expect(await schedule(row.id)).toMatchObject({
      enabled: false,
      next_run_at: null,
      last_error: '"0 0 30 2 *" matches no date, so it would never run.',
    });
  });

  it('a fire that read the schedule before an edit does nothing', async () => {
    const row = await saved({});
    await dueAt(row.id, T0);
    await save({ payload: { edited: true } }, row.id);
    const [fired] = await sql`
      select omnilink.fire_schedule(${row.id}, ${row.revision}, ${T0}, ${T0}, ${new Date(T0.getTime() + minute)}) as task_id`;
    expect(fired!.task_id).toBeNull();
    expect(await sql`select count(*)::int as n from public.tasks`).toEqual([{ n: 0 }]);
  });

  it('two schedulers ticking the same due times at once create exactly one task per due time', async () => {
    // Two separate connection pools, as two scheduler processes would have.
    const other = connectDatabase(db.url, { max: 4 });
    try {
      const ids: string[] = [];
      for (let i = 0; i < 40; i += 1)
        ids.push((await saved({ name: `s${i}`, cron: '* * * * *' })).id);
      await sql`update public.task_schedules set next_run_at = ${T0}`;

      const rounds = 5;
      let fired = 0;
      for (let r = 0; r < rounds; r += 1) {
        const now = new Date(T0.getTime() + r * minute);
        const results = await Promise.all([
          tickSchedules(sql, { now }),
          tickSchedules(other, { now }),
          tickSchedules(sql, { now }),
        ]);
        fired += results.reduce((sum, result) => sum + result.fired, 0);
      }

      const perDue = await sql`
        select idempotency_key, count(*)::int as n from public.tasks group by 1 having count(*) > 1`;
      expect(perDue).toEqual([]);
      const [total] = await sql`select count(*)::int as n from public.tasks`;
      expect({ fired, stored: total!.n }).toEqual({ fired: 40 * rounds, stored: 40 * rounds });
      const lastRuns = await sql`select distinct last_run_at from public.task_schedules`;
      expect(lastRuns).toEqual([{ last_run_at: new Date(T0.getTime() + (rounds - 1) * minute) }]);
    } finally {
      await other.end();
    }
  });

  it("only the service role may run the scheduler's functions", async () => {
    const outcome = await runAs(
      sql,
      signedIn(operator),
      (tx) => tx`select * from omnilink.due_schedules(now(), 10)`,
    );
    expect(outcome).toMatchObject({ ok: false, code: '42501' });
  });
});
