const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/**
 * The time windows of the Local agents screen: how far back its counts,
 * chart and event list reach (by occurred_at), and the chart's bucket for each.
 */
export const TIME_WINDOWS = [
  {
    id: '1h',
    label: 'Last hour',
    phrase: 'in the last hour',
    ms: HOUR,
    bucket: '5 minutes',
    bucketMs: 5 * MINUTE,
    bucketName: '5 minutes',
  },
  {
    id: '24h',
    label: 'Last 24 hours',
    phrase: 'in the last 24 hours',
    ms: DAY,
    bucket: '1 hour',
    bucketMs: HOUR,
    bucketName: 'hour',
  },
  {
    id: '7d',
    label: 'Last 7 days',
    phrase: 'in the last 7 days',
    ms: 7 * DAY,
    bucket: '6 hours',
    bucketMs: 6 * HOUR,
    bucketName: '6 hours',
  },
  {
    id: 'all',
    label: 'All time',
    phrase: 'at any time',
    ms: null,
    bucket: '1 day',
    bucketMs: DAY,
    bucketName: 'day',
  },
] as const;

export type TimeWindow = (typeof TIME_WINDOWS)[number];
export type TimeWindowId = TimeWindow['id'];

export const DEFAULT_TIME_WINDOW: TimeWindowId = '24h';

/** The window with this id; the default for anything else (an old or hand-typed URL). */
export function timeWindow(id: string | null | undefined): TimeWindow {
  return (
    TIME_WINDOWS.find((candidate) => candidate.id === id) ??
    TIME_WINDOWS.find((candidate) => candidate.id === DEFAULT_TIME_WINDOW)!
  );
}

/**
 * Where the window starts, as an ISO time, or null for all time. Rounded
 * down to the minute, so the query keys built from it change once a minute
 * (the window slides) rather than on every render.
 */
export function windowSince(window: TimeWindow, now: number): string | null {
  if (window.ms === null) return null;
  return new Date(Math.floor(now / MINUTE) * MINUTE - window.ms).toISOString();
}

/** The origin of the chart's buckets: the same as public.event_series uses (2001-01-01 00:00 UTC). */
export const BUCKET_ORIGIN = Date.UTC(2001, 0, 1);

/** The start of the bucket holding `time`, as date_bin computes it in public.event_series. */
export function bucketStart(time: number, bucketMs: number): number {
  return BUCKET_ORIGIN + Math.floor((time - BUCKET_ORIGIN) / bucketMs) * bucketMs;
}
