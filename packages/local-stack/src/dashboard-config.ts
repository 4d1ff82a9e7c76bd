import { mkdir } from 'node:fs/promises';
import type { DashboardRuntimeConfig } from '@omnihub/contracts';
import { loadLocalSecret } from './demo.ts';
import { createJwtKit } from './jwt.ts';
import { readLocalSettings } from './settings.ts';

/**
 * What the dashboard's dev server (Vite, outside the stack) hands the page to
 * reach a `pnpm dev` stack with these settings: the same URL and anon key the
 * stack serves with its own build. Light on purpose (no database code): Vite
 * loads it with its config.
 */
export async function localSupabaseConfig(
  env: Record<string, string | undefined>,
): Promise<DashboardRuntimeConfig> {
  const settings = readLocalSettings(env);
  await mkdir(settings.dataDir, { recursive: true });
  const jwt = await createJwtKit(await loadLocalSecret(settings.dataDir));
  return { supabaseUrl: `http://127.0.0.1:${settings.port}`, supabaseAnonKey: jwt.anonKey };
}
