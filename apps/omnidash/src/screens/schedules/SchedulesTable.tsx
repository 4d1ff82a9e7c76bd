import { Link } from 'react-router';
import { RelativeTime } from '../../components/RelativeTime.tsx';
import type { Schedule } from '../../data/schedules/schedules-query.ts';
import { formatInZone } from './schedule-form.ts';

/** The tenant's schedules: when each runs next, what it last created, and its controls. */
export function SchedulesTable({
  schedules,
  canChange,
  disabledReason,
  busyId,
  onToggle,
  onEdit,
  onDelete,
}: {
  schedules: Schedule[];
  canChange: boolean;
  disabledReason: string;
  /** A schedule whose switch is being flipped. */
  busyId: string | null;
  onToggle: (schedule: Schedule) => void;
  onEdit: (schedule: Schedule) => void;
  onDelete: (schedule: Schedule) => void;
}) {
  const why = canChange ? undefined : disabledReason;
  return (
    <div className="table-wrap">
      <table className="schedules-table">
        <caption className="visually-hidden">Schedules</caption>
        <thead>
          <tr>
            <th scope="col">Schedule</th>
            <th scope="col">When</th>
            <th scope="col">Next run</th>
            <th scope="col">Last run</th>
            <th scope="col">On</th>
            <th scope="col">
              <span className="visually-hidden">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {schedules.map((schedule) => (
            <tr key={schedule.id} data-schedule={schedule.name}>
              <th scope="row">
                {schedule.name}
                <span className="schedule-task mono">
                  {schedule.target} · {schedule.action}
                </span>
              </th>
              <td>
                <code>{schedule.cron}</code>
                <span className="schedule-zone">{schedule.timezone}</span>
              </td>
              <td className="schedule-next">
                <NextRun schedule={schedule} />
              </td>
              <td>
                {schedule.last_run_at ? (
                  <>
                    <RelativeTime iso={schedule.last_run_at} />
                    {schedule.last_task_id && (
                      <Link
                        className="schedule-last-task"
                        to={`/omnidash/tasks/${schedule.last_task_id}`}
                      >
                        task
                      </Link>
                    )}
                  </>
                ) : (
                  <span className="muted">Not yet</span>
                )}
              </td>
              <td>
                <button
                  className="switch"
                  type="button"
                  role="switch"
                  aria-checked={schedule.enabled}
                  aria-label={`${schedule.name} on`}
                  title={why}
                  disabled={!canChange || busyId === schedule.id}
                  onClick={() => onToggle(schedule)}
                >
                  <span className="switch-track" aria-hidden="true">
                    <span className="switch-thumb" />
                  </span>
                </button>
              </td>
              <td>
                <div className="schedule-actions">
                  <button
                    className="btn btn-small"
                    type="button"
                    aria-label={`Edit ${schedule.name}`}
                    title={why}
                    disabled={!canChange}
                    onClick={() => onEdit(schedule)}
                  >
                    Edit
                  </button>
                  <button
                    className="btn btn-small btn-danger"
                    type="button"
                    aria-label={`Delete ${schedule.name}`}
                    title={why}
                    disabled={!canChange}
                    onClick={() => onDelete(schedule)}
                  >
                    Delete
                  </button>
                </div>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function NextRun({ schedule }: { schedule: Schedule }) {
  if (!schedule.enabled) {
    return (
      <>
        <span className="muted">Off</span>
        {schedule.last_error && <span className="field-error">{schedule.last_error}</span>}
      </>
    );
  }
  if (!schedule.next_run_at) return <span className="muted">Waiting for the scheduler…</span>;
  return (
    <>
      <span>{formatInZone(schedule.next_run_at, schedule.timezone)}</span>
      <RelativeTime iso={schedule.next_run_at} />
    </>
  );
}
