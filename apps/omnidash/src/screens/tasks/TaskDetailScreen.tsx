import type { ReactNode } from 'react';
import { Link, useLocation, useParams } from 'react-router';
import { JsonView } from '../../components/JsonView.tsx';
import { QueryState } from '../../components/QueryState.tsx';
import { RelativeTime } from '../../components/RelativeTime.tsx';
import { StatusBadge } from '../../components/StatusBadge.tsx';
import { formatDateTime } from '../../components/format.ts';
import { usePageTitle } from '../../components/use-page-title.ts';
import { useTaskAttemptsQuery } from '../../data/tasks/tasks-attempts-query.ts';
import { useTaskQuery } from '../../data/tasks/tasks-detail-query.ts';
import type { TaskAttempt, TaskRow } from '../../data/tasks/types.ts';
import { useTenant } from '../../tenant/tenant-context.tsx';
import { useTaskActions } from './task-actions.tsx';
import { attemptsText, shortId } from './task-format.ts';
import { TaskChainCard } from './TaskChain.tsx';
import { TaskOutput } from './TaskOutput.tsx';
import { buildTimeline } from './timeline.ts';
import './tasks.css';

/** /omnidash/tasks/:taskId — one task, live: what it was asked, what it returned, how it went. */
export function TaskDetailScreen() {
  const { taskId = '' } = useParams();
  const tenant = useTenant();
  const location = useLocation();
  const task = useTaskQuery(tenant.tenantId, taskId);
  usePageTitle(task.data ? `Task ${task.data.action} ${shortId(task.data.id)}` : 'Task');
  const from = (location.state as { from?: string } | null)?.from ?? '';
  const back = (
    <Link to={`/omnidash/tasks${from}`} className="task-back">
      ← All tasks
    </Link>
  );

  return (
    <section className="screen">
      <QueryState
        query={task}
        label="the task"
        isEmpty={(data) => data === null}
        empty={
          <>
            <h1>No such task</h1>
            <p>
              There is no task with the id <span className="mono">{taskId}</span> in this tenant.
            </p>
            {back}
          </>
        }
      >
        {(data) => <TaskDetail task={data!} back={back} />}
      </QueryState>
    </section>
  );
}

