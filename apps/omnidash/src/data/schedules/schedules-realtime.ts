import { refetchAfterChange, type ChangeApplier } from '../realtime/changes.ts';
import { scheduleKeys } from './keys.ts';
import { byName, type Schedule } from './schedules-query.ts';

/**
 * Schedule changes from the tenant's channel: a new schedule, an edit, or
 * the scheduler moving next_run_at on and recording the last run, each a
 * whole row put straight into the list. (Deletes do not arrive; the delete
 * mutation refetches.)
 */
export const applyScheduleChange: ChangeApplier = (queryClient, tenantId, change) => {
  const key = scheduleKeys.list(tenantId);
  const row = change.new as unknown as Schedule;
  if (queryClient.getQueryData(key) === undefined) {
    // No list yet: a first read in flight may predate this change.
    refetchAfterChange(queryClient, key);
    return;
  }
  queryClient.setQueryData<Schedule[]>(key, (list) =>
    list ? [...list.filter((schedule) => schedule.id !== row.id), row].sort(byName) : list,
  );
};
