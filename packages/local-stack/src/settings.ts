import { existsSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
// The paths module alone: this one is also loaded by OmniDash's Vite config.
import { REPO_ROOT } from '@omnihub/database/paths';

export interface LocalSettings {
  port: number;
  dataDir: string;
  databaseUrl: string | undefined;
}

/**
 * Reads the local stack's settings (all optional) and says exactly what is
 * wrong with a bad one. A relative OMNIHUB_DATA_DIR is taken from the
 * repository root, so every command finds the same data wherever it runs.
 */
export function readLocalSettings(env: Record<string, string | undefined>): LocalSettings {
  const rawPort = env.OMNIHUB_LOCAL_PORT?.trim() || '54321';
  const port = Number(rawPort);
  if (!Number.isInteger(port) || port < 1 || port > 65534) {
    throw new Error(`OMNIHUB_LOCAL_PORT must be a port number from 1 to 65534 (got "${rawPort}").`);
  }
  const dir = env.OMNIHUB_DATA_DIR?.trim() || '.omnihub';
  const databaseUrl = env.DATABASE_URL?.trim() || undefined;
  if (databaseUrl && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new Error('DATABASE_URL must be a postgres:// or postgresql:// URL.');
  }
  return { port, dataDir: isAbsolute(dir) ? dir : join(REPO_ROOT, dir), databaseUrl };
}

/** Loads the repository's .env (if any) without overriding variables already set. */
export function loadDotEnv(): void {
  const path = join(REPO_ROOT, '.env');
  if (existsSync(path)) process.loadEnvFile(path);
}
