import type { SupabaseClient } from '@supabase/supabase-js';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useSupabase } from '../../supabase-context.tsx';
import { unwrap } from '../errors.ts';
import { scheduleKeys } from './keys.ts';
import type { Schedule } from './schedules-query.ts';

/** Operators: deletes a schedule; the tasks it created stay. */
export async function deleteSchedule(
  supabase: SupabaseClient,
  scheduleId: string,
): Promise<Schedule> {
  return unwrap(await supabase.rpc('delete_schedule', { p_schedule_id: scheduleId })) as Schedule;
}

export function useDeleteScheduleMutation(tenantId: string) {
  const supabase = useSupabase();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (scheduleId: string) => deleteSchedule(supabase, scheduleId),
    // Realtime does not carry deletes here (they cannot be filtered by
    // tenant), so the list is read again; other browsers drop it on their next read.
    onSuccess: () => queryClient.invalidateQueries({ queryKey: scheduleKeys.list(tenantId) }),
  });
}
