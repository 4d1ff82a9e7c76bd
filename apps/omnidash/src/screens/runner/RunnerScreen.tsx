import { Link } from 'react-router';
import { QueryState } from '../../components/QueryState.tsx';
import { usePageTitle } from '../../components/use-page-title.ts';
import { useRunnerStatsQuery } from '../../data/runner/runner-stats-query.ts';
import { useTenant } from '../../tenant/tenant-context.tsx';
import { TargetCard } from './TargetCard.tsx';
import './runner.css';

/**
 * /omnidash/runner: every target's queue as its workers see it (the numbers
 * GET /stats gives the agents), with the switches that steer the claims:
 * pause/resume per target, concurrency limits per action. Live.
 */
export function RunnerScreen() {
  usePageTitle('Runner');
  const tenant = useTenant();
  const stats = useRunnerStatsQuery(tenant.tenantId);
  return (
    <section className="screen runner">
      <h1>Runner</h1>
      <p className="muted runner-intro">
        Each target is a queue its agent's workers claim from. A paused target hands out no task
        (queued ones wait; running ones finish). A limit caps how many tasks of an action run at
        once across all workers. Tasks that ended failed are in{' '}
        <Link to="/omnidash/dead-letters">Dead letters</Link>.
      </p>
      <QueryState
        query={stats}
        label="runner stats"
        isEmpty={(data) => data.targets.length === 0}
        empty={
          <p>
            No targets yet. A target appears once it has an integration or a task (create one on the{' '}
            <Link to="/omnidash/tasks">Tasks</Link> screen).
          </p>
        }
      >
        {(data) => (
          <div className="runner-targets">
            {data.targets.map((target) => (
              <TargetCard key={target.target} stats={target} />
            ))}
          </div>
        )}
      </QueryState>
    </section>
  );
}
