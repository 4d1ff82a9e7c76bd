import type { Scope } from '@omnihub/contracts';
import type { SupabaseClient } from '@supabase/supabase-js';
import { useQuery } from '@tanstack/react-query';
import { useSupabase } from '../../supabase-context.tsx';
import { unwrap } from '../errors.ts';
import { apiKeyKeys } from './keys.ts';

/** A row of public.api_keys. The secret is not in it: only its hash exists, out of the API's reach. */
export interface ApiKey {
  id: string;
  integration_id: string;
  /** The public part of `omni.<key_id>.<secret>`. */
  key_id: string;
  name: string | null;
  scopes: Scope[];
  /** Requests per minute; null for no limit. */
  max_rpm: number | null;
  expires_at: string | null;
  revoked_at: string | null;
  /** To the minute: the port updates it at most once a minute. */
  last_used_at: string | null;
  created_at: string;
}

/** Far more keys than a tenant has; past it the screen says the list is cut. */
export const API_KEYS_LIMIT = 500;

export interface ApiKeyList {
  keys: ApiKey[];
  /** All keys of the tenant, also those past the limit. */
  total: number;
}

export async function fetchApiKeys(
  supabase: SupabaseClient,
  tenantId: string,
): Promise<ApiKeyList> {
  const result = await supabase
    .from('api_keys')
    .select(
      'id, integration_id, key_id, name, scopes, max_rpm, expires_at, revoked_at, last_used_at, created_at',
      { count: 'exact' },
    )
    .eq('tenant_id', tenantId)
    .order('created_at', { ascending: false })
    .order('key_id')
    .range(0, API_KEYS_LIMIT - 1);
  const keys = unwrap(result) as ApiKey[];
  return { keys, total: result.count ?? keys.length };
}

/**
 * Not in the Realtime publication: the create and revoke mutations
 * invalidate it, and `last_used_at` moves on when the screen is refocused.
 */
export function useApiKeysQuery(tenantId: string) {
  const supabase = useSupabase();
  return useQuery({
    queryKey: apiKeyKeys.list(tenantId),
    queryFn: () => fetchApiKeys(supabase, tenantId),
  });
}

export type ApiKeyState = 'active' | 'revoked' | 'expired';

/** Revoked wins over expired: it is the deliberate act, and it has a time. */
export function apiKeyState(key: ApiKey, now: number = Date.now()): ApiKeyState {
  if (key.revoked_at) return 'revoked';
  if (key.expires_at && new Date(key.expires_at).getTime() <= now) return 'expired';
  return 'active';
}
