import { useId } from 'react';
import { useSearchParams } from 'react-router';
import { useUpdateSearch } from '../../app/use-update-search.ts';
import { formatCount } from '../../components/format.ts';
import { JsonView } from '../../components/JsonView.tsx';
import { QueryState } from '../../components/QueryState.tsx';
import { RelativeTime } from '../../components/RelativeTime.tsx';
import {
  TELEMETRY_EVENTS_PAGE_SIZE,
  useTelemetryEventsQuery,
  type TelemetryEventRow,
} from '../../data/telemetry/telemetry-events-query.ts';
import {
  matchingCount,
  PANEL_SOURCES,
  type TelemetryTypeCount,
} from '../../data/telemetry/telemetry-stats-query.ts';

const PREVIEW_LENGTH = 90;

const unique = (values: readonly (string | null)[]) => [
  ...new Set(values.filter((value): value is string => value !== null)),
];

/** "lead_id: lead-001, role: CTO, score: 0.92", cut to fit one line. */
function preview(data: Record<string, unknown>): string {
  const text = Object.entries(data)
    .map(([key, value]) => `${key}: ${typeof value === 'string' ? value : JSON.stringify(value)}`)
    .join(', ');
  return text.length > PREVIEW_LENGTH ? `${text.slice(0, PREVIEW_LENGTH - 1)}…` : text;
}

function emptyMessage(source: string | null, type: string | null, windowPhrase: string): string {
  if (source === null && type === null)
    return `No events ${windowPhrase}. Run an agent (pnpm lead-gen, pnpm apex-sales) and its events appear here as they arrive.`;
  return `No ${type === null ? '' : `${type} `}events${source === null ? '' : ` from ${source}`} ${windowPhrase}.`;
}

function EventData({ event }: { event: TelemetryEventRow }) {
  if (Object.keys(event.data).length === 0) return <span className="muted">—</span>;
  return (
    <details className="event-data">
      <summary className="mono">{preview(event.data)}</summary>
      <JsonView value={event.data} label={`Data of the ${event.type} event`} />
    </details>
  );
}

/**
 * The window's events, newest first, 50 a page, filtered by source and type
 * (kept in the address, so a filtered view can be shared). New events arrive
 * at the top live (telemetry-realtime.ts puts them in the cache).
 */
export function RecentEventsCard({
  tenantId,
  since,
  windowPhrase,
  stats,
}: {
  tenantId: string;
  since: string | null;
  windowPhrase: string;
  /** The window's counts per (source, type): the filters' options and the total. */
  stats: TelemetryTypeCount[] | undefined;
}) {
  const id = useId();
  const [params] = useSearchParams();
  const updateSearch = useUpdateSearch();
  const source = params.get('source') || null;
  const type = params.get('type') || null;
  // ?page= counts from 1, as on the tasks screen; the query's page from 0.
  const page = Math.max(1, Math.floor(Number(params.get('page')) || 1)) - 1;
  const query = useTelemetryEventsQuery(tenantId, { since, source, type, page });

  const sources = unique([...PANEL_SOURCES, ...(stats ?? []).map((row) => row.source), source]);
  const types = unique([
    ...(stats ?? [])
      .filter((row) => source === null || row.source === source)
      .map((row) => row.type)
      .sort(),
    type,
  ]);
  const total = stats ? matchingCount(stats, source, type) : undefined;

  function update(changes: Record<string, string | null>) {
    updateSearch(changes, { replace: true });
  }

  const first = page * TELEMETRY_EVENTS_PAGE_SIZE;
  return (
    <section className="card" aria-labelledby={id}>
      <div className="card-header">
        <h2 id={id}>Recent events</h2>
        <span className="muted">Newest first, live</span>
      </div>
      <div className="filters">
        <div className="field">
          <label htmlFor={`${id}-source`}>Source</label>
          <select
            id={`${id}-source`}
            value={source ?? ''}
            onChange={(event) => update({ source: event.target.value, type: null, page: null })}
          >
            <option value="">All sources</option>
            {sources.map((name) => (
              <option key={name} value={name}>
                {name}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor={`${id}-type`}>Type</label>
          <select
            id={`${id}-type`}
            value={type ?? ''}
            onChange={(event) => update({ type: event.target.value, page: null })}
          >
            <option value="">All types</option>
            {types.map((name) => (
              <option key={name} value={name}>
                {name}
              </option>
            ))}
          </select>
        </div>
      </div>
      <QueryState
        query={query}
        label="events"
        isEmpty={(data) => data.rows.length === 0 && page === 0}
        empty={emptyMessage(source, type, windowPhrase)}
      >
        {(data) => (
          <>
            <div className="table-wrap">
              <table className="events-table">
                <caption className="visually-hidden">
                  Recent events {windowPhrase}, newest first
                  {source ? `, source ${source}` : ''}
                  {type ? `, type ${type}` : ''}
                </caption>
                <thead>
                  <tr>
                    <th scope="col">Occurred</th>
                    <th scope="col">Source</th>
                    <th scope="col">Type</th>
                    <th scope="col">Data</th>
                  </tr>
                </thead>
                <tbody>
                  {data.rows.map((event) => (
                    <tr key={event.id}>
                      <td className="nowrap">
                        <RelativeTime iso={event.occurred_at} />
                      </td>
                      <td className="mono nowrap">{event.source}</td>
                      <td className="mono nowrap">{event.type}</td>
                      <td className="event-data-cell">
                        <EventData event={event} />
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            <nav className="pagination" aria-label="Pages of recent events">
              <span className="muted">
                {data.rows.length === 0
                  ? 'No events on this page'
                  : `Events ${formatCount(first + 1)}–${formatCount(first + data.rows.length)}${
                      total !== undefined && total >= first + data.rows.length
                        ? ` of ${formatCount(total)}`
                        : ''
                    }`}
              </span>
              <div className="actions">
                <button
                  className="btn btn-small"
                  type="button"
                  disabled={page === 0}
                  onClick={() => update({ page: page > 1 ? String(page) : null })}
                >
                  Newer events
                </button>
                <button
                  className="btn btn-small"
                  type="button"
                  disabled={!data.hasMore}
                  onClick={() => update({ page: String(page + 2) })}
                >
                  Older events
                </button>
              </div>
            </nav>
          </>
        )}
      </QueryState>
    </section>
  );
}
