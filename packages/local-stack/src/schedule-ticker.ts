import type { Sql } from '@omnihub/database';
import type { PortLogger } from '@omnihub/port';
import { tickSchedules } from '@omnihub/scheduler';
import { runEvery } from './every.ts';

/**
 * How often the local stack fires due schedules. Due times are whole
 * minutes; a tick a second puts a task within a second of its time.
 * Production's pg_cron calls the omnilink-scheduler function every minute.
 */
export const SCHEDULE_TICK_MS = 1_000;

/** Fires due schedules every `everyMs` with the same code as the omnilink-scheduler Edge Function. */
export function startScheduleTicker(
  sql: Sql,
  everyMs: number,
  log: PortLogger,
): { stop(): Promise<void> } {
  return runEvery(
    everyMs,
    async () => {
      const result = await tickSchedules(sql);
      if (result.fired > 0) log({ level: 'info', msg: `schedules fired ${result.fired} task(s)` });
      if (result.disabled > 0) {
        log({ level: 'warn', msg: `${result.disabled} schedule(s) turned off: see last_error` });
      }
    },
    (error) => log({ level: 'warn', msg: `schedule tick failed: ${error.message}` }),
  );
}
