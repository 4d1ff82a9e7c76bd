import { useLayoutEffect, useRef, useState } from 'react';
import { formatCount } from '../../components/format.ts';
import type { TimeWindow } from '../../data/telemetry/time-window.ts';
import { niceCeiling, type ChartData } from './chart-data.ts';

const HEIGHT = 220;
/** Until the container is measured (or where it cannot be, as in tests). */
const DEFAULT_WIDTH = 640;
const MARGIN = { top: 12, right: 12, bottom: 28, left: 40 };
/** Beyond this many buckets the hidden table lists only buckets with events. */
const FULL_TABLE_BUCKETS = 100;
const DASHES = ['', '6 4', '2 3', '8 3 2 3'];

const tickFormat = (range: TimeWindow) =>
  new Intl.DateTimeFormat(
    undefined,
    range.id === '7d'
      ? { weekday: 'short', hour: 'numeric' }
      : range.id === 'all'
        ? { month: 'short', day: 'numeric' }
        : { hour: '2-digit', minute: '2-digit' },
  );

const bucketFormat = (range: TimeWindow) =>
  new Intl.DateTimeFormat(
    undefined,
    range.id === 'all' ? { dateStyle: 'medium' } : { dateStyle: 'medium', timeStyle: 'short' },
  );

/** Follows an element's width, so the SVG is drawn in real pixels (its text stays legible on a phone). */
function useWidth<T extends HTMLElement>() {
  const ref = useRef<T>(null);
  const [width, setWidth] = useState(DEFAULT_WIDTH);
  useLayoutEffect(() => {
    const element = ref.current;
    if (!element) return;
    const measure = (measured: number) => setWidth(measured > 0 ? measured : DEFAULT_WIDTH);
    measure(element.getBoundingClientRect().width);
    const observer = new ResizeObserver(([entry]) => measure(entry!.contentRect.width));
    observer.observe(element);
    return () => observer.disconnect();
  }, []);
  return [ref, width] as const;
}

/** A marker shape per series, so the lines differ in more than colour. */
function Marker({ index, x, y }: { index: number; x: number; y: number }) {
  switch (index % 4) {
    case 0:
      return <circle cx={x} cy={y} r={3.5} />;
    case 1:
      return <rect x={x - 3.5} y={y - 3.5} width={7} height={7} />;
    case 2:
      return <path d={`M${x},${y - 4.5}L${x + 4.5},${y + 3.5}L${x - 4.5},${y + 3.5}Z`} />;
    default:
      return <path d={`M${x},${y - 4.5}L${x + 4.5},${y}L${x},${y + 4.5}L${x - 4.5},${y}Z`} />;
  }
}

/** What the chart says, for screen readers: per source, its total and its fullest bucket. */
export function chartSummary(data: ChartData, range: TimeWindow): string {
  const format = bucketFormat(range);
  const parts = data.series.map(
    (series) =>
      `${series.source} ${formatCount(series.total)} ${series.total === 1 ? 'event' : 'events'}, at most ${formatCount(series.peak.count)} per ${range.bucketName} (${format.format(data.buckets[series.peak.index]!)})`,
  );
  return `Line chart of events per ${range.bucketName} by source, ${range.phrase}: ${parts.join('; ')}.`;
}

const events = (count: number) => `${formatCount(count)} ${count === 1 ? 'event' : 'events'}`;

/** Why the lines add up to less than the window's events, when they do. */
export function omittedNote(omitted: ChartData['omitted'], range: TimeWindow): string {
  const parts: string[] = [];
  if (omitted.ahead > 0)
    parts.push(`${events(omitted.ahead)} stamped later than now (an agent's clock ahead)`);
  if (omitted.earlier > 0)
    parts.push(`${events(omitted.earlier)} from before the chart's first ${range.bucketName}`);
  return `Not drawn: ${parts.join('; ')}.`;
}

/**
 * Events over time per source: one line per source over the window's
 * buckets. Drawn by hand in SVG; role="img" with a summary, and the numbers
 * in a table for screen readers.
 */
