import { dashboardConfigScript } from '@omnihub/contracts';
import react from '@vitejs/plugin-react';
import { defineConfig, type Plugin } from 'vite';

/**
 * `pnpm --filter @omnihub/omnidash dev` against a running `pnpm dev`: the
 * page gets the local stack's URL and anon key as the stack itself would
 * hand them over, unless VITE_SUPABASE_URL / VITE_SUPABASE_ANON_KEY are set.
 */
function localStackConfig(): Plugin {
  return {
    name: 'omnihub-local-stack-config',
    apply: 'serve',
    async transformIndexHtml() {
      if (process.env.VITE_SUPABASE_URL && process.env.VITE_SUPABASE_ANON_KEY) return;
      const { localSupabaseConfig } = await import('@omnihub/local-stack');
      const config = await localSupabaseConfig(process.env);
      return [{ tag: 'script', injectTo: 'head-prepend', children: scriptBody(config) }];
    },
  };
}

function scriptBody(config: Parameters<typeof dashboardConfigScript>[0]): string {
  return dashboardConfigScript(config).replace(/^<script>|<\/script>$/g, '');
}

export default defineConfig({
  plugins: [react(), localStackConfig()],
  build: {
    sourcemap: true,
    // One bundle (~150 kB gzipped: React, supabase-js, the router, TanStack Query), cached by hash.
    chunkSizeWarningLimit: 800,
  },
});
