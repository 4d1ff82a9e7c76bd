import { AGGREGATE_REFETCH_MS } from '../telemetry/telemetry-realtime.ts';
import { invalidateSoon, refetchAfterChange, type ChangeApplier } from '../realtime/changes.ts';
import { runnerKeys } from './keys.ts';

/**
 * A pause switch or an action limit changed (task_targets,
 * task_action_limits): the runner stats show it at once. Few rows, changed
 * by people, so no throttle.
 */
export const applyRunnerSwitchChange: ChangeApplier = (queryClient, tenantId) => {
  refetchAfterChange(queryClient, runnerKeys.stats(tenantId));
};

/** A worker seen (or seen again): the workers online are counted again, at most once a second. */
export const applyRunnerWorkerChange: ChangeApplier = (queryClient, tenantId) => {
  invalidateSoon(queryClient, runnerKeys.stats(tenantId), AGGREGATE_REFETCH_MS);
};

/**
 * Any task change moves the counts and may add a dead letter or take one
 * away: the stats and the dead-letter pages are counted again by Postgres,
 * at most once a second however many tasks a burst changes.
 */
export const applyRunnerTaskChange: ChangeApplier = (queryClient, tenantId) => {
  invalidateSoon(queryClient, runnerKeys.stats(tenantId), AGGREGATE_REFETCH_MS);
  invalidateSoon(queryClient, runnerKeys.deadLetterLists(tenantId), AGGREGATE_REFETCH_MS);
};
