import type { SupabaseClient } from '@supabase/supabase-js';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useSupabase } from '../../supabase-context.tsx';
import { unwrap } from '../errors.ts';
import { refetchAfterChange } from '../realtime/changes.ts';
import { runnerKeys } from './keys.ts';

export interface PauseInput {
  target: string;
  paused: boolean;
}

/** Operators: pause (claims hand out nothing; tasks wait queued) or resume a target. */
export async function setTargetPaused(
  supabase: SupabaseClient,
  tenantId: string,
  { target, paused }: PauseInput,
): Promise<void> {
  unwrap(
    await supabase.rpc('set_target_paused', {
      p_tenant_id: tenantId,
      p_target: target,
      p_paused: paused,
    }),
  );
}

export function useSetTargetPausedMutation(tenantId: string) {
  const supabase = useSupabase();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (input: PauseInput) => setTargetPaused(supabase, tenantId, input),
    onSuccess: () => refetchAfterChange(queryClient, runnerKeys.stats(tenantId)),
  });
}
