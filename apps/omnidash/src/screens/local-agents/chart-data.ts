import { bucketStart } from '../../data/telemetry/time-window.ts';
import type { TelemetrySeriesPoint } from '../../data/telemetry/telemetry-series-query.ts';

/** The sources the screen has panels for come first, in this order; any other after them by name. */
const KNOWN_SOURCES = ['lead-gen', 'apex-sales'];

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
}

/**
 * The chart's full grid from the database's non-empty buckets: from the
 * window's first bucket (or the first with events, for all time) to the
 * current one, or later when events are stamped ahead of the clock.
 */
export function buildChartData(
  points: readonly TelemetrySeriesPoint[],
  options: { since: string | null; now: number; bucketMs: number },
): ChartData {
  if (points.length === 0) return { buckets: [], series: [], max: 0 };
  const { since, now, bucketMs } = options;
  const times = points.map((point) => Date.parse(point.bucket_start));
  const first = since !== null ? bucketStart(Date.parse(since), bucketMs) : Math.min(...times);
  const last = Math.max(bucketStart(now, bucketMs), ...times);
  const buckets: number[] = [];
  for (let time = first; time <= last; time += bucketMs) buckets.push(time);

  const sources = [...new Set(points.map((point) => point.source))].sort((a, b) => {
    const rank = (source: string) => {
      const index = KNOWN_SOURCES.indexOf(source);
      return index === -1 ? KNOWN_SOURCES.length : index;
    };
    return rank(a) - rank(b) || a.localeCompare(b);
  });
  const series = sources.map((source) => {
    const counts = buckets.map(() => 0);
    points.forEach((point, i) => {
      const index = Math.round((times[i]! - first) / bucketMs);
      if (point.source === source && index >= 0 && index < counts.length)
        counts[index]! += point.event_count;
    });
    const peakCount = Math.max(...counts);
    return {
      source,
      counts,
      total: counts.reduce((sum, count) => sum + count, 0),
      peak: { index: counts.indexOf(peakCount), count: peakCount },
    };
  });
  return { buckets, series, max: Math.max(...series.map((s) => s.peak.count)) };
}

/** A round upper bound for the y axis (1, 2, 5 × 10ⁿ), at least 1. */
export function niceCeiling(value: number): number {
  if (value <= 1) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 5, 10]) if (step * magnitude >= value) return step * magnitude;
  return 10 * magnitude;
}
