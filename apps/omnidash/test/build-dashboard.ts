import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'vite';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    /** OmniDash's production build for this test run, as `pnpm dev` serves it. */
    omnidashDist: string;
  }
}

const APP_DIR = join(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * Builds OmniDash once per test run (under a second with Vite 8) into a temp
 * dir, so the end-to-end tests exercise the same production build the local
 * stack serves, whatever the working tree's dist holds.
 */
export default async function setup(project: TestProject) {
  const outDir = await mkdtemp(join(tmpdir(), 'omnidash-dist-'));
  await build({
    root: APP_DIR,
    configFile: join(APP_DIR, 'vite.config.ts'),
    // The config imports workspace packages written in TypeScript.
    configLoader: 'runner',
    logLevel: 'warn',
    build: { outDir, emptyOutDir: true, sourcemap: false },
  });
  project.provide('omnidashDist', outDir);
  return () => rm(outDir, { recursive: true, force: true });
}
