import { Cron } from 'croner';

/**
 * Cron arithmetic for schedules, in one place for the scheduler and the
 * dashboard. Five-field cron only (minute resolution): the database's
 * omnilink.cron_problem accepts the same syntax, and croner's five-part
 * mode refuses seconds and years rather than reading them silently.
 */
function parse(cron: string, timezone: string): Cron {
  return new Cron(cron, { mode: '5-part', timezone });
}

export type ScheduleTiming = { ok: true; next: Date } | { ok: false; error: string };

/**
 * The first due time of `cron` in `timezone` strictly after `after`, or why
 * there is none: a pattern croner refuses, a time zone it does not know, or
 * a pattern that matches no date (e.g. `0 0 30 2 *`).
 */
export function nextDueTime(cron: string, timezone: string, after: Date): ScheduleTiming {
  try {
    const next = parse(cron, timezone).nextRun(after);
    if (!next) return { ok: false, error: `"${cron}" matches no date, so it would never run.` };
    return { ok: true, next };
  } catch (error) {
    return { ok: false, error: (error as Error).message };
  }
}

/** The next `count` due times after `after`, for previews; throws what nextDueTime reports. */
export function nextDueTimes(cron: string, timezone: string, after: Date, count: number): Date[] {
  const first = nextDueTime(cron, timezone, after);
  if (!first.ok) throw new Error(first.error);
  return parse(cron, timezone).nextRuns(count, after);
}
