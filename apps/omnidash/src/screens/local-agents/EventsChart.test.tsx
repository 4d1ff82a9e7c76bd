// @vitest-environment happy-dom
import { cleanup, render, screen, within } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { timeWindow } from '../../data/telemetry/time-window.ts';
import { buildChartData } from './chart-data.ts';
import { EventsChart } from './EventsChart.tsx';

afterEach(cleanup);

const data = buildChartData(
  [
    { bucket_start: '2026-11-20T10:00:00+00:00', source: 'lead-gen', event_count: 14 },
    { bucket_start: '2026-11-20T11:00:00+00:00', source: 'apex-sales', event_count: 27 },
    { bucket_start: '2026-11-20T11:00:00+00:00', source: 'lead-gen', event_count: 1 },
  ],
  { since: '2026-11-20T09:30:00Z', now: Date.parse('2026-11-20T11:10:00Z'), bucketMs: 3_600_000 },
);

describe('EventsChart', () => {
  it('says in its label what each source did, for screen readers', () => {
    render(<EventsChart data={data} range={timeWindow('24h')} />);
    const label = screen.getByRole('img').getAttribute('aria-label')!;
    expect(label).toMatch(/^Line chart of events per hour by source, in the last 24 hours: /);
    expect(label).toMatch(
      /lead-gen 15 events, at most 14 per hour .*; apex-sales 27 events, at most 27 per hour/,
    );
  });

  it('gives the numbers behind the lines as a table, one row per hour, zeros included', () => {
    render(<EventsChart data={data} range={timeWindow('24h')} />);
    const table = screen.getByRole('table', { name: /Events per hour by source/ });
    const headers = within(table)
      .getAllByRole('columnheader')
      .map((cell) => cell.textContent);
    expect(headers).toEqual(['Period starting', 'lead-gen', 'apex-sales']);
    const rows = within(table)
      .getAllByRole('row')
      .slice(1)
      .map((row) =>
        within(row)
          .getAllByRole('cell')
          .map((cell) => cell.textContent),
      );
    expect(rows).toEqual([
      ['0', '0'],
      ['14', '0'],
      ['1', '27'],
    ]);
  });

  it('says how many events it does not draw, and why', () => {
    const skewed = buildChartData(
      [
        { bucket_start: '2026-11-20T11:00:00+00:00', source: 'lead-gen', event_count: 2 },
        { bucket_start: '2030-01-01T00:00:00+00:00', source: 'lead-gen', event_count: 1 },
      ],
      {
        since: '2026-11-20T09:30:00Z',
        now: Date.parse('2026-11-20T11:10:00Z'),
        bucketMs: 3_600_000,
      },
    );
    render(<EventsChart data={skewed} range={timeWindow('24h')} />);
    expect(
      screen.getByText("Not drawn: 1 event stamped later than now (an agent's clock ahead)."),
    ).toBeTruthy();
    cleanup();
    render(<EventsChart data={data} range={timeWindow('24h')} />);
    expect(screen.queryByText(/Not drawn/)).toBeNull();
  });
});
