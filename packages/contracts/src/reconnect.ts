/**
 * How long a postgres.js connection of any OmniHub process (the port under
 * Node or Deno, the local stack, the CLI) waits before reconnecting after
 * its `attempt`-th failure, in seconds: 50 ms doubling to at most 1 s. The
 * driver's default grows to 20 s, so after a Postgres restart a port kept
 * answering 500, or held requests, for up to 20 s although the database was
 * back (found by the reliability suite's restart test).
 */
export const reconnectBackoff = (attempt: number): number => Math.min(0.05 * 2 ** attempt, 1);