function TaskDetail({ task, back }: { task: TaskRow; back: ReactNode }) {
  const tenant = useTenant();
  const attempts = useTaskAttemptsQuery(tenant.tenantId, task.id);
  const actions = useTaskActions();

  return (
    <>
      {back}
      <div className="screen-header">
        <h1>
          Task {task.action} <span className="mono muted task-title-id">{shortId(task.id)}</span>
        </h1>
        <span role="status" aria-live="polite" aria-label="Status">
          <StatusBadge status={task.status} />
        </span>
      </div>
      {actions.buttons(task)}
      {actions.element}
      {task.error && (
        <p className="notice notice-danger" role="note">
          <strong>Error:</strong> {task.error}
        </p>
      )}

      <TaskChainCard taskId={task.id} />

      <div className="grid-2">
        <section className="card" aria-labelledby="task-facts-title">
          <h2 id="task-facts-title">Details</h2>
          <dl className="details">
            <dt>Id</dt>
            <dd className="mono">{task.id}</dd>
            <dt>Target</dt>
            <dd>{task.target}</dd>
            <dt>Action</dt>
            <dd>{task.action}</dd>
            <dt>Priority</dt>
            <dd>{task.priority}</dd>
            <dt>Attempts</dt>
            <dd>{attemptsText(task.attempts, task.max_attempts)}</dd>
            <dt>Approval</dt>
            <dd>{task.require_approval ? 'Required' : 'Not required'}</dd>
            <dt>Run at</dt>
            <dd>{task.run_at ? formatDateTime(task.run_at) : 'As soon as possible'}</dd>
            <dt>Worker</dt>
            <dd className="mono">{task.claimed_by ?? '—'}</dd>
            {task.status === 'running' && (
              <>
                <dt>Lease ends</dt>
                <dd>
                  <RelativeTime iso={task.lease_expires_at} />
                </dd>
              </>
            )}
            <dt>Depends on</dt>
            <dd>
              {task.depends_on.length === 0
                ? 'Nothing'
                : task.depends_on.map((id, index) => (
                    <span key={id}>
                      {index > 0 && ', '}
                      <Link to={`/omnidash/tasks/${id}`} className="mono">
                        {shortId(id)}
                      </Link>
                    </span>
                  ))}
            </dd>
            {task.idempotency_key && (
              <>
                <dt>Idempotency key</dt>
                <dd className="mono">{task.idempotency_key}</dd>
              </>
            )}
            <dt>Created</dt>
            <dd>
              <RelativeTime iso={task.created_at} />
            </dd>
            <dt>Updated</dt>
            <dd>
              <RelativeTime iso={task.updated_at} />
            </dd>
            <dt>Finished</dt>
            <dd>{task.finished_at ? <RelativeTime iso={task.finished_at} /> : 'Not yet'}</dd>
          </dl>
        </section>

        <section className="card" aria-labelledby="task-timeline-title">
          <h2 id="task-timeline-title">Timeline</h2>
          <QueryState query={attempts} label="the attempts">
            {(rows) => <Timeline task={task} attempts={rows} />}
          </QueryState>
        </section>
      </div>

      <div className="grid-2">
        <section className="card" aria-labelledby="task-params-title">
          <h2 id="task-params-title">Params</h2>
          <JsonView value={task.params} label="Task params" />
        </section>
        <section className="card" aria-labelledby="task-output-title">
          <h2 id="task-output-title">Output</h2>
          <TaskOutput task={task} label="Task output" />
          {task.progress && task.status === 'running' && (
            <>
              <h3 className="task-progress-title">Progress</h3>
              <JsonView value={task.progress} label="Progress" />
            </>
          )}
        </section>
      </div>

      <section className="card" aria-labelledby="task-attempts-title">
        <h2 id="task-attempts-title">Attempts</h2>
        <QueryState
          query={attempts}
          label="the attempts"
          isEmpty={(rows) => rows.length === 0}
          empty={<p>No worker has claimed this task yet.</p>}
        >
          {(rows) => <AttemptsTable attempts={rows} />}
        </QueryState>
      </section>
    </>
  );
}

const OUTCOME_LABEL: Record<NonNullable<TaskAttempt['outcome']>, string> = {
  succeeded: 'succeeded',
  failed: 'failed',
  lease_expired: 'lease expired',
  canceled: 'canceled',
};

function AttemptsTable({ attempts }: { attempts: TaskAttempt[] }) {
  return (
    <div className="table-wrap">
      <table>
        <thead>
          <tr>
            <th scope="col" className="num">
              #
            </th>
            <th scope="col">Worker</th>
            <th scope="col">Started</th>
            <th scope="col">Finished</th>
            <th scope="col">Outcome</th>
            <th scope="col">Error</th>
          </tr>
        </thead>
        <tbody>
          {attempts.map((attempt) => (
            <tr key={attempt.id}>
              <td className="num">{attempt.attempt}</td>
              <td className="mono">{attempt.worker_id}</td>
              <td>
                <time dateTime={attempt.started_at}>{formatDateTime(attempt.started_at)}</time>
              </td>
              <td>
                {attempt.finished_at ? (
                  <time dateTime={attempt.finished_at}>{formatDateTime(attempt.finished_at)}</time>
                ) : (
                  'running'
                )}
              </td>
              <td>{attempt.outcome ? OUTCOME_LABEL[attempt.outcome] : '—'}</td>
              <td className="task-attempt-error">{attempt.error ?? '—'}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function Timeline({ task, attempts }: { task: TaskRow; attempts: TaskAttempt[] }) {
  const entries = buildTimeline(task, attempts);
  return (
    <ol className="task-timeline">
      {entries.map((entry, index) => (
        <li key={`${entry.kind}-${index}`} className={`task-timeline-${entry.kind}`}>
          <time dateTime={entry.at}>{formatDateTime(entry.at)}</time>
          <span className="task-timeline-label">{entry.label}</span>
          {entry.detail && <span className="task-timeline-detail">{entry.detail}</span>}
        </li>
      ))}
    </ol>
  );
}
