import { bucketStart } from '../../data/telemetry/time-window.ts';
import type { TelemetrySeriesPoint } from '../../data/telemetry/telemetry-series-query.ts';
import { PANEL_SOURCES } from '../../data/telemetry/telemetry-stats-query.ts';

export interface ChartSeries {
  source: string;
  /** One count per bucket of ChartData.buckets, zeros included. */
  counts: number[];
  total: number;
  /** The fullest bucket (the first of equals): its index and count. */
  peak: { index: number; count: number };
}

export interface ChartData {
  /** Bucket start times (ms), consecutive, oldest first. */
  buckets: number[];
  series: ChartSeries[];
  /** The highest count of any bucket of any series. */
  max: number;
  /** Events the grid leaves out: stamped after the current bucket, or before its first (all time). */
  omitted: { ahead: number; earlier: number };
}

/**
 * The most buckets a chart draws: a year of days for all time. An agent may
 * stamp events years back, and an SVG of thousands of points helps no one.
 */
export const MAX_BUCKETS = 366;

/** Sources the screen has panels for first, in that order; the others by name. */
function bySource(a: string, b: string): number {
  const rank = (source: string) => {
    const index = (PANEL_SOURCES as readonly string[]).indexOf(source);
    return index === -1 ? PANEL_SOURCES.length : index;
  };
  return rank(a) - rank(b) || a.localeCompare(b);
}

/**
 * The chart's full grid from the database's non-empty buckets: from the
 * window's first bucket (or the first with events, for all time, at most
 * MAX_BUCKETS back) to the current one. Events stamped ahead of the clock
 * (an agent's clock may run fast, or send any time) are counted in
 * `omitted` rather than stretching the grid towards them.
 */
export function buildChartData(
  points: readonly TelemetrySeriesPoint[],
  options: { since: string | null; now: number; bucketMs: number },
): ChartData {
  const { since, now, bucketMs } = options;
  const omitted = { ahead: 0, earlier: 0 };
  if (points.length === 0) return { buckets: [], series: [], max: 0, omitted };
  const times = points.map((point) => Date.parse(point.bucket_start));
  const last = bucketStart(now, bucketMs);
  const oldest =
    since !== null
      ? bucketStart(Date.parse(since), bucketMs)
      : times.reduce((min, time) => Math.min(min, time), last);
  const first = Math.min(last, Math.max(oldest, last - (MAX_BUCKETS - 1) * bucketMs));
  const buckets: number[] = [];
  for (let time = first; time <= last; time += bucketMs) buckets.push(time);

  const counts = new Map<string, number[]>();
  points.forEach((point, i) => {
    const index = Math.round((times[i]! - first) / bucketMs);
    if (index >= buckets.length) omitted.ahead += point.event_count;
    else if (index < 0) omitted.earlier += point.event_count;
    else {
      let row = counts.get(point.source);
      if (!row) counts.set(point.source, (row = buckets.map(() => 0)));
      row[index]! += point.event_count;
    }
  });
  const series = [...counts.keys()].sort(bySource).map((source) => {
    const row = counts.get(source)!;
    const peak = row.reduce(
      (best, count, index) => (count > best.count ? { index, count } : best),
      {
        index: 0,
        count: row[0]!,
      },
    );
    return { source, counts: row, total: row.reduce((sum, count) => sum + count, 0), peak };
  });
  const max = series.reduce((highest, s) => Math.max(highest, s.peak.count), 0);
  return { buckets, series, max, omitted };
}

/** A round upper bound for the y axis (1, 2, 5 × 10ⁿ), at least 1. */
export function niceCeiling(value: number): number {
  if (value <= 1) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 5, 10]) if (step * magnitude >= value) return step * magnitude;
  return 10 * magnitude;
}
