/**
 * How a server that hosts the built OmniDash hands it its Supabase project at
 * run time (the local stack does; its anon key belongs to the data dir, so it
 * cannot be baked into a build). The dashboard reads this global first and
 * falls back to its VITE_SUPABASE_URL / VITE_SUPABASE_ANON_KEY build variables.
 */
export const DASHBOARD_CONFIG_GLOBAL = '__OMNIHUB_CONFIG__';

export interface DashboardRuntimeConfig {
  supabaseUrl: string;
  supabaseAnonKey: string;
}

/**
 * The script element that hands a page its runtime config. `<` is escaped,
 * so no value can close the element early.
 */
export function dashboardConfigScript(config: DashboardRuntimeConfig): string {
  const json = JSON.stringify(config).replace(/</g, '\\u003c');
  return `<script>window.${DASHBOARD_CONFIG_GLOBAL} = ${json};</script>`;
}
