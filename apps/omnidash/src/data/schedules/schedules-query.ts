import type { SupabaseClient } from '@supabase/supabase-js';
import { useQuery } from '@tanstack/react-query';
import { useSupabase } from '../../supabase-context.tsx';
import { unwrap } from '../errors.ts';
import { scheduleKeys } from './keys.ts';

/** A row of public.task_schedules. */
export interface Schedule {
  id: string;
  tenant_id: string;
  name: string;
  cron: string;
  timezone: string;
  target: string;
  action: string;
  payload: Record<string, unknown>;
  priority: number;
  max_attempts: number;
  enabled: boolean;
  /** Bumped by each change an operator makes (the scheduler's writes leave it). */
  revision: number;
  /** The next due time, once the scheduler has timed it; null while off. */
  next_run_at: string | null;
  last_run_at: string | null;
  last_task_id: string | null;
  /** Why the scheduler turned it off, until the next save. */
  last_error: string | null;
  revised_at: string;
  created_at: string;
}

export const SCHEDULE_COLUMNS =
  'id, tenant_id, name, cron, timezone, target, action, payload, priority, max_attempts, enabled, revision, next_run_at, last_run_at, last_task_id, last_error, revised_at, created_at';

/** Names order the list, as people find a schedule by its name. */
export const byName = (a: Schedule, b: Schedule) => a.name.localeCompare(b.name);

export async function fetchSchedules(
  supabase: SupabaseClient,
  tenantId: string,
): Promise<Schedule[]> {
  return unwrap(
    await supabase
      .from('task_schedules')
      .select(SCHEDULE_COLUMNS)
      .eq('tenant_id', tenantId)
      .order('name'),
  ) as Schedule[];
}

/** Kept current by the tenant's Realtime channel (schedules-realtime.ts). */
export function useSchedulesQuery(tenantId: string) {
  const supabase = useSupabase();
  return useQuery({
    queryKey: scheduleKeys.list(tenantId),
    queryFn: () => fetchSchedules(supabase, tenantId),
  });
}
