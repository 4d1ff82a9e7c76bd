import type { SupabaseClient } from '@supabase/supabase-js';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useSupabase } from '../../supabase-context.tsx';
import { unwrap } from '../errors.ts';
import type { ApiKey } from './api-keys-query.ts';
import { apiKeyKeys } from './keys.ts';

/** Admins only. The port refuses the key from its next request; revoking twice keeps the first time. */
export async function revokeApiKey(supabase: SupabaseClient, keyId: string): Promise<ApiKey> {
  return unwrap(await supabase.rpc('revoke_api_key', { p_key_id: keyId })) as ApiKey;
}

export function useRevokeApiKeyMutation(tenantId: string) {
  const supabase = useSupabase();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (keyId: string) => revokeApiKey(supabase, keyId),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: apiKeyKeys.all(tenantId) }),
  });
}
