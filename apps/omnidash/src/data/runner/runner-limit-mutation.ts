import type { SupabaseClient } from '@supabase/supabase-js';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useSupabase } from '../../supabase-context.tsx';
import { unwrap } from '../errors.ts';
import { refetchAfterChange } from '../realtime/changes.ts';
import { runnerKeys } from './keys.ts';

export interface LimitInput {
  target: string;
  action: string;
  /** At most this many of the action's tasks run at once (1-1000); null lifts the limit. */
  maxRunning: number | null;
}

/** Admins: set, change or (null) lift a target's concurrency limit on one action. */
export async function setActionLimit(
  supabase: SupabaseClient,
  tenantId: string,
  { target, action, maxRunning }: LimitInput,
): Promise<void> {
  unwrap(
    await supabase.rpc('set_action_limit', {
      p_tenant_id: tenantId,
      p_target: target,
      p_action: action,
      p_max_running: maxRunning,
    }),
  );
}

/**
 * Also refetches after a lift: that is a delete, which Realtime does not
 * deliver (see RowChange), so no change event would refresh the stats.
 */
export function useSetActionLimitMutation(tenantId: string) {
  const supabase = useSupabase();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (input: LimitInput) => setActionLimit(supabase, tenantId, input),
    onSuccess: () => refetchAfterChange(queryClient, runnerKeys.stats(tenantId)),
  });
}
