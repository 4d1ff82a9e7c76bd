import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: [
      'packages/*/src/**/*.test.ts',
      'packages/*/test/**/*.test.ts',
      'scripts/**/*.test.ts',
      'supabase/tests/**/*.test.ts',
      'agents/*/src/**/*.test.ts',
      'agents/*/test/**/*.test.ts',
      'apps/*/src/**/*.test.{ts,tsx}',
      'apps/*/test/**/*.test.{ts,tsx}',
    ],
    globalSetup: [
      'packages/database/src/testing/global-setup.ts',
      'apps/omnidash/test/build-dashboard.ts',
    ],
    testTimeout: 30_000,
    hookTimeout: 120_000,
    // Many polls wait for something delivered live (Realtime, a refetch, a
    // worker): vitest's 1 s default failed them on a loaded CI machine. A
    // poll that succeeds returns at once, so only a failing test waits.
    expect: { poll: { timeout: 10_000 } },
  },
});
