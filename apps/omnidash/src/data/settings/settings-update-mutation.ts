import type { SupabaseClient } from '@supabase/supabase-js';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useSupabase } from '../../supabase-context.tsx';
import { unwrap } from '../errors.ts';
import { settingsKeys } from './keys.ts';
import type { TenantSettingsRow } from './settings-query.ts';

/**
 * Admins only: switches OmniLink on or off for the tenant's keys. The port
 * reads the switch on every request, so it holds from the next one on.
 */
export async function setOmniLinkEnabled(
  supabase: SupabaseClient,
  tenantId: string,
  enabled: boolean,
): Promise<TenantSettingsRow> {
  return unwrap(
    await supabase.rpc('set_omnilink_enabled', { p_tenant_id: tenantId, p_enabled: enabled }),
  ) as TenantSettingsRow;
}

export function useSetOmniLinkEnabledMutation(tenantId: string) {
  const supabase = useSupabase();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (enabled: boolean) => setOmniLinkEnabled(supabase, tenantId, enabled),
    // Read back rather than patched here: who changed it last is worked out
    // by the query (their role), and the mutation stays pending until then.
    onSuccess: () => queryClient.invalidateQueries({ queryKey: settingsKeys.omnilink(tenantId) }),
  });
}
