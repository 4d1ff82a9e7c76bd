import type { TaskStatus } from '@omnihub/contracts';
import type { SupabaseClient } from '@supabase/supabase-js';
import { useQuery } from '@tanstack/react-query';
import { useSupabase } from '../../supabase-context.tsx';
import { unwrap } from '../errors.ts';
import { runnerKeys } from './keys.ts';

/** A concurrency limit on one action of a target, and how many of its tasks run now. */
export interface ActionLimit {
  action: string;
  max_running: number;
  running: number;
}

/** One target's runner stats (omnilink.target_stats: the same numbers GET /stats gives its agents). */
export interface TargetStats {
  target: string;
  paused: boolean;
  tasks: Record<TaskStatus, number>;
  finished_last_5m: number;
  /** Age of the oldest task ready to be claimed; null when none is. */
  oldest_ready_age_seconds: number | null;
  /** Workers seen in the last minute, most recent first. */
  workers: { worker_id: string; last_seen_at: string; last_claim_at: string | null }[];
  limits: ActionLimit[];
}

export interface RunnerStats {
  targets: TargetStats[];
  generated_at: string;
}

/**
 * Workers online and the oldest ready task's age change with time alone (a
 * worker that stops sending drops out after a minute without any row
 * changing), so the stats are read again this often while shown.
 */
export const RUNNER_STATS_REFRESH_MS = 15_000;

/** Every target of the tenant (anything with tasks, a pause switch, a limit or an integration), by name. */
export async function fetchRunnerStats(
  supabase: SupabaseClient,
  tenantId: string,
): Promise<RunnerStats> {
  // Asking for a count makes PostgREST read the call through a CTE it
  // materializes: without one, Postgres inlines the call and evaluates this
  // stable function twice (PostgREST issue 2108), doubling the wait.
  const result = await supabase.rpc('runner_stats', { p_tenant_id: tenantId }, { count: 'exact' });
  return unwrap(result) as RunnerStats;
}

export function useRunnerStatsQuery(tenantId: string) {
  const supabase = useSupabase();
  return useQuery({
    queryKey: runnerKeys.stats(tenantId),
    queryFn: () => fetchRunnerStats(supabase, tenantId),
    refetchInterval: RUNNER_STATS_REFRESH_MS,
  });
}
