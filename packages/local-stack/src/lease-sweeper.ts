import type { Sql } from '@omnihub/database';
import type { PortLogger } from '@omnihub/port';
import { runEvery } from './every.ts';

/** How often the local stack reclaims expired leases; production's pg_cron job runs every 30 s. */
export const LEASE_SWEEP_MS = 5_000;

/**
 * Runs omnilink.reclaim_expired_leases() every `everyMs`, standing in for
 * the pg_cron job a Supabase project runs (embedded Postgres has no pg_cron).
 */
export function startLeaseSweeper(
  sql: Sql,
  everyMs: number,
  log: PortLogger,
): { stop(): Promise<void> } {
  return runEvery(
    everyMs,
    async () => {
      const [row] = await sql<{ reclaimed: number }[]>`
        select omnilink.reclaim_expired_leases() as reclaimed`;
      if (row && row.reclaimed > 0)
        log({ level: 'info', msg: `reclaimed ${row.reclaimed} expired lease(s)` });
    },
    (error) => log({ level: 'warn', msg: `lease sweep failed: ${error.message}` }),
  );
}
