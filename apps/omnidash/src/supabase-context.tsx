import type { SupabaseClient } from '@supabase/supabase-js';
import { createContext, useContext, type ReactNode } from 'react';

export interface Backend {
  /** auth (session kept across reloads), PostgREST, RPCs, Realtime */
  supabase: SupabaseClient;
  /** The OmniLink Port of the same project (its /health tells the deployment-wide switch). */
  portUrl: string;
}

const BackendContext = createContext<Backend | null>(null);

export function BackendProvider({ backend, children }: { backend: Backend; children: ReactNode }) {
  return <BackendContext.Provider value={backend}>{children}</BackendContext.Provider>;
}

export function useBackend(): Backend {
  const backend = useContext(BackendContext);
  if (!backend) throw new Error('useBackend needs a <BackendProvider>.');
  return backend;
}

export const useSupabase = (): SupabaseClient => useBackend().supabase;

export function portUrlOf(supabaseUrl: string): string {
  return `${supabaseUrl.replace(/\/$/, '')}/functions/v1/omnilink-port`;
}
