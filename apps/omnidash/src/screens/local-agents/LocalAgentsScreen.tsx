import { useId } from 'react';
import { useSearchParams } from 'react-router';
import { useUpdateSearch } from '../../app/use-update-search.ts';
import { QueryState } from '../../components/QueryState.tsx';
import { useNow } from '../../components/RelativeTime.tsx';
import { usePageTitle } from '../../components/use-page-title.ts';
import { useTelemetrySeriesQuery } from '../../data/telemetry/telemetry-series-query.ts';
import { useTelemetryStatsQuery } from '../../data/telemetry/telemetry-stats-query.ts';
import {
  DEFAULT_TIME_WINDOW,
  TIME_WINDOWS,
  timeWindow,
  windowSince,
} from '../../data/telemetry/time-window.ts';
import { useTenant } from '../../tenant/tenant-context.tsx';
import { AgentPanels } from './AgentPanels.tsx';
import { buildChartData } from './chart-data.ts';
import { EventsChart } from './EventsChart.tsx';
import { RecentEventsCard } from './RecentEventsCard.tsx';
import { WorkersCard } from './WorkersCard.tsx';
import './local-agents.css';

/**
 * /omnidash/local-agents: what the tenant's agents did in a time window
 * (panels, a chart, the event stream) and which workers are up. Every part
 * reads the query cache that the tenant's Realtime channel keeps current.
 */
export function LocalAgentsScreen() {
  usePageTitle('Local agents');
  const tenant = useTenant();
  const [params] = useSearchParams();
  const updateSearch = useUpdateSearch();
  const range = timeWindow(params.get('window'));
  // The window slides: its start moves on each minute, and the queries with it.
  const now = useNow(15_000);
  const since = windowSince(range, now);
  const stats = useTelemetryStatsQuery(tenant.tenantId, since);
  const series = useTelemetrySeriesQuery(tenant.tenantId, since, range.bucket);
  const chartId = useId();

  function chooseWindow(id: string) {
    updateSearch({ window: id === DEFAULT_TIME_WINDOW ? null : id, page: null }, { replace: true });
  }

  return (
    <section className="screen local-agents">
      <div className="screen-header">
        <h1>Local agents</h1>
        <div className="field window-field">
          <label htmlFor={`${chartId}-window`}>Time window</label>
          <select
            id={`${chartId}-window`}
            value={range.id}
            onChange={(event) => chooseWindow(event.target.value)}
          >
            {TIME_WINDOWS.map((option) => (
              <option key={option.id} value={option.id}>
                {option.label}
              </option>
            ))}
          </select>
        </div>
      </div>
      <p className="muted screen-hint">
        Panels, chart and events count what agents reported by when it occurred:{' '}
        {range.label.toLowerCase()}. Everything updates live.
      </p>

      <AgentPanels query={stats} windowPhrase={range.phrase} />

      <section className="card" aria-labelledby={chartId}>
        <div className="card-header">
          <h2 id={chartId}>Events over time</h2>
          <span className="muted">per {range.bucketName}, by source</span>
        </div>
        <QueryState
          query={series}
          label="the events chart"
          isEmpty={(points) => points.length === 0}
          empty={range.ms === null ? 'No events yet.' : `No events ${range.phrase}.`}
        >
          {(points) => (
            <EventsChart
              data={buildChartData(points, { since, now, bucketMs: range.bucketMs })}
              range={range}
            />
          )}
        </QueryState>
      </section>

      <WorkersCard tenantId={tenant.tenantId} />

      <RecentEventsCard
        tenantId={tenant.tenantId}
        since={since}
        windowPhrase={range.phrase}
        stats={stats.data}
      />
    </section>
  );
}
