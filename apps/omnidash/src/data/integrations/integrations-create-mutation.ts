import type { SupabaseClient } from '@supabase/supabase-js';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useSupabase } from '../../supabase-context.tsx';
import { unwrap } from '../errors.ts';
import type { Integration } from './integrations-query.ts';
import { integrationKeys } from './keys.ts';

export interface CreateIntegrationInput {
  tenantId: string;
  source: string;
  /** Shown in OmniDash; the source when left empty. */
  name?: string | null;
}

/** Admins only: the RPC refuses others with the server's reason. */
export async function createIntegration(
  supabase: SupabaseClient,
  input: CreateIntegrationInput,
): Promise<Integration> {
  return unwrap(
    await supabase.rpc('create_integration', {
      p_tenant_id: input.tenantId,
      p_source: input.source,
      p_name: input.name?.trim() || null,
    }),
  ) as Integration;
}

export function useCreateIntegrationMutation(tenantId: string) {
  const supabase = useSupabase();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (input: Omit<CreateIntegrationInput, 'tenantId'>) =>
      createIntegration(supabase, { ...input, tenantId }),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: integrationKeys.all(tenantId) }),
  });
}
