import type { Scope } from '@omnihub/contracts';
import type { SupabaseClient } from '@supabase/supabase-js';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useSupabase } from '../../supabase-context.tsx';
import { unwrap } from '../errors.ts';
import type { ApiKey } from './api-keys-query.ts';
import { apiKeyKeys } from './keys.ts';

export interface CreateApiKeyInput {
  integrationId: string;
  scopes: readonly Scope[];
  /** Requests per minute; null for no limit. */
  maxRpm?: number | null;
  /** ISO time; null for a key that does not expire. */
  expiresAt?: string | null;
  name?: string | null;
}

/** What create_api_key returns: the stored row plus, this once, the whole key. */
export interface CreatedApiKey extends ApiKey {
  tenant_id: string;
  source: string;
  /** `omni.<key_id>.<secret>`: the only copy of the secret there will ever be. */
  api_key: string;
}

export async function createApiKey(
  supabase: SupabaseClient,
  input: CreateApiKeyInput,
): Promise<CreatedApiKey> {
  return unwrap(
    await supabase.rpc('create_api_key', {
      p_integration_id: input.integrationId,
      p_scopes: [...input.scopes],
      p_max_rpm: input.maxRpm ?? null,
      p_expires_at: input.expiresAt ?? null,
      p_name: input.name?.trim() || null,
    }),
  ) as CreatedApiKey;
}

/**
 * The result holds the plaintext key, so it lives only in this mutation:
 * never in the query cache (the list is refetched, not patched with it), and
 * with `gcTime: 0` the mutation leaves the mutation cache as soon as its
 * screen calls `reset()` or unmounts.
 */
export function useCreateApiKeyMutation(tenantId: string) {
  const supabase = useSupabase();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (input: CreateApiKeyInput) => createApiKey(supabase, input),
    gcTime: 0,
    onSuccess: () => queryClient.invalidateQueries({ queryKey: apiKeyKeys.all(tenantId) }),
  });
}
