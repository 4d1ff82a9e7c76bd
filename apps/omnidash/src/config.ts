import { DASHBOARD_CONFIG_GLOBAL, type DashboardRuntimeConfig } from '@omnihub/contracts';

declare global {
  interface Window {
    [DASHBOARD_CONFIG_GLOBAL]?: Partial<DashboardRuntimeConfig>;
  }
}

/**
 * Which Supabase project this build talks to. A server that hosts the build
 * (the local stack) hands it over at run time; a static host bakes it in
 * with VITE_SUPABASE_URL / VITE_SUPABASE_ANON_KEY at build time.
 */
export function readConfig(): DashboardRuntimeConfig {
  const runtime = window[DASHBOARD_CONFIG_GLOBAL] ?? {};
  const supabaseUrl = runtime.supabaseUrl ?? import.meta.env.VITE_SUPABASE_URL;
  const supabaseAnonKey = runtime.supabaseAnonKey ?? import.meta.env.VITE_SUPABASE_ANON_KEY;
  if (!supabaseUrl || !supabaseAnonKey) {
    throw new Error(
      'OmniDash has no Supabase project: build it with VITE_SUPABASE_URL and VITE_SUPABASE_ANON_KEY, or open it from `pnpm dev`.',
    );
  }
  return { supabaseUrl, supabaseAnonKey };
}
