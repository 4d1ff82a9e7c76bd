import type { UseQueryResult } from '@tanstack/react-query';
import { useId, type ReactNode } from 'react';
import { formatCount, formatRate } from '../../components/format.ts';
import { QueryState } from '../../components/QueryState.tsx';
import {
  panelNumbers,
  type TelemetryTypeCount,
} from '../../data/telemetry/telemetry-stats-query.ts';

/** One number with its name. */
function Tile({ label, value }: { label: string; value: string }) {
  return (
    <div className="tile">
      <dt>{label}</dt>
      <dd>{value}</dd>
    </div>
  );
}

function Panel({
  title,
  stale,
  hint,
  children,
}: {
  title: string;
  stale: boolean;
  hint: ReactNode;
  children: ReactNode;
}) {
  const id = useId();
  return (
    <section className="card" aria-labelledby={id}>
      <h2 id={id}>{title}</h2>
      <div className={stale ? 'agent-tiles is-stale' : 'agent-tiles'}>{children}</div>
      <p className="field-hint panel-hint">{hint}</p>
    </section>
  );
}

/** The Lead-Gen and APEX-Sales panels: counts of their events in the window, as the simulations print them. */
export function AgentPanels({
  query,
  windowPhrase,
}: {
  query: UseQueryResult<TelemetryTypeCount[]>;
  windowPhrase: string;
}) {
  const stale = query.isPlaceholderData;
  return (
    <div className="grid-2">
      <Panel
        title="Lead-Gen"
        stale={stale}
        hint={
          <>
            <code>lead-gen</code> events {windowPhrase}: ingested counts <code>lead_ingested</code>,
            qualified counts <code>lead_qualified</code>, queue size is the latest{' '}
            <code>queue_seeded</code>’s <code>queue_size</code>, and the rate is qualified ÷
            ingested.
          </>
        }
      >
        <QueryState query={query} label="Lead-Gen numbers">
          {(rows) => {
            const { ingested, qualified, queueSize } = panelNumbers(rows).leadGen;
            return (
              <dl className="tiles">
                <Tile label="Ingested leads" value={formatCount(ingested)} />
                <Tile label="Qualified leads" value={formatCount(qualified)} />
                <Tile label="Queue size" value={formatCount(queueSize)} />
                <Tile label="Qualification rate" value={formatRate(qualified, ingested)} />
              </dl>
            );
          }}
        </QueryState>
      </Panel>
      <Panel
        title="APEX-Sales"
        stale={stale}
        hint={
          <>
            <code>apex-sales</code> events {windowPhrase}: attempts count{' '}
            <code>call_attempted</code>, connections <code>call_connected</code>, bookings{' '}
            <code>meeting_booked</code>; both rates are shares of attempts.
          </>
        }
      >
        <QueryState query={query} label="APEX-Sales numbers">
          {(rows) => {
            const { attempts, connections, bookings } = panelNumbers(rows).apexSales;
            return (
              <dl className="tiles">
                <Tile label="Call attempts" value={formatCount(attempts)} />
                <Tile label="Connections" value={formatCount(connections)} />
                <Tile label="Bookings" value={formatCount(bookings)} />
                <Tile label="Connection rate" value={formatRate(connections, attempts)} />
                <Tile label="Booking rate" value={formatRate(bookings, attempts)} />
              </dl>
            );
          }}
        </QueryState>
      </Panel>
    </div>
  );
}
