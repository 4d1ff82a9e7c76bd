import { defineConfig } from 'vitest/config';

/**
 * `pnpm test:reliability`: the fault and abuse suite. Separate from `pnpm
 * test` because its files are long by design (thousands of requests, process
 * kills, a database restart, a two-minute soak); each is bounded in count and
 * time, targets 127.0.0.1 only and stops by itself. Files run one at a time
 * so their loads do not distort each other on a small machine.
 */
export default defineConfig({
  test: {
    root: new URL('..', import.meta.url).pathname,
    include: ['reliability/**/*.test.ts'],
    globalSetup: ['packages/database/src/testing/global-setup.ts'],
    fileParallelism: false,
    testTimeout: 240_000,
    hookTimeout: 120_000,
  },
});