export function EventsChart({ data, range }: { data: ChartData; range: TimeWindow }) {
  const [ref, width] = useWidth<HTMLDivElement>();
  const ceiling = niceCeiling(data.max);
  const plotWidth = Math.max(0, width - MARGIN.left - MARGIN.right);
  const plotHeight = HEIGHT - MARGIN.top - MARGIN.bottom;
  const step = data.buckets.length > 0 ? plotWidth / data.buckets.length : 0;
  const x = (index: number) => MARGIN.left + (index + 0.5) * step;
  const y = (count: number) => MARGIN.top + plotHeight - (count / ceiling) * plotHeight;
  const yTicks = ceiling === 1 ? [0, 1] : [0, ceiling / 2, ceiling];
  const ticks = tickFormat(range);
  const tickLabels = data.buckets.map((time) => ticks.format(time));
  // Room for the longest label (about 6.5 px a character at 11 px) and a gap.
  const labelWidth = Math.max(...tickLabels.map((label) => label.length), 1) * 6.5 + 10;
  const labelEvery = step > 0 ? Math.max(1, Math.ceil(labelWidth / step)) : 1;
  /** A label's centre, kept far enough from the edges for the whole label to show. */
  const labelX = (index: number) =>
    Math.min(Math.max(x(index), labelWidth / 2), width - labelWidth / 2);
  const showMarkers = step >= 8;
  const full = bucketFormat(range);
  const tableRows =
    data.buckets.length <= FULL_TABLE_BUCKETS
      ? data.buckets.map((_, index) => index)
      : data.buckets
          .map((_, index) => index)
          .filter((index) => data.series.some((series) => series.counts[index]! > 0));

  return (
    <div className="chart">
      <div ref={ref} className="chart-canvas">
        <svg
          role="img"
          aria-label={chartSummary(data, range)}
          width={width}
          height={HEIGHT}
          viewBox={`0 0 ${width} ${HEIGHT}`}
        >
          {yTicks.map((tick) => (
            <g key={tick}>
              <line
                className="chart-grid"
                x1={MARGIN.left}
                x2={MARGIN.left + plotWidth}
                y1={y(tick)}
                y2={y(tick)}
              />
              <text
                className="chart-label"
                x={MARGIN.left - 6}
                y={y(tick)}
                dy="0.32em"
                textAnchor="end"
              >
                {formatCount(tick)}
              </text>
            </g>
          ))}
          {data.buckets.map((time, index) =>
            index % labelEvery === 0 ? (
              <text
                key={time}
                className="chart-label"
                x={labelX(index)}
                y={HEIGHT - 8}
                textAnchor="middle"
              >
                {tickLabels[index]}
              </text>
            ) : null,
          )}
          {data.series.map((series, s) => (
            <g key={series.source} className={`chart-series series-${s % 4}`}>
              <path
                className="chart-line"
                strokeDasharray={DASHES[s % 4]}
                d={series.counts
                  .map((count, index) => `${index === 0 ? 'M' : 'L'}${x(index)},${y(count)}`)
                  .join('')}
              />
              {(showMarkers || data.buckets.length === 1) &&
                series.counts.map((count, index) =>
                  count > 0 ? <Marker key={index} index={s} x={x(index)} y={y(count)} /> : null,
                )}
            </g>
          ))}
        </svg>
      </div>
      <ul className="chart-legend">
        {data.series.map((series, s) => (
          <li key={series.source}>
            <svg className={`series-${s % 4}`} width="28" height="12" aria-hidden="true">
              <line
                className="chart-line"
                x1="1"
                x2="27"
                y1="6"
                y2="6"
                strokeDasharray={DASHES[s % 4]}
              />
              <Marker index={s} x={14} y={6} />
            </svg>
            <span className="mono">{series.source}</span>
            <span className="muted">{formatCount(series.total)}</span>
          </li>
        ))}
      </ul>
      {(data.omitted.ahead > 0 || data.omitted.earlier > 0) && (
        <p className="field-hint">{omittedNote(data.omitted, range)}</p>
      )}
      <table className="visually-hidden">
        <caption>
          Events per {range.bucketName} by source, {range.phrase}
          {tableRows.length < data.buckets.length ? ' (only periods with events)' : ''}
        </caption>
        <thead>
          <tr>
            <th scope="col">Period starting</th>
            {data.series.map((series) => (
              <th key={series.source} scope="col">
                {series.source}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {tableRows.map((index) => (
            <tr key={data.buckets[index]}>
              <th scope="row">{full.format(data.buckets[index]!)}</th>
              {data.series.map((series) => (
                <td key={series.source}>{series.counts[index]}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
