import { fileURLToPath } from 'node:url';

/** The repository root, found from this file so commands work from any directory. */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const MIGRATIONS_DIR = fileURLToPath(
  new URL('../../../supabase/migrations/', import.meta.url),
);
export const SEED_FILE = fileURLToPath(new URL('../../../supabase/seed.sql', import.meta.url));
export const PLATFORM_SHIM_FILE = fileURLToPath(
  new URL('../sql/platform-shim.sql', import.meta.url),
);
