import type { Sql } from '@omnihub/database';
import type { PortLogger } from '@omnihub/port';

/** How often the local stack reclaims expired leases; production's pg_cron job runs every 30 s. */
export const LEASE_SWEEP_MS = 5_000;

/**
 * Runs omnilink.reclaim_expired_leases() every `everyMs`, standing in for
 * the pg_cron job a Supabase project runs (embedded Postgres has no
 * pg_cron). One run at a time; a failed run is logged and the next one
 * tried as usual.
 */
export function startLeaseSweeper(
  sql: Sql,
  everyMs: number,
  log: PortLogger,
): { stop(): Promise<void> } {
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let running: Promise<void> = Promise.resolve();

  const sweep = async () => {
    try {
      const [row] = await sql<{ reclaimed: number }[]>`
        select omnilink.reclaim_expired_leases() as reclaimed`;
      if (row && row.reclaimed > 0)
        log({ level: 'info', msg: `reclaimed ${row.reclaimed} expired lease(s)` });
    } catch (error) {
      if (!stopped) log({ level: 'warn', msg: `lease sweep failed: ${(error as Error).message}` });
    }
  };
  const schedule = () => {
    timer = setTimeout(() => {
      running = sweep().then(() => {
        if (!stopped) schedule();
      });
    }, everyMs);
    timer.unref();
  };
  schedule();

  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
