import type postgres from 'postgres';
import { nextDueTime, type ScheduleTiming } from './cron.ts';

export type Sql = postgres.Sql;

/** How many schedules one tick looks at; the rest wait for the next tick. */
export const TICK_BATCH = 500;

export interface TickOptions {
  /** The time to fire up to; defaults to the clock. */
  now?: Date;
  limit?: number;
}

export interface TickResult {
  /** Tasks created, one per due time fired. */
  fired: number;
  /** Schedules given their first due time. */
  timed: number;
  /** Schedules turned off because they cannot be timed (the reason is in last_error). */
  disabled: number;
  /** Steps another scheduler (or an edit) got to first. */
  lost: number;
}

interface DueSchedule {
  id: string;
  revision: string;
  cron: string;
  timezone: string;
  next_run_at: Date | null;
  revised_at: Date;
}

/**
 * One pass of the scheduler: every enabled schedule whose due time has
 * come gets its task, and every schedule not yet timed gets its first due
 * time. Safe to run from many processes at once — each step is a
 * compare-and-set in Postgres (omnilink.fire_schedule, time_schedule), so a
 * due time makes exactly one task however many schedulers tick it.
 *
 * Missed due times (the scheduler was not running) are not replayed one by
 * one: the oldest unfired one is fired and the schedule moves on to the
 * first due time after now, as cron itself does after downtime.
 */
export async function tickSchedules(sql: Sql, options: TickOptions = {}): Promise<TickResult> {
  const now = options.now ?? new Date();
  const result: TickResult = { fired: 0, timed: 0, disabled: 0, lost: 0 };
  const due = await sql<DueSchedule[]>`
    select * from omnilink.due_schedules(${now}, ${options.limit ?? TICK_BATCH})`;

  for (const schedule of due) {
    // Untimed schedules start from when they were saved or switched on.
    const timing: ScheduleTiming = schedule.next_run_at
      ? { ok: true, next: schedule.next_run_at }
      : nextDueTime(schedule.cron, schedule.timezone, schedule.revised_at);
    if (!timing.ok) {
      const [row] = await sql<{ done: boolean }[]>`
        select omnilink.time_schedule(${schedule.id}, ${schedule.revision}, null, ${timing.error}) as done`;
      if (row?.done) result.disabled += 1;
      else result.lost += 1;
      continue;
    }
    const dueTime = timing.next;

    if (dueTime > now) {
      const [row] = await sql<{ done: boolean }[]>`
        select omnilink.time_schedule(${schedule.id}, ${schedule.revision}, ${dueTime}, null) as done`;
      if (row?.done) result.timed += 1;
      else result.lost += 1;
      continue;
    }

    const after = nextDueTime(schedule.cron, schedule.timezone, now);
    const [row] = await sql<{ task_id: string | null }[]>`
      select omnilink.fire_schedule(
        ${schedule.id}, ${schedule.revision}, ${schedule.next_run_at}, ${dueTime},
        ${after.ok ? after.next : null}
      ) as task_id`;
    if (row?.task_id) result.fired += 1;
    else result.lost += 1;
  }
  return result;
}
