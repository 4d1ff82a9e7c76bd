import { useId } from 'react';
import { RelativeTime } from '../../components/RelativeTime.tsx';
import { formatDateTime } from '../../components/format.ts';
import type { PortHealth } from '../../data/health/port-health-query.ts';

const LABEL: Record<PortHealth['state'], string> = {
  on: 'On',
  off: 'Off',
  unreachable: 'Cannot reach the port',
  unexpected: 'Unknown',
};

/**
 * The deployment-wide switch, OMNILINK_ENABLED, as the port's GET /health
 * tells it: it is an environment variable of the port, so it is shown, not
 * changed, here.
 */
export function PortHealthCard({
  health,
  portUrl,
  checking,
  onCheck,
}: {
  /** Undefined before the first answer. */
  health: PortHealth | undefined;
  portUrl: string;
  checking: boolean;
  onCheck: () => void;
}) {
  const id = useId();
  return (
    <section className="card" aria-labelledby={`${id}-title`} aria-busy={checking}>
      <h2 id={`${id}-title`}>OmniLink for the whole deployment</h2>
      <p className="muted">
        The port's environment variable <code>OMNILINK_ENABLED</code>. When it is off the port
        answers every request of every tenant with 503 <code>omnilink_disabled</code>, whatever the
        tenant switches say. It changes with the port's environment (
        <code>supabase secrets set OMNILINK_ENABLED=…</code>), not here.
      </p>
      <div className="health-row" role="status">
        {health ? (
          <>
            <span className={`health-state health-${health.state}`} data-state={health.state}>
              {LABEL[health.state]}
            </span>
            <span className="visually-hidden">: OMNILINK_ENABLED is {LABEL[health.state]}</span>
          </>
        ) : (
          <span className="muted">Checking the port…</span>
        )}
      </div>
      {health && (
        <dl className="details health-details">
          {health.state === 'on' && (
            <>
              <dt>Port version</dt>
              <dd className="mono">{health.version}</dd>
            </>
          )}
          {health.state !== 'on' && (
            <>
              <dt>{health.state === 'off' ? 'Port says' : 'Problem'}</dt>
              <dd>{health.message}</dd>
            </>
          )}
          <dt>Checked</dt>
          <dd>
            <RelativeTime iso={health.checkedAt} />{' '}
            <span className="muted">({formatDateTime(health.checkedAt)})</span>
          </dd>
          <dt>Port</dt>
          <dd className="mono">{portUrl}/health</dd>
        </dl>
      )}
      <div className="actions health-actions">
        <button className="btn" type="button" onClick={onCheck} disabled={checking}>
          {checking ? 'Checking…' : 'Check again'}
        </button>
      </div>
    </section>
  );
}
