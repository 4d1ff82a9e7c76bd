import type { SupabaseClient } from '@supabase/supabase-js';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useSupabase } from '../../supabase-context.tsx';
import { unwrap } from '../errors.ts';
import { scheduleKeys } from './keys.ts';
import type { Schedule } from './schedules-query.ts';

/** Operators: turns a schedule off, or on (its first due time is then the first after now). */
export async function setScheduleEnabled(
  supabase: SupabaseClient,
  scheduleId: string,
  enabled: boolean,
): Promise<Schedule> {
  return unwrap(
    await supabase.rpc('set_schedule_enabled', { p_schedule_id: scheduleId, p_enabled: enabled }),
  ) as Schedule;
}

export function useSetScheduleEnabledMutation(tenantId: string) {
  const supabase = useSupabase();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: ({ scheduleId, enabled }: { scheduleId: string; enabled: boolean }) =>
      setScheduleEnabled(supabase, scheduleId, enabled),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: scheduleKeys.list(tenantId) }),
  });
}
