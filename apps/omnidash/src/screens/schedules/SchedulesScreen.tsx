import { useState } from 'react';
import { ConfirmDialog } from '../../components/ConfirmDialog.tsx';
import { QueryState } from '../../components/QueryState.tsx';
import { usePageTitle } from '../../components/use-page-title.ts';
import { errorMessage } from '../../data/errors.ts';
import { useDeleteScheduleMutation } from '../../data/schedules/schedules-delete-mutation.ts';
import { useSetScheduleEnabledMutation } from '../../data/schedules/schedules-enable-mutation.ts';
import { useSchedulesQuery, type Schedule } from '../../data/schedules/schedules-query.ts';
import { needsRole } from '../../tenant/permissions.ts';
import { useTenant } from '../../tenant/tenant-context.tsx';
import { ScheduleForm } from './ScheduleForm.tsx';
import { SchedulesTable } from './SchedulesTable.tsx';
import './schedules.css';

/** /omnidash/schedules: cron schedules that create tasks, live as the scheduler fires them. */
export function SchedulesScreen() {
  usePageTitle('Schedules');
  const tenant = useTenant();
  const schedules = useSchedulesQuery(tenant.tenantId);
  const toggle = useSetScheduleEnabledMutation(tenant.tenantId);
  const remove = useDeleteScheduleMutation(tenant.tenantId);
  const [editing, setEditing] = useState<Schedule | null>(null);
  const [deleting, setDeleting] = useState<Schedule | null>(null);
  const [announcement, setAnnouncement] = useState('');
  const canChange = tenant.can('operateTasks');

  const announce = (message: string | null) => {
    setEditing(null);
    if (message) setAnnouncement(message);
  };

  return (
    <section className="screen">
      <h1>Schedules</h1>
      <p className="muted">
        Each due time creates one task for the target, however many schedulers are running. A
        scheduler that was down fires a missed time once, then carries on from the next.
      </p>
      <ScheduleForm key={editing?.id ?? 'new'} editing={editing} onDone={announce} />
      <p className="form-success" role="status">
        {announcement}
      </p>
      {toggle.isError && (
        <p className="form-error" role="alert">
          The schedule did not change: {errorMessage(toggle.error)}
        </p>
      )}
      <section className="card" aria-labelledby="schedules-title">
        <h2 id="schedules-title">All schedules</h2>
        <QueryState
          query={schedules}
          label="schedules"
          isEmpty={(list) => list.length === 0}
          empty="No schedules yet: create one above."
        >
          {(list) => (
            <SchedulesTable
              schedules={list}
              canChange={canChange}
              disabledReason={needsRole('operateTasks')}
              busyId={toggle.isPending ? (toggle.variables?.scheduleId ?? null) : null}
              onToggle={(schedule) =>
                toggle.mutate(
                  { scheduleId: schedule.id, enabled: !schedule.enabled },
                  {
                    onSuccess: (saved) =>
                      setAnnouncement(`Schedule ${saved.name} is ${saved.enabled ? 'on' : 'off'}.`),
                  },
                )
              }
              onEdit={(schedule) => {
                setEditing(schedule);
                window.scrollTo({ top: 0 });
              }}
              onDelete={setDeleting}
            />
          )}
        </QueryState>
      </section>
      <ConfirmDialog
        open={deleting !== null}
        title={`Delete the schedule ${deleting?.name ?? ''}?`}
        confirmLabel="Delete schedule"
        danger
        pending={remove.isPending}
        onConfirm={() =>
          deleting &&
          remove.mutate(deleting.id, {
            onSuccess: (gone) => {
              setDeleting(null);
              if (editing?.id === gone.id) setEditing(null);
              setAnnouncement(`Schedule ${gone.name} deleted.`);
            },
          })
        }
        onCancel={() => {
          setDeleting(null);
          remove.reset();
        }}
      >
        <p>It creates no more tasks. The tasks it already created stay.</p>
        {remove.isError && (
          <p className="form-error" role="alert">
            The schedule was not deleted: {errorMessage(remove.error)}
          </p>
        )}
      </ConfirmDialog>
    </section>
  );
}
