import { spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { REPO_ROOT } from '@omnihub/database';

export const DASHBOARD_APP_DIR = join(REPO_ROOT, 'apps', 'omnidash');

/** What the build is made from; a change to any of them makes a build stale. */
const SOURCES = [
  join(DASHBOARD_APP_DIR, 'src'),
  join(DASHBOARD_APP_DIR, 'public'),
  join(DASHBOARD_APP_DIR, 'index.html'),
  join(DASHBOARD_APP_DIR, 'vite.config.ts'),
  join(DASHBOARD_APP_DIR, 'package.json'),
  join(REPO_ROOT, 'packages', 'contracts', 'src'),
];

/** Whether `distDir` holds a build of the current sources. */
export function dashboardBuildState(distDir: string): 'missing' | 'stale' | 'fresh' {
  const index = join(distDir, 'index.html');
  if (!existsSync(index)) return 'missing';
  const builtAt = statSync(index).mtimeMs;
  return SOURCES.some((source) => newestChange(source) > builtAt) ? 'stale' : 'fresh';
}

function newestChange(path: string): number {
  if (!existsSync(path)) return 0;
  const stats = statSync(path);
  if (!stats.isDirectory()) return stats.mtimeMs;
  let newest = stats.mtimeMs;
  for (const entry of readdirSync(path)) {
    if (entry.endsWith('.test.ts') || entry.endsWith('.test.tsx')) continue;
    newest = Math.max(newest, newestChange(join(path, entry)));
  }
  return newest;
}

/**
 * `vite build` of OmniDash into `outDir`, as a child process so the stack
 * keeps serving meanwhile. Resolves with Vite's output; rejects with it.
 */
export function buildDashboard(outDir: string, signal?: AbortSignal): Promise<string> {
  // vite's package exports do not include its bin; its package.json is exported.
  const vitePackage = createRequire(join(DASHBOARD_APP_DIR, 'package.json')).resolve(
    'vite/package.json',
  );
  const vite = join(dirname(vitePackage), 'bin', 'vite.js');
  const args = [vite, 'build', '--configLoader', 'runner', '--outDir', outDir, '--emptyOutDir'];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, {
      cwd: DASHBOARD_APP_DIR,
      stdio: ['ignore', 'pipe', 'pipe'],
      signal,
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolve(output) : reject(new Error(`vite build failed:\n${output.trim()}`)),
    );
  });
}
