import type { IssuedKey } from '@omnihub/database/testing';
import { startTestStack, type TestStack } from '@omnihub/local-stack/testing';
import type { SupabaseClient } from '@supabase/supabase-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deleteSchedule } from '../../src/data/schedules/schedules-delete-mutation.ts';
import { setScheduleEnabled } from '../../src/data/schedules/schedules-enable-mutation.ts';
import { fetchSchedules } from '../../src/data/schedules/schedules-query.ts';
import {
  saveSchedule,
  type ScheduleInput,
} from '../../src/data/schedules/schedules-save-mutation.ts';
import { member, refusal } from './support.ts';

let t: TestStack;
let key: IssuedKey;
let otherKey: IssuedKey;
let operator: SupabaseClient;
let viewer: SupabaseClient;
let outsider: SupabaseClient;

const input = (overrides: Partial<ScheduleInput> = {}): ScheduleInput => ({
  name: `schedule-${crypto.randomUUID().slice(0, 8)}`,
  cron: '*/5 * * * *',
  timezone: 'Europe/London',
  target: 'apex-sales',
  action: 'echo',
  payload: { from: 'schedule' },
  priority: 6,
  max_attempts: 2,
  enabled: true,
  ...overrides,
});

beforeAll(async () => {
  // The local stack's scheduler ticks every 50 ms here, as `pnpm dev`'s does every second.
  t = await startTestStack({}, { scheduleTickMs: 50 });
  key = await t.issueKey({ tenant: 'schedules-a', source: 'apex-sales' });
  otherKey = await t.issueKey({ tenant: 'schedules-b', source: 'apex-sales' });
  operator = (await member(t, key.tenantId, 'operator')).client;
  viewer = (await member(t, key.tenantId, 'viewer')).client;
  outsider = (await member(t, otherKey.tenantId, 'admin')).client;
});
afterAll(() => t?.close());

const nextRunOf = async (id: string) =>
  (await fetchSchedules(operator, key.tenantId)).find((s) => s.id === id)?.next_run_at ?? null;

describe('schedules through the dashboard data layer and the local scheduler', () => {
  it('an operator creates one; the local stack times it, then fires it when due', async () => {
    const saved = await saveSchedule(operator, key.tenantId, null, input({ name: 'Every five' }));
    expect(saved).toMatchObject({ name: 'Every five', cron: '*/5 * * * *', enabled: true });

    // The stack's scheduler gives it its first due time: a five-minute mark ahead.
    await expect.poll(() => nextRunOf(saved.id), { timeout: 10_000 }).not.toBeNull();
    const next = new Date((await nextRunOf(saved.id))!);
    expect(next.getTime()).toBeGreaterThan(Date.now());
    expect(next.getUTCMinutes() % 5).toBe(0);

    // Make it due now, as time passing would, and the scheduler creates its task.
    await t.db.sql`update public.task_schedules set next_run_at = now() where id = ${saved.id}`;
    await expect
      .poll(async () => (await fetchSchedules(operator, key.tenantId))[0]?.last_task_id ?? null, {
        timeout: 10_000,
      })
      .not.toBeNull();
    const [schedule] = await fetchSchedules(viewer, key.tenantId);
    const { data: task } = await operator
      .from('tasks')
      .select('target, action, params, priority, max_attempts, status')
      .eq('id', schedule!.last_task_id!)
      .single();
    expect(task).toEqual({
      target: 'apex-sales',
      action: 'echo',
      params: { payload: { from: 'schedule' } },
      priority: 6,
      max_attempts: 2,
      status: 'queued',
    });
    expect(new Date(schedule!.next_run_at!).getTime()).toBeGreaterThan(Date.now());
  });

  it('says exactly what is wrong with a bad expression or zone, and stores nothing', async () => {
    const before = await fetchSchedules(operator, key.tenantId);
    const bad = await refusal(
      saveSchedule(operator, key.tenantId, null, input({ cron: '0 25 * * *' })),
    );
    expect(bad.message).toBe("cron's hour field must be from 0 to 23, not 25.");
    const zone = await refusal(
      saveSchedule(operator, key.tenantId, null, input({ timezone: 'Europe/Atlantis' })),
    );
    expect(zone.message).toMatch(/timezone must be an IANA time zone name/);
    expect(await fetchSchedules(operator, key.tenantId)).toEqual(before);
  });

  it('switches off and on, edits and deletes; viewers and other tenants are refused', async () => {
    const saved = await saveSchedule(operator, key.tenantId, null, input());
    expect((await refusal(setScheduleEnabled(viewer, saved.id, false))).code).toBe('42501');
    expect((await refusal(saveSchedule(viewer, key.tenantId, saved.id, input()))).code).toBe(
      '42501',
    );
    expect((await refusal(deleteSchedule(outsider, saved.id))).code).toBe('PT404');
    expect(await fetchSchedules(outsider, key.tenantId)).toEqual([]);

    expect(await setScheduleEnabled(operator, saved.id, false)).toMatchObject({
      enabled: false,
      next_run_at: null,
    });
    const edited = await saveSchedule(
      operator,
      key.tenantId,
      saved.id,
      input({ name: saved.name, cron: '@hourly', enabled: true }),
    );
    expect(edited).toMatchObject({ cron: '@hourly', enabled: true });
    await expect.poll(() => nextRunOf(saved.id), { timeout: 10_000 }).not.toBeNull();

    expect(await deleteSchedule(operator, saved.id)).toMatchObject({ id: saved.id });
    expect((await fetchSchedules(operator, key.tenantId)).map((s) => s.id)).not.toContain(saved.id);
  });
});
