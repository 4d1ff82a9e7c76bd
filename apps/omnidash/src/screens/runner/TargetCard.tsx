import { useId, useState } from 'react';
import { STATUS_LABEL } from '../../components/StatusBadge.tsx';
import { formatCount } from '../../components/format.ts';
import { errorMessage } from '../../data/errors.ts';
import { useSetTargetPausedMutation } from '../../data/runner/runner-pause-mutation.ts';
import type { TargetStats } from '../../data/runner/runner-stats-query.ts';
import { needsRole } from '../../tenant/permissions.ts';
import { useTenant } from '../../tenant/tenant-context.tsx';
import { LimitsEditor } from './LimitsEditor.tsx';
import { formatAge, STATUS_ORDER } from './runner-format.ts';

/** One target: its numbers, its pause switch (operators) and its action limits (admins). */
export function TargetCard({ stats }: { stats: TargetStats }) {
  const id = useId();
  const tenant = useTenant();
  const canPause = tenant.can('pauseTargets');
  const pause = useSetTargetPausedMutation(tenant.tenantId);
  const [announcement, setAnnouncement] = useState('');

  function toggle() {
    const paused = !stats.paused;
    setAnnouncement('');
    pause.mutate(
      { target: stats.target, paused },
      {
        onSuccess: () =>
          setAnnouncement(
            paused
              ? `${stats.target} is paused: its workers get no new task until it is resumed.`
              : `${stats.target} is running again: its workers claim its queued tasks.`,
          ),
      },
    );
  }

  return (
    <section className="card runner-target" aria-labelledby={`${id}-title`}>
      <div className="card-header">
        <h2 id={`${id}-title`}>{stats.target}</h2>
        <span
          className={`badge ${stats.paused ? 'runner-paused' : 'runner-running'}`}
          data-testid="runner-state"
        >
          {stats.paused ? 'Paused' : 'Running'}
        </span>
      </div>

      <dl className="tiles runner-tiles">
        <div className="tile">
          <dt>Finished in 5 min</dt>
          <dd>{formatCount(stats.finished_last_5m)}</dd>
        </div>
        <div className="tile">
          <dt>Oldest ready</dt>
          <dd>{formatAge(stats.oldest_ready_age_seconds)}</dd>
        </div>
        <div className="tile">
          <dt>Workers online</dt>
          <dd title={stats.workers.map((worker) => worker.worker_id).join(', ') || undefined}>
            {formatCount(stats.workers.length)}
          </dd>
        </div>
      </dl>

      <h3 className="runner-subtitle" id={`${id}-counts`}>
        Tasks by status
      </h3>
      <dl className="runner-counts" aria-labelledby={`${id}-counts`}>
        {STATUS_ORDER.map((status) => (
          <div key={status} className="runner-count">
            <dt>{STATUS_LABEL[status]}</dt>
            <dd>{formatCount(stats.tasks[status])}</dd>
          </div>
        ))}
      </dl>

      <div className="runner-pause">
        <button
          className={`btn ${stats.paused ? 'btn-primary' : ''}`}
          type="button"
          disabled={!canPause || pause.isPending}
          title={canPause ? undefined : needsRole('pauseTargets')}
          aria-describedby={canPause ? undefined : `${id}-why`}
          onClick={toggle}
        >
          {stats.paused ? 'Resume' : 'Pause'}
          <span className="visually-hidden"> {stats.target}</span>
        </button>
        <span className="muted">
          {stats.paused
            ? 'Claims hand out nothing; queued tasks wait.'
            : 'Workers claim its ready tasks.'}
        </span>
      </div>
      {!canPause && (
        <p className="field-hint" id={`${id}-why`}>
          {needsRole('pauseTargets')} You can see the switch but not flip it.
        </p>
      )}
      {pause.isError && (
        <p className="form-error" role="alert">
          {stats.target} did not change: {errorMessage(pause.error)}
        </p>
      )}
      <p className="visually-hidden" role="status">
        {announcement}
      </p>

      <LimitsEditor target={stats.target} limits={stats.limits} />
    </section>
  );
}
