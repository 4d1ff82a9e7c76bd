import { describe, expect, it } from 'vitest';
import { buildChartData, MAX_BUCKETS, niceCeiling } from './chart-data.ts';

const HOUR = 3_600_000;

describe('buildChartData', () => {
  it('fills every bucket of the window with zeros where there were no events, per source', () => {
    const data = buildChartData(
      [
        { bucket_start: '2026-11-20T10:00:00+00:00', source: 'apex-sales', event_count: 3 },
        { bucket_start: '2026-11-20T11:00:00+00:00', source: 'lead-gen', event_count: 14 },
        { bucket_start: '2026-11-20T11:00:00+00:00', source: 'zeta', event_count: 1 },
        // Stamped ahead of the clock: left out, and counted as such.
        { bucket_start: '2026-11-20T13:00:00+00:00', source: 'apex-sales', event_count: 2 },
      ],
      {
        since: '2026-11-20T08:30:00.000Z',
        now: Date.parse('2026-11-20T12:10:00Z'),
        bucketMs: HOUR,
      },
    );
    expect(data.buckets.map((time) => new Date(time).toISOString().slice(11, 16))).toEqual([
      '08:00',
      '09:00',
      '10:00',
      '11:00',
      '12:00',
    ]);
    expect(data.series.map((s) => [s.source, s.counts, s.total])).toEqual([
      ['lead-gen', [0, 0, 0, 14, 0], 14],
      ['apex-sales', [0, 0, 3, 0, 0], 3],
      ['zeta', [0, 0, 0, 1, 0], 1],
    ]);
    expect(data.series[1]!.peak).toEqual({ index: 2, count: 3 });
    expect(data.max).toBe(14);
    expect(data.omitted).toEqual({ ahead: 2, earlier: 0 });
  });

  it('stays one window wide whatever times agents stamp (years ahead or decades back)', () => {
    const now = Date.parse('2026-11-20T12:00:00Z');
    const points = [
      { bucket_start: '1970-01-01T00:00:00+00:00', source: 'lead-gen', event_count: 4 },
      { bucket_start: '2026-11-20T00:00:00+00:00', source: 'lead-gen', event_count: 1 },
      { bucket_start: '9999-12-31T00:00:00+00:00', source: 'apex-sales', event_count: 3 },
    ];
    const allTime = buildChartData(points, { since: null, now, bucketMs: 24 * HOUR });
    expect(allTime.buckets).toHaveLength(MAX_BUCKETS);
    expect(new Date(allTime.buckets.at(-1)!).toISOString()).toBe('2026-11-20T00:00:00.000Z');
    expect(allTime.series.map((s) => [s.source, s.total])).toEqual([['lead-gen', 1]]);
    expect(allTime.omitted).toEqual({ ahead: 3, earlier: 4 });

    // Only the future: the grid is the current bucket, with nothing drawn.
    const ahead = buildChartData(points.slice(2), { since: null, now, bucketMs: 24 * HOUR });
    expect(ahead.buckets).toEqual([Date.parse('2026-11-20T00:00:00Z')]);
    expect(ahead.series).toEqual([]);
    expect(ahead.max).toBe(0);
  });

  it('starts at the first event for all time, and is empty without events', () => {
    const data = buildChartData(
      [{ bucket_start: '2026-11-18T00:00:00+00:00', source: 'lead-gen', event_count: 1 }],
      { since: null, now: Date.parse('2026-11-20T12:00:00Z'), bucketMs: 24 * HOUR },
    );
    expect(data.buckets).toHaveLength(3);
    expect(data.series[0]!.counts).toEqual([1, 0, 0]);
    expect(buildChartData([], { since: null, now: 0, bucketMs: HOUR }).buckets).toEqual([]);
  });
});

describe('niceCeiling', () => {
  it('rounds up to 1, 2 or 5 times a power of ten', () => {
    expect([0, 1, 3, 7, 14, 38, 100, 101].map(niceCeiling)).toEqual([
      1, 1, 5, 10, 20, 50, 100, 200,
    ]);
  });
});
