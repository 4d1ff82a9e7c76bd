import { dashboardConfigScript, type DashboardRuntimeConfig } from '@omnihub/contracts';
import react from '@vitejs/plugin-react';
import { localSupabaseConfig } from '@omnihub/local-stack/dashboard-config';
import { defineConfig, type Plugin } from 'vite';

/**
 * `pnpm --filter @omnihub/omnidash dev` against a running `pnpm dev`: the
 * page gets the local stack's URL and anon key as the stack itself hands
 * them to its build, unless VITE_SUPABASE_URL / VITE_SUPABASE_ANON_KEY are set.
 */
function runtimeConfig(config: DashboardRuntimeConfig): Plugin {
  const script = dashboardConfigScript(config).replace(/^<script>|<\/script>$/g, '');
  return {
    name: 'omnihub-runtime-config',
    transformIndexHtml: () => [{ tag: 'script', injectTo: 'head-prepend', children: script }],
  };
}

export default defineConfig(async ({ command }) => {
  const plugins: Plugin[] = [...react()];
  if (
    command === 'serve' &&
    !(process.env.VITE_SUPABASE_URL && process.env.VITE_SUPABASE_ANON_KEY)
  ) {
    plugins.push(runtimeConfig(await localSupabaseConfig(process.env)));
  }
  return {
    plugins,
    build: {
      sourcemap: true,
      // One bundle (~150 kB gzipped: React, supabase-js, the router, TanStack Query), cached by hash.
      chunkSizeWarningLimit: 800,
    },
  };
});
