import type { SupabaseClient } from '@supabase/supabase-js';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useSupabase } from '../../supabase-context.tsx';
import { unwrap } from '../errors.ts';
import { scheduleKeys } from './keys.ts';
import type { Schedule } from './schedules-query.ts';

/** What an operator sets; the rest of a schedule is the scheduler's bookkeeping. */
export type ScheduleInput = Pick<
  Schedule,
  | 'name'
  | 'cron'
  | 'timezone'
  | 'target'
  | 'action'
  | 'payload'
  | 'priority'
  | 'max_attempts'
  | 'enabled'
>;

/**
 * Operators: creates a schedule (`scheduleId` null) or changes one. A change
 * of cron, time zone or enabled restarts its timing; save_schedule checks
 * everything again, the cron syntax included.
 */
export async function saveSchedule(
  supabase: SupabaseClient,
  tenantId: string,
  scheduleId: string | null,
  input: ScheduleInput,
): Promise<Schedule> {
  return unwrap(
    await supabase.rpc('save_schedule', {
      p_tenant_id: tenantId,
      p_schedule_id: scheduleId,
      p_name: input.name,
      p_cron: input.cron,
      p_timezone: input.timezone,
      p_target: input.target,
      p_action: input.action,
      p_payload: input.payload,
      p_priority: input.priority,
      p_max_attempts: input.max_attempts,
      p_enabled: input.enabled,
    }),
  ) as Schedule;
}

export function useSaveScheduleMutation(tenantId: string) {
  const supabase = useSupabase();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: ({ scheduleId, input }: { scheduleId: string | null; input: ScheduleInput }) =>
      saveSchedule(supabase, tenantId, scheduleId, input),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: scheduleKeys.list(tenantId) }),
  });
}
