import { useId } from 'react';
import { QueryState } from '../../components/QueryState.tsx';
import { RelativeTime, useNow } from '../../components/RelativeTime.tsx';
import { isOnline, useWorkersQuery } from '../../data/workers/workers-query.ts';

/** The tenant's agent workers, online when the port saw them in the last minute; this re-checks every 5 s. */
export function WorkersCard({ tenantId }: { tenantId: string }) {
  const id = useId();
  const query = useWorkersQuery(tenantId);
  const now = useNow(5_000);
  const online = query.data?.filter((worker) => isOnline(worker, now)).length ?? 0;

  return (
    <section className="card" aria-labelledby={id}>
      <div className="card-header">
        <h2 id={id}>Workers</h2>
        <span className="muted" role="status">
          {query.data
            ? `${online} of ${query.data.length} ${query.data.length === 1 ? 'worker' : 'workers'} online`
            : ''}
        </span>
      </div>
      <QueryState
        query={query}
        label="workers"
        isEmpty={(workers) => workers.length === 0}
        empty={
          <>
            No worker has asked for tasks yet. Start one with{' '}
            <code>APEX_SALES_MODE=worker pnpm apex-sales</code> (or{' '}
            <code>LEAD_GEN_MODE=worker pnpm lead-gen</code>).
          </>
        }
      >
        {(workers) => (
          <div className="table-wrap">
            <table>
              <caption className="visually-hidden">Agent workers, most recently seen first</caption>
              <thead>
                <tr>
                  <th scope="col">Worker</th>
                  <th scope="col">Source</th>
                  <th scope="col">Status</th>
                  <th scope="col">Last seen</th>
                  <th scope="col">Last claim</th>
                </tr>
              </thead>
              <tbody>
                {workers.map((worker) => {
                  const up = isOnline(worker, now);
                  return (
                    <tr key={worker.id}>
                      <th scope="row" className="mono worker-id">
                        {worker.worker_id}
                      </th>
                      <td className="mono nowrap">{worker.source}</td>
                      <td className="nowrap">
                        <span className={up ? 'online' : 'offline'}>
                          <span className="dot" aria-hidden="true" />
                          {up ? 'Online' : 'Offline'}
                        </span>
                      </td>
                      <td className="nowrap">
                        <RelativeTime iso={worker.last_seen_at} />
                      </td>
                      <td className="nowrap">
                        {worker.last_claim_at ? (
                          <RelativeTime iso={worker.last_claim_at} />
                        ) : (
                          'never'
                        )}
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        )}
      </QueryState>
      <p className="field-hint panel-hint">
        Online: the port saw the worker (a task claim or heartbeat) within the last 60 seconds. Last
        claim: its latest request for tasks.
      </p>
    </section>
  );
}
