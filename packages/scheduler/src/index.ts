export { nextDueTime, nextDueTimes, type ScheduleTiming } from './cron.ts';
export { TICK_BATCH, tickSchedules, type TickOptions, type TickResult } from './tick.ts';
